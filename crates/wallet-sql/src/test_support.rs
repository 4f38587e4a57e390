//! Test helpers for this crate and the others (`features = ["test-support"]`, from
//! dev-dependencies only): each test gets its own freshly migrated database, so tests run in
//! parallel (STYLE §7).
//!
//! MariaDB databases are named `wallet_test_<uuid>` on the server of
//! `WALLET_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`). A server that cannot be
//! reached fails the test with a message naming the URL: tests never skip silently.
//!
//! Call [`TestDatabase::cleanup`] at the end of a test. If a test panics before, `Drop` still
//! removes the database: dropping it needs a connection and async code, which `Drop` cannot
//! await, so it runs on a short-lived thread with its own runtime (blocking the caller briefly,
//! which is acceptable in a test and works from inside a Tokio runtime as well).

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use wallet_domain::ports::StoreError;

use crate::SqlStore;
use crate::error::translate;

/// Environment variable naming the MariaDB/MySQL server of the tests (without a database).
pub const MYSQL_URL_ENV: &str = "WALLET_TEST_MYSQL_URL";
/// The server used when [`MYSQL_URL_ENV`] is not set.
pub const MYSQL_URL_DEFAULT: &str = "mysql://root@127.0.0.1:3306";
/// Pool size of a test store: enough for the concurrency tests.
const TEST_POOL_CONNECTIONS: u32 = 20;

/// What to remove when the test is done.
#[derive(Debug)]
enum Scratch {
    MySql {
        server_url: String,
        database: String,
    },
    Sqlite {
        directory: PathBuf,
    },
}

/// A fresh, migrated database and a [`SqlStore`] on it, removed by [`TestDatabase::cleanup`]
/// (or, failing that, on drop).
#[derive(Debug)]
pub struct TestDatabase {
    store: SqlStore,
    url: String,
    scratch: Option<Scratch>,
}

/// The MariaDB/MySQL server URL of the tests.
#[must_use]
pub fn mysql_server_url() -> String {
    std::env::var(MYSQL_URL_ENV)
        .unwrap_or_else(|_| MYSQL_URL_DEFAULT.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

impl TestDatabase {
    /// Creates `wallet_test_<uuid>` on the test server and migrates it.
    ///
    /// # Panics
    /// When the server cannot be reached or the database cannot be created or migrated: a
    /// test that needs MariaDB fails rather than skips.
    pub async fn mysql() -> TestDatabase {
        let server_url = mysql_server_url();
        let database = format!("wallet_test_{}", uuid::Uuid::new_v4().simple());
        let server = Database::connect(server_url.as_str())
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "MariaDB/MySQL at {server_url} is unreachable ({error}); start it or set \
                 {MYSQL_URL_ENV}"
                )
            });
        server
            .execute_unprepared(&format!(
                "CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            ))
            .await
            .unwrap_or_else(|error| panic!("cannot create database {database}: {error}"));
        let _ = server.close().await;
        let url = format!("{server_url}/{database}");
        let scratch = Scratch::MySql {
            server_url,
            database,
        };
        Self::open(url, scratch).await
    }

    /// Creates a SQLite file in a new temporary directory and migrates it.
    ///
    /// # Panics
    /// When the file cannot be created or migrated.
    pub async fn sqlite() -> TestDatabase {
        let directory =
            std::env::temp_dir().join(format!("wallet-sql-test-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}/wallet.db?mode=rwc", directory.display());
        Self::open(url, Scratch::Sqlite { directory }).await
    }

    async fn open(url: String, scratch: Scratch) -> TestDatabase {
        // Built before connecting, so that a failure below still removes the scratch.
        let mut database = TestDatabase {
            store: SqlStore::connect(&url, TEST_POOL_CONNECTIONS)
                .await
                .unwrap_or_else(|error| panic!("cannot connect to {url}: {error}")),
            url,
            scratch: Some(scratch),
        };
        if let Err(error) = database.store.migrate().await {
            database.remove_blocking();
            panic!("cannot migrate {}: {error}", database.url);
        }
        database
    }

    /// The store on the database.
    #[must_use]
    pub fn store(&self) -> &SqlStore {
        &self.store
    }

    /// The database URL, for components that connect themselves (the app, the relay).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs SQL behind the store's back (e.g. to tamper with a balance); returns the rows
    /// affected.
    ///
    /// # Errors
    /// The translated database error.
    pub async fn execute_sql(&self, sql: &str) -> Result<u64, StoreError> {
        self.store
            .connection
            .execute_unprepared(sql)
            .await
            .map(|result| result.rows_affected())
            .map_err(translate)
    }

    /// Closes the store and removes the database.
    ///
    /// # Panics
    /// When the database cannot be removed.
    pub async fn cleanup(mut self) {
        let _ = self.store.connection.clone().close().await;
        match self.scratch.take() {
            Some(Scratch::MySql {
                server_url,
                database,
            }) => drop_mysql_database(&server_url, &database)
                .await
                .unwrap_or_else(|error| panic!("cannot drop database {database}: {error}")),
            Some(Scratch::Sqlite { directory }) => remove_directory(&directory),
            None => {}
        }
    }

    /// Removes the scratch without an async context (see the module documentation).
    fn remove_blocking(&mut self) {
        match self.scratch.take() {
            Some(Scratch::MySql {
                server_url,
                database,
            }) => {
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|error| error.to_string())?;
                    runtime.block_on(drop_mysql_database(&server_url, &database))
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("test database was not dropped: {dropped:?}");
                }
            }
            Some(Scratch::Sqlite { directory }) => remove_directory(&directory),
            None => {}
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.remove_blocking();
    }
}

async fn drop_mysql_database(server_url: &str, database: &str) -> Result<(), String> {
    let server = Database::connect(server_url)
        .await
        .map_err(|error| error.to_string())?;
    let dropped = server
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {database}"))
        .await
        .map(|_| ())
        .map_err(|error| error.to_string());
    let _ = server.close().await;
    dropped
}

fn remove_directory(directory: &PathBuf) {
    if let Err(error) = std::fs::remove_dir_all(directory) {
        eprintln!("cannot remove {}: {error}", directory.display());
    }
}
