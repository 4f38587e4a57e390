//! Holds whose terms are pending (SPEC §10): an open order imported from the Java wallet, which
//! knew only the amount it reserved, until the order's first event gives it a ticker, a
//! quantity and a limit price. 0 for every hold of this wallet's own.

use sea_orm_migration::prelude::*;

use crate::{Dialect, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        execute_all(
            manager,
            &[format!(
                "ALTER TABLE holds ADD COLUMN terms_pending {} NOT NULL DEFAULT 0 \
                 CHECK (terms_pending IN (0, 1))",
                d.bigint
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &["ALTER TABLE holds DROP COLUMN terms_pending".to_owned()],
        )
        .await
    }
}
