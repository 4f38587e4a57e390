//! The project's own fixture `tests/fixtures/b3-week/`: a week of the Order API's bytes under
//! B3's fees and D+2 on B3's calendar, replayed step by step, every balance checked against
//! the numbers `week.json` and its README give.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use common::*;
use serde_json::Value;
use wallet_domain::unit_of_work::Snapshot;
use wallet_domain::{
    CashError, Currency, EntryType, EventOutcome, OrderEvent, SettlementCalendar, WalletBook,
};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture() -> PathBuf {
    repository().join("tests/fixtures/b3-week")
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
}

fn check(book: &WalletBook, name: &str, expect: &Value, step: &Value) {
    let account = book.account(&user(name)).unwrap();
    let actual = [
        ("balance", account.balance.value()),
        ("blocked", account.blocked_balance.value()),
        ("settled", account.settled_balance),
        ("withdrawable", account.withdrawable_balance().value()),
    ];
    for (field, value) in actual {
        assert_eq!(value, dec(text(&expect[field])), "{field} after {step}");
    }
    let position = book.position(&user(name), &ticker("PETR4"));
    if let Some(average) = expect.get("average_price") {
        assert_eq!(position.unwrap().average_price.value(), dec(text(average)));
    }
    if let Some(pnl) = expect.get("realized_pnl") {
        assert_eq!(position.unwrap().realized_pnl, dec(text(pnl)));
    }
}

/// The FEE entries booked since `from`, as `NAME amount`.
fn fees_since(book: &WalletBook, from: usize) -> Vec<String> {
    book.ledger()[from..]
        .iter()
        .filter(|entry| entry.entry_type == EntryType::Fee)
        .map(|entry| format!("{} {}", entry.fee_name.clone().unwrap(), entry.cash_amount))
        .collect()
}

fn settle_due(book: &mut WalletBook, name: &str, now: DateTime<Utc>) -> usize {
    let today = SettlementCalendar::trade_date(now);
    let due: Vec<_> = book
        .open_obligations(&user(name))
        .filter(|obligation| obligation.due_date <= today)
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
fn the_b3_week_fixture_ends_with_its_documented_numbers() {
    let script: Value =
        serde_json::from_slice(&std::fs::read(fixture().join("week.json")).unwrap()).unwrap();
    let name = text(&script["user"]);
    let holidays =
        std::fs::read_to_string(repository().join(text(&script["holiday_file"]))).unwrap();
    let calendar = SettlementCalendar::new(
        u32::try_from(script["cycle_days"].as_u64().unwrap()).unwrap(),
        SettlementCalendar::parse_holidays(&holidays).unwrap(),
    )
    .unwrap();
    let mut book = WalletBook::new(Snapshot::default(), Currency::BRL)
        .with_fees(Arc::new(b3_schedule()))
        .with_settlement(Arc::new(calendar));
    let steps = script["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 13);
    for step in steps {
        let now = DateTime::parse_from_rfc3339(text(&step["at"]))
            .unwrap()
            .with_timezone(&Utc);
        let booked = book.ledger().len();
        if let Some(amount) = step.get("deposit") {
            book.deposit(&cash(name, text(amount)), now).unwrap();
        } else if let Some(file) = step.get("event") {
            let bytes = std::fs::read(fixture().join("events").join(text(file))).unwrap();
            let event = OrderEvent::parse(&bytes).unwrap();
            assert_eq!(
                book.apply_order_event(&event, now),
                EventOutcome::Applied,
                "{file}"
            );
        } else if let Some(count) = step.get("settle") {
            let settled = settle_due(&mut book, name, now);
            assert_eq!(settled as u64, count.as_u64().unwrap(), "{step}");
        } else if let Some(amount) = step.get("withdraw") {
            let outcome = book.withdraw(&cash(name, text(amount)), now);
            match (step.get("refused").map(text), outcome) {
                (None, Ok(_)) => {}
                (
                    Some("FUNDS_NOT_SETTLED"),
                    Err(CashError::NotYetSettled {
                        withdrawable_on, ..
                    }),
                ) => {
                    let on = withdrawable_on.map(|date| date.to_string());
                    assert_eq!(on.as_deref(), step["withdrawable_on"].as_str(), "{step}");
                }
                (Some("INSUFFICIENT_FUNDS"), Err(CashError::InsufficientFunds { .. })) => {}
                (expected, outcome) => panic!("{step}: expected {expected:?}, got {outcome:?}"),
            }
        }
        if let Some(expect) = step.get("expect") {
            check(&book, name, expect, step);
            if let Some(fees) = expect.get("fees") {
                let expected: Vec<String> = fees
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|fee| text(fee).to_owned())
                    .collect();
                assert_eq!(fees_since(&book, booked), expected, "{step}");
            }
        }
    }
    let settled: rust_decimal::Decimal =
        book.ledger().iter().map(|entry| entry.settled_amount).sum();
    assert_eq!(settled, dec("37.85"), "the ledger's settled effects add up");
}
