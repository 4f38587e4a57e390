//! Migrations run from code, and again without effect.

use wallet_domain::ports::WalletReader;
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::user;

/// A migrated database migrates again as a no-op, and every table answers.
async fn migrations_are_idempotent_and_create_every_table(database: &TestDatabase) {
    database.store().migrate().await.unwrap();
    for table in [
        "accounts",
        "positions",
        "holds",
        "ledger_entries",
        "outbox",
        "idempotency_keys",
        "last_trades",
        "settlement_obligations",
    ] {
        database
            .execute_sql(&format!("DELETE FROM {table} WHERE 1 = 0"))
            .await
            .unwrap_or_else(|error| panic!("{table}: {error}"));
    }
    database.store().ping().await.unwrap();
    assert_eq!(
        database.store().account(&user("nobody")).await.unwrap(),
        None
    );
}
on_both_backends!(migrations_are_idempotent_and_create_every_table);

/// CHECK constraints refuse a negative balance behind the store's back.
async fn check_constraints_refuse_a_negative_balance(database: &TestDatabase) {
    let inserted = database
        .execute_sql(
            "INSERT INTO accounts (user_id, currency, balance, blocked_balance, version, \
             created_at, updated_at) VALUES ('negative', 'BRL', '-1', '0', 1, \
             '2026-05-01 00:00:00', '2026-05-01 00:00:00')",
        )
        .await;
    let error = inserted.unwrap_err().to_string().to_ascii_lowercase();
    assert!(
        error.contains("constraint") && error.contains("balance"),
        "{error}"
    );
}
on_both_backends!(check_constraints_refuse_a_negative_balance);

/// A test database that is dropped without `cleanup` (a panicking test) is still removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_database_dropped_without_cleanup_is_removed() {
    let database = TestDatabase::mysql().await;
    let url = database.url().to_owned();
    wallet_sql::SqlStore::connect(&url, 1).await.unwrap();
    drop(database);
    let gone = wallet_sql::SqlStore::connect(&url, 1).await;
    assert!(gone.is_err(), "{url} still exists");

    let database = TestDatabase::sqlite().await;
    let file = database
        .url()
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert!(std::path::Path::new(&file).exists());
    drop(database);
    assert!(!std::path::Path::new(&file).exists(), "{file} still exists");
}
