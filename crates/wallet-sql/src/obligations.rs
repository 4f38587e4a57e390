//! `settlement_obligations`: the open obligations of a unit of work's users, the new ones it
//! writes, the ones it settles (once: a row already settled is a conflict), and the settlement
//! job's list of what is due.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::{QueryResult, Value};
use wallet_domain::ports::StoreError;
use wallet_domain::{Obligation, OrderId, UserId};

use crate::SqlStore;
use crate::dialect::{Dialect, corrupt, get};
use crate::statements::{IN_LIST_KEYS_MAX, Query, in_list};
use crate::writes::Writes;

/// Most obligations one settlement query returns, whatever the caller asks.
pub const DUE_OBLIGATIONS_MAX: u32 = 10_000;

/// Columns of `settlement_obligations`, in the order of [`values`].
const COLUMNS: &[&str] = &[
    "obligation_key",
    "user_id",
    "order_id",
    "trade_date",
    "due_date",
    "cash_amount",
    "created_at",
    "settled_at",
];

pub(crate) const DATE_FORMAT: &str = "%Y-%m-%d";

pub(crate) fn date(row: &QueryResult, column: &str) -> Result<NaiveDate, StoreError> {
    let text: String = get(row, column)?;
    NaiveDate::parse_from_str(&text, DATE_FORMAT)
        .map_err(|error| corrupt(column)(error.to_string()))
}

fn obligation(dialect: Dialect, row: &QueryResult) -> Result<Obligation, StoreError> {
    Ok(Obligation {
        key: get(row, "obligation_key")?,
        user_id: UserId::parse(&get::<String>(row, "user_id")?)
            .map_err(|error| corrupt("user_id")(error.to_string()))?,
        order_id: OrderId::new(get(row, "order_id")?)
            .map_err(|error| corrupt("order_id")(error.to_string()))?,
        trade_date: date(row, "trade_date")?,
        due_date: date(row, "due_date")?,
        cash_amount: dialect.get_decimal(row, "cash_amount")?,
        settled_at: dialect.get_optional_time(row, "settled_at")?,
        created_at: dialect.get_time(row, "created_at")?,
    })
}

fn values(dialect: Dialect, obligation: &Obligation) -> Vec<Value> {
    vec![
        Value::from(obligation.key.as_str()),
        Value::from(obligation.user_id.as_str()),
        Value::from(obligation.order_id.get()),
        Value::from(obligation.trade_date.format(DATE_FORMAT).to_string()),
        Value::from(obligation.due_date.format(DATE_FORMAT).to_string()),
        dialect.decimal(obligation.cash_amount),
        dialect.time(obligation.created_at),
        dialect.optional_time(obligation.settled_at),
    ]
}

fn select(condition: &str) -> Query {
    Query::new(&format!(
        "SELECT {} FROM settlement_obligations WHERE settled_at IS NULL AND {condition}",
        COLUMNS.join(", ")
    ))
}

/// The reads of the open obligations of `users` ([`open_found`] reads their rows).
pub(crate) fn open_of(users: &BTreeSet<UserId>) -> Vec<Query> {
    let users: Vec<&UserId> = users.iter().collect();
    users
        .chunks(IN_LIST_KEYS_MAX)
        .map(|chunk| {
            let mut query = select("user_id IN ");
            in_list(
                &mut query,
                chunk.iter().map(|user| Value::from(user.as_str())),
            );
            query.sql(" ORDER BY due_date, obligation_key");
            query
        })
        .collect()
}

/// The open obligations of `users`, read on their own.
pub(crate) async fn open(
    store: &SqlStore,
    users: &BTreeSet<UserId>,
) -> Result<Vec<Obligation>, StoreError> {
    let rows: Vec<QueryResult> = store
        .query_each(open_of(users))
        .await?
        .into_iter()
        .flatten()
        .collect();
    open_found(store.dialect, &rows)
}

/// The obligations of the rows of [`open_of`]'s reads.
pub(crate) fn open_found(
    dialect: Dialect,
    rows: &[QueryResult],
) -> Result<Vec<Obligation>, StoreError> {
    rows.iter().map(|row| obligation(dialect, row)).collect()
}

/// Up to `limit` open obligations due on or before `due_by`, earliest first.
pub(crate) async fn due(
    store: &SqlStore,
    due_by: NaiveDate,
    limit: u32,
) -> Result<Vec<Obligation>, StoreError> {
    let mut query = select("due_date <= ");
    query
        .bind(due_by.format(DATE_FORMAT).to_string())
        .sql(" ORDER BY due_date, obligation_key LIMIT ")
        .bind(i64::from(limit.min(DUE_OBLIGATIONS_MAX)));
    store
        .query_all(query)
        .await?
        .iter()
        .map(|row| obligation(store.dialect, row))
        .collect()
}

/// Inserts `created` and marks `settled` settled where they are still open.
///
/// # Errors
/// [`StoreError::Conflict`] when an obligation to settle is settled already (another run got
/// there first) or a new one's key exists.
pub(crate) async fn write(
    writes: &mut Writes<'_>,
    created: &[Obligation],
    settled: &[Obligation],
) -> Result<(), StoreError> {
    let dialect = writes.dialect();
    let rows = created.iter().map(|row| values(dialect, row)).collect();
    writes
        .insert("settlement_obligations", COLUMNS, rows)
        .await?;
    // One statement per instant (a settlement run settles all of its obligations at one).
    let mut by_instant: std::collections::BTreeMap<_, Vec<&str>> = Default::default();
    for obligation in settled {
        if let Some(at) = obligation.settled_at {
            by_instant
                .entry(at)
                .or_default()
                .push(obligation.key.as_str());
        }
    }
    for (settled_at, keys) in by_instant {
        for chunk in keys.chunks(IN_LIST_KEYS_MAX) {
            let mut query = Query::new("UPDATE settlement_obligations SET settled_at = ");
            query
                .bind(dialect.time(settled_at))
                .sql(" WHERE obligation_key IN ");
            in_list(&mut query, chunk.iter().map(|key| Value::from(*key)));
            query.sql(" AND settled_at IS NULL");
            let named = chunk.len();
            writes
                .each_row(query, named as u64, move |missing| {
                    format!("{missing} of {named} obligations are settled already")
                })
                .await?;
        }
    }
    Ok(())
}
