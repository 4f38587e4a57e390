//! The append-only ledger (SPEC §3 "Ledger"): one entry for every change of balance, blocked
//! balance, quantity or blocked quantity, written in the same transaction as the change.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::amount::Money;
use crate::ids::{OrderId, Ticker, UserId};
use crate::text_enum::text_enum;

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryType {
    /// Cash credited over HTTP.
    Deposit,
    /// Cash debited over HTTP.
    Withdrawal,
    /// Cash blocked by a BUY order.
    Reserve,
    /// Blocked cash released (unused by a fill, or the order ended).
    Refund,
    /// Cash paid and shares received by a BUY fill.
    Settlement,
    /// Shares delivered and cash received by a SELL fill.
    Sale,
    /// Shares blocked by a SELL order.
    AssetReserve,
    /// Blocked shares released.
    AssetRelease,
    /// What an account or position held when it was imported from the Java wallet (SPEC §10):
    /// its balance and blocked balance, or its quantity.
    Opening,
    /// A fee charged on a fill (brokerage, the exchange's rates); `fee_name` says which.
    Fee,
    /// A fill's cash settled on its settlement date: only the settled balance moves.
    CashSettlement,
    /// A cash dividend credited on its payment date (gross).
    Dividend,
    /// Interest on equity (JCP) credited on its payment date (gross).
    InterestOnEquity,
    /// Income tax withheld at source from interest on equity.
    TaxWithheld,
    /// Cash paid for the fraction of a share a reverse split or a bonus issue left.
    CashInLieu,
    /// Shares added by a split (quantity, blocked quantity).
    Split,
    /// Shares removed by a reverse split.
    ReverseSplit,
    /// Shares added by a bonus issue.
    BonusShares,
}

text_enum!(EntryType {
    Deposit => "DEPOSIT",
    Withdrawal => "WITHDRAWAL",
    Reserve => "RESERVE",
    Refund => "REFUND",
    Settlement => "SETTLEMENT",
    Sale => "SALE",
    AssetReserve => "ASSET_RESERVE",
    AssetRelease => "ASSET_RELEASE",
    Opening => "OPENING",
    Fee => "FEE",
    CashSettlement => "CASH_SETTLEMENT",
    Dividend => "DIVIDEND",
    InterestOnEquity => "INTEREST_ON_EQUITY",
    TaxWithheld => "TAX_WITHHELD",
    CashInLieu => "CASH_IN_LIEU",
    Split => "SPLIT",
    ReverseSplit => "REVERSE_SPLIT",
    BonusShares => "BONUS_SHARES",
});

/// The kind of a statement line as the broker's Java clients name it (the frontend's and the
/// report service's `transactionType`): a sale is a `SETTLEMENT` there, and the share-side
/// entries, where no cash moves, keep their own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionType {
    /// Cash blocked by a BUY order; the amount is what was reserved.
    Reserve,
    /// A fill: the cost paid (negative) or the proceeds received (positive).
    Settlement,
    /// Blocked cash released; the amount is what was released.
    Refund,
    /// Cash credited.
    Deposit,
    /// Cash debited (negative).
    Withdrawal,
    /// Shares blocked by a SELL order.
    AssetReserve,
    /// Blocked shares released.
    AssetRelease,
    /// A reservation was refused: nothing moved.
    Rejected,
    /// The balance an account was imported with.
    Opening,
    /// A fee charged on a fill (negative).
    Fee,
    /// A fill's cash settled: the amount is the change of the settled balance.
    CashSettlement,
    /// A cash dividend credited.
    Dividend,
    /// Interest on equity credited (gross).
    InterestOnEquity,
    /// Income tax withheld from interest on equity (negative).
    TaxWithheld,
    /// Cash paid for a fraction of a share.
    CashInLieu,
    /// Shares added by a split.
    Split,
    /// Shares removed by a reverse split.
    ReverseSplit,
    /// Shares added by a bonus issue.
    BonusShares,
}

text_enum!(TransactionType {
    Reserve => "RESERVE",
    Settlement => "SETTLEMENT",
    Refund => "REFUND",
    Deposit => "DEPOSIT",
    Withdrawal => "WITHDRAWAL",
    AssetReserve => "ASSET_RESERVE",
    AssetRelease => "ASSET_RELEASE",
    Rejected => "REJECTED",
    Opening => "OPENING",
    Fee => "FEE",
    CashSettlement => "CASH_SETTLEMENT",
    Dividend => "DIVIDEND",
    InterestOnEquity => "INTEREST_ON_EQUITY",
    TaxWithheld => "TAX_WITHHELD",
    CashInLieu => "CASH_IN_LIEU",
    Split => "SPLIT",
    ReverseSplit => "REVERSE_SPLIT",
    BonusShares => "BONUS_SHARES",
});

