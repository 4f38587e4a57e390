//! Why an order event or a corporate action is dead-lettered: the stable reasons of the
//! `x-error-reason` header.

use thiserror::Error;

use crate::text_enum::text_enum;

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
    /// A corporate action's `type` is none the wallet knows.
    UnknownActionType,
    /// A corporate action's `id` breaks its rule.
    InvalidActionId,
    /// A corporate action's ratio is not `from:to`, or goes the wrong way for its type.
    InvalidRatio,
    /// A date is not `YYYY-MM-DD`.
    InvalidDate,
    /// A corporate action whose fields contradict each other (a payment before the record
    /// date, a withholding rate of 100 % or more).
    ContradictoryAction,
    /// A corporate action under the id of another, stored one: the stored one stands.
    ConflictingAction,
}

text_enum!(DeadLetterReason {
    InvalidEncoding => "INVALID_ENCODING",
    InvalidJson => "INVALID_JSON",
    MissingField => "MISSING_FIELD",
    InvalidOrderId => "INVALID_ORDER_ID",
    InvalidUserId => "INVALID_USER_ID",
    InvalidTicker => "INVALID_TICKER",
    InvalidQuantity => "INVALID_QUANTITY",
    InvalidPrice => "INVALID_PRICE",
    InvalidSide => "INVALID_SIDE",
    InvalidTimestamp => "INVALID_TIMESTAMP",
    MissingExecutedPrice => "MISSING_EXECUTED_PRICE",
    OrderMismatch => "ORDER_MISMATCH",
    SettlementNotCovered => "SETTLEMENT_NOT_COVERED",
    AmountOutOfRange => "AMOUNT_OUT_OF_RANGE",
    ProcessingFailed => "PROCESSING_FAILED",
    UnknownActionType => "UNKNOWN_ACTION_TYPE",
    InvalidActionId => "INVALID_ACTION_ID",
    InvalidRatio => "INVALID_RATIO",
    InvalidDate => "INVALID_DATE",
    ContradictoryAction => "CONTRADICTORY_ACTION",
    ConflictingAction => "CONFLICTING_ACTION",
});

impl DeadLetterReason {
    /// The reason for a field that failed its rule.
    pub(crate) fn invalid_field(field: &str) -> DeadLetterReason {
        match field {
            "orderId" => DeadLetterReason::InvalidOrderId,
            "userId" => DeadLetterReason::InvalidUserId,
            "ticker" => DeadLetterReason::InvalidTicker,
            "price" | "executedPrice" | "amountPerShare" | "fractionPrice" | "costPerShare" => {
                DeadLetterReason::InvalidPrice
            }
            _ => DeadLetterReason::InvalidQuantity,
        }
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
