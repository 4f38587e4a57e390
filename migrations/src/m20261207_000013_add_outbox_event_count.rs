//! An outbox row holds the wallet events of one commit (up to a bound), not one user's: the
//! relay sizes its rounds in events, so each row says how many it holds. Rows written before
//! this migration hold one user's events of one commit, a handful at most, and count as one:
//! a round that takes them may publish a few events past its limit.

use sea_orm_migration::prelude::*;

use crate::execute_all;

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &["ALTER TABLE outbox ADD COLUMN event_count INTEGER NOT NULL DEFAULT 1".to_owned()],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &["ALTER TABLE outbox DROP COLUMN event_count".to_owned()],
        )
        .await
    }
}
