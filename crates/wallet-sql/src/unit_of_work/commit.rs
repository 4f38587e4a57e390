//! The statements of `WalletStore::commit`: a whole change set with a constant number of
//! statements per table (multi-row INSERTs for new rows and appends, version-checked bulk
//! writes of existing rows: guarded upserts on MySQL, CASE updates on SQLite), written through
//! [`Writes`]: on MySQL a batch of 500 events is one round trip, on SQLite about a dozen.

use sea_orm::Value;
use wallet_domain::ports::StoreError;
use wallet_domain::unit_of_work::ChangeSet;

use wallet_domain::wallet_event::EVENT_JSON_BYTES;
use wallet_domain::{Account, Hold, LastTrade, Position, WalletEvent};

use crate::corporate_actions;
use crate::dialect::Dialect;
use crate::obligations;
use crate::rows;
use crate::statements::Query;
use crate::writes::{VersionedRow, Writes};

/// Every statement of a commit, in a fixed table order (accounts, positions, holds, then the
/// appends) so that concurrent transactions lock rows in the same order.
pub(super) async fn write(writes: &mut Writes<'_>, changes: ChangeSet) -> Result<(), StoreError> {
    let dialect = writes.dialect();
    write_accounts(writes, &changes.accounts).await?;
    write_positions(writes, &changes.positions).await?;
    write_holds(writes, &changes.holds).await?;
    write_action(writes, changes.action_progress.as_ref()).await?;
    corporate_actions::write_entitlements(
        writes,
        &changes.entitlements,
        &changes.paid_entitlements,
    )
    .await?;
    obligations::write(writes, &changes.obligations, &changes.settled_obligations).await?;
    let ledger = changes
        .ledger
        .iter()
        .map(|entry| rows::ledger_values(dialect, entry))
        .collect();
    writes
        .insert("ledger_entries", rows::LEDGER_COLUMNS, ledger)
        .await?;
    let outbox = outbox_rows(dialect, &changes.outbox);
    writes.insert("outbox", OUTBOX_COLUMNS, outbox).await?;
    upsert_last_trades(writes, &changes.last_trades).await?;
    let idempotency = changes
        .idempotency
        .iter()
        .map(|record| rows::idempotency_values(dialect, record))
        .collect();
    writes
        .insert("idempotency_keys", rows::IDEMPOTENCY_COLUMNS, idempotency)
        .await?;
    let verdicts = changes
        .verdicts
        .iter()
        .map(|verdict| rows::verdict_values(dialect, verdict))
        .collect();
    writes
        .insert("dead_letter_verdicts", rows::VERDICT_COLUMNS, verdicts)
        .await
}

/// About the bytes of `changes`' statements as MySQL text (a row is 110–250 bytes, an outbox
/// event ~400), so that the text is allocated once: grown from a few bytes, it doubled about
/// fifteen times for a batch of 500 events, each time copying what was written so far.
pub(super) fn text_bytes_estimate(changes: &ChangeSet) -> usize {
    const ROW_BYTES: usize = 256;
    const STATEMENTS_BYTES: usize = 4096;
    let events = changes.outbox.len();
    STATEMENTS_BYTES + (changes.records() - events) * ROW_BYTES + events * EVENT_JSON_BYTES
}

/// A table of versioned rows.
struct VersionedTable {
    name: &'static str,
    /// Every column, primary key first.
    columns: &'static [&'static str],
    /// How many leading columns form the primary key.
    key_width: usize,
}

/// Inserts the rows loaded at version 0 with version 1, and updates the others from their
/// loaded version to the next: on MySQL as a guarded upsert, on SQLite as a CASE update, which
/// can tell a gone row from an updated one ([`Writes::upsert_versioned`],
/// [`Writes::update_versioned`]).
async fn write_versioned<T>(
    writes: &mut Writes<'_>,
    table: VersionedTable,
    rows: &[T],
    version: impl Fn(&T) -> i64,
    values: impl Fn(&T, i64) -> Vec<Value>,
) -> Result<(), StoreError> {
    let VersionedTable {
        name: table,
        columns,
        key_width,
    } = table;
    let (new, existing): (Vec<&T>, Vec<&T>) = rows.iter().partition(|row| version(row) == 0);
    writes
        .insert(
            table,
            columns,
            new.iter().map(|row| values(row, 1)).collect(),
        )
        .await?;
    // The version column is bumped by the statement itself and `created_at` never changes.
    let updated: Vec<(usize, &str)> = columns
        .iter()
        .copied()
        .enumerate()
        .skip(key_width)
        .filter(|(_, column)| !matches!(*column, "version" | "created_at"))
        .collect();
    let updated_columns: Vec<&str> = updated.iter().map(|(_, column)| *column).collect();
    if writes.dialect() == Dialect::MySql {
        let rows = existing
            .iter()
            .map(|row| values(row, version(row) + 1))
            .collect();
        return writes
            .upsert_versioned(table, columns, &updated_columns, rows)
            .await;
    }
    let versioned = existing
        .iter()
        .map(|row| {
            let loaded_version = version(row);
            let all = values(row, loaded_version + 1);
            VersionedRow {
                key: all[..key_width].to_vec(),
                loaded_version,
                values: updated
                    .iter()
                    .map(|(index, _)| all[*index].clone())
                    .collect(),
            }
        })
        .collect();
    writes
        .update_versioned(table, &columns[..key_width], &updated_columns, versioned)
        .await
}

