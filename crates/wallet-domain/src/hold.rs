//! Holds: one per order id, what the order reserved and how much of it has been filled
//! (SPEC §3 "Hold").

use chrono::{DateTime, Utc};

use crate::amount::{Money, Price, Quantity};
use crate::ids::{OrderId, Ticker, UserId};
use crate::text_enum::text_enum;

/// Direction of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Spends cash, receives shares.
    Buy,
    /// Spends shares, receives cash.
    Sell,
}

/// Life cycle of a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldStatus {
    /// The order's cash or shares are blocked.
    Reserved,
    /// Part of the order is settled; the rest stays blocked.
    PartiallyFilled,
    /// Settled; nothing blocked. Final.
    Filled,
    /// Cancelled, rejected or expired by the Order API; nothing blocked. Final.
    Released,
    /// Released by the wallet's sweeper after the hold time-to-live. Final; a later fill is still
    /// booked.
    Expired,
    /// The reservation was refused. Final; a later fill (the exchange filled the order anyway)
    /// is still booked.
    Denied,
}

impl HoldStatus {
    /// True while the hold may still block cash or shares.
    #[must_use]
    pub fn is_active(self) -> bool {
        matches!(self, HoldStatus::Reserved | HoldStatus::PartiallyFilled)
    }

    /// The status after a fill is booked on the hold: an active hold becomes FILLED or
    /// PARTIALLY_FILLED; a final one stays what it is, so a hold released once is never
    /// released again.
    #[must_use]
    pub fn after_fill(self, is_final: bool) -> HoldStatus {
        match self {
            HoldStatus::Reserved | HoldStatus::PartiallyFilled if is_final => HoldStatus::Filled,
            HoldStatus::Reserved | HoldStatus::PartiallyFilled => HoldStatus::PartiallyFilled,
            final_status => final_status,
        }
    }
}

/// Why a reservation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenyReason {
    /// Available cash below the reservation.
    InsufficientFunds,
    /// Available shares below the order quantity.
    InsufficientPosition,
    /// The user has no account.
    AccountNotFound,
}

text_enum!(Side { Buy => "BUY", Sell => "SELL" });
text_enum!(HoldStatus {
    Reserved => "RESERVED",
    PartiallyFilled => "PARTIALLY_FILLED",
    Filled => "FILLED",
    Released => "RELEASED",
    Expired => "EXPIRED",
    Denied => "DENIED",
});
text_enum!(DenyReason {
    InsufficientFunds => "INSUFFICIENT_FUNDS",
    InsufficientPosition => "INSUFFICIENT_POSITION",
    AccountNotFound => "ACCOUNT_NOT_FOUND",
});

/// What one order has reserved and settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The Order API's order id: at most one hold per order, whatever its events.
    pub order_id: OrderId,
    /// The investor who placed the order.
    pub user_id: UserId,
    /// BUY reserves cash, SELL reserves shares.
    pub side: Side,
    /// The stock ordered.
    pub ticker: Ticker,
    /// Shares ordered: fills beyond it are refused.
    pub quantity: Quantity,
    /// Limit price of the order, when the wallet saw one.
    pub limit_price: Option<Price>,
    /// Cash still blocked by this BUY order.
    pub reserved_amount: Money,
    /// Shares still blocked by this SELL order.
    pub reserved_quantity: Quantity,
    /// Cumulative quantity settled.
    pub filled_quantity: Quantity,
    /// Cumulative cash settled: cost of a BUY, proceeds of a SELL, fees not included.
    pub filled_amount: Money,
    /// Cumulative fees charged on the order's fills (see [`crate::fees`]).
    pub fees_amount: Money,
    /// Where the hold is in its life cycle.
    pub status: HoldStatus,
    /// Set when `status` is [`HoldStatus::Denied`].
    pub deny_reason: Option<DenyReason>,
    /// True for a hold imported from the Java wallet (SPEC §10), which knew only the amount an
    /// open BUY reserved: until the order's first event completes them, `ticker` is
    /// [`Hold::PENDING_TICKER`], `quantity` one share and `limit_price` absent.
    pub terms_pending: bool,
    /// Optimistic-concurrency version, as on [`crate::Account::version`].
    pub version: i64,
    /// When the wallet first saw the order.
    pub created_at: DateTime<Utc>,
    /// When the hold last changed.
    pub updated_at: DateTime<Utc>,
}

impl Hold {
    /// The ticker an imported hold carries until its order's first event names the real one.
    pub const PENDING_TICKER: &'static str = "PENDING";

    /// Panics when the hold breaks an invariant (a bug; see [`crate::Account::assert_invariants`]).
    pub fn assert_invariants(&self) {
        assert!(
            self.filled_quantity <= self.quantity,
            "filled above ordered: {self:?}"
        );
        if !self.status.is_active() {
            assert!(
                self.reserved_amount.is_zero(),
                "final hold keeps cash: {self:?}"
            );
            assert!(
                self.reserved_quantity.is_zero(),
                "final hold keeps shares: {self:?}"
            );
        }
        assert_eq!(
            self.deny_reason.is_some(),
            self.status == HoldStatus::Denied,
            "deny reason: {self:?}"
        );
    }
}
