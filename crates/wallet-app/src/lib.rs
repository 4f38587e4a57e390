//! # wallet-app
//!
//! The composition root of Broker Wallet (SPEC §2): layered configuration, the actix-web HTTP
//! API of SPEC §5 with its auth rules and operations endpoints, the supervised background
//! tasks (Kafka consumer, outbox relay, hold-expiry sweeper) and the `wallet` CLI. No business
//! rule lives here: handlers parse input into domain types and call the domain's use cases.

pub mod auth;
pub mod backend;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dto;
pub mod jobs;
pub mod openapi;
pub mod prices;
pub mod problem;
pub mod read_cache;
pub mod retry;
pub mod routes;
mod server;
pub mod startup;
pub mod telemetry;

pub use config::Settings;
pub use startup::{Application, StartupError};