/// A corporate action's progress: inserted when new, else updated from its loaded version.
async fn write_action(
    writes: &mut Writes<'_>,
    progress: Option<&wallet_domain::corporate_actions::ActionRecord>,
) -> Result<(), StoreError> {
    let Some(progress) = progress else {
        return Ok(());
    };
    let dialect = writes.dialect();
    write_versioned(
        writes,
        VersionedTable {
            name: "corporate_actions",
            columns: corporate_actions::ACTION_COLUMNS,
            key_width: 1,
        },
        std::slice::from_ref(progress),
        |record| record.version,
        |record, version| corporate_actions::action_values(dialect, record, version),
    )
    .await
}

async fn write_accounts(writes: &mut Writes<'_>, accounts: &[Account]) -> Result<(), StoreError> {
    let dialect = writes.dialect();
    write_versioned(
        writes,
        VersionedTable {
            name: "accounts",
            columns: rows::ACCOUNT_COLUMNS,
            key_width: 1,
        },
        accounts,
        |account| account.version,
        |account, version| rows::account_values(dialect, account, version),
    )
    .await
}

async fn write_positions(
    writes: &mut Writes<'_>,
    positions: &[Position],
) -> Result<(), StoreError> {
    let dialect = writes.dialect();
    write_versioned(
        writes,
        VersionedTable {
            name: "positions",
            columns: rows::POSITION_COLUMNS,
            key_width: 2,
        },
        positions,
        |position| position.version,
        |position, version| rows::position_values(dialect, position, version),
    )
    .await
}

async fn write_holds(writes: &mut Writes<'_>, holds: &[Hold]) -> Result<(), StoreError> {
    let dialect = writes.dialect();
    write_versioned(
        writes,
        VersionedTable {
            name: "holds",
            columns: rows::HOLD_COLUMNS,
            key_width: 1,
        },
        holds,
        |hold| hold.version,
        |hold, version| rows::hold_values(dialect, hold, version),
    )
    .await
}

/// Columns of `outbox` written by a commit (`id` is generated, `sent_at` starts NULL).
const OUTBOX_COLUMNS: &[&str] = &[
    "event_id",
    "user_id",
    "payload",
    "event_count",
    "created_at",
];

/// Most wallet events one outbox row holds, so that a row's payload (about 0.5 kB an event,
/// twice that as a hex literal) stays far below MySQL's packet limit whatever the batch size.
pub(crate) const OUTBOX_ROW_EVENTS_MAX: usize = 1_000;

/// The change set's events in outbox rows of up to [`OUTBOX_ROW_EVENTS_MAX`], in order: one
/// event as its JSON object, several as a JSON array of them (`crate::outbox` publishes each as
/// its own record, keyed by its own user). A batch of 500 order events announces 500 to 2,000
/// wallet events: as one or two rows they cost the commit, the relay's read and its `sent_at`
/// update once, where a row per event (or per user) made the outbox a third of the rows
/// MariaDB wrote. A row's `event_id` and `user_id` are its first event's.
fn outbox_rows(dialect: Dialect, events: &[WalletEvent]) -> Vec<Vec<Value>> {
    events
        .chunks(OUTBOX_ROW_EVENTS_MAX)
        .filter_map(|group| {
            let first = group.first()?;
            // One buffer for the row: a String per event was copied into it once more.
            let mut payload = Vec::with_capacity(group.len() * EVENT_JSON_BYTES + 2);
            match group {
                [only] => only.write_json(&mut payload),
                many => {
                    payload.push(b'[');
                    for (index, event) in many.iter().enumerate() {
                        if index > 0 {
                            payload.push(b',');
                        }
                        event.write_json(&mut payload);
                    }
                    payload.push(b']');
                }
            }
            Some(vec![
                Value::from(first.event_id.to_string()),
                Value::from(first.user_id.as_str()),
                dialect.long_text(payload),
                Value::from(group.len() as i64),
                dialect.time(first.occurred_at),
            ])
        })
        .collect()
}

/// Upserts the last execution prices; a stored trade that is later than the new one stays.
async fn upsert_last_trades(
    writes: &mut Writes<'_>,
    trades: &[LastTrade],
) -> Result<(), StoreError> {
    if trades.is_empty() {
        return Ok(());
    }
    let dialect = writes.dialect();
    let mut query = Query::new("INSERT INTO last_trades (ticker, price, traded_at) VALUES ");
    for (index, trade) in trades.iter().enumerate() {
        if index > 0 {
            query.sql(", ");
        }
        query.bind_tuple([
            Value::from(trade.ticker.as_str()),
            dialect.decimal(trade.price.value()),
            dialect.time(trade.traded_at),
        ]);
    }
    query.sql(match dialect {
        // MySQL assigns left to right: `price` must still see the old `traded_at`.
        Dialect::MySql => {
            " ON DUPLICATE KEY UPDATE \
             price = IF(VALUES(traded_at) >= traded_at, VALUES(price), price), \
             traded_at = GREATEST(traded_at, VALUES(traded_at))"
        }
        Dialect::Sqlite => {
            " ON CONFLICT (ticker) DO UPDATE SET price = excluded.price, \
             traded_at = excluded.traded_at WHERE excluded.traded_at >= last_trades.traded_at"
        }
    });
    writes.unchecked(query).await
}
