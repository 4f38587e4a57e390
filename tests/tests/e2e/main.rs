//! End-to-end scenarios of SPEC §9 against the real `wallet` binary, a real MariaDB, a real
//! Redis and a separate Kafka-protocol broker process (Tansu).

mod clock;
mod corporate_actions;
mod cutover;
mod hardening;
mod java;
mod poison;
mod proxy;
mod sasl;
mod shutdown;
mod tls;
mod trading_week;

use std::time::Duration;

use wallet_e2e::broker::Broker;
use wallet_e2e::database::Database;
use wallet_e2e::eventually;
use wallet_e2e::kafka;
use wallet_e2e::wallet::Wallet;
use wallet_e2e::workload::{self, Day};

const INPUT: &str = "order-events-v1";
const DEAD_LETTERS: &str = "order-events-v1.DLT";
const WALLET_EVENTS: &str = "wallet-events-v1";
const DRAIN_TIMEOUT: Duration = Duration::from_secs(240);

fn start_broker() -> Broker {
    Broker::start(&[INPUT, DEAD_LETTERS, WALLET_EVENTS], 3)
}

fn settings(database_url: String, bootstrap: String) -> Vec<(&'static str, String)> {
    vec![
        ("WALLET__DATABASE__URL", database_url),
        ("WALLET__KAFKA__BROKERS", bootstrap),
        (
            "WALLET__KAFKA__GROUP_ID",
            format!("e2e-{}", uuid::Uuid::new_v4().simple()),
        ),
        (
            "WALLET__PRICES__REDIS_URL",
            "redis://127.0.0.1:6379".to_owned(),
        ),
    ]
}

