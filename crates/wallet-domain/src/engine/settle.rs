//! FILLED and PARTIALLY_FILLED (SPEC §3): a fill is an execution — the trade happened at the
//! exchange — so it is booked whatever the hold's state, or dead-lettered
//! `SETTLEMENT_NOT_COVERED`, never dropped. Fills settle by cumulative quantity: each settles
//! the part of `filledQuantity` not settled yet, at half-even rounding, paying from the order's
//! reservation first and from available cash or shares for the rest. A FILLED releases what
//! the reservation has left.
//!
//! A fill of an order whose hold is final (DENIED, RELEASED, EXPIRED) settles from what is
//! available, as if no hold existed, and is recorded on the hold, which stays final: a final
//! hold never becomes active again, so the sweeper never picks it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::EventOutcome;
use super::book::{EventKind, LedgerDraft, WalletBook};
use super::order::{dead_letter, new_hold, out_of_range};
use super::release::take_remainder;
use super::steps;
use crate::account::{Account, Position};
use crate::amount::{Currency, Money, Price, Quantity, settlement_value};
use crate::dead_letter::DeadLetterReason;
use crate::hold::{Hold, HoldStatus, Side};
use crate::ledger::EntryType;
use crate::order_event::{Fill, OrderEvent};
use crate::wallet_event::WalletEventType;

/// The part of a fill not settled yet.
struct FillStep {
    /// Shares of this step.
    quantity: Quantity,
    /// Cost or proceeds of this step: the cumulative value less what earlier fills settled.
    value: Money,
    /// Cost or proceeds of the whole cumulative fill.
    cumulative_value: Money,
}

impl FillStep {
    fn new(hold: &Hold, fill: Fill, currency: Currency) -> Result<FillStep, EventOutcome> {
        let cumulative_value =
            settlement_value(fill.filled_quantity, fill.executed_price, currency)
                .map_err(|error| out_of_range(&error))?;
        let value = cumulative_value
            .checked_sub(hold.filled_amount)
            .ok_or_else(|| {
                dead_letter(
                    DeadLetterReason::OrderMismatch,
                    format!(
                        "executed price {} is below what earlier fills of the order settled",
                        fill.executed_price
                    ),
                )
            })?;
        // The caller settles only fills above what is settled, so this is never negative.
        let quantity = fill
            .filled_quantity
            .checked_sub(hold.filled_quantity)
            .unwrap_or(Quantity::ZERO);
        Ok(FillStep {
            quantity,
            value,
            cumulative_value,
        })
    }
}

impl WalletBook {
    pub(super) fn settle(
        &mut self,
        event: &OrderEvent,
        fill: Fill,
        is_final: bool,
        now: DateTime<Utc>,
    ) -> EventOutcome {
        let mut hold = self
            .hold(event.order_id)
            .cloned()
            .unwrap_or_else(|| new_hold(event, now));
        if fill.filled_quantity > hold.quantity {
            return dead_letter(
                DeadLetterReason::OrderMismatch,
                format!(
                    "filled quantity {} is above the ordered {}",
                    fill.filled_quantity, hold.quantity
                ),
            );
        }
        let Some(mut account) = self.account(&event.user_id).cloned() else {
            return dead_letter(
                DeadLetterReason::SettlementNotCovered,
                format!("user {} has no account", event.user_id),
            );
        };
        account.updated_at = now;
        if fill.filled_quantity <= hold.filled_quantity {
            return if is_final && hold.status.is_active() {
                // Partial fills settled everything; the FILLED only closes the order.
                self.close_filled(hold, account, now)
            } else {
                EventOutcome::Duplicate
            };
        }
        let step = match FillStep::new(&hold, fill, account.currency) {
            Ok(step) => step,
            Err(outcome) => return outcome,
        };
        let mut position = self
            .position(&event.user_id, &event.ticker)
            .cloned()
            .unwrap_or_else(|| Position::open(event.user_id.clone(), event.ticker.clone(), now));
        position.updated_at = now;
        let settled = match hold.side {
            Side::Buy => settle_buy(&mut account, &mut position, &mut hold, &step),
            Side::Sell => settle_sell(&mut account, &mut position, &mut hold, &step),
        };
        let mut entry = match settled {
            Ok(entry) => entry,
            Err(outcome) => return outcome,
        };
        entry.step_key = steps::fill(hold.order_id, entry.entry_type, fill.filled_quantity);
        hold.filled_quantity = fill.filled_quantity;
        hold.filled_amount = step.cumulative_value;
        hold.status = hold.status.after_fill(is_final);
        hold.updated_at = now;
        let settled_account = account.clone();
        let release = if is_final {
            match take_remainder(&mut hold, &mut account, Some(&mut position)) {
                Ok(release) => release,
                Err(outcome) => return outcome,
            }
        } else {
            None
        };
        let label = event.status.label();
        self.book(
            entry,
            EventKind::new(WalletEventType::OrderSettled, Some(step.quantity.value()))
                .because(label),
            &settled_account,
            now,
        );
        if let Some((entry, quantity)) = release {
            let kind = EventKind::new(WalletEventType::ReservationReleased, quantity);
            self.book(entry, kind.because(label), &account, now);
        }
        self.record_trade(&hold.ticker, fill.executed_price, now);
        self.put_position(position);
        self.put_account(account);
        self.put_hold(hold);
        EventOutcome::Applied
    }

