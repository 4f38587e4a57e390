//! Accounts and positions (SPEC §3 "Account", "Position"), each with the row `version` the
//! store's optimistic concurrency checks.

use sea_orm_migration::prelude::*;

use crate::{Dialect, drop_tables, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let accounts = format!(
            "CREATE TABLE accounts (
                user_id {user_id} NOT NULL PRIMARY KEY,
                currency {name} NOT NULL,
                balance {money} NOT NULL {balance_check},
                blocked_balance {money} NOT NULL {blocked_check},
                version {bigint} NOT NULL CHECK (version > 0),
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL
            ){options}",
            user_id = d.user_id,
            name = d.name,
            money = d.money,
            bigint = d.bigint,
            time = d.time,
            balance_check = d.non_negative("balance"),
            blocked_check = d.between_zero_and("blocked_balance", "balance"),
            options = d.table_options,
        );
        let positions = format!(
            "CREATE TABLE positions (
                user_id {user_id} NOT NULL,
                ticker {ticker} NOT NULL,
                quantity {money} NOT NULL {quantity_check},
                blocked_quantity {money} NOT NULL {blocked_check},
                average_price {money} NOT NULL {price_check},
                realized_pnl {money} NOT NULL,
                version {bigint} NOT NULL CHECK (version > 0),
                updated_at {time} NOT NULL,
                PRIMARY KEY (user_id, ticker)
            ){options}",
            user_id = d.user_id,
            ticker = d.ticker,
            money = d.money,
            bigint = d.bigint,
            time = d.time,
            quantity_check = d.non_negative("quantity"),
            blocked_check = d.between_zero_and("blocked_quantity", "quantity"),
            price_check = d.non_negative("average_price"),
            options = d.table_options,
        );
        execute_all(manager, &[accounts, positions]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["positions", "accounts"]).await
    }
}
