//! The ports: what the domain needs from the outside world, as traits the adapters implement
//! (`wallet-sql` the stores, `wallet-redis` the price feed). Every method documents the errors
//! it MUST return, because the use cases decide on retries from them.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use rust_decimal::Decimal;
use thiserror::Error;

use crate::account::{Account, LastTrade, Position};
use crate::amount::{Money, Price};
use crate::corporate_actions::{ActionRecord, Entitlement, HolderPage};
use crate::hold::Hold;
use crate::ids::{OrderId, Ticker, UserId};
use crate::ledger::StoredLedgerEntry;
use crate::settlement::Obligation;
use crate::text_enum::text_enum;
use crate::unit_of_work::{ChangeSet, LoadRequest, Snapshot};

/// Failure of a store call.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// A concurrent writer changed a row first (version check, duplicate key, deadlock, lock
    /// wait timeout). Nothing was written; reload and apply again.
    #[error("concurrent update: {0}")]
    Conflict(String),
    /// The database cannot be reached or timed out. Nothing was written, or the outcome is
    /// unknown and the caller must redo the work idempotently.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: stored data that breaks the domain's rules, or a bug.
    #[error("store failure: {0}")]
    Internal(String),
}

/// The unit of work of every write: load, apply in memory, commit atomically.
#[cfg_attr(test, mockall::automock)]
pub trait WalletStore: Send + Sync + 'static {
    /// Loads every row that exists for the keys of `request`, in a bounded number of queries
    /// (not one per key).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the database cannot be reached and
    /// [`StoreError::Internal`] when a stored row cannot be read into the domain's types.
    fn load(
        &self,
        request: &LoadRequest,
    ) -> impl Future<Output = Result<Snapshot, StoreError>> + Send;

    /// Writes `changes` in one transaction: all of it or nothing.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] (and write nothing) when a row's stored version is
    /// not the one in `changes`, when a new row's key already exists (account, position, hold,
    /// ledger step, idempotency key, verdict delivery), and on deadlocks and lock wait time-outs;
    /// [`StoreError::Unavailable`] when the database cannot be reached.
    fn commit(&self, changes: ChangeSet) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` holds still active that were created before `created_before`, oldest
    /// first: the work list of [`crate::usecases::WalletService::expire_stale_holds`], whole, so
    /// that the unit of work knows every row it must load.
    ///
    /// # Errors
    /// As [`WalletStore::load`].
    fn stale_holds(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Hold>, StoreError>> + Send;

    /// Up to `limit` open settlement obligations due on or before `due_by`, earliest first:
    /// the work list of [`crate::usecases::WalletService::settle_due_obligations`].
    ///
    /// # Errors
    /// As [`WalletStore::load`].
    fn due_obligations(
        &self,
        due_by: NaiveDate,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Obligation>, StoreError>> + Send;
}

/// The corporate actions' side of the store: the actions received and their progress, the
/// holders of a ticker, the cash owed. A batch's changes are committed through
/// [`WalletStore::commit`] with the action's progress.
pub trait CorporateActionStore: Send + Sync + 'static {
    /// Stores `record` (version 0) unless an action with its id exists; returns the stored
    /// one either way, and whether it was new.
    ///
    /// # Errors
    /// As [`WalletStore::load`].
    fn insert_action(
        &self,
        record: &ActionRecord,
    ) -> impl Future<Output = Result<(ActionRecord, bool), StoreError>> + Send;

    /// The action with `id`, if any.
    ///
    /// # Errors
    /// As [`WalletStore::load`].
    fn action(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<ActionRecord>, StoreError>> + Send;

    /// Up to `limit` actions not ended whose stage can go on at `now`, earliest
    /// [`ActionRecord::next_due_at`] first.
    ///
    /// # Errors
    /// As [`WalletStore::load`].
    fn due_actions(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ActionRecord>, StoreError>> + Send;

    /// One page of at most `limit` position rows of `ticker` with user ids after `after`, in
    /// user-id order, each with the quantity the ledger says it held at `at`: its quantity
    /// now less the changes booked after `at`.
    ///
    /// # Errors
    /// As [`WalletStore::load`].
    fn holders_at(
        &self,
        ticker: &Ticker,
        at: DateTime<Utc>,
        after: Option<&UserId>,
        limit: u32,
    ) -> impl Future<Output = Result<HolderPage, StoreError>> + Send;

    /// Up to `limit` unpaid entitlements of action `action_id` with user ids after `after`, in
    /// user-id order.
    ///
    /// # Errors
    /// As [`WalletStore::load`].
    fn unpaid_entitlements(
        &self,
        action_id: &str,
        after: Option<&UserId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Entitlement>, StoreError>> + Send;

    /// The orders of the active SELL holds of `users` in `ticker`.
    ///
    /// # Errors
    /// As [`WalletStore::load`].
    fn active_sell_orders(
        &self,
        ticker: &Ticker,
        users: &[UserId],
    ) -> impl Future<Output = Result<Vec<OrderId>, StoreError>> + Send;
}

/// An account's balance as it stood at a moment, from the ledger's `*_after` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceAt {
    /// Balance after the last entry at or before the moment.
    pub balance: Money,
    /// Blocked balance after that entry.
    pub blocked_balance: Money,
    /// Settled balance after that entry.
    pub settled_balance: Decimal,
    /// When that entry was booked (`None` when the account had no entry yet).
    pub as_of: Option<DateTime<Utc>>,
}

/// One difference the audit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFinding {
    /// The account.
    pub user_id: UserId,
    /// What does not reconcile, e.g. `balance`, `blocked_balance`, `quantity PETR4`.
    pub subject: String,
    /// The value stored on the account or position.
    pub stored: Decimal,
    /// The value the ledger or the holds add up to.
    pub expected: Decimal,
}

/// Read-only queries of the HTTP API and the operators' dashboard.
#[cfg_attr(test, mockall::automock)]
pub trait WalletReader: Send + Sync + 'static {
    /// The account of `user`, if any.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] or [`StoreError::Internal`] as for [`WalletStore::load`].
    fn account(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The positions of `user` with a quantity or a realized P&L, by ticker.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn positions(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<Position>, StoreError>> + Send;

    /// Up to `limit` ledger entries of `user`, newest first (by booking time, then id), after
    /// the entry `before_id` when given (the statement cursor: the last entry of the previous
    /// page). A cursor that is not an entry of `user` gives an empty page.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn statement(
        &self,
        user: &UserId,
        before_id: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredLedgerEntry>, StoreError>> + Send;

    /// The hold of `order`, if any.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn hold(&self, order: OrderId)
    -> impl Future<Output = Result<Option<Hold>, StoreError>> + Send;

    /// Balance and blocked balance of `user` after the last ledger entry booked at or before
    /// `at`; `None` when the account does not exist.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn balance_at(
        &self,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<BalanceAt>, StoreError>> + Send;

    /// The last execution prices the wallet booked for `tickers` (absent when none).
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn last_trades(
        &self,
        tickers: &[Ticker],
    ) -> impl Future<Output = Result<Vec<LastTrade>, StoreError>> + Send;

    /// How many holds are still active (reserving cash or shares), for the operators'
    /// dashboard.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn open_holds(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The open settlement obligations of `user`, earliest due first: the settled balance of
    /// each coming settlement date.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn open_obligations(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<Obligation>, StoreError>> + Send;

    /// The cash corporate actions owe `user` and have not paid yet, earliest payment first.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn receivables(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<Entitlement>, StoreError>> + Send;
}

/// The reconciliation of stored figures with the ledger (the `wallet audit` command).
#[cfg_attr(test, mockall::automock)]
pub trait LedgerAudit: Send + Sync + 'static {
    /// Reconciles accounts and positions with the ledger and the active holds: every account's
    /// balance equals the sum of its entries' cash effects, its blocked balance the sum of its
    /// active BUY holds' reserved cash and of its entries' blocked effects; every position's
    /// quantity and blocked quantity likewise. `user` limits it to one account.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] or [`StoreError::Internal`] as for [`WalletStore::load`].
    fn audit(
        &self,
        user: Option<UserId>,
    ) -> impl Future<Output = Result<Vec<AuditFinding>, StoreError>> + Send;
}

/// News of the accounts that writers elsewhere (other instances of the service) changed, for
/// whatever keeps copies of accounts, such as a read cache.
pub trait ChangeSink: Send + Sync {
    /// `true` once every change made from then on will be reported; `false` when changes may
    /// be missed (the source stopped), so that copies must not be trusted.
    fn listening(&self, listening: bool);

    /// The account of `user` changed.
    fn changed(&self, user: &UserId);
}

/// A wallet event waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// Outbox row id, increasing in commit order. A row may hold several events (of one
    /// commit, several users'): its records share the id, in order, and the row is sent only
    /// once all of them are.
    pub id: i64,
    /// The Kafka key: the event's user id.
    pub key: String,
    /// The JSON value (SPEC §4).
    pub payload: String,
}

/// The relay's side of the outbox.
#[cfg_attr(test, mockall::automock)]
pub trait Outbox: Send + Sync + 'static {
    /// The records of the unsent rows, lowest id first: whole rows, as many as fit in `limit`
    /// records, and at least one row however many records it holds.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached.
    fn pending(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRecord>, StoreError>> + Send;

    /// Marks records as sent after the broker acknowledged them. Idempotent.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached.
    fn mark_sent(&self, ids: Vec<i64>) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Where a position's price came from (SPEC §5 `priceSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceSource {
    /// The market-data feed.
    Redis,
    /// The last execution price the wallet booked.
    LastTrade,
    /// No price at all: the position is not valued.
    Unavailable,
}

text_enum!(PriceSource {
    Redis => "REDIS",
    LastTrade => "LAST_TRADE",
    Unavailable => "UNAVAILABLE",
});

/// A market price and, where the feed can tell, how old it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceQuote {
    /// The price.
    pub price: Price,
    /// Age in seconds, when known.
    pub age_seconds: Option<u64>,
}

/// Failure of the whole price look-up (a single missing price is not an error).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("price feed unavailable: {0}")]
pub struct PriceFeedError(pub String);

/// Market prices.
#[cfg_attr(test, mockall::automock)]
pub trait PriceFeed: Send + Sync + 'static {
    /// The prices of `tickers` in one round trip; tickers without a usable price are absent.
    ///
    /// # Errors
    /// MUST return [`PriceFeedError`] when the feed cannot be reached or times out; callers
    /// then value positions from their fallbacks.
    fn quotes(
        &self,
        tickers: &[Ticker],
    ) -> impl Future<Output = Result<HashMap<Ticker, PriceQuote>, PriceFeedError>> + Send;
}

/// The time, as a port rather than a global, so that every caller can be given a settable one.
#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now, at microsecond precision: the finest every store keeps, so that a time written is
    /// the time read back.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock, truncated to microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
