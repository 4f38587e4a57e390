//! Client callbacks of the order-event consumer: rebalances (commit what was applied before
//! partitions go, count what is assigned), statistics (consumer lag) and client errors, all
//! reflected in [`ConsumerHealth`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;

use crate::health::ConsumerHealth;
use crate::metrics;

/// The consumer's context: shared with the client's callbacks.
#[derive(Debug)]
pub(crate) struct WalletContext {
    pub(crate) health: ConsumerHealth,
    /// Bumped on every rebalance; the loop compares it to drop records of partitions it lost
    /// while it was collecting a batch.
    pub(crate) rebalances: AtomicU64,
    /// Set once the consumer is closing: the last offsets are committed already, and the
    /// revocation of the close must make no blocking client call.
    pub(crate) closing: AtomicBool,
}

impl WalletContext {
    pub(crate) fn new(health: ConsumerHealth) -> Self {
        WalletContext {
            health,
            rebalances: AtomicU64::new(0),
            closing: AtomicBool::new(false),
        }
    }
}

/// True for the commit result that only says "nothing new was stored".
pub(crate) fn is_no_offset(error: &RdKafkaError) -> bool {
    matches!(
        error,
        RdKafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)
    )
}

impl ClientContext for WalletContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility, "{message}");
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, "{message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility, "{message}");
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
        }
    }

    fn stats(&self, statistics: Statistics) {
        // The lag of a partition is -1 until the client knows it; partition -1 is the
        // client's internal "unassigned" bucket.
        let partitions: Vec<_> = statistics
            .topics
            .values()
            .flat_map(|topic| topic.partitions.values())
            .filter(|partition| partition.partition >= 0)
            .collect();
        let lags: Vec<i64> = partitions
            .iter()
            .filter(|partition| partition.consumer_lag >= 0)
            .map(|partition| partition.consumer_lag)
            .collect();
        if lags.is_empty() {
            self.health.set_lag(None);
        } else {
            let lag = lags.iter().sum();
            self.health.set_lag(Some(lag));
            metrics::lag(lag);
        }
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        // Transport errors while a broker is down land here; the client reconnects by itself.
        tracing::warn!(%error, reason, "kafka client error");
        self.health.note_error(format!("{error}: {reason}"));
    }
}

impl ConsumerContext for WalletContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.rebalances.fetch_add(1, Ordering::SeqCst);
        if let Rebalance::Revoke(partitions) = rebalance {
            if self.closing.load(Ordering::SeqCst) {
                tracing::info!(count = partitions.count(), "partitions revoked on close");
                return;
            }
            // Only offsets of applied (or dead-lettered) records are ever stored, so this
            // commits exactly what was done; whatever was not will be redone by the next owner.
            match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) => {}
                Err(error) if is_no_offset(&error) => {}
                Err(error) => {
                    metrics::commit_failure();
                    tracing::warn!(%error, "commit before revocation failed");
                }
            }
            tracing::info!(count = partitions.count(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.rebalances.fetch_add(1, Ordering::SeqCst);
        // On close the group terminates right after the revocation, and `assignment()`, which
        // waits for the group's answer without a deadline, can wait forever: the answer is
        // dropped with the group (librdkafka #4884) and the consumer never finishes closing.
        // A closing consumer owns nothing any more; otherwise the client is asked. Its list is
        // dropped inside this call: a consumer must never be dropped while a list from
        // `assignment()` is alive (KAFKA.md).
        let assigned = if self.closing.load(Ordering::SeqCst) {
            0
        } else {
            consumer.assignment().map(|list| list.count()).unwrap_or(0)
        };
        self.health.set_assigned_partitions(assigned);
        match rebalance {
            Rebalance::Assign(partitions) => {
                tracing::info!(count = partitions.count(), assigned, "partitions assigned");
            }
            Rebalance::Revoke(_) => tracing::info!(assigned, "after revocation"),
            Rebalance::Error(error) => {
                tracing::warn!(%error, "rebalance error");
                self.health.note_error(format!("rebalance: {error}"));
            }
        }
    }
}
