//! Database errors to the domain's [`StoreError`] (STYLE §4: adapters translate, nothing of
//! sea-orm or sqlx leaks upward). The use cases retry a [`StoreError::Conflict`] from a fresh
//! load, so everything a concurrent writer can cause maps there; an unreachable database is
//! [`StoreError::Unavailable`], which makes readiness fail and the consumer back off.

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};
use wallet_domain::ports::StoreError;

/// MySQL/MariaDB error numbers that mean "a concurrent writer got there first".
mod mysql {
    /// `ER_DUP_ENTRY`: a new row's key exists already.
    pub const DUPLICATE_ENTRY: u16 = 1062;
    /// `ER_LOCK_WAIT_TIMEOUT`.
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    /// `ER_LOCK_DEADLOCK`: InnoDB rolled the transaction back.
    pub const DEADLOCK: u16 = 1213;
}

/// SQLite primary result codes (the low byte of an extended code).
mod sqlite {
    /// `SQLITE_BUSY`: another connection holds the write lock past the busy timeout.
    pub const BUSY: i64 = 5;
    /// `SQLITE_LOCKED`.
    pub const LOCKED: i64 = 6;
    /// `SQLITE_CONSTRAINT_PRIMARYKEY`.
    pub const CONSTRAINT_PRIMARY_KEY: i64 = 1555;
    /// `SQLITE_CONSTRAINT_UNIQUE`.
    pub const CONSTRAINT_UNIQUE: i64 = 2067;
}

/// Translates a sea-orm error.
pub(crate) fn translate(error: DbErr) -> StoreError {
    match &error {
        DbErr::ConnectionAcquire(_) => StoreError::Unavailable(error.to_string()),
        DbErr::Conn(RuntimeErr::SqlxError(inner))
        | DbErr::Exec(RuntimeErr::SqlxError(inner))
        | DbErr::Query(RuntimeErr::SqlxError(inner)) => translate_sqlx(inner),
        DbErr::Conn(_) => StoreError::Unavailable(error.to_string()),
        _ => StoreError::Internal(error.to_string()),
    }
}

/// [`translate`] of an error sqlx returned directly (multi-statement texts, pooled
/// connections), without a sea-orm error around it.
pub(crate) fn translate_sqlx(error: &sqlx::Error) -> StoreError {
    let message = error.to_string();
    match error {
        sqlx::Error::Database(database) => {
            if let Some(mysql) = database.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                return match mysql.number() {
                    mysql::DUPLICATE_ENTRY | mysql::LOCK_WAIT_TIMEOUT | mysql::DEADLOCK => {
                        StoreError::Conflict(message)
                    }
                    _ => StoreError::Internal(message),
                };
            }
            let code = database
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .unwrap_or_default();
            if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
                && (matches!(code & 0xff, sqlite::BUSY | sqlite::LOCKED)
                    || matches!(
                        code,
                        sqlite::CONSTRAINT_PRIMARY_KEY | sqlite::CONSTRAINT_UNIQUE
                    ))
            {
                return StoreError::Conflict(message);
            }
            StoreError::Internal(message)
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(message),
        _ => StoreError::Internal(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_exhaustion_is_unavailable() {
        let error = DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        assert!(matches!(translate(error), StoreError::Unavailable(_)));
    }

    #[test]
    fn io_failure_is_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let error = DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Io(io)));
        assert!(matches!(translate(error), StoreError::Unavailable(_)));
    }

    #[test]
    fn a_row_decoding_error_is_internal() {
        let error = DbErr::Type("not a decimal".to_owned());
        assert!(matches!(translate(error), StoreError::Internal(_)));
    }
}
