//! Fresh, migrated MariaDB databases and the state a run starts from (accounts with their
//! deposits, positions), written by multi-row INSERTs in SQL: seeding 10,000 accounts over HTTP
//! would take longer than the measurement itself and is not what is measured.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use wallet_e2e::database::Database;
use wallet_migrations::{Migrator, MigratorTrait};

/// Rows per seeding INSERT: a few hundred kilobytes of SQL text.
const SEED_ROWS_PER_STATEMENT: usize = 1_000;

/// A database of its own (dropped with this value) and a connection to it.
#[derive(Debug)]
pub struct BenchDatabase {
    /// The database; dropping it drops the MariaDB database.
    pub database: Database,
    /// One connection (a pool of one) for seeding, counting and the raw-SQL run.
    pub connection: DatabaseConnection,
}

/// A pool of one connection to `url`.
async fn connect_one(url: &str) -> Result<DatabaseConnection, String> {
    let mut options = sea_orm::ConnectOptions::new(url);
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    sea_orm::Database::connect(options)
        .await
        .map_err(|error| format!("connect to {url}: {error}"))
}

impl BenchDatabase {
    /// Creates `wallet_e2e_<uuid>` and applies every migration of the wallet's schema.
    ///
    /// # Errors
    /// A message when MariaDB cannot be reached or a migration fails.
    pub async fn create() -> Result<BenchDatabase, String> {
        let database = Database::create();
        let connection = connect_one(&database.url()).await?;
        Migrator::up(&connection, None)
            .await
            .map_err(|error| format!("migrate: {error}"))?;
        Ok(BenchDatabase {
            database,
            connection,
        })
    }

    /// Another connection to the database (a pool of one), for a concurrent writer.
    ///
    /// # Errors
    /// A message when MariaDB cannot be reached.
    pub async fn connect(&self) -> Result<DatabaseConnection, String> {
        connect_one(&self.database.url()).await
    }

    /// The URL the wallet connects with.
    #[must_use]
    pub fn url(&self) -> String {
        self.database.url()
    }

    /// Runs one SQL statement given as text.
    ///
    /// # Errors
    /// The database's message.
    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        self.connection
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|error| format!("{error} in `{}…`", &sql[..sql.len().min(120)]))
    }

    /// `SELECT COUNT(*) FROM table`.
    ///
    /// # Errors
    /// The database's message.
    pub async fn count(&self, table: &str) -> Result<u64, String> {
        self.scalar(table, &format!("SELECT COUNT(*) AS n FROM {table}"))
            .await
    }

    /// `SELECT SUM(column) FROM table`, 0 for no rows.
    ///
    /// # Errors
    /// The database's message.
    pub async fn sum(&self, table: &str, column: &str) -> Result<u64, String> {
        let sql = format!("SELECT CAST(COALESCE(SUM({column}), 0) AS SIGNED) AS n FROM {table}");
        self.scalar(table, &sql).await
    }

    /// The count `n` that `sql` selects from `table`.
    async fn scalar(&self, table: &str, sql: &str) -> Result<u64, String> {
        let row = self
            .connection
            .query_one(sea_orm::Statement::from_string(
                sea_orm::DbBackend::MySql,
                sql.to_owned(),
            ))
            .await
            .map_err(|error| format!("count {table}: {error}"))?
            .ok_or("COUNT returned no row")?;
        let count: i64 = row
            .try_get("", "n")
            .map_err(|error| format!("count {table}: {error}"))?;
        u64::try_from(count).map_err(|error| error.to_string())
    }

    /// Opens each account of `deposits` (user, amount) with its DEPOSIT ledger entry, as the
    /// deposit endpoint would have left it.
    ///
    /// # Errors
    /// The database's message.
    pub async fn deposit(&self, deposits: &[(String, String)]) -> Result<(), String> {
        let now = sql_now();
        for chunk in deposits.chunks(SEED_ROWS_PER_STATEMENT) {
            let accounts: Vec<String> = chunk
                .iter()
                .map(|(user, amount)| format!("('{user}','BRL',{amount},0,{amount},1,{now},{now})"))
                .collect();
            self.execute(&format!(
                "INSERT INTO accounts (user_id, currency, balance, blocked_balance, \
                 settled_balance, version, created_at, updated_at) VALUES {}",
                accounts.join(",")
            ))
            .await?;
            let entries: Vec<String> = chunk
                .iter()
                .map(|(user, amount)| {
                    format!(
                        "('{user}','DEPOSIT',NULL,'deposit:bench:{user}',{amount},0,{amount},\
                         NULL,0,0,{amount},0,{amount},{now})"
                    )
                })
                .collect();
            self.execute(&format!(
                "INSERT INTO ledger_entries (user_id, entry_type, order_id, step_key, \
                 cash_amount, blocked_amount, settled_amount, ticker, quantity, \
                 blocked_quantity, balance_after, blocked_balance_after, settled_balance_after, \
                 occurred_at) VALUES {}",
                entries.join(",")
            ))
            .await?;
        }
        Ok(())
    }

    /// Gives each of `users` a position of `quantity` shares at `average_price` in each ticker.
    ///
    /// # Errors
    /// The database's message.
    pub async fn positions(
        &self,
        users: &[String],
        tickers: &[&str],
        quantity: &str,
        average_price: &str,
    ) -> Result<(), String> {
        let now = sql_now();
        let rows: Vec<String> = users
            .iter()
            .flat_map(|user| {
                let now = &now;
                tickers.iter().map(move |ticker| {
                    format!("('{user}','{ticker}',{quantity},0,{average_price},0,1,{now})")
                })
            })
            .collect();
        for chunk in rows.chunks(SEED_ROWS_PER_STATEMENT) {
            self.execute(&format!(
                "INSERT INTO positions (user_id, ticker, quantity, blocked_quantity, \
                 average_price, realized_pnl, version, updated_at) VALUES {}",
                chunk.join(",")
            ))
            .await?;
        }
        Ok(())
    }
}

/// The current UTC time as a MariaDB `DATETIME(6)` literal.
#[must_use]
pub fn sql_now() -> String {
    format!("'{}'", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f"))
}
