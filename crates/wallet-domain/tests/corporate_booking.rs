//! What a corporate action books for one holder, worked out on a book: bonus shares keep an
//! open SELL order as it is and add their tax cost, a reverse split scales it down to whole
//! shares, and a JCP entitlement is paid once, gross and tax as two entries.

mod common;

use chrono::NaiveDate;
use common::*;
use wallet_domain::corporate_actions::{ActionRecord, CorporateAction, Entitlement};
use wallet_domain::ledger::EntryType;
use wallet_domain::{Currency, EventOutcome, Money, Quantity, WalletBook};

fn record(json: &str) -> ActionRecord {
    ActionRecord::received(CorporateAction::parse(json.as_bytes()).unwrap(), now())
}

/// ana holds 105 PETR4 at 20.00 and offers 15 of them at 30.00.
fn holder() -> WalletBook {
    let mut book = book_with_cash("ana", "5000.00");
    for event in [
        pending(1, "ana", "BUY", "105", "20.00"),
        filled(1, "ana", "BUY", "105", "20.00", "20.00"),
        pending(2, "ana", "SELL", "15", "30.00"),
    ] {
        assert_eq!(book.apply_order_event(&event, now()), EventOutcome::Applied);
    }
    book
}

#[test]
fn bonus_shares_add_their_cost_and_leave_the_open_order_alone() {
    let mut book = holder();
    let bonus = record(
        r#"{"id":"B1","type":"BONUS_SHARES","ticker":"PETR4","ratio":"10:1","costPerShare":"8.50",
            "effectiveDate":"2027-06-01","fractionPrice":"18.00","paymentDate":"2027-06-08"}"#,
    );
    let (delta, owed) = book
        .adjust_shares(&bonus, &user("ana"), now())
        .unwrap()
        .unwrap();
    // 10 new shares for 105 held, the half share paid at 18.00; (2,100.00 + 85.00) / 115.
    assert_eq!(delta, dec("10"));
    assert_eq!(shares(&book, "ana"), (dec("115"), dec("15")));
    let position = book.position(&user("ana"), &ticker("PETR4")).unwrap();
    assert_eq!(position.average_price.value(), dec("19"));
    let owed = owed.unwrap();
    assert_eq!(
        (owed.gross.value(), owed.payment_date),
        (dec("9.00"), NaiveDate::from_ymd_opt(2027, 6, 8).unwrap())
    );
    let hold = book.hold(order(2)).unwrap();
    assert_eq!(hold.reserved_quantity.value(), dec("15"));
    let entry = book.ledger().last().unwrap();
    assert_eq!(
        (entry.entry_type, entry.quantity, entry.blocked_quantity),
        (EntryType::BonusShares, dec("10"), dec("0"))
    );
}

#[test]
fn a_reverse_split_scales_the_open_order_down_to_whole_shares() {
    let mut book = holder();
    let reverse = record(
        r#"{"id":"R1","type":"REVERSE_SPLIT","ticker":"PETR4","ratio":"10:1","effectiveDate":"2027-06-01",
            "fractionPrice":"19.87","paymentDate":"2027-06-10"}"#,
    );
    let (delta, owed) = book
        .adjust_shares(&reverse, &user("ana"), now())
        .unwrap()
        .unwrap();
    // 105 → 10.5: 10 shares and 0.5 × 19.87 = 9.935 → 9.94; the order's 15 → 1.5 → 1 at 300.00.
    assert_eq!(delta, dec("-95"));
    assert_eq!(shares(&book, "ana"), (dec("10"), dec("1")));
    assert_eq!(owed.unwrap().gross.value(), dec("9.94"));
    let hold = book.hold(order(2)).unwrap();
    assert_eq!(
        (
            hold.quantity.value(),
            hold.reserved_quantity.value(),
            hold.limit_price.map(|price| price.value())
        ),
        (dec("1"), dec("1"), Some(dec("300")))
    );
    // The blocked shares moved with the order, in the same entry.
    assert_eq!(book.ledger().last().unwrap().blocked_quantity, dec("-14"));
}

