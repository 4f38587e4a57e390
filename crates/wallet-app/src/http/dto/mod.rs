//! The JSON shapes of the HTTP API (SPEC §5): camelCase, decimals as strings, cash with the
//! currency's scale (`"3855.00"`), quantities and prices normalised (`"38.55"`, `"100"`).
//! Conversions from the domain types live here so handlers only pick what to return.

mod corporate_actions;

pub use corporate_actions::{CorporateActionResponse, ReceivableResponse};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use wallet_domain::ledger::StatementLine;
use wallet_domain::ports::BalanceAt;
use wallet_domain::usecases::{PositionValuation, Summary};
use wallet_domain::{
    Account, Currency, Hold, Money, ProjectedSettlement, StoredLedgerEntry, UserId,
};

/// Cash written with exactly the currency's fractional digits.
fn cash(value: Decimal, currency: Currency) -> String {
    Money::from_stored(value).to_scaled_string(currency)
}

/// An account (SPEC §5 `GET /api/v1/wallet/{userId}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountResponse {
    /// Owner.
    #[schema(example = "investor-42")]
    pub user_id: String,
    /// ISO 4217 currency.
    #[schema(example = "BRL")]
    pub currency: String,
    /// All cash, including what is blocked.
    #[schema(example = "10000.00")]
    pub balance: String,
    /// Cash reserved by open BUY orders.
    #[schema(example = "3855.00")]
    pub blocked_balance: String,
    /// `balance − blockedBalance`: the buying power, unsettled sale proceeds included.
    #[schema(example = "6145.00")]
    pub available_balance: String,
    /// Cash that has settled (equal to `balance` unless `settlement.cycle_days` > 0 and a
    /// fill has not settled yet; may be negative while a purchase waits for a sale's cash).
    #[schema(example = "10000.00")]
    pub settled_balance: String,
    /// `min(balance, settledBalance) − blockedBalance`, never below 0: what a withdrawal may
    /// take.
    #[schema(example = "6145.00")]
    pub withdrawable_balance: String,
    /// The settled balance after each coming settlement date (`GET` of the account only;
    /// empty when everything is settled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlements: Option<Vec<SettlementResponse>>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
    /// When the account was opened (by its first deposit).
    pub created_at: DateTime<Utc>,
}

impl From<&Account> for AccountResponse {
    fn from(account: &Account) -> Self {
        let currency = account.currency;
        AccountResponse {
            user_id: account.user_id.to_string(),
            currency: currency.code().to_owned(),
            balance: cash(account.balance.value(), currency),
            blocked_balance: cash(account.blocked_balance.value(), currency),
            available_balance: cash(account.available_balance().value(), currency),
            settled_balance: cash(account.settled_balance, currency),
            withdrawable_balance: cash(account.withdrawable_balance().value(), currency),
            settlements: None,
            updated_at: account.updated_at,
            created_at: account.created_at,
        }
    }
}

impl AccountResponse {
    /// The account with its coming settlements.
    #[must_use]
    pub fn with_settlements(account: &Account, settlements: &[ProjectedSettlement]) -> Self {
        AccountResponse {
            settlements: Some(SettlementResponse::list(settlements, account.currency)),
            ..AccountResponse::from(account)
        }
    }
}

/// The settled balance after one coming settlement date.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementResponse {
    /// The settlement date (exchange calendar).
    #[schema(value_type = String, format = Date, example = "2027-04-23")]
    pub date: NaiveDate,
    /// What settles that day: sale proceeds (positive), purchase costs (negative), fees
    /// included.
    #[schema(example = "600.00")]
    pub cash_amount: String,
    /// The settled balance after that day.
    #[schema(example = "1100.00")]
    pub settled_balance: String,
}

impl SettlementResponse {
    fn list(settlements: &[ProjectedSettlement], currency: Currency) -> Vec<SettlementResponse> {
        settlements
            .iter()
            .map(|settlement| SettlementResponse {
                date: settlement.date,
                cash_amount: cash(settlement.cash_amount, currency),
                settled_balance: cash(settlement.settled_balance, currency),
            })
            .collect()
    }
}

