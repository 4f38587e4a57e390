//! Learns of the accounts other instances changed, from the wallet's own events.
//!
//! Every change of an account writes a wallet event in the same transaction, and the outbox
//! relay publishes it keyed by user id (SPEC §4 `wallet-events-v1`). An instance that caches
//! reads takes every partition of that topic itself, so it sees every event, and drops each
//! event's user from its cache: another instance's write reaches its reads within the
//! relay's poll interval plus one fetch, instead of the cache's time-to-live.

use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::watch;
use wallet_domain::UserId;
use wallet_domain::ports::ChangeSink;

use crate::backoff::{Backoff, stopping};
use crate::blocking::{run_blocking, watermarks};
use crate::error::KafkaError;
use crate::metrics;
use crate::settings::KafkaSettings;

/// Budget of one metadata or watermark call.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Tells `sink` the key (the user id) of every wallet event published from now on, until
/// `shutdown` turns true (or its sender is dropped).
///
/// The events are only read: the listener takes every partition of the topic itself, starting
/// at its current end (so it knows exactly from where it reads before it reports listening),
/// joins no group and commits nothing.
///
/// # Errors
/// [`KafkaError::Config`] or [`KafkaError::Client`] when the consumer cannot be created or its
/// partitions cannot be assigned; read failures after that are retried with backoff.
pub async fn run_change_listener(
    settings: &KafkaSettings,
    sink: &dyn ChangeSink,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), KafkaError> {
    sink.listening(false);
    settings.validate()?;
    let consumer: StreamConsumer = settings
        .listener_config()?
        .create()
        .map_err(|error| KafkaError::client("create change listener", &error))?;
    let topic = settings.wallet_events_topic.as_str();
    let mut backoff = Backoff::new(settings.retry_backoff_ms_min, settings.retry_backoff_ms_max);
    loop {
        match run_blocking(|| assign_at_end(&consumer, topic)) {
            Ok(()) => break,
            Err(error) => {
                tracing::warn!(%error, "change listener cannot take its partitions; retrying");
                metrics::retry("change_listener");
                if !backoff.wait(&mut shutdown).await {
                    return Ok(());
                }
            }
        }
    }
    sink.listening(true);
    tracing::info!(topic, "change listener started");
    while !stopping(&shutdown) {
        let received = tokio::select! {
            received = consumer.recv() => received,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        match received {
            Ok(message) => {
                backoff.reset();
                // A key that is no user id names no account.
                if let Some(user) = message
                    .key()
                    .and_then(|key| std::str::from_utf8(key).ok())
                    .and_then(|key| UserId::parse(key).ok())
                {
                    sink.changed(&user);
                }
            }
            Err(error) => {
                tracing::warn!(%error, "change listener read failed; retrying");
                metrics::retry("change_listener");
                backoff.wait(&mut shutdown).await;
            }
        }
    }
    sink.listening(false);
    tracing::info!("change listener stopped");
    Ok(())
}

/// Assigns every partition of `topic` at its high watermark, read now.
fn assign_at_end(consumer: &StreamConsumer, topic: &str) -> Result<(), KafkaError> {
    let mut assignment = TopicPartitionList::new();
    for (partition, _, high) in watermarks(consumer, topic, CALL_TIMEOUT)? {
        assignment
            .add_partition_offset(topic, partition, Offset::Offset(high))
            .map_err(|error| KafkaError::client("change listener assignment", &error))?;
    }
    if assignment.count() == 0 {
        return Err(KafkaError::Client {
            operation: "change listener metadata",
            detail: format!("topic {topic} has no partitions yet"),
        });
    }
    consumer
        .assign(&assignment)
        .map_err(|error| KafkaError::client("change listener assignment", &error))
}
