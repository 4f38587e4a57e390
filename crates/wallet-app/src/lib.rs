//! # wallet-app
//!
//! The composition root of Broker Wallet (SPEC §2): layered configuration, the actix-web HTTP
//! API of SPEC §5 with its auth rules and operations endpoints, the supervised background
//! tasks (Kafka consumer, outbox relay, hold-expiry sweeper) and the `wallet` CLI. No business
//! rule lives here: handlers parse input into domain types and call the domain's use cases.

pub mod cli;
pub mod clock;
pub mod config;
pub mod conflict_pause;
pub mod http;
pub mod jobs;
pub mod prices;
pub mod read_cache;
pub mod startup;
pub mod telemetry;

pub use config::Settings;
pub use startup::{Application, StartupError};
