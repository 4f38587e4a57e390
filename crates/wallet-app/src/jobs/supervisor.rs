//! Background tasks and their supervision: the Kafka consumer, the outbox relay, the
//! hold-expiry sweeper and the metrics upkeep.
//!
//! A task never dies silently. When one returns an error (or returns while the service is not
//! shutting down) the supervisor logs it and restarts it after a capped exponential backoff;
//! readiness meanwhile reports what the task itself reports (the consumer's health). A task
//! that panics has broken an invariant, so the supervisor asks the whole process to stop with
//! a clear log line instead of restarting code in an unknown state.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use wallet_domain::EventOutcome;
use wallet_domain::ports::{WalletReader, WalletStore};
use wallet_domain::usecases::WalletService;

/// First wait before a failed task is restarted.
const RESTART_BACKOFF_MIN: Duration = Duration::from_millis(500);
/// Longest wait before a restart.
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A task that ran this long before failing starts its backoff from the minimum again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// Most holds expired in one sweeper transaction.
pub const SWEEP_BATCH_MAX: u32 = 200;
/// How often histograms are drained into their buckets when nobody scrapes `/metrics`.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Why the process must stop: a supervised task panicked.
#[derive(Debug, Clone)]
pub struct Fatal {
    /// The task.
    pub task: &'static str,
    /// The panic message.
    pub reason: String,
}

/// Waits `duration` or until shutdown is requested; true when shutdown was requested.
pub async fn sleep_or_shutdown(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(duration) => *shutdown.borrow(),
        // A dropped sender means the application is gone: stop as well.
        changed = shutdown.changed() => changed.is_err() || *shutdown.borrow(),
    }
}

/// Starts and watches the background tasks of one application.
#[derive(Debug)]
pub struct Supervisor {
    shutdown: watch::Receiver<bool>,
    fatal: mpsc::UnboundedSender<Fatal>,
    handles: Vec<JoinHandle<()>>,
}

impl Supervisor {
    /// A supervisor whose tasks stop when `shutdown` turns true and that reports panics to
    /// `fatal`.
    #[must_use]
    pub fn new(shutdown: watch::Receiver<bool>, fatal: mpsc::UnboundedSender<Fatal>) -> Self {
        Supervisor {
            shutdown,
            fatal,
            handles: Vec::new(),
        }
    }

    /// Supervises the task that `start` creates (see [`supervise`]).
    pub fn spawn<F, Fut>(&mut self, task: &'static str, start: F)
    where
        F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.handles.push(supervise(
            task,
            self.shutdown.clone(),
            self.fatal.clone(),
            start,
        ));
    }

    /// The supervision loops, which end once their task stopped for shutdown.
    #[must_use]
    pub fn into_handles(self) -> Vec<JoinHandle<()>> {
        self.handles
    }
}

/// Runs the task that `start` creates, again and again, until shutdown.
///
/// `start` is called once per run with the shutdown signal; its future ends with `Ok(())`
/// when the task stopped because shutdown was requested, or with an error message.
pub fn supervise<F, Fut>(
    task: &'static str,
    mut shutdown: watch::Receiver<bool>,
    fatal: mpsc::UnboundedSender<Fatal>,
    start: F,
) -> JoinHandle<()>
where
    F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    tokio::spawn(async move {
        let mut backoff = RESTART_BACKOFF_MIN;
        loop {
            let started = Instant::now();
            let outcome = tokio::spawn(start(shutdown.clone())).await;
            if *shutdown.borrow() {
                if let Ok(Err(error)) = &outcome {
                    tracing::warn!(task, %error, "task failed while shutting down");
                }
                tracing::info!(task, "task stopped");
                return;
            }
            match outcome {
                Ok(Ok(())) => tracing::error!(task, "task ended by itself; restarting it"),
                Ok(Err(error)) => tracing::error!(task, %error, "task failed; restarting it"),
                Err(join_error) => {
                    let reason = panic_message(join_error);
                    tracing::error!(task, %reason, "task panicked; stopping the service");
                    let _ = fatal.send(Fatal { task, reason });
                    return;
                }
            }
            if started.elapsed() >= HEALTHY_RUN {
                backoff = RESTART_BACKOFF_MIN;
            }
            metrics::counter!("wallet_task_restarts_total", "task" => task).increment(1);
            if sleep_or_shutdown(backoff, &mut shutdown).await {
                return;
            }
            backoff = (backoff * 2).min(RESTART_BACKOFF_MAX);
        }
    })
}

