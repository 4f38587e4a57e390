//! Order events → effects (SPEC §3): reserve on PENDING, settle fills by cumulative quantity,
//! release on the end of an order or on expiry.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use super::EventOutcome;
use super::book::{EventDraft, LedgerDraft, WalletBook};
use super::steps;
use crate::account::{Account, Position};
use crate::amount::{AmountError, Money, Price, Quantity, reservation_cost, settlement_value};
use crate::dead_letter::{DeadLetterReason, Rejection};
use crate::hold::{DenyReason, Hold, HoldStatus, Side};
use crate::ids::OrderId;
use crate::ledger::EntryType;
use crate::order_event::{OrderEvent, OrderStatus};
use crate::wallet_event::WalletEventType;

fn dead_letter(reason: DeadLetterReason, detail: impl Into<String>) -> EventOutcome {
    EventOutcome::DeadLetter(Rejection::new(reason, detail))
}

fn out_of_range(error: &AmountError) -> EventOutcome {
    dead_letter(DeadLetterReason::AmountOutOfRange, error.to_string())
}

fn new_hold(event: &OrderEvent, now: DateTime<Utc>) -> Hold {
    Hold {
        order_id: event.order_id,
        user_id: event.user_id.clone(),
        side: event.side,
        ticker: event.ticker.clone(),
        quantity: event.quantity,
        limit_price: event.price,
        reserved_amount: Money::ZERO,
        reserved_quantity: Quantity::ZERO,
        filled_quantity: Quantity::ZERO,
        filled_amount: Money::ZERO,
        status: HoldStatus::Reserved,
        deny_reason: None,
        version: 0,
        created_at: now,
        updated_at: now,
    }
}

