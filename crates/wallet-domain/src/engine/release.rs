//! REJECTED, CANCELED, CANCELLED, EXPIRED and the sweeper's expiry (SPEC §3): release what a
//! hold still reserves. A hold is released once: it turns final, and a final hold never blocks
//! anything again. An ending for an order the wallet never saw records a RELEASED hold, so that
//! a late PENDING is a no-op.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::EventOutcome;
use super::book::{Announcement, EventKind, LedgerDraft, WalletBook};
use super::order::{dead_letter, new_hold};
use super::steps;
use crate::account::Account;
use crate::account::Position;
use crate::amount::{Money, Quantity};
use crate::dead_letter::DeadLetterReason;
use crate::hold::{Hold, HoldStatus, Side};
use crate::ledger::{EntryType, StatementLine, TransactionType};
use crate::order_event::OrderEvent;
use crate::wallet_event::WalletEventType;

impl WalletBook {
    pub(super) fn end(
        &mut self,
        event: &OrderEvent,
        status: &str,
        now: DateTime<Utc>,
    ) -> EventOutcome {
        match self.hold(event.order_id) {
            None => {
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

    /// Releases what the active `hold` still blocks, moves it to `final_status` and publishes
    /// `RESERVATION_RELEASED` with `reason`, also when nothing was left to release.
    pub(super) fn release(
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
        match self.release_remainder(&mut hold, account, reason, now) {
            Ok(true) => {}
            Ok(false) => self.announce_empty_release(&hold, reason, now),
            Err(outcome) => return outcome,
        }
        hold.status = final_status;
        hold.updated_at = now;
        self.put_hold(hold);
        EventOutcome::Applied
    }

    /// Unblocks the cash or shares `hold` still reserves, books the REFUND or ASSET_RELEASE
    /// and publishes `RESERVATION_RELEASED` with `reason`; zeroes the hold's reservation and
    /// writes the account (and position) back. False when nothing was reserved any more.
    ///
    /// # Errors
    /// As [`take_remainder`]; nothing is changed.
    fn release_remainder(
        &mut self,
        hold: &mut Hold,
        mut account: Account,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, EventOutcome> {
        let mut position = self.position(&hold.user_id, &hold.ticker).cloned();
        let Some((entry, quantity)) = take_remainder(hold, &mut account, position.as_mut())? else {
            return Ok(false);
        };
        account.updated_at = now;
        self.book(
            entry,
            EventKind::new(WalletEventType::ReservationReleased, quantity).because(reason),
            &account,
            now,
        );
        if let (Some(mut position), Some(_)) = (position, quantity) {
            position.updated_at = now;
            self.put_position(position);
        }
        self.put_account(account);
        Ok(true)
    }

    /// `RESERVATION_RELEASED` for a hold whose reservation was used up by its fills.
    fn announce_empty_release(&mut self, hold: &Hold, reason: &str, now: DateTime<Utc>) {
        let Some(account) = self.account(&hold.user_id).cloned() else {
            return;
        };
        let transaction_type = match hold.side {
            Side::Buy => TransactionType::Refund,
            Side::Sell => TransactionType::AssetRelease,
        };
        self.announce(
            Announcement {
                step_key: steps::once(hold.order_id, "RELEASE"),
                event_type: WalletEventType::ReservationReleased,
                order_id: Some(hold.order_id),
                ticker: Some(hold.ticker.clone()),
                quantity: (hold.side == Side::Sell).then_some(Decimal::ZERO),
                reason: Some(reason.to_owned()),
                line: StatementLine::empty(transaction_type),
            },
            &account,
            now,
        );
    }
}

/// Takes what `hold` still reserves off the account (BUY) or the position (SELL), and zeroes
/// the hold's reservation: the REFUND or ASSET_RELEASE to book and the shares released.
/// `None` when nothing is reserved any more.
///
/// # Errors
/// A dead letter when the account or position does not block what the hold reserves (stored
/// data that breaks an invariant): nothing is released into negative numbers.
pub(super) fn take_remainder(
    hold: &mut Hold,
    account: &mut Account,
    position: Option<&mut Position>,
) -> Result<Option<(LedgerDraft, Option<Decimal>)>, EventOutcome> {
    let unbalanced = |what: &str| {
        dead_letter(
            DeadLetterReason::OrderMismatch,
            format!(
                "hold {} reserves {what} that its account or position does not block",
                hold.order_id
            ),
        )
    };
    let mut entry = LedgerDraft {
        entry_type: EntryType::Refund,
        order_id: Some(hold.order_id),
        step_key: steps::once(hold.order_id, "REFUND"),
        fee_name: None,
        cash_amount: Decimal::ZERO,
        blocked_amount: Decimal::ZERO,
        settled_amount: Decimal::ZERO,
        ticker: Some(hold.ticker.clone()),
        quantity: Decimal::ZERO,
        blocked_quantity: Decimal::ZERO,
    };
    let quantity = match hold.side {
        Side::Buy if !hold.reserved_amount.is_zero() => {
            let released = hold.reserved_amount;
            account.blocked_balance = account
                .blocked_balance
                .checked_sub(released)
                .ok_or_else(|| unbalanced("cash"))?;
            entry.blocked_amount = -released.value();
            None
        }
        Side::Sell if !hold.reserved_quantity.is_zero() => {
            let released = hold.reserved_quantity;
            let position = position.ok_or_else(|| unbalanced("shares"))?;
            position.blocked_quantity = position
                .blocked_quantity
                .checked_sub(released)
                .ok_or_else(|| unbalanced("shares"))?;
            entry.entry_type = EntryType::AssetRelease;
            entry.step_key = steps::once(hold.order_id, "ASSET_RELEASE");
            entry.blocked_quantity = -released.value();
            Some(released.value())
        }
        Side::Buy | Side::Sell => return Ok(None),
    };
    hold.reserved_amount = Money::ZERO;
    hold.reserved_quantity = Quantity::ZERO;
    Ok(Some((entry, quantity)))
}
