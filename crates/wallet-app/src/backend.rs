//! What the HTTP handlers call: the domain's use cases and read queries behind one
//! object-safe trait.
//!
//! The domain's ports use `impl Future` methods, which cannot be trait objects; handlers that
//! were generic over them would make every route, and the OpenAPI description, generic too.
//! [`Wallet`] adapts any store, reader and price feed to [`WalletBackend`] once, at start-up,
//! so the HTTP layer is written against one `Arc<dyn WalletBackend>` and knows no adapter.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use wallet_domain::ports::{BalanceAt, PriceFeed, StoreError, WalletReader, WalletStore};
use wallet_domain::usecases::{ApplyError, Summary, Valuation, ValuationError, WalletService};
use wallet_domain::{Account, CashOperation, Currency, Hold, OrderId, StoredLedgerEntry, UserId};

/// The use cases and queries of the HTTP API.
pub trait WalletBackend: Send + Sync + 'static {
    /// The currency of new accounts.
    fn default_currency(&self) -> Currency;

    /// Deposits cash (see [`WalletService::deposit`]).
    fn deposit<'a>(
        &'a self,
        operation: &'a CashOperation,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Account, ApplyError>>;

    /// Withdraws available cash (see [`WalletService::withdraw`]).
    fn withdraw<'a>(
        &'a self,
        operation: &'a CashOperation,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Account, ApplyError>>;

    /// The account of `user`.
    fn account<'a>(
        &'a self,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Option<Account>, StoreError>>;

    /// The valued portfolio of `user` (see [`Valuation::summary`]).
    fn summary<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Summary, ValuationError>>;

    /// Up to `limit` ledger entries, newest first, with ids below `before_id`.
    fn statement<'a>(
        &'a self,
        user: &'a UserId,
        before_id: Option<i64>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<StoredLedgerEntry>, StoreError>>;

    /// The hold of one order.
    fn hold(&self, order: OrderId) -> BoxFuture<'_, Result<Option<Hold>, StoreError>>;

    /// Balance and blocked balance at a moment.
    fn balance_at<'a>(
        &'a self,
        user: &'a UserId,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<BalanceAt>, StoreError>>;
}

/// The domain wired to its adapters: the write service, the reader and the valuation.
#[derive(Debug, Clone)]
pub struct Wallet<S, R, P> {
    service: WalletService<S>,
    reader: R,
    valuation: Valuation<R, P>,
}

impl<S, R, P> Wallet<S, R, P>
where
    S: WalletStore,
    R: WalletReader + Clone,
    P: PriceFeed,
{
    /// Wires `store`, `reader` and `prices`; new accounts open in `default_currency`.
    pub fn new(store: S, reader: R, prices: P, default_currency: Currency) -> Self {
        Wallet {
            service: WalletService::new(store, default_currency)
                .with_conflict_pause(crate::retry::conflict_pause()),
            valuation: Valuation::new(reader.clone(), prices),
            reader,
        }
    }
}

impl<S, R, P> WalletBackend for Wallet<S, R, P>
where
    S: WalletStore,
    R: WalletReader + Clone,
    P: PriceFeed,
{
    fn default_currency(&self) -> Currency {
        self.service.default_currency()
    }

    fn deposit<'a>(
        &'a self,
        operation: &'a CashOperation,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Account, ApplyError>> {
        Box::pin(self.service.deposit(operation, now))
    }

    fn withdraw<'a>(
        &'a self,
        operation: &'a CashOperation,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Account, ApplyError>> {
        Box::pin(self.service.withdraw(operation, now))
    }

    fn account<'a>(
        &'a self,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Option<Account>, StoreError>> {
        Box::pin(self.reader.account(user))
    }

    fn summary<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Summary, ValuationError>> {
        Box::pin(self.valuation.summary(user))
    }

    fn statement<'a>(
        &'a self,
        user: &'a UserId,
        before_id: Option<i64>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<StoredLedgerEntry>, StoreError>> {
        Box::pin(self.reader.statement(user, before_id, limit))
    }

    fn hold(&self, order: OrderId) -> BoxFuture<'_, Result<Option<Hold>, StoreError>> {
        Box::pin(self.reader.hold(order))
    }

    fn balance_at<'a>(
        &'a self,
        user: &'a UserId,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<BalanceAt>, StoreError>> {
        Box::pin(self.reader.balance_at(user, at))
    }
}
