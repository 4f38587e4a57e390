//! Fees on fills, worked out by hand with B3's equity rates and a broker's fixed brokerage: the
//! reservation, partial fills, the average price with fees in the cost, the realized P&L with
//! fees off the proceeds, the ledger and the wallet events.

mod common;

use std::sync::Arc;

use common::*;
use wallet_domain::unit_of_work::Snapshot;
use wallet_domain::{Currency, EntryType, EventOutcome, WalletBook, WalletEventType};

fn book_with_fees() -> WalletBook {
    let mut book =
        WalletBook::new(Snapshot::default(), Currency::BRL).with_fees(Arc::new(b3_schedule()));
    book.deposit(&cash("ana", "10000.00"), now()).unwrap();
    book
}

#[test]
fn a_purchase_in_two_fills_and_its_sale_with_b3_schedule() {
    let mut book = book_with_fees();

    // 100 × 38.55 = 3,855.00 and its most fees: 4.90 + 0.19 + 0.96.
    let outcome = book.apply_order_event(&pending(1, "ana", "BUY", "100", "38.55"), now());
    assert_eq!(outcome, EventOutcome::Applied);
    assert_eq!(balance(&book, "ana"), (dec("10000.00"), dec("3861.05")));

    // 40 × 38.50 = 1,540.00; fees 4.90 + 0.077 → 0.08 + 0.385 → 0.38 (half-even).
    book.apply_order_event(&partial(1, "ana", "BUY", "100", "40", "38.50"), now());
    assert_eq!(balance(&book, "ana"), (dec("8454.64"), dec("2315.69")));

    // Cumulative 3,850.00: trading 0.1925 → 0.19 (0.11 more), settlement 0.9625 → 0.96 (0.58
    // more), no second brokerage; the 5.00 left of the reservation is released.
    book.apply_order_event(&filled(1, "ana", "BUY", "100", "38.55", "38.50"), now());
    assert_eq!(balance(&book, "ana"), (dec("6143.95"), dec("0.00")));
    let position = book.position(&user("ana"), &ticker("PETR4")).unwrap();
    assert_eq!(position.quantity.value(), dec("100"));
    // (3,850.00 + 6.05) / 100: the fees are part of the cost.
    assert_eq!(position.average_price.value(), dec("38.5605"));
    let hold = book.hold(order(1)).unwrap();
    assert_eq!(
        (hold.filled_amount.value(), hold.fees_amount.value()),
        (dec("3850.00"), dec("6.05"))
    );

    // 100 × 40.00 = 4,000.00 less 4.90 + 0.20 + 1.00.
    book.apply_order_event(&pending(2, "ana", "SELL", "100", "40.00"), now());
    book.apply_order_event(&filled(2, "ana", "SELL", "100", "40.00", "40.00"), now());
    assert_eq!(balance(&book, "ana"), (dec("10137.85"), dec("0.00")));
    let position = book.position(&user("ana"), &ticker("PETR4")).unwrap();
    // 4,000.00 − 6.10 − 3,856.05: what the round trip made, to the cent.
    assert_eq!(position.realized_pnl, dec("137.85"));

    let fees: Vec<(String, String)> = book
        .ledger()
        .iter()
        .filter(|entry| entry.entry_type == EntryType::Fee)
        .map(|entry| {
            (
                entry.fee_name.clone().unwrap(),
                entry.cash_amount.to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("BROKERAGE", "-4.90"),
        ("B3_TRADING", "-0.08"),
        ("B3_SETTLEMENT", "-0.38"),
        ("B3_TRADING", "-0.11"),
        ("B3_SETTLEMENT", "-0.58"),
        ("BROKERAGE", "-4.90"),
        ("B3_TRADING", "-0.20"),
        ("B3_SETTLEMENT", "-1.00"),
    ]
    .iter()
    .map(|(name, amount)| ((*name).to_owned(), (*amount).to_owned()))
    .collect();
    assert_eq!(fees, expected);
    let ledger_total: rust_decimal::Decimal =
        book.ledger().iter().map(|entry| entry.cash_amount).sum();
    assert_eq!(
        ledger_total,
        dec("10137.85"),
        "the ledger adds up to the balance"
    );

    let announced: Vec<_> = book
        .outbox()
        .iter()
        .filter(|event| event.event_type == WalletEventType::FeeCharged)
        .collect();
    assert_eq!(announced.len(), 8);
    assert_eq!(announced[0].transaction_type.as_str(), "FEE");
    assert_eq!(announced[0].reason.as_deref(), Some("BROKERAGE"));
    assert_eq!(announced[0].amount, Some(dec("-4.90")));
}

#[test]
fn a_redelivered_fill_charges_no_fee_again() {
    let mut book = book_with_fees();
    book.apply_order_event(&pending(1, "ana", "BUY", "10", "10.00"), now());
    let fill = filled(1, "ana", "BUY", "10", "10.00", "10.00");
    assert_eq!(book.apply_order_event(&fill, now()), EventOutcome::Applied);
    let entries = book.ledger().len();
    assert_eq!(
        book.apply_order_event(&fill, now()),
        EventOutcome::Duplicate
    );
    assert_eq!(book.ledger().len(), entries);
    // 100.00 and 4.90 + 0.005 → 0.00 + 0.025 → 0.02.
    assert_eq!(balance(&book, "ana"), (dec("9895.08"), dec("0.00")));
}

#[test]
fn a_sale_whose_fees_nothing_covers_is_dead_lettered_and_changes_nothing() {
    // Shares bought before fees were charged: a position without cash.
    let mut free = book_with_cash("ana", "1.00");
    free.apply_order_event(&filled(1, "ana", "BUY", "1", "1.00", "1.00"), now());
    let changes = free.into_changes();
    let snapshot = Snapshot {
        accounts: changes.accounts,
        positions: changes.positions,
        ..Snapshot::default()
    };
    let mut book = WalletBook::new(snapshot, Currency::BRL).with_fees(Arc::new(b3_schedule()));
    // Proceeds 1.00 cannot pay the 4.90 brokerage.
    let outcome = book.apply_order_event(&filled(2, "ana", "SELL", "1", "1.00", "1.00"), now());
    assert!(
        matches!(&outcome, EventOutcome::DeadLetter(rejection) if rejection.reason.as_str() == "SETTLEMENT_NOT_COVERED"),
        "{outcome:?}"
    );
    assert_eq!(balance(&book, "ana"), (dec("0.00"), dec("0.00")));
    assert_eq!(shares(&book, "ana"), (dec("1"), dec("0")));
}
