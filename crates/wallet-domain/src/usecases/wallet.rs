//! The wallet's use cases as one object-safe trait, [`WalletUseCases`], for the driving
//! adapters (the HTTP API): they are written against `Arc<dyn WalletUseCases>` and know no
//! store, feed or clock. [`Wallet`] implements it over any ports.
//!
//! The ports use `impl Future` methods, which cannot be trait objects; handlers generic over
//! them would make every route, and its OpenAPI description, generic too. Boxing once here
//! keeps both plain.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

use crate::account::Account;
use crate::amount::Currency;
use crate::corporate_actions::{ActionRecord, CorporateAction, Received};
use crate::engine::CashOperation;
use crate::hold::Hold;
use crate::ids::{OrderId, UserId};
use crate::ledger::StoredLedgerEntry;
use crate::ports::{
    BalanceAt, CorporateActionStore, PriceFeed, StoreError, WalletReader, WalletStore,
};
use crate::settlement::ProjectedSettlement;
use crate::usecases::valuation::settlements;
use crate::usecases::{ApplyError, Summary, Valuation, ValuationError, WalletService};

/// A future a trait object can return: boxed, `Send`, borrowing for `'a`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a driving adapter may ask of the wallet: cash in and out, the account, the valued
/// portfolio, the statement, one order's hold and the balance at a moment.
pub trait WalletUseCases: Send + Sync + 'static {
    /// The currency of new accounts.
    fn default_currency(&self) -> Currency;

    /// Deposits cash now (see [`WalletService::deposit`]).
    fn deposit<'a>(
        &'a self,
        operation: &'a CashOperation,
    ) -> BoxFuture<'a, Result<Account, ApplyError>>;

    /// Withdraws available cash now (see [`WalletService::withdraw`]).
    fn withdraw<'a>(
        &'a self,
        operation: &'a CashOperation,
    ) -> BoxFuture<'a, Result<Account, ApplyError>>;

    /// The account of `user`, if any.
    fn account<'a>(
        &'a self,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Option<Account>, StoreError>>;

    /// The settled balance of `account` after each coming settlement date.
    fn settlements<'a>(
        &'a self,
        account: &'a Account,
    ) -> BoxFuture<'a, Result<Vec<ProjectedSettlement>, StoreError>>;

    /// The valued portfolio of `user` (see [`Valuation::summary`]).
    fn summary<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Summary, ValuationError>>;

    /// Up to `limit` ledger entries, newest first, with ids below `before_id`.
    fn statement<'a>(
        &'a self,
        user: &'a UserId,
        before_id: Option<i64>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<StoredLedgerEntry>, StoreError>>;

    /// The hold of one order, if any.
    fn hold(&self, order: OrderId) -> BoxFuture<'_, Result<Option<Hold>, StoreError>>;

    /// Balance and blocked balance of `user` as they stood at `at`.
    fn balance_at<'a>(
        &'a self,
        user: &'a UserId,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<BalanceAt>, StoreError>>;

    /// Stores a corporate action to apply (see [`WalletService::receive_corporate_action`]).
    fn receive_corporate_action(
        &self,
        action: CorporateAction,
    ) -> BoxFuture<'_, Result<Received, StoreError>>;

    /// The corporate action with `id` and its progress, if any.
    fn corporate_action<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActionRecord>, StoreError>>;
}

/// The use cases wired to their ports: the write service (whose clock dates every write), the
/// reader and the valuation.
#[derive(Clone)]
pub struct Wallet<S, R, P> {
    service: WalletService<S>,
    reader: R,
    valuation: Valuation<R, P>,
}

impl<S, R, P> fmt::Debug for Wallet<S, R, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet").finish_non_exhaustive()
    }
}

impl<S, R, P> Wallet<S, R, P>
where
    S: WalletStore,
    R: WalletReader + Clone,
    P: PriceFeed,
{
    /// Writes through `service`, reads through `reader`, values with `prices`.
    pub fn new(service: WalletService<S>, reader: R, prices: P) -> Self {
        Wallet {
            service,
            valuation: Valuation::new(reader.clone(), prices),
            reader,
        }
    }
}

impl<S, R, P> WalletUseCases for Wallet<S, R, P>
where
    S: WalletStore + CorporateActionStore,
    R: WalletReader + Clone,
    P: PriceFeed,
{
    fn default_currency(&self) -> Currency {
        self.service.default_currency()
    }

    fn deposit<'a>(
        &'a self,
        operation: &'a CashOperation,
    ) -> BoxFuture<'a, Result<Account, ApplyError>> {
        Box::pin(self.service.deposit(operation, self.service.now()))
    }

    fn withdraw<'a>(
        &'a self,
        operation: &'a CashOperation,
    ) -> BoxFuture<'a, Result<Account, ApplyError>> {
        Box::pin(self.service.withdraw(operation, self.service.now()))
    }

    fn account<'a>(
        &'a self,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Option<Account>, StoreError>> {
        Box::pin(self.reader.account(user))
    }

    fn settlements<'a>(
        &'a self,
        account: &'a Account,
    ) -> BoxFuture<'a, Result<Vec<ProjectedSettlement>, StoreError>> {
        Box::pin(settlements(&self.reader, account))
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

    fn receive_corporate_action(
        &self,
        action: CorporateAction,
    ) -> BoxFuture<'_, Result<Received, StoreError>> {
        Box::pin(
            self.service
                .receive_corporate_action(action, self.service.now()),
        )
    }

    fn corporate_action<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActionRecord>, StoreError>> {
        Box::pin(self.service.store().action(id))
    }
}
