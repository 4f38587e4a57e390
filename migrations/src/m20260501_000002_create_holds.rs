//! Holds (SPEC §3 "Hold"): one row per order id, so a second PENDING for the same order can
//! never reserve twice; the `(status, created_at)` index is the sweeper's work list.

use sea_orm_migration::prelude::*;

use crate::{Dialect, drop_tables, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let holds = format!(
            "CREATE TABLE holds (
                order_id {bigint} NOT NULL PRIMARY KEY CHECK (order_id > 0),
                user_id {user_id} NOT NULL,
                side {name} NOT NULL CHECK (side IN ('BUY', 'SELL')),
                ticker {ticker} NOT NULL,
                quantity {money} NOT NULL {quantity_check},
                limit_price {money} NULL,
                reserved_amount {money} NOT NULL {reserved_amount_check},
                reserved_quantity {money} NOT NULL {reserved_quantity_check},
                filled_quantity {money} NOT NULL {filled_quantity_check},
                filled_amount {money} NOT NULL {filled_amount_check},
                status {name} NOT NULL CHECK (status IN
                    ('RESERVED', 'PARTIALLY_FILLED', 'FILLED', 'RELEASED', 'EXPIRED', 'DENIED')),
                deny_reason {name} NULL,
                version {bigint} NOT NULL CHECK (version > 0),
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL
            ){options}",
            bigint = d.bigint,
            user_id = d.user_id,
            name = d.name,
            ticker = d.ticker,
            money = d.money,
            time = d.time,
            quantity_check = d.positive("quantity"),
            reserved_amount_check = d.non_negative("reserved_amount"),
            reserved_quantity_check = d.non_negative("reserved_quantity"),
            filled_quantity_check = d.between_zero_and("filled_quantity", "quantity"),
            filled_amount_check = d.non_negative("filled_amount"),
            options = d.table_options,
        );
        let sweeper_index =
            "CREATE INDEX holds_status_created_at ON holds (status, created_at)".to_owned();
        execute_all(manager, &[holds, sweeper_index]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["holds"]).await
    }
}
