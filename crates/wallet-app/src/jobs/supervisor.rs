//! Supervision of the background tasks: the Kafka consumer, the outbox relay, the change
//! listener, the hold-expiry sweeper and the metrics upkeep.
//!
//! A task never stops silently. When one returns an error, ends by itself or panics while the
//! service is not shutting down, the supervisor logs it once with its cause, counts it in
//! `wallet_task_failures_total{task, kind}`, marks the task down in [`TaskHealth`] (so
//! `/health/ready` answers 503 naming it) and restarts it after a capped exponential backoff.
//! A restarted task counts as ready again only once it has run for [`HEALTHY_RUN`] without
//! failing, so a task in a crash loop keeps readiness red instead of flapping.
//!
//! On shutdown [`stop`] waits for every task within a deadline and names the ones that did not
//! stop, so that the process can exit anyway.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::sleep_or_shutdown;

/// First wait before a failed task is restarted.
const RESTART_BACKOFF_MIN: Duration = Duration::from_millis(500);
/// Longest wait before a restart.
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long a restarted task must run without failing to count as healthy again (readiness)
/// and to start its next backoff from the minimum.
pub const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// Counter of task failures, labelled `task` and `kind` (`error`, `ended`, `panic`).
pub const TASK_FAILURES_TOTAL: &str = "wallet_task_failures_total";
/// Gauge per task: 1 while it runs healthy, 0 while it is down or recovering.
pub const TASK_UP: &str = "wallet_task_up";

/// Where one task stands.
#[derive(Debug, Clone)]
enum TaskState {
    /// Running; `after_failure` holds the cause of the failure it was restarted after.
    Running {
        since: Instant,
        after_failure: Option<String>,
    },
    /// Failed and waiting for its restart.
    Down { cause: String },
    /// Stopped for shutdown.
    Stopped,
}

/// The state of every supervised task, shared with readiness.
#[derive(Debug, Clone, Default)]
pub struct TaskHealth {
    tasks: Arc<Mutex<BTreeMap<&'static str, TaskState>>>,
}

impl TaskHealth {
    fn set(&self, task: &'static str, state: TaskState) {
        let up = matches!(
            state,
            TaskState::Running {
                after_failure: None,
                ..
            }
        );
        metrics::gauge!(TASK_UP, "task" => task).set(if up { 1.0 } else { 0.0 });
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.insert(task, state);
        }
    }

    /// What is wrong, one line per task that is down or has not yet run [`HEALTHY_RUN`] since
    /// its last failure; empty when every task is healthy.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let Ok(tasks) = self.tasks.lock() else {
            return vec!["task registry unavailable".to_owned()];
        };
        tasks
            .iter()
            .filter_map(|(task, state)| match state {
                TaskState::Down { cause } => Some(format!("{task} is down: {cause}")),
                TaskState::Running {
                    since,
                    after_failure: Some(cause),
                } if since.elapsed() < HEALTHY_RUN => Some(format!(
                    "{task} restarted {} s ago after: {cause}",
                    since.elapsed().as_secs()
                )),
                TaskState::Running { .. } | TaskState::Stopped => None,
            })
            .collect()
    }
}

/// A supervised task: its name and the loop that runs it.
#[derive(Debug)]
pub struct SupervisedTask {
    /// The task's name, as in logs, metrics and readiness.
    pub name: &'static str,
    handle: JoinHandle<()>,
}

/// Starts and watches the background tasks of one application.
#[derive(Debug)]
pub struct Supervisor {
    shutdown: watch::Receiver<bool>,
    health: TaskHealth,
    tasks: Vec<SupervisedTask>,
}

impl Supervisor {
    /// A supervisor whose tasks stop when `shutdown` turns true.
    #[must_use]
    pub fn new(shutdown: watch::Receiver<bool>) -> Self {
        Supervisor {
            shutdown,
            health: TaskHealth::default(),
            tasks: Vec::new(),
        }
    }

    /// The tasks' health, for readiness.
    #[must_use]
    pub fn health(&self) -> TaskHealth {
        self.health.clone()
    }

    /// Supervises the task that `start` creates, again and again, until shutdown.
    ///
    /// `start` is called once per run with the shutdown signal; its future ends with `Ok(())`
    /// when the task stopped because shutdown was requested, or with an error message.
    pub fn spawn<F, Fut>(&mut self, task: &'static str, start: F)
    where
        F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let handle = tokio::spawn(supervise(
            task,
            self.shutdown.clone(),
            self.health.clone(),
            start,
        ));
        self.tasks.push(SupervisedTask { name: task, handle });
    }

    /// The supervision loops, which end once their task stopped for shutdown.
    #[must_use]
    pub fn into_tasks(self) -> Vec<SupervisedTask> {
        self.tasks
    }
}

