//! The settlement job (see `wallet_domain::settlement`): at start-up and then every
//! `settlement.interval_seconds`, settles the obligations due by the exchange date of the
//! service clock's now, so each business day's settlements happen within one interval of its
//! start.

use std::time::Duration;

use tokio::sync::watch;
use wallet_domain::ports::WalletStore;
use wallet_domain::usecases::WalletService;

use super::{drain, sleep_or_shutdown};

/// Most obligations settled in one transaction.
pub const SETTLEMENT_BATCH_MAX: u32 = 500;

/// Counter of the obligations the job settled.
pub const OBLIGATIONS_SETTLED_TOTAL: &str = "wallet_obligations_settled_total";

/// Settles due obligations now and after every `interval`, in transactions of at most
/// [`SETTLEMENT_BATCH_MAX`]. Store failures are logged and retried at the next tick.
pub async fn run_settlement<S: WalletStore>(
    service: WalletService<S>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    tracing::info!(
        cycle_days = service.calendar().cycle_days(),
        interval_seconds = interval.as_secs(),
        "settlement job started"
    );
    loop {
        let rounds = drain(&shutdown, || {
            service.settle_due_obligations(service.now(), SETTLEMENT_BATCH_MAX)
        });
        match rounds.await {
            Ok(settled) => {
                if settled > 0 {
                    tracing::info!(settled, "settlement job settled due obligations");
                }
                metrics::counter!(OBLIGATIONS_SETTLED_TOTAL).increment(settled as u64);
            }
            Err(error) => {
                tracing::warn!(%error, "settlement job cannot settle; retrying later");
            }
        }
        if sleep_or_shutdown(interval, &mut shutdown).await {
            return Ok(());
        }
    }
}
