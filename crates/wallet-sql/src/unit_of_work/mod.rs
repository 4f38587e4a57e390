//! `WalletStore` over the database: the load of a unit of work ([`load`]), its commit in one
//! transaction ([`commit`]) and the sweeper's list of stale holds.

mod commit;
mod load;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::TransactionTrait;
use wallet_domain::ports::{StoreError, WalletStore};
use wallet_domain::unit_of_work::{ChangeSet, LoadRequest, Snapshot};
use wallet_domain::{Hold, Obligation};

use crate::SqlStore;
use crate::error::translate;
use crate::obligations;
use crate::reader::ACTIVE_STATUSES;
use crate::rows;
use crate::statements::Query;

/// Most holds one sweeper query returns, whatever the caller asks.
pub const STALE_HOLDS_MAX: u32 = 10_000;

impl WalletStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(users = request.users.len(), orders = request.orders.len()))]
    async fn load(&self, request: &LoadRequest) -> Result<Snapshot, StoreError> {
        Ok(Snapshot {
            accounts: load::accounts(self, &request.users).await?,
            positions: load::positions(self, &request.positions).await?,
            holds: load::holds(self, &request.orders).await?,
            idempotency: load::idempotency(self, &request.idempotency_keys).await?,
            verdicts: load::verdicts(self, &request.deliveries).await?,
            obligations: if request.obligations_of.is_empty() {
                Vec::new()
            } else {
                obligations::open_of(self, &request.obligations_of).await?
            },
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(ledger = changes.ledger.len()))]
    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let transaction = self.connection.begin().await.map_err(translate)?;
        match commit::write(&transaction, self.dialect, changes).await {
            Ok(statements) => {
                transaction.commit().await.map_err(translate)?;
                // BEGIN and COMMIT are round trips too.
                self.count_statements(statements + 2);
                Ok(())
            }
            Err(error) => {
                // A failed rollback leaves nothing behind either: the server discards the
                // transaction when the connection is dropped.
                if let Err(rollback) = transaction.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed commit failed");
                }
                Err(error)
            }
        }
    }

    async fn stale_holds(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Hold>, StoreError> {
        let mut query = Query::new(&format!(
            "SELECT {} FROM holds WHERE status IN {} AND created_at < ",
            rows::HOLD_COLUMNS.join(", "),
            *ACTIVE_STATUSES
        ));
        query
            .bind(self.dialect.time(created_before))
            .sql(" ORDER BY created_at, order_id LIMIT ")
            .bind(i64::from(limit.min(STALE_HOLDS_MAX)));
        self.query_all(query)
            .await?
            .iter()
            .map(|row| rows::hold(self.dialect, row))
            .collect()
    }

    async fn due_obligations(
        &self,
        due_by: NaiveDate,
        limit: u32,
    ) -> Result<Vec<Obligation>, StoreError> {
        obligations::due(self, due_by, limit).await
    }
}
