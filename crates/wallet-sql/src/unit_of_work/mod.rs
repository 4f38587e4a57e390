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
use crate::dialect::Dialect;
use crate::error::translate;
use crate::obligations;
use crate::reader::ACTIVE_STATUSES;
use crate::rows;
use crate::statements::Query;
use crate::writes::Writes;

/// The rows of one table's reads, decoded by `row`.
fn decode<T>(
    rows: &[sea_orm::QueryResult],
    row: impl Fn(&sea_orm::QueryResult) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(row).collect()
}

/// Most holds one sweeper query returns, whatever the caller asks.
pub const STALE_HOLDS_MAX: u32 = 10_000;

impl WalletStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(users = request.users.len(), orders = request.orders.len()))]
    async fn load(&self, request: &LoadRequest) -> Result<Snapshot, StoreError> {
        let dialect = self.dialect;
        let mut reads = load::Reads::default();
        let accounts = reads.add(load::accounts(&request.users));
        let positions = reads.add(load::positions(dialect, &request.positions));
        let holds = reads.add(load::holds(&request.orders));
        let idempotency = reads.add(load::idempotency(dialect, &request.idempotency_keys));
        let verdicts = reads.add(load::verdicts(&request.deliveries));
        let obligations = reads.add(obligations::open_of(&request.obligations_of));
        let mut found = reads.run(self).await?;
        Ok(Snapshot {
            accounts: decode(&found.take(accounts), |row| rows::account(dialect, row))?,
            positions: decode(&found.take(positions), |row| rows::position(dialect, row))?,
            holds: decode(&found.take(holds), |row| rows::hold(dialect, row))?,
            idempotency: decode(&found.take(idempotency), |row| {
                rows::idempotency(dialect, row)
            })?,
            verdicts: load::verdicts_found(dialect, &found.take(verdicts), &request.deliveries)?,
            obligations: obligations::open_found(dialect, &found.take(obligations))?,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(ledger = changes.ledger.len()))]
    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        if self.dialect == Dialect::MySql {
            let mut writes = Writes::script(commit::text_bytes_estimate(&changes));
            commit::write(&mut writes, changes).await?;
            let round_trips = writes
                .send(self.connection.get_mysql_connection_pool())
                .await?;
            self.count_statements(round_trips);
            return Ok(());
        }
        let transaction = self.connection.begin().await.map_err(translate)?;
        let mut writes = Writes::now(&transaction, self.dialect);
        let written = commit::write(&mut writes, changes).await;
        let statements = writes.statements();
        match written {
            Ok(()) => {
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