/// A position with its price and value.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionResponse {
    /// Instrument.
    #[schema(example = "PETR4")]
    pub ticker: String,
    /// Shares held, including blocked ones.
    #[schema(example = "100")]
    pub quantity: String,
    /// Shares reserved by open SELL orders.
    #[schema(example = "0")]
    pub blocked_quantity: String,
    /// Cost basis per share.
    #[schema(example = "38.55")]
    pub average_price: String,
    /// Realized profit and loss of the sells, in the account's currency.
    #[schema(example = "0.00")]
    pub realized_pnl: String,
    /// The price used; null when there is none.
    #[schema(example = "40.00")]
    pub last_price: Option<String>,
    /// `REDIS` (market data), `LAST_TRADE` (the last execution the wallet booked) or
    /// `UNAVAILABLE`.
    #[schema(example = "REDIS")]
    pub price_source: String,
    /// Age of the price in seconds, when the feed can tell.
    pub price_age_seconds: Option<u64>,
    /// `quantity × lastPrice`; null when unpriced.
    #[schema(example = "4000.00")]
    pub market_value: Option<String>,
    /// `marketValue − quantity × averagePrice`; null when unpriced.
    #[schema(example = "145.00")]
    pub unrealized_pnl: Option<String>,
}

impl PositionResponse {
    fn new(valued: &PositionValuation, currency: Currency) -> Self {
        let position = &valued.position;
        PositionResponse {
            ticker: position.ticker.to_string(),
            quantity: position.quantity.to_string(),
            blocked_quantity: position.blocked_quantity.to_string(),
            average_price: position.average_price.to_string(),
            realized_pnl: cash(position.realized_pnl, currency),
            last_price: valued.last_price.map(|price| price.to_string()),
            price_source: valued.price_source.as_str().to_owned(),
            price_age_seconds: valued.price_age_seconds,
            market_value: valued
                .market_value
                .map(|value| value.to_scaled_string(currency)),
            unrealized_pnl: valued.unrealized_pnl.map(|pnl| cash(pnl, currency)),
        }
    }

    /// The positions of a summary.
    #[must_use]
    pub fn list(summary: &Summary) -> Vec<PositionResponse> {
        summary
            .positions
            .iter()
            .map(|valued| PositionResponse::new(valued, summary.account.currency))
            .collect()
    }
}

/// An account with its valued positions (SPEC §5 `summary`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryResponse {
    /// Owner.
    pub user_id: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// All cash.
    pub balance: String,
    /// Cash reserved by open BUY orders.
    pub blocked_balance: String,
    /// `balance − blockedBalance`: the buying power.
    pub available_balance: String,
    /// Cash that has settled.
    pub settled_balance: String,
    /// What a withdrawal may take.
    pub withdrawable_balance: String,
    /// The settled balance after each coming settlement date.
    pub settlements: Vec<SettlementResponse>,
    /// Cash corporate actions owe the account, paid on their payment dates.
    pub receivables: Vec<ReceivableResponse>,
    /// Sum of the market values of the priced positions.
    pub positions_value: String,
    /// `balance + positionsValue`.
    pub total_equity: String,
    /// True when the price feed failed and every price came from a fallback.
    pub prices_degraded: bool,
    /// Positions with shares.
    pub positions: Vec<PositionResponse>,
}

impl From<&Summary> for SummaryResponse {
    fn from(summary: &Summary) -> Self {
        let account = AccountResponse::from(&summary.account);
        let currency = summary.account.currency;
        SummaryResponse {
            user_id: account.user_id,
            currency: account.currency,
            balance: account.balance,
            blocked_balance: account.blocked_balance,
            available_balance: account.available_balance,
            settled_balance: account.settled_balance,
            withdrawable_balance: account.withdrawable_balance,
            settlements: SettlementResponse::list(&summary.settlements, currency),
            receivables: ReceivableResponse::list(&summary.receivables, currency),
            positions_value: summary.positions_value.to_scaled_string(currency),
            total_equity: summary.total_equity.to_scaled_string(currency),
            prices_degraded: summary.prices_degraded,
            positions: PositionResponse::list(summary),
        }
    }
}

