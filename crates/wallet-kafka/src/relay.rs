//! The outbox relay (SPEC §4 `wallet-events-v1`): wallet events are written to an outbox table
//! in the same transaction as the change they announce; this loop publishes them, keyed by
//! user id, and marks them sent only after the broker acknowledged them. A crash between the
//! acknowledgement and `mark_sent` publishes a row twice (consumers drop duplicates by
//! `eventId`); no row is ever marked sent without being acknowledged, so none is lost.

use std::time::Duration;

use tokio::sync::watch;
use wallet_domain::ports::{Outbox, OutboxRecord};

use crate::backoff::{Backoff, sleep_unless_shutdown, stopping};
use crate::error::KafkaError;
use crate::metrics;
use crate::publisher::{OutRecord, Publisher};
use crate::settings::KafkaSettings;

/// Publishes outbox rows until `shutdown` turns true (or its sender is dropped).
///
/// Each round takes the unsent rows (lowest id first) of up to `outbox_batch_max` records (a
/// row of more goes alone), publishes their records concurrently and marks sent the rows of the
/// longest acknowledged prefix of records, so a row is never marked before an earlier one of
/// the same round, nor before all of its own records: per-user order holds on the topic, at
/// least once.
/// When the outbox is empty it waits `outbox_poll_interval_ms` before looking again.
///
/// # Errors
/// [`KafkaError::Config`] or [`KafkaError::Client`] when the producer cannot be created;
/// failures after that are retried with backoff.
pub async fn run_outbox_relay<O: Outbox>(
    outbox: O,
    settings: &KafkaSettings,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), KafkaError> {
    settings.validate()?;
    let publisher = Publisher::new(settings, "wallet-outbox-relay")?;
    let idle = Duration::from_millis(settings.outbox_poll_interval_ms);
    let mut backoff = Backoff::new(settings.retry_backoff_ms_min, settings.retry_backoff_ms_max);
    tracing::info!(topic = %settings.wallet_events_topic, "outbox relay started");
    while !stopping(&shutdown) {
        let rows = match outbox.pending(settings.outbox_batch_max).await {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(%error, "outbox read failed; retrying");
                metrics::retry("outbox_read");
                backoff.wait(&mut shutdown).await;
                continue;
            }
        };
        if rows.is_empty() {
            sleep_unless_shutdown(idle, &mut shutdown).await;
            continue;
        }
        match publish_round(&outbox, &publisher, &settings.wallet_events_topic, &rows).await {
            Ok(()) => backoff.reset(),
            Err(error) => {
                tracing::warn!(%error, "outbox round incomplete; retrying");
                metrics::retry("outbox_publish");
                backoff.wait(&mut shutdown).await;
            }
        }
    }
    // Anything still queued is acknowledged or dropped here; unmarked rows go out next start.
    tokio::task::spawn_blocking(move || publisher.flush(Duration::from_secs(5)))
        .await
        .map_err(|error| KafkaError::Store(format!("relay shutdown: {error}")))?;
    tracing::info!("outbox relay stopped");
    Ok(())
}

/// Publishes `rows` and marks the acknowledged prefix sent; an error when not all went out.
async fn publish_round<O: Outbox>(
    outbox: &O,
    publisher: &Publisher,
    topic: &str,
    rows: &[OutboxRecord],
) -> Result<(), String> {
    let records: Vec<OutRecord<'_>> = rows
        .iter()
        .map(|row| OutRecord {
            topic,
            key: Some(row.key.as_bytes()),
            value: Some(row.payload.as_bytes()),
            headers: Vec::new(),
        })
        .collect();
    let results = publisher.send_all(&records).await;
    let acknowledged = results.iter().take_while(|result| result.is_ok()).count();
    let ids = rows_sent(rows, acknowledged);
    if !ids.is_empty() {
        outbox
            .mark_sent(ids)
            .await
            .map_err(|error| format!("mark_sent: {error}"))?;
    }
    if acknowledged > 0 {
        metrics::outbox_published(acknowledged);
    }
    match results.into_iter().find_map(Result::err) {
        Some(error) => Err(format!("publish: {error}")),
        None => Ok(()),
    }
}

/// The rows whose records are all in the first `acknowledged` of `records`. A row whose
/// records went out only in part stays unsent, and all of them go out again.
fn rows_sent(records: &[OutboxRecord], acknowledged: usize) -> Vec<i64> {
    let mut ids: Vec<i64> = records[..acknowledged]
        .iter()
        .map(|record| record.id)
        .collect();
    ids.dedup();
    if let (Some(last), Some(next)) = (ids.last(), records.get(acknowledged))
        && *last == next.id
    {
        ids.pop();
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(ids: &[i64]) -> Vec<OutboxRecord> {
        ids.iter()
            .map(|id| OutboxRecord {
                id: *id,
                key: "u".to_owned(),
                payload: "{}".to_owned(),
            })
            .collect()
    }

    #[test]
    fn a_row_is_sent_only_with_all_of_its_records() {
        let round = records(&[1, 2, 2, 2, 3]);
        assert_eq!(rows_sent(&round, 5), [1, 2, 3]);
        assert_eq!(rows_sent(&round, 4), [1, 2]);
        // Two of row 2's three records acknowledged: row 2 goes out again, whole.
        assert_eq!(rows_sent(&round, 3), [1]);
        assert_eq!(rows_sent(&round, 1), [1]);
        assert!(rows_sent(&round, 0).is_empty());
    }
}
