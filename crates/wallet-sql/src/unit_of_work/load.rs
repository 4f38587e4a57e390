//! The loads of `WalletStore::load`: every row a batch touches, with one `IN (…)` query per
//! table (chunked past [`IN_LIST_KEYS_MAX`] keys), never one query per key; the dead-letter
//! verdicts by a few key ranges instead ([`verdicts`]).

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{QueryResult, Value};
use wallet_domain::ports::StoreError;
use wallet_domain::unit_of_work::{IdempotencyRecord, Verdict};
use wallet_domain::{Account, Hold, OrderId, Position, Ticker, UserId};

use crate::SqlStore;
use crate::dialect::Dialect;
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

/// Positions are keyed by (user, ticker), and asked for by those pairs.
pub(super) async fn positions(
    store: &SqlStore,
    keys: &BTreeSet<(UserId, Ticker)>,
) -> Result<Vec<Position>, StoreError> {
    let pairs = keys
        .iter()
        .map(|(user, ticker)| (user.as_str(), ticker.as_str()));
    select_pairs(store, "positions", rows::POSITION_COLUMNS, "ticker", pairs)
        .await?
        .iter()
        .map(|row| rows::position(store.dialect, row))
        .collect()
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
    let pairs = keys.iter().map(|(user, key)| (user.as_str(), key.as_str()));
    select_pairs(
        store,
        "idempotency_keys",
        rows::IDEMPOTENCY_COLUMNS,
        "idempotency_key",
        pairs,
    )
    .await?
    .iter()
    .map(|row| rows::idempotency(store.dialect, row))
    .collect()
}

/// The verdicts of `deliveries`, read as a few key ranges instead of one look-up per key.
///
/// A batch's deliveries are `topic/partition/offset` texts of consecutive offsets, and texts of
/// one prefix and one length sort like their offsets. So each group of one prefix and length is
/// asked for as one `BETWEEN` its first and last key: one index dive, where an `IN` list of a
/// batch's ~500 keys made MariaDB plan a range per key (most of the look-up's cost). A range also
/// holds keys nobody asked for (other lengths that share a prefix); the rows are kept only when
/// their delivery was asked for, so the answer is exact for any keys.
pub(super) async fn verdicts(
    store: &SqlStore,
    deliveries: &BTreeSet<String>,
) -> Result<Vec<Verdict>, StoreError> {
    let mut verdicts = Vec::new();
    let ranges = delivery_ranges(deliveries);
    for chunk in ranges.chunks(IN_LIST_KEYS_MAX) {
        let mut query = Query::new(&format!(
            "SELECT {} FROM dead_letter_verdicts WHERE ",
            rows::VERDICT_COLUMNS.join(", ")
        ));
        for (index, (first, last)) in chunk.iter().enumerate() {
            query
                .sql(if index > 0 { " OR " } else { "" })
                .sql("delivery BETWEEN ")
                .bind(Value::from(*first))
                .sql(" AND ")
                .bind(Value::from(*last));
        }
        for row in store.query_all(query).await? {
            let verdict = rows::verdict(store.dialect, &row)?;
            if deliveries.contains(&verdict.delivery) {
                verdicts.push(verdict);
            }
        }
    }
    Ok(verdicts)
}

/// The first and last of `deliveries` per prefix (up to the last `/`) and length, in order.
fn delivery_ranges(deliveries: &BTreeSet<String>) -> Vec<(&str, &str)> {
    let mut ranges: BTreeMap<(&str, usize), (&str, &str)> = BTreeMap::new();
    // The set iterates in order, so a group's first key is its least and its last its greatest.
    for delivery in deliveries.iter().map(String::as_str) {
        let prefix = delivery.rsplit_once('/').map_or("", |(prefix, _)| prefix);
        ranges
            .entry((prefix, delivery.len()))
            .and_modify(|(_, last)| *last = delivery)
            .or_insert((delivery, delivery));
    }
    ranges.into_values().collect()
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

/// `SELECT columns FROM table WHERE (user_id, second) IN ((?, ?), …)`, chunked: exactly the
/// requested rows, one range each of the primary key `(user_id, second)`. Asking for the owners'
/// rows in all of the second keys instead (`user_id IN (…) AND second IN (…)`) made MariaDB
/// build and read the cross product, six times the positions a batch needs and 2.5 times the
/// CPU (`docs/benchmarks.md`).
///
/// On MySQL the primary key is named (`USE INDEX`): MariaDB's range optimizer also works the
/// list through every other index that holds both columns (`positions_ticker`), which took 27
/// times the CPU of the read itself. SQLite takes a row value's list only as a subquery, hence
/// its `VALUES`.
async fn select_pairs<'a>(
    store: &SqlStore,
    table: &str,
    columns: &[&str],
    second: &str,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<QueryResult>, StoreError> {
    let pairs: Vec<(&str, &str)> = pairs.collect();
    let (hint, list_start) = match store.dialect {
        Dialect::MySql => (" USE INDEX (PRIMARY)", "("),
        Dialect::Sqlite => ("", "(VALUES "),
    };
    let mut found = Vec::new();
    for chunk in pairs.chunks(IN_LIST_KEYS_MAX) {
        let mut query = Query::new(&format!(
            "SELECT {} FROM {table}{hint} WHERE (user_id, {second}) IN {list_start}",
            columns.join(", ")
        ));
        for (index, (owner, key)) in chunk.iter().enumerate() {
            if index > 0 {
                query.sql(", ");
            }
            query.bind_tuple([Value::from(*owner), Value::from(*key)]);
        }
        query.sql(")");
        found.extend(store.query_all(query).await?);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_of_one_prefix_and_length_form_one_range() {
        let deliveries: BTreeSet<String> = [
            "orders/0/9",
            "orders/0/10",
            "orders/0/57",
            "orders/0/11",
            "orders/0/100",
            "orders/1/12",
            "no-slash",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(
            delivery_ranges(&deliveries),
            [
                ("no-slash", "no-slash"),
                ("orders/0/9", "orders/0/9"),
                ("orders/0/10", "orders/0/57"),
                ("orders/0/100", "orders/0/100"),
                ("orders/1/12", "orders/1/12"),
            ]
        );
    }
}
