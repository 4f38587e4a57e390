//! A corporate action as the wallet keeps it while it applies it: its stage, how far the
//! current stage got through the holders, and the totals so far; and the cash each holder is
//! owed until its payment date.
//!
//! Stages:
//! - `WAITING`: received, its first date not reached yet. When it is reached (the end of the
//!   record date for cash, the start of the effective date for shares), the holders are worked
//!   through in batches ordered by user id: cash actions record each holder's [`Entitlement`];
//!   share actions adjust each position (and record the cash for fractions).
//! - `PAYING`: entitlements recorded; from the start of the payment date they are paid, in
//!   batches.
//! - `COMPLETED`: every holder done. A ticker nobody holds completes with no holder.
//! - `FAILED`: a holder's cash or shares would leave the wallet's range; the batch that met it
//!   wrote nothing, the batches before it stand, and the action goes no further (an operator
//!   sends a correction under a new id).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{ActionTerms, CorporateAction};
use crate::amount::{Money, Quantity};
use crate::ids::UserId;
use crate::settlement::day_start;
use crate::text_enum::text_enum;

/// How far a corporate action got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionStage {
    /// Received; its holders are not worked through yet.
    Waiting,
    /// Entitlements recorded, to be paid on the payment date.
    Paying,
    /// Done.
    Completed,
    /// Stopped by an amount out of range.
    Failed,
}

text_enum!(ActionStage {
    Waiting => "WAITING",
    Paying => "PAYING",
    Completed => "COMPLETED",
    Failed => "FAILED",
});

/// A corporate action with its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    /// The action as received.
    pub action: CorporateAction,
    /// Its stage.
    pub stage: ActionStage,
    /// The last holder the current stage finished (batches go in user-id order).
    pub cursor: Option<UserId>,
    /// Holders the action changed or owes cash.
    pub holders: u64,
    /// Cash credited so far, net of tax.
    pub cash_paid: Decimal,
    /// Income tax withheld so far.
    pub tax_withheld: Decimal,
    /// Cash recorded as owed (entitlements, fractions), net of tax.
    pub cash_owed: Decimal,
    /// Net change of shares across holders.
    pub shares_delta: Decimal,
    /// Row version, for the optimistic check of each batch.
    pub version: i64,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// When its last batch was applied.
    pub updated_at: DateTime<Utc>,
    /// When it completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub failure: Option<String>,
}

impl ActionRecord {
    /// A newly received action.
    #[must_use]
    pub fn received(action: CorporateAction, now: DateTime<Utc>) -> ActionRecord {
        ActionRecord {
            action,
            stage: ActionStage::Waiting,
            cursor: None,
            holders: 0,
            cash_paid: Decimal::ZERO,
            tax_withheld: Decimal::ZERO,
            cash_owed: Decimal::ZERO,
            shares_delta: Decimal::ZERO,
            version: 0,
            received_at: now,
            updated_at: now,
            completed_at: None,
            failure: None,
        }
    }

    /// When the stage it is in can go on: the job takes due actions in this order, so an
    /// action's dates, not its arrival, decide which goes first.
    #[must_use]
    pub fn next_due_at(&self) -> DateTime<Utc> {
        match self.stage {
            ActionStage::Waiting => self.entitlement_instant(),
            ActionStage::Paying => self
                .payment_date()
                .map_or(self.received_at, day_start)
                .max(self.entitlement_instant()),
            ActionStage::Completed | ActionStage::Failed => self.updated_at,
        }
    }

    /// This record stopped by `failure`.
    #[must_use]
    pub fn failed(&self, failure: String, now: DateTime<Utc>) -> ActionRecord {
        ActionRecord {
            stage: ActionStage::Failed,
            failure: Some(failure),
            updated_at: now,
            completed_at: Some(now),
            ..self.clone()
        }
    }

    /// When the holders can be worked through: the end of the record date (cash) or the start
    /// of the effective date (shares), at the exchange.
    #[must_use]
    pub fn entitlement_instant(&self) -> DateTime<Utc> {
        match &self.action.terms {
            ActionTerms::CashDividend { record_date, .. }
            | ActionTerms::InterestOnEquity { record_date, .. } => {
                day_start(record_date.succ_opt().unwrap_or(*record_date))
            }
            ActionTerms::Split { effective_date, .. }
            | ActionTerms::ReverseSplit { effective_date, .. }
            | ActionTerms::BonusShares { effective_date, .. } => day_start(*effective_date),
        }
    }

