//! Exact decimals on both backends (SPEC §3 "Amounts"): adversarial amounts and quantities
//! come back exactly as written, and the database's sums (SQL on MySQL, the store's own on
//! SQLite) are exact to the last of eight fractional digits.

use chrono::Duration;
use rust_decimal::Decimal;
use wallet_domain::ports::{LedgerAudit, WalletReader, WalletStore};
use wallet_domain::unit_of_work::ChangeSet;
use wallet_domain::{
    Account, Currency, EntryType, LedgerEntry, Money, Position, Price, Quantity, StoredLedgerEntry,
};
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{at, decimal, ticker, user};

/// Cash deltas whose float sums are famously wrong (0.1 + 0.2), the largest balance a
/// two-digit currency can reach below 10^15 minus a cent, and a cent.
const CASH: &[&str] = &[
    "0.01",
    "0.1",
    "0.2",
    "-0.3",
    "99999999999999.99",
    "0.01",
    "-0.02",
];
/// Quantities with eight fractional digits that add up to a whole number.
const QUANTITIES: &[&str] = &[
    "0.12345678",
    "0.87654322",
    "12345678.00000001",
    "-0.00000001",
];

async fn adversarial_amounts_round_trip_and_sum_exactly(database: &TestDatabase) {
    let store = database.store();
    let owner = user("decimal-investor");
    let start = at("2026-05-01T10:00:00Z");
    let mut balance = Decimal::ZERO;
    let mut held = Decimal::ZERO;
    let mut entries = Vec::new();
    for (index, (cash, quantity)) in CASH
        .iter()
        .zip(QUANTITIES.iter().chain(std::iter::repeat(&"0")))
        .enumerate()
    {
        balance += decimal(cash);
        held += decimal(quantity);
        entries.push(LedgerEntry {
            user_id: owner.clone(),
            entry_type: EntryType::Deposit,
            order_id: None,
            step_key: format!("decimal-test:{index}"),
            fee_name: (index % 2 == 0).then(|| format!("FEE_{index}")),
            cash_amount: decimal(cash),
            blocked_amount: Decimal::ZERO,
            settled_amount: -decimal(cash),
            ticker: Some(ticker("PETR4")),
            quantity: decimal(quantity),
            blocked_quantity: Decimal::ZERO,
            balance_after: Money::from_stored(balance),
            blocked_balance_after: Money::ZERO,
            settled_balance_after: -balance,
            occurred_at: start + Duration::seconds(index as i64),
        });
    }
    assert_eq!(
        balance,
        decimal("99999999999999.99"),
        "the exact sum of CASH"
    );
    assert_eq!(held, decimal("12345679"), "the exact sum of QUANTITIES");
    let account = Account {
        user_id: owner.clone(),
        currency: Currency::BRL,
        balance: Money::from_stored(balance),
        blocked_balance: Money::from_stored(decimal("0.01")),
        // Negative, as it may be while a purchase waits for the proceeds of a sale.
        settled_balance: -balance,
        version: 0,
        created_at: start,
        updated_at: start,
    };
    let position = Position {
        user_id: owner.clone(),
        ticker: ticker("PETR4"),
        quantity: Quantity::from_stored(held),
        blocked_quantity: Quantity::from_stored(decimal("0.00000001")),
        average_price: Price::from_stored(decimal("38.12345679")),
        realized_pnl: decimal("-0.03"),
        version: 0,
        updated_at: start,
    };
    store
        .commit(ChangeSet {
            accounts: vec![account.clone()],
            positions: vec![position.clone()],
            ledger: entries.clone(),
            ..ChangeSet::default()
        })
        .await
        .unwrap();

    let stored = store.account(&owner).await.unwrap().unwrap();
    assert_eq!(stored.balance.value(), decimal("99999999999999.99"));
    assert_eq!(stored.blocked_balance.value(), decimal("0.01"));
    assert_eq!(stored.settled_balance, -decimal("99999999999999.99"));
    let positions = store.positions(&owner).await.unwrap();
    assert_eq!(positions[0].quantity.value(), decimal("12345679"));
    assert_eq!(positions[0].blocked_quantity.value(), decimal("0.00000001"));
    assert_eq!(positions[0].average_price.value(), decimal("38.12345679"));
    assert_eq!(positions[0].realized_pnl, decimal("-0.03"));
    let mut statement: Vec<StoredLedgerEntry> = store.statement(&owner, None, 100).await.unwrap();
    statement.reverse();
    let read: Vec<LedgerEntry> = statement.into_iter().map(|stored| stored.entry).collect();
    assert_eq!(read, entries);

    // The audit sums the ledger in the database (MySQL) or in the store (SQLite): only the
    // blocked figures differ, because no hold or ledger entry blocks anything, and the cash not
    // settled, because no obligation owes it; each by exactly the stored amounts.
    let findings = store.audit(Some(owner.clone())).await.unwrap();
    let subjects: Vec<(&str, Decimal, Decimal)> = findings
        .iter()
        .map(|finding| (finding.subject.as_str(), finding.stored, finding.expected))
        .collect();
    assert_eq!(
        subjects,
        vec![
            ("blocked_balance", decimal("0.01"), Decimal::ZERO),
            ("blocked_balance (ledger)", decimal("0.01"), Decimal::ZERO),
            (
                "blocked_quantity PETR4",
                decimal("0.00000001"),
                Decimal::ZERO
            ),
            (
                "blocked_quantity PETR4 (ledger)",
                decimal("0.00000001"),
                Decimal::ZERO
            ),
            (
                "unsettled cash",
                decimal("199999999999999.98"),
                Decimal::ZERO
            ),
        ]
    );
}
on_both_backends!(adversarial_amounts_round_trip_and_sum_exactly);
