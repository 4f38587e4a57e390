//! Accounts and positions (SPEC §3 "Account", "Position").

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::amount::{AMOUNT_LIMIT, AmountError, Currency, Money, Price, Quantity};
use crate::ids::{Ticker, UserId};

/// An investor's cash. Created by the first deposit.
///
/// Invariants, checked after every transition: `balance ≥ 0` and
/// `0 ≤ blocked_balance ≤ balance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The investor; one account per user id, opened by the first deposit.
    pub user_id: UserId,
    /// Currency of every cash amount of the account.
    pub currency: Currency,
    /// All cash, including what is blocked.
    pub balance: Money,
    /// Cash reserved by open BUY orders.
    pub blocked_balance: Money,
    /// Cash that has settled (see [`crate::settlement`]): `balance` less the open obligations'
    /// cash. Equal to `balance` when fills settle at once. A purchase paid with the proceeds of
    /// a sale that settles later may leave it below zero until then.
    pub settled_balance: Decimal,
    /// Optimistic-concurrency version: 0 for an account not stored yet, then 1, 2, … as stored.
    pub version: i64,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// A new, empty account that is not stored yet.
    #[must_use]
    pub fn open(user_id: UserId, currency: Currency, now: DateTime<Utc>) -> Self {
        Account {
            user_id,
            currency,
            balance: Money::ZERO,
            blocked_balance: Money::ZERO,
            settled_balance: Decimal::ZERO,
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// `balance − blocked_balance`: what a withdrawal or a new order may use (zero should the
    /// invariant `blocked ≤ balance` ever be broken, never a negative amount).
    #[must_use]
    pub fn available_balance(&self) -> Money {
        self.balance
            .checked_sub(self.blocked_balance)
            .unwrap_or(Money::ZERO)
    }

    /// `min(balance, settled_balance) − blocked_balance`, never below zero: what a withdrawal
    /// may take. Cash from sales that have not settled buys shares but does not leave the
    /// broker.
    #[must_use]
    pub fn withdrawable_balance(&self) -> Money {
        let cash = self.balance.value().min(self.settled_balance);
        let withdrawable = cash - self.blocked_balance.value();
        if withdrawable.is_sign_positive() {
            Money::from_stored(withdrawable)
        } else {
            Money::ZERO
        }
    }

    /// Panics when the account breaks an invariant: a bug, never an input error, and the
    /// transaction that would store it must not commit.
    pub fn assert_invariants(&self) {
        assert!(
            self.balance.value() >= Decimal::ZERO,
            "negative balance: {self:?}"
        );
        assert!(
            self.blocked_balance.value() >= Decimal::ZERO,
            "negative blocked balance: {self:?}"
        );
        assert!(
            self.blocked_balance <= self.balance,
            "blocked above balance: {self:?}"
        );
    }
}

/// An investor's holding of one ticker.
///
/// Invariant: `0 ≤ blocked_quantity ≤ quantity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The investor whose account pays for and receives the shares.
    pub user_id: UserId,
    /// The stock held; one position per user and ticker.
    pub ticker: Ticker,
    /// Shares held, including blocked ones.
    pub quantity: Quantity,
    /// Shares reserved by open SELL orders.
    pub blocked_quantity: Quantity,
    /// Cost basis per share: weighted on buys, unchanged on sells.
    pub average_price: Price,
    /// Sum over sells of `(executed price − average price) × quantity`, in the account's
    /// currency (may be negative).
    pub realized_pnl: Decimal,
    /// Optimistic-concurrency version, as on [`Account::version`].
    pub version: i64,
    /// When the position last changed.
    pub updated_at: DateTime<Utc>,
}

impl Position {
    /// An empty position that is not stored yet.
    #[must_use]
    pub fn open(user_id: UserId, ticker: Ticker, now: DateTime<Utc>) -> Self {
        Position {
            user_id,
            ticker,
            quantity: Quantity::ZERO,
            blocked_quantity: Quantity::ZERO,
            average_price: Price::ZERO,
            realized_pnl: Decimal::ZERO,
            version: 0,
            updated_at: now,
        }
    }

    /// `quantity − blocked_quantity`: what a new SELL order may reserve.
    #[must_use]
    pub fn available_quantity(&self) -> Quantity {
        self.quantity
            .checked_sub(self.blocked_quantity)
            .unwrap_or(Quantity::ZERO)
    }

    /// Adds the P&L of a sale to `realized_pnl`.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] when the total would leave ±10^15, the range of every amount.
    pub fn book_realized_pnl(&mut self, pnl: Decimal) -> Result<(), AmountError> {
        self.realized_pnl = self
            .realized_pnl
            .checked_add(pnl)
            .filter(|total| total.abs() < AMOUNT_LIMIT)
            .ok_or(AmountError::TooLarge {
                field: "realized P&L",
            })?;
        Ok(())
    }

    /// Panics when the position breaks an invariant (see [`Account::assert_invariants`]).
    pub fn assert_invariants(&self) {
        assert!(
            self.blocked_quantity.value() >= Decimal::ZERO,
            "negative blocked quantity: {self:?}"
        );
        assert!(
            self.blocked_quantity <= self.quantity,
            "blocked above quantity: {self:?}"
        );
    }
}

/// The last execution price the wallet booked for a ticker: the valuation fallback when the
/// market-data feed has no price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastTrade {
    /// The stock traded.
    pub ticker: Ticker,
    /// The execution price of the latest fill booked for it (the Order API's `executedPrice`).
    pub price: Price,
    /// When the wallet booked it.
    pub traded_at: DateTime<Utc>,
}
