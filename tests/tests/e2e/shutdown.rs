//! SIGTERM (SPEC §6): stop consuming, finish and commit the batch in flight, drain HTTP, exit 0
//! — every time, within `server.shutdown_timeout_seconds`. A close of the Kafka consumer that
//! never finished used to keep the process alive after "stopped"; the soak scenarios run many
//! start → traffic → SIGTERM rounds on the embedded default and against a separate broker.

use std::time::{Duration, Instant};

use wallet_e2e::database::Database;
use wallet_e2e::eventually;
use wallet_e2e::kafka;
use wallet_e2e::wallet::Wallet;
use wallet_e2e::workload;

use crate::{
    DRAIN_TIMEOUT, INPUT, assert_audit_passes, ledger_rows, settings, start_broker, tail,
    wait_for_expected,
};

/// Longest a stop may take: the service's own deadline (30 s) and a margin for a loaded
/// machine. A process still alive then is killed and the scenario fails.
const EXIT_DEADLINE: Duration = Duration::from_secs(45);

/// Sends SIGTERM and asserts the process exits 0 before [`EXIT_DEADLINE`].
fn terminate(wallet: &mut Wallet, round: usize) -> Duration {
    let started = Instant::now();
    wallet.signal("TERM");
    let exit = wallet.wait_exit_within(EXIT_DEADLINE);
    assert_eq!(
        exit,
        Ok(Some(0)),
        "round {round}: SIGTERM must exit 0 within {EXIT_DEADLINE:?}:\n{}",
        tail(&wallet.log())
    );
    started.elapsed()
}

/// HTTP traffic of every kind the API serves, for one account.
async fn traffic(wallet: &Wallet, user: &str) {
    for _ in 0..20 {
        assert_eq!(
            wallet
                .post(&format!("/api/v1/wallet/{user}/deposit?amount=10.00"))
                .await
                .0,
            200
        );
        assert_eq!(
            wallet
                .get(&format!("/api/v1/wallet/{user}/summary"))
                .await
                .0,
            200
        );
        assert_eq!(
            wallet
                .post(&format!("/api/v1/wallet/{user}/withdraw?amount=1.00"))
                .await
                .0,
            200
        );
        assert_eq!(
            wallet
                .get(&format!("/api/v1/wallet/{user}/transactions"))
                .await
                .0,
            200
        );
        assert_eq!(wallet.get("/metrics").await.0, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_stream_exits_zero_and_commits_what_it_applied() {
    let database = Database::create();
    let broker = start_broker();
    let day = workload::generate_day(23, 200, 5_000, 7_000_000);
    let mut wallet = Wallet::start(&settings(database.url(), broker.bootstrap()));
    wallet.wait_ready(Duration::from_secs(60)).await;
    workload::deposit_all(&wallet, &day).await;
    let deposits = ledger_rows(&database);
    kafka::produce(&kafka::producer(&broker.bootstrap()), INPUT, &day.events).await;

    eventually("part of the stream applied", DRAIN_TIMEOUT, || async {
        ledger_rows(&database) > deposits + 200
    })
    .await;
    let took = terminate(&mut wallet, 0);
    assert!(took < Duration::from_secs(30), "shutdown took {took:?}");

    wallet.restart();
    wallet.wait_ready(Duration::from_secs(60)).await;
    wait_for_expected(&wallet, &day).await;
    assert_audit_passes(&wallet);
}

/// The embedded default (SQLite, in-process broker), as `make run` starts it: every round
/// starts, serves, stops and exits 0 in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_sigterm_on_the_embedded_default_always_exits_zero_in_time() {
    let mut wallet = Wallet::start(&[]);
    for round in 1..=8 {
        if round > 1 {
            wallet.restart();
        }
        wallet.wait_ready(Duration::from_secs(60)).await;
        traffic(&wallet, &format!("soak-{round}")).await;
        terminate(&mut wallet, round);
    }
    // Every round's money is still there after the last restart.
    wallet.restart();
    wallet.wait_ready(Duration::from_secs(60)).await;
    let (_, account) = wallet.get("/api/v1/wallet/soak-8").await;
    assert_eq!(account["balance"], "180.00", "{account}");
    terminate(&mut wallet, 9);
    assert_audit_passes(&wallet);
}

/// Against a separate broker, with order events in flight in every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_sigterm_against_a_broker_always_exits_zero_and_loses_nothing() {
    let database = Database::create();
    let broker = start_broker();
    let day = workload::generate_day(29, 40, 2_000, 8_000_000);
    let producer = kafka::producer(&broker.bootstrap());
    let mut wallet = Wallet::start(&settings(database.url(), broker.bootstrap()));
    wallet.wait_ready(Duration::from_secs(60)).await;
    workload::deposit_all(&wallet, &day).await;
    let rounds = 5;
    let chunk = day.events.len().div_ceil(rounds);
    for (round, events) in day.events.chunks(chunk).enumerate() {
        if round > 0 {
            wallet.restart();
            wallet.wait_ready(Duration::from_secs(60)).await;
        }
        kafka::produce(&producer, INPUT, events).await;
        traffic(&wallet, &format!("soak-{round}")).await;
        terminate(&mut wallet, round);
    }
    wallet.restart();
    wallet.wait_ready(Duration::from_secs(60)).await;
    wait_for_expected(&wallet, &day).await;
    assert_audit_passes(&wallet);
}
