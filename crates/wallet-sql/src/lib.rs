//! # wallet-sql
//!
//! The sea-orm adapter of the Broker Wallet store ports over MySQL 8 / MariaDB ≥ 10.6
//! (production) and SQLite (the embedded default): [`SqlStore`] implements
//! [`WalletStore`] (the unit of work of every write), [`WalletReader`] (the HTTP API's reads,
//! the audit and the sweeper's list) and [`Outbox`] (the relay's side of the outbox).
//!
//! - **Exact decimals on both backends** (SPEC §3): `DECIMAL(28,10)` on MySQL, canonical
//!   decimal text on SQLite, converted in one module (`codec`); no float on the way.
//! - **One transaction per unit of work**, with optimistic version checks: rows loaded at
//!   version 0 are inserted, the others updated only where the stored version is still the
//!   loaded one; anything a concurrent writer causes (version mismatch, duplicate key,
//!   deadlock, lock wait timeout, SQLite busy) is [`StoreError::Conflict`] and the use case
//!   retries from a fresh load.
//! - **Few round trips**: a load is one query per table, a commit one multi-row statement per
//!   table (bulk UPDATEs in chunks of 250 rows, INSERTs up to 16,000 bind values) plus BEGIN
//!   and COMMIT, whatever the batch size.
//!
//! No sea-orm or sqlx type appears in this crate's public API.

#![warn(missing_docs)]

mod audit;
mod codec;
mod commit;
mod error;
mod java;
mod load;
mod outbox;
mod reader;
mod rows;
mod settings;
mod sql;
mod store;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use wallet_domain::ports::{
    AuditFinding, BalanceAt, ChangeSet, LoadRequest, Outbox, OutboxRecord, Snapshot, StoreError,
    WalletReader, WalletStore,
};
use wallet_domain::{
    Account, Hold, LastTrade, OrderId, Position, StoredLedgerEntry, Ticker, UserId,
};

pub use java::read_java_wallet;
pub use outbox::OUTBOX_BATCH_MAX;
pub use reader::{EXPIRED_HOLDS_MAX, STATEMENT_PAGE_MAX};
pub use settings::DatabaseSettings;
pub use store::SqlStore;

impl SqlStore {
    /// Statements sent to the database by this store and its clones since it was connected
    /// (each a round trip; BEGIN and COMMIT included): for metrics and benchmarks.
    #[must_use]
    pub fn statements_sent(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub(crate) fn count_statements(&self, statements: usize) {
        self.statements
            .fetch_add(statements as u64, Ordering::Relaxed);
    }
}

impl WalletStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(users = request.users.len(), orders = request.orders.len()))]
    async fn load(&self, request: &LoadRequest) -> Result<Snapshot, StoreError> {
        self.load_snapshot(request).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(ledger = changes.ledger.len()))]
    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.commit_changes(changes).await
    }
}

impl WalletReader for SqlStore {
    async fn account(&self, user: &UserId) -> Result<Option<Account>, StoreError> {
        self.read_account(user).await
    }

    async fn positions(&self, user: &UserId) -> Result<Vec<Position>, StoreError> {
        self.read_positions(user).await
    }

    async fn statement(
        &self,
        user: &UserId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredLedgerEntry>, StoreError> {
        self.read_statement(user, before_id, limit).await
    }

    async fn hold(&self, order: OrderId) -> Result<Option<Hold>, StoreError> {
        self.read_hold(order).await
    }

    async fn balance_at(
        &self,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> Result<Option<BalanceAt>, StoreError> {
        self.read_balance_at(user, at).await
    }

    async fn last_trades(&self, tickers: &[Ticker]) -> Result<Vec<LastTrade>, StoreError> {
        self.read_last_trades(tickers).await
    }

    async fn audit(&self, user: Option<UserId>) -> Result<Vec<AuditFinding>, StoreError> {
        self.run_audit(user).await
    }

    async fn expired_holds(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(OrderId, UserId)>, StoreError> {
        self.read_expired_holds(created_before, limit).await
    }

    async fn open_holds(&self) -> Result<u64, StoreError> {
        self.count_open_holds().await
    }
}

impl Outbox for SqlStore {
    async fn pending(&self, limit: u32) -> Result<Vec<OutboxRecord>, StoreError> {
        self.outbox_pending(limit).await
    }

    async fn mark_sent(&self, ids: Vec<i64>) -> Result<(), StoreError> {
        self.outbox_mark_sent(ids).await
    }
}
