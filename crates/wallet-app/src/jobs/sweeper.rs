//! The hold-expiry sweeper (SPEC §3): releases, once, the holds still active that saw no final
//! event within `wallet.hold_ttl_hours`.

use std::time::Duration;

use tokio::sync::watch;
use wallet_domain::ports::{WalletReader, WalletStore};
use wallet_domain::usecases::WalletService;

use super::{drain, sleep_or_shutdown};

/// Most holds expired in one sweeper transaction.
pub const SWEEP_BATCH_MAX: u32 = 200;

/// Counter of the holds the sweeper expired.
pub const HOLDS_EXPIRED_TOTAL: &str = "wallet_holds_expired_total";
/// Gauge of the holds still active, set after every sweep.
pub const HOLDS_OPEN: &str = "wallet_holds_open";

/// At start-up and then every `interval`, releases the holds still active that were created
/// more than `ttl` ago, in transactions of at most [`SWEEP_BATCH_MAX`], and counts the holds
/// left open.
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
        sweep(&service, ttl, &shutdown).await;
        match reader.open_holds().await {
            // A count of holds stays far inside f64's exact integer range.
            #[allow(clippy::cast_precision_loss)]
            Ok(open) => metrics::gauge!(HOLDS_OPEN).set(open as f64),
            Err(error) => tracing::warn!(%error, "sweeper cannot count the open holds"),
        }
        if sleep_or_shutdown(interval, &mut shutdown).await {
            return Ok(());
        }
    }
}

/// One sweep: expires holds past their time-to-live until a batch comes back partial.
async fn sweep<S: WalletStore>(
    service: &WalletService<S>,
    ttl: chrono::Duration,
    shutdown: &watch::Receiver<bool>,
) {
    let rounds = drain(shutdown, || {
        service.expire_stale_holds(service.now(), ttl, SWEEP_BATCH_MAX)
    });
    match rounds.await {
        Ok(expired) => {
            if expired > 0 {
                tracing::info!(expired, "sweeper released expired holds");
            }
            metrics::counter!(HOLDS_EXPIRED_TOTAL).increment(expired as u64);
        }
        Err(error) => tracing::warn!(%error, "sweeper cannot expire holds; retrying later"),
    }
}
