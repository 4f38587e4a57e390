//! What a corporate action books for one holder (see [`crate::corporate_actions`]): the cash of
//! an entitlement on its payment date, or the change of shares on the effective date.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::EventOutcome;
use super::book::{EventKind, LedgerDraft, WalletBook};
use crate::account::Account;
use crate::amount::{AmountError, Money, Quantity};
use crate::corporate_actions::{
    ActionRecord, ActionTerms, Adjusted, Entitlement, Holding, Ratio, bonus, split,
};
use crate::hold::HoldStatus;
use crate::ids::{Ticker, UserId};
use crate::ledger::EntryType;
use crate::wallet_event::WalletEventType;

/// Step key of one entry a corporate action booked for one holder. Neither an action id nor a
/// user id holds a `/`, and no other step key starts with `corporate/`.
fn step(action_id: &str, user: &UserId, entry_type: EntryType) -> String {
    format!("corporate/{action_id}/{user}/{entry_type}")
}

fn cash_draft(
    record: &ActionRecord,
    user: &UserId,
    entry_type: EntryType,
    amount: Decimal,
) -> LedgerDraft {
    LedgerDraft {
        entry_type,
        order_id: None,
        step_key: step(&record.action.id, user, entry_type),
        fee_name: None,
        cash_amount: amount,
        blocked_amount: Decimal::ZERO,
        // Cash from the issuer is paid, not traded: it settles at once.
        settled_amount: amount,
        ticker: Some(record.action.ticker.clone()),
        quantity: Decimal::ZERO,
        blocked_quantity: Decimal::ZERO,
    }
}

impl WalletBook {
    /// True when the book holds every active SELL hold of `user` in `ticker`: their
    /// reservations add up to the position's blocked quantity (the audit's rule).
    #[must_use]
    pub fn sell_holds_loaded(&self, user: &UserId, ticker: &Ticker) -> bool {
        let reserved: Decimal = self
            .active_sell_holds(user, ticker)
            .iter()
            .map(|hold| hold.reserved_quantity.value())
            .sum();
        self.position(user, ticker)
            .is_none_or(|position| position.blocked_quantity.value() <= reserved)
    }

    /// Credits `entitlement` of `record`: the gross dividend or JCP (and the tax withheld from
    /// it), or the cash in lieu of a fraction, each its own ledger entry announced as
    /// `CORPORATE_ACTION_APPLIED`. An entitlement paid already is a duplicate.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] when the balance would leave the wallet's range.
    pub fn pay_entitlement(
        &mut self,
        record: &ActionRecord,
        entitlement: &Entitlement,
        now: DateTime<Utc>,
    ) -> Result<EventOutcome, AmountError> {
        if entitlement.paid_at.is_some() {
            return Ok(EventOutcome::Duplicate);
        }
        let user = &entitlement.user_id;
        let before = self
            .account(user)
            .cloned()
            .unwrap_or_else(|| Account::open(user.clone(), self.default_currency(), now));
        let gross_type = match record.action.terms {
            ActionTerms::CashDividend { .. } => EntryType::Dividend,
            ActionTerms::InterestOnEquity { .. } => EntryType::InterestOnEquity,
            _ => EntryType::CashInLieu,
        };
        let mut steps = vec![cash_draft(
            record,
            user,
            gross_type,
            entitlement.gross.value(),
        )];
        if !entitlement.withheld.is_zero() {
            steps.push(cash_draft(
                record,
                user,
                EntryType::TaxWithheld,
                -entitlement.withheld.value(),
            ));
        }
        let net = Money::from_stored(entitlement.net());
        let mut after = before.clone();
        after.balance = after.balance.checked_add(net, "balance")?;
        after.settled_balance += net.value();
        after.updated_at = now;
        let event = || {
            EventKind::new(WalletEventType::CorporateActionApplied, None).because(&record.action.id)
        };
        self.book_in_turn(
            &before,
            steps.into_iter().map(|draft| (draft, event())).collect(),
            now,
        );
        self.put_account(after);
        self.mark_paid(Entitlement {
            paid_at: Some(now),
            ..entitlement.clone()
        });
        Ok(EventOutcome::Applied)
    }