    /// The date the cash it owes is paid, if it can owe any.
    #[must_use]
    pub fn payment_date(&self) -> Option<NaiveDate> {
        match &self.action.terms {
            ActionTerms::CashDividend { payment_date, .. }
            | ActionTerms::InterestOnEquity { payment_date, .. }
            | ActionTerms::ReverseSplit { payment_date, .. } => Some(*payment_date),
            ActionTerms::BonusShares {
                payment_date,
                effective_date,
                ..
            } => Some(payment_date.unwrap_or(*effective_date)),
            ActionTerms::Split { .. } => None,
        }
    }

    /// True for the actions that change shares.
    #[must_use]
    pub fn changes_shares(&self) -> bool {
        !matches!(
            self.action.terms,
            ActionTerms::CashDividend { .. } | ActionTerms::InterestOnEquity { .. }
        )
    }

    /// The stage after the current one has worked through every holder.
    #[must_use]
    pub fn next_stage(&self) -> ActionStage {
        match (self.stage, &self.action.terms) {
            (ActionStage::Waiting, ActionTerms::Split { .. }) => ActionStage::Completed,
            (ActionStage::Waiting, _) => ActionStage::Paying,
            _ => ActionStage::Completed,
        }
    }

    /// This record after one batch: `last` is the last holder it finished, `done` whether the
    /// stage has no holder left.
    #[must_use]
    pub fn advanced(
        &self,
        last: Option<UserId>,
        done: bool,
        totals: BatchTotals,
        now: DateTime<Utc>,
    ) -> ActionRecord {
        let stage = if done { self.next_stage() } else { self.stage };
        ActionRecord {
            stage,
            cursor: if done {
                None
            } else {
                last.or(self.cursor.clone())
            },
            holders: self.holders + totals.holders,
            cash_paid: self.cash_paid + totals.cash_paid,
            tax_withheld: self.tax_withheld + totals.tax_withheld,
            cash_owed: self.cash_owed + totals.cash_owed,
            shares_delta: self.shares_delta + totals.shares_delta,
            updated_at: now,
            completed_at: (stage == ActionStage::Completed).then_some(now),
            ..self.clone()
        }
    }
}

/// What one batch added to an action's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchTotals {
    /// Holders the batch counted (entitled, or changed by a share action).
    pub holders: u64,
    /// Net cash credited.
    pub cash_paid: Decimal,
    /// Tax withheld.
    pub tax_withheld: Decimal,
    /// Net cash recorded as owed.
    pub cash_owed: Decimal,
    /// Net change of shares.
    pub shares_delta: Decimal,
}

/// The cash one holder is owed by one action until its payment date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlement {
    /// The action.
    pub action_id: String,
    /// The holder.
    pub user_id: UserId,
    /// Shares entitled (cash actions) or held before the event (share actions).
    pub quantity: Quantity,
    /// Cash before tax: the dividend or JCP, or the cash in lieu of a fraction.
    pub gross: Money,
    /// Income tax withheld at source.
    pub withheld: Money,
    /// When it is paid.
    pub payment_date: NaiveDate,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
}

impl Entitlement {
    /// What the holder is credited: gross − withheld.
    #[must_use]
    pub fn net(&self) -> Decimal {
        self.gross.value() - self.withheld.value()
    }
}

/// One page of holders of a ticker, in user-id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolderPage {
    /// Holders with a positive quantity at the instant asked for, with that quantity.
    pub holders: Vec<(UserId, Quantity)>,
    /// The last position row the page read (holders without shares included), where the next
    /// page starts.
    pub last: Option<UserId>,
    /// False when the page reached the end of the ticker's positions.
    pub more: bool,
}

/// What receiving an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new action, now stored.
    New(ActionRecord),
    /// The same action again: nothing changed.
    Duplicate(ActionRecord),
    /// Another action under the same id: refused, the stored one stands.
    Conflict(ActionRecord),
}