impl WalletBook {
    /// Applies one order event. Never fails: every outcome, including a dead letter, is a
    /// value, and a dead-lettered event leaves the book as it was.
    pub fn apply_order_event(&mut self, event: &OrderEvent, now: DateTime<Utc>) -> EventOutcome {
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
            OrderStatus::Pending => self.reserve(event, now),
            OrderStatus::PartiallyFilled | OrderStatus::Filled => self.settle(event, now),
            OrderStatus::Ended(status) => self.end(event, status, now),
        }
    }

    /// Releases an active hold whose order saw no final event within the hold time-to-live:
    /// hold EXPIRED, ledger REFUND / ASSET_RELEASE, `RESERVATION_RELEASED` with reason
    /// `EXPIRED`. Anything else is a duplicate.
    pub fn expire_hold(&mut self, order: OrderId, now: DateTime<Utc>) -> EventOutcome {
        match self.hold(order) {
            Some(hold) if hold.status.is_active() => {
                let hold = hold.clone();
                self.release(hold, HoldStatus::Expired, "EXPIRED", now)
            }
            _ => EventOutcome::Duplicate,
        }
    }

    fn deny(&mut self, mut hold: Hold, reason: DenyReason, now: DateTime<Utc>) -> EventOutcome {
        hold.status = HoldStatus::Denied;
        hold.deny_reason = Some(reason);
        hold.updated_at = now;
        self.publish(
            EventDraft {
                step_key: steps::once(hold.order_id, "DENIED"),
                event_type: WalletEventType::ReservationRejected,
                user_id: hold.user_id.clone(),
                order_id: Some(hold.order_id),
                amount: None,
                ticker: Some(hold.ticker.clone()),
                quantity: Some(hold.quantity.value()),
                reason: Some(reason.as_str().to_owned()),
            },
            now,
        );
        self.put_hold(hold);
        EventOutcome::Denied(reason)
    }

    fn reserve(&mut self, event: &OrderEvent, now: DateTime<Utc>) -> EventOutcome {
        if self.hold(event.order_id).is_some() {
            return EventOutcome::Duplicate;
        }
        let mut hold = new_hold(event, now);
        let Some(mut account) = self.account(&event.user_id).cloned() else {
            return self.deny(hold, DenyReason::AccountNotFound, now);
        };
        account.updated_at = now;
        match event.side {
            Side::Buy => {
                // The parser guarantees a price on PENDING.
                let Some(price) = event.price else {
                    return dead_letter(
                        DeadLetterReason::MissingField,
                        "price is required for PENDING",
                    );
                };
                let needed = match reservation_cost(event.quantity, price, account.currency) {
                    Ok(needed) => needed,
                    Err(error) => return out_of_range(&error),
                };
                if account.available_balance() < needed {
                    return self.deny(hold, DenyReason::InsufficientFunds, now);
                }
                account.blocked_balance =
                    Money::from_stored(account.blocked_balance.value() + needed.value());
                hold.reserved_amount = needed;
                self.book_entry(
                    LedgerDraft {
                        entry_type: EntryType::Reserve,
                        order_id: Some(hold.order_id),
                        step_key: steps::once(hold.order_id, "RESERVE"),
                        cash_amount: Decimal::ZERO,
                        blocked_amount: needed.value(),
                        ticker: Some(hold.ticker.clone()),
                        quantity: Decimal::ZERO,
                        blocked_quantity: Decimal::ZERO,
                    },
                    &account,
                    now,
                );
                self.publish(
                    EventDraft {
                        step_key: steps::once(hold.order_id, "RESERVE"),
                        event_type: WalletEventType::FundsReserved,
                        user_id: hold.user_id.clone(),
                        order_id: Some(hold.order_id),
                        amount: Some(scaled(needed, &account)),
                        ticker: Some(hold.ticker.clone()),
                        quantity: Some(hold.quantity.value()),
                        reason: None,
                    },
                    now,
                );
                self.put_account(account);
            }
            Side::Sell => {
                let Some(mut position) = self.position(&event.user_id, &event.ticker).cloned()
                else {
                    return self.deny(hold, DenyReason::InsufficientPosition, now);
                };
                if position.available_quantity() < event.quantity {
                    return self.deny(hold, DenyReason::InsufficientPosition, now);
                }
                position.blocked_quantity = Quantity::from_stored(
                    position.blocked_quantity.value() + event.quantity.value(),
                );
                position.updated_at = now;
                hold.reserved_quantity = event.quantity;
                self.book_entry(
                    LedgerDraft {
                        entry_type: EntryType::AssetReserve,
                        order_id: Some(hold.order_id),
                        step_key: steps::once(hold.order_id, "ASSET_RESERVE"),
                        cash_amount: Decimal::ZERO,
                        blocked_amount: Decimal::ZERO,
                        ticker: Some(hold.ticker.clone()),
                        quantity: Decimal::ZERO,
                        blocked_quantity: event.quantity.value(),
                    },
                    &account,
                    now,
                );
                self.publish(
                    EventDraft {
                        step_key: steps::once(hold.order_id, "ASSET_RESERVE"),
                        event_type: WalletEventType::AssetsReserved,
                        user_id: hold.user_id.clone(),
                        order_id: Some(hold.order_id),
                        amount: None,
                        ticker: Some(hold.ticker.clone()),
                        quantity: Some(event.quantity.value()),
                        reason: None,
                    },
                    now,
                );
                self.put_position(position);
            }
        }
        self.put_hold(hold);
        EventOutcome::Applied
    }

    fn end(&mut self, event: &OrderEvent, status: &str, now: DateTime<Utc>) -> EventOutcome {
        match self.hold(event.order_id) {
            None => {
                // Recorded so that a PENDING arriving late is a no-op.
                let mut hold = new_hold(event, now);
                hold.status = HoldStatus::Released;
                self.put_hold(hold);
                EventOutcome::Applied
            }
            Some(hold) if hold.status.is_active() => {
                let hold = hold.clone();
                self.release(hold, HoldStatus::Released, status, now)
            }
            Some(_) => EventOutcome::Duplicate,
        }
    }

    /// Releases what `hold` still blocks and moves it to `final_status`.
    fn release(
        &mut self,
        mut hold: Hold,
        final_status: HoldStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> EventOutcome {
        let Some(account) = self.account(&hold.user_id).cloned() else {
            // An active hold always has an account: it was reserved or settled against it.
            return dead_letter(
                DeadLetterReason::OrderMismatch,
                format!("no account for active hold {}", hold.order_id),
            );
        };
        let (amount, quantity) = (hold.reserved_amount, hold.reserved_quantity);
        self.release_remainder(&mut hold, account.clone(), now);
        hold.status = final_status;
        hold.updated_at = now;
        self.publish(
            EventDraft {
                step_key: steps::once(hold.order_id, "RELEASE"),
                event_type: WalletEventType::ReservationReleased,
                user_id: hold.user_id.clone(),
                order_id: Some(hold.order_id),
                amount: (hold.side == Side::Buy).then(|| scaled(amount, &account)),
                ticker: Some(hold.ticker.clone()),
                quantity: (hold.side == Side::Sell).then(|| quantity.value()),
                reason: Some(reason.to_owned()),
            },
            now,
        );
        self.put_hold(hold);
        EventOutcome::Applied
    }

    /// Unblocks the cash or shares `hold` still reserves, with its ledger entry, and zeroes the
    /// hold's reservation. Writes the account or position back.
    fn release_remainder(&mut self, hold: &mut Hold, mut account: Account, now: DateTime<Utc>) {
        match hold.side {
            Side::Buy if !hold.reserved_amount.is_zero() => {
                let released = hold.reserved_amount;
                account.blocked_balance =
                    Money::from_stored(account.blocked_balance.value() - released.value());
                account.updated_at = now;
                hold.reserved_amount = Money::ZERO;
                self.book_entry(
                    LedgerDraft {
                        entry_type: EntryType::Refund,
                        order_id: Some(hold.order_id),
                        step_key: steps::once(hold.order_id, "REFUND"),
                        cash_amount: Decimal::ZERO,
                        blocked_amount: -released.value(),
                        ticker: Some(hold.ticker.clone()),
                        quantity: Decimal::ZERO,
                        blocked_quantity: Decimal::ZERO,
                    },
                    &account,
                    now,
                );
                self.put_account(account);
            }
            Side::Sell if !hold.reserved_quantity.is_zero() => {
                let released = hold.reserved_quantity;
                let Some(mut position) = self.position(&hold.user_id, &hold.ticker).cloned() else {
                    unreachable!(
                        "shares reserved by order {} without a position",
                        hold.order_id
                    );
                };
                position.blocked_quantity =
                    Quantity::from_stored(position.blocked_quantity.value() - released.value());
                position.updated_at = now;
                hold.reserved_quantity = Quantity::ZERO;
                self.book_entry(
                    LedgerDraft {
                        entry_type: EntryType::AssetRelease,
                        order_id: Some(hold.order_id),
                        step_key: steps::once(hold.order_id, "ASSET_RELEASE"),
                        cash_amount: Decimal::ZERO,
                        blocked_amount: Decimal::ZERO,
                        ticker: Some(hold.ticker.clone()),
                        quantity: Decimal::ZERO,
                        blocked_quantity: -released.value(),
                    },
                    &account,
                    now,
                );
                self.put_position(position);
            }
            Side::Buy | Side::Sell => {}
        }
    }

    fn settle(&mut self, event: &OrderEvent, now: DateTime<Utc>) -> EventOutcome {
        let (Some(target), Some(executed_price)) = (event.filled_quantity, event.executed_price)
        else {
            return dead_letter(
                DeadLetterReason::MissingExecutedPrice,
                "a fill needs executedPrice and filledQuantity",
            );
        };
        let is_final = event.status == OrderStatus::Filled;
        let mut hold = match self.hold(event.order_id) {
            // A fill after expiry is still booked: the trade happened. Nothing is reserved any
            // more, so it settles from what is available, as if no hold existed.
            Some(hold) if hold.status.is_active() || hold.status == HoldStatus::Expired => {
                hold.clone()
            }
            Some(_) => return EventOutcome::Duplicate,
            None => new_hold(event, now),
        };
        if target > hold.quantity {
            return dead_letter(
                DeadLetterReason::OrderMismatch,
                format!(
                    "filled quantity {target} is above the ordered {}",
                    hold.quantity
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
        if target <= hold.filled_quantity {
            if is_final && hold.status.is_active() {
                // Everything was settled by partial fills; the FILLED only closes the order.
                self.release_remainder(&mut hold, account, now);
                hold.status = HoldStatus::Filled;
                hold.updated_at = now;
                self.put_hold(hold);
                return EventOutcome::Applied;
            }
            return EventOutcome::Duplicate;
        }

        let cumulative_value = match settlement_value(target, executed_price, account.currency) {
            Ok(value) => value,
            Err(error) => return out_of_range(&error),
        };
        let Some(step_value) = cumulative_value.checked_sub(hold.filled_amount) else {
            return dead_letter(
                DeadLetterReason::OrderMismatch,
                format!(
                    "executed price {executed_price} is below what earlier fills of the order settled"
                ),
            );
        };
        let step_quantity = Quantity::from_stored(target.value() - hold.filled_quantity.value());
        let mut position = self
            .position(&event.user_id, &event.ticker)
            .cloned()
            .unwrap_or_else(|| Position::open(event.user_id.clone(), event.ticker.clone(), now));
        position.updated_at = now;

        let settled = match hold.side {
            Side::Buy => settle_buy(
                &mut account,
                &mut position,
                &mut hold,
                step_quantity,
                step_value,
            ),
            Side::Sell => settle_sell(
                &mut account,
                &mut position,
                &mut hold,
                step_quantity,
                step_value,
            ),
        };
        let mut entry = match settled {
            Ok(entry) => entry,
            Err(outcome) => return outcome,
        };
        entry.step_key = steps::fill(hold.order_id, entry.entry_type, target);
        hold.filled_quantity = target;
        hold.filled_amount = cumulative_value;
        hold.status = if is_final {
            HoldStatus::Filled
        } else {
            HoldStatus::PartiallyFilled
        };
        hold.updated_at = now;

        let entry_type = entry.entry_type;
        self.book_entry(entry, &account, now);
        self.publish(
            EventDraft {
                step_key: steps::fill(hold.order_id, entry_type, target),
                event_type: WalletEventType::OrderSettled,
                user_id: hold.user_id.clone(),
                order_id: Some(hold.order_id),
                amount: Some(scaled(step_value, &account)),
                ticker: Some(hold.ticker.clone()),
                quantity: Some(step_quantity.value()),
                reason: Some(event.status.label().to_owned()),
            },
            now,
        );
        self.record_trade(&hold.ticker, executed_price, now);
        self.put_position(position);
        self.put_account(account.clone());
        if is_final {
            self.release_remainder(&mut hold, account, now);
        }
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
    quantity: Quantity,
    cost: Money,
) -> Result<LedgerDraft, EventOutcome> {
    let from_reservation = cost.min(hold.reserved_amount);
    let above_reservation = Money::from_stored(cost.value() - from_reservation.value());
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
        .checked_add(quantity)
        .map_err(|error| out_of_range(&error))?;
    position.average_price =
        Price::weighted_average(position.quantity, position.average_price, quantity, cost);
    position.quantity = new_quantity;
    account.balance = Money::from_stored(account.balance.value() - cost.value());
    account.blocked_balance =
        Money::from_stored(account.blocked_balance.value() - from_reservation.value());
    hold.reserved_amount =
        Money::from_stored(hold.reserved_amount.value() - from_reservation.value());
    Ok(LedgerDraft {
        entry_type: EntryType::Settlement,
        order_id: Some(hold.order_id),
        step_key: String::new(),
        cash_amount: -cost.value(),
        blocked_amount: -from_reservation.value(),
        ticker: Some(hold.ticker.clone()),
        quantity: quantity.value(),
        blocked_quantity: Decimal::ZERO,
    })
}

/// Delivers the shares of a SELL fill from the order's reservation first and from available
/// shares for the rest; credits the proceeds and books the realized P&L.
fn settle_sell(
    account: &mut Account,
    position: &mut Position,
    hold: &mut Hold,
    quantity: Quantity,
    proceeds: Money,
) -> Result<LedgerDraft, EventOutcome> {
    let from_reservation = quantity.min(hold.reserved_quantity);
    let above_reservation = Quantity::from_stored(quantity.value() - from_reservation.value());
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
    let cost_basis = (quantity.value() * position.average_price.value()).round_dp_with_strategy(
        account.currency.scale(),
        RoundingStrategy::MidpointNearestEven,
    );
    position.realized_pnl += proceeds.value() - cost_basis;
    position.quantity = Quantity::from_stored(position.quantity.value() - quantity.value());
    position.blocked_quantity =
        Quantity::from_stored(position.blocked_quantity.value() - from_reservation.value());
    hold.reserved_quantity =
        Quantity::from_stored(hold.reserved_quantity.value() - from_reservation.value());
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

/// A cash amount with exactly the account currency's fractional digits, as events carry it.
fn scaled(amount: Money, account: &Account) -> Decimal {
    let mut value = amount.value();
    value.rescale(account.currency.scale());
    value
}
