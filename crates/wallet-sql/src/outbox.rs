//! The relay's side of the outbox: unsent wallet events in id order, marked once the broker
//! acknowledged them.

use chrono::Utc;
use sea_orm::Value;
use serde_json::value::RawValue;
use wallet_domain::ports::{Outbox, OutboxRecord, StoreError};

use crate::SqlStore;
use crate::dialect::get;
use crate::statements::{IN_LIST_KEYS_MAX, Query, execute, in_list};

/// Most records one `pending` call returns, whatever the caller asks.
pub const OUTBOX_BATCH_MAX: u32 = 10_000;

/// The events of one outbox row: the row's JSON object, or each element of its JSON array (the
/// events of one user in one commit, see `unit_of_work::commit`), exactly as written.
fn events_of(payload: &str) -> Result<Vec<String>, StoreError> {
    if !payload.trim_start().starts_with('[') {
        return Ok(vec![payload.to_owned()]);
    }
    let events: Vec<&RawValue> = serde_json::from_str(payload)
        .map_err(|error| StoreError::Internal(format!("outbox payload: {error}")))?;
    Ok(events
        .into_iter()
        .map(|event| event.get().to_owned())
        .collect())
}

impl Outbox for SqlStore {
    async fn pending(&self, limit: u32) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut query = Query::new(
            "SELECT id, user_id, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ",
        );
        query.bind(i64::from(limit.min(OUTBOX_BATCH_MAX)));
        let mut records = Vec::new();
        for row in self.query_all(query).await? {
            let id: i64 = get(&row, "id")?;
            let key: String = get(&row, "user_id")?;
            let payload: String = get(&row, "payload")?;
            for event in events_of(&payload)? {
                records.push(OutboxRecord {
                    id,
                    key: key.clone(),
                    payload: event,
                });
            }
        }
        Ok(records)
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
