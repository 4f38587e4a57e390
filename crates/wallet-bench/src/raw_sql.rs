//! Measurement 3: the raw limit. The row writes a run of the service makes (account updates,
//! position and hold upserts, ledger and outbox appends) done by plain batched SQL from the
//! bench, no service: one transaction per batch of events, as the consumer does, each table
//! written by one multi-row statement in the text protocol. It runs twice: over one
//! connection (the reference of earlier rounds), and with as many writers as the service has
//! apply lanes, each on its own connection and its own accounts (events split by their key,
//! the user, as the service's lanes split partitions), which is what the service is compared
//! with.
//!
//! Which rows a batch writes is taken from the workload itself: each distinct (order, status,
//! filled quantity) is one step (duplicates write nothing); its user's account is updated, its
//! order's hold upserted, and for fills and SELL reservations its position upserted, each row
//! once per batch as the service does. Ledger and outbox rows are appended in the proportion
//! the service's run wrote them per event, so both runs write the same number of rows.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

use sea_orm::{ConnectionTrait, TransactionTrait};

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

/// The fields of an order event a batch's writes depend on.
struct Step {
    order: i64,
    user: String,
    ticker: String,
    buy: bool,
    status: String,
    quantity: String,
    price: String,
}

fn step(value: &[u8]) -> Option<(Step, String)> {
    let json: serde_json::Value = serde_json::from_slice(value).ok()?;
    let text = |field: &str| match &json[field] {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    let step = Step {
        order: json["orderId"].as_i64()?,
        user: text("userId")?,
        ticker: text("ticker")?,
        buy: json["side"].as_str()? == "BUY",
        status: text("status")?,
        quantity: text("quantity")?,
        price: text("price").unwrap_or_else(|| "1".to_owned()),
    };
    let identity = format!(
        "{}:{}:{}",
        step.order,
        step.status,
        text("filledQuantity").unwrap_or_default()
    );
    Some((step, identity))
}

/// Writes the rows of `events` in batches of `batch_size` into `database` (seeded with the
/// same accounts), with ledger and outbox rows per event as in `service`'s run of
/// `service_events` events.
///
/// # Errors
/// The database's message.
/// The writes of `events` by `writers` concurrent connections, each taking the events whose
/// key (the user) hashes to it, in their order.
///
/// # Errors
/// A message when a connection or a statement fails.
pub async fn run(
    database: &BenchDatabase,
    events: &[Event],
    batch_size: usize,
    service: RowCounts,
    writers: usize,
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
    let service_events = events.len() as u64;
    let started = Instant::now();
    let written = futures::future::try_join_all(streams.iter().zip(&connections).enumerate().map(
        |(writer, (stream, connection))| {
            write_stream(
                connection,
                stream,
                batch_size,
                service,
                service_events,
                writer,
            )
        },
    ))
    .await?;
    Ok(RawResult {
        events: service_events,
        rows: written.iter().sum(),
        seconds: started.elapsed().as_secs_f64(),
        writers,
    })
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

/// One writer's batches, one transaction each; returns the rows written.
async fn write_stream(
    connection: &sea_orm::DatabaseConnection,
    events: &[&Event],
    batch_size: usize,
    service: RowCounts,
    service_events: u64,
    writer: usize,
) -> Result<u64, String> {
    let mut seen = HashSet::new();
    let mut rows = 0;
    // Fractional rows carried from batch to batch, so the totals match the service's.
    let (mut ledger_due, mut outbox_due, mut outbox_events_due) = (0u64, 0u64, 0u64);
    let mut sequence = 0u64;
    for (batch_index, batch) in events.chunks(batch_size).enumerate() {
        let now = sql_now();
        let mut accounts = BTreeSet::new();
        let mut positions = BTreeSet::new();
        let mut holds: BTreeMap<i64, String> = BTreeMap::new();
        let mut users = Vec::new();
        for (_, value) in batch {
            let Some((step, identity)) = step(value) else {
                continue;
            };
            if !seen.insert(identity) {
                continue;
            }
            accounts.insert(step.user.clone());
            if step.status.contains("FILLED") || (!step.buy && step.status == "PENDING") {
                positions.insert((step.user.clone(), step.ticker.clone()));
            }
            let status = if step.status == "PENDING" {
                "RESERVED"
            } else {
                "RELEASED"
            };
            holds.insert(
                step.order,
                format!(
                    "({},'{}','{}','{}',{},{},0,0,0,0,'{status}',NULL,1,{now},{now})",
                    step.order,
                    step.user,
                    if step.buy { "BUY" } else { "SELL" },
                    step.ticker,
                    step.quantity,
                    step.price
                ),
            );
            users.push((step.user, step.order));
        }
        // Cumulative targets: after k of n events, k × (service rows) / n rows in all.
        let done = (batch_index * batch_size + batch.len()) as u64;
        let ledger_target = service.ledger * done / service_events.max(1);
        let outbox_target = service.outbox * done / service_events.max(1);
        let ledger_count = ledger_target - ledger_due;
        let outbox_count = outbox_target - outbox_due;
        let outbox_events_target = service.outbox_events * done / service_events.max(1);
        // The events of the batch's outbox rows, spread over them as the service groups them.
        let events_per_outbox_row =
            (outbox_events_target - outbox_events_due) / outbox_count.max(1);
        (ledger_due, outbox_due, outbox_events_due) =
            (ledger_target, outbox_target, outbox_events_target);
        let mut statements = Vec::new();
        if !accounts.is_empty() {
            let values: Vec<String> = accounts
                .iter()
                .map(|user| format!("('{user}','BRL',100000,0,100000,1,{now},{now})"))
                .collect();
            statements.push(format!(
                "INSERT INTO accounts (user_id, currency, balance, blocked_balance, \
                 settled_balance, version, created_at, updated_at) VALUES {} ON DUPLICATE KEY \
                 UPDATE balance = VALUES(balance), blocked_balance = VALUES(blocked_balance), \
                 settled_balance = VALUES(settled_balance), \
                 version = version + 1, updated_at = VALUES(updated_at)",
                values.join(",")
            ));
        }
        if !positions.is_empty() {
            let values: Vec<String> = positions
                .iter()
                .map(|(user, ticker)| format!("('{user}','{ticker}',100,0,20.5,0,1,{now})"))
                .collect();
            statements.push(format!(
                "INSERT INTO positions (user_id, ticker, quantity, blocked_quantity, \
                 average_price, realized_pnl, version, updated_at) VALUES {} ON DUPLICATE KEY \
                 UPDATE quantity = VALUES(quantity), blocked_quantity = \
                 VALUES(blocked_quantity), average_price = VALUES(average_price), \
                 version = version + 1, updated_at = VALUES(updated_at)",
                values.join(",")
            ));
        }
        if !holds.is_empty() {
            let values: Vec<&str> = holds.values().map(String::as_str).collect();
            statements.push(format!(
                "INSERT INTO holds (order_id, user_id, side, ticker, quantity, limit_price, \
                 reserved_amount, reserved_quantity, filled_quantity, filled_amount, status, \
                 deny_reason, version, created_at, updated_at) VALUES {} ON DUPLICATE KEY \
                 UPDATE status = VALUES(status), filled_quantity = VALUES(filled_quantity), \
                 version = version + 1, updated_at = VALUES(updated_at)",
                values.join(",")
            ));
        }
        let mut ledger = Vec::new();
        let mut outbox = Vec::new();
        for index in 0..ledger_count.max(outbox_count) {
            sequence += 1;
            let Some((user, order)) = users.get(index as usize % users.len().max(1)) else {
                break;
            };
            if index < ledger_count {
                ledger.push(format!(
                    "('{user}','SETTLEMENT',{order},'raw:{writer}:{sequence}',-1234.56,0,-1234.56,\
                     'PETR4',100,0,100000,0,100000,{now})"
                ));
            }
            if index < outbox_count {
                let event_id = uuid::Uuid::new_v4();
                let event = format!(
                    "{{\"eventId\":\"{event_id}\",\"type\":\"ORDER_SETTLED\",\
                     \"userId\":\"{user}\",\"orderId\":{order},\"amount\":\"1234.56\",\
                     \"ticker\":\"PETR4\",\"quantity\":\"100\",\"reason\":null,\
                     \"occurredAt\":\"2026-05-01T10:15:30.123456Z\"}}"
                );
                let events = events_per_outbox_row.max(1);
                let payload = if events == 1 {
                    event
                } else {
                    format!("[{}]", vec![event; events as usize].join(","))
                };
                outbox.push(format!(
                    "('{event_id}','{user}','{payload}',{events},{now})"
                ));
            }
        }
        if !ledger.is_empty() {
            statements.push(format!(
                "INSERT INTO ledger_entries (user_id, entry_type, order_id, step_key, \
                 cash_amount, blocked_amount, settled_amount, ticker, quantity, \
                 blocked_quantity, balance_after, blocked_balance_after, settled_balance_after, \
                 occurred_at) VALUES {}",
                ledger.join(",")
            ));
        }
        if !outbox.is_empty() {
            statements.push(format!(
                "INSERT INTO outbox (event_id, user_id, payload, event_count, created_at) \
                 VALUES {}",
                outbox.join(",")
            ));
        }
        rows +=
            (accounts.len() + positions.len() + holds.len() + ledger.len() + outbox.len()) as u64;
        let transaction = connection
            .begin()
            .await
            .map_err(|error| format!("BEGIN: {error}"))?;
        for statement in &statements {
            transaction
                .execute_unprepared(statement)
                .await
                .map_err(|error| format!("{error} in `{}…`", &statement[..80]))?;
        }
        transaction
            .commit()
            .await
            .map_err(|error| format!("COMMIT: {error}"))?;
    }
    Ok(rows)
}
