//! Metric names and recording helpers, through the `metrics` facade only (the app crate
//! installs the Prometheus exporter). SPEC §5 `/metrics`: events by status and outcome, dead
//! letters, batch sizes, apply latency, consumer lag.

use std::time::Duration;

/// Order events processed, labelled `status` (PENDING, FILLED …, `UNPARSED` for records that
/// did not parse) and `outcome` (applied, duplicate, ignored, denied, dead_letter).
pub const EVENTS_TOTAL: &str = "wallet_events_total";
/// Records sent to the dead-letter topic, labelled `reason` (the `x-error-reason` code).
pub const DEAD_LETTERS_TOTAL: &str = "wallet_dead_letters_total";
/// Records per applied batch.
pub const BATCH_SIZE: &str = "wallet_batch_size";
/// Seconds spent applying one batch in the database (one transaction, retries included).
pub const APPLY_SECONDS: &str = "wallet_apply_seconds";
/// Offset commits that failed (the offsets are committed again later).
pub const COMMIT_FAILURES_TOTAL: &str = "wallet_commit_failures_total";
/// Transient failures retried, labelled `cause` (store, dead_letter, commit, fetch).
pub const RETRIES_TOTAL: &str = "wallet_consumer_retries_total";
/// Total consumer lag over the assigned partitions, as the client reports it.
pub const CONSUMER_LAG: &str = "wallet_consumer_lag";
/// Wallet events the outbox relay published and the broker acknowledged.
pub const OUTBOX_PUBLISHED_TOTAL: &str = "wallet_outbox_published_total";

/// Events whose application panicked on their own and were dead-lettered `PROCESSING_FAILED`.
pub const APPLY_PANICS_TOTAL: &str = "wallet_apply_panics_total";

/// The `status` label of a record that did not parse.
pub(crate) const STATUS_UNPARSED: &str = "UNPARSED";

pub(crate) fn event(status: &'static str, outcome: &'static str) {
    metrics::counter!(EVENTS_TOTAL, "status" => status, "outcome" => outcome).increment(1);
}

pub(crate) fn dead_letter(reason: &'static str) {
    metrics::counter!(DEAD_LETTERS_TOTAL, "reason" => reason).increment(1);
}

pub(crate) fn batch(size: usize, apply: Duration) {
    // Sizes are bounded by `batch_size_max`, far inside f64's exact integer range.
    #[allow(clippy::cast_precision_loss)]
    metrics::histogram!(BATCH_SIZE).record(size as f64);
    metrics::histogram!(APPLY_SECONDS).record(apply.as_secs_f64());
}

pub(crate) fn commit_failure() {
    metrics::counter!(COMMIT_FAILURES_TOTAL).increment(1);
}

pub(crate) fn retry(cause: &'static str) {
    metrics::counter!(RETRIES_TOTAL, "cause" => cause).increment(1);
}

pub(crate) fn lag(lag: i64) {
    // A lag is a message count; precision loss only beyond 2^53 messages.
    #[allow(clippy::cast_precision_loss)]
    metrics::gauge!(CONSUMER_LAG).set(lag as f64);
}

pub(crate) fn outbox_published(count: usize) {
    metrics::counter!(OUTBOX_PUBLISHED_TOTAL).increment(count as u64);
}

pub(crate) fn apply_panic() {
    metrics::counter!(APPLY_PANICS_TOTAL).increment(1);
}
