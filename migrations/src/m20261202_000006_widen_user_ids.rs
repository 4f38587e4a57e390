//! User ids of up to 100 characters (SPEC §3 "Account"): the width of the Java wallet's
//! `user_id` column, so that every account it holds can be imported. SQLite keeps them as TEXT
//! already; MySQL widens each `user_id` column in place, keeping it `NOT NULL` (keys and
//! indexes stay as they are).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::{Dialect, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every table with a `user_id` column.
const TABLES: &[&str] = &[
    "accounts",
    "positions",
    "holds",
    "ledger_entries",
    "outbox",
    "idempotency_keys",
];

fn modify_user_id(column_type: &str) -> Vec<String> {
    TABLES
        .iter()
        .map(|table| format!("ALTER TABLE {table} MODIFY user_id {column_type} NOT NULL"))
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::MySql {
            return Ok(());
        }
        execute_all(manager, &modify_user_id(Dialect::of(manager)?.user_id)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::MySql {
            return Ok(());
        }
        // Fails, and changes nothing more, when a stored id is longer than 64 characters.
        execute_all(manager, &modify_user_id("VARCHAR(64)")).await
    }
}
