//! The relay's side of the outbox: unsent wallet events in id order, marked once the broker
//! acknowledged them.

use std::borrow::Cow;

use chrono::Utc;
use sea_orm::Value;
use serde::Deserialize;
use serde_json::value::RawValue;
use wallet_domain::ports::{Outbox, OutboxRecord, StoreError};

use crate::SqlStore;
use crate::dialect::get;
use crate::statements::{IN_LIST_KEYS_MAX, Query, execute, in_list};

/// Most records one `pending` call returns, whatever the caller asks (a single row of more is
/// still returned whole).
pub const OUTBOX_BATCH_MAX: u32 = 10_000;

/// The one field of a wallet event the relay reads: its Kafka key.
#[derive(Deserialize)]
struct Keyed<'a> {
    #[serde(rename = "userId", borrow)]
    user_id: Option<Cow<'a, str>>,
}

/// The records of one outbox row: the row's JSON object, or each element of its JSON array (the
/// events of one commit, see `unit_of_work::commit`), exactly as written, each keyed by its own
/// `userId` (`row_user` for an event without one).
fn records_of(id: i64, row_user: &str, payload: &str) -> Result<Vec<OutboxRecord>, StoreError> {
    let invalid =
        |error: serde_json::Error| StoreError::Internal(format!("outbox row {id}: {error}"));
    let events: Vec<&RawValue> = if payload.trim_start().starts_with('[') {
        serde_json::from_str(payload).map_err(invalid)?
    } else {
        vec![serde_json::from_str(payload).map_err(invalid)?]
    };
    events
        .into_iter()
        .map(|event| {
            let key = match plain_user_id(event.get()) {
                Some(user) => user.to_owned(),
                None => {
                    let keyed: Keyed<'_> = serde_json::from_str(event.get()).map_err(invalid)?;
                    keyed
                        .user_id
                        .map_or_else(|| row_user.to_owned(), Cow::into_owned)
                }
            };
            Ok(OutboxRecord {
                id,
                key,
                payload: event.get().to_owned(),
            })
        })
        .collect()
}

/// The `userId` of one event's JSON object, found without parsing the object again, when it
/// is a plain string: its first `"userId":"` and the next quote, with no backslash between
/// them. Outside a string those bytes can only be the key (a quote inside a string value is
/// escaped, so the pattern cannot start there), and the events are flat objects. Anything else
/// (`null`, escapes, no such key) is for serde. A second parse of every event was about half
/// of what the relay spent splitting a row (`docs/benchmarks.md`).
fn plain_user_id(event: &str) -> Option<&str> {
    const KEY: &str = "\"userId\":\"";
    let start = event.find(KEY)? + KEY.len();
    let length = event[start..].find('"')?;
    let user = &event[start..start + length];
    (!user.contains('\\')).then_some(user)
}

/// The last of `rows` (id, event count, lowest id first) that a round of `limit` events takes:
/// whole rows, at least one, none past the limit once one is taken.
fn last_row_within(rows: &[(i64, i64)], limit: u32) -> Option<i64> {
    let mut taken = 0i64;
    let mut last = None;
    for (id, events) in rows {
        if last.is_some() && taken + events > i64::from(limit) {
            break;
        }
        taken += events;
        last = Some(*id);
    }
    last
}

impl Outbox for SqlStore {
    async fn pending(&self, limit: u32) -> Result<Vec<OutboxRecord>, StoreError> {
        let limit = limit.clamp(1, OUTBOX_BATCH_MAX);
        // Sizes first, so a round reads only the payloads it publishes: a row holds up to a
        // commit's worth of events. Every row holds at least one, so `limit` rows are enough.
        let mut sizes = Query::new(
            "SELECT id, event_count FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ",
        );
        sizes.bind(i64::from(limit));
        let mut rows = Vec::new();
        for row in self.query_all(sizes).await? {
            rows.push((get::<i64>(&row, "id")?, get::<i64>(&row, "event_count")?));
        }
        let (Some((first, _)), Some(last)) = (rows.first(), last_row_within(&rows, limit)) else {
            return Ok(Vec::new());
        };
        let mut query =
            Query::new("SELECT id, user_id, payload FROM outbox WHERE sent_at IS NULL AND id >= ");
        query
            .bind(*first)
            .sql(" AND id <= ")
            .bind(last)
            .sql(" ORDER BY id");
        let mut records = Vec::new();
        for row in self.query_all(query).await? {
            let id: i64 = get(&row, "id")?;
            let user: String = get(&row, "user_id")?;
            let payload: String = get(&row, "payload")?;
            records.extend(records_of(id, &user, &payload)?);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_takes_whole_rows_up_to_its_limit_and_at_least_one() {
        let rows = [(1, 2), (2, 3), (5, 1)];
        assert_eq!(last_row_within(&rows, 1), Some(1));
        assert_eq!(last_row_within(&rows, 4), Some(1));
        assert_eq!(last_row_within(&rows, 5), Some(2));
        assert_eq!(last_row_within(&rows, 6), Some(5));
        assert_eq!(last_row_within(&[(7, 1_000)], 500), Some(7));
        assert_eq!(last_row_within(&[], 500), None);
    }

    #[test]
    fn each_event_of_a_row_is_keyed_by_its_own_user() {
        let payload = r#"[{"eventId":"a","userId":"ana"},{"eventId":"b","userId":"bia"}]"#;
        let records = records_of(9, "ana", payload).unwrap();
        let keys: Vec<&str> = records.iter().map(|record| record.key.as_str()).collect();
        assert_eq!(keys, ["ana", "bia"]);
        assert_eq!(records[1].payload, r#"{"eventId":"b","userId":"bia"}"#);
        assert!(records.iter().all(|record| record.id == 9));

        let single = records_of(3, "row-user", r#"{"eventId":"c"}"#).unwrap();
        assert_eq!(single[0].key, "row-user");
        assert_eq!(single[0].payload, r#"{"eventId":"c"}"#);
    }

    #[test]
    fn a_user_id_that_is_not_a_plain_string_is_read_by_serde() {
        let payload = r#"[{"eventId":"a","reason":"say \"userId\":\"eve\"","userId":"ana"},{"eventId":"b","userId":"b\u0069a"},{"eventId":"c","userId":null}]"#;
        let records = records_of(9, "row-user", payload).unwrap();
        let keys: Vec<&str> = records.iter().map(|record| record.key.as_str()).collect();
        assert_eq!(keys, ["ana", "bia", "row-user"]);
    }

    proptest::proptest! {
        /// Whatever an event's strings hold, the key found without serde is serde's. The
        /// object's keys are sorted, so `reason` comes before `userId`.
        #[test]
        fn the_plain_user_id_is_the_one_serde_reads(
            reason in proptest::prop_oneof![
                "\\PC*",
                "[a-z ]*\"userId\":\"[a-z\\\\]*\"?[a-z]*",
            ],
            user in "[a-zA-Z0-9._@-]{1,20}",
        ) {
            let event = serde_json::json!({"eventId": "e", "reason": reason, "userId": user});
            let text = serde_json::to_string(&event).unwrap();
            let keyed: Keyed<'_> = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(keyed.user_id.as_deref(), Some(user.as_str()));
            proptest::prop_assert_eq!(plain_user_id(&text), Some(user.as_str()));
        }
    }

    #[test]
    fn a_payload_that_is_not_json_is_an_error_naming_its_row() {
        let error = records_of(42, "u", "[{").unwrap_err();
        assert!(error.to_string().contains("outbox row 42"), "{error}");
    }
}
