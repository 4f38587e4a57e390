//! Shared helpers: fixtures, ids, amounts, and [`on_both_backends!`], which runs one scenario
//! on a fresh SQLite file and on a fresh MariaDB database.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use wallet_domain::ports::WalletReader;
use wallet_domain::usecases::WalletService;
use wallet_domain::{Account, CashOperation, Currency, Money, OrderEvent, Ticker, UserId};
use wallet_sql::SqlStore;

/// Runs `scenario(&SqlStore, &TestDatabase)` on SQLite and on MariaDB, as two tests named
/// `<scenario>::sqlite` and `<scenario>::mariadb`.
#[macro_export]
macro_rules! on_both_backends {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let database = wallet_sql::test_support::TestDatabase::sqlite().await;
                super::$scenario(&database).await;
                database.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                let database = wallet_sql::test_support::TestDatabase::mysql().await;
                super::$scenario(&database).await;
                database.cleanup().await;
            }
        }
    };
}

/// An order event of `shared/fixtures/order-events/`, beside the repository.
pub fn fixture(name: &str) -> OrderEvent {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/order-events")
        .join(format!("{name}.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    OrderEvent::parse(&bytes).unwrap_or_else(|error| panic!("{name}: {error:?}"))
}

/// An order event from JSON text.
pub fn event(json: &str) -> OrderEvent {
    OrderEvent::parse(json.as_bytes()).unwrap_or_else(|error| panic!("{json}: {error:?}"))
}

/// The events of the fixture story, in the order of its README.
pub fn story() -> Vec<OrderEvent> {
    [
        "pending-buy",
        "filled-buy",
        "rejected-buy",
        "pending-sell",
        "partially-filled-sell",
        "filled-sell",
    ]
    .into_iter()
    .map(fixture)
    .collect()
}

pub fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

pub fn ticker(symbol: &str) -> Ticker {
    Ticker::parse(symbol).unwrap()
}

pub fn decimal(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

pub fn service(store: &SqlStore) -> WalletService<SqlStore> {
    WalletService::new(store.clone(), Currency::BRL)
}

/// A cash operation of `amount` BRL, without an idempotency key.
pub fn cash(user_id: &str, amount: &str) -> CashOperation {
    CashOperation {
        user_id: user(user_id),
        amount: Money::parse_amount("amount", amount, Currency::BRL).unwrap(),
        idempotency_key: None,
        request_id: uuid::Uuid::new_v4(),
    }
}

/// Deposits `amount` BRL into `user_id`.
pub async fn deposit(store: &SqlStore, user_id: &str, amount: &str, now: DateTime<Utc>) -> Account {
    service(store)
        .deposit(&cash(user_id, amount), now)
        .await
        .unwrap()
}

/// The stored account of `user_id`, which must exist.
pub async fn account(store: &SqlStore, user_id: &str) -> Account {
    store
        .account(&user(user_id))
        .await
        .unwrap()
        .expect("account exists")
}

/// Every ledger entry of `user_id`, oldest first.
pub async fn ledger(store: &SqlStore, user_id: &str) -> Vec<wallet_domain::StoredLedgerEntry> {
    let mut entries = store.statement(&user(user_id), None, 1_000).await.unwrap();
    entries.reverse();
    entries
}

/// A fixed instant, so that stored times are predictable.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}
