//! Writes: apply a batch of order events, expire stale holds, deposit, withdraw. Each is one unit of
//! work — load, apply in a [`WalletBook`], commit — retried from the start when a concurrent
//! writer got there first.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

use crate::account::Account;
use crate::amount::{AmountError, Currency};
use crate::engine::{CashError, CashOperation, EventOutcome, WalletBook};
use crate::fees::FeeSchedule;
use crate::order_event::OrderEvent;
use crate::ports::{Clock, StoreError, SystemClock, WalletStore};
use crate::settlement::SettlementCalendar;
use crate::unit_of_work::{LoadRequest, Snapshot};

/// Attempts of a unit of work before a conflict is reported to the caller.
pub const CONFLICT_ATTEMPTS_MAX: u32 = 16;

/// Waits before attempt number `attempt` (2, 3, …) of a unit of work that met a conflict.
///
/// The domain does no I/O and owns no timer, so the runtime supplies the wait; writers that
/// collided retry at spread-out moments instead of colliding again (see
/// [`WalletService::with_conflict_pause`]).
pub type ConflictPause = Arc<dyn Fn(u32) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Failure of a write use case.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApplyError {
    /// The store failed; [`StoreError::Conflict`] only after [`CONFLICT_ATTEMPTS_MAX`] attempts.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A deposit or withdrawal was refused.
    #[error(transparent)]
    Cash(#[from] CashError),
    /// An amount left the wallet's range (a corporate action's cash or shares for a holder).
    #[error(transparent)]
    Amount(#[from] AmountError),
}

/// What one round of a background job did: a sweep of stale holds, or a settlement run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Holds past their time-to-live, or obligations due, that the store listed.
    pub listed: usize,
    /// Holds released, or obligations settled, by this round (the others had ended or settled
    /// meanwhile).
    pub applied: usize,
    /// The list was full: more may be waiting.
    pub more: bool,
}

/// The write side of the wallet.
#[derive(Clone)]
pub struct WalletService<S> {
    store: S,
    default_currency: Currency,
    conflict_pause: Option<ConflictPause>,
    clock: Arc<dyn Clock>,
    fees: Arc<FeeSchedule>,
    calendar: Arc<SettlementCalendar>,
}

impl<S: fmt::Debug> fmt::Debug for WalletService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletService")
            .field("store", &self.store)
            .field("default_currency", &self.default_currency)
            .field("conflict_pause", &self.conflict_pause.is_some())
            .field("fees", &self.fees.fees().len())
            .finish()
    }
}

impl<S: WalletStore> WalletService<S> {
    /// A service writing through `store`; new accounts are opened in `default_currency`.
    pub fn new(store: S, default_currency: Currency) -> Self {
        WalletService {
            store,
            default_currency,
            conflict_pause: None,
            clock: Arc::new(SystemClock),
            fees: Arc::new(FeeSchedule::none()),
            calendar: Arc::new(SettlementCalendar::immediate()),
        }
    }

    /// Settles fills on `calendar`'s cycle (see [`crate::settlement`]); at once by default.
    #[must_use]
    pub fn with_settlement(mut self, calendar: SettlementCalendar) -> Self {
        self.calendar = Arc::new(calendar);
        self
    }

    /// The settlement cycle and calendar of this service's fills.
    pub fn calendar(&self) -> &SettlementCalendar {
        &self.calendar
    }

    /// Charges `fees` on every fill (see [`crate::fees`]); none by default.
    #[must_use]
    pub fn with_fees(mut self, fees: FeeSchedule) -> Self {
        self.fees = Arc::new(fees);
        self
    }

    /// Dates writes with `clock` instead of the system clock (see [`WalletService::now`]).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The service clock's now: what its callers pass as the `now` of a use case, so that one
    /// settable clock dates every write of a process.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Waits with `pause` between attempts after a conflict (without it, a conflicting unit of
    /// work is retried at once). Under contention on one account — many HTTP withdrawals while
    /// the consumer settles — a short, randomised wait lets the writers take turns.
    #[must_use]
    pub fn with_conflict_pause(mut self, pause: ConflictPause) -> Self {
        self.conflict_pause = Some(pause);
        self
    }

    /// The currency of new accounts.
    pub fn default_currency(&self) -> Currency {
        self.default_currency
    }

    pub(crate) fn store(&self) -> &S {
        &self.store
    }

    /// A book over `snapshot` with this service's currency, fees and settlement cycle.
    pub(super) fn book(&self, snapshot: Snapshot) -> WalletBook {
        WalletBook::new(snapshot, self.default_currency)
            .with_fees(Arc::clone(&self.fees))
            .with_settlement(Arc::clone(&self.calendar))
    }

