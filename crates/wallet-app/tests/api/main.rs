//! HTTP tests of the `wallet` service: the app is built in-process on port 0 with a fresh
//! SQLite database per test (MariaDB where the test needs a server to take away), and one test
//! runs the compiled binary on the embedded default.

mod auth;
mod binary;
mod cash;
mod cli;
mod errors;
mod helpers;
mod java;
mod operations;
mod prices;
mod read_cache;
mod reads;
