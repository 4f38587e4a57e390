//! The schema of Broker Wallet as sea-orm migrations: the single source of truth of every table
//! `wallet-sql` reads and writes, for MySQL 8 / MariaDB ≥ 10.6 (production) and SQLite (the
//! embedded default).
//!
//! The DDL is written per backend rather than through sea-query's portable column types because
//! the two backends need different physical types for the same logical column (SPEC §3 "exact
//! decimal end to end"): MySQL stores amounts as `DECIMAL(28,10)`, SQLite, which has no exact
//! decimal type and would turn a NUMERIC value into a float, stores them as canonical decimal
//! TEXT in `STRICT` tables, so a value can never silently change affinity.

#![warn(missing_docs)]

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

mod m20260501_000001_create_accounts_and_positions;
mod m20260501_000002_create_holds;
mod m20260501_000003_create_ledger_entries;
mod m20260501_000004_create_outbox;
mod m20260501_000005_create_idempotency_keys_and_last_trades;
mod m20261202_000006_widen_user_ids;
mod m20261202_000007_create_dead_letter_verdicts;
mod m20261202_000008_add_hold_terms_pending;
mod m20261202_000009_add_fees;
mod m20261202_000010_create_settlement_obligations;
mod m20261202_000011_create_corporate_actions;
mod m20261202_000012_drop_ledger_user_id_index;
mod m20261207_000013_add_outbox_event_count;

/// Every migration of the schema, in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260501_000001_create_accounts_and_positions::Migration),
            Box::new(m20260501_000002_create_holds::Migration),
            Box::new(m20260501_000003_create_ledger_entries::Migration),
            Box::new(m20260501_000004_create_outbox::Migration),
            Box::new(m20260501_000005_create_idempotency_keys_and_last_trades::Migration),
            Box::new(m20261202_000006_widen_user_ids::Migration),
            Box::new(m20261202_000007_create_dead_letter_verdicts::Migration),
            Box::new(m20261202_000008_add_hold_terms_pending::Migration),
            Box::new(m20261202_000009_add_fees::Migration),
            Box::new(m20261202_000010_create_settlement_obligations::Migration),
            Box::new(m20261202_000011_create_corporate_actions::Migration),
            Box::new(m20261202_000012_drop_ledger_user_id_index::Migration),
            Box::new(m20261207_000013_add_outbox_event_count::Migration),
        ]
    }
}

/// Physical column types of one backend. Every amount column of every table uses
/// [`Dialect::money`], so the exact-decimal rule is decided in this one place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// Exact decimal: `DECIMAL(28,10)` on MySQL (18 integral digits, above the 10^15 limit of
    /// every amount, and 10 fractional ones, above the 8 of prices and quantities; 28 digits
    /// in all always fit `rust_decimal` exactly), canonical decimal text on SQLite.
    pub money: &'static str,
    /// A UTC instant: `DATETIME(6)` on MySQL, fixed-width RFC 3339 text on SQLite (so text
    /// order is time order).
    pub time: &'static str,
    /// A user id (1–100 ASCII characters; the first migrations created 64, see
    /// `m20261202_000006_widen_user_ids`).
    pub user_id: &'static str,
    /// A ticker (1–12 characters).
    pub ticker: &'static str,
    /// A short upper-case name (status, side, entry type, reason, currency).
    pub name: &'static str,
    /// An HTTP idempotency key (up to 255 characters).
    pub idempotency_key: &'static str,
    /// A ledger step key: a prefix, the user id and possibly an idempotency key.
    pub step_key: &'static str,
    /// 64-bit integer.
    pub bigint: &'static str,
    /// An auto-incremented 64-bit primary key column definition.
    pub serial: &'static str,
    /// Long text (JSON payloads).
    pub text: &'static str,
    /// Appended to every CREATE TABLE. On MySQL, binary collation keeps ids case-sensitive
    /// (`Investor-1` and `investor-1` are two users); on SQLite, STRICT refuses a value of the
    /// wrong type instead of converting it.
    pub table_options: &'static str,
    /// True when CHECK constraints may compare amounts numerically.
    pub numeric_checks: bool,
}

impl Dialect {
    /// The dialect of `manager`'s backend.
    pub(crate) fn of(manager: &SchemaManager) -> Result<Dialect, DbErr> {
        match manager.get_database_backend() {
            DbBackend::MySql => Ok(Dialect {
                money: "DECIMAL(28,10)",
                time: "DATETIME(6)",
                user_id: "VARCHAR(100)",
                ticker: "VARCHAR(12)",
                name: "VARCHAR(32)",
                idempotency_key: "VARCHAR(255)",
                step_key: "VARCHAR(512)",
                bigint: "BIGINT",
                serial: "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
                text: "MEDIUMTEXT",
                table_options: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                numeric_checks: true,
            }),
            DbBackend::Sqlite => Ok(Dialect {
                money: "TEXT",
                time: "TEXT",
                user_id: "TEXT",
                ticker: "TEXT",
                name: "TEXT",
                idempotency_key: "TEXT",
                step_key: "TEXT",
                bigint: "INTEGER",
                serial: "INTEGER PRIMARY KEY AUTOINCREMENT",
                text: "TEXT",
                table_options: " STRICT",
                numeric_checks: false,
            }),
            DbBackend::Postgres => Err(DbErr::Migration(
                "PostgreSQL is not a supported backend of Broker Wallet".to_owned(),
            )),
        }
    }

    /// A CHECK that `column ≥ 0`. SQLite keeps amounts as canonical text, where the sign is
    /// the first character; MySQL compares the decimal.
    pub(crate) fn non_negative(&self, column: &str) -> String {
        if self.numeric_checks {
            format!("CHECK ({column} >= 0)")
        } else {
            format!("CHECK ({column} NOT LIKE '-%')")
        }
    }

    /// A CHECK that `0 ≤ part ≤ whole` where the backend can compare numerically, or only
    /// `part ≥ 0` where it cannot.
    pub(crate) fn between_zero_and(&self, part: &str, whole: &str) -> String {
        if self.numeric_checks {
            format!("CHECK ({part} >= 0 AND {part} <= {whole})")
        } else {
            self.non_negative(part)
        }
    }

    /// A CHECK that `column > 0`.
    pub(crate) fn positive(&self, column: &str) -> String {
        if self.numeric_checks {
            format!("CHECK ({column} > 0)")
        } else {
            format!("CHECK ({column} NOT LIKE '-%' AND {column} <> '0')")
        }
    }
}

/// Runs each statement in turn (MySQL's prepared protocol takes one statement at a time).
pub(crate) async fn execute_all(
    manager: &SchemaManager<'_>,
    statements: &[String],
) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    for statement in statements {
        connection.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// Drops `tables` if they exist, in the order given.
pub(crate) async fn drop_tables(manager: &SchemaManager<'_>, tables: &[&str]) -> Result<(), DbErr> {
    let statements: Vec<String> = tables
        .iter()
        .map(|table| format!("DROP TABLE IF EXISTS {table}"))
        .collect();
    execute_all(manager, &statements).await
}
