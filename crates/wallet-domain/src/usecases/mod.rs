//! Use cases, generic over the ports: what the HTTP API, the Kafka consumer, the sweeper and
//! the audit command call.

mod apply;
mod corporate_actions;
mod valuation;
mod wallet;

pub use apply::{ApplyError, CONFLICT_ATTEMPTS_MAX, ConflictPause, Sweep, WalletService};
pub use corporate_actions::HOLDER_BATCH_MAX;
pub use valuation::{PositionValuation, Summary, Valuation, ValuationError, value_summary};
pub use wallet::{BoxFuture, Wallet, WalletUseCases};

#[cfg(test)]
mod tests;
