//! Cutting over from the Java wallet (SPEC §10): its accounts, positions and open orders as
//! they stand in its database, turned into this wallet's accounts, positions and holds, each
//! with an opening ledger entry so that `wallet audit` reconciles right after.
//!
//! The import is exact or it does not happen: anything that cannot be carried to the cent (more
//! fractional digits than the currency has, amounts out of range or negative, a blocked balance
//! that the open RESERVEs do not add up to, an id this wallet cannot hold) refuses its account,
//! with one line per account, and a plan with any refusal is not written at all.
//!
//! An order the Java wallet holds open (a RESERVE with neither SETTLEMENT nor REFUND) becomes a
//! RESERVED BUY hold of that amount whose terms are pending: the Java wallet never knew its
//! ticker or quantity, and the order's first event completes them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::account::{Account, Position};
use crate::amount::{Currency, Money, Price, Quantity};
use crate::hold::{Hold, HoldStatus, Side};
use crate::ids::{OrderId, Ticker, UserId};
use crate::ledger::{EntryType, LedgerEntry};
use crate::unit_of_work::{ChangeSet, Snapshot};

/// A row of the Java wallet's `accounts` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaAccount {
    /// `accounts.id`, which positions refer to.
    pub id: i64,
    /// `user_id` (VARCHAR(100)).
    pub user_id: String,
    /// `balance` (DECIMAL(19,4)).
    pub balance: Decimal,
    /// `blocked_balance` (DECIMAL(19,4)).
    pub blocked_balance: Decimal,
    /// `currency` (VARCHAR(10)).
    pub currency: String,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
}

/// A row of the Java wallet's `positions` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaPosition {
    /// `account_id`, a reference to [`JavaAccount::id`].
    pub account_id: i64,
    /// `ticker` (VARCHAR(20)).
    pub ticker: String,
    /// `quantity` (DECIMAL(19,4)).
    pub quantity: Decimal,
    /// `average_price` (DECIMAL(19,4)).
    pub average_price: Decimal,
}

/// A row of the Java wallet's `wallet_transactions` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaTransaction {
    /// `user_id`.
    pub user_id: String,
    /// `order_id`.
    pub order_id: i64,
    /// `transaction_type`: `RESERVE`, `SETTLEMENT` or `REFUND`.
    pub transaction_type: String,
    /// `amount` (DECIMAL(19,4)).
    pub amount: Decimal,
}

/// Everything the import reads from the Java wallet's database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JavaWallet {
    /// Every account.
    pub accounts: Vec<JavaAccount>,
    /// Every position.
    pub positions: Vec<JavaPosition>,
    /// Every transaction (only orders with a RESERVE and neither a SETTLEMENT nor a REFUND are
    /// imported, as open holds).
    pub transactions: Vec<JavaTransaction>,
}

/// Why one account cannot be imported exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The Java wallet's user id of the account.
    pub user_id: String,
    /// Every reason, joined.
    pub reasons: Vec<String>,
}

/// One account as it will be written: the account, its positions, its open holds, and the
/// opening ledger entries that explain its balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedAccount {
    /// The account, balance and blocked balance as in the Java wallet.
    pub account: Account,
    /// Its positions with shares.
    pub positions: Vec<Position>,
    /// Its open orders, as RESERVED holds whose terms are pending.
    pub holds: Vec<Hold>,
    /// One `OPENING` entry for the cash and one per position.
    pub ledger: Vec<LedgerEntry>,
}

/// What an import writes, account by account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportPlan {
    /// The accounts to write, by user id.
    pub accounts: Vec<ImportedAccount>,
    /// Accounts already here exactly as the plan would write them (a second run).
    pub already_imported: Vec<UserId>,
}

impl ImportPlan {
    /// The plan as one change set, to commit in one transaction.
    #[must_use]
    pub fn into_changes(self) -> ChangeSet {
        let mut changes = ChangeSet::default();
        for imported in self.accounts {
            changes.accounts.push(imported.account);
            changes.positions.extend(imported.positions);
            changes.holds.extend(imported.holds);
            changes.ledger.extend(imported.ledger);
        }
        changes
    }

