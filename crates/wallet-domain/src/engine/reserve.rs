//! PENDING (SPEC §3): reserve what the order may consume — cash for a BUY, rounded up to the
//! cash scale, with the most its fees can be; shares for a SELL — or deny the hold with a
//! reason. A hold that exists already makes a PENDING a no-op.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::EventOutcome;
use super::book::{Announcement, EventKind, LedgerDraft, WalletBook};
use super::order::{new_hold, out_of_range};
use super::steps;
use crate::account::Account;
use crate::amount::{AmountError, Currency, Money, Price, reservation_cost};
use crate::hold::{DenyReason, Hold, HoldStatus, Side};
use crate::ledger::{EntryType, StatementLine, TransactionType};
use crate::order_event::OrderEvent;
use crate::wallet_event::WalletEventType;

impl WalletBook {
    pub(super) fn reserve(
        &mut self,
        event: &OrderEvent,
        limit_price: Price,
        now: DateTime<Utc>,
    ) -> EventOutcome {
        if self.hold(event.order_id).is_some() {
            return EventOutcome::Duplicate;
        }
        let hold = new_hold(event, now);
        let Some(account) = self.account(&event.user_id).cloned() else {
            return self.deny(hold, DenyReason::AccountNotFound, now);
        };
        match event.side {
            Side::Buy => self.reserve_cash(hold, account, limit_price, now),
            Side::Sell => self.reserve_shares(hold, account, now),
        }
    }

    fn reserve_cash(
        &mut self,
        mut hold: Hold,
        mut account: Account,
        limit_price: Price,
        now: DateTime<Utc>,
    ) -> EventOutcome {
        let needed = match self.cash_to_reserve(&hold, limit_price, account.currency) {
            Ok(needed) => needed,
            Err(error) => return out_of_range(&error),
        };
        if account.available_balance() < needed {
            return self.deny(hold, DenyReason::InsufficientFunds, now);
        }
        account.blocked_balance = match account.blocked_balance.checked_add(needed, "blocked") {
            Ok(blocked) => blocked,
            Err(error) => return out_of_range(&error),
        };
        account.updated_at = now;
        hold.reserved_amount = needed;
        self.book(
            LedgerDraft {
                entry_type: EntryType::Reserve,
                order_id: Some(hold.order_id),
                step_key: steps::once(hold.order_id, "RESERVE"),
                fee_name: None,
                cash_amount: Decimal::ZERO,
                blocked_amount: needed.value(),
                settled_amount: Decimal::ZERO,
                ticker: Some(hold.ticker.clone()),
                quantity: Decimal::ZERO,
                blocked_quantity: Decimal::ZERO,
            },
            EventKind::new(WalletEventType::FundsReserved, Some(hold.quantity.value())),
            &account,
            now,
        );
        self.put_account(account);
        self.put_hold(hold);
        EventOutcome::Applied
    }

    /// ⌈quantity × limit⌉ and the most the order's fees can be: the fees of that notional, which
    /// no fill within the limit exceeds (see [`crate::fees`]).
    fn cash_to_reserve(
        &self,
        hold: &Hold,
        limit_price: Price,
        currency: Currency,
    ) -> Result<Money, AmountError> {
        let cost = reservation_cost(hold.quantity, limit_price, currency)?;
        let fees = self.fees().total(Side::Buy, cost, currency)?;
        cost.checked_add(fees, "reservation")
    }

    /// Blocks the order's shares. The account is written back too, although its balances do
    /// not change: the entry's `balanceAfter` comes from it, and only a stored (so
    /// version-checked) account guarantees a concurrent withdrawal did not change it meanwhile.
    fn reserve_shares(
        &mut self,
        mut hold: Hold,
        mut account: Account,
        now: DateTime<Utc>,
    ) -> EventOutcome {
        let Some(mut position) = self.position(&hold.user_id, &hold.ticker).cloned() else {
            return self.deny(hold, DenyReason::InsufficientPosition, now);
        };
        if position.available_quantity() < hold.quantity {
            return self.deny(hold, DenyReason::InsufficientPosition, now);
        }
        position.blocked_quantity = match position.blocked_quantity.checked_add(hold.quantity) {
            Ok(blocked) => blocked,
            Err(error) => return out_of_range(&error),
        };
        position.updated_at = now;
        account.updated_at = now;
        hold.reserved_quantity = hold.quantity;
        self.book(
            LedgerDraft {
                entry_type: EntryType::AssetReserve,
                order_id: Some(hold.order_id),
                step_key: steps::once(hold.order_id, "ASSET_RESERVE"),
                fee_name: None,
                cash_amount: Decimal::ZERO,
                blocked_amount: Decimal::ZERO,
                settled_amount: Decimal::ZERO,
                ticker: Some(hold.ticker.clone()),
                quantity: Decimal::ZERO,
                blocked_quantity: hold.quantity.value(),
            },
            EventKind::new(WalletEventType::AssetsReserved, Some(hold.quantity.value())),
            &account,
            now,
        );
        self.put_position(position);
        self.put_account(account);
        self.put_hold(hold);
        EventOutcome::Applied
    }

    /// Records the refusal: the hold is DENIED (final) and `RESERVATION_REJECTED` published;
    /// no balance changes.
    fn deny(&mut self, mut hold: Hold, reason: DenyReason, now: DateTime<Utc>) -> EventOutcome {
        hold.status = HoldStatus::Denied;
        hold.deny_reason = Some(reason);
        hold.updated_at = now;
        let announcement = Announcement {
            step_key: steps::once(hold.order_id, "DENIED"),
            event_type: WalletEventType::ReservationRejected,
            order_id: Some(hold.order_id),
            ticker: Some(hold.ticker.clone()),
            quantity: Some(hold.quantity.value()),
            reason: Some(reason.as_str().to_owned()),
            line: StatementLine::empty(TransactionType::Rejected),
        };
        // An account that does not exist has no balances: the event reports zeros.
        let account = self
            .account(&hold.user_id)
            .cloned()
            .unwrap_or_else(|| Account::open(hold.user_id.clone(), self.default_currency(), now));
        self.announce(announcement, &account, now);
        self.put_hold(hold);
        EventOutcome::Denied(reason)
    }
}