/// One ledger entry of the statement: the Java wallet's fields (`id`, `userId`, `orderId`,
/// `transactionType`, `amount`, `createdAt`), which the broker's frontend reads, and the exact
/// effects of the entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionResponse {
    /// Position in the ledger (increasing).
    pub id: i64,
    /// The account.
    #[schema(example = "investor-42")]
    pub user_id: String,
    /// The order, for entries caused by one.
    pub order_id: Option<i64>,
    /// The Java wallet's kind: `RESERVE`, `SETTLEMENT` (a buy's cost or a sale's proceeds),
    /// `REFUND`, `DEPOSIT`, `WITHDRAWAL`, `ASSET_RESERVE`, `ASSET_RELEASE`, and `FEE` (a fee
    /// charged on a fill, when the broker configures fees).
    #[schema(example = "RESERVE")]
    pub transaction_type: String,
    /// The Java wallet's amount: RESERVE the cash reserved, REFUND the cash released,
    /// SETTLEMENT / DEPOSIT / WITHDRAWAL / FEE the signed change of the balance; null where no cash
    /// moves (the share-side entries).
    #[schema(example = "3855.00")]
    pub amount: Option<String>,
    /// When the wallet booked it (the same instant as `occurredAt`).
    pub created_at: DateTime<Utc>,
    /// This wallet's kind: `DEPOSIT`, `WITHDRAWAL`, `RESERVE`, `REFUND`, `SETTLEMENT`, `SALE`,
    /// `ASSET_RESERVE`, `ASSET_RELEASE`, `OPENING`, `FEE`.
    #[serde(rename = "type")]
    #[schema(example = "RESERVE")]
    pub entry_type: String,
    /// Signed change of the balance (0.00 for a reservation).
    #[schema(example = "0.00")]
    pub cash_amount: String,
    /// Signed change of the blocked balance.
    #[schema(example = "3855.00")]
    pub blocked_amount: String,
    /// Signed change of the settled balance: the cash of a movement that settles at once, or
    /// of a `CASH_SETTLEMENT` on its date.
    #[schema(example = "0.00")]
    pub settled_amount: String,
    /// The fee a `FEE` entry charged, e.g. `B3_SETTLEMENT`.
    pub fee_name: Option<String>,
    /// Instrument, for entries that move shares.
    pub ticker: Option<String>,
    /// Signed change of the position's quantity.
    pub quantity: String,
    /// Signed change of the position's blocked quantity.
    pub blocked_quantity: String,
    /// Balance after the entry.
    pub balance_after: String,
    /// Blocked balance after the entry.
    pub blocked_balance_after: String,
    /// When the wallet booked it.
    pub occurred_at: DateTime<Utc>,
}

impl TransactionResponse {
    /// The entry in the account's `currency`.
    #[must_use]
    pub fn new(stored: &StoredLedgerEntry, currency: Currency) -> Self {
        let entry = &stored.entry;
        let line = StatementLine::of(entry);
        TransactionResponse {
            id: stored.id,
            user_id: entry.user_id.to_string(),
            order_id: entry.order_id.map(|order| order.get()),
            transaction_type: line.transaction_type.as_str().to_owned(),
            amount: line.amount.map(|amount| cash(amount, currency)),
            created_at: entry.occurred_at,
            entry_type: entry.entry_type.as_str().to_owned(),
            cash_amount: cash(entry.cash_amount, currency),
            blocked_amount: cash(entry.blocked_amount, currency),
            settled_amount: cash(entry.settled_amount, currency),
            fee_name: entry.fee_name.clone(),
            ticker: entry.ticker.as_ref().map(ToString::to_string),
            quantity: entry.quantity.normalize().to_string(),
            blocked_quantity: entry.blocked_quantity.normalize().to_string(),
            balance_after: entry.balance_after.to_scaled_string(currency),
            blocked_balance_after: entry.blocked_balance_after.to_scaled_string(currency),
            occurred_at: entry.occurred_at,
        }
    }
}

