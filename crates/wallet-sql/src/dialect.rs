//! How values cross the database boundary, in one place so that the exact-decimal rule (SPEC §3
//! "Amounts": exact decimal end to end, on every dialect) cannot be broken by one query.
//!
//! MySQL stores amounts as `DECIMAL(28,10)` and exchanges them with `rust_decimal` as decimal
//! text on the wire. SQLite has no exact decimal type (NUMERIC affinity would turn `0.1` into a
//! float), so amounts are stored there as canonical decimal TEXT (`Decimal::normalize`), which
//! is also what the SQLite CHECK constraints assume. Instants are `DATETIME(6)` in UTC on MySQL
//! and fixed-width RFC 3339 text with microseconds on SQLite, where text order must be time
//! order for `balance_at` and the sweeper; both keep microseconds.

use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{QueryResult, TryGetable, Value};
use wallet_domain::ports::StoreError;

/// The database a [`crate::SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// MySQL 8 or MariaDB ≥ 10.6.
    MySql,
    /// SQLite (bundled).
    Sqlite,
}

/// Text format of instants on SQLite: fixed width, so that text order is time order.
const SQLITE_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// The earliest and the latest instant every dialect stores. Parsed once: every instant
/// written is clamped to them, and parsing both for each one was 3 % of the wallet's
/// instructions in a callgrind slice of the throughput run.
fn time_bounds() -> (DateTime<Utc>, DateTime<Utc>) {
    static BOUNDS: LazyLock<(DateTime<Utc>, DateTime<Utc>)> = LazyLock::new(|| {
        let parse = |text, fallback| {
            DateTime::parse_from_rfc3339(text)
                .map(|at| at.to_utc())
                .unwrap_or(fallback)
        };
        (
            parse("1000-01-01T00:00:00Z", DateTime::<Utc>::MIN_UTC),
            parse("9999-12-31T23:59:59.999999Z", DateTime::<Utc>::MAX_UTC),
        )
    });
    *BOUNDS
}

impl Dialect {
    /// An amount as a bind value.
    pub(crate) fn decimal(self, value: Decimal) -> Value {
        let value = value.normalize();
        match self {
            Dialect::MySql => Value::from(value),
            Dialect::Sqlite => Value::from(value.to_string()),
        }
    }

    /// A long text (the outbox's JSON), given as its UTF-8 bytes, as a bind value: on MySQL a
    /// binary string, which the server stores into the text column after one check of its
    /// bytes. MariaDB went over a utf8mb4 literal's characters several times while parsing it
    /// (the lexer, the literal's item, its name): an outbox row's JSON cost it 30–40 % more
    /// CPU that way (`docs/benchmarks.md`).
    ///
    /// `text` is UTF-8 (JSON from serde_json); on SQLite, where it goes as text, bytes that were
    /// not would be replaced rather than stored.
    pub(crate) fn long_text(self, text: Vec<u8>) -> Value {
        match self {
            Dialect::MySql => Value::from(text),
            Dialect::Sqlite => Value::from(
                String::from_utf8(text)
                    .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned()),
            ),
        }
    }

    /// An optional amount as a bind value.
    pub(crate) fn optional_decimal(self, value: Option<Decimal>) -> Value {
        match (self, value) {
            (_, Some(value)) => self.decimal(value),
            (Dialect::MySql, None) => Value::Decimal(None),
            (Dialect::Sqlite, None) => Value::String(None),
        }
    }

    /// An instant as a bind value, moved into the years 1000–9999 that every dialect can
    /// compare: below MySQL's `DATETIME` range or past four-digit years (where SQLite's text
    /// order breaks, `+10000-…` sorting before `2026-…`), an instant would compare wrongly.
    /// Nothing is stored outside that range, so a bound moved to its edge selects the same
    /// rows.
    pub(crate) fn time(self, value: DateTime<Utc>) -> Value {
        let (earliest, latest) = time_bounds();
        let value = value.clamp(earliest, latest);
        match self {
            Dialect::MySql => Value::from(value.naive_utc()),
            Dialect::Sqlite => Value::from(value.format(SQLITE_TIME_FORMAT).to_string()),
        }
    }

    /// An optional instant as a bind value (see [`Dialect::time`]).
    pub(crate) fn optional_time(self, value: Option<DateTime<Utc>>) -> Value {
        match (self, value) {
            (_, Some(value)) => self.time(value),
            (Dialect::MySql, None) => Value::ChronoDateTime(None),
            (Dialect::Sqlite, None) => Value::String(None),
        }
    }

    /// The nullable instant in column `column` of `row`.
    pub(crate) fn get_optional_time(
        self,
        row: &QueryResult,
        column: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let present = match self {
            Dialect::MySql => get::<Option<NaiveDateTime>>(row, column)?.is_some(),
            Dialect::Sqlite => get::<Option<String>>(row, column)?.is_some(),
        };
        if present {
            self.get_time(row, column).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The amount in column `column` of `row`.
    pub(crate) fn get_decimal(
        self,
        row: &QueryResult,
        column: &str,
    ) -> Result<Decimal, StoreError> {
        self.get_optional_decimal(row, column)?
            .ok_or_else(|| StoreError::Internal(format!("column {column} is NULL")))
    }

    /// The nullable amount in column `column` of `row`.
    pub(crate) fn get_optional_decimal(
        self,
        row: &QueryResult,
        column: &str,
    ) -> Result<Option<Decimal>, StoreError> {
        let value = match self {
            Dialect::MySql => get::<Option<Decimal>>(row, column)?,
            Dialect::Sqlite => match get::<Option<String>>(row, column)? {
                Some(text) => Some(Decimal::from_str_exact(&text).map_err(|error| {
                    StoreError::Internal(format!(
                        "column {column}: `{text}` is not a decimal: {error}"
                    ))
                })?),
                None => None,
            },
        };
        Ok(value.map(|value| value.normalize()))
    }

    /// The instant in column `column` of `row`.
    pub(crate) fn get_time(
        self,
        row: &QueryResult,
        column: &str,
    ) -> Result<DateTime<Utc>, StoreError> {
        match self {
            Dialect::MySql => Ok(get::<NaiveDateTime>(row, column)?.and_utc()),
            Dialect::Sqlite => {
                let text = get::<String>(row, column)?;
                NaiveDateTime::parse_from_str(&text, SQLITE_TIME_FORMAT)
                    .map(|time| time.and_utc())
                    .map_err(|error| {
                        StoreError::Internal(format!(
                            "column {column}: `{text}` is not a time: {error}"
                        ))
                    })
            }
        }
    }
}

/// Column `column` of `row` as `T`.
pub(crate) fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, StoreError> {
    row.try_get::<T>("", column)
        .map_err(|error| StoreError::Internal(format!("column {column}: {error}")))
}

/// Parses a stored name (status, side, entry type …) with the domain's `FromStr`.
pub(crate) fn parse_name<T>(row: &QueryResult, column: &str) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let text = get::<String>(row, column)?;
    text.parse()
        .map_err(|error| StoreError::Internal(format!("column {column}: {error}")))
}

/// Maps a domain parse failure of stored data to [`StoreError::Internal`].
pub(crate) fn corrupt(column: &str) -> impl FnOnce(String) -> StoreError + '_ {
    move |error| StoreError::Internal(format!("column {column}: {error}"))
}
