//! The corporate-action job (see `wallet_domain::corporate_actions`): at start-up and then
//! every `corporate_actions.interval_seconds`, works through the holders of every action whose
//! date has come, in batches of `corporate_actions.batch_size`, so an action over 100,000
//! holders runs in bounded memory and a restart resumes where the last batch ended.

use std::time::Duration;

use tokio::sync::watch;
use wallet_domain::ports::{CorporateActionStore, WalletStore};
use wallet_domain::usecases::WalletService;

use super::{drain, sleep_or_shutdown};

/// Counter of the holder batches the job applied.
pub const CORPORATE_ACTION_HOLDERS_TOTAL: &str = "wallet_corporate_action_holders_total";

/// Advances the open corporate actions now and after every `interval`. Store failures are
/// logged and retried at the next tick.
pub async fn run_corporate_actions<S: WalletStore + CorporateActionStore>(
    service: WalletService<S>,
    interval: Duration,
    batch_size: u32,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    tracing::info!(
        interval_seconds = interval.as_secs(),
        batch_size,
        "corporate-action job started"
    );
    loop {
        let rounds = drain(&shutdown, || {
            service.advance_corporate_actions(service.now(), batch_size)
        });
        match rounds.await {
            Ok(holders) => {
                if holders > 0 {
                    tracing::info!(holders, "corporate-action job applied holders");
                }
                metrics::counter!(CORPORATE_ACTION_HOLDERS_TOTAL).increment(holders as u64);
            }
            Err(error) => {
                tracing::warn!(%error, "corporate-action job cannot go on; retrying later");
            }
        }
        if sleep_or_shutdown(interval, &mut shutdown).await {
            return Ok(());
        }
    }
}
