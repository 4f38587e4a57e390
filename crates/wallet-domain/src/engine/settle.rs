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
use crate::fees::{FeeCharge, FeeSchedule};
use crate::hold::{Hold, HoldStatus, Side};
use crate::ledger::EntryType;
use crate::order_event::{Fill, OrderEvent};
use crate::settlement::{Obligation, SettlementCalendar};
use crate::wallet_event::WalletEventType;

/// The part of a fill not settled yet.
struct FillStep {
    /// Shares of this step.
    quantity: Quantity,
    /// Cost or proceeds of this step: the cumulative value less what earlier fills settled.
    value: Money,
    /// Cost or proceeds of the whole cumulative fill.
    cumulative_value: Money,
    /// What each fee charges on this step, in the schedule's order.
    fees: Vec<FeeCharge>,
    /// The fees of this step added up.
    fees_total: Money,
}

impl FillStep {
    fn new(
        hold: &Hold,
        fill: Fill,
        currency: Currency,
        schedule: &FeeSchedule,
    ) -> Result<FillStep, EventOutcome> {
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
        let fees = schedule
            .charges(hold.side, hold.filled_amount, cumulative_value, currency)
            .map_err(|error| out_of_range(&error))?;
        let mut fees_total = Money::ZERO;
        for charge in &fees {
            fees_total = fees_total
                .checked_add(charge.amount, "fees")
                .map_err(|error| out_of_range(&error))?;
        }
        Ok(FillStep {
            quantity,
            value,
            cumulative_value,
            fees,
            fees_total,
        })
    }

    /// The FEE entries of this step, each paying from `reserved` (what the order's reservation
    /// has left for them) first.
    fn fee_entries(&self, hold: &Hold, filled: Quantity, mut reserved: Money) -> Vec<LedgerDraft> {
        self.fees
            .iter()
            .map(|charge| {
                let from_reservation = charge.amount.min(reserved);
                reserved = reserved
                    .checked_sub(from_reservation)
                    .unwrap_or(Money::ZERO);
                LedgerDraft {
                    entry_type: EntryType::Fee,
                    order_id: Some(hold.order_id),
                    step_key: steps::fee(hold.order_id, &charge.name, filled),
                    fee_name: Some(charge.name.clone()),
                    cash_amount: -charge.amount.value(),
                    blocked_amount: -from_reservation.value(),
                    settled_amount: Decimal::ZERO,
                    ticker: Some(hold.ticker.clone()),
                    quantity: Decimal::ZERO,
                    blocked_quantity: Decimal::ZERO,
                }
            })
            .collect()
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
        let step = match FillStep::new(&hold, fill, account.currency, self.fees()) {
            Ok(step) => step,
            Err(outcome) => return outcome,
        };
        let mut position = self
            .position(&event.user_id, &event.ticker)
            .cloned()
            .unwrap_or_else(|| Position::open(event.user_id.clone(), event.ticker.clone(), now));
        position.updated_at = now;
        let before = account.clone();
        let settled = match hold.side {
            Side::Buy => settle_buy(&mut account, &mut position, &mut hold, &step),
            Side::Sell => settle_sell(&mut account, &mut position, &mut hold, &step),
        };
        let (mut entry, left_for_fees) = match settled {
            Ok(settled) => settled,
            Err(outcome) => return outcome,
        };
        entry.step_key = steps::fill(hold.order_id, entry.entry_type, fill.filled_quantity);
        let mut entries = vec![entry];
        entries.extend(step.fee_entries(&hold, fill.filled_quantity, left_for_fees));
        let obligation = self.settle_cash(&mut account, &mut entries, &hold, now);
        hold.filled_quantity = fill.filled_quantity;
        hold.filled_amount = step.cumulative_value;
        hold.status = hold.status.after_fill(is_final);
        hold.updated_at = now;
        let release = if is_final {
            match take_remainder(&mut hold, &mut account, Some(&mut position)) {
                Ok(release) => release,
                Err(outcome) => return outcome,
            }
        } else {
            None
        };
        let bookings = bookings(entries, release, step.quantity, event.status.label());
        self.book_in_turn(&before, bookings, now);
        if let Some(obligation) = obligation {
            self.add_obligation(obligation);
        }
        self.record_trade(&hold.ticker, fill.executed_price, now);
        self.put_position(position);
        self.put_account(account);
        self.put_hold(hold);
        EventOutcome::Applied
    }

