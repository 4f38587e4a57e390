//! Applying a batch's events through the use case, with the two defences of SPEC §3 "no
//! panics": transient store failures are retried with backoff until shutdown, and a batch
//! whose application panics is applied again one event at a time, so that only the event that
//! panics on its own becomes a dead letter (`PROCESSING_FAILED`) and its partition goes on.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use tokio::sync::watch;
use wallet_domain::ports::WalletStore;
use wallet_domain::{DeadLetterReason, EventOutcome, OrderEvent, Rejection};

use super::Shared;
use crate::metrics;

/// How applying events ended.
pub(super) enum Applied {
    /// One outcome per event.
    Outcomes(Vec<EventOutcome>),
    /// Shutdown was requested while a transient failure was being retried.
    Abandoned,
    /// The use case panicked, with this message.
    Panicked(String),
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

impl<S: WalletStore> Shared<S> {
    /// Applies `events` in one transaction, retrying transient store failures with backoff
    /// until shutdown.
    async fn apply(&self, events: &[OrderEvent], shutdown: &mut watch::Receiver<bool>) -> Applied {
        let mut backoff = self.backoff();
        loop {
            let attempt =
                AssertUnwindSafe(self.service.apply_order_events(events, self.service.now()))
                    .catch_unwind()
                    .await;
            match attempt {
                Ok(Ok(outcomes)) => return Applied::Outcomes(outcomes),
                Ok(Err(error)) => {
                    tracing::warn!(%error, events = events.len(), "apply failed; retrying");
                    metrics::retry("store");
                    self.health.retrying(format!("apply: {error}"));
                    if !backoff.wait(shutdown).await {
                        return Applied::Abandoned;
                    }
                }
                Err(panic) => return Applied::Panicked(panic_message(panic.as_ref())),
            }
        }
    }

    /// The outcome of every event of the batch: applied together, or, when that panics, one
    /// at a time, each event that panics on its own becoming a dead letter. `None` when
    /// shutdown cut a retry short.
    pub(super) async fn outcomes(
        &self,
        events: &[OrderEvent],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<Vec<EventOutcome>> {
        if events.is_empty() {
            return Some(Vec::new());
        }
        let cause = match self.apply(events, shutdown).await {
            Applied::Outcomes(outcomes) => return Some(outcomes),
            Applied::Abandoned => return None,
            Applied::Panicked(cause) => cause,
        };
        tracing::error!(%cause, events = events.len(), "applying a batch panicked; applying its events one at a time");
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            match self.apply(std::slice::from_ref(event), shutdown).await {
                Applied::Outcomes(mut one) => outcomes.push(one.pop()?),
                Applied::Abandoned => return None,
                Applied::Panicked(cause) => {
                    tracing::error!(
                        order_id = event.order_id.get(),
                        user_id = %event.user_id,
                        %cause,
                        "applying an event panicked; dead-lettering it"
                    );
                    metrics::apply_panic();
                    outcomes.push(EventOutcome::DeadLetter(Rejection::new(
                        DeadLetterReason::ProcessingFailed,
                        format!("the wallet failed applying this event: {cause}"),
                    )));
                }
            }
        }
        Some(outcomes)
    }
}
