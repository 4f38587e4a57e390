//! The settlement cycle (D+n): each account's settled cash, the ledger's change of it, and the
//! obligations fills create until their settlement date. Every row written before this
//! migration settled at once, so its settled values are its cash values.

use sea_orm_migration::prelude::*;

use crate::{Dialect, drop_tables, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let zero = if d.numeric_checks { "0" } else { "'0'" };
        // An exchange date, `YYYY-MM-DD`: its text order is its date order on both backends.
        let date = if d.numeric_checks { "CHAR(10)" } else { "TEXT" };
        let money = |table: &str, column: &str| {
            format!(
                "ALTER TABLE {table} ADD COLUMN {column} {} NOT NULL DEFAULT {zero}",
                d.money
            )
        };
        let obligations = format!(
            "CREATE TABLE settlement_obligations (
                obligation_key {step_key} NOT NULL PRIMARY KEY,
                user_id {user_id} NOT NULL,
                order_id {bigint} NOT NULL,
                trade_date {date} NOT NULL,
                due_date {date} NOT NULL,
                cash_amount {money} NOT NULL,
                created_at {time} NOT NULL,
                settled_at {time} NULL
            ){options}",
            step_key = d.step_key,
            user_id = d.user_id,
            bigint = d.bigint,
            money = d.money,
            time = d.time,
            options = d.table_options,
        );
        execute_all(
            manager,
            &[
                money("accounts", "settled_balance"),
                "UPDATE accounts SET settled_balance = balance".to_owned(),
                money("idempotency_keys", "settled_balance"),
                "UPDATE idempotency_keys SET settled_balance = balance".to_owned(),
                money("ledger_entries", "settled_amount"),
                money("ledger_entries", "settled_balance_after"),
                "UPDATE ledger_entries SET settled_amount = cash_amount, \
                 settled_balance_after = balance_after"
                    .to_owned(),
                obligations,
                "CREATE INDEX settlement_obligations_due ON settlement_obligations \
                 (settled_at, due_date)"
                    .to_owned(),
                "CREATE INDEX settlement_obligations_user ON settlement_obligations \
                 (user_id, settled_at)"
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["settlement_obligations"]).await?;
        execute_all(
            manager,
            &[
                "ALTER TABLE ledger_entries DROP COLUMN settled_balance_after".to_owned(),
                "ALTER TABLE ledger_entries DROP COLUMN settled_amount".to_owned(),
                "ALTER TABLE idempotency_keys DROP COLUMN settled_balance".to_owned(),
                "ALTER TABLE accounts DROP COLUMN settled_balance".to_owned(),
            ],
        )
        .await
    }
}
