//! The statements of a commit, each with the count it must report, and how they reach the
//! database.
//!
//! On MySQL they are gathered into one text of several statements, the transaction's START and
//! COMMIT included ([`Writes::send`]): one round trip for a batch of events (a unit of work of
//! megabytes takes a text per 2 MiB), where a round trip per statement cost a batch about
//! fourteen, each waiting for the server's thread and then the lane's to be scheduled on two
//! busy cores. The server runs a text to its end without waiting for the client, so a count
//! that must hold is checked by the server itself: each such statement is followed by a guard
//! that fails when `ROW_COUNT()` is another, and a statement that fails ends the text before
//! its COMMIT. The client reads every count too and rolls back on the first error. SQLite has
//! no such text: there each statement runs at once in the transaction and is checked then.

use sea_orm::{DatabaseTransaction, Value, sqlx};
use wallet_domain::ports::StoreError;

use crate::dialect::Dialect;
use crate::error::translate_sqlx;
use crate::statements::{
    BIND_VALUES_MAX, Query, Texts, UPDATE_ROWS_MAX, execute, insert_statements, run_texts,
};

/// The error of a statement that reported `changed` rows instead of the count it must.
type Conflict = Box<dyn FnOnce(u64) -> StoreError + Send>;

/// What a statement must report: nothing (appends, whose failure is an error of its own), or
/// exactly a count.
type Check = Option<(u64, Conflict)>;

/// Where a commit's statements go.
pub(crate) enum Writes<'a> {
    /// Run at once in `transaction` (SQLite).
    Now {
        transaction: &'a DatabaseTransaction,
        dialect: Dialect,
        statements: usize,
    },
    /// Gathered into MySQL texts, sent by [`Writes::send`]; `checks` has one entry per
    /// statement of the texts, guards and the transaction's own included.
    Script {
        texts: Texts,
        checks: Vec<Check>,
        statements: usize,
    },
}

impl<'a> Writes<'a> {
    /// Statements run at once in `transaction`.
    pub(crate) fn now(transaction: &'a DatabaseTransaction, dialect: Dialect) -> Self {
        Writes::Now {
            transaction,
            dialect,
            statements: 0,
        }
    }

    /// Statements gathered for MySQL, in a text allocated for about `bytes`.
    pub(crate) fn script(bytes: usize) -> Self {
        Writes::Script {
            texts: Texts::sized(bytes),
            checks: Vec::new(),
            statements: 0,
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Writes::Now { dialect, .. } => *dialect,
            Writes::Script { .. } => Dialect::MySql,
        }
    }

    /// Statements written so far.
    pub(crate) fn statements(&self) -> usize {
        match self {
            Writes::Now { statements, .. } => *statements,
            Writes::Script { statements, .. } => *statements,
        }
    }

    /// Writes `query`, whose count must be `check`'s when it has one.
    async fn write(&mut self, query: Query, check: Check) -> Result<(), StoreError> {
        match self {
            Writes::Now {
                transaction,
                dialect,
                statements,
            } => {
                let changed = execute(*transaction, *dialect, query).await?;
                *statements += 1;
                verify(check, changed)
            }
            Writes::Script {
                texts,
                checks,
                statements,
            } => {
                if *statements == 0 {
                    texts.push("START TRANSACTION");
                    checks.push(None);
                }
                *statements += 1;
                texts.push_query(&query)?;
                let guard = check.as_ref().map(|(expected, _)| guard(*expected));
                checks.push(check);
                if let Some(guard) = guard {
                    texts.push(&guard);
                    checks.push(None);
                }
                Ok(())
            }
        }
    }

    /// Writes `query`, whatever it reports.
    pub(crate) async fn unchecked(&mut self, query: Query) -> Result<(), StoreError> {
        self.write(query, None).await
    }

    /// Writes `query`, which must report `expected` rows; `conflict` makes the error otherwise.
    pub(crate) async fn checked(
        &mut self,
        query: Query,
        expected: u64,
        conflict: Conflict,
    ) -> Result<(), StoreError> {
        self.write(query, Some((expected, conflict))).await
    }

