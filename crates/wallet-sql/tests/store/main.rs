//! Integration tests of `wallet-sql` against the real databases: MariaDB at
//! `WALLET_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`) and SQLite, each test on
//! its own fresh database so that they run in parallel. An unreachable MariaDB fails them.

mod audit;
mod concurrency;
mod conflict;
mod corporate_actions;
mod corporate_actions_model;
mod decimals;
mod fees;
mod migrations;
mod reads;
mod redelivery;
mod settlement;
mod story;
mod support;
mod throughput;
