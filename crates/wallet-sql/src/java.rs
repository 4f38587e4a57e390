//! Reading the Java wallet's database for `wallet import-java` (SPEC §10): its Flyway schema
//! (`accounts`, `positions`, `wallet_transactions`) as rows, untouched; the domain decides what
//! they become ([`wallet_domain::import`]). Nothing is ever written there.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, QueryResult, Statement,
};
use wallet_domain::import::{JavaAccount, JavaPosition, JavaTransaction, JavaWallet};
use wallet_domain::ports::StoreError;

use crate::dialect::get;
use crate::error::translate;

async fn rows(connection: &DatabaseConnection, sql: &str) -> Result<Vec<QueryResult>, StoreError> {
    connection
        .query_all(Statement::from_string(
            connection.get_database_backend(),
            sql,
        ))
        .await
        .map_err(translate)
}

fn time(row: &QueryResult, column: &str) -> Result<DateTime<Utc>, StoreError> {
    Ok(get::<NaiveDateTime>(row, column)?.and_utc())
}

/// Reads every account, position and transaction of the Java wallet at `url`
/// (`mysql://user:pass@host:3306/broker_wallet_db`), in one consistent snapshot.
///
/// # Errors
/// [`StoreError::Unavailable`] when the database cannot be reached, [`StoreError::Internal`]
/// when its tables are not the Java wallet's.
pub async fn read_java_wallet(url: &str) -> Result<JavaWallet, StoreError> {
    let mut options = ConnectOptions::new(url.replacen("mariadb://", "mysql://", 1));
    options.max_connections(1).sqlx_logging(false);
    let connection = Database::connect(options).await.map_err(translate)?;
    // One transaction with a consistent snapshot: balances, positions and orders of one moment.
    connection
        .execute_unprepared("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        .await
        .map_err(translate)?;
    let mut wallet = JavaWallet::default();
    for row in rows(
        &connection,
        "SELECT id, user_id, balance, blocked_balance, currency, created_at FROM accounts ORDER BY id",
    )
    .await?
    {
        wallet.accounts.push(JavaAccount {
            id: get(&row, "id")?,
            user_id: get(&row, "user_id")?,
            balance: get::<Decimal>(&row, "balance")?,
            blocked_balance: get::<Decimal>(&row, "blocked_balance")?,
            currency: get::<Option<String>>(&row, "currency")?.unwrap_or_default(),
            created_at: time(&row, "created_at")?,
        });
    }
    for row in rows(
        &connection,
        "SELECT account_id, ticker, quantity, average_price FROM positions ORDER BY id",
    )
    .await?
    {
        wallet.positions.push(JavaPosition {
            account_id: get(&row, "account_id")?,
            ticker: get(&row, "ticker")?,
            quantity: get::<Decimal>(&row, "quantity")?,
            average_price: get::<Decimal>(&row, "average_price")?,
        });
    }
    for row in rows(
        &connection,
        "SELECT user_id, order_id, CAST(transaction_type AS CHAR) AS transaction_type, amount \
         FROM wallet_transactions ORDER BY id",
    )
    .await?
    {
        wallet.transactions.push(JavaTransaction {
            user_id: get(&row, "user_id")?,
            order_id: get(&row, "order_id")?,
            transaction_type: get(&row, "transaction_type")?,
            amount: get::<Decimal>(&row, "amount")?,
        });
    }
    connection
        .execute_unprepared("COMMIT")
        .await
        .map_err(translate)?;
    Ok(wallet)
}