    /// Applies the share action `record` to the position of `user`: quantity, blocked quantity
    /// and average price, the open SELL orders' reserved shares with them, in one ledger entry
    /// announced as `CORPORATE_ACTION_APPLIED`. Returns the shares added (negative: removed)
    /// and the cash owed for a fraction, or `None` when the holder has no shares.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] when a number would leave the wallet's range.
    pub fn adjust_shares(
        &mut self,
        record: &ActionRecord,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<(Decimal, Option<Entitlement>)>, AmountError> {
        let ticker = &record.action.ticker;
        let Some(position) = self.position(user, ticker).cloned() else {
            return Ok(None);
        };
        if position.quantity.is_zero() {
            return Ok(None);
        }
        let currency = self
            .account(user)
            .map_or(self.default_currency(), |account| account.currency);
        let holding = Holding {
            quantity: position.quantity,
            blocked_quantity: position.blocked_quantity,
            average_price: position.average_price,
        };
        let (entry_type, adjusted, scaled_ratio) = match &record.action.terms {
            ActionTerms::Split { ratio, .. } => (
                EntryType::Split,
                split(holding, *ratio, crate::amount::Price::ZERO, currency)?,
                Some(*ratio),
            ),
            ActionTerms::ReverseSplit {
                ratio,
                fraction_price,
                ..
            } => (
                EntryType::ReverseSplit,
                split(holding, *ratio, *fraction_price, currency)?,
                Some(*ratio),
            ),
            ActionTerms::BonusShares {
                ratio,
                cost_per_share,
                fraction_price,
                ..
            } => (
                EntryType::BonusShares,
                bonus(
                    holding,
                    *ratio,
                    *cost_per_share,
                    fraction_price.unwrap_or(*cost_per_share),
                    currency,
                )?,
                None,
            ),
            ActionTerms::CashDividend { .. } | ActionTerms::InterestOnEquity { .. } => {
                return Ok(None);
            }
        };
        let blocked = match scaled_ratio {
            Some(ratio) => {
                self.scale_sell_holds(user, ticker, position.blocked_quantity, ratio, now)
            }
            None => position.blocked_quantity,
        };
        let quantity_delta = adjusted.quantity.value() - position.quantity.value();
        let blocked_delta = blocked.value() - position.blocked_quantity.value();
        let mut after = position.clone();
        after.quantity = adjusted.quantity;
        after.blocked_quantity = blocked;
        after.average_price = adjusted.average_price;
        after.updated_at = now;
        let account = self
            .account(user)
            .cloned()
            .unwrap_or_else(|| Account::open(user.clone(), currency, now));
        self.book(
            LedgerDraft {
                entry_type,
                order_id: None,
                step_key: step(&record.action.id, user, entry_type),
                fee_name: None,
                cash_amount: Decimal::ZERO,
                blocked_amount: Decimal::ZERO,
                settled_amount: Decimal::ZERO,
                ticker: Some(ticker.clone()),
                quantity: quantity_delta,
                blocked_quantity: blocked_delta,
            },
            EventKind::new(
                WalletEventType::CorporateActionApplied,
                Some(quantity_delta),
            )
            .because(&record.action.id),
            &account,
            now,
        );
        self.put_position(after);
        Ok(Some((
            quantity_delta,
            fraction_owed(record, user, position.quantity, &adjusted),
        )))
    }

    /// Scales the reserved shares, ordered quantity, filled quantity and limit price of the
    /// active SELL holds of `user` by `ratio`, whole shares down, and releases those a reverse
    /// split meets partly filled; returns the blocked quantity after it. Shares blocked by no
    /// hold (imported ones) scale the same way.
    fn scale_sell_holds(
        &mut self,
        user: &UserId,
        ticker: &Ticker,
        blocked: Quantity,
        ratio: Ratio,
        now: DateTime<Utc>,
    ) -> Quantity {
        let holds = self.active_sell_holds(user, ticker);
        let held: Decimal = holds
            .iter()
            .map(|hold| hold.reserved_quantity.value())
            .sum();
        let unheld = Quantity::from_stored((blocked.value() - held).max(Decimal::ZERO));
        let mut total = ratio.scale_whole(unheld).value();
        let reverse = ratio.shares_after() < ratio.shares_before();
        for mut hold in holds {
            if reverse && !hold.filled_quantity.is_zero() {
                // Fills are keyed by their cumulative quantity: scaled down, the next fill's
                // cumulative could repeat one already booked. The rest of the order is released
                // instead, its filled quantity kept, so a later fill's key is always new.
                hold.reserved_quantity = Quantity::ZERO;
                hold.status = HoldStatus::Released;
                hold.updated_at = now;
                self.put_hold(hold);
                continue;
            }
            hold.quantity = ratio.scale_whole(hold.quantity);
            hold.filled_quantity = ratio.scale_whole(hold.filled_quantity);
            hold.reserved_quantity = ratio.scale_whole(hold.reserved_quantity);
            hold.limit_price = hold.limit_price.map(|price| ratio.scale_price(price));
            hold.updated_at = now;
            total += hold.reserved_quantity.value();
            self.put_hold(hold);
        }
        Quantity::from_stored(total.normalize())
    }
}

/// The entitlement of a fraction's cash, if the event left one.
fn fraction_owed(
    record: &ActionRecord,
    user: &UserId,
    held: Quantity,
    adjusted: &Adjusted,
) -> Option<Entitlement> {
    if adjusted.cash_in_lieu.is_zero() {
        return None;
    }
    Some(Entitlement {
        action_id: record.action.id.clone(),
        user_id: user.clone(),
        quantity: held,
        gross: adjusted.cash_in_lieu,
        withheld: Money::ZERO,
        payment_date: record.payment_date()?,
        paid_at: None,
    })
}
