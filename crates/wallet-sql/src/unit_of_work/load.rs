//! The loads of `WalletStore::load`: every row a batch touches, with one `IN (…)` query per
//! table (chunked past [`IN_LIST_KEYS_MAX`] keys), never one query per key.

use std::collections::BTreeSet;

use sea_orm::{QueryResult, Value};
use wallet_domain::ports::StoreError;
use wallet_domain::unit_of_work::{IdempotencyRecord, Verdict};
use wallet_domain::{Account, Hold, OrderId, Position, Ticker, UserId};

use crate::SqlStore;
use crate::rows;
use crate::statements::{IN_LIST_KEYS_MAX, Query, in_list};

pub(super) async fn accounts(
    store: &SqlStore,
    users: &BTreeSet<UserId>,
) -> Result<Vec<Account>, StoreError> {
    let keys = users
        .iter()
        .map(|user| Value::from(user.as_str()))
        .collect();
    select_in(store, "accounts", rows::ACCOUNT_COLUMNS, "user_id", keys)
        .await?
        .iter()
        .map(|row| rows::account(store.dialect, row))
        .collect()
}

/// Positions are keyed by (user, ticker); the query asks for the users' rows in the batch's
/// tickers, a superset of the request that the primary key serves, and keeps only the
/// requested pairs.
pub(super) async fn positions(
    store: &SqlStore,
    keys: &BTreeSet<(UserId, Ticker)>,
) -> Result<Vec<Position>, StoreError> {
    let mut found = Vec::new();
    for row in select_pairs(
        store,
        "positions",
        rows::POSITION_COLUMNS,
        "ticker",
        keys.iter()
            .map(|(user, ticker)| (user.as_str(), ticker.as_str())),
    )
    .await?
    {
        let position = rows::position(store.dialect, &row)?;
        if keys.contains(&(position.user_id.clone(), position.ticker.clone())) {
            found.push(position);
        }
    }
    Ok(found)
}

pub(super) async fn holds(
    store: &SqlStore,
    orders: &BTreeSet<OrderId>,
) -> Result<Vec<Hold>, StoreError> {
    let keys = orders
        .iter()
        .map(|order| Value::from(order.get()))
        .collect();
    select_in(store, "holds", rows::HOLD_COLUMNS, "order_id", keys)
        .await?
        .iter()
        .map(|row| rows::hold(store.dialect, row))
        .collect()
}

/// Idempotency keys are scoped per user, so they are looked up like positions.
pub(super) async fn idempotency(
    store: &SqlStore,
    keys: &BTreeSet<(UserId, String)>,
) -> Result<Vec<IdempotencyRecord>, StoreError> {
    let mut found = Vec::new();
    for row in select_pairs(
        store,
        "idempotency_keys",
        rows::IDEMPOTENCY_COLUMNS,
        "idempotency_key",
        keys.iter().map(|(user, key)| (user.as_str(), key.as_str())),
    )
    .await?
    {
        let record = rows::idempotency(store.dialect, &row)?;
        if keys.contains(&(record.user_id.clone(), record.key.clone())) {
            found.push(record);
        }
    }
    Ok(found)
}

pub(super) async fn verdicts(
    store: &SqlStore,
    deliveries: &BTreeSet<String>,
) -> Result<Vec<Verdict>, StoreError> {
    let keys = deliveries
        .iter()
        .map(|delivery| Value::from(delivery.as_str()))
        .collect();
    select_in(
        store,
        "dead_letter_verdicts",
        rows::VERDICT_COLUMNS,
        "delivery",
        keys,
    )
    .await?
    .iter()
    .map(|row| rows::verdict(store.dialect, row))
    .collect()
}

/// `SELECT columns FROM table WHERE key IN (…)`, chunked.
async fn select_in(
    store: &SqlStore,
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
        found.extend(store.query_all(query).await?);
    }
    Ok(found)
}

/// `SELECT columns FROM table WHERE user_id IN (…) AND second IN (…)` over the owners and the
/// second keys of `pairs`, chunked by owner.
async fn select_pairs<'a>(
    store: &SqlStore,
    table: &str,
    columns: &[&str],
    second: &str,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<QueryResult>, StoreError> {
    let (owners, seconds): (BTreeSet<&str>, BTreeSet<&str>) = pairs.unzip();
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let owners: Vec<&str> = owners.into_iter().collect();
    let seconds: Vec<&str> = seconds.into_iter().collect();
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
            found.extend(store.query_all(query).await?);
        }
    }
    Ok(found)
}
