//! # wallet-sql
//!
//! The sea-orm adapter of the Broker Wallet store ports over MySQL 8 / MariaDB ≥ 10.6
//! (production) and SQLite (the embedded default): [`SqlStore`] implements
//! `WalletStore` (the unit of work of every write, `unit_of_work/`), `WalletReader` (the HTTP
//! API's reads, `reader.rs`), `LedgerAudit` (`audit.rs`) and `Outbox` (the relay's side of the
//! outbox, `outbox.rs`): each port's impl lives, with its code, in its own file.
//!
//! - **Exact decimals on both backends** (SPEC §3): `DECIMAL(28,10)` on MySQL, canonical
//!   decimal text on SQLite, converted in one module (`dialect`); no float on the way.
//! - **One transaction per unit of work**, with optimistic version checks: rows loaded at
//!   version 0 are inserted, the others updated only where the stored version is still the
//!   loaded one; anything a concurrent writer causes (version mismatch, duplicate key,
//!   deadlock, lock wait timeout, SQLite busy) is [`StoreError::Conflict`] and the use case
//!   retries from a fresh load.
//! - **Few round trips**: a load is one query per table, a commit one multi-row statement per
//!   table (bulk UPDATEs in chunks of 250 rows, INSERTs up to 16,000 bind values) plus BEGIN
//!   and COMMIT, whatever the batch size; on MySQL the load's queries go as one text and the
//!   commit's statements, BEGIN and COMMIT with them, as another: two round trips a batch.
//!
//! No sea-orm or sqlx type appears in this crate's public API.

#![warn(missing_docs)]

mod audit;
mod corporate_actions;
mod dialect;
mod error;
mod java;
mod obligations;
mod outbox;
mod reader;
mod rows;
mod settings;
mod statements;
mod store;
#[cfg(feature = "test-support")]
pub mod test_support;
mod unit_of_work;
mod writes;

pub use java::read_java_wallet;
pub use obligations::DUE_OBLIGATIONS_MAX;
pub use outbox::OUTBOX_BATCH_MAX;
pub use reader::STATEMENT_PAGE_MAX;
pub use settings::DatabaseSettings;
pub use store::SqlStore;
pub use unit_of_work::STALE_HOLDS_MAX;