async fn supervise<F, Fut>(
    task: &'static str,
    mut shutdown: watch::Receiver<bool>,
    health: TaskHealth,
    start: F,
) where
    F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let mut backoff = RESTART_BACKOFF_MIN;
    let mut last_failure: Option<String> = None;
    loop {
        let started = Instant::now();
        health.set(
            task,
            TaskState::Running {
                since: started,
                after_failure: last_failure.clone(),
            },
        );
        let outcome = tokio::spawn(start(shutdown.clone())).await;
        if *shutdown.borrow() {
            if let Ok(Err(error)) = &outcome {
                tracing::warn!(task, %error, "task failed while shutting down");
            }
            health.set(task, TaskState::Stopped);
            tracing::info!(task, "task stopped");
            return;
        }
        let (kind, cause) = match outcome {
            Ok(Ok(())) => ("ended", "ended by itself".to_owned()),
            Ok(Err(error)) => ("error", error),
            Err(join_error) => ("panic", format!("panicked: {}", panic_message(join_error))),
        };
        if started.elapsed() >= HEALTHY_RUN {
            backoff = RESTART_BACKOFF_MIN;
        }
        tracing::error!(
            task,
            kind,
            %cause,
            restart_in_ms = backoff.as_millis(),
            "task stopped; restarting it"
        );
        metrics::counter!(TASK_FAILURES_TOTAL, "task" => task, "kind" => kind).increment(1);
        health.set(
            task,
            TaskState::Down {
                cause: cause.clone(),
            },
        );
        last_failure = Some(cause);
        if sleep_or_shutdown(backoff, &mut shutdown).await {
            health.set(task, TaskState::Stopped);
            return;
        }
        backoff = (backoff * 2).min(RESTART_BACKOFF_MAX);
    }
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

/// Waits for every task to stop, all within `timeout`; the names of those that did not.
pub async fn stop(tasks: Vec<SupervisedTask>, timeout: Duration) -> Vec<&'static str> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stuck = Vec::new();
    for SupervisedTask { name, handle } in tasks {
        match tokio::time::timeout_at(deadline, handle).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(task = name, %error, "task supervision failed"),
            Err(_) => stuck.push(name),
        }
    }
    stuck
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tokio::sync::mpsc;

    use super::*;

    #[tokio::test]
    async fn a_failing_task_is_restarted_and_shown_down_until_shutdown() {
        let (shutdown_sender, shutdown) = watch::channel(false);
        let mut supervisor = Supervisor::new(shutdown);
        let health = supervisor.health();
        let runs = Arc::new(AtomicU32::new(0));
        let (ran_twice_sender, mut ran_twice) = mpsc::unbounded_channel();
        let counter = runs.clone();
        supervisor.spawn("flaky", move |_| {
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
        let problems = health.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("flaky "), "{problems:?}");
        assert!(problems[0].contains("failure"), "{problems:?}");
        shutdown_sender.send(true).unwrap();
        assert!(
            stop(supervisor.into_tasks(), Duration::from_secs(5))
                .await
                .is_empty()
        );
        assert!(runs.load(Ordering::SeqCst) >= 2);
        assert!(
            health.problems().is_empty(),
            "a stopped task is not a problem"
        );
    }

    #[tokio::test]
    async fn a_panicking_task_is_named_with_its_cause_and_restarted() {
        let (shutdown_sender, shutdown) = watch::channel(false);
        let mut supervisor = Supervisor::new(shutdown);
        let health = supervisor.health();
        let (restarted_sender, mut restarted) = mpsc::unbounded_channel();
        let runs = Arc::new(AtomicU32::new(0));
        supervisor.spawn("broken", move |mut shutdown| {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            let restarted_sender = restarted_sender.clone();
            async move {
                if run == 0 {
                    panic!("invariant broken");
                }
                let _ = restarted_sender.send(());
                let _ = shutdown.wait_for(|stop| *stop).await;
                Ok(())
            }
        });
        restarted.recv().await.unwrap();
        // Running again, but not healthy until it has run a while.
        let problems = health.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("broken restarted") && problems[0].contains("invariant broken"),
            "{problems:?}"
        );
        shutdown_sender.send(true).unwrap();
        assert!(
            stop(supervisor.into_tasks(), Duration::from_secs(5))
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_task_that_ignores_shutdown_is_named_when_stopping() {
        let (shutdown_sender, shutdown) = watch::channel(false);
        let mut supervisor = Supervisor::new(shutdown);
        supervisor.spawn("stubborn", |_| std::future::pending::<Result<(), String>>());
        supervisor.spawn("polite", |mut shutdown| async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
            Ok(())
        });
        shutdown_sender.send(true).unwrap();
        let stuck = stop(supervisor.into_tasks(), Duration::from_millis(200)).await;
        assert_eq!(stuck, ["stubborn"]);
    }
}
