//! Helpers shared by the domain's integration tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use wallet_domain::unit_of_work::Snapshot;
use wallet_domain::{
    CashOperation, Currency, Fee, FeeSchedule, FeeSide, FeeTerms, Money, OrderEvent, OrderId,
    Ticker, UserId, WalletBook,
};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 13, 0, 0).unwrap()
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

pub fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

pub fn ticker(name: &str) -> Ticker {
    Ticker::parse(name).unwrap()
}

pub fn order(id: i64) -> OrderId {
    OrderId::new(id).unwrap()
}

pub fn cash(user_id: &str, amount: &str) -> CashOperation {
    CashOperation {
        user_id: user(user_id),
        amount: Money::parse_amount("amount", amount, Currency::BRL).unwrap(),
        idempotency_key: None,
        request_id: uuid::Uuid::new_v4(),
    }
}

/// A book in which `user_id` has deposited `amount`.
pub fn book_with_cash(user_id: &str, amount: &str) -> WalletBook {
    let mut book = WalletBook::new(Snapshot::default(), Currency::BRL);
    book.deposit(&cash(user_id, amount), now()).unwrap();
    book
}

/// An order event as the Order API writes it; `extra` holds the status-specific fields.
pub fn event(
    order_id: i64,
    user_id: &str,
    side: &str,
    status: &str,
    quantity: &str,
    extra: &str,
) -> OrderEvent {
    let json = format!(
        r#"{{"orderId":{order_id},"userId":"{user_id}","ticker":"PETR4","quantity":{quantity},"side":"{side}","status":"{status}"{extra}}}"#
    );
    OrderEvent::parse(json.as_bytes()).unwrap_or_else(|rejection| panic!("{json}: {rejection}"))
}

pub fn pending(
    order_id: i64,
    user_id: &str,
    side: &str,
    quantity: &str,
    price: &str,
) -> OrderEvent {
    event(
        order_id,
        user_id,
        side,
        "PENDING",
        quantity,
        &format!(r#","price":{price}"#),
    )
}

pub fn filled(
    order_id: i64,
    user_id: &str,
    side: &str,
    quantity: &str,
    price: &str,
    executed: &str,
) -> OrderEvent {
    event(
        order_id,
        user_id,
        side,
        "FILLED",
        quantity,
        &format!(r#","price":{price},"executedPrice":{executed}"#),
    )
}

pub fn partial(
    order_id: i64,
    user_id: &str,
    side: &str,
    quantity: &str,
    filled: &str,
    executed: &str,
) -> OrderEvent {
    event(
        order_id,
        user_id,
        side,
        "PARTIALLY_FILLED",
        quantity,
        &format!(r#","executedPrice":{executed},"filledQuantity":{filled}"#),
    )
}

pub fn ended(order_id: i64, user_id: &str, side: &str, status: &str, quantity: &str) -> OrderEvent {
    event(order_id, user_id, side, status, quantity, "")
}

pub fn balance(book: &WalletBook, user_id: &str) -> (Decimal, Decimal) {
    let account = book.account(&user(user_id)).unwrap();
    (account.balance.value(), account.blocked_balance.value())
}

pub fn shares(book: &WalletBook, user_id: &str) -> (Decimal, Decimal) {
    book.position(&user(user_id), &ticker("PETR4"))
        .map(|position| (position.quantity.value(), position.blocked_quantity.value()))
        .unwrap_or_default()
}

/// B3's equity fees as `config/production.example.toml` sets them: a broker's R$ 4.90 per
/// order, trading 0.005 % and settlement 0.025 % of the notional.
pub fn b3_schedule() -> FeeSchedule {
    let fee = |name: &str, fixed: &str, rate: &str| {
        Fee::new(FeeTerms {
            name: name.to_owned(),
            side: FeeSide::Both,
            fixed: dec(fixed),
            rate: dec(rate),
            minimum: None,
            maximum: None,
        })
        .unwrap()
    };
    FeeSchedule::new(vec![
        fee("BROKERAGE", "4.90", "0"),
        fee("B3_TRADING", "0", "0.00005"),
        fee("B3_SETTLEMENT", "0", "0.00025"),
    ])
    .unwrap()
}
