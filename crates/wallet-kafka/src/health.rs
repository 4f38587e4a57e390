//! The consumer's state as `/health/ready` and the metrics see it (SPEC §4 "Delivery": while a
//! transient failure is retried, readiness says not ready).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Lag value meaning "the client has not reported it".
const LAG_UNKNOWN: i64 = -1;

#[derive(Debug)]
struct HealthState {
    running: AtomicBool,
    assigned_partitions: AtomicUsize,
    retrying: AtomicBool,
    lag: AtomicI64,
    events_processed: AtomicU64,
    batches_committed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// Shared, cheap-to-clone view of the order-event consumer's state.
#[derive(Debug, Clone)]
pub struct ConsumerHealth {
    state: Arc<HealthState>,
}

impl Default for ConsumerHealth {
    fn default() -> Self {
        ConsumerHealth {
            state: Arc::new(HealthState {
                running: AtomicBool::new(false),
                assigned_partitions: AtomicUsize::new(0),
                retrying: AtomicBool::new(false),
                lag: AtomicI64::new(LAG_UNKNOWN),
                events_processed: AtomicU64::new(0),
                batches_committed: AtomicU64::new(0),
                last_error: Mutex::new(None),
            }),
        }
    }
}

/// A point-in-time copy of [`ConsumerHealth`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSnapshot {
    /// The consumer loop is running.
    pub running: bool,
    /// Partitions currently assigned to this member.
    pub assigned_partitions: usize,
    /// A transient failure is being retried (database or broker down, commit failing).
    pub retrying: bool,
    /// Total lag over the assigned partitions, when the client reported it.
    pub lag: Option<i64>,
    /// Records processed (applied, ignored or dead-lettered) since start.
    pub events_processed: u64,
    /// Batches whose offsets were committed since start.
    pub batches_committed: u64,
    /// The last failure seen, cleared when the work it blocked succeeds.
    pub last_error: Option<String>,
}

impl ConsumerHealth {
    /// A new, not-running state.
    #[must_use]
    pub fn new() -> Self {
        ConsumerHealth::default()
    }

    /// Ready: running, assigned at least one partition and not stuck retrying.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        let snapshot = self.snapshot();
        snapshot.running && snapshot.assigned_partitions > 0 && !snapshot.retrying
    }

    /// A copy of every field.
    #[must_use]
    pub fn snapshot(&self) -> HealthSnapshot {
        let state = &self.state;
        let lag = state.lag.load(Ordering::Relaxed);
        HealthSnapshot {
            running: state.running.load(Ordering::Relaxed),
            assigned_partitions: state.assigned_partitions.load(Ordering::Relaxed),
            retrying: state.retrying.load(Ordering::Relaxed),
            lag: (lag >= 0).then_some(lag),
            events_processed: state.events_processed.load(Ordering::Relaxed),
            batches_committed: state.batches_committed.load(Ordering::Relaxed),
            last_error: self.last_error(),
        }
    }

    /// The last failure, if not cleared.
    #[must_use]
    pub fn last_error(&self) -> Option<String> {
        match self.state.last_error.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn set_running(&self, running: bool) {
        self.state.running.store(running, Ordering::Relaxed);
        if !running {
            self.state.assigned_partitions.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn set_assigned_partitions(&self, count: usize) {
        self.state
            .assigned_partitions
            .store(count, Ordering::Relaxed);
    }

    pub(crate) fn set_lag(&self, lag: Option<i64>) {
        self.state
            .lag
            .store(lag.unwrap_or(LAG_UNKNOWN), Ordering::Relaxed);
    }

    /// Records a transient failure being retried.
    pub(crate) fn retrying(&self, error: String) {
        self.state.retrying.store(true, Ordering::Relaxed);
        self.set_error(Some(error));
    }

    /// Records a failure that does not block progress (logged, shown, not "not ready").
    pub(crate) fn note_error(&self, error: String) {
        self.set_error(Some(error));
    }

    /// The work a failure blocked went through.
    pub(crate) fn recovered(&self) {
        if self.state.retrying.swap(false, Ordering::Relaxed) {
            self.set_error(None);
        }
    }

    pub(crate) fn add_events(&self, count: u64) {
        self.state
            .events_processed
            .fetch_add(count, Ordering::Relaxed);
    }

    pub(crate) fn add_committed_batch(&self) {
        self.state.batches_committed.fetch_add(1, Ordering::Relaxed);
    }

    fn set_error(&self, error: Option<String>) {
        match self.state.last_error.lock() {
            Ok(mut guard) => *guard = error,
            Err(poisoned) => *poisoned.into_inner() = error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_running_assigned_and_not_retrying() {
        let health = ConsumerHealth::new();
        assert!(!health.is_ready());
        health.set_running(true);
        assert!(!health.is_ready());
        health.set_assigned_partitions(2);
        assert!(health.is_ready());
        health.retrying("database unavailable".to_owned());
        assert!(!health.is_ready());
        assert_eq!(health.last_error().as_deref(), Some("database unavailable"));
        health.recovered();
        assert!(health.is_ready());
        assert_eq!(health.last_error(), None);
        assert_eq!(health.snapshot().lag, None);
        health.set_lag(Some(7));
        assert_eq!(health.clone().snapshot().lag, Some(7));
    }
}
