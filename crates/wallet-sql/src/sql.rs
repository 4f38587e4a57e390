//! Building statements: placeholders and bind values kept together, and the multi-row INSERT
//! and version-checked bulk UPDATE that keep a batch's round trips few and constant.
//!
//! Both backends use `?` placeholders, so one text serves both; only upserts differ.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use wallet_domain::ports::StoreError;

use crate::codec::Backend;
use crate::error::translate;

/// Most bind values in one statement: below SQLite's limit of 32,766 and MySQL's of 65,535,
/// and small enough that a statement stays a few hundred kilobytes.
pub(crate) const BIND_VALUES_MAX: usize = 16_000;

/// Most keys in one `IN (…)` list of a read.
pub(crate) const IN_LIST_KEYS_MAX: usize = 500;

/// Most rows in one version-checked bulk UPDATE. Each row's CASE arm is tested against every
/// row the statement touches, so the cost grows with the square of this number.
pub(crate) const UPDATE_ROWS_MAX: usize = 250;

/// SQL text with its bind values.
#[derive(Debug, Default)]
pub(crate) struct Query {
    sql: String,
    values: Vec<Value>,
}

impl Query {
    /// A query starting with `sql`.
    pub(crate) fn new(sql: &str) -> Self {
        Query {
            sql: sql.to_owned(),
            values: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub(crate) fn sql(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.sql.push('?');
        self.values.push(value.into());
        self
    }

    /// Appends `(?, ?, …)` bound to `values`.
    pub(crate) fn bind_tuple(&mut self, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.sql.push('(');
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.sql.push_str(", ");
            }
            self.bind(value);
        }
        self.sql.push(')');
        self
    }

    /// The statement for `backend`.
    pub(crate) fn statement(self, backend: Backend) -> Statement {
        let backend = match backend {
            Backend::MySql => DbBackend::MySql,
            Backend::Sqlite => DbBackend::Sqlite,
        };
        Statement::from_sql_and_values(backend, self.sql, self.values)
    }
}

/// Runs `query` and returns the number of rows it affected.
pub(crate) async fn execute<C: ConnectionTrait>(
    connection: &C,
    backend: Backend,
    query: Query,
) -> Result<u64, StoreError> {
    connection
        .execute(query.statement(backend))
        .await
        .map(|result| result.rows_affected())
        .map_err(translate)
}

/// `INSERT INTO table (columns) VALUES (…), (…), …` in as few statements as the bind limit
/// allows; returns how many statements it sent.
pub(crate) async fn insert_rows<C: ConnectionTrait>(
    connection: &C,
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<usize, StoreError> {
    let rows_per_statement = (BIND_VALUES_MAX / columns.len()).max(1);
    let mut statements = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut query = Query::new(&format!(
            "INSERT INTO {table} ({}) VALUES ",
            columns.join(", ")
        ));
        for (index, row) in rows.by_ref().take(rows_per_statement).enumerate() {
            if index > 0 {
                query.sql(", ");
            }
            query.bind_tuple(row);
        }
        execute(connection, backend, query).await?;
        statements += 1;
    }
    Ok(statements)
}

/// One row of a version-checked bulk UPDATE.
#[derive(Debug)]
pub(crate) struct VersionedRow {
    /// Values of the key columns.
    pub key: Vec<Value>,
    /// The version the row was loaded with; the update applies only if it is still stored.
    pub loaded_version: i64,
    /// New values of the updated columns.
    pub values: Vec<Value>,
}

/// Updates `rows` of `table` where each still has its loaded version, and bumps the version,
/// with one statement per [`UPDATE_ROWS_MAX`] rows:
///
/// ```sql
/// UPDATE t SET c = CASE WHEN k = ? THEN ? … END, …, version = version + 1
/// WHERE (k = ? AND version = ?) OR …
/// ```
///
/// MySQL's `INSERT … ON DUPLICATE KEY UPDATE` cannot check a version, hence the CASE form.
/// A statement that matches fewer rows than it names met a concurrent writer.
///
/// # Errors
/// [`StoreError::Conflict`] when a row is missing or has another version; the caller rolls back.
pub(crate) async fn update_versioned<C: ConnectionTrait>(
    connection: &C,
    backend: Backend,
    table: &str,
    key_columns: &[&str],
    columns: &[&str],
    rows: Vec<VersionedRow>,
) -> Result<usize, StoreError> {
    let mut statements = 0;
    for chunk in rows.chunks(UPDATE_ROWS_MAX) {
        let mut query = Query::new(&format!("UPDATE {table} SET "));
        for (column_index, column) in columns.iter().enumerate() {
            query.sql(&format!("{column} = CASE"));
            for row in chunk {
                query.sql(" WHEN ");
                key_condition(&mut query, key_columns, &row.key);
                query.sql(" THEN ").bind(row.values[column_index].clone());
            }
            query.sql(" END, ");
        }
        query.sql("version = version + 1 WHERE ");
        for (index, row) in chunk.iter().enumerate() {
            if index > 0 {
                query.sql(" OR ");
            }
            query.sql("(");
            key_condition(&mut query, key_columns, &row.key);
            query
                .sql(" AND version = ")
                .bind(row.loaded_version)
                .sql(")");
        }
        let matched = execute(connection, backend, query).await?;
        statements += 1;
        if matched != chunk.len() as u64 {
            return Err(StoreError::Conflict(format!(
                "{table}: {} of {} rows changed since they were loaded",
                chunk.len() as u64 - matched.min(chunk.len() as u64),
                chunk.len()
            )));
        }
    }
    Ok(statements)
}

/// `k1 = ? AND k2 = ?`.
fn key_condition(query: &mut Query, key_columns: &[&str], key: &[Value]) {
    for (index, (column, value)) in key_columns.iter().zip(key).enumerate() {
        if index > 0 {
            query.sql(" AND ");
        }
        query.sql(&format!("{column} = ")).bind(value.clone());
    }
}

/// `(?, ?, …)` of `count` placeholders bound to `values`, for `IN` lists.
pub(crate) fn in_list(query: &mut Query, values: impl IntoIterator<Item = Value>) {
    query.bind_tuple(values);
}
