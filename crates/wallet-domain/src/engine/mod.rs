//! The state machine (SPEC §3 "Order events → effects"), as pure functions over a
//! [`WalletBook`]: the rows a unit of work loaded, changed in memory, turned into a
//! [`crate::unit_of_work::ChangeSet`] at the end.
//!
//! Every transition works on copies of the rows it touches and writes them back only when it
//! succeeds, so an event that is dead-lettered half-way leaves nothing behind. Invariants are
//! asserted after every transition.

mod book;
mod cash;
mod clearing;
mod corporate;
mod order;
mod release;
mod reserve;
mod settle;
mod steps;

pub use book::WalletBook;
pub use cash::{CashError, CashOperation};

use crate::dead_letter::Rejection;
use crate::hold::DenyReason;

/// What applying one order event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// The event changed the wallet (reserved, settled, released or recorded).
    Applied,
    /// The step was already applied, or the hold is final: nothing changed.
    Duplicate,
    /// The status is one the wallet does not act on (`NEW`, `SENT` …).
    Ignored,
    /// The reservation was refused; the hold is DENIED and `RESERVATION_REJECTED` published.
    Denied(DenyReason),
    /// Nothing was applied; the event goes to the dead-letter topic with this reason.
    DeadLetter(Rejection),
}

impl EventOutcome {
    /// A stable label for metrics.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            EventOutcome::Applied => "applied",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::Ignored => "ignored",
            EventOutcome::Denied(_) => "denied",
            EventOutcome::DeadLetter(_) => "dead_letter",
        }
    }
}
