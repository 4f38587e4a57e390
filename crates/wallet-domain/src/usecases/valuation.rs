//! Portfolio valuation (SPEC §5 `summary`): every price of a summary in one look-up, the last
//! trade the wallet booked when the feed has no price, and never a silent zero.

use std::collections::HashMap;

use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

use crate::account::{Account, LastTrade, Position};
use crate::amount::{Money, Price};
use crate::ids::{Ticker, UserId};
use crate::ports::{PriceFeed, PriceQuote, PriceSource, StoreError, WalletReader};

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
    /// The position.
    pub position: Position,
    /// The price used, if any.
    pub last_price: Option<Price>,
    /// Where it came from.
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
    /// The account.
    pub account: Account,
    /// Positions with shares, by ticker.
    pub positions: Vec<PositionValuation>,
    /// Sum of the market values of the priced positions.
    pub positions_value: Money,
    /// `balance + positions_value`.
    pub total_equity: Money,
    /// True when the price feed failed and every price came from a fallback.
    pub prices_degraded: bool,
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
        let unpriced: Vec<Ticker> = tickers
            .iter()
            .filter(|ticker| !quotes.contains_key(*ticker))
            .cloned()
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
        Ok(value_summary(
            account,
            positions,
            &quotes,
            &last_trades,
            prices_degraded,
        ))
    }
}

/// Values `positions` from `quotes`, falling back to `last_trades`: the pure part of
/// [`Valuation::summary`].
#[must_use]
pub fn value_summary(
    account: Account,
    positions: Vec<Position>,
    quotes: &HashMap<Ticker, PriceQuote>,
    last_trades: &HashMap<Ticker, LastTrade>,
    prices_degraded: bool,
) -> Summary {
    let scale = account.currency.scale();
    let round =
        |value: Decimal| value.round_dp_with_strategy(scale, RoundingStrategy::MidpointNearestEven);
    let mut positions_value = Decimal::ZERO;
    let positions = positions
        .into_iter()
        .map(|position| {
            let (last_price, price_source, price_age_seconds) = match (
                quotes.get(&position.ticker),
                last_trades.get(&position.ticker),
            ) {
                (Some(quote), _) => (Some(quote.price), PriceSource::Redis, quote.age_seconds),
                (None, Some(trade)) => (Some(trade.price), PriceSource::LastTrade, None),
                (None, None) => (None, PriceSource::Unavailable, None),
            };
            let market_value =
                last_price.map(|price| round(position.quantity.value() * price.value()));
            let unrealized_pnl = market_value.map(|value| {
                value - round(position.quantity.value() * position.average_price.value())
            });
            if let Some(value) = market_value {
                positions_value += value;
            }
            PositionValuation {
                position,
                last_price,
                price_source,
                price_age_seconds,
                market_value: market_value.map(Money::from_stored),
                unrealized_pnl,
            }
        })
        .collect();
    let total_equity = Money::from_stored(account.balance.value() + positions_value);
    Summary {
        account,
        positions,
        positions_value: Money::from_stored(positions_value),
        total_equity,
        prices_degraded,
    }
}
