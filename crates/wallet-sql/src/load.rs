//! `WalletStore::load`: every row a batch touches, with one `IN (…)` query per table (chunked
//! past [`IN_LIST_KEYS_MAX`] keys), never one query per key.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DbErr, QueryResult, RuntimeErr, Value, sqlx};
use wallet_domain::ports::{LoadRequest, Snapshot, StoreError};

use crate::SqlStore;
use crate::codec::Backend;
use crate::error::translate;
use crate::rows;
use crate::sql::{IN_LIST_KEYS_MAX, Query, in_list};

impl SqlStore {
    /// Reads the rows of `request`; see [`wallet_domain::ports::WalletStore::load`].
    pub(crate) async fn load_snapshot(
        &self,
        request: &LoadRequest,
    ) -> Result<Snapshot, StoreError> {
        let backend = self.backend;
        let mut snapshot = Snapshot::default();

        let users: Vec<Value> = request
            .users
            .iter()
            .map(|user| Value::from(user.as_str()))
            .collect();
        for row in self
            .select_in("accounts", rows::ACCOUNT_COLUMNS, "user_id", users)
            .await?
        {
            snapshot.accounts.push(rows::account(backend, &row)?);
        }

        // Positions are keyed by (user, ticker); the query asks for the users' rows in the
        // batch's tickers, a superset of the request that the primary key serves, and keeps
        // only the requested pairs.
        if !request.positions.is_empty() {
            let owners: BTreeSet<&str> = request
                .positions
                .iter()
                .map(|(user, _)| user.as_str())
                .collect();
            let tickers: BTreeSet<&str> = request
                .positions
                .iter()
                .map(|(_, ticker)| ticker.as_str())
                .collect();
            for row in self
                .select_pairs(
                    "positions",
                    rows::POSITION_COLUMNS,
                    "ticker",
                    &owners,
                    &tickers,
                )
                .await?
            {
                let position = rows::position(backend, &row)?;
                if request
                    .positions
                    .contains(&(position.user_id.clone(), position.ticker.clone()))
                {
                    snapshot.positions.push(position);
                }
            }
        }

        let orders: Vec<Value> = request
            .orders
            .iter()
            .map(|order| Value::from(order.get()))
            .collect();
        for row in self
            .select_in("holds", rows::HOLD_COLUMNS, "order_id", orders)
            .await?
        {
            snapshot.holds.push(rows::hold(backend, &row)?);
        }

        if !request.idempotency_keys.is_empty() {
            let owners: BTreeSet<&str> = request
                .idempotency_keys
                .iter()
                .map(|(user, _)| user.as_str())
                .collect();
            let keys: BTreeSet<&str> = request
                .idempotency_keys
                .iter()
                .map(|(_, key)| key.as_str())
                .collect();
            for row in self
                .select_pairs(
                    "idempotency_keys",
                    rows::IDEMPOTENCY_COLUMNS,
                    "idempotency_key",
                    &owners,
                    &keys,
                )
                .await?
            {
                let record = rows::idempotency(backend, &row)?;
                if request
                    .idempotency_keys
                    .contains(&(record.user_id.clone(), record.key.clone()))
                {
                    snapshot.idempotency.push(record);
                }
            }
        }

        let deliveries: Vec<Value> = request
            .deliveries
            .iter()
            .map(|delivery| Value::from(delivery.as_str()))
            .collect();
        for row in self
            .select_in(
                "dead_letter_verdicts",
                rows::VERDICT_COLUMNS,
                "delivery",
                deliveries,
            )
            .await?
        {
            snapshot.verdicts.push(rows::verdict(backend, &row)?);
        }
        Ok(snapshot)
    }

    /// `SELECT columns FROM table WHERE key IN (…)`, chunked.
    async fn select_in(
        &self,
        table: &str,
        columns: &[&str],
        key: &str,
        values: Vec<Value>,
    ) -> Result<Vec<QueryResult>, StoreError> {
        let mut found = Vec::new();
        for chunk in values.chunks(IN_LIST_KEYS_MAX) {
            let mut query = Query::new(&format!(
                "SELECT {} FROM {table} WHERE {key} IN ",
                columns.join(", ")
            ));
            in_list(&mut query, chunk.iter().cloned());
            found.extend(self.query_all(query).await?);
        }
        Ok(found)
    }

    /// `SELECT columns FROM table WHERE user_id IN (…) AND second IN (…)`, chunked by owner.
    async fn select_pairs(
        &self,
        table: &str,
        columns: &[&str],
        second: &str,
        owners: &BTreeSet<&str>,
        seconds: &BTreeSet<&str>,
    ) -> Result<Vec<QueryResult>, StoreError> {
        let owners: Vec<&str> = owners.iter().copied().collect();
        let seconds: Vec<&str> = seconds.iter().copied().collect();
        let mut found = Vec::new();
        for owner_chunk in owners.chunks(IN_LIST_KEYS_MAX) {
            for second_chunk in seconds.chunks(IN_LIST_KEYS_MAX) {
                let mut query = Query::new(&format!(
                    "SELECT {} FROM {table} WHERE user_id IN ",
                    columns.join(", ")
                ));
                in_list(
                    &mut query,
                    owner_chunk.iter().map(|owner| Value::from(*owner)),
                );
                query.sql(&format!(" AND {second} IN "));
                in_list(
                    &mut query,
                    second_chunk.iter().map(|value| Value::from(*value)),
                );
                found.extend(self.query_all(query).await?);
            }
        }
        Ok(found)
    }

    /// Runs a read on the pool.
    ///
    /// On MySQL the values are inlined as literals ([`Query::inline_mysql`]) and the query
    /// goes over the text protocol, like the writes: one round trip, no server-side prepared
    /// statement for IN lists whose length changes with every batch.
    pub(crate) async fn query_all(&self, query: Query) -> Result<Vec<QueryResult>, StoreError> {
        self.count_statements(1);
        match self.backend {
            Backend::MySql => {
                let text = query.inline_mysql()?;
                sqlx::raw_sql(&text)
                    .fetch_all(self.connection.get_mysql_connection_pool())
                    .await
                    .map(|rows| rows.into_iter().map(QueryResult::from).collect())
                    .map_err(|error| translate(DbErr::Query(RuntimeErr::SqlxError(error))))
            }
            Backend::Sqlite => self
                .connection
                .query_all(query.statement(self.backend))
                .await
                .map_err(translate),
        }
    }
}