    /// The keys a store must load to tell what already exists ([`ImportPlan::against`]).
    #[must_use]
    pub fn load_request(&self) -> crate::unit_of_work::LoadRequest {
        let mut request = crate::unit_of_work::LoadRequest::default();
        for imported in &self.accounts {
            request.users.insert(imported.account.user_id.clone());
            for position in &imported.positions {
                request
                    .positions
                    .insert((position.user_id.clone(), position.ticker.clone()));
            }
            for hold in &imported.holds {
                request.orders.insert(hold.order_id);
            }
        }
        request
    }

    /// The plan left once `existing` (what this wallet already holds for the plan's keys) is
    /// taken into account: an account already here with the same balances, positions and holds
    /// was imported before and is skipped; one here with anything else is refused, so an import
    /// never overwrites what this wallet changed since.
    ///
    /// # Errors
    /// One [`Refusal`] per account that exists here with other values.
    pub fn against(self, existing: &Snapshot) -> Result<ImportPlan, Vec<Refusal>> {
        let accounts: BTreeMap<&UserId, &Account> = existing
            .accounts
            .iter()
            .map(|account| (&account.user_id, account))
            .collect();
        let positions: BTreeSet<(&UserId, &Ticker)> = existing
            .positions
            .iter()
            .map(|position| (&position.user_id, &position.ticker))
            .collect();
        let holds: BTreeSet<OrderId> = existing.holds.iter().map(|hold| hold.order_id).collect();
        let mut plan = ImportPlan {
            accounts: Vec::new(),
            already_imported: self.already_imported,
        };
        let mut refusals = Vec::new();
        for imported in self.accounts {
            let user = &imported.account.user_id;
            let Some(here) = accounts.get(user) else {
                let taken: Vec<String> = imported
                    .holds
                    .iter()
                    .filter(|hold| holds.contains(&hold.order_id))
                    .map(|hold| hold.order_id.to_string())
                    .collect();
                if taken.is_empty() {
                    plan.accounts.push(imported);
                } else {
                    refusals.push(Refusal {
                        user_id: user.to_string(),
                        reasons: vec![format!("orders {} are held here already", taken.join(", "))],
                    });
                }
                continue;
            };
            let same = here.balance == imported.account.balance
                && here.blocked_balance == imported.account.blocked_balance
                && here.currency == imported.account.currency
                && imported
                    .positions
                    .iter()
                    .all(|position| positions.contains(&(&position.user_id, &position.ticker)))
                && imported
                    .holds
                    .iter()
                    .all(|hold| holds.contains(&hold.order_id));
            if same {
                plan.already_imported.push(user.clone());
            } else {
                refusals.push(Refusal {
                    user_id: user.to_string(),
                    reasons: vec![format!(
                        "the account exists here with other balances (balance {}, blocked {})",
                        here.balance, here.blocked_balance
                    )],
                });
            }
        }
        if refusals.is_empty() {
            Ok(plan)
        } else {
            Err(refusals)
        }
    }
}

/// The step key of an opening entry: one per account and per position, so a second import of
/// the same account can never book it twice.
fn opening_step(user: &UserId, ticker: Option<&Ticker>) -> String {
    match ticker {
        Some(ticker) => format!("opening/{user}/{ticker}"),
        None => format!("opening/{user}"),
    }
}

/// Orders with a RESERVE and neither a SETTLEMENT nor a REFUND, by user: (order, amount).
fn open_reservations(transactions: &[JavaTransaction]) -> BTreeMap<String, Vec<(i64, Decimal)>> {
    let mut kinds: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for transaction in transactions {
        kinds
            .entry(transaction.order_id)
            .or_default()
            .insert(transaction.transaction_type.as_str());
    }
    let mut open: BTreeMap<String, Vec<(i64, Decimal)>> = BTreeMap::new();
    for transaction in transactions {
        let types = &kinds[&transaction.order_id];
        if transaction.transaction_type == "RESERVE"
            && !types.contains("SETTLEMENT")
            && !types.contains("REFUND")
        {
            open.entry(transaction.user_id.clone())
                .or_default()
                .push((transaction.order_id, transaction.amount));
        }
    }
    open
}

