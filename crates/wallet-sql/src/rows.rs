//! Stored rows to domain types and back: the column lists of every table and the conversions,
//! each checked with the domain's own parsers so that a corrupt row surfaces as
//! [`StoreError::Internal`] instead of a wrong balance.

use sea_orm::{QueryResult, Value};
use wallet_domain::ports::StoreError;
use wallet_domain::unit_of_work::{IdempotencyRecord, Verdict};
use wallet_domain::{
    Account, Currency, DeadLetterReason, DenyReason, EntryType, Hold, LastTrade, LedgerEntry,
    Money, OrderId, Position, Price, Quantity, Rejection, StoredLedgerEntry, Ticker, UserId,
};

use crate::dialect::{Dialect, corrupt, get, parse_name};

/// Columns of `accounts`, in the order of [`account_values`].
pub(crate) const ACCOUNT_COLUMNS: &[&str] = &[
    "user_id",
    "currency",
    "balance",
    "blocked_balance",
    "settled_balance",
    "version",
    "created_at",
    "updated_at",
];

/// Columns of `positions`, in the order of [`position_values`].
pub(crate) const POSITION_COLUMNS: &[&str] = &[
    "user_id",
    "ticker",
    "quantity",
    "blocked_quantity",
    "average_price",
    "realized_pnl",
    "version",
    "updated_at",
];

/// Columns of `holds`, in the order of [`hold_values`].
pub(crate) const HOLD_COLUMNS: &[&str] = &[
    "order_id",
    "user_id",
    "side",
    "ticker",
    "quantity",
    "limit_price",
    "reserved_amount",
    "reserved_quantity",
    "filled_quantity",
    "filled_amount",
    "fees_amount",
    "status",
    "deny_reason",
    "terms_pending",
    "version",
    "created_at",
    "updated_at",
];

/// Columns of `ledger_entries` without the generated `id`, in the order of [`ledger_values`].
pub(crate) const LEDGER_COLUMNS: &[&str] = &[
    "user_id",
    "entry_type",
    "order_id",
    "step_key",
    "fee_name",
    "cash_amount",
    "blocked_amount",
    "settled_amount",
    "ticker",
    "quantity",
    "blocked_quantity",
    "balance_after",
    "blocked_balance_after",
    "settled_balance_after",
    "occurred_at",
];

/// Columns of `idempotency_keys`, in the order of [`idempotency_values`].
pub(crate) const IDEMPOTENCY_COLUMNS: &[&str] = &[
    "user_id",
    "idempotency_key",
    "fingerprint",
    "currency",
    "balance",
    "blocked_balance",
    "settled_balance",
    "account_version",
    "account_created_at",
    "account_updated_at",
    "created_at",
];

pub(crate) fn user_id(row: &QueryResult, column: &str) -> Result<UserId, StoreError> {
    UserId::parse(&get::<String>(row, column)?).map_err(|error| corrupt(column)(error.to_string()))
}

pub(crate) fn ticker(row: &QueryResult, column: &str) -> Result<Ticker, StoreError> {
    Ticker::parse(&get::<String>(row, column)?).map_err(|error| corrupt(column)(error.to_string()))
}

fn currency(row: &QueryResult, column: &str) -> Result<Currency, StoreError> {
    Currency::parse(&get::<String>(row, column)?)
        .map_err(|error| corrupt(column)(error.to_string()))
}

pub(crate) fn order_id(value: i64, column: &str) -> Result<OrderId, StoreError> {
    OrderId::new(value).map_err(|error| corrupt(column)(error.to_string()))
}

/// An account row.
pub(crate) fn account(dialect: Dialect, row: &QueryResult) -> Result<Account, StoreError> {
    Ok(Account {
        user_id: user_id(row, "user_id")?,
        currency: currency(row, "currency")?,
        balance: Money::from_stored(dialect.get_decimal(row, "balance")?),
        blocked_balance: Money::from_stored(dialect.get_decimal(row, "blocked_balance")?),
        settled_balance: dialect.get_decimal(row, "settled_balance")?,
        version: get(row, "version")?,
        created_at: dialect.get_time(row, "created_at")?,
        updated_at: dialect.get_time(row, "updated_at")?,
    })
}

/// Bind values of `account` stored with `version`, in [`ACCOUNT_COLUMNS`] order.
pub(crate) fn account_values(dialect: Dialect, account: &Account, version: i64) -> Vec<Value> {
    vec![
        Value::from(account.user_id.as_str()),
        Value::from(account.currency.code()),
        dialect.decimal(account.balance.value()),
        dialect.decimal(account.blocked_balance.value()),
        dialect.decimal(account.settled_balance),
        Value::from(version),
        dialect.time(account.created_at),
        dialect.time(account.updated_at),
    ]
}

