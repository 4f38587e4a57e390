//! The service's background jobs and their supervision: [`supervisor`] starts, watches and
//! restarts them and tells readiness which one is down; [`sweeper`] releases holds past their
//! time-to-live; [`settlement`] settles the obligations that fall due; [`corporate_actions`]
//! applies corporate actions to their holders; the metrics upkeep keeps histogram memory
//! bounded.

pub mod corporate_actions;
pub mod settlement;
pub mod supervisor;
pub mod sweeper;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use wallet_domain::usecases::{ApplyError, Sweep};

pub use supervisor::{Supervisor, TaskHealth};

/// How often histograms are drained into their buckets when nobody scrapes `/metrics`.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

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

/// Runs `round` again while it comes back full (a full batch may hide more) and no shutdown is
/// requested; what the rounds applied, added up. A failure ends the rounds: the job tries
/// again at its next tick.
async fn drain<F, Round>(shutdown: &watch::Receiver<bool>, round: F) -> Result<usize, ApplyError>
where
    F: Fn() -> Round,
    Round: Future<Output = Result<Sweep, ApplyError>>,
{
    let mut applied = 0;
    loop {
        let sweep = round().await?;
        applied += sweep.applied;
        if !sweep.more || *shutdown.borrow() {
            return Ok(applied);
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