    /// Writes `query`, which must change each of the `rows` it names; otherwise a conflict
    /// that `describe` words from how many it did not change.
    pub(crate) async fn each_row(
        &mut self,
        query: Query,
        rows: u64,
        describe: impl FnOnce(u64) -> String + Send + 'static,
    ) -> Result<(), StoreError> {
        let conflict: Conflict =
            Box::new(move |changed| StoreError::Conflict(describe(rows - changed.min(rows))));
        self.checked(query, rows, conflict).await
    }

    /// Inserts `rows` into `table` in as few statements as the bind limit allows.
    pub(crate) async fn insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Value>>,
    ) -> Result<(), StoreError> {
        for query in insert_statements(table, columns, rows) {
            self.unchecked(query).await?;
        }
        Ok(())
    }

    /// Sends what [`Writes::script`] gathered, START TRANSACTION to COMMIT, on a connection
    /// of `pool`; returns the round trips. A guard or statement that fails ends the text before
    /// its COMMIT, and the transaction is then rolled back (or the connection closed when
    /// that fails too), so nothing of it stays behind.
    ///
    /// The transaction begins and ends inside the texts, where sqlx does not see it: had this
    /// future been dropped half-way (an HTTP client that hung up, a shutdown) and the
    /// connection gone back to the pool inside the open transaction, the next START
    /// TRANSACTION on it would commit what was left. Today sqlx closes such a connection (its
    /// check on release fails after an abandoned text), but that is its internals: the texts
    /// run on a task of their own, to COMMIT or ROLLBACK, whatever becomes of the caller.
    ///
    /// # Errors
    /// The first check that failed, or the database's error.
    pub(crate) async fn send(self, pool: &sqlx::MySqlPool) -> Result<usize, StoreError> {
        let Writes::Script {
            mut texts,
            checks,
            statements,
        } = self
        else {
            return Err(StoreError::Internal(
                "only gathered statements are sent".to_owned(),
            ));
        };
        if statements == 0 {
            return Ok(0);
        }
        texts.push("COMMIT");
        tokio::spawn(run_transaction(pool.clone(), texts.into_texts(), checks))
            .await
            .map_err(|error| StoreError::Internal(format!("the commit's task failed: {error}")))?
    }

    /// Updates `rows` of `table` where each still has its loaded version, and bumps the
    /// version, with one statement per [`UPDATE_ROWS_MAX`] rows:
    ///
    /// ```sql
    /// UPDATE t SET c = CASE WHEN k = ? THEN ? … END, …, version = version + 1
    /// WHERE (k = ? AND version = ?) OR …
    /// ```
    ///
    /// SQLite's form (MySQL's is [`Writes::upsert_versioned`]): an upsert there counts a row it
    /// inserted like one it updated, so it could not tell a gone row. A statement that matches
    /// fewer rows than it names met a concurrent writer.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a row is missing or has another version; the caller rolls
    /// back.
    pub(crate) async fn update_versioned(
        &mut self,
        table: &str,
        key_columns: &[&str],
        columns: &[&str],
        rows: Vec<VersionedRow>,
    ) -> Result<(), StoreError> {
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
            let named = chunk.len();
            let table = table.to_owned();
            self.each_row(query, named as u64, move |missing| {
                format!("{table}: {missing} of {named} rows changed since they were loaded")
            })
            .await?;
        }
        Ok(())
    }

    /// MySQL's form of [`Writes::update_versioned`]: `rows` are whole rows (every column of
    /// `columns`, the key and `version` among them) stored with their loaded version plus one,
    /// written as
    ///
    /// ```sql
    /// INSERT INTO t (k, c, …, version) VALUES (…), …
    /// ON DUPLICATE KEY UPDATE c = IF(version = VALUES(version) - 1, VALUES(c), c), …,
    ///   version = IF(version = VALUES(version) - 1, VALUES(version), version)
    /// ```
    ///
    /// Each row costs its primary-key look-up and one guard per column, where the CASE form
    /// tests every row's key in every column's CASE: for batches of 250 holds MariaDB spent a
    /// third of the CASE form's CPU on this one (`docs/benchmarks.md`). `version` comes last
    /// because MySQL assigns left to right, so every guard still sees the loaded version.
    ///
    /// The server counts 2 for a row it updated, 1 for one it left as it was (another version:
    /// the connection reports found rows) and 1 for one it inserted (a row that was gone), so
    /// anything but twice the rows is a conflict; the caller rolls back, the inserted row too.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a row is missing or has another version.
    pub(crate) async fn upsert_versioned(
        &mut self,
        table: &str,
        columns: &[&str],
        updated: &[&str],
        rows: Vec<Vec<Value>>,
    ) -> Result<(), StoreError> {
        let guard = "version = VALUES(version) - 1";
        let mut assignments: Vec<String> = updated
            .iter()
            .map(|column| format!("{column} = IF({guard}, VALUES({column}), {column})"))
            .collect();
        assignments.push(format!("version = IF({guard}, VALUES(version), version)"));
        let on_duplicate = format!(" ON DUPLICATE KEY UPDATE {}", assignments.join(", "));
        let rows_per_statement = (BIND_VALUES_MAX / columns.len()).max(1);
        for chunk in rows.chunks(rows_per_statement) {
            let mut query = Query::new(&format!(
                "INSERT INTO {table} ({}) VALUES ",
                columns.join(", ")
            ));
            for (index, row) in chunk.iter().enumerate() {
                if index > 0 {
                    query.sql(", ");
                }
                query.bind_tuple(row.iter().cloned());
            }
            query.sql(&on_duplicate);
            let expected = 2 * chunk.len() as u64;
            let named = chunk.len();
            let table = table.to_owned();
            let conflict: Conflict = Box::new(move |changes| {
                StoreError::Conflict(format!(
                    "{table}: {} of {named} rows changed since they were loaded",
                    expected.saturating_sub(changes).div_ceil(2),
                ))
            });
            self.checked(query, expected, conflict).await?;
        }
        Ok(())
    }
}

