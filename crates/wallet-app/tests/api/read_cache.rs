//! The read cache across instances: a write made through another instance reaches this
//! instance's cached reads through the wallet events, not after the cache's time-to-live.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use wallet_app::Application;
use wallet_app::config::Settings;
use wallet_kafka::{EmbeddedBroker, KafkaSettings};
use wallet_sql::test_support::TestDatabase;

use crate::helpers::{TestApp, json_with, settings_for, spawn_on};

/// Long enough for a group join and a relay round on a busy machine, far below the TTL.
const DEADLINE: Duration = Duration::from_secs(30);

async fn balance(app: &TestApp, user: &str) -> String {
    let summary: Value = json_with(
        app.get(&format!("/api/v1/wallet/{user}/summary")).await,
        StatusCode::OK,
    )
    .await;
    summary["balance"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn another_instances_deposit_reaches_a_cached_summary() {
    let broker = EmbeddedBroker::start(&KafkaSettings::default()).unwrap();
    let brokers = broker.bootstrap_servers().to_owned();
    let with_kafka = |settings: &mut Settings| {
        settings.kafka.brokers = brokers.clone();
        // Far beyond the test: only an invalidation can make the new balance visible.
        settings.read_cache.ttl_ms = 3_600_000;
    };
    let database = TestDatabase::mysql().await;
    let mut writer_settings = settings_for(database.url());
    with_kafka(&mut writer_settings);
    let reader = spawn_on(database, with_kafka).await;
    let writer = Application::build(writer_settings).await.unwrap();
    let writer_url = format!("http://127.0.0.1:{}", writer.port());
    tokio::spawn(writer.run_until_stopped());

    reader.deposit("shared-investor", "100").await;
    // Once the reader's listener holds the topic, the reader caches what it reads.
    let cache = reader
        .read_cache
        .clone()
        .expect("the cache is on by default");
    let started = Instant::now();
    while cache.is_empty() {
        assert!(started.elapsed() < DEADLINE, "the reader never cached");
        assert_eq!(balance(&reader, "shared-investor").await, "100.00");
        tokio::task::yield_now().await;
    }

    let response = reader
        .client
        .post(format!(
            "{writer_url}/api/v1/wallet/shared-investor/deposit?amount=50"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let started = Instant::now();
    loop {
        let seen = balance(&reader, "shared-investor").await;
        if seen == "150.00" {
            break;
        }
        assert_eq!(seen, "100.00", "a balance that never was");
        assert!(
            started.elapsed() < DEADLINE,
            "the reader still shows {seen} after {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
