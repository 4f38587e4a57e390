//! Dead-letter decisions per delivery (`wallet_domain::unit_of_work::Verdict`): a record that was
//! dead-lettered and is delivered again (its batch's offsets were not committed before a crash
//! or a rebalance) is dead-lettered again instead of being decided against a state that later
//! events changed. One row per dead letter; `decided_at` lets old ones be pruned.

use sea_orm_migration::prelude::*;

use crate::{Dialect, drop_tables, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let verdicts = format!(
            "CREATE TABLE dead_letter_verdicts (
                delivery {delivery} NOT NULL PRIMARY KEY,
                user_id {user_id} NOT NULL,
                reason {name} NOT NULL,
                detail {text} NOT NULL,
                decided_at {time} NOT NULL
            ){options}",
            // topic (up to 249 characters) / partition / offset.
            delivery = if d.numeric_checks {
                "VARCHAR(300)"
            } else {
                "TEXT"
            },
            user_id = d.user_id,
            name = d.name,
            text = d.text,
            time = d.time,
            options = d.table_options,
        );
        let by_time =
            "CREATE INDEX dead_letter_verdicts_decided_at ON dead_letter_verdicts (decided_at)"
                .to_owned();
        execute_all(manager, &[verdicts, by_time]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["dead_letter_verdicts"]).await
    }
}