/// An entry as a statement shows it, with the Java wallet's meaning of `amount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementLine {
    /// The Java clients' name of the entry.
    pub transaction_type: TransactionType,
    /// RESERVE: the amount reserved; REFUND: the amount released; SETTLEMENT, DEPOSIT,
    /// WITHDRAWAL, FEE: the signed change of the balance; `None` where no cash moves.
    pub amount: Option<Decimal>,
    /// The exact signed change of the balance.
    pub cash_amount: Decimal,
}

impl StatementLine {
    /// The line of `entry`.
    #[must_use]
    pub fn of(entry: &LedgerEntry) -> StatementLine {
        let (transaction_type, amount) = match entry.entry_type {
            EntryType::Reserve => (TransactionType::Reserve, Some(entry.blocked_amount)),
            EntryType::Refund => (TransactionType::Refund, Some(-entry.blocked_amount)),
            EntryType::Settlement | EntryType::Sale => {
                (TransactionType::Settlement, Some(entry.cash_amount))
            }
            EntryType::Deposit => (TransactionType::Deposit, Some(entry.cash_amount)),
            EntryType::Withdrawal => (TransactionType::Withdrawal, Some(entry.cash_amount)),
            EntryType::AssetReserve => (TransactionType::AssetReserve, None),
            EntryType::AssetRelease => (TransactionType::AssetRelease, None),
            EntryType::Opening => (TransactionType::Opening, Some(entry.cash_amount)),
            EntryType::Fee => (TransactionType::Fee, Some(entry.cash_amount)),
            EntryType::CashSettlement => {
                (TransactionType::CashSettlement, Some(entry.settled_amount))
            }
            EntryType::Dividend => (TransactionType::Dividend, Some(entry.cash_amount)),
            EntryType::InterestOnEquity => {
                (TransactionType::InterestOnEquity, Some(entry.cash_amount))
            }
            EntryType::TaxWithheld => (TransactionType::TaxWithheld, Some(entry.cash_amount)),
            EntryType::CashInLieu => (TransactionType::CashInLieu, Some(entry.cash_amount)),
            EntryType::Split => (TransactionType::Split, None),
            EntryType::ReverseSplit => (TransactionType::ReverseSplit, None),
            EntryType::BonusShares => (TransactionType::BonusShares, None),
        };
        StatementLine {
            transaction_type,
            amount,
            cash_amount: entry.cash_amount,
        }
    }

    /// The line of a step that moved nothing: a refused reservation, or a release of a hold
    /// that had nothing left to release.
    #[must_use]
    pub fn empty(transaction_type: TransactionType) -> StatementLine {
        let amount = match transaction_type {
            TransactionType::AssetReserve
            | TransactionType::AssetRelease
            | TransactionType::Rejected
            | TransactionType::Split
            | TransactionType::ReverseSplit
            | TransactionType::BonusShares => None,
            _ => Some(Decimal::ZERO),
        };
        StatementLine {
            transaction_type,
            amount,
            cash_amount: Decimal::ZERO,
        }
    }
}

/// One ledger line. Signed deltas say what changed; the `*_after` fields say where the account
/// stood after it, which is what a statement and a balance-at-a-time query read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The account the entry changed.
    pub user_id: UserId,
    /// What happened, which decides the `transactionType` the HTTP API shows.
    pub entry_type: EntryType,
    /// The order, for every entry but deposits and withdrawals.
    pub order_id: Option<OrderId>,
    /// Unique name of the step that wrote the entry, e.g. `order:1001:SETTLEMENT:100`: the
    /// store refuses a second entry for the same step, so no step is ever booked twice.
    pub step_key: String,
    /// The fee a [`EntryType::Fee`] entry charged.
    pub fee_name: Option<String>,
    /// Signed change of `balance`.
    pub cash_amount: Decimal,
    /// Signed change of `blocked_balance`.
    pub blocked_amount: Decimal,
    /// Signed change of `settled_balance`: a cash movement that settles at once, or a
    /// settlement obligation's cash on its date.
    pub settled_amount: Decimal,
    /// Instrument, for entries that move shares.
    pub ticker: Option<Ticker>,
    /// Signed change of the position's quantity.
    pub quantity: Decimal,
    /// Signed change of the position's blocked quantity.
    pub blocked_quantity: Decimal,
    /// Account balance after the entry.
    pub balance_after: Money,
    /// Account blocked balance after the entry.
    pub blocked_balance_after: Money,
    /// Account settled balance after the entry.
    pub settled_balance_after: Decimal,
    /// When the wallet booked it.
    pub occurred_at: DateTime<Utc>,
}

/// A stored ledger entry with its position in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLedgerEntry {
    /// Monotonic id assigned by the store; statements page by it.
    pub id: i64,
    /// The entry.
    pub entry: LedgerEntry,
}
