//! The append-only ledger (SPEC §3 "Ledger"). `step_key` is UNIQUE so that no step of an order
//! or request is ever booked twice, whatever the consumer redelivers; the two indexes serve the
//! statement (newest first, cursor on `id`) and the balance at a point in time.

use sea_orm_migration::prelude::*;

use crate::{Dialect, drop_tables, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let ledger = format!(
            "CREATE TABLE ledger_entries (
                id {serial},
                user_id {user_id} NOT NULL,
                entry_type {name} NOT NULL,
                order_id {bigint} NULL,
                step_key {step_key} NOT NULL,
                cash_amount {money} NOT NULL,
                blocked_amount {money} NOT NULL,
                ticker {ticker} NULL,
                quantity {money} NOT NULL,
                blocked_quantity {money} NOT NULL,
                balance_after {money} NOT NULL {balance_check},
                blocked_balance_after {money} NOT NULL {blocked_check},
                occurred_at {time} NOT NULL,
                CONSTRAINT ledger_entries_step_key UNIQUE (step_key)
            ){options}",
            serial = d.serial,
            user_id = d.user_id,
            name = d.name,
            bigint = d.bigint,
            step_key = d.step_key,
            money = d.money,
            ticker = d.ticker,
            time = d.time,
            balance_check = d.non_negative("balance_after"),
            blocked_check = d.between_zero_and("blocked_balance_after", "balance_after"),
            options = d.table_options,
        );
        execute_all(
            manager,
            &[
                ledger,
                "CREATE INDEX ledger_entries_user_id ON ledger_entries (user_id, id)".to_owned(),
                "CREATE INDEX ledger_entries_user_time ON ledger_entries (user_id, occurred_at, id)"
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["ledger_entries"]).await
    }
}
