//! The ports: what the domain needs from the outside world, as traits the adapters implement
//! (`wallet-sql` the stores, `wallet-redis` the price feed). Every method documents the errors
//! it MUST return, because the use cases decide on retries from them.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use thiserror::Error;

use crate::account::{Account, LastTrade, Position};
use crate::amount::{Money, Price};
use crate::dead_letter::Rejection;
use crate::hold::Hold;
use crate::ids::{OrderId, Ticker, UserId};
use crate::ledger::{LedgerEntry, StoredLedgerEntry};
use crate::wallet_event::WalletEvent;

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

/// The keys a unit of work touches. The store loads every row that exists for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadRequest {
    /// Accounts.
    pub users: BTreeSet<UserId>,
    /// Positions by owner and ticker.
    pub positions: BTreeSet<(UserId, Ticker)>,
    /// Holds by order.
    pub orders: BTreeSet<OrderId>,
    /// HTTP idempotency keys by owner and key.
    pub idempotency_keys: BTreeSet<(UserId, String)>,
    /// Deliveries of order events, whose earlier dead-letter decisions are needed.
    pub deliveries: BTreeSet<String>,
}

/// The rows that exist for a [`LoadRequest`]; absent keys have no row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Accounts found.
    pub accounts: Vec<Account>,
    /// Positions found.
    pub positions: Vec<Position>,
    /// Holds found.
    pub holds: Vec<Hold>,
    /// Idempotency records found.
    pub idempotency: Vec<IdempotencyRecord>,
    /// Dead-letter decisions found for the requested deliveries.
    pub verdicts: Vec<Verdict>,
}

/// What a unit of work writes, atomically.
///
/// Each account, position and hold carries the `version` it was loaded with (0 when it is new):
/// the store inserts new rows, updates the others only where the stored version still equals
/// the loaded one, and stores `version + 1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Accounts created or changed.
    pub accounts: Vec<Account>,
    /// Positions created or changed.
    pub positions: Vec<Position>,
    /// Holds created or changed.
    pub holds: Vec<Hold>,
    /// Ledger entries to append.
    pub ledger: Vec<LedgerEntry>,
    /// Wallet events for the outbox.
    pub outbox: Vec<WalletEvent>,
    /// Latest execution prices per ticker (upserted; a later `traded_at` wins).
    pub last_trades: Vec<LastTrade>,
    /// Idempotency records of HTTP requests applied by this unit of work.
    pub idempotency: Vec<IdempotencyRecord>,
    /// Dead-letter decisions taken by this unit of work (deliveries are new).
    pub verdicts: Vec<Verdict>,
}

impl ChangeSet {
    /// True when there is nothing to write.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.positions.is_empty()
            && self.holds.is_empty()
            && self.ledger.is_empty()
            && self.outbox.is_empty()
            && self.last_trades.is_empty()
            && self.idempotency.is_empty()
            && self.verdicts.is_empty()
    }
}

/// The decision to dead-letter one delivery of an order event, stored with the changes of its
/// batch.
///
/// Whether an event is applied can depend on the state it meets (a fill is covered or not), and
/// a batch that was applied but whose offsets were not committed yet is delivered again after a
/// crash or a rebalance, after later events changed that state. The first decision stands: a
/// redelivered record that was dead-lettered is dead-lettered again (its dead letter may have
/// been lost with the process), never applied, so every record is decided once, in partition
/// order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The delivery decided (see [`crate::OrderEvent::delivery`]).
    pub delivery: String,
    /// The account the event names.
    pub user_id: UserId,
    /// Why it was dead-lettered.
    pub rejection: Rejection,
    /// When it was decided.
    pub decided_at: DateTime<Utc>,
}

/// A deposit or withdrawal made under an `Idempotency-Key`, and the account it left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Owner of the key (keys are scoped per user).
    pub user_id: UserId,
    /// The client's key.
    pub key: String,
    /// What the request asked for (operation and amount); the same key with another
    /// fingerprint is a conflict.
    pub fingerprint: String,
    /// The account as the request left it: the response replayed for a repeat.
    pub account: Account,
    /// When the request was applied.
    pub created_at: DateTime<Utc>,
}

/// The unit of work of every write: load, apply in memory, commit atomically.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
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
}

/// An account's balance as it stood at a moment, from the ledger's `*_after` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceAt {
    /// Balance after the last entry at or before the moment.
    pub balance: Money,
    /// Blocked balance after that entry.
    pub blocked_balance: Money,
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

/// Read-only queries of the HTTP API, the audit and the sweeper.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
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

    /// Up to `limit` ledger entries of `user`, newest first, with ids below `before_id` when
    /// given (the statement cursor).
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

    /// Reconciles accounts and positions with the ledger and the active holds: every account's
    /// balance equals the sum of its entries' cash effects, its blocked balance the sum of its
    /// active BUY holds' reserved cash and of its entries' blocked effects; every position's
    /// quantity and blocked quantity likewise. `user` limits it to one account.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn audit(
        &self,
        user: Option<UserId>,
    ) -> impl Future<Output = Result<Vec<AuditFinding>, StoreError>> + Send;

    /// Up to `limit` holds still active that were created before `created_before`, oldest
    /// first: the sweeper's work list.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn expired_holds(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(OrderId, UserId)>, StoreError>> + Send;

    /// How many holds are still active (reserving cash or shares), for the operators'
    /// dashboard.
    ///
    /// # Errors
    /// As [`WalletReader::account`].
    fn open_holds(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// A wallet event waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// Outbox row id, increasing in commit order.
    pub id: i64,
    /// The Kafka key: the user id.
    pub key: String,
    /// The JSON value (SPEC §4).
    pub payload: String,
}

/// The relay's side of the outbox.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Outbox: Send + Sync + 'static {
    /// Up to `limit` unsent records, lowest id first.
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

impl PriceSource {
    /// The JSON name: `REDIS`, `LAST_TRADE`, `UNAVAILABLE`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::Redis => "REDIS",
            PriceSource::LastTrade => "LAST_TRADE",
            PriceSource::Unavailable => "UNAVAILABLE",
        }
    }
}

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
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
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

/// The time, as an argument rather than a global, so that use cases stay deterministic.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
