//! # wallet-domain
//!
//! The pure model of Broker Wallet, the custody service of a brokerage: exact money types,
//! accounts, positions, per-order holds, the append-only ledger, the order-event state machine,
//! the ports the adapters implement and the use cases written against them. It does no I/O and
//! depends on no runtime, database, cache or broker crate, so any broker service can link it to
//! apply the same rules.
//!
//! ## The state machine
//!
//! Orders flow through the broker as Kafka events. For each order the wallet keeps one
//! [`Hold`]: on `PENDING` it reserves what the order may consume (cash for a BUY, rounded up;
//! shares for a SELL), so two open orders can never spend the same money; on
//! `PARTIALLY_FILLED` and `FILLED` it settles the part of the cumulative `filledQuantity` not
//! settled yet, at half-even rounding, paying from the reservation first; on `REJECTED`,
//! `CANCELED`, `CANCELLED` and `EXPIRED` it releases what is still reserved. Every step is
//! idempotent — a duplicate, or a `PENDING` arriving after its final event, is a no-op — so the
//! outcome depends neither on redelivery nor on the order in which a `PENDING` and its final
//! event arrive. A fill the account cannot cover changes nothing and is dead-lettered.
//!
//! Transitions are pure: a [`WalletBook`] holds the rows a unit of work loaded; applying an
//! event changes them in memory, appends [`LedgerEntry`]s and outgoing [`WalletEvent`]s, and
//! [`WalletBook::into_changes`] hands the store one [`unit_of_work::ChangeSet`] to commit atomically.
//! Invariants (`balance ≥ 0`, `0 ≤ blocked ≤ balance`, the same for quantities) are asserted
//! after every transition.
//!
//! ## Example
//!
//! ```
//! use chrono::Utc;
//! use wallet_domain::{
//!     CashOperation, Currency, EventOutcome, Money, OrderEvent, UserId, WalletBook,
//!     unit_of_work::Snapshot,
//! };
//!
//! let now = Utc::now();
//! let mut book = WalletBook::new(Snapshot::default(), Currency::BRL);
//! let user = UserId::parse("investor-42").unwrap();
//! book.deposit(
//!     &CashOperation {
//!         user_id: user.clone(),
//!         amount: Money::parse_amount("amount", "10000.00", Currency::BRL).unwrap(),
//!         idempotency_key: None,
//!         request_id: uuid::Uuid::new_v4(),
//!     },
//!     now,
//! )
//! .unwrap();
//!
//! let pending = OrderEvent::parse(
//!     br#"{"orderId":1001,"userId":"investor-42","ticker":"PETR4","quantity":100,
//!          "price":38.55,"side":"BUY","status":"PENDING"}"#,
//! )
//! .unwrap();
//! assert_eq!(book.apply_order_event(&pending, now), EventOutcome::Applied);
//!
//! let account = book.account(&user).unwrap();
//! assert_eq!(account.blocked_balance.to_scaled_string(Currency::BRL), "3855.00");
//! assert_eq!(account.available_balance().to_scaled_string(Currency::BRL), "6145.00");
//! // Applying the same event again changes nothing.
//! assert_eq!(book.apply_order_event(&pending, now), EventOutcome::Duplicate);
//! ```
//!
//! A service applies batches through [`usecases::WalletService`], which loads the rows from a
//! [`ports::WalletStore`], runs the book and commits, retrying on version conflicts.

#![warn(missing_docs)]

pub mod account;
pub mod amount;
pub mod corporate_actions;
pub mod dead_letter;
pub mod decimal_text;
pub mod engine;
pub mod fees;
pub mod hold;
pub mod ids;
pub mod import;
pub mod ledger;
pub mod order_event;
pub mod ports;
pub mod settlement;
pub mod text_enum;
pub mod unit_of_work;
pub mod usecases;
pub mod wallet_event;

pub use account::{Account, LastTrade, Position};
pub use amount::{
    AmountError, Currency, Money, Price, Quantity, reservation_cost, settlement_value,
};
pub use dead_letter::{DeadLetterReason, Rejection};
pub use engine::{CashError, CashOperation, EventOutcome, WalletBook};
pub use fees::{Fee, FeeCharge, FeeError, FeeSchedule, FeeSide, FeeTerms};
pub use hold::{DenyReason, Hold, HoldStatus, Side};
pub use ids::{IdError, OrderId, Ticker, UserId};
pub use ledger::{EntryType, LedgerEntry, StoredLedgerEntry};
pub use order_event::{OrderEvent, OrderStatus};
pub use settlement::{CalendarError, Obligation, ProjectedSettlement, SettlementCalendar};
pub use wallet_event::{WalletEvent, WalletEventType};
