//! The outbox (SPEC §4 "Out"): wallet events written in the same transaction as the change
//! they announce and relayed to Kafka in `id` order; `event_id` is UNIQUE so a step is never
//! announced twice.

use sea_orm_migration::prelude::*;

use crate::{Dialect, drop_tables, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let outbox = format!(
            "CREATE TABLE outbox (
                id {serial},
                event_id {name} NOT NULL,
                user_id {user_id} NOT NULL,
                payload {text} NOT NULL,
                created_at {time} NOT NULL,
                sent_at {time} NULL,
                CONSTRAINT outbox_event_id UNIQUE (event_id)
            ){options}",
            serial = d.serial,
            // A UUID in its 36-character text form fits the 32-character name type only on
            // SQLite, where TEXT has no length; MySQL gets an explicit width.
            name = if d.numeric_checks { "CHAR(36)" } else { d.name },
            user_id = d.user_id,
            text = d.text,
            time = d.time,
            options = d.table_options,
        );
        // The relay reads `WHERE sent_at IS NULL ORDER BY id`: with `sent_at` first, the
        // unsent rows are one contiguous range of the index, already in id order.
        let unsent = "CREATE INDEX outbox_unsent ON outbox (sent_at, id)".to_owned();
        execute_all(manager, &[outbox, unsent]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["outbox"]).await
    }
}
