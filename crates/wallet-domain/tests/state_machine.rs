//! Property test of the state machine: random interleavings of deposits, withdrawals, order
//! events (shuffled, so fills arrive before their PENDING and partial fills out of order),
//! duplicates, malformed payloads and the sweeper's expiry of holds, so that fills also arrive
//! after a hold was DENIED, RELEASED or EXPIRED, under a random fee schedule and settlement
//! cycle, with settlement runs between the steps. After every step
//! the invariants hold; at the end every balance and position equals a deliberately simple
//! reference model in integer cents and whole shares, and the ledger adds up to the balances.

mod common;
mod reference_model;

use common::*;
use proptest::prelude::*;
use reference_model::*;
use rust_decimal::Decimal;
use wallet_domain::{EventOutcome, FeeSchedule, OrderEvent, SettlementCalendar, WalletBook};

#[derive(Debug, Clone)]
enum Step {
    Deposit {
        user: usize,
        cents: i64,
    },
    Withdraw {
        user: usize,
        cents: i64,
    },
    Event(Fact),
    Malformed(String),
    /// The sweeper expires the hold of this order.
    Expire(i64),
    /// The settlement job settles every open obligation (their dates have come).
    SettleAll,
}

/// The events of one order: PENDING, up to two partial fills, then FILLED or CANCELLED (or only
/// a REJECTED-like end), before shuffling.
fn order_strategy(order: i64) -> impl Strategy<Value = Vec<Fact>> {
    (
        0..USERS.len(),
        0..TICKERS.len(),
        any::<bool>(),
        1..20_i64,
        100..5_000_i64,
        0..4_u8,
        0..3_i64,
    )
        .prop_map(
            move |(user, ticker, buy, quantity, limit_cents, plan, drift)| {
                let fact = |kind| Fact {
                    order,
                    user,
                    ticker,
                    buy,
                    quantity,
                    kind,
                };
                let mut facts = vec![fact(FactKind::Pending { limit_cents })];
                let executed = limit_cents - 10 + drift * 10;
                match plan {
                    0 => facts.push(fact(FactKind::Fill {
                        cumulative: quantity,
                        executed_cents: executed,
                        last: true,
                    })),
                    1 => {
                        let first = (quantity / 2).max(1);
                        facts.push(fact(FactKind::Fill {
                            cumulative: first,
                            executed_cents: executed,
                            last: quantity == first,
                        }));
                        facts.push(fact(FactKind::Fill {
                            cumulative: quantity,
                            executed_cents: executed + 1,
                            last: true,
                        }));
                    }
                    2 => {
                        let first = (quantity / 3).max(1);
                        facts.push(fact(FactKind::Fill {
                            cumulative: first,
                            executed_cents: executed,
                            last: false,
                        }));
                        facts.push(fact(FactKind::End));
                    }
                    _ => facts.push(fact(FactKind::End)),
                }
                facts
            },
        )
}

