//! Property test of the state machine: random interleavings of deposits, withdrawals, order
//! events (shuffled, so fills arrive before their PENDING and partial fills out of order),
//! duplicates, malformed payloads and the sweeper's expiry of holds, so that fills also arrive
//! after a hold was DENIED, RELEASED or EXPIRED, under a random fee schedule and settlement
//! cycle, with settlement runs between the steps. After every step
//! the invariants hold; at the end every balance and position equals a deliberately simple
//! reference model in integer cents and whole shares, and the ledger adds up to the balances.

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use wallet_domain::{
    EventOutcome, Fee, FeeSchedule, FeeSide, FeeTerms, OrderEvent, SettlementCalendar, WalletBook,
};

const USERS: [&str; 3] = ["ana", "bia", "caio"];
const TICKERS: [&str; 2] = ["PETR4", "VALE3"];

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

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

/// One order event, as plain integers the model can compute with.
#[derive(Debug, Clone)]
struct Fact {
    order: i64,
    user: usize,
    ticker: usize,
    buy: bool,
    quantity: i64,
    kind: FactKind,
}

#[derive(Debug, Clone, Copy)]
enum FactKind {
    Pending {
        limit_cents: i64,
    },
    Fill {
        cumulative: i64,
        executed_cents: i64,
        last: bool,
    },
    End,
}

