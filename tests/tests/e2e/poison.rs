//! Poison: hundreds of malformed and adversarial payloads between the events of a generated day
//! all reach the dead-letter topic with a reason, and every good event is still applied.

use std::time::Duration;

use wallet_e2e::dashboard;
use wallet_e2e::database::Database;
use wallet_e2e::kafka;
use wallet_e2e::wallet::Wallet;
use wallet_e2e::workload;

use crate::{
    DEAD_LETTERS, INPUT, assert_audit_passes, settings, start_broker, tail, wait_for_expected,
};

/// The account the adversarial payloads name: it has cash, so that payloads which parse reach
/// the arithmetic (an overflowing product) instead of being denied for a missing account.
const POISONED: &str = "poisoned";

/// A payload that is not a valid order event, or one whose amounts leave the wallet's range.
fn poison(index: usize) -> Vec<u8> {
    let user = POISONED;
    let event = |quantity: &str, price: &str, status: &str| {
        format!(
            r#"{{"orderId":{index},"userId":"{user}","ticker":"PETR4","quantity":{quantity},"price":{price},"executedPrice":{price},"side":"BUY","status":"{status}"}}"#
        )
    };
    let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    let variants: Vec<String> = vec![
        event("-5", "1", "PENDING"),
        event("5", "1.123456789", "PENDING"),
        format!(
            r#"{{"orderId":{index},"userId":"{user}","ticker":"PETR4","quantity":5,"side":"BUY","status":"FILLED"}}"#
        ),
        format!(
            r#"{{"orderId":{index},"userId":"{user}","ticker":"PETR4","quantity":5,"price":1,"side":"SHORT","status":"PENDING"}}"#
        ),
        format!(
            r#"{{"userId":"{user}","ticker":"PETR4","quantity":5,"price":1,"side":"BUY","status":"PENDING"}}"#
        ),
        event("1e400", "1", "PENDING"),
        // Powers of ten past the decimal's mantissa, which used to panic the consumer's lane.
        event("1e29", "1", "PENDING"),
        event("1E+30", "1", "FILLED"),
        event("0e35", "1", "PENDING"),
        event("5", "1e38", "PENDING"),
        // Each amount in range, their product not: refused, never wrapped or panicked.
        event("999999999999999", "999999999999999", "PENDING"),
        event("999999999999999", "999999999999999", "FILLED"),
        format!(
            r#"{{"orderId":{index},"userId":"{user} with spaces","ticker":"PETR4","quantity":5,"price":1,"side":"BUY","status":"PENDING"}}"#
        ),
        format!(
            r#"{{"orderId":{index},"orderId":{index},"userId":"{user}","ticker":"PETR4","quantity":5,"price":1,"side":"BUY","status":"PENDING"}}"#
        ),
        format!(r#"{{"orderId":{deep},"userId":"{user}"}}"#),
        format!(
            r#"{{"orderId":{index},"userId":"{}","ticker":"PETR4","quantity":5,"price":1,"side":"BUY","status":"PENDING"}}"#,
            "u".repeat(200_000)
        ),
        format!(r#"{{"orderId":{index},"userId":"{user}","ticker":"PETR4","quantity":100,"#),
        "\u{0}\u{1}garbage".to_owned(),
        format!(r#"[{index}]"#),
        format!(r#"[{index},"{user}","PETR4",5,1,null,null,"BUY","PENDING",null]"#),
    ];
    let mut bytes = variants[index % variants.len()].clone().into_bytes();
    if index.is_multiple_of(37) {
        bytes = vec![0xff, 0xfe, 0x00, b'x'];
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_flood_lands_in_the_dead_letter_topic_and_valid_events_still_apply() {
    let database = Database::create();
    let broker = start_broker();
    let mut day = workload::generate_day(19, 50, 500, 5_000_000);
    let poison_count = 300;
    let mut mixed = Vec::new();
    for (index, event) in day.events.drain(..).enumerate() {
        mixed.push(event);
        if index < poison_count {
            mixed.push((POISONED.to_owned(), poison(index)));
        }
    }
    day.events = mixed;
    day.deposits
        .push((POISONED.to_owned(), "100.00".to_owned()));

    let mut wallet = Wallet::start(&settings(database.url(), broker.bootstrap()));
    wallet.wait_ready(Duration::from_secs(60)).await;
    workload::deposit_all(&wallet, &day).await;
    kafka::produce(&kafka::producer(&broker.bootstrap()), INPUT, &day.events).await;

    wait_for_expected(&wallet, &day).await;
    // The generated day has dead letters of its own (fills whose money or shares are missing).
    let total = workload::dead_letters(&day);
    let dead = kafka::read(
        &broker.bootstrap(),
        DEAD_LETTERS,
        total,
        Duration::from_secs(60),
    )
    .await;
    let poisoned: Vec<_> = dead
        .iter()
        .filter(|record| record.key.as_deref() == Some(POISONED.as_bytes()))
        .collect();
    assert_eq!(poisoned.len(), poison_count);
    for record in &dead {
        assert!(
            record
                .headers
                .get("x-error-reason")
                .is_some_and(|reason| !reason.is_empty()),
            "no reason: {record:?}"
        );
        assert_eq!(
            record.headers.get("x-original-topic").map(String::as_str),
            Some(INPUT)
        );
    }
    let reason_of = |needle: &[u8]| {
        poisoned
            .iter()
            .find(|record| record.value.windows(needle.len()).any(|w| w == needle))
            .and_then(|record| record.headers.get("x-error-reason").cloned())
    };
    assert_eq!(
        reason_of(b"\"quantity\":1e29").as_deref(),
        Some("INVALID_QUANTITY")
    );
    assert_eq!(
        reason_of(b"\"quantity\":999999999999999").as_deref(),
        Some("AMOUNT_OUT_OF_RANGE")
    );
    // Nothing of the poison was applied to the account it names.
    let (_, account) = wallet.get(&format!("/api/v1/wallet/{POISONED}")).await;
    assert_eq!(account["balance"], "100.00", "{account}");
    assert_eq!(account["blockedBalance"], "0.00", "{account}");
    assert!(
        wallet.readiness().await == Some(200),
        "the consumer survived the flood:\n{}",
        tail(&wallet.log())
    );
    assert_audit_passes(&wallet);

    // Every metric the shipped Grafana dashboard queries is exported, after a day like this
    // (the consumer's lag comes with the client's statistics, every 5 s).
    let scrape = || async {
        let exposition = wallet
            .http()
            .get(format!("{}/actuator/prometheus", wallet.base_url()))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("metrics text");
        let exported = dashboard::exported_metrics(&exposition);
        dashboard::queried_metrics()
            .into_iter()
            .filter(|name| !exported.contains(name))
            .collect::<Vec<String>>()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut missing = scrape().await;
    while !missing.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        missing = scrape().await;
    }
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics the service does not export: {missing:?}"
    );
}