/// Waits until the service holds exactly what the day must leave behind.
async fn wait_for_expected(wallet: &Wallet, day: &Day) {
    let expected = workload::expected(day);
    let mut last = None;
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        loop {
            let actual = workload::actual(wallet, &expected).await;
            if actual == expected {
                return;
            }
            last = Some(actual);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    if drained.is_err() {
        let actual = last.unwrap_or_default();
        let wrong: Vec<_> = expected
            .accounts
            .iter()
            .filter(|(user, want)| actual.accounts.get(*user) != Some(want))
            .take(5)
            .collect();
        panic!(
            "state did not converge: first accounts that differ (expected): {wrong:?}\nlog tail:\n{}",
            tail(&wallet.log())
        );
    }
}

/// Waits until `/health/ready` answers `status`; panics with the service's log tail otherwise.
async fn wait_readiness(wallet: &Wallet, status: u16, what: &str, timeout: Duration) {
    let reached = tokio::time::timeout(timeout, async {
        while wallet.readiness().await != Some(status) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        reached.is_ok(),
        "timed out after {timeout:?} waiting for {what}:\n{}",
        tail(&wallet.log())
    );
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn assert_audit_passes(wallet: &Wallet) {
    let (code, output) = wallet.cli(&["audit"]);
    assert_eq!(code, Some(0), "wallet audit failed:\n{output}");
}

fn ledger_rows(database: &Database) -> u64 {
    database.query("SELECT COUNT(*) FROM ledger_entries")[0][0]
        .parse()
        .expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_trading_ends_exactly_as_the_model_says() {
    let database = Database::create();
    let broker = start_broker();
    let mut wallet = Wallet::start(&settings(database.url(), broker.bootstrap()));
    wallet.wait_ready(Duration::from_secs(60)).await;

    let mut day = workload::generate_day(7, 200, 2_000, 1_000_000);
    // The fixture story, for investor-42, rides along.
    day.deposits.push(("investor-42".into(), "10000.00".into()));
    for name in [
        "pending-buy",
        "filled-buy",
        "rejected-buy",
        "pending-sell",
        "partially-filled-sell",
        "filled-sell",
    ] {
        let path = wallet_e2e::repository_root()
            .join(format!("../shared/fixtures/order-events/{name}.json"));
        day.events
            .push(("investor-42".into(), std::fs::read(&path).expect("fixture")));
    }
    workload::deposit_all(&wallet, &day).await;
    kafka::produce(&kafka::producer(&broker.bootstrap()), INPUT, &day.events).await;

    wait_for_expected(&wallet, &day).await;
    let (_, story) = wallet.get("/api/v1/wallet/investor-42").await;
    assert_eq!(
        (story["balance"].as_str(), story["blockedBalance"].as_str()),
        (Some("7725.60"), Some("0.00"))
    );
    assert_audit_passes(&wallet);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_in_the_middle_of_a_stream_loses_nothing_and_applies_nothing_twice() {
    let database = Database::create();
    let broker = start_broker();
    let day = workload::generate_day(11, 500, 9_500, 2_000_000);
    assert!(
        day.events.len() >= 20_000,
        "the stream has {} events",
        day.events.len()
    );

    // Static membership: the restarted wallet takes its partitions back at once, where a new
    // dynamic member would wait for the broker to expire the killed one.
    let mut environment = settings(database.url(), broker.bootstrap());
    environment.push((
        "WALLET__KAFKA__GROUP_INSTANCE_ID",
        "wallet-e2e-crash".to_owned(),
    ));
    let mut wallet = Wallet::start(&environment);
    wallet.wait_ready(Duration::from_secs(60)).await;
    workload::deposit_all(&wallet, &day).await;
    let deposits = ledger_rows(&database);
    kafka::produce(&kafka::producer(&broker.bootstrap()), INPUT, &day.events).await;

    // Kill it once some, but not all, of the stream is applied.
    eventually("part of the stream applied", DRAIN_TIMEOUT, || async {
        ledger_rows(&database) > deposits + 500
    })
    .await;
    wallet.signal("KILL");
    assert_eq!(
        wallet.wait_exit(),
        None,
        "SIGKILL ends the process by a signal"
    );
    let applied_at_kill = ledger_rows(&database);

    wallet.restart();
    // The replacement gets the partitions once the broker has expired the killed member's
    // session and rebalanced, which takes up to the rebalance timeout the members announced.
    wallet.wait_ready(Duration::from_secs(180)).await;
    wait_for_expected(&wallet, &day).await;
    assert!(
        ledger_rows(&database) > applied_at_kill,
        "the restart applied the rest"
    );
    assert_audit_passes(&wallet);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_makes_the_service_unready_and_loses_nothing() {
    // The broker runs in this test process (librdkafka's mock cluster, a real Kafka-protocol
    // server on loopback ports) so that the outage is exact: every broker refuses connections
    // until it is brought back, with its data intact.
    let database = Database::create();
    let broker = wallet_kafka::EmbeddedBroker::start(&wallet_kafka::KafkaSettings::default())
        .expect("start the mock cluster");
    let bootstrap = broker.bootstrap_servers().to_owned();
    let day = workload::generate_day(13, 100, 2_000, 3_000_000);
    let (first, second) = day.events.split_at(day.events.len() / 2);

    let mut wallet = Wallet::start(&settings(database.url(), bootstrap.clone()));
    wallet.wait_ready(Duration::from_secs(60)).await;
    workload::deposit_all(&wallet, &day).await;
    kafka::produce(&kafka::producer(&bootstrap), INPUT, first).await;

    broker.brokers_down().expect("take the brokers down");
    wait_readiness(
        &wallet,
        503,
        "readiness to fail while the broker is down",
        Duration::from_secs(60),
    )
    .await;
    // The outage lasts a while on purpose: the consumer must keep retrying, not give up.
    tokio::time::sleep(Duration::from_secs(10)).await;
    broker.brokers_up().expect("bring the brokers back");
    kafka::produce(&kafka::producer(&bootstrap), INPUT, second).await;
    wait_readiness(
        &wallet,
        200,
        "readiness to come back",
        Duration::from_secs(180),
    )
    .await;

    wait_for_expected(&wallet, &day).await;
    assert_audit_passes(&wallet);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_pauses_consumption_and_it_resumes_exactly() {
    let database = Database::create();
    let broker = start_broker();
    let proxy = proxy::Proxy::start("127.0.0.1:3306").await;
    let day = workload::generate_day(17, 100, 2_000, 4_000_000);
    let (first, second) = day.events.split_at(day.events.len() / 2);

    let mut wallet = Wallet::start(&settings(
        database.url_via(&proxy.address()),
        broker.bootstrap(),
    ));
    wallet.wait_ready(Duration::from_secs(60)).await;
    workload::deposit_all(&wallet, &day).await;
    let producer = kafka::producer(&broker.bootstrap());
    kafka::produce(&producer, INPUT, first).await;

    proxy.cut();
    wait_readiness(
        &wallet,
        503,
        "readiness to fail while the database is unreachable",
        Duration::from_secs(60),
    )
    .await;
    kafka::produce(&producer, INPUT, second).await;
    proxy.restore();
    wait_readiness(
        &wallet,
        200,
        "readiness to come back",
        Duration::from_secs(180),
    )
    .await;

    wait_for_expected(&wallet, &day).await;
    assert_audit_passes(&wallet);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_withdrawals_and_settlements_never_overdraw_and_the_ledger_matches() {
    let database = Database::create();
    let broker = start_broker();
    let mut wallet = Wallet::start(&settings(database.url(), broker.bootstrap()));
    wallet.wait_ready(Duration::from_secs(60)).await;

    let users: Vec<String> = (0..8).map(|index| format!("contended-{index}")).collect();
    for user in &users {
        assert_eq!(
            wallet
                .post(&format!("/api/v1/wallet/{user}/deposit?amount=100000.00"))
                .await
                .0,
            200
        );
    }
    let mut events = Vec::new();
    for (index, user) in users.iter().cycle().take(1_600).enumerate() {
        let id = 6_000_000 + index;
        events.push((user.clone(), format!(r#"{{"orderId":{id},"userId":"{user}","ticker":"PETR4","quantity":10,"price":10.00,"side":"BUY","status":"PENDING"}}"#).into_bytes()));
        events.push((user.clone(), format!(r#"{{"orderId":{id},"userId":"{user}","ticker":"PETR4","quantity":10,"price":10.00,"executedPrice":9.99,"side":"BUY","status":"FILLED"}}"#).into_bytes()));
    }
    let producer = kafka::producer(&broker.bootstrap());
    let produce = kafka::produce(&producer, INPUT, &events);
    let withdraw = async {
        let mut tasks = Vec::new();
        for worker in 0..16 {
            let base = wallet.base_url();
            let http = wallet.http().clone();
            let users = users.clone();
            tasks.push(tokio::spawn(async move {
                let mut statuses = Vec::new();
                for round in 0..40 {
                    let user = &users[(worker + round) % users.len()];
                    let response = http
                        .post(format!(
                            "{base}/api/v1/wallet/{user}/withdraw?amount=777.77"
                        ))
                        .send()
                        .await
                        .expect("withdraw");
                    statuses.push(response.status().as_u16());
                }
                statuses
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.extend(task.await.expect("withdrawal task"));
        }
        statuses
    };
    let ((), statuses) = tokio::join!(produce, withdraw);
    assert!(
        statuses
            .iter()
            .all(|status| *status == 200 || *status == 422),
        "unexpected statuses: {statuses:?}"
    );

    eventually("every settlement applied", DRAIN_TIMEOUT, || async {
        let rows = database.query("SELECT COUNT(*) FROM holds WHERE status = 'FILLED'");
        rows[0][0] == "1600"
    })
    .await;
    for user in &users {
        let (_, account) = wallet.get(&format!("/api/v1/wallet/{user}")).await;
        let balance =
            rust_decimal::Decimal::from_str_exact(account["balance"].as_str().expect("balance"))
                .expect("decimal");
        assert!(
            balance >= rust_decimal::Decimal::ZERO,
            "{user} went negative: {account}"
        );
    }
    assert_audit_passes(&wallet);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzing_the_openapi_document_finds_no_5xx_and_no_nonconforming_response() {
    let database = Database::create();
    let broker = start_broker();
    let mut wallet = Wallet::start(&settings(database.url(), broker.bootstrap()));
    wallet.wait_ready(Duration::from_secs(60)).await;
    // Some accounts, positions and holds, so that reads reach past "not found".
    assert_eq!(
        wallet
            .post("/api/v1/wallet/investor-42/deposit?amount=10000.00")
            .await
            .0,
        200
    );

    let script = wallet_e2e::repository_root().join("scripts/fuzz-http.sh");
    let base_url = wallet.base_url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(script).arg(base_url).output()
    })
    .await
    .expect("join the fuzzer")
    .expect("run scripts/fuzz-http.sh");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}"
    );
    assert!(
        report.contains("passed"),
        "schemathesis ran no test case:\n{report}"
    );
}