fn panic_message(error: tokio::task::JoinError) -> String {
    if !error.is_panic() {
        return error.to_string();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The hold-expiry sweeper (SPEC §3): every `interval`, releases the holds still active that
/// were created more than `ttl` ago, in transactions of at most [`SWEEP_BATCH_MAX`].
///
/// Store failures are logged and retried at the next tick: the sweeper is never the reason
/// the service stops.
pub async fn run_sweeper<S, R>(
    service: WalletService<S>,
    reader: R,
    ttl: chrono::Duration,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String>
where
    S: WalletStore,
    R: WalletReader,
{
    tracing::info!(
        ttl_hours = ttl.num_hours(),
        interval_seconds = interval.as_secs(),
        "hold-expiry sweeper started"
    );
    loop {
        if sleep_or_shutdown(interval, &mut shutdown).await {
            return Ok(());
        }
        // A full batch may hide more: sweep again at once until a partial one.
        loop {
            let now = Utc::now();
            let expired = match reader.expired_holds(now - ttl, SWEEP_BATCH_MAX).await {
                Ok(expired) => expired,
                Err(error) => {
                    tracing::warn!(%error, "sweeper cannot list expired holds; retrying later");
                    break;
                }
            };
            if expired.is_empty() {
                break;
            }
            match service.expire_holds(&expired, now).await {
                Ok(outcomes) => {
                    let applied = outcomes
                        .iter()
                        .filter(|outcome| matches!(outcome, EventOutcome::Applied))
                        .count();
                    tracing::info!(expired = applied, "sweeper released expired holds");
                    metrics::counter!("wallet_holds_expired_total").increment(applied as u64);
                }
                Err(error) => {
                    tracing::warn!(%error, "sweeper cannot expire holds; retrying later");
                    break;
                }
            }
            if expired.len() < SWEEP_BATCH_MAX as usize || *shutdown.borrow() {
                break;
            }
        }
    }
}

/// Drains histogram samples into buckets regularly, so memory stays bounded without scrapes.
pub async fn run_metrics_upkeep(
    handle: metrics_exporter_prometheus::PrometheusHandle,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    while !sleep_or_shutdown(METRICS_UPKEEP_INTERVAL, &mut shutdown).await {
        handle.run_upkeep();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_failing_task_is_restarted_until_shutdown() {
        let (shutdown_sender, shutdown) = watch::channel(false);
        let (fatal_sender, mut fatal) = mpsc::unbounded_channel();
        let runs = Arc::new(AtomicU32::new(0));
        let (ran_twice_sender, mut ran_twice) = mpsc::unbounded_channel();
        let counter = runs.clone();
        let handle = supervise("flaky", shutdown, fatal_sender, move |_| {
            let run = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let ran_twice_sender = ran_twice_sender.clone();
            async move {
                if run >= 2 {
                    let _ = ran_twice_sender.send(());
                }
                Err(format!("failure {run}"))
            }
        });
        ran_twice.recv().await.unwrap();
        shutdown_sender.send(true).unwrap();
        handle.await.unwrap();
        assert!(runs.load(Ordering::SeqCst) >= 2);
        assert!(fatal.try_recv().is_err(), "a failure is not fatal");
    }

    #[tokio::test]
    async fn a_panicking_task_stops_the_process() {
        let (_shutdown_sender, shutdown) = watch::channel(false);
        let (fatal_sender, mut fatal) = mpsc::unbounded_channel();
        let handle = supervise("broken", shutdown, fatal_sender, |_| async {
            panic!("invariant broken");
        });
        let reported = fatal.recv().await.unwrap();
        handle.await.unwrap();
        assert_eq!(reported.task, "broken");
        assert_eq!(reported.reason, "invariant broken");
    }
}
