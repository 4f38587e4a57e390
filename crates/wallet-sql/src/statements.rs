//! Building statements: placeholders and bind values kept together, and the multi-row INSERT
//! and version-checked bulk UPDATE that keep a batch's round trips few and constant.
//!
//! Both backends use `?` placeholders, so one text serves both; only upserts differ.

use sea_orm::sqlx::mysql::{MySqlQueryResult, MySqlRow};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value, sqlx};
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

    /// The SQL text with every placeholder replaced by its value as a MySQL literal.
    ///
    /// Strings of printable ASCII without a quote or a backslash are quoted as they are; any
    /// other string is written as a hex literal with a character-set introducer
    /// (`_utf8mb4 X'…'`). Neither needs escaping, so both stay correct whatever the server's
    /// `sql_mode` (`NO_BACKSLASH_ESCAPES` included). Decimals are plain digits, never an
    /// exponent.
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
        use std::fmt::Write;
        let mut values = self.values.iter();
        for piece in self.sql.split('?').enumerate() {
            let (index, piece) = piece;
            if index > 0 {
                let value = values.next().ok_or_else(|| {
                    StoreError::Internal("more placeholders than values".to_owned())
                })?;
                match value {
                    // Writing to a String cannot fail.
                    Value::BigInt(Some(number)) => {
                        let _ = write!(text, "{number}");
                    }
                    Value::Decimal(Some(decimal)) => {
                        let _ = write!(text, "{decimal}");
                    }
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
                    Value::BigInt(None)
                    | Value::Decimal(None)
                    | Value::ChronoDateTime(None)
                    | Value::String(None) => text.push_str("NULL"),
                    other => {
                        return Err(StoreError::Internal(format!(
                            "no MySQL literal for {other:?}"
                        )));
                    }
                }
            }
            text.push_str(piece);
        }
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
    push_digits(text, year.unsigned_abs(), 4);
    text.push('-');
    push_digits(text, time.month(), 2);
    text.push('-');
    push_digits(text, time.day(), 2);
    text.push(' ');
    push_digits(text, time.hour(), 2);
    text.push(':');
    push_digits(text, time.minute(), 2);
    text.push(':');
    push_digits(text, time.second() + leap, 2);
    text.push('.');
    push_digits(text, nanosecond % 1_000_000_000 / 1_000, 6);
    text.push('\'');
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(text: &mut String, value: u32, width: u32) {
    let mut divisor = 10_u32.pow(width - 1);
    while divisor > 0 {
        let digit = (value / divisor % 10) as u8;
        text.push(char::from(b'0' + digit));
        divisor /= 10;
    }
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
        }
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
            self.texts.push(String::with_capacity(bytes + 2));
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
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    #[test]
    fn an_insert_is_cut_at_the_bind_limit_and_at_a_megabyte() {
        let small = |count: usize| -> Vec<Vec<Value>> {
            (0..count)
                .map(|index| vec![Value::from(index as i64)])
                .collect()
        };
        let sizes = |statements: Vec<Query>| -> Vec<usize> {
            statements.iter().map(|query| query.values.len()).collect()
        };
        assert_eq!(sizes(insert_statements("t", &["a"], small(3))), [3]);
        assert_eq!(
            sizes(insert_statements("t", &["a"], small(BIND_VALUES_MAX + 1))),
            [BIND_VALUES_MAX, 1]
        );
        let large = "x".repeat(STATEMENT_BYTES_MAX / 3);
        let rows: Vec<Vec<Value>> = (0..5).map(|_| vec![Value::from(large.as_str())]).collect();
        // Each estimated at two thirds of the limit (a string may go as hex: twice its length).
        assert_eq!(sizes(insert_statements("t", &["a"], rows)), [1, 1, 1, 1, 1]);
        assert!(insert_statements("t", &["a"], Vec::new()).is_empty());
    }

    #[test]
    fn statements_fill_texts_up_to_the_limit_in_order() {
        let mut texts = Texts::with_limit(20);
        for statement in [
            "SELECT 1",
            "SELECT 22",
            "SELECT 333",
            "SELECT 'a long one'",
            "SELECT 5",
        ] {
            texts.push(statement);
        }
        assert_eq!(
            texts.into_texts(),
            [
                "SELECT 1;\nSELECT 22;\n",
                "SELECT 333;\n",
                "SELECT 'a long one';\n",
                "SELECT 5;\n"
            ]
        );
        assert!(Texts::default().into_texts().is_empty());
    }

    #[test]
    fn mysql_literals_need_no_escaping() {
        let mut query = Query::new("INSERT INTO t VALUES ");
        query.bind_tuple([
            Value::from("investor-42"),
            Value::from("it's \\ \"quoted\" é"),
            Value::from(Decimal::from_str_exact("-0.00000001").unwrap()),
            Value::from(7_i64),
            Value::String(None),
            Value::Decimal(None),
        ]);
        assert_eq!(
            query.inline_mysql().unwrap(),
            "INSERT INTO t VALUES ('investor-42', _utf8mb4 X'69742773205C202271756F7465642220C3A9', \
             -0.00000001, 7, NULL, NULL)"
        );
    }

    #[test]
    fn time_literals_are_what_chrono_writes() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let times = [
            day.and_hms_micro_opt(0, 0, 0, 0).unwrap(),
            day.and_hms_micro_opt(9, 5, 7, 42).unwrap(),
            day.and_hms_nano_opt(23, 59, 59, 999_999_999).unwrap(),
            // A leap second.
            day.and_hms_nano_opt(23, 59, 59, 1_000_000_001).unwrap(),
            chrono::NaiveDate::from_ymd_opt(1, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            chrono::NaiveDate::from_ymd_opt(12_000, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        ];
        for time in times {
            let mut text = String::new();
            push_time_literal(&mut text, &time);
            assert_eq!(
                text,
                format!("'{}'", time.format("%Y-%m-%d %H:%M:%S%.6f")),
                "{time:?}"
            );
        }
    }

    #[test]
    fn printable_ascii_is_quoted_as_it_is_and_anything_else_as_hex() {
        let printable: String = (b' '..=b'~')
            .filter(|byte| *byte != b'\'' && *byte != b'\\')
            .map(char::from)
            .collect();
        let json = r#"{"userId":"investor-42","amount":"10.50","reason":"a; b -- c %_?"}"#;
        for plain in [printable.as_str(), json, ""] {
            let mut query = Query::new("SELECT ");
            query.bind(Value::from(plain));
            assert_eq!(query.inline_mysql().unwrap(), format!("SELECT '{plain}'"));
        }
        for escaped in [
            "it's",
            "back\\slash",
            "tab\t",
            "new\nline",
            "nul\0",
            "é",
            "\u{7f}",
        ] {
            let mut query = Query::new("SELECT ");
            query.bind(Value::from(escaped));
            let mut expected = "SELECT _utf8mb4 X'".to_owned();
            push_hex(&mut expected, escaped.as_bytes());
            expected.push('\'');
            assert_eq!(query.inline_mysql().unwrap(), expected, "{escaped:?}");
        }
    }

    /// The literal of `string` read back the way MySQL reads it: a quoted text as it is (it
    /// holds no quote and no backslash, so no `sql_mode` changes it), a hex text byte by byte.
    fn read_literal(literal: &str) -> Option<String> {
        if let Some(hex) = literal
            .strip_prefix("_utf8mb4 X'")
            .and_then(|rest| rest.strip_suffix('\''))
        {
            if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return None;
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            return String::from_utf8(bytes).ok();
        }
        let quoted = literal.strip_prefix('\'')?.strip_suffix('\'')?;
        let escapes =
            quoted.contains(['\'', '\\']) || !quoted.bytes().all(|b| (b' '..=b'~').contains(&b));
        (!escapes).then(|| quoted.to_owned())
    }

    proptest::proptest! {
        /// Whatever a client sends (idempotency keys, user ids, dead-letter details, the JSON
        /// that carries them), its literal reads back as exactly that string and never ends
        /// the quoted text early.
        #[test]
        fn every_string_reads_back_from_its_literal(
            // Printable ASCII (the quoted path, quotes and backslashes included) or anything.
            string in proptest::prop_oneof!["[ -~]*", "(\\PC|[\\x00-\\x7f])*"]
        ) {
            let mut query = Query::new("SELECT ");
            query.bind(Value::from(string.as_str()));
            let text = query.inline_mysql().unwrap();
            let literal = text.strip_prefix("SELECT ").unwrap();
            proptest::prop_assert_eq!(read_literal(literal), Some(string));
        }
    }

    #[test]
    fn hex_literals_hold_every_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut text = String::new();
        push_hex(&mut text, &bytes);
        let expected: String = bytes.iter().map(|byte| format!("{byte:02X}")).collect();
        assert_eq!(text, expected);
    }

    #[test]
    fn a_value_type_the_store_never_binds_is_refused() {
        let mut query = Query::new("SELECT ");
        query.bind(Value::Bool(Some(true)));
        assert!(query.inline_mysql().is_err());
    }
}
