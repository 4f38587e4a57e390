//! Use cases, generic over the ports: what the HTTP API, the Kafka consumer, the sweeper and
//! the audit command call.

mod apply;
mod valuation;

pub use apply::{ApplyError, WalletService};
pub use valuation::{PositionValuation, Summary, Valuation, ValuationError, value_summary};
