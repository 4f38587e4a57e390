//! # wallet-kafka
//!
//! The Kafka adapters of Broker Wallet (SPEC §4 "Kafka contract" and "Delivery"), on rdkafka:
//!
//! - [`OrderEventConsumer`] consumes `order-events-v1` in batches, applies each batch through
//!   [`wallet_domain::usecases::WalletService::apply_order_events`] in one store transaction,
//!   sends what the wallet will not apply to the dead-letter topic (original bytes, headers
//!   [`dead_letter::HEADER_REASON`] …), and commits offsets only after both;
//! - [`run_outbox_relay`] publishes the outbox's wallet events to `wallet-events-v1`;
//! - [`run_change_listener`] tells a read cache which accounts other instances changed;
//! - [`replay_dead_letters`] re-publishes dead letters to the input topic;
//! - [`EmbeddedBroker`] is the in-process broker of the embedded default (SPEC §7);
//! - [`ConsumerHealth`] feeds `/health/ready`; metrics go through the `metrics` facade
//!   (names in [`metrics`]).
//!
//! No rdkafka type appears in the public API: errors are [`KafkaError`].

#![warn(missing_docs)]

mod backoff;
mod blocking;
mod change_listener;
pub mod client_properties;
mod consumer;
mod corporate_actions;
pub mod dead_letter;
mod embedded;
mod error;
mod health;
pub mod metrics;
mod producer;
mod publisher;
mod relay;
mod replay;
mod settings;

pub use change_listener::run_change_listener;
pub use client_properties::ClientProperties;
pub use consumer::{OrderEventConsumer, run_consumer};
pub use corporate_actions::run_corporate_action_consumer;
pub use embedded::EmbeddedBroker;
pub use error::KafkaError;
pub use health::{ConsumerHealth, HealthSnapshot};
pub use producer::RecordProducer;
pub use relay::run_outbox_relay;
pub use replay::{HEADER_REPLAYED_FROM, ReplayRange, replay_dead_letters};
pub use settings::{ClientRole, EMBEDDED_BROKERS, KafkaSettings};