    /// Runs `apply` on a book over the rows of `request` and commits what it changed, all in
    /// one transaction; on a conflict, reloads and runs it again.
    async fn unit_of_work<T, E>(
        &self,
        request: &LoadRequest,
        mut apply: impl FnMut(&mut WalletBook) -> Result<T, E>,
    ) -> Result<T, ApplyError>
    where
        ApplyError: From<E>,
    {
        let mut attempt = 1;
        loop {
            let snapshot = self.store.load(request).await?;
            let mut book = self.book(snapshot);
            let result = apply(&mut book)?;
            let changes = book.into_changes();
            if changes.is_empty() {
                return Ok(result);
            }
            match self.store.commit(changes).await {
                Ok(()) => return Ok(result),
                Err(StoreError::Conflict(_)) if attempt < CONFLICT_ATTEMPTS_MAX => {
                    attempt += 1;
                    if let Some(pause) = &self.conflict_pause {
                        pause(attempt).await;
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Applies `events` in order, in one transaction, and returns one outcome per event.
    ///
    /// # Errors
    /// [`ApplyError::Store`] when the store is unavailable or conflicts persist: nothing was
    /// applied and the caller retries the batch later.
    pub async fn apply_order_events(
        &self,
        events: &[OrderEvent],
        now: DateTime<Utc>,
    ) -> Result<Vec<EventOutcome>, ApplyError> {
        let mut request = LoadRequest::default();
        for event in events {
            request.users.insert(event.user_id.clone());
            request
                .positions
                .insert((event.user_id.clone(), event.ticker.clone()));
            request.orders.insert(event.order_id);
            if let Some(delivery) = &event.delivery {
                request.deliveries.insert(delivery.clone());
            }
        }
        self.unit_of_work(&request, |book| {
            Ok::<_, ApplyError>(
                events
                    .iter()
                    .map(|event| book.apply_order_event(event, now))
                    .collect(),
            )
        })
        .await
    }

    /// Releases, as `EXPIRED`, up to `limit` holds still active that were created more than
    /// `ttl` before `now` (SPEC §3's time-to-live), oldest first, in one transaction.
    ///
    /// The store lists the holds whole, so the unit of work loads their accounts and
    /// positions with them: each row is read once per attempt. A hold that a final event
    /// ended meanwhile is left alone ([`EventOutcome::Duplicate`]).
    ///
    /// # Errors
    /// As [`WalletService::apply_order_events`].
    pub async fn expire_stale_holds(
        &self,
        now: DateTime<Utc>,
        ttl: Duration,
        limit: u32,
    ) -> Result<Sweep, ApplyError> {
        let stale = self.store.stale_holds(now - ttl, limit).await?;
        let mut request = LoadRequest::default();
        for hold in &stale {
            request.users.insert(hold.user_id.clone());
            request.orders.insert(hold.order_id);
            request
                .positions
                .insert((hold.user_id.clone(), hold.ticker.clone()));
        }
        let expired = self
            .unit_of_work(&request, |book| {
                Ok::<_, ApplyError>(
                    stale
                        .iter()
                        .map(|hold| book.expire_hold(hold.order_id, now))
                        .filter(|outcome| *outcome == EventOutcome::Applied)
                        .count(),
                )
            })
            .await?;
        Ok(Sweep {
            listed: stale.len(),
            applied: expired,
            more: stale.len() >= limit as usize,
        })
    }

    /// Settles, in one transaction, up to `limit` open obligations due on or before the
    /// exchange date of `now`, earliest first (the settlement job's round). Idempotent: a settled
    /// obligation is never listed again, and two runs that meet conflict in the store instead of
    /// settling twice.
    ///
    /// # Errors
    /// As [`WalletService::apply_order_events`].
    pub async fn settle_due_obligations(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Sweep, ApplyError> {
        let due = self
            .store
            .due_obligations(SettlementCalendar::trade_date(now), limit)
            .await?;
        let mut request = LoadRequest::default();
        for obligation in &due {
            request.users.insert(obligation.user_id.clone());
        }
        let settled = self
            .unit_of_work(&request, |book| {
                Ok::<_, ApplyError>(
                    due.iter()
                        .map(|obligation| book.settle_obligation(obligation, now))
                        .filter(|outcome| *outcome == EventOutcome::Applied)
                        .count(),
                )
            })
            .await?;
        Ok(Sweep {
            listed: due.len(),
            applied: settled,
            more: due.len() >= limit as usize,
        })
    }

    /// Deposits cash, opening the account on first use; returns the account after it.
    ///
    /// # Errors
    /// [`ApplyError::Cash`] for a refused deposit, [`ApplyError::Store`] as above.
    pub async fn deposit(
        &self,
        operation: &CashOperation,
        now: DateTime<Utc>,
    ) -> Result<Account, ApplyError> {
        self.unit_of_work(&cash_request(operation), |book| {
            book.deposit(operation, now)
        })
        .await
    }

    /// Withdraws withdrawable cash; returns the account after it.
    ///
    /// The open settlement obligations are read only for a refusal of unsettled cash, whose
    /// answer names the date the amount becomes withdrawable: every other withdrawal is the
    /// unit of work of one account, as short as it can be.
    ///
    /// # Errors
    /// [`ApplyError::Cash`] for a refused withdrawal, [`ApplyError::Store`] as above.
    pub async fn withdraw(
        &self,
        operation: &CashOperation,
        now: DateTime<Utc>,
    ) -> Result<Account, ApplyError> {
        let request = cash_request(operation);
        let withdrawn = self
            .unit_of_work(&request, |book| book.withdraw(operation, now))
            .await;
        if !matches!(
            withdrawn,
            Err(ApplyError::Cash(CashError::NotYetSettled { .. }))
        ) {
            return withdrawn;
        }
        let mut request = request;
        request.obligations_of.insert(operation.user_id.clone());
        self.unit_of_work(&request, |book| book.withdraw(operation, now))
            .await
    }
}

fn cash_request(operation: &CashOperation) -> LoadRequest {
    let mut request = LoadRequest::default();
    request.users.insert(operation.user_id.clone());
    if let Some(key) = &operation.idempotency_key {
        request
            .idempotency_keys
            .insert((operation.user_id.clone(), key.clone()));
    }
    request
}
