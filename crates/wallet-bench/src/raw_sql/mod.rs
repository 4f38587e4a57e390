//! Measurement 3: the raw limit. The row writes a run of the service makes (account updates,
//! position and hold writes, the `last_trades` upsert, ledger and outbox appends) done by plain
//! batched SQL from the bench, no service: one transaction per batch of events, as a lane
//! does, with as many writers as the service has apply lanes, each on its own connection and
//! its own accounts (events split by their key, the user, as the service's lanes split
//! partitions). It runs in two [`Pattern`]s: the service's own statements, sent as one text
//! per batch (what the service is compared with), and the plain upserts of earlier rounds, a
//! round trip per statement (the reference).
//!
//! Which rows a batch writes is taken from the workload itself: each distinct (order, status,
//! filled quantity) is one step (duplicates write nothing); its user's account is updated, its
//! order's hold written, and for fills and SELL reservations its position, each row once per
//! batch as the service does. Ledger and outbox rows are appended in the proportion the
//! service's run wrote them per event, so both runs write the same number of rows.

mod batch;

use std::collections::HashSet;
use std::time::Instant;

use sea_orm::{ConnectionTrait, TransactionTrait};

pub use batch::Pattern;
use batch::{BatchRows, Versions};

use crate::ingest::{Event, RowCounts};
use crate::seed::{BenchDatabase, sql_now};

/// What the raw run did.
#[derive(Debug, Clone, Copy)]
pub struct RawResult {
    /// Events whose writes were made.
    pub events: u64,
    /// Rows written.
    pub rows: u64,
    /// Seconds from the first BEGIN to the last COMMIT.
    pub seconds: f64,
    /// Concurrent writers, each on its own connection.
    pub writers: usize,
    /// The statements they sent.
    pub pattern: Pattern,
}

impl RawResult {
    /// Rows per second.
    #[must_use]
    pub fn rows_per_second(&self) -> f64 {
        // Timing statistics only.
        #[allow(clippy::cast_precision_loss)]
        let rows = self.rows as f64;
        rows / self.seconds
    }

    /// Events per second.
    #[must_use]
    pub fn events_per_second(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let events = self.events as f64;
        events / self.seconds
    }
}

/// Writes the rows of `events` into `database` (seeded with their accounts) in batches of
/// `batch_size`, by `writers` concurrent connections in `pattern`, each taking the events whose
/// key (the user) hashes to it, in their order; ledger and outbox rows per event as in
/// `service`'s run of the same events. Checks afterwards that every account and hold write
/// took effect (a guard that did not hold would write nothing and flatter the rate).
///
/// # Errors
/// A message when a connection or a statement fails, or a write did not take effect.
pub async fn run(
    database: &BenchDatabase,
    events: &[Event],
    batch_size: usize,
    service: RowCounts,
    (writers, pattern): (usize, Pattern),
) -> Result<RawResult, String> {
    let writers = writers.max(1);
    let mut streams: Vec<Vec<&Event>> = vec![Vec::new(); writers];
    for event in events {
        streams[writer_of(&event.0, writers)].push(event);
    }
    let mut connections = Vec::with_capacity(writers);
    for _ in 0..writers {
        connections.push(database.connect().await?);
    }
    let share = Share {
        service,
        events: events.len() as u64,
    };
    let started = Instant::now();
    let written = futures::future::try_join_all(streams.iter().zip(&connections).enumerate().map(
        |(writer, (stream, connection))| {
            write_stream(connection, stream, batch_size, share, (writer, pattern))
        },
    ))
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let (mut account_versions, mut hold_versions) = (0, 0);
    for (_, versions) in &written {
        let (accounts, holds) = versions.account_and_hold_versions();
        account_versions += accounts;
        hold_versions += holds;
    }
    let seeded_accounts = database.count("accounts").await?;
    let stored = (
        database.sum("accounts", "version").await?,
        database.sum("holds", "version").await?,
    );
    let expected = (
        seeded_accounts + u64::try_from(account_versions).unwrap_or(0),
        u64::try_from(hold_versions).unwrap_or(0),
    );
    if stored != expected {
        return Err(format!(
            "{pattern:?}: account and hold versions sum to {stored:?}, every write taking \
             effect makes {expected:?}"
        ));
    }
    Ok(RawResult {
        events: share.events,
        rows: written.iter().map(|(rows, _)| rows).sum(),
        seconds,
        writers,
        pattern,
    })
}

/// The service's appended rows over its events: the raw run appends in that proportion.
#[derive(Debug, Clone, Copy)]
struct Share {
    service: RowCounts,
    events: u64,
}

/// The writer of the events keyed `key` (FNV-1a: any stable spread over the users does).
fn writer_of(key: &str, writers: usize) -> usize {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    // The remainder is below `writers`, a usize.
    #[allow(clippy::cast_possible_truncation)]
    let writer = (hash % writers as u64) as usize;
    writer
}

/// One writer's batches, one transaction each; returns the rows written and the versions
/// stored.
async fn write_stream(
    connection: &sea_orm::DatabaseConnection,
    events: &[&Event],
    batch_size: usize,
    share: Share,
    (writer, pattern): (usize, Pattern),
) -> Result<(u64, Versions), String> {
    let mut seen = HashSet::new();
    let mut versions = Versions::default();
    let mut rows = 0;
    // Fractional rows carried from batch to batch, so the totals match the service's.
    let (mut ledger_due, mut outbox_due, mut outbox_events_due) = (0u64, 0u64, 0u64);
    let mut sequence = 0u64;
    for (batch_index, batch) in events.chunks(batch_size).enumerate() {
        let now = sql_now();
        let mut batch_rows = BatchRows::of(batch, &mut seen);
        // Cumulative targets: after k of n events, k × (service rows) / n rows in all.
        let done = (batch_index * batch_size + batch.len()) as u64;
        let events = share.events.max(1);
        let ledger_target = share.service.ledger * done / events;
        let outbox_target = share.service.outbox * done / events;
        let outbox_events_target = share.service.outbox_events * done / events;
        let outbox_count = outbox_target - outbox_due;
        // The events of the batch's outbox rows, spread over them as the service groups them.
        let events_per_outbox_row =
            (outbox_events_target - outbox_events_due) / outbox_count.max(1);
        batch_rows.append(
            (
                ledger_target - ledger_due,
                outbox_count,
                events_per_outbox_row,
            ),
            writer,
            &mut sequence,
            &now,
        );
        (ledger_due, outbox_due, outbox_events_due) =
            (ledger_target, outbox_target, outbox_events_target);
        rows += batch_rows.count(pattern);
        let statements = batch_rows.statements(pattern, &mut versions, &now);
        let failed =
            |statement: &str, error: sea_orm::DbErr| format!("{error} in `{}…`", &statement[..80]);
        match pattern {
            Pattern::RoundTrips => {
                let transaction = connection
                    .begin()
                    .await
                    .map_err(|error| format!("BEGIN: {error}"))?;
                for statement in &statements {
                    transaction
                        .execute_unprepared(statement)
                        .await
                        .map_err(|error| failed(statement, error))?;
                }
                transaction
                    .commit()
                    .await
                    .map_err(|error| format!("COMMIT: {error}"))?;
            }
            Pattern::Text => {
                // One round trip, as the service's commit; a failure ends the run, and its
                // connection with it.
                let text = format!("START TRANSACTION;\n{};\nCOMMIT", statements.join(";\n"));
                connection
                    .execute_unprepared(&text)
                    .await
                    .map_err(|error| failed(&text, error))?;
            }
        }
    }
    Ok((rows, versions))
}
