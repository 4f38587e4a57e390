//! The settlement date of a fill (see [`crate::settlement`]): its obligation's cash moves into
//! the settled balance, once.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::EventOutcome;
use super::book::{EventKind, LedgerDraft, WalletBook};
use super::order::dead_letter;
use super::steps;
use crate::dead_letter::DeadLetterReason;
use crate::ledger::EntryType;
use crate::settlement::Obligation;
use crate::wallet_event::WalletEventType;

impl WalletBook {
    /// Settles `obligation`: its cash moves into the account's settled balance, with a
    /// CASH_SETTLEMENT entry and a `CASH_SETTLED` event (reason: the due date). An obligation
    /// already settled is a [`EventOutcome::Duplicate`]; the store refuses to settle one twice
    /// should two settlement runs meet.
    pub fn settle_obligation(
        &mut self,
        obligation: &Obligation,
        now: DateTime<Utc>,
    ) -> EventOutcome {
        if obligation.settled_at.is_some() {
            return EventOutcome::Duplicate;
        }
        let Some(mut account) = self.account(&obligation.user_id).cloned() else {
            // An obligation is created by a fill, which needs an account.
            return dead_letter(
                DeadLetterReason::OrderMismatch,
                format!("no account for the obligation {}", obligation.key),
            );
        };
        account.settled_balance += obligation.cash_amount;
        account.updated_at = now;
        self.book(
            LedgerDraft {
                entry_type: EntryType::CashSettlement,
                order_id: Some(obligation.order_id),
                step_key: steps::cash_settlement(&obligation.key),
                fee_name: None,
                cash_amount: Decimal::ZERO,
                blocked_amount: Decimal::ZERO,
                settled_amount: obligation.cash_amount,
                ticker: None,
                quantity: Decimal::ZERO,
                blocked_quantity: Decimal::ZERO,
            },
            EventKind::new(WalletEventType::CashSettled, None)
                .because(&obligation.due_date.to_string()),
            &account,
            now,
        );
        self.put_account(account);
        self.mark_settled(Obligation {
            settled_at: Some(now),
            ..obligation.clone()
        });
        EventOutcome::Applied
    }
}
