//! Corporate actions (see [`crate::corporate_actions`]): receiving one, idempotently, and the
//! job's rounds that work through its holders in batches of bounded size, each batch one unit
//! of work that also stores how far the action got.

use chrono::{DateTime, Utc};

use super::apply::{ApplyError, Sweep, WalletService};
use crate::corporate_actions::{
    ActionRecord, ActionStage, ActionTerms, BatchTotals, CorporateAction, Entitlement, Received,
    cash_entitlement,
};
use crate::engine::WalletBook;
use crate::ports::{CorporateActionStore, StoreError, WalletStore};
use crate::unit_of_work::LoadRequest;

/// Most holders one batch applies, whatever the caller asks (the store's page bound).
pub const HOLDER_BATCH_MAX: u32 = 5_000;

impl<S: WalletStore + CorporateActionStore> WalletService<S> {
    /// Stores a corporate action as received. The same action again is a
    /// [`Received::Duplicate`]; another action under a stored id is a [`Received::Conflict`]
    /// and changes nothing.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn receive_corporate_action(
        &self,
        action: CorporateAction,
        now: DateTime<Utc>,
    ) -> Result<Received, StoreError> {
        let (stored, new) = self
            .store()
            .insert_action(&ActionRecord::received(action.clone(), now))
            .await?;
        Ok(if new {
            Received::New(stored)
        } else if stored.action == action {
            Received::Duplicate(stored)
        } else {
            Received::Conflict(stored)
        })
    }

    /// One round of the corporate-action job: one batch of at most `limit` holders (1 to
    /// [`HOLDER_BATCH_MAX`]) of the action due earliest, by its dates, not by its arrival.
    /// `more` is true when a batch was applied (call again); false when no action is due.
    ///
    /// A batch that meets a concurrent run (the action's version moved) writes nothing and
    /// ends the round with `more` false: the next round reads the action again. A holder whose
    /// cash or shares would leave the wallet's range stops the action as `FAILED` (nothing of
    /// that batch is written), so one bad action never holds up the others.
    ///
    /// # Errors
    /// [`ApplyError::Store`] when the store fails.
    pub async fn advance_corporate_actions(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Sweep, ApplyError> {
        let limit = limit.clamp(1, HOLDER_BATCH_MAX);
        let due = self.store().due_actions(now, 1).await?;
        let Some(record) = due.into_iter().next() else {
            return Ok(Sweep {
                listed: 0,
                applied: 0,
                more: false,
            });
        };
        let outcome = match record.stage {
            ActionStage::Waiting if record.changes_shares() => {
                self.adjust_holders(&record, now, limit).await
            }
            ActionStage::Waiting => self.entitle_holders(&record, now, limit).await,
            ActionStage::Paying => self.pay_holders(&record, now, limit).await,
            ActionStage::Completed | ActionStage::Failed => Ok(None),
        };
        let applied = match outcome {
            Err(ApplyError::Amount(error)) => {
                let failed = record.failed(error.to_string(), now);
                self.commit_batch(&LoadRequest::default(), failed, |_| Ok(()))
                    .await?
                    .then_some(0)
            }
            other => other?,
        };
        Ok(Sweep {
            listed: 1,
            applied: applied.unwrap_or(0),
            // After a conflict the job waits for its next round instead of racing again.
            more: applied.is_some(),
        })
    }

    /// Records the cash entitlement of the next batch of holders at the end of the record
    /// date.
    async fn entitle_holders(
        &self,
        record: &ActionRecord,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Option<usize>, ApplyError> {
        let (per_share, withholding, payment_date) = match &record.action.terms {
            ActionTerms::CashDividend {
                amount_per_share,
                payment_date,
                ..
            } => (
                *amount_per_share,
                rust_decimal::Decimal::ZERO,
                *payment_date,
            ),
            ActionTerms::InterestOnEquity {
                amount_per_share,
                withholding_rate,
                payment_date,
                ..
            } => (*amount_per_share, *withholding_rate, *payment_date),
            _ => return Ok(None),
        };
        let page = self
            .store()
            .holders_at(
                &record.action.ticker,
                record.entitlement_instant(),
                record.cursor.as_ref(),
                limit,
            )
            .await?;
        let mut totals = BatchTotals::default();
        let mut entitlements = Vec::new();
        for (user, quantity) in &page.holders {
            let cash =
                cash_entitlement(*quantity, per_share, withholding, self.default_currency())?;
            if cash.gross.is_zero() {
                continue;
            }
            totals.holders += 1;
            totals.cash_owed += cash.net.value();
            entitlements.push(Entitlement {
                action_id: record.action.id.clone(),
                user_id: user.clone(),
                quantity: *quantity,
                gross: cash.gross,
                withheld: cash.withheld,
                payment_date,
                paid_at: None,
            });
        }
        let applied = entitlements.len();
        let progress = record.advanced(page.last.clone(), !page.more, totals, now);
        let committed = self
            .commit_batch(&LoadRequest::default(), progress, |book| {
                for entitlement in entitlements {
                    book.record_entitlement(entitlement);
                }
                Ok(())
            })
            .await?;
        Ok(committed.then_some(applied))
    }

    /// Applies a share action to the next batch of holders at the start of the effective
    /// date.
    async fn adjust_holders(
        &self,
        record: &ActionRecord,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Option<usize>, ApplyError> {
        let ticker = &record.action.ticker;
        let page = self
            .store()
            .holders_at(ticker, now, record.cursor.as_ref(), limit)
            .await?;
        let users: Vec<_> = page.holders.iter().map(|(user, _)| user.clone()).collect();
        let mut request = LoadRequest::default();
        for user in &users {
            request.users.insert(user.clone());
            request.positions.insert((user.clone(), ticker.clone()));
        }
        request
            .orders
            .extend(self.store().active_sell_orders(ticker, &users).await?);
        let mut applied = 0;
        let committed = self
            .commit_batch(&request, record.clone(), |book| {
                let mut totals = BatchTotals::default();
                for user in &users {
                    if !book.sell_holds_loaded(user, ticker) {
                        // A SELL reserved after the orders were listed: its hold is not in
                        // this book, so its shares would be scaled without it. The next
                        // round lists it.
                        return Err(StoreError::Conflict(format!(
                            "a SELL of {user} in {ticker} arrived during the batch"
                        ))
                        .into());
                    }
                    let Some((delta, owed)) = book.adjust_shares(record, user, now)? else {
                        continue;
                    };
                    totals.holders += 1;
                    totals.shares_delta += delta;
                    if let Some(entitlement) = owed {
                        totals.cash_owed += entitlement.net();
                        book.record_entitlement(entitlement);
                    }
                }
                applied = usize::try_from(totals.holders).unwrap_or(usize::MAX);
                book.record_action_progress(record.advanced(
                    page.last.clone(),
                    !page.more,
                    totals,
                    now,
                ));
                Ok(())
            })
            .await?;
        Ok(committed.then_some(applied))
    }

    /// Pays the next batch of entitlements from the start of the payment date.
    async fn pay_holders(
        &self,
        record: &ActionRecord,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Option<usize>, ApplyError> {
        let due = self
            .store()
            .unpaid_entitlements(&record.action.id, record.cursor.as_ref(), limit)
            .await?;
        let mut request = LoadRequest::default();
        request
            .users
            .extend(due.iter().map(|entitlement| entitlement.user_id.clone()));
        let done = due.len() < limit as usize;
        let last = due.last().map(|entitlement| entitlement.user_id.clone());
        let mut totals = BatchTotals::default();
        for entitlement in &due {
            totals.cash_paid += entitlement.net();
            totals.tax_withheld += entitlement.withheld.value();
        }
        let committed = self
            .commit_batch(&request, record.advanced(last, done, totals, now), |book| {
                for entitlement in &due {
                    book.pay_entitlement(record, entitlement, now)?;
                }
                Ok(())
            })
            .await?;
        Ok(committed.then_some(due.len()))
    }

    /// Loads `request`, runs `apply` and commits its changes with `progress` (which `apply`
    /// may replace), once; false on a conflict, which means another run moved the action.
    async fn commit_batch(
        &self,
        request: &LoadRequest,
        progress: ActionRecord,
        apply: impl FnOnce(&mut WalletBook) -> Result<(), ApplyError>,
    ) -> Result<bool, ApplyError> {
        let snapshot = self.store().load(request).await?;
        let mut book = self.book(snapshot);
        book.record_action_progress(progress);
        match apply(&mut book) {
            Ok(()) => {}
            Err(ApplyError::Store(StoreError::Conflict(_))) => return Ok(false),
            Err(error) => return Err(error),
        }
        match self.store().commit(book.into_changes()).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}
