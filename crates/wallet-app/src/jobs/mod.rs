//! The service's background jobs and their supervision: [`supervisor`] starts, watches and
//! restarts them and tells readiness which one is down; [`sweeper`] releases holds past their
//! time-to-live; the metrics upkeep keeps histogram memory bounded.

pub mod supervisor;
pub mod sweeper;

use std::time::Duration;

use tokio::sync::watch;

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
