//! Deposits and withdrawals (SPEC §5), through the same book and ledger as order events.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use thiserror::Error;
use uuid::Uuid;

use super::book::{EventKind, LedgerDraft, WalletBook};
use super::steps;
use crate::account::Account;
use crate::amount::{AmountError, Money};
use crate::ids::UserId;
use crate::ledger::EntryType;
use crate::settlement::Obligation;
use crate::unit_of_work::IdempotencyRecord;
use crate::wallet_event::WalletEventType;

/// A cash movement requested over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashOperation {
    /// The account.
    pub user_id: UserId,
    /// How much, already checked as a request amount.
    pub amount: Money,
    /// The client's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// A fresh id naming this request's ledger step when there is no idempotency key.
    pub request_id: Uuid,
}

/// Why a deposit or withdrawal was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CashError {
    /// Withdrawal from an account that does not exist.
    #[error("account {0} does not exist")]
    AccountNotFound(UserId),
    /// Withdrawal above the available balance.
    #[error("insufficient funds: available {available}, requested {requested}")]
    InsufficientFunds {
        /// Available balance.
        available: Money,
        /// Requested amount.
        requested: Money,
    },
    /// The balance would reach 10^15.
    #[error(transparent)]
    Amount(#[from] AmountError),
    /// Withdrawal within the available balance but above the withdrawable one: part of the
    /// cash comes from sales that have not settled yet.
    #[error(
        "not yet withdrawable: withdrawable {withdrawable}, requested {requested}{}",
        withdrawable_on.map(|date| format!(", withdrawable on {date}")).unwrap_or_default()
    )]
    NotYetSettled {
        /// Withdrawable balance now.
        withdrawable: Money,
        /// Requested amount.
        requested: Money,
        /// The first settlement date on which the amount becomes withdrawable, if any open
        /// obligation makes it so.
        withdrawable_on: Option<NaiveDate>,
    },
    /// The idempotency key was used before for a different request.
    #[error("idempotency key `{0}` was already used for a different request")]
    IdempotencyConflict(String),
}

impl CashOperation {
    fn fingerprint(&self, entry_type: EntryType) -> String {
        format!("{entry_type}:{}", self.amount.value().normalize())
    }

    fn step_key(&self, entry_type: EntryType) -> String {
        match &self.idempotency_key {
            Some(key) => steps::keyed_cash(entry_type, &self.user_id, key),
            None => steps::cash_request(entry_type, self.request_id),
        }
    }
}

impl WalletBook {
    /// Credits `operation.amount`, opening the account on first use.
    ///
    /// # Errors
    /// [`CashError::Amount`] when the balance would reach 10^15,
    /// [`CashError::IdempotencyConflict`] for a reused key with another request.
    pub fn deposit(
        &mut self,
        operation: &CashOperation,
        now: DateTime<Utc>,
    ) -> Result<Account, CashError> {
        if let Some(replayed) = self.replay(operation, EntryType::Deposit)? {
            return Ok(replayed);
        }
        let mut account = self
            .account(&operation.user_id)
            .cloned()
            .unwrap_or_else(|| {
                Account::open(operation.user_id.clone(), self.default_currency(), now)
            });
        account.balance = account.balance.checked_add(operation.amount, "balance")?;
        // Deposited cash is settled cash.
        account.settled_balance += operation.amount.value();
        Ok(self.book_cash(operation, account, EntryType::Deposit, now))
    }

    /// Debits `operation.amount` from the available balance.
    ///
    /// # Errors
    /// [`CashError::AccountNotFound`], [`CashError::InsufficientFunds`],
    /// [`CashError::NotYetSettled`], [`CashError::IdempotencyConflict`].
    pub fn withdraw(
        &mut self,
        operation: &CashOperation,
        now: DateTime<Utc>,
    ) -> Result<Account, CashError> {
        if let Some(replayed) = self.replay(operation, EntryType::Withdrawal)? {
            return Ok(replayed);
        }
        let Some(mut account) = self.account(&operation.user_id).cloned() else {
            return Err(CashError::AccountNotFound(operation.user_id.clone()));
        };
        let available = account.available_balance();
        if available < operation.amount {
            return Err(CashError::InsufficientFunds {
                available,
                requested: operation.amount,
            });
        }
        let withdrawable = account.withdrawable_balance();
        if withdrawable < operation.amount {
            return Err(CashError::NotYetSettled {
                withdrawable,
                requested: operation.amount,
                withdrawable_on: self.withdrawable_on(&account, operation.amount),
            });
        }
        // Available is at most the balance, so this never goes below zero.
        account.balance = account
            .balance
            .checked_sub(operation.amount)
            .unwrap_or(Money::ZERO);
        account.settled_balance -= operation.amount.value();
        Ok(self.book_cash(operation, account, EntryType::Withdrawal, now))
    }

    /// The first due date of `account`'s open obligations on which `amount` becomes
    /// withdrawable, balances otherwise as they are.
    fn withdrawable_on(&self, account: &Account, amount: Money) -> Option<NaiveDate> {
        let mut open: Vec<&Obligation> = self.open_obligations(&account.user_id).collect();
        open.sort_by_key(|obligation| obligation.due_date);
        let mut projected = account.clone();
        for obligation in open {
            projected.settled_balance += obligation.cash_amount;
            if projected.withdrawable_balance() >= amount {
                return Some(obligation.due_date);
            }
        }
        None
    }

    fn replay(
        &self,
        operation: &CashOperation,
        entry_type: EntryType,
    ) -> Result<Option<Account>, CashError> {
        let Some(key) = &operation.idempotency_key else {
            return Ok(None);
        };
        match self.idempotency_record(&operation.user_id, key) {
            Some(record) if record.fingerprint == operation.fingerprint(entry_type) => {
                Ok(Some(record.account.clone()))
            }
            Some(_) => Err(CashError::IdempotencyConflict(key.clone())),
            None => Ok(None),
        }
    }

    fn book_cash(
        &mut self,
        operation: &CashOperation,
        mut account: Account,
        entry_type: EntryType,
        now: DateTime<Utc>,
    ) -> Account {
        account.updated_at = now;
        let (signed, event_type) = match entry_type {
            EntryType::Deposit => (operation.amount.value(), WalletEventType::Deposited),
            _ => (-operation.amount.value(), WalletEventType::Withdrawn),
        };
        self.book(
            LedgerDraft {
                entry_type,
                order_id: None,
                step_key: operation.step_key(entry_type),
                fee_name: None,
                cash_amount: signed,
                blocked_amount: Decimal::ZERO,
                settled_amount: signed,
                ticker: None,
                quantity: Decimal::ZERO,
                blocked_quantity: Decimal::ZERO,
            },
            EventKind::new(event_type, None),
            &account,
            now,
        );
        if let Some(key) = &operation.idempotency_key {
            self.remember_idempotency(IdempotencyRecord {
                user_id: account.user_id.clone(),
                key: key.clone(),
                fingerprint: operation.fingerprint(entry_type),
                account: account.clone(),
                created_at: now,
            });
        }
        self.put_account(account.clone());
        account
    }
}
