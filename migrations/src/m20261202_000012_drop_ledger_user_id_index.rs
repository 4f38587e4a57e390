//! The statement reads the ledger newest first by `(occurred_at, id)` through
//! `ledger_entries_user_time`, the index the balance at a time already needs, so the
//! `(user_id, id)` index only cost writes: a quarter of MariaDB's CPU per ledger row in a
//! measurement of 300,000 multi-row inserts (`docs/benchmarks.md`). `step_key` stays UNIQUE
//! ([decision 2](../../docs/decisions/0002-idempotency.md)).

use sea_orm_migration::prelude::*;

use crate::{Dialect, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop_index = if Dialect::of(manager)?.numeric_checks {
            "DROP INDEX ledger_entries_user_id ON ledger_entries"
        } else {
            "DROP INDEX ledger_entries_user_id"
        };
        execute_all(manager, &[drop_index.to_owned()]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &["CREATE INDEX ledger_entries_user_id ON ledger_entries (user_id, id)".to_owned()],
        )
        .await
    }
}
