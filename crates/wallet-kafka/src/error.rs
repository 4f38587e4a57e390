//! The one error type of the Kafka adapters. rdkafka's own error type is rendered to text at
//! this boundary so that callers (the app crate) never depend on rdkafka.

use thiserror::Error;

/// Failure of a Kafka adapter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KafkaError {
    /// A setting is missing or invalid; names the setting.
    #[error("invalid kafka setting `{setting}`: {detail}")]
    Config {
        /// The setting's key, e.g. `kafka.brokers`.
        setting: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The client library refused an operation (creating a client, subscribing, producing,
    /// fetching metadata …).
    #[error("kafka client: {operation}: {detail}")]
    Client {
        /// What was being done.
        operation: &'static str,
        /// The client's error text.
        detail: String,
    },
    /// The in-process mock cluster could not be started or controlled.
    #[error("embedded broker: {0}")]
    Embedded(String),
    /// The store failed in a way retrying cannot fix here (e.g. the outbox relay at shutdown).
    #[error("store: {0}")]
    Store(String),
}

impl KafkaError {
    /// Wraps an rdkafka error with the operation that failed.
    pub(crate) fn client(operation: &'static str, error: &rdkafka::error::KafkaError) -> Self {
        KafkaError::Client {
            operation,
            detail: error.to_string(),
        }
    }
}
