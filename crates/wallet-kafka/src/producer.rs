//! A producer for tools that publish order events themselves (`wallet demo`), with the
//! service's producer settings — `kafka.client` and `kafka.producer_client` included — so a
//! tool reaches an authenticated cluster exactly as the service does.

use crate::error::KafkaError;
use crate::publisher::{OutRecord, Publisher};
use crate::settings::KafkaSettings;

/// Publishes records, each acknowledged by all in-sync replicas.
#[derive(Debug)]
pub struct RecordProducer {
    publisher: Publisher,
}

impl RecordProducer {
    /// A producer for the brokers of `settings`.
    ///
    /// # Errors
    /// [`KafkaError::Config`] or [`KafkaError::Client`] when the client cannot be created.
    pub fn new(settings: &KafkaSettings, client_id: &str) -> Result<Self, KafkaError> {
        Ok(RecordProducer {
            publisher: Publisher::new(settings, client_id)?,
        })
    }

    /// Sends one record and waits for the broker's acknowledgement.
    ///
    /// # Errors
    /// [`KafkaError::Client`] with the client's reason when it was not acknowledged.
    pub async fn send(&self, topic: &str, key: &[u8], value: &[u8]) -> Result<(), KafkaError> {
        let record = OutRecord {
            topic,
            key: Some(key),
            value: Some(value),
            headers: Vec::new(),
        };
        match self.publisher.send_all(&[record]).await.pop() {
            Some(Ok(())) => Ok(()),
            Some(Err(detail)) => Err(KafkaError::Client {
                operation: "produce",
                detail,
            }),
            None => Err(KafkaError::Client {
                operation: "produce",
                detail: "no delivery report".to_owned(),
            }),
        }
    }
}