/// A cash amount of `currency`: ≥ 0, < 10^15 and at most the currency's fractional digits.
fn cash(value: Decimal, currency: Currency, what: &str) -> Result<Money, String> {
    if value.is_zero() {
        return Ok(Money::ZERO);
    }
    Money::try_amount("amount", value, currency).map_err(|error| {
        if value.is_sign_negative() {
            format!("{what} {value} is negative")
        } else {
            format!("{what} {value}: {error}")
        }
    })
}

/// Plans the import of `java` at `now`, with `default_currency` for accounts whose currency is
/// empty.
///
/// # Errors
/// One [`Refusal`] per account that cannot be carried exactly; nothing is to be written then.
pub fn plan_import(
    java: &JavaWallet,
    default_currency: Currency,
    now: DateTime<Utc>,
) -> Result<ImportPlan, Vec<Refusal>> {
    let mut positions: BTreeMap<i64, Vec<&JavaPosition>> = BTreeMap::new();
    for position in &java.positions {
        positions
            .entry(position.account_id)
            .or_default()
            .push(position);
    }
    let open = open_reservations(&java.transactions);
    let known: BTreeSet<&str> = java.accounts.iter().map(|a| a.user_id.as_str()).collect();
    let mut plan = ImportPlan::default();
    let mut refusals = Vec::new();
    for account in &java.accounts {
        let held = positions
            .get(&account.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let reserved = open
            .get(&account.user_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match import_account(account, held, reserved, default_currency, now) {
            Ok(imported) => plan.accounts.push(imported),
            Err(reasons) => refusals.push(Refusal {
                user_id: account.user_id.clone(),
                reasons,
            }),
        }
    }
    for (user, orders) in &open {
        if !known.contains(user.as_str()) {
            refusals.push(Refusal {
                user_id: user.clone(),
                reasons: vec![format!("{} open order(s) but no account", orders.len())],
            });
        }
    }
    if refusals.is_empty() {
        Ok(plan)
    } else {
        Err(refusals)
    }
}

fn import_account(
    java: &JavaAccount,
    positions: &[&JavaPosition],
    reservations: &[(i64, Decimal)],
    default_currency: Currency,
    now: DateTime<Utc>,
) -> Result<ImportedAccount, Vec<String>> {
    let mut reasons = Vec::new();
    let user = UserId::parse(&java.user_id).map_err(|error| vec![error.to_string()])?;
    let currency = match java.currency.trim() {
        "" => default_currency,
        code => Currency::parse(code).map_err(|error| vec![error.to_string()])?,
    };
    let balance = cash(java.balance, currency, "balance")
        .map_err(|e| reasons.push(e))
        .ok();
    let blocked = cash(java.blocked_balance, currency, "blocked balance")
        .map_err(|e| reasons.push(e))
        .ok();
    let mut holds = Vec::new();
    let mut reserved_total = Decimal::ZERO;
    for (order, amount) in reservations {
        let order_id = OrderId::new(*order)
            .map_err(|e| reasons.push(e.to_string()))
            .ok();
        let amount = cash(*amount, currency, &format!("RESERVE of order {order}"))
            .map_err(|e| reasons.push(e))
            .ok();
        reserved_total += amount.map_or(Decimal::ZERO, Money::value);
        if let (Some(order_id), Some(amount)) = (order_id, amount) {
            holds.push(pending_hold(order_id, &user, amount, now));
        }
    }
    if let (Some(balance), Some(blocked)) = (balance, blocked) {
        if blocked > balance {
            reasons.push(format!(
                "blocked balance {blocked} is above the balance {balance}"
            ));
        }
        if blocked.value() != reserved_total {
            reasons.push(format!(
                "blocked balance {} but the open RESERVEs add up to {reserved_total}",
                java.blocked_balance
            ));
        }
    }
    let positions: Vec<Position> = positions
        .iter()
        .filter(|position| !position.quantity.is_zero())
        .filter_map(|position| {
            import_position(position, &user, now)
                .map_err(|reason| reasons.push(reason))
                .ok()
        })
        .collect();
    let (Some(balance), Some(blocked), true) = (balance, blocked, reasons.is_empty()) else {
        return Err(reasons);
    };
    let account = Account {
        user_id: user.clone(),
        currency,
        balance,
        blocked_balance: blocked,
        // The Java wallet settled at once: all its cash is settled.
        settled_balance: balance.value(),
        version: 0,
        created_at: java.created_at,
        updated_at: now,
    };
    let ledger = opening_entries(&account, &positions, now);
    Ok(ImportedAccount {
        account,
        positions,
        holds,
        ledger,
    })
}

fn import_position(
    java: &JavaPosition,
    user: &UserId,
    now: DateTime<Utc>,
) -> Result<Position, String> {
    let ticker = Ticker::parse(&java.ticker).map_err(|error| error.to_string())?;
    let quantity = Quantity::try_new("quantity", java.quantity)
        .map_err(|error| format!("{ticker}: {error}"))?;
    let average_price = if java.average_price.is_zero() {
        Price::ZERO
    } else {
        Price::try_new("average price", java.average_price)
            .map_err(|error| format!("{ticker}: {error}"))?
    };
    Ok(Position {
        user_id: user.clone(),
        ticker,
        quantity,
        blocked_quantity: Quantity::ZERO,
        average_price,
        realized_pnl: Decimal::ZERO,
        version: 0,
        updated_at: now,
    })
}

/// A RESERVED hold of `amount` whose terms are pending. It counts as created at the import, so
/// the hold time-to-live gives the order a full term after the cut-over before the sweeper
/// releases it, however long the Java wallet held it open.
fn pending_hold(order_id: OrderId, user: &UserId, amount: Money, now: DateTime<Utc>) -> Hold {
    Hold {
        order_id,
        user_id: user.clone(),
        side: Side::Buy,
        // Placeholders: the order's first event replaces them.
        ticker: Ticker::placeholder(Hold::PENDING_TICKER),
        quantity: Quantity::from_stored(Decimal::ONE),
        limit_price: None,
        reserved_amount: amount,
        reserved_quantity: Quantity::ZERO,
        filled_quantity: Quantity::ZERO,
        filled_amount: Money::ZERO,
        fees_amount: Money::ZERO,
        status: HoldStatus::Reserved,
        deny_reason: None,
        terms_pending: true,
        version: 0,
        created_at: now,
        updated_at: now,
    }
}

fn opening_entries(
    account: &Account,
    positions: &[Position],
    now: DateTime<Utc>,
) -> Vec<LedgerEntry> {
    let entry =
        |ticker: Option<&Ticker>, cash: Decimal, blocked: Decimal, quantity: Decimal| LedgerEntry {
            user_id: account.user_id.clone(),
            entry_type: EntryType::Opening,
            order_id: None,
            step_key: opening_step(&account.user_id, ticker),
            fee_name: None,
            cash_amount: cash,
            blocked_amount: blocked,
            settled_amount: cash,
            ticker: ticker.cloned(),
            quantity,
            blocked_quantity: Decimal::ZERO,
            balance_after: account.balance,
            blocked_balance_after: account.blocked_balance,
            settled_balance_after: account.settled_balance,
            occurred_at: now,
        };
    let mut ledger = vec![entry(
        None,
        account.balance.value(),
        account.blocked_balance.value(),
        Decimal::ZERO,
    )];
    for position in positions {
        ledger.push(entry(
            Some(&position.ticker),
            Decimal::ZERO,
            Decimal::ZERO,
            position.quantity.value(),
        ));
    }
    ledger
}
