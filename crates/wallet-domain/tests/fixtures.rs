//! The worked story of `shared/fixtures/order-events/README.md`, read from those files, with the
//! exact numbers written there; and every malformed fixture rejected with a reason.

mod common;

use std::path::PathBuf;

use common::*;
use wallet_domain::{DeadLetterReason, EventOutcome, HoldStatus, OrderEvent, OrderStatus};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/order-events")
}

fn read(name: &str) -> Vec<u8> {
    let path = fixtures().join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn parse(name: &str) -> OrderEvent {
    OrderEvent::parse(&read(name)).unwrap_or_else(|rejection| panic!("{name}: {rejection}"))
}

#[test]
fn the_fixture_story_ends_with_the_documented_numbers() {
    let mut book = book_with_cash("investor-42", "10000.00");

    assert_eq!(
        book.apply_order_event(&parse("pending-buy.json"), now()),
        EventOutcome::Applied
    );
    let account = book.account(&user("investor-42")).unwrap();
    assert_eq!(account.blocked_balance.value(), dec("3855.00"));
    assert_eq!(account.available_balance().value(), dec("6145.00"));

    assert_eq!(
        book.apply_order_event(&parse("filled-buy.json"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "investor-42"), (dec("6160.00"), dec("0")));
    let position = book
        .position(&user("investor-42"), &ticker("PETR4"))
        .unwrap();
    assert_eq!(
        (position.quantity.value(), position.average_price.value()),
        (dec("100"), dec("38.40"))
    );

    assert_eq!(
        book.apply_order_event(&parse("rejected-buy.json"), now()),
        EventOutcome::Applied
    );
    assert_eq!(book.hold(order(1002)).unwrap().status, HoldStatus::Released);
    assert_eq!(balance(&book, "investor-42"), (dec("6160.00"), dec("0")));

    assert_eq!(
        book.apply_order_event(&parse("pending-sell.json"), now()),
        EventOutcome::Applied
    );
    assert_eq!(shares(&book, "investor-42"), (dec("100"), dec("40")));

    assert_eq!(
        book.apply_order_event(&parse("partially-filled-sell.json"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "investor-42"), (dec("7138.75"), dec("0")));

    assert_eq!(
        book.apply_order_event(&parse("filled-sell.json"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "investor-42"), (dec("7725.60"), dec("0")));
    let position = book
        .position(&user("investor-42"), &ticker("PETR4"))
        .unwrap();
    assert_eq!(position.quantity.value(), dec("60"));
    assert_eq!(position.blocked_quantity.value(), dec("0"));
    assert_eq!(position.average_price.value(), dec("38.40"));
    assert_eq!(position.realized_pnl, dec("29.60"));

    // Replaying the whole story changes nothing.
    let ledger_length = book.ledger().len();
    for name in [
        "pending-buy.json",
        "filled-buy.json",
        "rejected-buy.json",
        "pending-sell.json",
        "partially-filled-sell.json",
        "filled-sell.json",
    ] {
        assert_eq!(
            book.apply_order_event(&parse(name), now()),
            EventOutcome::Duplicate,
            "{name}"
        );
    }
    assert_eq!(book.ledger().len(), ledger_length);
}

#[test]
fn the_valid_variants_parse() {
    let strings = parse("decimals-as-strings.json");
    assert_eq!(strings.quantity.value(), dec("10"));
    assert_eq!(strings.limit_price().unwrap().value(), dec("32.50"));
    let array = parse("timestamp-as-array.json");
    assert_eq!(
        array.event_timestamp.unwrap().to_string(),
        "2026-05-01 10:15:30.123"
    );
    assert_eq!(
        parse("ignored-status-sent.json").status,
        OrderStatus::Ignored("SENT".into())
    );
}

#[test]
fn every_malformed_fixture_is_rejected_with_a_reason() {
    let expected = [
        (
            "filled-without-executed-price.json",
            DeadLetterReason::MissingExecutedPrice,
        ),
        ("missing-order-id.json", DeadLetterReason::MissingField),
        ("negative-quantity.json", DeadLetterReason::InvalidQuantity),
        ("not-utf8.bin", DeadLetterReason::InvalidEncoding),
        ("too-many-digits.json", DeadLetterReason::InvalidPrice),
        ("truncated.json", DeadLetterReason::InvalidJson),
        ("unknown-side.json", DeadLetterReason::InvalidSide),
    ];
    let on_disk = std::fs::read_dir(fixtures().join("malformed"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "README.md")
        .count();
    assert_eq!(
        on_disk,
        expected.len(),
        "a malformed fixture has no expectation here"
    );
    for (name, reason) in expected {
        let rejection = OrderEvent::parse(&read(&format!("malformed/{name}"))).unwrap_err();
        assert_eq!(rejection.reason, reason, "{name}: {rejection}");
        assert!(!rejection.detail.is_empty(), "{name} has no detail");
    }
}
