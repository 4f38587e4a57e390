//! A D+2 week on B3 with a holiday (Tiradentes, Wednesday 21 April 2027), worked out by hand:
//! buying power from a sale at once, withdrawable cash only once it settles, the date a refused
//! withdrawal gives, and the settlement runs that move the settled balance.

mod common;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use common::*;
use rust_decimal::Decimal;
use wallet_domain::unit_of_work::Snapshot;
use wallet_domain::{
    CashError, Currency, EntryType, EventOutcome, SettlementCalendar, WalletBook, WalletEventType,
};

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn settled(book: &WalletBook) -> (Decimal, Decimal, Decimal) {
    let account = book.account(&user("ana")).unwrap();
    (
        account.balance.value(),
        account.settled_balance,
        account.withdrawable_balance().value(),
    )
}

/// What the settlement job does on the morning of `day`: settles what is due by then.
fn settlement_run(book: &mut WalletBook, day: &str) -> usize {
    let now = at(&format!("{day}T03:00:00Z"));
    let due: Vec<_> = book
        .open_obligations(&user("ana"))
        .filter(|obligation| obligation.due_date <= SettlementCalendar::trade_date(now))
        .cloned()
        .collect();
    for obligation in &due {
        assert_eq!(
            book.settle_obligation(obligation, now),
            EventOutcome::Applied
        );
    }
    due.len()
}

#[test]
fn a_d_plus_two_week_with_a_holiday() {
    let holidays = SettlementCalendar::parse_holidays("2027-04-21 # Tiradentes").unwrap();
    let calendar = SettlementCalendar::new(2, holidays).unwrap();
    let mut book =
        WalletBook::new(Snapshot::default(), Currency::BRL).with_settlement(Arc::new(calendar));
    book.deposit(&cash("ana", "1000.00"), at("2027-04-19T12:00:00Z"))
        .unwrap();

    // Monday: buy 10 at 50.00, paid on Thursday (D+2 over the holiday).
    let monday = at("2027-04-19T17:00:00Z");
    book.apply_order_event(&pending(1, "ana", "BUY", "10", "50.00"), monday);
    book.apply_order_event(&filled(1, "ana", "BUY", "10", "50.00", "50.00"), monday);
    assert_eq!(
        settled(&book),
        (dec("500.00"), dec("1000.00"), dec("500.00"))
    );

    // Tuesday: sell them at 60.00. Buying power at once; the cash settles on Friday.
    let tuesday = at("2027-04-20T17:00:00Z");
    book.apply_order_event(&pending(2, "ana", "SELL", "10", "60.00"), tuesday);
    book.apply_order_event(&filled(2, "ana", "SELL", "10", "60.00", "60.00"), tuesday);
    assert_eq!(
        settled(&book),
        (dec("1100.00"), dec("1000.00"), dec("1000.00"))
    );
    let dues: Vec<(NaiveDate, Decimal)> = book
        .open_obligations(&user("ana"))
        .map(|obligation| (obligation.due_date, obligation.cash_amount))
        .collect();
    assert_eq!(
        dues,
        [
            (date("2027-04-22"), dec("-500.00")),
            (date("2027-04-23"), dec("600.00"))
        ]
    );

    // 1,050.00 is available but not withdrawable: on Thursday only 500.00 would be, on Friday
    // 1,100.00.
    let refused = book.withdraw(&cash("ana", "1050.00"), tuesday).unwrap_err();
    assert_eq!(
        refused,
        CashError::NotYetSettled {
            withdrawable: wallet_domain::Money::from_stored(dec("1000.00")),
            requested: wallet_domain::Money::from_stored(dec("1050.00")),
            withdrawable_on: Some(date("2027-04-23")),
        }
    );
    assert!(matches!(
        book.withdraw(&cash("ana", "1100.01"), tuesday),
        Err(CashError::InsufficientFunds { .. })
    ));

    // Wednesday is a holiday; Thursday morning the purchase is paid.
    assert_eq!(settlement_run(&mut book, "2027-04-21"), 0);
    assert_eq!(settlement_run(&mut book, "2027-04-22"), 1);
    assert_eq!(
        settled(&book),
        (dec("1100.00"), dec("500.00"), dec("500.00"))
    );
    // Friday morning the sale's cash arrives, and all of it can leave.
    assert_eq!(settlement_run(&mut book, "2027-04-23"), 1);
    assert_eq!(
        settled(&book),
        (dec("1100.00"), dec("1100.00"), dec("1100.00"))
    );
    book.withdraw(&cash("ana", "1050.00"), at("2027-04-23T13:00:00Z"))
        .unwrap();
    assert_eq!(settled(&book), (dec("50.00"), dec("50.00"), dec("50.00")));

    let settlements: Vec<Decimal> = book
        .ledger()
        .iter()
        .filter(|entry| entry.entry_type == EntryType::CashSettlement)
        .map(|entry| entry.settled_amount)
        .collect();
    assert_eq!(settlements, [dec("-500.00"), dec("600.00")]);
    let settled_sum: Decimal = book.ledger().iter().map(|entry| entry.settled_amount).sum();
    assert_eq!(settled_sum, dec("50.00"));
    let announced = book
        .outbox()
        .iter()
        .filter(|event| event.event_type == WalletEventType::CashSettled)
        .map(|event| event.reason.clone().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(announced, ["2027-04-22", "2027-04-23"]);
}

#[test]
fn with_a_cycle_of_zero_every_fill_settles_at_once() {
    let mut book = book_with_cash("ana", "1000.00");
    book.apply_order_event(&filled(1, "ana", "BUY", "10", "50.00", "50.00"), now());
    assert_eq!(
        settled(&book),
        (dec("500.00"), dec("500.00"), dec("500.00"))
    );
    assert_eq!(book.open_obligations(&user("ana")).count(), 0);
}
