//! What one batch of 500 order events costs on MariaDB: the number of round trips (asserted:
//! it must not grow with the batch) and the wall time (printed, not asserted; run with
//! `--nocapture` to see it), and a unit of work of megabytes, which is sent in several texts.

use std::time::Instant;

use chrono::Duration;
use wallet_domain::ports::{LedgerAudit, WalletStore};
use wallet_domain::unit_of_work::LoadRequest;
use wallet_domain::{Currency, EventOutcome, OrderEvent, WalletBook};
use wallet_sql::SqlStore;
use wallet_sql::test_support::TestDatabase;

use crate::support::{at, cash, event, service};

const ACCOUNTS: usize = 250;
const BATCH_EVENTS: usize = 2 * ACCOUNTS;
/// The load's reads in one text, then the commit's statements, START TRANSACTION to COMMIT, in
/// another: a bound independent of the batch size and of the tables a batch touches.
const ROUND_TRIPS_PER_BATCH_MAX: u64 = 2;

fn user_name(index: usize) -> String {
    format!("bench-{index:04}")
}

/// Opens the accounts with one unit of work, as a seed rather than as part of the measure.
async fn seed_accounts(store: &SqlStore) {
    let now = at("2026-05-01T09:00:00Z");
    let mut book = WalletBook::new(Default::default(), Currency::BRL);
    for index in 0..ACCOUNTS {
        book.deposit(&cash(&user_name(index), "100000.00"), now)
            .unwrap();
    }
    store.commit(book.into_changes()).await.unwrap();
}

/// A PENDING and a FILLED event of `side` for every account, one order each.
fn batch(side: &str, first_order: usize) -> Vec<OrderEvent> {
    (0..ACCOUNTS)
        .flat_map(|index| {
            let order = first_order + index;
            let user = user_name(index);
            ["PENDING", "FILLED"].map(|status| {
                event(&format!(
                    r#"{{"orderId":{order},"userId":"{user}","ticker":"PETR4","quantity":10,
                        "price":38.55,"executedPrice":38.4,"side":"{side}","status":"{status}"}}"#
                ))
            })
        })
        .collect()
}

async fn measure(store: &SqlStore, label: &str, events: &[OrderEvent], minutes: i64) {
    let now = at("2026-05-01T10:00:00Z") + Duration::minutes(minutes);
    let statements_before = store.statements_sent();
    let started = Instant::now();
    let outcomes = service(store)
        .apply_order_events(events, now)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let round_trips = store.statements_sent() - statements_before;
    assert_eq!(outcomes.len(), BATCH_EVENTS);
    assert!(
        outcomes
            .iter()
            .all(|outcome| *outcome == EventOutcome::Applied),
        "{outcomes:?}"
    );
    println!(
        "MariaDB, {label}: {BATCH_EVENTS} events in {} ms ({:.0} events/s), {round_trips} round trips",
        elapsed.as_millis(),
        BATCH_EVENTS as f64 / elapsed.as_secs_f64()
    );
    assert!(
        round_trips <= ROUND_TRIPS_PER_BATCH_MAX,
        "{label}: {round_trips} round trips for one batch"
    );
}

/// Batches of 500 events over 250 accounts: first buys (new holds and positions), then sells
/// (updates of existing positions), each in one load and one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_500_events_costs_a_constant_number_of_round_trips() {
    let database = TestDatabase::mysql().await;
    let store = database.store();
    seed_accounts(store).await;

    measure(
        store,
        "buys (new holds and positions)",
        &batch("BUY", 1_000_000),
        0,
    )
    .await;
    measure(
        store,
        "sells (updated positions)",
        &batch("SELL", 2_000_000),
        1,
    )
    .await;
    measure(
        store,
        "more buys (updated positions)",
        &batch("BUY", 3_000_000),
        2,
    )
    .await;

    let mut request = LoadRequest::default();
    request.users.insert(crate::support::user(&user_name(0)));
    let snapshot = store.load(&request).await.unwrap();
    // 100000 − 384 (buy) + 384 (sell) − 384 (buy).
    assert_eq!(
        snapshot.accounts[0].balance.value(),
        crate::support::decimal("99616.00")
    );
    assert_eq!(store.audit(None).await.unwrap(), vec![]);
    database.cleanup().await;
}

/// A unit of work of megabytes (60,000 first deposits: accounts, ledger entries and the outbox's
/// events, more than MariaDB's default `max_allowed_packet` of 16 MB as one text) is sent as
/// several texts within one transaction, each far below that limit, and all of it is committed.
async fn a_commit_of_megabytes_goes_as_several_texts(database: &TestDatabase) {
    const DEPOSITS: usize = 60_000;
    let store = database.store();
    let now = at("2026-05-01T09:00:00Z");
    let mut book = WalletBook::new(Default::default(), Currency::BRL);
    for index in 0..DEPOSITS {
        book.deposit(&cash(&format!("large-{index:05}"), "10.00"), now)
            .unwrap();
    }
    let before = store.statements_sent();

    store.commit(book.into_changes()).await.unwrap();

    let round_trips = store.statements_sent() - before;
    if store.backend_name() == "mysql" {
        assert!(
            (10..=40).contains(&round_trips),
            "several texts, the first with START TRANSACTION and the last with COMMIT: {round_trips}"
        );
    }
    let mut request = LoadRequest::default();
    for index in [0, DEPOSITS / 2, DEPOSITS - 1] {
        request
            .users
            .insert(crate::support::user(&format!("large-{index:05}")));
    }
    let snapshot = store.load(&request).await.unwrap();
    assert_eq!(snapshot.accounts.len(), 3);
    assert_eq!(store.audit(None).await.unwrap(), vec![]);
}
crate::on_both_backends!(a_commit_of_megabytes_goes_as_several_texts);
