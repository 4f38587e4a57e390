//! The reads of `WalletStore::load`: every row a batch touches, with one `IN (…)` query per
//! table (chunked past [`IN_LIST_KEYS_MAX`] keys), never one query per key; the dead-letter
//! verdicts by a few key ranges instead ([`verdicts`]). All of them go to the database
//! together ([`Reads`]): on MySQL one text of several statements, one round trip.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use sea_orm::{QueryResult, Value};
use wallet_domain::ports::StoreError;
use wallet_domain::unit_of_work::Verdict;
use wallet_domain::{OrderId, Ticker, UserId};

use crate::SqlStore;
use crate::dialect::Dialect;
use crate::rows;
use crate::statements::{IN_LIST_KEYS_MAX, Query, in_list};

/// The queries of one load, each table's in a group of its own, sent together.
#[derive(Default)]
pub(super) struct Reads {
    queries: Vec<Query>,
    groups: Vec<Range<usize>>,
}

/// A group of [`Reads`]: the queries of one table.
#[derive(Clone, Copy)]
pub(super) struct Group(usize);

impl Reads {
    pub(super) fn add(&mut self, queries: Vec<Query>) -> Group {
        let start = self.queries.len();
        self.queries.extend(queries);
        self.groups.push(start..self.queries.len());
        Group(self.groups.len() - 1)
    }

    /// Runs every query ([`SqlStore::query_each`]) and hands out each group's rows.
    pub(super) async fn run(self, store: &SqlStore) -> Result<Found, StoreError> {
        Ok(Found {
            rows: store.query_each(self.queries).await?,
            groups: self.groups,
        })
    }
}

/// The rows of a [`Reads`], by group.
pub(super) struct Found {
    rows: Vec<Vec<QueryResult>>,
    groups: Vec<Range<usize>>,
}

impl Found {
    /// The rows of `group`'s queries, in order; a group is taken once.
    pub(super) fn take(&mut self, group: Group) -> Vec<QueryResult> {
        let range = self.groups[group.0].clone();
        self.rows[range]
            .iter_mut()
            .flat_map(std::mem::take)
            .collect()
    }
}

pub(super) fn accounts(users: &BTreeSet<UserId>) -> Vec<Query> {
    let keys: Vec<Value> = users
        .iter()
        .map(|user| Value::from(user.as_str()))
        .collect();
    select_in("accounts", rows::ACCOUNT_COLUMNS, "user_id", &keys)
}

/// Positions are keyed by (user, ticker), and asked for by those pairs.
pub(super) fn positions(dialect: Dialect, keys: &BTreeSet<(UserId, Ticker)>) -> Vec<Query> {
    let pairs: Vec<(&str, &str)> = keys
        .iter()
        .map(|(user, ticker)| (user.as_str(), ticker.as_str()))
        .collect();
    select_pairs(
        dialect,
        "positions",
        rows::POSITION_COLUMNS,
        "ticker",
        &pairs,
    )
}

pub(super) fn holds(orders: &BTreeSet<OrderId>) -> Vec<Query> {
    let keys: Vec<Value> = orders
        .iter()
        .map(|order| Value::from(order.get()))
        .collect();
    select_in("holds", rows::HOLD_COLUMNS, "order_id", &keys)
}

/// Idempotency keys are scoped per user, so they are looked up like positions.
pub(super) fn idempotency(dialect: Dialect, keys: &BTreeSet<(UserId, String)>) -> Vec<Query> {
    let pairs: Vec<(&str, &str)> = keys
        .iter()
        .map(|(user, key)| (user.as_str(), key.as_str()))
        .collect();
    select_pairs(
        dialect,
        "idempotency_keys",
        rows::IDEMPOTENCY_COLUMNS,
        "idempotency_key",
        &pairs,
    )
}

/// The look-up of the verdicts of `deliveries`, as a few key ranges instead of one key each;
/// [`verdicts_found`] keeps the rows of the deliveries asked for.
///
/// A batch's deliveries are `topic/partition/offset` texts of consecutive offsets, and texts of
/// one prefix and one length sort like their offsets. So each group of one prefix and length is
/// asked for as one `BETWEEN` its first and last key: one index dive, where an `IN` list of a
/// batch's ~500 keys made MariaDB plan a range per key (most of the look-up's cost). A range also
/// holds keys nobody asked for (other lengths that share a prefix), hence the filter.
pub(super) fn verdicts(deliveries: &BTreeSet<String>) -> Vec<Query> {
    delivery_ranges(deliveries)
        .chunks(IN_LIST_KEYS_MAX)
        .map(|chunk| {
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
            query
        })
        .collect()
}

/// The verdicts among `rows` of the deliveries asked for: the answer is exact for any keys.
pub(super) fn verdicts_found(
    dialect: Dialect,
    rows: &[QueryResult],
    deliveries: &BTreeSet<String>,
) -> Result<Vec<Verdict>, StoreError> {
    let mut verdicts = Vec::new();
    for row in rows {
        let verdict = rows::verdict(dialect, row)?;
        if deliveries.contains(&verdict.delivery) {
            verdicts.push(verdict);
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
fn select_in(table: &str, columns: &[&str], key: &str, values: &[Value]) -> Vec<Query> {
    values
        .chunks(IN_LIST_KEYS_MAX)
        .map(|chunk| {
            let mut query = Query::new(&format!(
                "SELECT {} FROM {table} WHERE {key} IN ",
                columns.join(", ")
            ));
            in_list(&mut query, chunk.iter().cloned());
            query
        })
        .collect()
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
fn select_pairs(
    dialect: Dialect,
    table: &str,
    columns: &[&str],
    second: &str,
    pairs: &[(&str, &str)],
) -> Vec<Query> {
    let (hint, list_start) = match dialect {
        Dialect::MySql => (" USE INDEX (PRIMARY)", "("),
        Dialect::Sqlite => ("", "(VALUES "),
    };
    pairs
        .chunks(IN_LIST_KEYS_MAX)
        .map(|chunk| {
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
            query
        })
        .collect()
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