/// The hold of one order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldResponse {
    /// The order.
    pub order_id: i64,
    /// Owner.
    pub user_id: String,
    /// `BUY` or `SELL`.
    pub side: String,
    /// Instrument.
    pub ticker: String,
    /// Ordered quantity.
    pub quantity: String,
    /// Limit price, when the wallet saw one.
    pub limit_price: Option<String>,
    /// Cash still blocked by a BUY.
    pub reserved_amount: String,
    /// Shares still blocked by a SELL.
    pub reserved_quantity: String,
    /// Cumulative quantity settled.
    pub filled_quantity: String,
    /// Cumulative cash settled: a BUY's cost, a SELL's proceeds, fees not included.
    pub filled_amount: String,
    /// Cumulative fees charged on the order's fills (a BUY pays them on top of its cost, a
    /// SELL's are taken off its proceeds).
    #[schema(example = "6.05")]
    pub fees_amount: String,
    /// `RESERVED`, `PARTIALLY_FILLED`, `FILLED`, `RELEASED`, `EXPIRED` or `DENIED`.
    pub status: String,
    /// Why the reservation was refused, when `DENIED`.
    pub deny_reason: Option<String>,
    /// When the wallet first saw the order.
    pub created_at: DateTime<Utc>,
    /// When the hold last changed.
    pub updated_at: DateTime<Utc>,
}

impl HoldResponse {
    /// The hold, cash in `currency`.
    #[must_use]
    pub fn new(hold: &Hold, currency: Currency) -> Self {
        HoldResponse {
            order_id: hold.order_id.get(),
            user_id: hold.user_id.to_string(),
            side: hold.side.as_str().to_owned(),
            ticker: hold.ticker.to_string(),
            quantity: hold.quantity.to_string(),
            limit_price: hold.limit_price.map(|price| price.to_string()),
            reserved_amount: hold.reserved_amount.to_scaled_string(currency),
            reserved_quantity: hold.reserved_quantity.to_string(),
            filled_quantity: hold.filled_quantity.to_string(),
            filled_amount: hold.filled_amount.to_scaled_string(currency),
            fees_amount: hold.fees_amount.to_scaled_string(currency),
            status: hold.status.as_str().to_owned(),
            deny_reason: hold.deny_reason.map(|reason| reason.as_str().to_owned()),
            created_at: hold.created_at,
            updated_at: hold.updated_at,
        }
    }
}

/// Balances as they stood at a moment.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceAtResponse {
    /// Owner.
    pub user_id: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// The moment asked for.
    pub at: DateTime<Utc>,
    /// Balance after the last entry at or before `at`.
    pub balance: String,
    /// Blocked balance after that entry.
    pub blocked_balance: String,
    /// `balance − blockedBalance`.
    pub available_balance: String,
    /// Settled balance after that entry.
    pub settled_balance: String,
    /// When that entry was booked; null when the account had no entry yet.
    pub as_of: Option<DateTime<Utc>>,
}

impl BalanceAtResponse {
    /// The balances of `user` at `at`.
    #[must_use]
    pub fn new(user: &UserId, currency: Currency, at: DateTime<Utc>, found: &BalanceAt) -> Self {
        BalanceAtResponse {
            user_id: user.to_string(),
            currency: currency.code().to_owned(),
            at,
            balance: found.balance.to_scaled_string(currency),
            blocked_balance: found.blocked_balance.to_scaled_string(currency),
            available_balance: cash(
                found.balance.value() - found.blocked_balance.value(),
                currency,
            ),
            settled_balance: cash(found.settled_balance, currency),
            as_of: found.as_of,
        }
    }
}

/// Body of a deposit or withdrawal (the amount may also be given as the `amount` query
/// parameter).
#[derive(Debug, Clone, ToSchema)]
pub struct AmountRequest {
    /// Decimal amount, as a string (preferred) or a JSON number; read exactly, never through
    /// binary floating point. More than the currency's fractional digits is refused.
    #[schema(example = "100.50")]
    pub amount: String,
}
