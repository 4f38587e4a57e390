//! Building statements: placeholders and bind values kept together, and the multi-row INSERT
//! and version-checked bulk UPDATE that keep a batch's round trips few and constant.
//!
//! Both backends use `?` placeholders, so one text serves both; only upserts differ.

use sea_orm::sqlx::mysql::{MySqlQueryResult, MySqlRow};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value, sqlx};
use wallet_domain::decimal_text::{push_decimal, push_integer, push_padded};
use wallet_domain::ports::StoreError;

use crate::dialect::Dialect;
use crate::error::{translate, translate_sqlx};

/// Most bind values in one statement: below SQLite's limit of 32,766 and MySQL's of 65,535,
/// and small enough that a statement stays a few hundred kilobytes.
pub(crate) const BIND_VALUES_MAX: usize = 16_000;

/// About the most bytes of one INSERT's values as literals (a row larger than this goes alone):
/// the outbox's rows hold up to a thousand events' JSON each, and a unit of work of many
/// thousand events made one statement of tens of megabytes, past the server's
/// `max_allowed_packet`.
pub(crate) const STATEMENT_BYTES_MAX: usize = 1 << 20;

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
    /// Where each value's `?` is in `sql`, so that writing the values in does not search the
    /// text for them: splitting it at every `?` was a few percent of the wallet's instructions
    /// in a callgrind slice of the throughput run.
    placeholders: Vec<usize>,
}

impl Query {
    /// A query starting with `sql`.
    pub(crate) fn new(sql: &str) -> Self {
        Query {
            sql: sql.to_owned(),
            ..Query::default()
        }
    }