impl Fact {
    fn json(&self) -> String {
        let side = if self.buy { "BUY" } else { "SELL" };
        let head = format!(
            r#"{{"orderId":{},"userId":"{}","ticker":"{}","quantity":{},"side":"{side}""#,
            self.order, USERS[self.user], TICKERS[self.ticker], self.quantity
        );
        match self.kind {
            FactKind::Pending { limit_cents } => format!(
                r#"{head},"status":"PENDING","price":"{}"}}"#,
                money(limit_cents)
            ),
            FactKind::Fill {
                cumulative,
                executed_cents,
                last,
            } => format!(
                r#"{head},"status":"{}","executedPrice":{},"filledQuantity":{cumulative}}}"#,
                if last { "FILLED" } else { "PARTIALLY_FILLED" },
                money(executed_cents)
            ),
            FactKind::End => format!(r#"{head},"status":"CANCELLED"}}"#),
        }
    }
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

/// One fee as integers: `fixed` and the bounds in cents, the rate in millionths.
#[derive(Debug, Clone, Copy)]
struct ModelFee {
    side: u8,
    fixed: i64,
    rate_ppm: i64,
    minimum: Option<i64>,
    maximum: Option<i64>,
}

impl ModelFee {
    fn covers(self, buy: bool) -> bool {
        self.side == 2 || (self.side == 0) == buy
    }

    /// The fee of an order whose fills add up to `notional` cents, rounded half-even.
    fn cents(self, notional: i64) -> i64 {
        const MICRO: i64 = 1_000_000;
        if notional == 0 {
            return 0;
        }
        let mut raw = self.fixed * MICRO + self.rate_ppm * notional;
        if let Some(minimum) = self.minimum {
            raw = raw.max(minimum * MICRO);
        }
        if let Some(maximum) = self.maximum {
            raw = raw.min(maximum * MICRO);
        }
        let (whole, rest) = (raw / MICRO, raw % MICRO);
        match (rest * 2).cmp(&MICRO) {
            std::cmp::Ordering::Greater => whole + 1,
            std::cmp::Ordering::Equal => whole + whole % 2,
            std::cmp::Ordering::Less => whole,
        }
    }

    fn domain(self, index: usize) -> Fee {
        Fee::new(FeeTerms {
            name: format!("FEE_{index}"),
            side: [FeeSide::Buy, FeeSide::Sell, FeeSide::Both][usize::from(self.side)],
            fixed: Decimal::new(self.fixed, 2),
            rate: Decimal::new(self.rate_ppm, 6),
            minimum: self.minimum.map(|cents| Decimal::new(cents, 2)),
            maximum: self.maximum.map(|cents| Decimal::new(cents, 2)),
        })
        .unwrap()
    }
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

/// The reference model: integer cents and whole shares, the rules of SPEC §3 written as plainly
/// as possible.
#[derive(Default)]
struct Model {
    fees: Vec<ModelFee>,
    /// Fills settle when the job runs, not at once.
    deferred: bool,
    /// Per user, the signed cash of the fills not settled yet.
    unsettled: HashMap<usize, i64>,
    cash: HashMap<usize, (i64, i64)>,
    shares: HashMap<(usize, usize), (i64, i64)>,
    orders: HashMap<i64, ModelOrder>,
}

#[derive(Clone, Copy)]
struct ModelOrder {
    user: usize,
    ticker: usize,
    active: bool,
    reserved_cents: i64,
    reserved_shares: i64,
    filled: i64,
    filled_cents: i64,
}

impl Model {
    /// What the fees of an order on this side charge as its notional grows from `before`.
    fn fees(&self, buy: bool, before: i64, after: i64) -> i64 {
        self.fees
            .iter()
            .filter(|fee| fee.covers(buy))
            .map(|fee| fee.cents(after) - fee.cents(before))
            .sum()
    }

    fn release(&mut self, _fact: &Fact, order: &mut ModelOrder) {
        self.release_order(order);
    }

    fn release_order(&mut self, order: &mut ModelOrder) {
        if let Some((_, blocked)) = self.cash.get_mut(&order.user) {
            *blocked -= order.reserved_cents;
        }
        if let Some((_, blocked)) = self.shares.get_mut(&(order.user, order.ticker)) {
            *blocked -= order.reserved_shares;
        }
        order.reserved_cents = 0;
        order.reserved_shares = 0;
        order.active = false;
    }

    fn expire(&mut self, order_id: i64) {
        let Some(mut order) = self.orders.get(&order_id).copied() else {
            return;
        };
        if order.active {
            self.release_order(&mut order);
            self.orders.insert(order_id, order);
        }
    }

    fn apply(&mut self, fact: &Fact) {
        let existing = self.orders.get(&fact.order).copied();
        match fact.kind {
            FactKind::Pending { limit_cents } => {
                if existing.is_some() {
                    return;
                }
                let mut order = ModelOrder {
                    user: fact.user,
                    ticker: fact.ticker,
                    active: false,
                    reserved_cents: 0,
                    reserved_shares: 0,
                    filled: 0,
                    filled_cents: 0,
                };
                let cost = fact.quantity * limit_cents;
                let reservation = cost + self.fees(true, 0, cost);
                if let Some((balance, blocked)) = self.cash.get_mut(&fact.user) {
                    if fact.buy && *balance - *blocked >= reservation {
                        *blocked += reservation;
                        order = ModelOrder {
                            active: true,
                            reserved_cents: reservation,
                            ..order
                        };
                    }
                    if !fact.buy {
                        let (quantity, blocked) =
                            self.shares.entry((fact.user, fact.ticker)).or_default();
                        if *quantity - *blocked >= fact.quantity {
                            *blocked += fact.quantity;
                            order = ModelOrder {
                                active: true,
                                reserved_shares: fact.quantity,
                                ..order
                            };
                        }
                    }
                }
                self.orders.insert(fact.order, order);
            }
            FactKind::End => match existing {
                None => {
                    let order = ModelOrder {
                        user: fact.user,
                        ticker: fact.ticker,
                        active: false,
                        reserved_cents: 0,
                        reserved_shares: 0,
                        filled: 0,
                        filled_cents: 0,
                    };
                    self.orders.insert(fact.order, order);
                }
                Some(mut order) if order.active => {
                    self.release(fact, &mut order);
                    self.orders.insert(fact.order, order);
                }
                Some(_) => {}
            },
            FactKind::Fill {
                cumulative,
                executed_cents,
                last,
            } => {
                // A fill is an execution: booked whatever the hold's state, from what is
                // available once the hold is final (it reserves nothing any more).
                let mut order = match existing {
                    Some(order) => order,
                    None => ModelOrder {
                        user: fact.user,
                        ticker: fact.ticker,
                        active: true,
                        reserved_cents: 0,
                        reserved_shares: 0,
                        filled: 0,
                        filled_cents: 0,
                    },
                };
                let Some(&(balance, blocked)) = self.cash.get(&fact.user) else {
                    return;
                };
                if cumulative <= order.filled {
                    if last {
                        self.release(fact, &mut order);
                        self.orders.insert(fact.order, order);
                    }
                    return;
                }
                let total_cents = cumulative * executed_cents;
                if total_cents < order.filled_cents {
                    return;
                }
                let step_cents = total_cents - order.filled_cents;
                let step_fees = self.fees(fact.buy, order.filled_cents, total_cents);
                let step_shares = cumulative - order.filled;
                let (quantity, blocked_shares) = self
                    .shares
                    .get(&(fact.user, fact.ticker))
                    .copied()
                    .unwrap_or_default();
                if fact.buy {
                    let paid = step_cents + step_fees;
                    let from_reserved = paid.min(order.reserved_cents);
                    if paid - from_reserved > balance - blocked {
                        return;
                    }
                    self.cash
                        .insert(fact.user, (balance - paid, blocked - from_reserved));
                    if self.deferred {
                        *self.unsettled.entry(fact.user).or_default() -= paid;
                    }
                    self.shares.insert(
                        (fact.user, fact.ticker),
                        (quantity + step_shares, blocked_shares),
                    );
                    order.reserved_cents -= from_reserved;
                } else {
                    let from_reserved = step_shares.min(order.reserved_shares);
                    if step_shares - from_reserved > quantity - blocked_shares
                        || step_fees > balance + step_cents - blocked
                    {
                        return;
                    }
                    self.cash
                        .insert(fact.user, (balance + step_cents - step_fees, blocked));
                    if self.deferred {
                        *self.unsettled.entry(fact.user).or_default() += step_cents - step_fees;
                    }
                    self.shares.insert(
                        (fact.user, fact.ticker),
                        (quantity - step_shares, blocked_shares - from_reserved),
                    );
                    order.reserved_shares -= from_reserved;
                }
                order.filled = cumulative;
                order.filled_cents = total_cents;
                if last {
                    self.release(fact, &mut order);
                }
                self.orders.insert(fact.order, order);
            }
        }
    }
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
