//! Learns of the accounts other instances changed, from the wallet's own events.
//!
//! Every change of an account writes a wallet event in the same transaction, and the outbox
//! relay publishes it keyed by user id (SPEC §4 `wallet-events-v1`). An instance that caches
//! reads subscribes to that topic under a group of its own, so it sees every event, and drops
//! each event's user from its cache: another instance's write reaches its reads within the
//! relay's poll interval plus one fetch, instead of the cache's time-to-live.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio::sync::watch;

use crate::backoff::{Backoff, stopping};
use crate::error::KafkaError;
use crate::metrics;
use crate::settings::KafkaSettings;

/// How often the listener checks whether its group has given it the topic's partitions.
const ASSIGNMENT_CHECK: Duration = Duration::from_millis(100);

/// What the change listener reports to.
pub trait ChangeSink: Send + Sync {
    /// `true` once the listener holds the topic's partitions, so that every later event will
    /// be seen; `false` when it stops (events may be missed from then on).
    fn listening(&self, listening: bool);

    /// A wallet event of `user` was published.
    fn changed(&self, user: &str);
}

/// Tells `sink` the key (the user id) of every wallet event published from now on, until
/// `shutdown` turns true (or its sender is dropped).
///
/// The events are only read: the listener's group is unique to this process, starts at the
/// end of the topic and never commits an offset.
///
/// # Errors
/// [`KafkaError::Config`] or [`KafkaError::Client`] when the consumer cannot be created or
/// subscribed; read failures after that are retried with backoff.
pub async fn run_change_listener(
    settings: &KafkaSettings,
    sink: &dyn ChangeSink,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), KafkaError> {
    sink.listening(false);
    settings.validate()?;
    let group = format!(
        "{}.read-cache.{}",
        settings.group_id,
        process_unique_suffix()
    );
    let consumer: StreamConsumer = settings
        .listener_config(&group)?
        .create()
        .map_err(|error| KafkaError::client("create change listener", &error))?;
    consumer
        .subscribe(&[settings.wallet_events_topic.as_str()])
        .map_err(|error| KafkaError::client("subscribe change listener", &error))?;
    let mut backoff = Backoff::new(settings.retry_backoff_ms_min, settings.retry_backoff_ms_max);
    tracing::info!(topic = %settings.wallet_events_topic, "change listener started");
    let mut listening = false;
    while !stopping(&shutdown) {
        let received = tokio::select! {
            received = consumer.recv() => Some(received),
            _ = shutdown.wait_for(|stop| *stop) => break,
            () = tokio::time::sleep(ASSIGNMENT_CHECK), if !listening => None,
        };
        let Some(received) = received else {
            // The list is dropped at once: see KAFKA.md's pitfall about assignment().
            listening = consumer
                .assignment()
                .is_ok_and(|assigned| assigned.count() > 0);
            sink.listening(listening);
            continue;
        };
        match received {
            Ok(message) => {
                backoff.reset();
                if let Some(user) = message.key().and_then(|key| std::str::from_utf8(key).ok()) {
                    sink.changed(user);
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

/// Distinguishes this process's group from every other instance's, restarts included.
fn process_unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("{}-{nanos:x}", std::process::id())
}