fn malformed_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#"{"orderId":9001,"userId":"ana","ticker":"PETR4","quantity":-5,"price":1,"side":"BUY","status":"PENDING"}"#.to_owned()),
        Just(r#"{"orderId":9002,"userId":"ana","ticker":"PETR4","quantity":5,"price":1.123456789,"side":"BUY","status":"PENDING"}"#.to_owned()),
        Just(r#"{"orderId":9003,"userId":"ana","ticker":"PETR4","quantity":5,"side":"BUY","status":"FILLED"}"#.to_owned()),
        Just(r#"{"orderId":9004,"userId":"ana","ticker":"PETR4","quantity":5,"price":1,"side":"SHORT","status":"PENDING"}"#.to_owned()),
        "[ -~]{0,40}",
    ]
}

fn steps_strategy() -> impl Strategy<Value = Vec<Step>> {
    let orders: Vec<_> = (1..=10).map(order_strategy).collect();
    let cash = prop::collection::vec(
        prop_oneof![
            (0..USERS.len(), 1..200_000_i64)
                .prop_map(|(user, cents)| Step::Deposit { user, cents }),
            (0..USERS.len(), 1..50_000_i64)
                .prop_map(|(user, cents)| Step::Withdraw { user, cents }),
        ],
        0..12,
    );
    let duplicates = prop::collection::vec(any::<prop::sample::Index>(), 0..8);
    let malformed = prop::collection::vec(malformed_strategy(), 0..4);
    let expiries = prop::collection::vec(1..=10_i64, 0..4);
    let settlements = 0..3_usize;
    (orders, cash, duplicates, malformed, expiries, settlements).prop_flat_map(
        |(orders, cash, duplicates, malformed, expiries, settlements)| {
            let facts: Vec<Fact> = orders.into_iter().flatten().collect();
            let mut steps: Vec<Step> = facts.iter().cloned().map(Step::Event).collect();
            steps.extend(
                duplicates
                    .iter()
                    .map(|index| Step::Event(index.get(&facts).clone())),
            );
            // Money first more often than not, so that orders have something to reserve.
            let (early, late): (Vec<Step>, Vec<Step>) = cash
                .into_iter()
                .partition(|step| matches!(step, Step::Deposit { .. }));
            steps.extend(late);
            steps.extend(malformed.into_iter().map(Step::Malformed));
            steps.extend(expiries.into_iter().map(Step::Expire));
            steps.extend(std::iter::repeat_n(Step::SettleAll, settlements));
            Just(steps)
                .prop_shuffle()
                .prop_map(move |shuffled| early.iter().cloned().chain(shuffled).collect::<Vec<_>>())
        },
    )
}

/// No fee, or up to three, each on BUY, SELL or both, with any mix of a fixed part, a rate and
/// bounds (a minimum never above the maximum).
fn schedule_strategy() -> impl Strategy<Value = Vec<ModelFee>> {
    let fee = (
        0..3_u8,
        prop_oneof![Just(0_i64), 1..600_i64],
        prop_oneof![Just(0_i64), 1..5_000_i64],
        prop::option::of(0..300_i64),
        prop::option::of(0..2_000_i64),
    )
        .prop_map(|(side, fixed, rate_ppm, minimum, maximum)| ModelFee {
            side,
            fixed,
            rate_ppm,
            minimum,
            maximum: maximum.map(|maximum| maximum.max(minimum.unwrap_or(0))),
        });
    prop::collection::vec(fee, 0..=3)
}

/// A settlement cycle of 0 (at once) to 3 business days and a few holidays around the tests'
/// date (2026-05-01).
fn calendar_strategy() -> impl Strategy<Value = (u32, std::collections::BTreeSet<chrono::NaiveDate>)>
{
    let day = (0..14_u64).prop_map(|offset| {
        chrono::NaiveDate::from_ymd_opt(2026, 4, 28).unwrap() + chrono::Days::new(offset)
    });
    (0..=3_u32, prop::collection::btree_set(day, 0..4))
}

fn cents(value: Decimal) -> i64 {
    let scaled = value * Decimal::ONE_HUNDRED;
    assert_eq!(
        scaled.fract(),
        Decimal::ZERO,
        "{value} has fractions of a cent"
    );
    scaled.trunc().mantissa() as i64 / 10_i64.pow(scaled.trunc().scale())
}

fn whole(value: Decimal) -> i64 {
    assert_eq!(value.fract(), Decimal::ZERO);
    value.trunc().mantissa() as i64 / 10_i64.pow(value.trunc().scale())
}

fn assert_book_invariants(book: &WalletBook) {
    for name in USERS {
        if let Some(account) = book.account(&user(name)) {
            account.assert_invariants();
        }
        for symbol in TICKERS {
            if let Some(position) = book.position(&user(name), &ticker(symbol)) {
                position.assert_invariants();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_book_agrees_with_the_reference_model(
        steps in steps_strategy(),
        fees in schedule_strategy(),
        (cycle_days, holidays) in calendar_strategy(),
    ) {
        let schedule = FeeSchedule::new(fees.iter().enumerate().map(|(index, fee)| fee.domain(index)).collect()).unwrap();
        let calendar = SettlementCalendar::new(cycle_days, holidays).unwrap();
        let mut book = WalletBook::new(Default::default(), wallet_domain::Currency::BRL)
            .with_fees(std::sync::Arc::new(schedule))
            .with_settlement(std::sync::Arc::new(calendar.clone()));
        let mut model = Model { fees, deferred: cycle_days > 0, ..Model::default() };
        for step in &steps {
            match step {
                Step::Deposit { user: index, cents } => {
                    book.deposit(&cash(USERS[*index], &money(*cents)), now()).unwrap();
                    model.cash.entry(*index).or_default().0 += cents;
                }
                Step::Withdraw { user: index, cents } => {
                    let refused = book.withdraw(&cash(USERS[*index], &money(*cents)), now()).is_err();
                    let unsettled = model.unsettled.get(index).copied().unwrap_or_default();
                    let covered = model.cash.get(index).is_some_and(|(balance, blocked)| {
                        (*balance).min(balance - unsettled) - blocked >= *cents
                    });
                    prop_assert_eq!(refused, !covered, "withdrawal of {} by {}", cents, USERS[*index]);
                    if covered {
                        model.cash.get_mut(index).unwrap().0 -= cents;
                    }
                }
                Step::Event(fact) => {
                    let event = OrderEvent::parse(fact.json().as_bytes()).unwrap();
                    book.apply_order_event(&event, now());
                    model.apply(fact);
                }
                Step::SettleAll => {
                    for name in USERS {
                        let open: Vec<_> = book.open_obligations(&user(name)).cloned().collect();
                        for obligation in open {
                            prop_assert!(calendar.is_business_day(obligation.due_date));
                            prop_assert!(obligation.due_date > obligation.trade_date || !calendar.is_business_day(obligation.trade_date));
                            prop_assert_eq!(book.settle_obligation(&obligation, now()), EventOutcome::Applied);
                        }
                    }
                    model.unsettled.clear();
                }
                Step::Expire(order_id) => {
                    book.expire_hold(order(*order_id), now());
                    model.expire(*order_id);
                }
                Step::Malformed(text) => {
                    if let Ok(event) = OrderEvent::parse(text.as_bytes()) {
                        panic!("malformed payload parsed: {text} → {event:?}");
                    }
                }
            }
            assert_book_invariants(&book);
        }

        for (index, name) in USERS.iter().enumerate() {
            let account = book.account(&user(name));
            let expected = model.cash.get(&index).copied();
            prop_assert_eq!(account.map(|a| (cents(a.balance.value()), cents(a.blocked_balance.value()))), expected, "cash of {}", name);
            let entries: Vec<_> = book.ledger().iter().filter(|entry| entry.user_id == user(name)).collect();
            if let Some(account) = account {
                let cash_sum: Decimal = entries.iter().map(|entry| entry.cash_amount).sum();
                let blocked_sum: Decimal = entries.iter().map(|entry| entry.blocked_amount).sum();
                prop_assert_eq!((cash_sum, blocked_sum), (account.balance.value(), account.blocked_balance.value()));
                let settled_sum: Decimal = entries.iter().map(|entry| entry.settled_amount).sum();
                prop_assert_eq!(settled_sum, account.settled_balance, "settled cash of {}", name);
                let unsettled = model.unsettled.get(&index).copied().unwrap_or_default();
                prop_assert_eq!(cents(account.settled_balance), cents(account.balance.value()) - unsettled, "settled balance of {}", name);
                let open: Decimal = book.open_obligations(&user(name)).map(|obligation| obligation.cash_amount).sum();
                prop_assert_eq!(account.balance.value() - account.settled_balance, open, "obligations of {}", name);
            }
            for (ticker_index, symbol) in TICKERS.iter().enumerate() {
                let position = book.position(&user(name), &ticker(symbol));
                let actual = position.map(|p| (whole(p.quantity.value()), whole(p.blocked_quantity.value()))).unwrap_or_default();
                let expected = model.shares.get(&(index, ticker_index)).copied().unwrap_or_default();
                prop_assert_eq!(actual, expected, "{} {}", name, symbol);
                let moved: Decimal = entries.iter().filter(|e| e.ticker.as_ref() == Some(&ticker(symbol))).map(|e| e.quantity).sum();
                let held: Decimal = entries.iter().filter(|e| e.ticker.as_ref() == Some(&ticker(symbol))).map(|e| e.blocked_quantity).sum();
                prop_assert_eq!((whole(moved), whole(held)), actual, "ledger of {} {}", name, symbol);
            }
        }
    }
}
