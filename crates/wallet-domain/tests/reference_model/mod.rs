//! The reference model of the state-machine property test: integer cents and whole shares,
//! the rules of SPEC §3, fees and settlement written as plainly as possible, and the facts it
//! computes with.

use std::collections::HashMap;

use rust_decimal::Decimal;
use wallet_domain::{Fee, FeeSide, FeeTerms};

pub const USERS: [&str; 3] = ["ana", "bia", "caio"];
pub const TICKERS: [&str; 2] = ["PETR4", "VALE3"];

pub fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// One order event, as plain integers the model can compute with.
#[derive(Debug, Clone)]
pub struct Fact {
    pub order: i64,
    pub user: usize,
    pub ticker: usize,
    pub buy: bool,
    pub quantity: i64,
    pub kind: FactKind,
}

#[derive(Debug, Clone, Copy)]
pub enum FactKind {
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
    pub fn json(&self) -> String {
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

/// One fee as integers: `fixed` and the bounds in cents, the rate in millionths.
#[derive(Debug, Clone, Copy)]
pub struct ModelFee {
    pub side: u8,
    pub fixed: i64,
    pub rate_ppm: i64,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
}

impl ModelFee {
    pub fn covers(self, buy: bool) -> bool {
        self.side == 2 || (self.side == 0) == buy
    }

    /// The fee of an order whose fills add up to `notional` cents, rounded half-even.
    pub fn cents(self, notional: i64) -> i64 {
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

    pub fn domain(self, index: usize) -> Fee {
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

/// The reference model: integer cents and whole shares, the rules of SPEC §3 written as plainly
/// as possible.
#[derive(Default)]
pub struct Model {
    pub fees: Vec<ModelFee>,
    /// Fills settle when the job runs, not at once.
    pub deferred: bool,
    /// Per user, the signed cash of the fills not settled yet.
    pub unsettled: HashMap<usize, i64>,
    pub cash: HashMap<usize, (i64, i64)>,
    pub shares: HashMap<(usize, usize), (i64, i64)>,
    pub orders: HashMap<i64, ModelOrder>,
}

#[derive(Clone, Copy)]
pub struct ModelOrder {
    pub user: usize,
    pub ticker: usize,
    pub active: bool,
    pub reserved_cents: i64,
    pub reserved_shares: i64,
    pub filled: i64,
    pub filled_cents: i64,
}

impl Model {
    /// What the fees of an order on this side charge as its notional grows from `before`.
    pub fn fees(&self, buy: bool, before: i64, after: i64) -> i64 {
        self.fees
            .iter()
            .filter(|fee| fee.covers(buy))
            .map(|fee| fee.cents(after) - fee.cents(before))
            .sum()
    }

    pub fn release(&mut self, _fact: &Fact, order: &mut ModelOrder) {
        self.release_order(order);
    }

    pub fn release_order(&mut self, order: &mut ModelOrder) {
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

    pub fn expire(&mut self, order_id: i64) {
        let Some(mut order) = self.orders.get(&order_id).copied() else {
            return;
        };
        if order.active {
            self.release_order(&mut order);
            self.orders.insert(order_id, order);
        }
    }

    pub fn apply(&mut self, fact: &Fact) {
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
