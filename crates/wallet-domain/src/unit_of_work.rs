//! The unit of work's data: the keys it touches ([`LoadRequest`]), the rows that exist for
//! them ([`Snapshot`]) and what it writes back in one transaction ([`ChangeSet`]), with the two
//! records only a unit of work writes (HTTP idempotency keys, dead-letter verdicts).
//!
//! The engine works on these values alone; the store ports in [`crate::ports`] carry them to
//! and from a database.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::account::{Account, LastTrade, Position};
use crate::corporate_actions::{ActionRecord, Entitlement};
use crate::dead_letter::Rejection;
use crate::hold::Hold;
use crate::ids::{OrderId, Ticker, UserId};
use crate::ledger::LedgerEntry;
use crate::settlement::Obligation;
use crate::wallet_event::WalletEvent;

/// The keys a unit of work touches. The store loads every row that exists for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadRequest {
    /// Users whose accounts are read (absent ones are opened by the book when needed).
    pub users: BTreeSet<UserId>,
    /// Positions by owner and ticker.
    pub positions: BTreeSet<(UserId, Ticker)>,
    /// Orders whose holds are read: a batch's events and the sweeper's stale holds.
    pub orders: BTreeSet<OrderId>,
    /// HTTP idempotency keys by owner and key.
    pub idempotency_keys: BTreeSet<(UserId, String)>,
    /// Deliveries of order events, whose earlier dead-letter decisions are needed.
    pub deliveries: BTreeSet<String>,
    /// Users whose open settlement obligations are read (a withdrawal's date of availability).
    pub obligations_of: BTreeSet<UserId>,
}

/// The rows that exist for a [`LoadRequest`]; absent keys have no row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Accounts found.
    pub accounts: Vec<Account>,
    /// Positions found.
    pub positions: Vec<Position>,
    /// Holds found.
    pub holds: Vec<Hold>,
    /// Idempotency records found.
    pub idempotency: Vec<IdempotencyRecord>,
    /// Dead-letter decisions found for the requested deliveries.
    pub verdicts: Vec<Verdict>,
    /// Open settlement obligations of the requested users.
    pub obligations: Vec<Obligation>,
}

/// What a unit of work writes, atomically.
///
/// Each account, position and hold carries the `version` it was loaded with (0 when it is new):
/// the store inserts new rows, updates the others only where the stored version still equals
/// the loaded one, and stores `version + 1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Accounts created or changed.
    pub accounts: Vec<Account>,
    /// Positions created or changed.
    pub positions: Vec<Position>,
    /// Holds created or changed.
    pub holds: Vec<Hold>,
    /// Ledger entries to append.
    pub ledger: Vec<LedgerEntry>,
    /// Wallet events for the outbox.
    pub outbox: Vec<WalletEvent>,
    /// Latest execution prices per ticker (upserted; a later `traded_at` wins).
    pub last_trades: Vec<LastTrade>,
    /// Idempotency records of HTTP requests applied by this unit of work.
    pub idempotency: Vec<IdempotencyRecord>,
    /// Dead-letter decisions taken by this unit of work (deliveries are new).
    pub verdicts: Vec<Verdict>,
    /// Settlement obligations the fills of this unit of work created.
    pub obligations: Vec<Obligation>,
    /// Open obligations this unit of work settled (`settled_at` set); the store refuses to
    /// settle one twice.
    pub settled_obligations: Vec<Obligation>,
    /// A corporate action's progress after this unit of work's batch of holders: the store
    /// writes it where the stored version is still the loaded one (inserting it at version 0)
    /// and stores `version + 1`.
    pub action_progress: Option<ActionRecord>,
    /// Cash holders are owed by corporate actions, new.
    pub entitlements: Vec<Entitlement>,
    /// Entitlements this unit of work paid (`paid_at` set); the store refuses to pay one twice.
    pub paid_entitlements: Vec<Entitlement>,
}

impl ChangeSet {
    /// True when there is nothing to write.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records() == 0
    }

    /// How many records the change set writes: rows of every kind, each wallet event of the
    /// outbox and the action's progress (what a store sizes its writes by).
    #[must_use]
    pub fn records(&self) -> usize {
        self.accounts.len()
            + self.positions.len()
            + self.holds.len()
            + self.ledger.len()
            + self.outbox.len()
            + self.last_trades.len()
            + self.idempotency.len()
            + self.verdicts.len()
            + self.obligations.len()
            + self.settled_obligations.len()
            + usize::from(self.action_progress.is_some())
            + self.entitlements.len()
            + self.paid_entitlements.len()
    }
}

/// The decision to dead-letter one delivery of an order event, stored with the changes of its
/// batch.
///
/// Whether an event is applied can depend on the state it meets (a fill is covered or not), and
/// a batch that was applied but whose offsets were not committed yet is delivered again after a
/// crash or a rebalance, after later events changed that state. The first decision stands: a
/// redelivered record that was dead-lettered is dead-lettered again (its dead letter may have
/// been lost with the process), never applied, so every record is decided once, in partition
/// order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The delivery decided (see [`crate::OrderEvent::delivery`]).
    pub delivery: String,
    /// The account the event names.
    pub user_id: UserId,
    /// Why it was dead-lettered.
    pub rejection: Rejection,
    /// When it was decided.
    pub decided_at: DateTime<Utc>,
}

/// A deposit or withdrawal made under an `Idempotency-Key`, and the account it left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Owner of the key (keys are scoped per user).
    pub user_id: UserId,
    /// The client's key.
    pub key: String,
    /// What the request asked for (operation and amount); the same key with another
    /// fingerprint is a conflict.
    pub fingerprint: String,
    /// The account as the request left it: the response replayed for a repeat.
    pub account: Account,
    /// When the request was applied.
    pub created_at: DateTime<Utc>,
}
