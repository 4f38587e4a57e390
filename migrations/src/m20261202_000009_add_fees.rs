//! Fees on fills: the fee a `FEE` ledger entry charged, and the fees an order's fills were
//! charged so far. Both empty for every row written before fees existed, which charged none.

use sea_orm_migration::prelude::*;

use crate::{Dialect, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let zero = if d.numeric_checks { "0" } else { "'0'" };
        execute_all(
            manager,
            &[
                format!(
                    "ALTER TABLE ledger_entries ADD COLUMN fee_name {} NULL",
                    d.name
                ),
                format!(
                    "ALTER TABLE holds ADD COLUMN fees_amount {} NOT NULL DEFAULT {zero} {}",
                    d.money,
                    d.non_negative("fees_amount")
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &[
                "ALTER TABLE holds DROP COLUMN fees_amount".to_owned(),
                "ALTER TABLE ledger_entries DROP COLUMN fee_name".to_owned(),
            ],
        )
        .await
    }
}
