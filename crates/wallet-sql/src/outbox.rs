//! The relay's side of the outbox: unsent wallet events in id order, marked once the broker
//! acknowledged them.

use chrono::Utc;
use sea_orm::Value;
use wallet_domain::ports::{Outbox, OutboxRecord, StoreError};

use crate::SqlStore;
use crate::dialect::get;
use crate::statements::{IN_LIST_KEYS_MAX, Query, execute, in_list};

/// Most records one `pending` call returns, whatever the caller asks.
pub const OUTBOX_BATCH_MAX: u32 = 10_000;

impl Outbox for SqlStore {
    async fn pending(&self, limit: u32) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut query = Query::new(
            "SELECT id, user_id, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ",
        );
        query.bind(i64::from(limit.min(OUTBOX_BATCH_MAX)));
        self.query_all(query)
            .await?
            .iter()
            .map(|row| {
                Ok(OutboxRecord {
                    id: get(row, "id")?,
                    key: get(row, "user_id")?,
                    payload: get(row, "payload")?,
                })
            })
            .collect()
    }

    async fn mark_sent(&self, ids: Vec<i64>) -> Result<(), StoreError> {
        let now = self.dialect.time(Utc::now());
        for chunk in ids.chunks(IN_LIST_KEYS_MAX) {
            let mut query = Query::new("UPDATE outbox SET sent_at = ");
            query.bind(now.clone()).sql(" WHERE id IN ");
            in_list(&mut query, chunk.iter().map(|id| Value::from(*id)));
            // Already-sent rows keep their first time: marking is idempotent.
            query.sql(" AND sent_at IS NULL");
            execute(&self.connection, self.dialect, query).await?;
            self.count_statements(1);
        }
        Ok(())
    }
}
