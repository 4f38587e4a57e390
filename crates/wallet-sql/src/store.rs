//! The store handle: one connection pool, the dialect it talks to, and the operational calls
//! (connect, migrate, ping) the composition root makes.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, QueryResult, sqlx};
use wallet_domain::ports::StoreError;
use wallet_migrations::{Migrator, MigratorTrait};

use crate::dialect::Dialect;
use crate::error::{translate, translate_sqlx};
use crate::statements::{Query, Texts, run_texts};

/// Longest wait to open a connection to the database.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a free connection of the pool: past it the store is unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait of a readiness ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a SQLite writer waits for another writer's lock before reporting a conflict.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The sea-orm adapter of the wallet's store ports (`WalletStore`, `WalletReader`, `Outbox`)
/// over MySQL/MariaDB or SQLite. Cloning is cheap: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) connection: DatabaseConnection,
    pub(crate) dialect: Dialect,
    /// Statements sent, shared by clones (see [`SqlStore::statements_sent`]).
    pub(crate) statements: Arc<AtomicU64>,
}

impl SqlStore {
    /// Connects to `url` with a pool of at most `max_connections`: `mysql://user:pass@host/db`
    /// or `sqlite://path/to/file.db?mode=rwc` (the file and its directory are created when
    /// missing; SQLite runs in WAL mode with a busy timeout).
    ///
    /// # Errors
    /// [`StoreError::Internal`] for a URL of another database, [`StoreError::Unavailable`]
    /// when the database cannot be reached.
    pub async fn connect(url: &str, max_connections: u32) -> Result<SqlStore, StoreError> {
        let dialect = if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Dialect::MySql
        } else if url.starts_with("sqlite:") {
            create_sqlite_directory(url)?;
            Dialect::Sqlite
        } else {
            return Err(StoreError::Internal(
                "database URL must start with mysql:// or sqlite:".to_owned(),
            ));
        };
        let mut options = ConnectOptions::new(url.replacen("mariadb://", "mysql://", 1));
        options
            .max_connections(max_connections.max(1))
            .min_connections(0)
            .connect_timeout(CONNECT_TIMEOUT)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings every connection it takes from the pool by default: a round trip
            // before each read and each transaction (six of a batch's 23 before its reads and
            // writes were each sent as one text). A connection the server closed fails its
            // statement instead, which every caller retries or reports as unavailable, and
            // sqlx drops it then.
            .test_before_acquire(false)
            // Statement logging would format every statement of every batch.
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|sqlite| {
                sqlite
                    .journal_mode(SqliteJournalMode::Wal)
                    // A committed batch must survive a power cut: its Kafka offsets are
                    // committed right after.
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
            });
        let connection = Database::connect(options).await.map_err(translate)?;
        Ok(SqlStore {
            connection,
            dialect,
            statements: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Applies every pending migration of the schema.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached, [`StoreError::Internal`]
    /// when a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.connection, None)
            .await
            .map_err(translate)
    }

    /// Whether the wallet's schema has been created here: a dry run against a fresh database
    /// reads nothing from it, and creates nothing (not even the migrations' own table).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached.
    pub async fn has_schema(&self) -> Result<bool, StoreError> {
        let sql = match self.dialect {
            Dialect::MySql => {
                "SELECT COUNT(*) AS found FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = 'accounts'"
            }
            Dialect::Sqlite => {
                "SELECT COUNT(*) AS found FROM sqlite_master WHERE type = 'table' AND name = 'accounts'"
            }
        };
        let row = self
            .connection
            .query_one(sea_orm::Statement::from_string(
                self.connection.get_database_backend(),
                sql,
            ))
            .await
            .map_err(translate)?;
        let found: i64 = match row {
            Some(row) => crate::dialect::get(&row, "found")?,
            None => 0,
        };
        Ok(found > 0)
    }

    /// Checks that the database answers, within two seconds: the readiness probe.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match tokio::time::timeout(PING_TIMEOUT, self.connection.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(StoreError::Unavailable(error.to_string())),
            Err(_) => Err(StoreError::Unavailable(format!(
                "no answer from the database within {} ms",
                PING_TIMEOUT.as_millis()
            ))),
        }
    }

    /// `"mysql"` or `"sqlite"`, for logs and metrics.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match self.dialect {
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    ///
    /// # Errors
    /// [`StoreError::Internal`] when the pool cannot be closed cleanly.
    pub async fn close(self) -> Result<(), StoreError> {
        self.connection.close().await.map_err(translate)
    }

    /// Statements sent to the database by this store and its clones since it was connected
    /// (each a round trip, a text of several statements counting once; BEGIN and COMMIT sent
    /// on their own included): for metrics and benchmarks.
    #[must_use]
    pub fn statements_sent(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub(crate) fn count_statements(&self, statements: usize) {
        self.statements
            .fetch_add(statements as u64, Ordering::Relaxed);
    }

    /// Runs a read on the pool.
    ///
    /// On MySQL the values are inlined as literals ([`Query::inline_mysql`]) and the query
    /// goes over the text protocol, like the writes: one round trip, no server-side prepared
    /// statement for IN lists whose length changes with every batch.
    pub(crate) async fn query_all(&self, query: Query) -> Result<Vec<QueryResult>, StoreError> {
        self.count_statements(1);
        match self.dialect {
            Dialect::MySql => {
                let text = query.inline_mysql()?;
                sqlx::raw_sql(&text)
                    .fetch_all(self.connection.get_mysql_connection_pool())
                    .await
                    .map(|rows| rows.into_iter().map(QueryResult::from).collect())
                    .map_err(|error| translate_sqlx(&error))
            }
            Dialect::Sqlite => self
                .connection
                .query_all(query.statement(self.dialect))
                .await
                .map_err(translate),
        }
    }

    /// Runs several reads and returns each one's rows, in order.
    ///
    /// On MySQL they go as one text of several statements on one connection: one round trip
    /// (sqlx enables multi-statement texts; several for reads of megabytes, [`Texts`]), where
    /// a query each cost a batch's load four or five. On SQLite, which has no such text, one
    /// after the other.
    pub(crate) async fn query_each(
        &self,
        queries: Vec<Query>,
    ) -> Result<Vec<Vec<QueryResult>>, StoreError> {
        if self.dialect == Dialect::Sqlite || queries.len() < 2 {
            let mut found = Vec::with_capacity(queries.len());
            for query in queries {
                found.push(self.query_all(query).await?);
            }
            return Ok(found);
        }
        let mut texts = Texts::default();
        for query in &queries {
            texts.push_query(query)?;
        }
        let texts = texts.into_texts();
        self.count_statements(texts.len());
        let mut connection = self
            .connection
            .get_mysql_connection_pool()
            .acquire()
            .await
            .map_err(|error| translate_sqlx(&error))?;
        let mut found = Vec::with_capacity(queries.len());
        // Each statement's rows come first, then its result: the end of its set.
        let mut rows = Vec::new();
        run_texts(&mut connection, &texts, |item| {
            match item {
                sqlx::Either::Left(_) => found.push(std::mem::take(&mut rows)),
                sqlx::Either::Right(row) => rows.push(QueryResult::from(row)),
            }
            Ok(())
        })
        .await?;
        if found.len() != queries.len() {
            return Err(StoreError::Internal(format!(
                "{} reads sent in one text, {} results came back",
                queries.len(),
                found.len()
            )));
        }
        Ok(found)
    }
}

/// Creates the directory of a SQLite file URL (`sqlite://data/wallet.db?mode=rwc` →
/// `data/`), so that a fresh checkout can start with the embedded default.
fn create_sqlite_directory(url: &str) -> Result<(), StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or_default();
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    match Path::new(path).parent() {
        Some(directory) if !directory.as_os_str().is_empty() => std::fs::create_dir_all(directory)
            .map_err(|error| {
                StoreError::Internal(format!(
                    "cannot create the directory {} of the SQLite database: {error}",
                    directory.display()
                ))
            }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_of_a_relative_sqlite_file_is_created() {
        let root = std::env::temp_dir().join(format!("wallet-sql-dir-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/nested/wallet.db?mode=rwc", root.display());
        create_sqlite_directory(&url).unwrap();
        assert!(root.join("nested").is_dir());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn memory_databases_need_no_directory() {
        create_sqlite_directory("sqlite::memory:").unwrap();
    }
}
