//! Order events → effects (SPEC §3): which transition an event takes. The transitions live in
//! their own rooms: [`super::reserve`] (PENDING), [`super::settle`] (fills) and
//! [`super::release`] (endings and expiry).

use chrono::{DateTime, Utc};

use super::EventOutcome;
use super::book::WalletBook;
use crate::amount::{AmountError, Money, Quantity};
use crate::dead_letter::{DeadLetterReason, Rejection};
use crate::hold::{Hold, HoldStatus};
use crate::ids::OrderId;
use crate::order_event::{OrderEvent, OrderStatus};
use crate::unit_of_work::Verdict;

pub(super) fn dead_letter(reason: DeadLetterReason, detail: impl Into<String>) -> EventOutcome {
    EventOutcome::DeadLetter(Rejection::new(reason, detail))
}

pub(super) fn out_of_range(error: &AmountError) -> EventOutcome {
    dead_letter(DeadLetterReason::AmountOutOfRange, error.to_string())
}

/// The hold of an order the wallet sees for the first time, reserving nothing yet.
pub(super) fn new_hold(event: &OrderEvent, now: DateTime<Utc>) -> Hold {
    Hold {
        order_id: event.order_id,
        user_id: event.user_id.clone(),
        side: event.side,
        ticker: event.ticker.clone(),
        quantity: event.quantity,
        limit_price: event.limit_price(),
        reserved_amount: Money::ZERO,
        reserved_quantity: Quantity::ZERO,
        filled_quantity: Quantity::ZERO,
        filled_amount: Money::ZERO,
        fees_amount: Money::ZERO,
        status: HoldStatus::Reserved,
        deny_reason: None,
        terms_pending: false,
        version: 0,
        created_at: now,
        updated_at: now,
    }
}

impl WalletBook {
    /// Applies one order event. Never fails: every outcome, including a dead letter, is a
    /// value, and a dead-lettered event leaves the book as it was but for the decision, which
    /// is recorded under the event's delivery: the same delivery again is dead-lettered again,
    /// whatever the state it meets then.
    pub fn apply_order_event(&mut self, event: &OrderEvent, now: DateTime<Utc>) -> EventOutcome {
        if let Some(verdict) = event.delivery.as_deref().and_then(|d| self.verdict(d)) {
            return EventOutcome::DeadLetter(verdict.rejection.clone());
        }
        let before = self.complete_terms(event);
        let outcome = self.decide(event, now);
        if let EventOutcome::DeadLetter(rejection) = &outcome {
            // A dead-lettered event leaves the book as it was, the completion of an imported
            // hold's terms included.
            if let Some(before) = before {
                self.restore_hold(before);
            }
            if let Some(delivery) = &event.delivery {
                self.remember_verdict(Verdict {
                    delivery: delivery.clone(),
                    user_id: event.user_id.clone(),
                    rejection: rejection.clone(),
                    decided_at: now,
                });
            }
        }
        outcome
    }

    /// Gives an imported hold whose terms are pending (SPEC §10: the Java wallet knew only the
    /// amount) the ticker, quantity and limit price of its order's first event, when the event
    /// is its owner's and on its side; the hold's state before, to restore.
    fn complete_terms(&mut self, event: &OrderEvent) -> Option<(Hold, bool)> {
        let before = self.hold_state(event.order_id)?;
        let hold = &before.0;
        if !hold.terms_pending || hold.user_id != event.user_id || event.side != hold.side {
            return None;
        }
        let mut completed = hold.clone();
        completed.ticker = event.ticker.clone();
        completed.quantity = event.quantity;
        completed.limit_price = event.limit_price();
        completed.terms_pending = false;
        self.put_hold(completed);
        Some(before)
    }

    fn decide(&mut self, event: &OrderEvent, now: DateTime<Utc>) -> EventOutcome {
        if let Some(hold) = self.hold(event.order_id)
            && (hold.user_id != event.user_id
                || hold.side != event.side
                || hold.ticker != event.ticker)
        {
            return dead_letter(
                DeadLetterReason::OrderMismatch,
                format!(
                    "order {} is held for {} {} {}, the event says {} {} {}",
                    event.order_id,
                    hold.user_id,
                    hold.side,
                    hold.ticker,
                    event.user_id,
                    event.side,
                    event.ticker
                ),
            );
        }
        match &event.status {
            OrderStatus::Ignored(_) => EventOutcome::Ignored,
            OrderStatus::Pending { limit_price } => self.reserve(event, *limit_price, now),
            OrderStatus::PartiallyFilled(fill) => self.settle(event, *fill, false, now),
            OrderStatus::Filled(fill) => self.settle(event, *fill, true, now),
            OrderStatus::Ended(status) => self.end(event, status, now),
        }
    }

    /// Releases an active hold whose order saw no final event within the hold time-to-live:
    /// hold EXPIRED, ledger REFUND / ASSET_RELEASE, `RESERVATION_RELEASED` with reason
    /// `EXPIRED`. Anything else is a duplicate: a hold is released once.
    pub fn expire_hold(&mut self, order: OrderId, now: DateTime<Utc>) -> EventOutcome {
        match self.hold(order) {
            Some(hold) if hold.status.is_active() => {
                let hold = hold.clone();
                self.release(hold, HoldStatus::Expired, "EXPIRED", now)
            }
            _ => EventOutcome::Duplicate,
        }
    }
}