/// Runs `texts`, a transaction from START TRANSACTION to COMMIT, on a connection of `pool`,
/// `checks` holding what each statement's result must be; rolls back on the first error.
async fn run_transaction(
    pool: sqlx::MySqlPool,
    texts: Vec<String>,
    checks: Vec<Check>,
) -> Result<usize, StoreError> {
    let mut connection = pool
        .acquire()
        .await
        .map_err(|error| translate_sqlx(&error))?;
    // The COMMIT's own result comes last.
    let mut checks = checks.into_iter().chain([None]);
    let ran = run_texts(&mut connection, &texts, |item| match item {
        sqlx::Either::Left(result) => {
            let check = checks.next().ok_or_else(|| {
                StoreError::Internal("more results than statements came back".to_owned())
            })?;
            verify(check, result.rows_affected())
        }
        sqlx::Either::Right(_) => Ok(()),
    })
    .await;
    if let Err(error) = ran {
        let rollback = ["ROLLBACK".to_owned()];
        if let Err(rollback) = run_texts(&mut connection, &rollback, |_| Ok(())).await {
            // The server discards the transaction with the connection.
            tracing::warn!(error = %rollback, "rollback after a failed commit failed");
            connection.close_on_drop();
        }
        return Err(error);
    }
    if checks.next().is_some() {
        return Err(StoreError::Internal(
            "fewer results than statements came back".to_owned(),
        ));
    }
    Ok(texts.len())
}

/// A statement that fails unless the one before it reported `expected` rows: the server runs
/// a whole text without waiting for the client, so only a failing statement keeps it from
/// reaching COMMIT. The subquery yields a second row, an error (1242), exactly when the count
/// is another; MySQL and MariaDB count found rows for this connection as the client sees them.
fn guard(expected: u64) -> String {
    format!(
        "SET @wallet_guard = (SELECT 1 UNION ALL SELECT 1 FROM DUAL WHERE ROW_COUNT() <> \
         {expected})"
    )
}

/// `Ok` unless `check` expects another count than `changed`.
fn verify(check: Check, changed: u64) -> Result<(), StoreError> {
    match check {
        Some((expected, conflict)) if changed != expected => Err(conflict(changed)),
        _ => Ok(()),
    }
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

/// `k1 = ? AND k2 = ?`.
fn key_condition(query: &mut Query, key_columns: &[&str], key: &[Value]) {
    for (index, (column, value)) in key_columns.iter().zip(key).enumerate() {
        if index > 0 {
            query.sql(" AND ");
        }
        query.sql(&format!("{column} = ")).bind(value.clone());
    }
}
