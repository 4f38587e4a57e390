//! Corporate actions: each action received with its progress and when it can next go on, and
//! the cash each holder is owed until its payment date. Positions get an index by ticker, the order in which an action
//! works through its holders.

use sea_orm_migration::prelude::*;

use crate::{Dialect, drop_tables, execute_all};

/// The migration of this file; its name is the file name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let d = Dialect::of(manager)?;
        let date = if d.numeric_checks { "CHAR(10)" } else { "TEXT" };
        let actions = format!(
            "CREATE TABLE corporate_actions (
                action_id {name_key} NOT NULL PRIMARY KEY,
                ticker {ticker} NOT NULL,
                action_type {name} NOT NULL,
                body {text} NOT NULL,
                stage {name} NOT NULL,
                cursor_user_id {user_id} NULL,
                holders {bigint} NOT NULL,
                cash_paid {money} NOT NULL,
                tax_withheld {money} NOT NULL,
                cash_owed {money} NOT NULL,
                shares_delta {money} NOT NULL,
                version {bigint} NOT NULL,
                created_at {time} NOT NULL,
                updated_at {time} NOT NULL,
                next_due_at {time} NOT NULL,
                completed_at {time} NULL,
                failure {text} NULL
            ){options}",
            name_key = if d.numeric_checks {
                "VARCHAR(64)"
            } else {
                "TEXT"
            },
            ticker = d.ticker,
            name = d.name,
            text = d.text,
            user_id = d.user_id,
            bigint = d.bigint,
            money = d.money,
            time = d.time,
            options = d.table_options,
        );
        let entitlements = format!(
            "CREATE TABLE corporate_action_entitlements (
                action_id {name_key} NOT NULL,
                user_id {user_id} NOT NULL,
                quantity {money} NOT NULL,
                gross {money} NOT NULL,
                withheld {money} NOT NULL,
                payment_date {date} NOT NULL,
                paid_at {time} NULL,
                PRIMARY KEY (action_id, user_id)
            ){options}",
            name_key = if d.numeric_checks {
                "VARCHAR(64)"
            } else {
                "TEXT"
            },
            user_id = d.user_id,
            money = d.money,
            time = d.time,
            options = d.table_options,
        );
        execute_all(
            manager,
            &[
                actions,
                "CREATE INDEX corporate_actions_due ON corporate_actions (completed_at, next_due_at)"
                    .to_owned(),
                entitlements,
                "CREATE INDEX corporate_action_entitlements_user ON corporate_action_entitlements \
                 (user_id, paid_at)"
                    .to_owned(),
                "CREATE INDEX positions_ticker ON positions (ticker, user_id)".to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &["corporate_action_entitlements", "corporate_actions"],
        )
        .await?;
        let drop_index = if Dialect::of(manager)?.numeric_checks {
            "DROP INDEX positions_ticker ON positions"
        } else {
            "DROP INDEX positions_ticker"
        };
        execute_all(manager, &[drop_index.to_owned()]).await
    }
}
