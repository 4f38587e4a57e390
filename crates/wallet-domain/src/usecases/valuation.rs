//! Portfolio valuation (SPEC §5 `summary`): every price of a summary in one look-up, the last
//! trade the wallet booked when the feed has no price, and never a silent zero.

use std::collections::HashMap;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::account::{Account, LastTrade, Position};
use crate::amount::{Money, Price, settlement_value};
use crate::corporate_actions::Entitlement;
use crate::ids::{Ticker, UserId};
use crate::ports::{PriceFeed, PriceQuote, PriceSource, StoreError, WalletReader};
use crate::settlement::{ProjectedSettlement, project};

/// Failure of a valuation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValuationError {
    /// The user has no account.
    #[error("account {0} does not exist")]
    AccountNotFound(UserId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One position with its price and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionValuation {
    /// The position as stored (quantities, average price, realized P&L).
    pub position: Position,
    /// The price that valued it: the feed's, else the last trade's; `None` when unpriced.
    pub last_price: Option<Price>,
    /// Which of the two sources gave `last_price`, or [`PriceSource::Unavailable`].
    pub price_source: PriceSource,
    /// How old it is, when known.
    pub price_age_seconds: Option<u64>,
    /// `quantity × last_price`, half-even to the currency's scale; `None` when unpriced.
    pub market_value: Option<Money>,
    /// `market_value − quantity × average_price`; `None` when unpriced.
    pub unrealized_pnl: Option<Decimal>,
}

/// An account with its valued positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The account, whose balances the summary shows as stored.
    pub account: Account,
    /// Positions with shares, by ticker.
    pub positions: Vec<PositionValuation>,
    /// Sum of the market values of the priced positions.
    pub positions_value: Money,
    /// `balance + positions_value`.
    pub total_equity: Money,
    /// True when the price feed failed and every price came from a fallback.
    pub prices_degraded: bool,
    /// The settled balance after each coming settlement date (none when everything is
    /// settled).
    pub settlements: Vec<ProjectedSettlement>,
    /// Cash corporate actions owe the account and will pay on their payment dates.
    pub receivables: Vec<Entitlement>,
}

/// The read side that values portfolios.
#[derive(Debug, Clone)]
pub struct Valuation<R, P> {
    reader: R,
    prices: P,
}

impl<R: WalletReader, P: PriceFeed> Valuation<R, P> {
    /// Valuation over `reader` and `prices`.
    pub fn new(reader: R, prices: P) -> Self {
        Valuation { reader, prices }
    }

    /// The summary of `user`'s account.
    ///
    /// A price-feed failure degrades the summary (fallback prices, `prices_degraded`) instead
    /// of failing it.
    ///
    /// # Errors
    /// [`ValuationError::AccountNotFound`], or [`ValuationError::Store`] when the store fails.
    pub async fn summary(&self, user: &UserId) -> Result<Summary, ValuationError> {
        let account = self
            .reader
            .account(user)
            .await?
            .ok_or_else(|| ValuationError::AccountNotFound(user.clone()))?;
        let positions: Vec<Position> = self
            .reader
            .positions(user)
            .await?
            .into_iter()
            .filter(|position| !position.quantity.is_zero())
            .collect();
        let tickers: Vec<Ticker> = positions
            .iter()
            .map(|position| position.ticker.clone())
            .collect();
        let (quotes, prices_degraded) = if tickers.is_empty() {
            (HashMap::new(), false)
        } else {
            match self.prices.quotes(&tickers).await {
                Ok(quotes) => (quotes, false),
                Err(_) => (HashMap::new(), true),
            }
        };
        // A quote that cannot value its position (out of range) is no price for it.
        let currency = account.currency;
        let unpriced: Vec<Ticker> = positions
            .iter()
            .filter(|position| {
                quotes.get(&position.ticker).is_none_or(|quote| {
                    settlement_value(position.quantity, quote.price, currency).is_err()
                })
            })
            .map(|position| position.ticker.clone())
            .collect();
        let last_trades: HashMap<Ticker, LastTrade> = if unpriced.is_empty() {
            HashMap::new()
        } else {
            self.reader
                .last_trades(&unpriced)
                .await?
                .into_iter()
                .map(|trade| (trade.ticker.clone(), trade))
                .collect()
        };
        let settlements = settlements(&self.reader, &account).await?;
        let receivables = self.reader.receivables(&account.user_id).await?;
        let mut summary = value_summary(account, positions, &quotes, &last_trades, prices_degraded);
        summary.settlements = settlements;
        summary.receivables = receivables;
        Ok(summary)
    }
}

/// Values `positions` from `quotes`, falling back to `last_trades`: the pure part of
/// [`Valuation::summary`].
///
/// Every product and sum is checked. A price whose market value would leave the wallet's
/// range (10^15) is not a usable price for that position: the next source is tried, and a
/// position no source can value is `UNAVAILABLE`, never a panic and never a silent zero.
#[must_use]
pub fn value_summary(
    account: Account,
    positions: Vec<Position>,
    quotes: &HashMap<Ticker, PriceQuote>,
    last_trades: &HashMap<Ticker, LastTrade>,
    prices_degraded: bool,
) -> Summary {
    let currency = account.currency;
    let mut positions_value = Money::ZERO;
    let positions = positions
        .into_iter()
        .map(|position| {
            let quote = quotes
                .get(&position.ticker)
                .map(|quote| (quote.price, PriceSource::Redis, quote.age_seconds));
            let trade = last_trades
                .get(&position.ticker)
                .map(|trade| (trade.price, PriceSource::LastTrade, None));
            let valued = [quote, trade]
                .into_iter()
                .flatten()
                .find_map(|(price, source, age)| {
                    let value = settlement_value(position.quantity, price, currency).ok()?;
                    Some((price, source, age, value))
                });
            let Some((price, price_source, price_age_seconds, market_value)) = valued else {
                return PositionValuation {
                    position,
                    last_price: None,
                    price_source: PriceSource::Unavailable,
                    price_age_seconds: None,
                    market_value: None,
                    unrealized_pnl: None,
                };
            };
            let unrealized_pnl =
                settlement_value(position.quantity, position.average_price, currency)
                    .ok()
                    .map(|cost| market_value.value() - cost.value());
            positions_value = positions_value
                .checked_add(market_value, "positions value")
                .unwrap_or(positions_value);
            PositionValuation {
                position,
                last_price: Some(price),
                price_source,
                price_age_seconds,
                market_value: Some(market_value),
                unrealized_pnl,
            }
        })
        .collect();
    let total_equity = Money::from_stored(account.balance.value() + positions_value.value());
    Summary {
        account,
        positions,
        positions_value,
        total_equity,
        prices_degraded,
        settlements: Vec::new(),
        receivables: Vec::new(),
    }
}

/// The coming settlements of `account`. Only an account whose settled balance differs from its
/// balance has open obligations (the audit proves the difference is theirs), so every other
/// account costs no query.
///
/// # Errors
/// [`StoreError`] when the reader fails.
pub async fn settlements<R: WalletReader>(
    reader: &R,
    account: &Account,
) -> Result<Vec<ProjectedSettlement>, StoreError> {
    if account.settled_balance == account.balance.value() {
        return Ok(Vec::new());
    }
    let open = reader.open_obligations(&account.user_id).await?;
    Ok(project(account.settled_balance, &open))
}
