//! A generated day of trading and the state it must leave behind.
//!
//! The expected state is computed by applying the same deposits and events, in the order each
//! user's events are produced, to a `WalletBook` of the domain crate: the rules themselves are
//! proven against a simple model by the domain's property test; what these tests prove is that
//! the running service — Kafka, batching, crashes, outages — applies every event exactly once.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use wallet_domain::unit_of_work::Snapshot;
use wallet_domain::{
    CashOperation, Currency, EventOutcome, Money, OrderEvent, Ticker, UserId, WalletBook,
};

use crate::wallet::Wallet;

const TICKERS: [&str; 6] = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3", "WEGE3"];

/// splitmix64: a small deterministic generator, so a failing seed can be replayed.
#[derive(Debug, Clone)]
pub struct Random(u64);

impl Random {
    /// A generator from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Random {
        Random(seed)
    }

    /// The next number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Deposits made over HTTP before the events, then the events as (key, JSON value).
#[derive(Debug, Clone, Default)]
pub struct Day {
    /// (user, amount) deposits.
    pub deposits: Vec<(String, String)>,
    /// (key = userId, value) order events in production order.
    pub events: Vec<(String, Vec<u8>)>,
}

fn cents(value: u64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

struct Order {
    id: u64,
    user: String,
    ticker: &'static str,
    buy: bool,
    quantity: u64,
    limit_cents: u64,
}

impl Order {
    fn event(&self, status: &str, executed_cents: Option<u64>, filled: Option<u64>) -> Vec<u8> {
        let mut json = format!(
            r#"{{"orderId":{},"userId":"{}","ticker":"{}","quantity":{},"price":{},"side":"{}","status":"{status}""#,
            self.id,
            self.user,
            self.ticker,
            self.quantity,
            cents(self.limit_cents),
            if self.buy { "BUY" } else { "SELL" }
        );
        match executed_cents {
            Some(price) => json.push_str(&format!(r#","executedPrice":{}"#, cents(price))),
            None => json.push_str(r#","executedPrice":null"#),
        }
        if let Some(filled) = filled {
            json.push_str(&format!(r#","filledQuantity":{filled}"#));
        }
        json.push_str(r#","eventTimestamp":"2026-05-01T10:15:30.123"}"#);
        json.into_bytes()
    }
}

/// A day of `orders` orders over `users` users: BUYs and SELLs, partial fills, cancels,
/// rejections without PENDING, ~5 % duplicates and a few FILLED-before-PENDING.
#[must_use]
pub fn generate_day(seed: u64, users: usize, orders: usize, first_order_id: u64) -> Day {
    let mut random = Random::new(seed);
    let names: Vec<String> = (0..users)
        .map(|index| format!("investor-{seed}-{index}"))
        .collect();
    let mut day = Day::default();
    for name in &names {
        day.deposits
            .push((name.clone(), cents(5_000_000 + random.below(20_000_000))));
    }
    for index in 0..orders {
        let order = Order {
            id: first_order_id + index as u64,
            user: names[random.below(users as u64) as usize].clone(),
            ticker: TICKERS[random.below(TICKERS.len() as u64) as usize],
            buy: random.chance(65),
            quantity: 1 + random.below(300),
            limit_cents: 1_000 + random.below(9_000),
        };
        let executed = order.limit_cents.saturating_sub(random.below(50)).max(1);
        let mut steps = Vec::new();
        match random.below(10) {
            0..=4 => {
                steps.push(order.event("PENDING", None, None));
                steps.push(order.event("FILLED", Some(executed), None));
            }
            5 | 6 => {
                let first = (order.quantity / 2).max(1);
                steps.push(order.event("PENDING", None, None));
                steps.push(order.event("PARTIALLY_FILLED", Some(executed), Some(first)));
                steps.push(order.event("FILLED", Some(executed), Some(order.quantity)));
            }
            7 => {
                steps.push(order.event("PENDING", None, None));
                steps.push(order.event("CANCELLED", None, None));
            }
            8 => steps.push(order.event("REJECTED", None, None)),
            _ => {
                // The final event overtakes its PENDING.
                steps.push(order.event("FILLED", Some(executed), None));
                steps.push(order.event("PENDING", None, None));
            }
        }
        for step in steps {
            if random.chance(5) {
                day.events.push((order.user.clone(), step.clone()));
            }
            day.events.push((order.user.clone(), step));
        }
    }
    day
}

/// Balances and positions after a day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expected {
    /// user → (balance, blocked balance).
    pub accounts: BTreeMap<String, (Decimal, Decimal)>,
    /// (user, ticker) → (quantity, blocked quantity, average price).
    pub positions: BTreeMap<(String, String), (Decimal, Decimal, Decimal)>,
}

/// The domain book after `day`, and how many of its events it dead-lettered.
fn model(day: &Day) -> (WalletBook, usize) {
    let now = Utc
        .with_ymd_and_hms(2026, 5, 1, 12, 0, 0)
        .single()
        .expect("valid time");
    let mut book = WalletBook::new(Snapshot::default(), Currency::BRL);
    for (user, amount) in &day.deposits {
        let operation = CashOperation {
            user_id: UserId::parse(user).expect("valid user"),
            amount: Money::parse_amount("amount", amount, Currency::BRL).expect("valid amount"),
            idempotency_key: None,
            request_id: uuid::Uuid::new_v4(),
        };
        book.deposit(&operation, now).expect("deposit");
    }
    let mut dead_letters = 0;
    for (_, value) in &day.events {
        let outcome = OrderEvent::parse(value).map(|event| book.apply_order_event(&event, now));
        if matches!(outcome, Err(_) | Ok(EventOutcome::DeadLetter(_))) {
            dead_letters += 1;
        }
    }
    (book, dead_letters)
}

/// How many of the day's events must end in the dead-letter topic.
#[must_use]
pub fn dead_letters(day: &Day) -> usize {
    model(day).1
}

/// Applies `day` to a domain book: what the service must end with.
#[must_use]
pub fn expected(day: &Day) -> Expected {
    let (book, _) = model(day);
    let mut expected = Expected::default();
    for (user, _) in &day.deposits {
        let id = UserId::parse(user).expect("valid user");
        let account = book.account(&id).expect("deposited account");
        expected.accounts.insert(
            user.clone(),
            (account.balance.value(), account.blocked_balance.value()),
        );
        for ticker in TICKERS {
            if let Some(position) =
                book.position(&id, &Ticker::parse(ticker).expect("valid ticker"))
                && !position.quantity.is_zero()
            {
                expected.positions.insert(
                    (user.clone(), ticker.to_owned()),
                    (
                        position.quantity.value(),
                        position.blocked_quantity.value(),
                        position.average_price.value(),
                    ),
                );
            }
        }
    }
    expected
}

fn decimal(value: &serde_json::Value) -> Decimal {
    value
        .as_str()
        .and_then(|text| Decimal::from_str_exact(text).ok())
        .unwrap_or_else(|| panic!("not a decimal string: {value}"))
}

/// Deposits the day's money over HTTP.
pub async fn deposit_all(wallet: &Wallet, day: &Day) {
    for (user, amount) in &day.deposits {
        let (status, body) = wallet
            .post(&format!("/api/v1/wallet/{user}/deposit?amount={amount}"))
            .await;
        assert_eq!(status, 200, "deposit for {user}: {body}");
    }
}

/// What the service holds now, read over HTTP, in the shape of [`Expected`].
pub async fn actual(wallet: &Wallet, expected: &Expected) -> Expected {
    let mut actual = Expected::default();
    for user in expected.accounts.keys() {
        let (status, account) = wallet.get(&format!("/api/v1/wallet/{user}")).await;
        assert_eq!(status, 200, "account of {user}: {account}");
        actual.accounts.insert(
            user.clone(),
            (
                decimal(&account["balance"]),
                decimal(&account["blockedBalance"]),
            ),
        );
        let (status, positions) = wallet
            .get(&format!("/api/v1/wallet/{user}/positions"))
            .await;
        assert_eq!(status, 200, "positions of {user}: {positions}");
        let list = positions
            .as_array()
            .or_else(|| positions["positions"].as_array())
            .cloned()
            .unwrap_or_default();
        for position in list {
            let quantity = decimal(&position["quantity"]);
            if quantity.is_zero() {
                continue;
            }
            let ticker = position["ticker"].as_str().expect("ticker").to_owned();
            actual.positions.insert(
                (user.clone(), ticker),
                (
                    quantity,
                    decimal(&position["blockedQuantity"]),
                    decimal(&position["averagePrice"]),
                ),
            );
        }
    }
    actual
}
