//! `wallet dead-letters replay` (SPEC §6): re-publishes dead-lettered records, with their
//! original key and value, to the input topic once their cause is fixed. The consumer then
//! applies them idempotently, so replaying a record twice is harmless.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::blocking::{run_blocking, watermarks};
use crate::error::KafkaError;
use crate::publisher::{OutRecord, Publisher};
use crate::settings::KafkaSettings;

/// Header on a replayed record: `<dead-letter partition>:<offset>` it was copied from.
pub const HEADER_REPLAYED_FROM: &str = "x-replayed-from";

/// Timeout of one metadata, watermark or fetch call.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Records re-published per round.
const CHUNK_MAX: usize = 500;
/// Attempts to publish a chunk before the replay gives up.
const PUBLISH_ATTEMPTS_MAX: u32 = 5;

/// Which dead letters to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRange {
    /// Everything the dead-letter topic holds.
    All,
    /// Offsets `from..=to` of every dead-letter partition.
    Offsets {
        /// First offset replayed.
        from: i64,
        /// Last offset replayed (inclusive).
        to: i64,
    },
}

/// Re-publishes the dead letters in `range` to `order_events_topic`; returns how many.
///
/// # Errors
/// [`KafkaError::Client`] when the dead-letter topic cannot be read or a record cannot be
/// published after retries (the records before it were published; replaying them again is
/// harmless).
pub async fn replay_dead_letters(
    settings: &KafkaSettings,
    range: ReplayRange,
) -> Result<u64, KafkaError> {
    let (from, to) = match range {
        ReplayRange::All => (0, i64::MAX - 1),
        ReplayRange::Offsets { from, to } => (from.max(0), to),
    };
    let group = format!("{}-dead-letter-replay", settings.group_id);
    let reader: StreamConsumer = settings
        .reader_config(&group)?
        .create()
        .map_err(|error| KafkaError::client("create reader", &error))?;
    let topic = settings.dead_letter_topic.as_str();
    let ends = run_blocking(|| plan(&reader, topic, from, to))?;
    if ends.is_empty() {
        return Ok(0);
    }
    let mut assignment = TopicPartitionList::new();
    for (partition, (start, _)) in &ends {
        assignment
            .add_partition_offset(topic, *partition, Offset::Offset(*start))
            .map_err(|error| KafkaError::client("assign", &error))?;
    }
    reader
        .assign(&assignment)
        .map_err(|error| KafkaError::client("assign", &error))?;
    drop(assignment);

    let publisher = Publisher::new(settings, "wallet-dead-letter-replay")?;
    let mut open: HashMap<i32, i64> = ends.iter().map(|(p, (_, end))| (*p, *end)).collect();
    let mut chunk: Vec<OwnedMessage> = Vec::new();
    let mut replayed = 0_u64;
    while !open.is_empty() {
        let message = tokio::time::timeout(CALL_TIMEOUT, reader.recv())
            .await
            .map_err(|_| KafkaError::Client {
                operation: "read dead letters",
                detail: "timed out".to_owned(),
            })?;
        let message = match message {
            Ok(message) => message,
            Err(rdkafka::error::KafkaError::PartitionEOF(partition)) => {
                open.remove(&partition);
                continue;
            }
            Err(error) => return Err(KafkaError::client("read dead letters", &error)),
        };
        let partition = message.partition();
        let Some(end) = open.get(&partition).copied() else {
            continue;
        };
        if message.offset() < end {
            chunk.push(message.detach());
        }
        if message.offset() + 1 >= end {
            open.remove(&partition);
        }
        if chunk.len() >= CHUNK_MAX {
            replayed += publish(&publisher, settings, &chunk).await?;
            chunk.clear();
        }
    }
    replayed += publish(&publisher, settings, &chunk).await?;
    tracing::info!(replayed, "dead letters replayed");
    Ok(replayed)
}

/// Per dead-letter partition with something in range: `(first offset, one past the last)`.
fn plan(
    reader: &StreamConsumer,
    topic: &str,
    from: i64,
    to: i64,
) -> Result<HashMap<i32, (i64, i64)>, KafkaError> {
    let mut ends = HashMap::new();
    for (partition, low, high) in watermarks(reader, topic, CALL_TIMEOUT)? {
        let start = low.max(from);
        let end = high.min(to.saturating_add(1));
        if start < end {
            ends.insert(partition, (start, end));
        }
    }
    Ok(ends)
}

async fn publish(
    publisher: &Publisher,
    settings: &KafkaSettings,
    chunk: &[OwnedMessage],
) -> Result<u64, KafkaError> {
    if chunk.is_empty() {
        return Ok(0);
    }
    let records: Vec<OutRecord<'_>> = chunk
        .iter()
        .map(|message| {
            let headers = vec![(
                HEADER_REPLAYED_FROM,
                format!("{}:{}", message.partition(), message.offset()).into_bytes(),
            )];
            OutRecord {
                topic: &settings.order_events_topic,
                key: message.key(),
                value: message.payload(),
                headers,
            }
        })
        .collect();
    let mut pending: Vec<usize> = (0..records.len()).collect();
    for attempt in 1..=PUBLISH_ATTEMPTS_MAX {
        let batch: Vec<_> = pending
            .iter()
            .map(|index| records[*index].clone())
            .collect();
        let results = publisher.send_all(&batch).await;
        let mut failed = Vec::new();
        let mut last_error = None;
        for (index, result) in pending.iter().zip(results) {
            if let Err(error) = result {
                failed.push(*index);
                last_error = Some(error);
            }
        }
        if failed.is_empty() {
            return Ok(records.len() as u64);
        }
        if attempt == PUBLISH_ATTEMPTS_MAX {
            return Err(KafkaError::Client {
                operation: "replay publish",
                detail: last_error.unwrap_or_default(),
            });
        }
        pending = failed;
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
    }
    Ok(records.len() as u64)
}
