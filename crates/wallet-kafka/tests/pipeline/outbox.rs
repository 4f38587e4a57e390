//! The outbox relay publishes wallet events, and the dead-letter replay re-publishes dead
//! letters.

use std::collections::BTreeSet;

use chrono::Utc;
use tokio::sync::watch;
use wallet_domain::OrderEvent;
use wallet_domain::ports::Outbox;
use wallet_kafka::{ReplayRange, replay_dead_letters, run_outbox_relay};

use crate::support::{PATIENCE, Pipeline, STORY, fixture, wait_until_async};

/// The story's outbox rows reach `wallet-events-v1`, keyed by user, with the expected types,
/// and are marked sent; rows written while the relay was stopped go out after its restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_rows_reach_the_wallet_events_topic() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-42", "10000.00").await;
    let service = pipeline.service();
    let events: Vec<OrderEvent> = STORY[..3]
        .iter()
        .map(|name| OrderEvent::parse(&fixture(name)).unwrap())
        .collect();
    service
        .apply_order_events(&events, Utc::now())
        .await
        .unwrap();
    let store = pipeline.store();
    let first_rows = store.pending(1_000).await.unwrap().len();
    assert!(first_rows >= 3, "deposit, reserve, settle: {first_rows}");

    let (stop, shutdown) = watch::channel(false);
    let relay = tokio::spawn({
        let store = store.clone();
        let settings = pipeline.settings.clone();
        async move { run_outbox_relay(store, &settings, shutdown).await }
    });
    let nothing_pending = || async { store.pending(1).await.unwrap().is_empty() };
    wait_until_async("outbox drained", PATIENCE, nothing_pending).await;
    stop.send(true).unwrap();
    relay.await.unwrap().unwrap();

    // Written while no relay runs: must not be lost.
    let events: Vec<OrderEvent> = STORY[3..]
        .iter()
        .map(|name| OrderEvent::parse(&fixture(name)).unwrap())
        .collect();
    service
        .apply_order_events(&events, Utc::now())
        .await
        .unwrap();
    let second_rows = store.pending(1_000).await.unwrap().len();
    assert!(second_rows >= 3, "reserve, two settlements: {second_rows}");
    let (stop, shutdown) = watch::channel(false);
    let relay = tokio::spawn({
        let store = store.clone();
        let settings = pipeline.settings.clone();
        async move { run_outbox_relay(store, &settings, shutdown).await }
    });
    wait_until_async("outbox drained again", PATIENCE, nothing_pending).await;
    stop.send(true).unwrap();
    relay.await.unwrap().unwrap();

    let topic = pipeline.settings.wallet_events_topic.clone();
    let published = pipeline.read_topic(&topic, first_rows + second_rows).await;
    let mut types = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for record in &published {
        assert_eq!(record.key.as_deref(), Some(&b"investor-42"[..]));
        let json: serde_json::Value = serde_json::from_slice(&record.value).unwrap();
        assert_eq!(json["userId"], "investor-42");
        types.insert(json["type"].as_str().unwrap().to_owned());
        ids.insert(json["eventId"].as_str().unwrap().to_owned());
    }
    for expected in [
        "DEPOSITED",
        "FUNDS_RESERVED",
        "ORDER_SETTLED",
        "ASSETS_RESERVED",
    ] {
        assert!(
            types.contains(expected),
            "{expected} missing from {types:?}"
        );
    }
    assert_eq!(ids.len(), published.len(), "every event has its own id");
    let total: i64 = pipeline.end_offsets(&topic).await.values().sum();
    assert_eq!(total, i64::try_from(first_rows + second_rows).unwrap());
    pipeline.finish().await;
}

/// A fill dead-lettered because the account could not cover it is applied once replayed after
/// the cause is fixed (a deposit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_dead_letters_are_applied() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-9", "10.00").await;
    let consumer = pipeline.spawn_consumer(pipeline.service());
    let uncovered = br#"{"orderId":4001,"userId":"investor-9","ticker":"PETR4","quantity":10,"price":38.55,"executedPrice":38.40,"side":"BUY","status":"FILLED"}"#;
    pipeline.produce(b"investor-9", uncovered).await;
    pipeline.wait_all_committed().await;
    let letters = pipeline
        .read_topic(&pipeline.settings.dead_letter_topic, 1)
        .await;
    assert_eq!(letters[0].value, uncovered);

    pipeline.deposit("investor-9", "1000.00").await;
    let replayed = replay_dead_letters(&pipeline.settings, ReplayRange::All)
        .await
        .unwrap();
    assert_eq!(replayed, 1);
    pipeline.wait_all_committed().await;
    let (balance, _) = pipeline.balance("investor-9").await;
    // 1010.00 − 10 × 38.40
    assert_eq!(balance, crate::support::dec("626.00"));
    let none = replay_dead_letters(&pipeline.settings, ReplayRange::Offsets { from: 5, to: 10 })
        .await
        .unwrap();
    assert_eq!(none, 0);

    consumer.stop().await;
    pipeline.finish().await;
}