/// A position row.
pub(crate) fn position(dialect: Dialect, row: &QueryResult) -> Result<Position, StoreError> {
    Ok(Position {
        user_id: user_id(row, "user_id")?,
        ticker: ticker(row, "ticker")?,
        quantity: Quantity::from_stored(dialect.get_decimal(row, "quantity")?),
        blocked_quantity: Quantity::from_stored(dialect.get_decimal(row, "blocked_quantity")?),
        average_price: Price::from_stored(dialect.get_decimal(row, "average_price")?),
        realized_pnl: dialect.get_decimal(row, "realized_pnl")?,
        version: get(row, "version")?,
        updated_at: dialect.get_time(row, "updated_at")?,
    })
}

/// Bind values of `position` stored with `version`, in [`POSITION_COLUMNS`] order.
pub(crate) fn position_values(dialect: Dialect, position: &Position, version: i64) -> Vec<Value> {
    vec![
        Value::from(position.user_id.as_str()),
        Value::from(position.ticker.as_str()),
        dialect.decimal(position.quantity.value()),
        dialect.decimal(position.blocked_quantity.value()),
        dialect.decimal(position.average_price.value()),
        dialect.decimal(position.realized_pnl),
        Value::from(version),
        dialect.time(position.updated_at),
    ]
}

/// A hold row.
pub(crate) fn hold(dialect: Dialect, row: &QueryResult) -> Result<Hold, StoreError> {
    let deny_reason = match get::<Option<String>>(row, "deny_reason")? {
        Some(text) => Some(
            text.parse::<DenyReason>()
                .map_err(|error| corrupt("deny_reason")(error.to_string()))?,
        ),
        None => None,
    };
    Ok(Hold {
        order_id: order_id(get(row, "order_id")?, "order_id")?,
        user_id: user_id(row, "user_id")?,
        side: parse_name(row, "side")?,
        ticker: ticker(row, "ticker")?,
        quantity: Quantity::from_stored(dialect.get_decimal(row, "quantity")?),
        limit_price: dialect
            .get_optional_decimal(row, "limit_price")?
            .map(Price::from_stored),
        reserved_amount: Money::from_stored(dialect.get_decimal(row, "reserved_amount")?),
        reserved_quantity: Quantity::from_stored(dialect.get_decimal(row, "reserved_quantity")?),
        filled_quantity: Quantity::from_stored(dialect.get_decimal(row, "filled_quantity")?),
        filled_amount: Money::from_stored(dialect.get_decimal(row, "filled_amount")?),
        fees_amount: Money::from_stored(dialect.get_decimal(row, "fees_amount")?),
        status: parse_name(row, "status")?,
        deny_reason,
        terms_pending: get::<i64>(row, "terms_pending")? != 0,
        version: get(row, "version")?,
        created_at: dialect.get_time(row, "created_at")?,
        updated_at: dialect.get_time(row, "updated_at")?,
    })
}

/// Bind values of `hold` stored with `version`, in [`HOLD_COLUMNS`] order.
pub(crate) fn hold_values(dialect: Dialect, hold: &Hold, version: i64) -> Vec<Value> {
    vec![
        Value::from(hold.order_id.get()),
        Value::from(hold.user_id.as_str()),
        Value::from(hold.side.as_str()),
        Value::from(hold.ticker.as_str()),
        dialect.decimal(hold.quantity.value()),
        dialect.optional_decimal(hold.limit_price.map(Price::value)),
        dialect.decimal(hold.reserved_amount.value()),
        dialect.decimal(hold.reserved_quantity.value()),
        dialect.decimal(hold.filled_quantity.value()),
        dialect.decimal(hold.filled_amount.value()),
        dialect.decimal(hold.fees_amount.value()),
        Value::from(hold.status.as_str()),
        Value::String(
            hold.deny_reason
                .map(|reason| Box::new(reason.as_str().to_owned())),
        ),
        Value::from(i64::from(hold.terms_pending)),
        Value::from(version),
        dialect.time(hold.created_at),
        dialect.time(hold.updated_at),
    ]
}

/// A ledger row with its id.
pub(crate) fn ledger_entry(
    dialect: Dialect,
    row: &QueryResult,
) -> Result<StoredLedgerEntry, StoreError> {
    let order = match get::<Option<i64>>(row, "order_id")? {
        Some(id) => Some(order_id(id, "order_id")?),
        None => None,
    };
    let ticker = match get::<Option<String>>(row, "ticker")? {
        Some(text) => {
            Some(Ticker::parse(&text).map_err(|error| corrupt("ticker")(error.to_string()))?)
        }
        None => None,
    };
    Ok(StoredLedgerEntry {
        id: get(row, "id")?,
        entry: LedgerEntry {
            user_id: user_id(row, "user_id")?,
            entry_type: parse_name::<EntryType>(row, "entry_type")?,
            order_id: order,
            step_key: get(row, "step_key")?,
            fee_name: get(row, "fee_name")?,
            cash_amount: dialect.get_decimal(row, "cash_amount")?,
            blocked_amount: dialect.get_decimal(row, "blocked_amount")?,
            settled_amount: dialect.get_decimal(row, "settled_amount")?,
            ticker,
            quantity: dialect.get_decimal(row, "quantity")?,
            blocked_quantity: dialect.get_decimal(row, "blocked_quantity")?,
            balance_after: Money::from_stored(dialect.get_decimal(row, "balance_after")?),
            blocked_balance_after: Money::from_stored(
                dialect.get_decimal(row, "blocked_balance_after")?,
            ),
            settled_balance_after: dialect.get_decimal(row, "settled_balance_after")?,
            occurred_at: dialect.get_time(row, "occurred_at")?,
        },
    })
}

