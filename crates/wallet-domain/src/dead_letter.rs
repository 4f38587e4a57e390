//! Why an order event is dead-lettered: the stable reasons of the `x-error-reason` header.

use std::fmt;

use thiserror::Error;

/// Stable reason codes of dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadLetterReason {
    /// The value is not UTF-8.
    InvalidEncoding,
    /// The value is not a JSON object of the expected shape.
    InvalidJson,
    /// A required field is absent or null.
    MissingField,
    /// `orderId` is not a positive 64-bit integer.
    InvalidOrderId,
    /// `userId` breaks the user-id rule.
    InvalidUserId,
    /// `ticker` breaks the ticker rule.
    InvalidTicker,
    /// A quantity is ≤ 0, too large, has too many digits, or a fill exceeds the order.
    InvalidQuantity,
    /// A price is ≤ 0, too large or has too many digits.
    InvalidPrice,
    /// `side` is not BUY or SELL.
    InvalidSide,
    /// `eventTimestamp` is neither an ISO date-time nor Jackson's array.
    InvalidTimestamp,
    /// A fill without `executedPrice`.
    MissingExecutedPrice,
    /// The event's order belongs to another user, or contradicts the stored order.
    OrderMismatch,
    /// A fill whose cash or shares are not there: nothing was applied.
    SettlementNotCovered,
    /// An amount computed from the event does not fit the wallet's range.
    AmountOutOfRange,
    /// The wallet failed on this event (a bug, reported with its cause): dead-lettered so that
    /// the rest of its partition goes on, to be replayed once the wallet is fixed.
    ProcessingFailed,
}

impl DeadLetterReason {
    /// The stable code written to `x-error-reason` and to metrics.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterReason::InvalidEncoding => "INVALID_ENCODING",
            DeadLetterReason::InvalidJson => "INVALID_JSON",
            DeadLetterReason::MissingField => "MISSING_FIELD",
            DeadLetterReason::InvalidOrderId => "INVALID_ORDER_ID",
            DeadLetterReason::InvalidUserId => "INVALID_USER_ID",
            DeadLetterReason::InvalidTicker => "INVALID_TICKER",
            DeadLetterReason::InvalidQuantity => "INVALID_QUANTITY",
            DeadLetterReason::InvalidPrice => "INVALID_PRICE",
            DeadLetterReason::InvalidSide => "INVALID_SIDE",
            DeadLetterReason::InvalidTimestamp => "INVALID_TIMESTAMP",
            DeadLetterReason::MissingExecutedPrice => "MISSING_EXECUTED_PRICE",
            DeadLetterReason::OrderMismatch => "ORDER_MISMATCH",
            DeadLetterReason::SettlementNotCovered => "SETTLEMENT_NOT_COVERED",
            DeadLetterReason::AmountOutOfRange => "AMOUNT_OUT_OF_RANGE",
            DeadLetterReason::ProcessingFailed => "PROCESSING_FAILED",
        }
    }

    /// The reason for a field that failed its rule.
    pub(crate) fn invalid_field(field: &str) -> DeadLetterReason {
        match field {
            "orderId" => DeadLetterReason::InvalidOrderId,
            "userId" => DeadLetterReason::InvalidUserId,
            "ticker" => DeadLetterReason::InvalidTicker,
            "price" | "executedPrice" => DeadLetterReason::InvalidPrice,
            _ => DeadLetterReason::InvalidQuantity,
        }
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event the wallet will not apply, with the reason and a human-readable detail (the
/// `x-error-detail` header).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}: {detail}")]
pub struct Rejection {
    /// Stable code.
    pub reason: DeadLetterReason,
    /// What exactly was wrong.
    pub detail: String,
}

impl Rejection {
    /// A rejection with its reason and detail.
    pub fn new(reason: DeadLetterReason, detail: impl Into<String>) -> Self {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }
}