#[test]
fn a_jcp_is_paid_gross_less_tax_once() {
    let mut book = holder();
    let jcp = record(
        r#"{"id":"J1","type":"INTEREST_ON_EQUITY","ticker":"PETR4","amountPerShare":"0.8125",
            "recordDate":"2027-04-30","paymentDate":"2027-05-20"}"#,
    );
    let entitlement = Entitlement {
        action_id: "J1".to_owned(),
        user_id: user("ana"),
        quantity: Quantity::from_stored(dec("350")),
        gross: Money::parse_amount("gross", "284.38", Currency::BRL).unwrap(),
        withheld: Money::parse_amount("withheld", "42.66", Currency::BRL).unwrap(),
        payment_date: NaiveDate::from_ymd_opt(2027, 5, 20).unwrap(),
        paid_at: None,
    };
    let (before, _) = balance(&book, "ana");
    assert_eq!(
        book.pay_entitlement(&jcp, &entitlement, now()).unwrap(),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "ana").0 - before, dec("241.72"));
    let booked: Vec<_> = book
        .ledger()
        .iter()
        .rev()
        .take(2)
        .map(|entry| (entry.entry_type, entry.cash_amount, entry.settled_amount))
        .collect();
    assert_eq!(
        booked,
        [
            (EntryType::TaxWithheld, dec("-42.66"), dec("-42.66")),
            (EntryType::InterestOnEquity, dec("284.38"), dec("284.38"))
        ]
    );
    let paid = Entitlement {
        paid_at: Some(now()),
        ..entitlement
    };
    assert_eq!(
        book.pay_entitlement(&jcp, &paid, now()).unwrap(),
        EventOutcome::Duplicate
    );
    assert_eq!(book.into_changes().paid_entitlements.len(), 1);
}

#[test]
fn a_reverse_split_releases_a_partly_filled_sell_instead_of_rescaling_its_fills() {
    let mut book = holder();
    let fill = partial(2, "ana", "SELL", "15", "5", "30.00");
    assert_eq!(book.apply_order_event(&fill, now()), EventOutcome::Applied);
    let reverse = record(
        r#"{"id":"R2","type":"REVERSE_SPLIT","ticker":"PETR4","ratio":"10:1","effectiveDate":"2027-06-01",
            "fractionPrice":"19.87","paymentDate":"2027-06-10"}"#,
    );
    book.adjust_shares(&reverse, &user("ana"), now())
        .unwrap()
        .unwrap();
    // 100 shares left → 10; the order's 10 still reserved are released, its 5 filled kept, so
    // a later fill's cumulative quantity (above 5) never repeats a booked step.
    assert_eq!(shares(&book, "ana"), (dec("10"), dec("0")));
    let hold = book.hold(order(2)).unwrap();
    assert_eq!(
        (
            hold.status.as_str(),
            hold.reserved_quantity.value(),
            hold.filled_quantity.value()
        ),
        ("RELEASED", dec("0"), dec("5"))
    );
    assert_eq!(book.ledger().last().unwrap().blocked_quantity, dec("-10"));
}

#[test]
fn a_book_without_one_of_the_sell_holds_says_so() {
    let book = holder();
    assert!(book.sell_holds_loaded(&user("ana"), &ticker("PETR4")));
    // The same rows loaded without the hold of the open SELL: its 15 shares are blocked by a
    // hold the book does not have, so a share action must not scale them.
    let changes = book.into_changes();
    let snapshot = wallet_domain::unit_of_work::Snapshot {
        accounts: changes.accounts,
        positions: changes.positions,
        ..Default::default()
    };
    let partial = WalletBook::new(snapshot, Currency::BRL);
    assert!(!partial.sell_holds_loaded(&user("ana"), &ticker("PETR4")));
}