    /// Appends SQL text.
    pub(crate) fn sql(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.placeholders.push(self.sql.len());
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

    /// The SQL text with every placeholder replaced by its value as a MySQL literal.
    ///
    /// Strings of printable ASCII without a quote or a backslash are quoted as they are; any
    /// other string is written as a hex literal with a character-set introducer
    /// (`_utf8mb4 X'…'`). Bytes are a binary string the same way (`_binary'…'`, else
    /// `X'…'`). None needs escaping, so all stay correct whatever the server's `sql_mode`
    /// (`NO_BACKSLASH_ESCAPES` included). Decimals are plain digits, never an exponent.
    ///
    /// # Errors
    /// [`StoreError::Internal`] for a value type the store never binds.
    pub(crate) fn inline_mysql(&self) -> Result<String, StoreError> {
        let mut text = String::with_capacity(self.inline_len_estimate());
        self.write_mysql(&mut text)?;
        Ok(text)
    }

    /// About the bytes of [`Query::inline_mysql`]'s text.
    fn inline_len_estimate(&self) -> usize {
        self.sql.len() + self.values.iter().map(literal_len_estimate).sum::<usize>()
    }

    /// Appends [`Query::inline_mysql`]'s text to `text`.
    ///
    /// # Errors
    /// As [`Query::inline_mysql`]; `text` then holds part of the statement.
    pub(crate) fn write_mysql(&self, text: &mut String) -> Result<(), StoreError> {
        let mut written = 0;
        for (at, value) in self.placeholders.iter().zip(&self.values) {
            text.push_str(&self.sql[written..*at]);
            written = at + 1;
            match value {
                Value::BigInt(Some(number)) => push_integer(text, *number),
                Value::Decimal(Some(decimal)) => push_decimal(text, **decimal),
                Value::ChronoDateTime(Some(time)) => push_time_literal(text, time),
                Value::String(Some(string)) if is_plain(string) => {
                    text.push('\'');
                    text.push_str(string);
                    text.push('\'');
                }
                Value::String(Some(string)) => {
                    text.push_str("_utf8mb4 X'");
                    push_hex(text, string.as_bytes());
                    text.push('\'');
                }
                Value::Bytes(Some(bytes)) => push_binary_literal(text, bytes),
                Value::BigInt(None)
                | Value::Decimal(None)
                | Value::ChronoDateTime(None)
                | Value::String(None)
                | Value::Bytes(None) => text.push_str("NULL"),
                other => {
                    return Err(StoreError::Internal(format!(
                        "no MySQL literal for {other:?}"
                    )));
                }
            }
        }
        text.push_str(&self.sql[written..]);
        Ok(())
    }

    /// The statement for `dialect`.
    pub(crate) fn statement(self, dialect: Dialect) -> Statement {
        let dialect = match dialect {
            Dialect::MySql => DbBackend::MySql,
            Dialect::Sqlite => DbBackend::Sqlite,
        };
        Statement::from_sql_and_values(dialect, self.sql, self.values)
    }
}

/// Runs `query` and returns the number of rows it affected.
///
/// On MySQL the values are rendered into the text as literals ([`Query::inline_mysql`]) and
/// the statement goes over the text protocol: one round trip, where a prepared statement
/// takes two (PREPARE, EXECUTE) and makes the server parse a statement whose shape changes
/// with every batch anyway.
pub(crate) async fn execute<C: ConnectionTrait>(
    connection: &C,
    dialect: Dialect,
    query: Query,
) -> Result<u64, StoreError> {
    let result = match dialect {
        Dialect::MySql => connection.execute_unprepared(&query.inline_mysql()?).await,
        Dialect::Sqlite => connection.execute(query.statement(dialect)).await,
    };
    result
        .map(|result| result.rows_affected())
        .map_err(translate)
}

/// `INSERT INTO table (columns) VALUES (…), (…), …` in as few statements as the bind limit
/// allows; returns how many statements it sent.
pub(crate) async fn insert_rows<C: ConnectionTrait>(
    connection: &C,
    dialect: Dialect,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<usize, StoreError> {
    let statements = insert_statements(table, columns, rows);
    let sent = statements.len();
    for query in statements {
        execute(connection, dialect, query).await?;
    }
    Ok(sent)
}

/// The statements of [`insert_rows`].
pub(crate) fn insert_statements(
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Vec<Query> {
    let rows_per_statement = (BIND_VALUES_MAX / columns.len()).max(1);
    let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut statements: Vec<Query> = Vec::new();
    let (mut rows_in_last, mut bytes_in_last) = (0, 0);
    for row in rows {
        let bytes: usize = row.iter().map(literal_len_estimate).sum();
        let fits = rows_in_last > 0
            && rows_in_last < rows_per_statement
            && bytes_in_last + bytes <= STATEMENT_BYTES_MAX;
        match statements.last_mut() {
            Some(query) if fits => {
                query.sql(", ");
            }
            _ => {
                statements.push(Query::new(&head));
                (rows_in_last, bytes_in_last) = (0, 0);
            }
        }
        if let Some(query) = statements.last_mut() {
            query.bind_tuple(row);
        }
        rows_in_last += 1;
        bytes_in_last += bytes;
    }
    statements
}

/// About the length of `value` as a MySQL literal, so that a batch's statement text is
/// allocated once instead of growing (and being copied) many times: the outbox's JSON is
/// written as hex, twice its length.
fn literal_len_estimate(value: &Value) -> usize {
    match value {
        Value::String(Some(string)) => 2 * string.len() + 12,
        Value::Bytes(Some(bytes)) => 2 * bytes.len() + 12,
        Value::ChronoDateTime(Some(_)) => 28,
        _ => 24,
    }
}

/// Appends `bytes` as upper-case hex digits. A formatter call per byte made this a tenth of
/// the service's CPU while it wrote the outbox's JSON.
fn push_hex(text: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    text.reserve(2 * bytes.len());
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
    }
}

/// Appends `'YYYY-MM-DD HH:MM:SS.ffffff'` as chrono's `%Y-%m-%d %H:%M:%S%.6f` writes it (a
/// leap second reads as second 60), without parsing a format string per value.
fn push_time_literal(text: &mut String, time: &chrono::NaiveDateTime) {
    use chrono::{Datelike, Timelike};
    let year = time.year();
    if !(0..=9999).contains(&year) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(text, "'{}'", time.format("%Y-%m-%d %H:%M:%S%.6f"));
        return;
    }
    let nanosecond = time.nanosecond();
    let leap = u32::from(nanosecond >= 1_000_000_000);
    text.push('\'');
    push_padded(text, year.unsigned_abs(), 4);
    text.push('-');
    push_padded(text, time.month(), 2);
    text.push('-');
    push_padded(text, time.day(), 2);
    text.push(' ');
    push_padded(text, time.hour(), 2);
    text.push(':');
    push_padded(text, time.minute(), 2);
    text.push(':');
    push_padded(text, time.second() + leap, 2);
    text.push('.');
    push_padded(text, nanosecond % 1_000_000_000 / 1_000, 6);
    text.push('\'');
}

/// True for strings that can be quoted without escaping: printable ASCII without the quote and
/// the backslash, the only two characters a single-quoted literal treats specially in any
/// `sql_mode` (`ANSI_QUOTES` changes double quotes, `NO_BACKSLASH_ESCAPES` the backslash). Ids,
/// decimal and time text, and the outbox's JSON unless a value in it holds one of those two:
/// as hex the JSON was twice its length, and MariaDB parsed and converted every digit pair.
fn is_plain(string: &str) -> bool {
    string
        .bytes()
        .all(|byte| (b' '..=b'~').contains(&byte) && byte != b'\'' && byte != b'\\')
}

/// Appends `bytes` as a binary string: quoted as they are when they are plain text
/// ([`is_plain`]), as hex otherwise.
fn push_binary_literal(text: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(plain) if is_plain(plain) => {
            text.push_str("_binary'");
            text.push_str(plain);
            text.push('\'');
        }
        _ => {
            text.push_str("X'");
            push_hex(text, bytes);
            text.push('\'');
        }
    }
}

