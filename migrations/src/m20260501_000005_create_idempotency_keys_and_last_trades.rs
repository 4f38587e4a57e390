//! HTTP idempotency keys (SPEC §5 `Idempotency-Key`: the request fingerprint and the account the
//! request left behind, which is the response replayed for a repeat) and the last execution
//! price per ticker (the valuation fallback `LAST_TRADE`).

use sea_orm_migration::prelude::*;

use crate::{Dialect, drop_tables, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let idempotency = format!(
            "CREATE TABLE idempotency_keys (
                user_id {user_id} NOT NULL,
                idempotency_key {key} NOT NULL,
                fingerprint {fingerprint} NOT NULL,
                currency {name} NOT NULL,
                balance {money} NOT NULL,
                blocked_balance {money} NOT NULL,
                account_version {bigint} NOT NULL,
                account_created_at {time} NOT NULL,
                account_updated_at {time} NOT NULL,
                created_at {time} NOT NULL,
                PRIMARY KEY (user_id, idempotency_key)
            ){options}",
            user_id = d.user_id,
            key = d.idempotency_key,
            // Operation and amount, e.g. `WITHDRAWAL:150.5`.
            fingerprint = d.idempotency_key,
            name = d.name,
            money = d.money,
            bigint = d.bigint,
            time = d.time,
            options = d.table_options,
        );
        let last_trades = format!(
            "CREATE TABLE last_trades (
                ticker {ticker} NOT NULL PRIMARY KEY,
                price {money} NOT NULL {price_check},
                traded_at {time} NOT NULL
            ){options}",
            ticker = d.ticker,
            money = d.money,
            time = d.time,
            price_check = d.positive("price"),
            options = d.table_options,
        );
        execute_all(manager, &[idempotency, last_trades]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["last_trades", "idempotency_keys"]).await
    }
}