    /// Closes an order whose partial fills settled everything: releases the rest of the
    /// reservation and marks the hold FILLED.
    fn close_filled(
        &mut self,
        mut hold: Hold,
        mut account: Account,
        now: DateTime<Utc>,
    ) -> EventOutcome {
        let mut position = self.position(&hold.user_id, &hold.ticker).cloned();
        let release = match take_remainder(&mut hold, &mut account, position.as_mut()) {
            Ok(release) => release,
            Err(outcome) => return outcome,
        };
        if let Some((entry, quantity)) = release {
            let kind = EventKind::new(WalletEventType::ReservationReleased, quantity);
            self.book(entry, kind.because("FILLED"), &account, now);
            if let Some(mut position) = position {
                position.updated_at = now;
                self.put_position(position);
            }
            self.put_account(account);
        }
        hold.status = HoldStatus::Filled;
        hold.updated_at = now;
        self.put_hold(hold);
        EventOutcome::Applied
    }
}

/// Pays for a BUY fill from the order's reservation first and from available cash for any cost
/// above it; adds the shares at the new weighted average price.
fn settle_buy(
    account: &mut Account,
    position: &mut Position,
    hold: &mut Hold,
    step: &FillStep,
) -> Result<LedgerDraft, EventOutcome> {
    let cost = step.value;
    let from_reservation = cost.min(hold.reserved_amount);
    let above_reservation = cost.checked_sub(from_reservation).unwrap_or(Money::ZERO);
    if above_reservation > account.available_balance() {
        return Err(dead_letter(
            DeadLetterReason::SettlementNotCovered,
            format!(
                "fill of order {} costs {} above its reservation, available is {}",
                hold.order_id,
                above_reservation,
                account.available_balance()
            ),
        ));
    }
    let new_quantity = position
        .quantity
        .checked_add(step.quantity)
        .map_err(|error| out_of_range(&error))?;
    position.average_price = Price::weighted_average(
        position.quantity,
        position.average_price,
        step.quantity,
        cost,
    )
    .map_err(|error| out_of_range(&error))?;
    position.quantity = new_quantity;
    // Covered above: the cost is at most the reservation plus the available cash, and the
    // reservation is part of the blocked balance.
    let not_covered = || dead_letter(DeadLetterReason::SettlementNotCovered, "cost above balance");
    account.balance = account.balance.checked_sub(cost).ok_or_else(not_covered)?;
    account.blocked_balance = account
        .blocked_balance
        .checked_sub(from_reservation)
        .ok_or_else(not_covered)?;
    hold.reserved_amount = hold
        .reserved_amount
        .checked_sub(from_reservation)
        .unwrap_or(Money::ZERO);
    Ok(LedgerDraft {
        entry_type: EntryType::Settlement,
        order_id: Some(hold.order_id),
        step_key: String::new(),
        cash_amount: -cost.value(),
        blocked_amount: -from_reservation.value(),
        ticker: Some(hold.ticker.clone()),
        quantity: step.quantity.value(),
        blocked_quantity: Decimal::ZERO,
    })
}

/// Delivers the shares of a SELL fill from the order's reservation first and from available
/// shares for the rest; credits the proceeds and books the realized P&L.
fn settle_sell(
    account: &mut Account,
    position: &mut Position,
    hold: &mut Hold,
    step: &FillStep,
) -> Result<LedgerDraft, EventOutcome> {
    let (quantity, proceeds) = (step.quantity, step.value);
    let from_reservation = quantity.min(hold.reserved_quantity);
    let above_reservation = quantity
        .checked_sub(from_reservation)
        .unwrap_or(Quantity::ZERO);
    if above_reservation > position.available_quantity() {
        return Err(dead_letter(
            DeadLetterReason::SettlementNotCovered,
            format!(
                "sale of order {} delivers {} shares above its reservation, available is {}",
                hold.order_id,
                above_reservation,
                position.available_quantity()
            ),
        ));
    }
    account.balance = account
        .balance
        .checked_add(proceeds, "balance")
        .map_err(|error| out_of_range(&error))?;
    let cost_basis = settlement_value(quantity, position.average_price, account.currency)
        .map_err(|error| out_of_range(&error))?;
    position
        .book_realized_pnl(proceeds.value() - cost_basis.value())
        .map_err(|error| out_of_range(&error))?;
    let not_covered = || {
        dead_letter(
            DeadLetterReason::SettlementNotCovered,
            "shares above position",
        )
    };
    position.quantity = position
        .quantity
        .checked_sub(quantity)
        .ok_or_else(not_covered)?;
    position.blocked_quantity = position
        .blocked_quantity
        .checked_sub(from_reservation)
        .ok_or_else(not_covered)?;
    hold.reserved_quantity = hold
        .reserved_quantity
        .checked_sub(from_reservation)
        .unwrap_or(Quantity::ZERO);
    Ok(LedgerDraft {
        entry_type: EntryType::Sale,
        order_id: Some(hold.order_id),
        step_key: String::new(),
        cash_amount: proceeds.value(),
        blocked_amount: Decimal::ZERO,
        ticker: Some(hold.ticker.clone()),
        quantity: -quantity.value(),
        blocked_quantity: -from_reservation.value(),
    })
}