    /// The cash side of a fill step's `entries`: settled at once when the cycle is 0 (the
    /// settled balance moves with the balance), else owed on the due date as the obligation
    /// returned.
    fn settle_cash(
        &self,
        account: &mut Account,
        entries: &mut [LedgerDraft],
        hold: &Hold,
        now: DateTime<Utc>,
    ) -> Option<Obligation> {
        let net: Decimal = entries.iter().map(|entry| entry.cash_amount).sum();
        if self.calendar().is_immediate() {
            for entry in entries.iter_mut() {
                entry.settled_amount = entry.cash_amount;
            }
            account.settled_balance += net;
            return None;
        }
        let trade_date = SettlementCalendar::trade_date(now);
        Some(Obligation {
            key: entries.first().map(|entry| entry.step_key.clone())?,
            user_id: hold.user_id.clone(),
            order_id: hold.order_id,
            trade_date,
            due_date: self.calendar().due_date(trade_date),
            cash_amount: net,
            settled_at: None,
            created_at: now,
        })
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

/// The entries of a fill step in booking order, each with the wallet event that announces it:
/// the fill's (`ORDER_SETTLED`), its fees' (`FEE_CHARGED`, reason the fee), and the release of
/// what a FILLED left reserved.
fn bookings(
    entries: Vec<LedgerDraft>,
    release: Option<(LedgerDraft, Option<Decimal>)>,
    quantity: Quantity,
    label: &str,
) -> Vec<(LedgerDraft, EventKind)> {
    let mut bookings = Vec::with_capacity(entries.len() + 1);
    for entry in entries {
        let kind = match &entry.fee_name {
            Some(name) => EventKind::new(WalletEventType::FeeCharged, None).because(name),
            None => {
                EventKind::new(WalletEventType::OrderSettled, Some(quantity.value())).because(label)
            }
        };
        bookings.push((entry, kind));
    }
    if let Some((entry, released)) = release {
        let kind = EventKind::new(WalletEventType::ReservationReleased, released);
        bookings.push((entry, kind.because(label)));
    }
    bookings
}

/// Pays for a BUY fill and its fees from the order's reservation first and from available
/// cash for any cost above it; adds the shares at the new weighted average price, fees
/// included in the cost (the Brazilian rule). The SETTLEMENT entry, and what the reservation
/// has left for the fees.
fn settle_buy(
    account: &mut Account,
    position: &mut Position,
    hold: &mut Hold,
    step: &FillStep,
) -> Result<(LedgerDraft, Money), EventOutcome> {
    let cost = step.value;
    let total = cost
        .checked_add(step.fees_total, "cost")
        .map_err(|error| out_of_range(&error))?;
    let from_reservation = total.min(hold.reserved_amount);
    let above_reservation = total.checked_sub(from_reservation).unwrap_or(Money::ZERO);
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
        total,
    )
    .map_err(|error| out_of_range(&error))?;
    position.quantity = new_quantity;
    // Covered above: the total is at most the reservation plus the available cash, and the
    // reservation is part of the blocked balance.
    let not_covered = || dead_letter(DeadLetterReason::SettlementNotCovered, "cost above balance");
    account.balance = account.balance.checked_sub(total).ok_or_else(not_covered)?;
    account.blocked_balance = account
        .blocked_balance
        .checked_sub(from_reservation)
        .ok_or_else(not_covered)?;
    let cost_from_reservation = cost.min(hold.reserved_amount);
    let left_for_fees = hold
        .reserved_amount
        .checked_sub(cost_from_reservation)
        .unwrap_or(Money::ZERO);
    hold.reserved_amount = hold
        .reserved_amount
        .checked_sub(from_reservation)
        .unwrap_or(Money::ZERO);
    hold.fees_amount = hold
        .fees_amount
        .checked_add(step.fees_total, "fees")
        .map_err(|error| out_of_range(&error))?;
    let entry = LedgerDraft {
        entry_type: EntryType::Settlement,
        order_id: Some(hold.order_id),
        step_key: String::new(),
        fee_name: None,
        cash_amount: -cost.value(),
        blocked_amount: -cost_from_reservation.value(),
        settled_amount: Decimal::ZERO,
        ticker: Some(hold.ticker.clone()),
        quantity: step.quantity.value(),
        blocked_quantity: Decimal::ZERO,
    };
    Ok((entry, left_for_fees))
}

/// Delivers the shares of a SELL fill from the order's reservation first and from available
/// shares for the rest; credits the proceeds, charges the fees from them and books the realized
/// P&L, fees taken off the proceeds (the Brazilian rule). The SALE entry, and no reservation
/// for the fees.
fn settle_sell(
    account: &mut Account,
    position: &mut Position,
    hold: &mut Hold,
    step: &FillStep,
) -> Result<(LedgerDraft, Money), EventOutcome> {
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
    if step.fees_total > account.available_balance() {
        return Err(dead_letter(
            DeadLetterReason::SettlementNotCovered,
            format!(
                "fees {} of order {} are above the proceeds and the available cash",
                step.fees_total, hold.order_id
            ),
        ));
    }
    account.balance = account
        .balance
        .checked_sub(step.fees_total)
        .unwrap_or(Money::ZERO);
    let cost_basis = settlement_value(quantity, position.average_price, account.currency)
        .map_err(|error| out_of_range(&error))?;
    position
        .book_realized_pnl(proceeds.value() - step.fees_total.value() - cost_basis.value())
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
    hold.fees_amount = hold
        .fees_amount
        .checked_add(step.fees_total, "fees")
        .map_err(|error| out_of_range(&error))?;
    let entry = LedgerDraft {
        entry_type: EntryType::Sale,
        order_id: Some(hold.order_id),
        step_key: String::new(),
        fee_name: None,
        cash_amount: proceeds.value(),
        blocked_amount: Decimal::ZERO,
        settled_amount: Decimal::ZERO,
        ticker: Some(hold.ticker.clone()),
        quantity: -quantity.value(),
        blocked_quantity: -from_reservation.value(),
    };
    Ok((entry, Money::ZERO))
}
