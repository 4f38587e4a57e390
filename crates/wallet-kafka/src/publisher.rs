//! One producer wrapper shared by the dead-letter path, the outbox relay and the replay: it
//! sends a group of records concurrently and reports, per record, whether the broker
//! acknowledged it, so callers can retry exactly what was not acknowledged.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rdkafka::error::{KafkaError as ClientError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use tokio::time::Instant;

use crate::error::KafkaError;
use crate::settings::KafkaSettings;

/// How long `send_all` waits for room in the client's queue before reporting the records it
/// could not hand over as failed.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// The pause before a record is offered again to a full queue (rdkafka's own, in `send`).
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(100);

/// Rounds in a row in which no record was acknowledged before the producer is replaced even
/// without a fatal error: after a broker restart Tansu answered every idempotent produce of the
/// surviving producer with an unknown error for as long as it lived.
const FAILED_ROUNDS_BEFORE_REPLACING: u32 = 3;

/// A record to produce; borrowed so that dead letters carry the original bytes uncopied.
#[derive(Debug, Clone)]
pub(crate) struct OutRecord<'a> {
    pub(crate) topic: &'a str,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) headers: Vec<(&'static str, Vec<u8>)>,
}

/// A producer with acknowledgements from all in-sync replicas.
///
/// An idempotent producer can hit a fatal error (the broker lost its sequence state, say), after
/// which it refuses every record forever; the publisher then replaces it with a fresh one, so a
/// retry loop above it can make progress again. It does the same after a few rounds in a row in
/// which nothing was acknowledged, for brokers that reject a stale producer without saying so.
pub(crate) struct Publisher {
    producer: RwLock<FutureProducer>,
    failed_rounds: AtomicU32,
    settings: KafkaSettings,
    client_id: String,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl Publisher {
    pub(crate) fn new(settings: &KafkaSettings, client_id: &str) -> Result<Self, KafkaError> {
        Ok(Publisher {
            producer: RwLock::new(create(settings, client_id)?),
            failed_rounds: AtomicU32::new(0),
            settings: settings.clone(),
            client_id: client_id.to_owned(),
        })
    }

    /// The current producer (a cheap handle clone).
    fn producer(&self) -> FutureProducer {
        match self.producer.read() {
            Ok(producer) => producer.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the producer when it reports a fatal error, or when `rounds_failed` rounds in a
    /// row had nothing acknowledged.
    fn replace_if_stuck(&self, producer: &FutureProducer, rounds_failed: u32) {
        if let Some((code, reason)) = producer.client().fatal_error() {
            tracing::error!(?code, reason, "producer failed fatally; creating a new one");
        } else if rounds_failed >= FAILED_ROUNDS_BEFORE_REPLACING {
            tracing::warn!(
                rounds_failed,
                "producer acknowledged nothing for several rounds; creating a new one"
            );
        } else {
            return;
        }
        self.failed_rounds.store(0, Ordering::SeqCst);
        match create(&self.settings, &self.client_id) {
            Ok(fresh) => match self.producer.write() {
                Ok(mut current) => *current = fresh,
                Err(poisoned) => *poisoned.into_inner() = fresh,
            },
            Err(error) => tracing::error!(%error, "cannot create a new producer"),
        }
    }

    /// Sends every record and waits for all acknowledgements; one result per record, in order.
    ///
    /// Every record is handed to the client first, then the acknowledgements are awaited in
    /// order: most have arrived by the time their turn comes, so a round of thousands of records
    /// wakes this task a few times. A future per record polled together (`join_all`) was woken
    /// and polled once per acknowledgement: 8–13 % of the wallet's CPU samples in a profile of
    /// the throughput run, while the relay published its events (`docs/benchmarks.md`).
    pub(crate) async fn send_all(&self, records: &[OutRecord<'_>]) -> Vec<Result<(), String>> {
        let producer = self.producer();
        // One deadline for the round, as when every record waited for room at once: a full
        // queue must not make each record of a long round wait its own time.
        let deadline = Instant::now() + QUEUE_TIMEOUT;
        let mut handed = Vec::with_capacity(records.len());
        for record in records {
            handed.push(hand_over(&producer, record, deadline).await);
        }
        let mut results = Vec::with_capacity(handed.len());
        for delivery in handed {
            results.push(match delivery {
                Ok(delivery) => match delivery.await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err((error, _))) => Err(error.to_string()),
                    Err(_) => Err("the producer dropped the delivery report".to_owned()),
                },
                Err(error) => Err(error),
            });
        }
        if results.iter().any(Result::is_ok) {
            self.failed_rounds.store(0, Ordering::SeqCst);
        } else if !results.is_empty() {
            let rounds_failed = self.failed_rounds.fetch_add(1, Ordering::SeqCst) + 1;
            self.replace_if_stuck(&producer, rounds_failed);
            return results;
        }
        if results.iter().any(Result::is_err) {
            self.replace_if_stuck(&producer, 0);
        }
        results
    }

    /// Waits up to `timeout` for records still queued in the client.
    pub(crate) fn flush(&self, timeout: Duration) {
        if let Err(error) = self.producer().flush(timeout) {
            tracing::warn!(%error, "producer flush did not complete");
        }
    }
}

/// Hands `record` to the client's queue, waiting until `deadline` for room in it, as
/// `FutureProducer::send` does.
async fn hand_over(
    producer: &FutureProducer,
    record: &OutRecord<'_>,
    deadline: Instant,
) -> Result<DeliveryFuture, String> {
    loop {
        let mut future = FutureRecord::<[u8], [u8]>::to(record.topic);
        if let Some(key) = record.key {
            future = future.key(key);
        }
        if let Some(value) = record.value {
            future = future.payload(value);
        }
        if !record.headers.is_empty() {
            let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
            for (key, value) in &record.headers {
                headers = headers.insert(Header {
                    key,
                    value: Some(value.as_slice()),
                });
            }
            future = future.headers(headers);
        }
        match producer.send_result(future) {
            Ok(delivery) => return Ok(delivery),
            Err((ClientError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                if Instant::now() < deadline =>
            {
                tokio::time::sleep(QUEUE_FULL_PAUSE).await;
            }
            Err((error, _)) => return Err(error.to_string()),
        }
    }
}

fn create(settings: &KafkaSettings, client_id: &str) -> Result<FutureProducer, KafkaError> {
    settings
        .producer_config(client_id)?
        .create()
        .map_err(|error| KafkaError::client("create producer", &error))
}