/// Most bytes of one multi-statement text before the next statement starts another. A text
/// may pass it by one statement, and the builders keep a statement under about a megabyte
/// ([`BIND_VALUES_MAX`], the outbox's events per row), so a text stays under MySQL's smallest
/// default `max_allowed_packet` (4 MB; MariaDB's is 16 MB) whatever the batch size.
pub(crate) const TEXT_BYTES_MAX: usize = 2 << 20;

/// Statements joined by `;` into as few texts as fit [`TEXT_BYTES_MAX`] each, in order: what
/// one round trip sends on MySQL.
#[derive(Debug)]
pub(crate) struct Texts {
    texts: Vec<String>,
    bytes_max: usize,
    /// The capacity of the first text (see [`Texts::sized`]).
    first_capacity: usize,
}

impl Default for Texts {
    fn default() -> Self {
        Texts::with_limit(TEXT_BYTES_MAX)
    }
}

impl Texts {
    pub(crate) fn with_limit(bytes_max: usize) -> Self {
        Texts {
            texts: Vec::new(),
            bytes_max,
            first_capacity: 0,
        }
    }

    /// Texts whose first one is allocated for about `bytes` (at most the limit), so that it
    /// does not grow by doubling, copying what was written each time.
    pub(crate) fn sized(bytes: usize) -> Self {
        let mut texts = Texts::default();
        texts.first_capacity = bytes.min(texts.bytes_max);
        texts
    }

    /// Appends `statement`.
    pub(crate) fn push(&mut self, statement: &str) {
        let text = self.text_for(statement.len());
        text.push_str(statement);
        text.push_str(";\n");
    }

    /// Appends `query` with its values as literals ([`Query::write_mysql`]), written straight
    /// into the text: no string of its own to build and copy, on the path of every batch.
    ///
    /// # Errors
    /// As [`Query::inline_mysql`].
    pub(crate) fn push_query(&mut self, query: &Query) -> Result<(), StoreError> {
        let text = self.text_for(query.inline_len_estimate());
        query.write_mysql(text)?;
        text.push_str(";\n");
        Ok(())
    }

    /// The last text, unless `bytes` more would take it past the limit: then a new one.
    fn text_for(&mut self, bytes: usize) -> &mut String {
        let fits = matches!(self.texts.last(), Some(text) if text.len() + bytes < self.bytes_max);
        if !fits {
            let capacity = (bytes + 2).max(std::mem::take(&mut self.first_capacity));
            self.texts.push(String::with_capacity(capacity));
        }
        let last = self.texts.len() - 1;
        &mut self.texts[last]
    }

    pub(crate) fn into_texts(self) -> Vec<String> {
        self.texts
    }
}

/// Sends each of `texts` on `connection` and hands `each` every result, in order: a row, or
/// the end of one statement's results (its count). Stops at the first error, the server's or
/// `each`'s.
pub(crate) async fn run_texts(
    connection: &mut sqlx::MySqlConnection,
    texts: &[String],
    mut each: impl FnMut(sqlx::Either<MySqlQueryResult, MySqlRow>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    use futures::TryStreamExt;
    for text in texts {
        let mut results = sqlx::raw_sql(text).fetch_many(&mut *connection);
        while let Some(item) = results
            .try_next()
            .await
            .map_err(|error| translate_sqlx(&error))?
        {
            each(item)?;
        }
    }
    Ok(())
}

/// `(?, ?, …)` of `count` placeholders bound to `values`, for `IN` lists.
pub(crate) fn in_list(query: &mut Query, values: impl IntoIterator<Item = Value>) {
    query.bind_tuple(values);
}

#[cfg(test)]
mod tests;