/// Bind values of `entry`, in [`LEDGER_COLUMNS`] order.
pub(crate) fn ledger_values(dialect: Dialect, entry: &LedgerEntry) -> Vec<Value> {
    vec![
        Value::from(entry.user_id.as_str()),
        Value::from(entry.entry_type.as_str()),
        Value::BigInt(entry.order_id.map(OrderId::get)),
        Value::from(entry.step_key.as_str()),
        Value::String(entry.fee_name.as_ref().map(|name| Box::new(name.clone()))),
        dialect.decimal(entry.cash_amount),
        dialect.decimal(entry.blocked_amount),
        dialect.decimal(entry.settled_amount),
        Value::String(
            entry
                .ticker
                .as_ref()
                .map(|ticker| Box::new(ticker.as_str().to_owned())),
        ),
        dialect.decimal(entry.quantity),
        dialect.decimal(entry.blocked_quantity),
        dialect.decimal(entry.balance_after.value()),
        dialect.decimal(entry.blocked_balance_after.value()),
        dialect.decimal(entry.settled_balance_after),
        dialect.time(entry.occurred_at),
    ]
}

/// An idempotency row.
pub(crate) fn idempotency(
    dialect: Dialect,
    row: &QueryResult,
) -> Result<IdempotencyRecord, StoreError> {
    let user = user_id(row, "user_id")?;
    Ok(IdempotencyRecord {
        user_id: user.clone(),
        key: get(row, "idempotency_key")?,
        fingerprint: get(row, "fingerprint")?,
        account: Account {
            user_id: user,
            currency: currency(row, "currency")?,
            balance: Money::from_stored(dialect.get_decimal(row, "balance")?),
            blocked_balance: Money::from_stored(dialect.get_decimal(row, "blocked_balance")?),
            settled_balance: dialect.get_decimal(row, "settled_balance")?,
            version: get(row, "account_version")?,
            created_at: dialect.get_time(row, "account_created_at")?,
            updated_at: dialect.get_time(row, "account_updated_at")?,
        },
        created_at: dialect.get_time(row, "created_at")?,
    })
}

/// Bind values of `record`, in [`IDEMPOTENCY_COLUMNS`] order.
pub(crate) fn idempotency_values(dialect: Dialect, record: &IdempotencyRecord) -> Vec<Value> {
    vec![
        Value::from(record.user_id.as_str()),
        Value::from(record.key.as_str()),
        Value::from(record.fingerprint.as_str()),
        Value::from(record.account.currency.code()),
        dialect.decimal(record.account.balance.value()),
        dialect.decimal(record.account.blocked_balance.value()),
        dialect.decimal(record.account.settled_balance),
        Value::from(record.account.version),
        dialect.time(record.account.created_at),
        dialect.time(record.account.updated_at),
        dialect.time(record.created_at),
    ]
}

/// Columns of `dead_letter_verdicts`, in the order of [`verdict_values`].
pub(crate) const VERDICT_COLUMNS: &[&str] =
    &["delivery", "user_id", "reason", "detail", "decided_at"];

/// A dead-letter verdict row.
pub(crate) fn verdict(dialect: Dialect, row: &QueryResult) -> Result<Verdict, StoreError> {
    let reason: DeadLetterReason = parse_name(row, "reason")?;
    Ok(Verdict {
        delivery: get(row, "delivery")?,
        user_id: user_id(row, "user_id")?,
        rejection: Rejection::new(reason, get::<String>(row, "detail")?),
        decided_at: dialect.get_time(row, "decided_at")?,
    })
}

/// Bind values of `verdict`, in [`VERDICT_COLUMNS`] order.
pub(crate) fn verdict_values(dialect: Dialect, verdict: &Verdict) -> Vec<Value> {
    vec![
        Value::from(verdict.delivery.as_str()),
        Value::from(verdict.user_id.as_str()),
        Value::from(verdict.rejection.reason.as_str()),
        Value::from(verdict.rejection.detail.as_str()),
        dialect.time(verdict.decided_at),
    ]
}

/// A last-trade row.
pub(crate) fn last_trade(dialect: Dialect, row: &QueryResult) -> Result<LastTrade, StoreError> {
    Ok(LastTrade {
        ticker: ticker(row, "ticker")?,
        price: Price::from_stored(dialect.get_decimal(row, "price")?),
        traded_at: dialect.get_time(row, "traded_at")?,
    })
}
