//! Poison: malformed and adversarial payloads all reach the dead-letter topic with a reason,
//! with their original bytes, while the valid events around them are applied.

use std::collections::BTreeMap;

use wallet_domain::OrderEvent;
use wallet_kafka::dead_letter::{
    HEADER_DETAIL, HEADER_ORIGINAL_OFFSET, HEADER_ORIGINAL_PARTITION, HEADER_ORIGINAL_TOPIC,
    HEADER_REASON,
};

use crate::support::{Pipeline, STORY, fixture, fixtures};

/// A small deterministic generator (no randomness crate needed, and failures replay exactly).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

const VALID: &str = r#"{"orderId":9000,"userId":"adversary-1","ticker":"PETR4","quantity":10,"price":38.55,"side":"BUY","status":"PENDING"}"#;

/// Payloads every one of which the wallet must refuse: broken JSON, wrong types, values out of
/// range, bytes that are not text, and valid events mutated field by field.
fn adversarial_payloads() -> Vec<Vec<u8>> {
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    let field_values: [(&str, &[&str]); 7] = [
        (
            "orderId",
            &[
                "\"abc\"",
                "-1",
                "0",
                "1.5",
                "1e30",
                "null",
                "[]",
                "{}",
                "true",
                "99999999999999999999",
            ],
        ),
        (
            "userId",
            &[
                "\"\"",
                "null",
                "\"a b\"",
                "\"bad/char\"",
                "\"é\"",
                "123",
                "[]",
                "\"\\u0000\"",
            ],
        ),
        (
            "ticker",
            &[
                "\"\"",
                "null",
                "\"petr4!\"",
                "\"ABCDEFGHIJKLM\"",
                "\"PE TR\"",
                "7",
            ],
        ),
        (
            "quantity",
            &[
                "0",
                "-5",
                "\"abc\"",
                "1e16",
                "0.123456789",
                "null",
                "\"\"",
                "-0.00000001",
                "[1]",
            ],
        ),
        (
            "price",
            &["0", "-38.55", "\"x\"", "38.123456789", "null", "1e20", "{}"],
        ),
        ("side", &["\"SHORT\"", "\"\"", "null", "1", "[\"BUY\"]"]),
        ("status", &["null", "7", "[]"]),
    ];
    for (field, values) in field_values {
        for value in values {
            let mut event: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(VALID).unwrap();
            event.remove(field);
            let mut text = serde_json::to_string(&event).unwrap();
            text.insert_str(1, &format!("\"{field}\":{value},"));
            payloads.push(text.into_bytes());
        }
        // And the field missing altogether.
        let mut event: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(VALID).unwrap();
        event.remove(field);
        payloads.push(serde_json::to_vec(&event).unwrap());
    }
    // Fills without an executed price, fills above the order, unparseable timestamps.
    payloads.push(VALID.replace("PENDING", "FILLED").into_bytes());
    payloads.push(
        VALID
            .replace(
                "\"status\":\"PENDING\"",
                "\"status\":\"PARTIALLY_FILLED\",\"executedPrice\":38.5,\"filledQuantity\":11",
            )
            .into_bytes(),
    );
    payloads.push(
        VALID
            .replace('}', ",\"eventTimestamp\":\"yesterday\"}")
            .into_bytes(),
    );
    payloads.push(
        VALID
            .replace('}', ",\"eventTimestamp\":[2026,13]}")
            .into_bytes(),
    );
    // Not JSON objects at all.
    for text in [
        "",
        " ",
        "null",
        "true",
        "42",
        "\"PENDING\"",
        "[]",
        "{",
        "}",
        "{}",
        "{\"orderId\":",
        "[1,2,3]",
        "NaN",
        "{'orderId': 1}",
    ] {
        payloads.push(text.as_bytes().to_vec());
    }
    payloads.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes());
    payloads.push(VALID.replace("adversary-1", &"u".repeat(65)).into_bytes());
    payloads.push(
        VALID
            .replace("adversary-1", &"x".repeat(100_000))
            .into_bytes(),
    );
    // Truncations of a valid event at every length.
    for end in 0..VALID.len() - 1 {
        payloads.push(VALID.as_bytes()[..end].to_vec());
    }
    // Random bytes, and valid events with random bytes flipped to invalid UTF-8.
    let mut random = Lcg(0x5eed);
    for _ in 0..60 {
        let length = usize::try_from(random.next() % 200).unwrap() + 1;
        let bytes: Vec<u8> = (0..length).map(|_| (random.next() % 256) as u8).collect();
        payloads.push(bytes);
    }
    for _ in 0..40 {
        let mut bytes = VALID.as_bytes().to_vec();
        let at = usize::try_from(random.next()).unwrap() % bytes.len();
        bytes[at] = 0xC0 | (random.next() % 2) as u8;
        payloads.push(bytes);
    }
    // Keep only what the domain refuses at parse time: the generator must not produce a valid
    // event by accident (e.g. random bytes that happen to be a valid document).
    payloads.retain(|payload| OrderEvent::parse(payload).is_err());
    payloads
}

/// Every malformed fixture, a few hundred adversarial payloads and an uncoverable fill end in
/// the dead-letter topic with the original bytes and a reason, while the story's valid events,
/// interleaved with them, are applied exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_goes_to_the_dead_letter_topic_and_valid_events_are_applied() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-42", "10000.00").await;

    let mut poison: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut malformed: Vec<_> = std::fs::read_dir(fixtures().join("malformed"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "json" || ext == "bin")
        })
        .collect();
    malformed.sort();
    assert!(malformed.len() >= 7, "malformed fixtures: {malformed:?}");
    for path in &malformed {
        poison.push((b"investor-42".to_vec(), std::fs::read(path).unwrap()));
    }
    let adversarial = adversarial_payloads();
    assert!(
        adversarial.len() >= 250,
        "only {} adversarial payloads",
        adversarial.len()
    );
    for (index, payload) in adversarial.into_iter().enumerate() {
        poison.push((format!("adversary-{index}").into_bytes(), payload));
    }
    // Parses, but the account cannot pay for it: dead-lettered by the domain, nothing applied.
    let uncovered = br#"{"orderId":3001,"userId":"investor-42","ticker":"VALE3","quantity":100000,"price":61.20,"executedPrice":61.20,"side":"BUY","status":"FILLED"}"#;
    poison.push((b"investor-42".to_vec(), uncovered.to_vec()));

    let consumer = pipeline.spawn_consumer(pipeline.service());
    // The story's events go between the poison, on the story's partition, in story order.
    let per_story_step = poison.len() / STORY.len();
    for (step, name) in STORY.iter().enumerate() {
        let slice = &poison[step * per_story_step..(step + 1) * per_story_step];
        pipeline.produce_all(slice).await;
        pipeline.produce(b"investor-42", &fixture(name)).await;
    }
    pipeline
        .produce_all(&poison[STORY.len() * per_story_step..])
        .await;
    pipeline.wait_all_committed().await;

    pipeline.assert_story_balances().await;
    let letters = pipeline
        .read_topic(&pipeline.settings.dead_letter_topic, poison.len())
        .await;
    let dead_letter_end: i64 = pipeline
        .end_offsets(&pipeline.settings.dead_letter_topic)
        .await
        .values()
        .sum();
    assert_eq!(dead_letter_end, i64::try_from(poison.len()).unwrap());

    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for letter in &letters {
        let reason = letter.headers.get(HEADER_REASON).expect("reason header");
        assert!(!reason.is_empty());
        *reasons.entry(reason.clone()).or_default() += 1;
        assert!(letter.headers.contains_key(HEADER_DETAIL));
        assert_eq!(
            letter.headers[HEADER_ORIGINAL_TOPIC],
            pipeline.settings.order_events_topic
        );
        letter.headers[HEADER_ORIGINAL_PARTITION]
            .parse::<i32>()
            .unwrap();
        letter.headers[HEADER_ORIGINAL_OFFSET]
            .parse::<i64>()
            .unwrap();
    }
    assert_eq!(
        reasons.get("SETTLEMENT_NOT_COVERED"),
        Some(&1),
        "{reasons:?}"
    );
    assert!(reasons.contains_key("INVALID_ENCODING"), "{reasons:?}");
    assert!(reasons.contains_key("INVALID_JSON"), "{reasons:?}");
    assert!(reasons.contains_key("INVALID_SIDE"), "{reasons:?}");
    // Original key and value bytes, each exactly once.
    let mut sent: Vec<(Option<Vec<u8>>, Vec<u8>)> = poison
        .iter()
        .map(|(key, value)| (Some(key.clone()), value.clone()))
        .collect();
    let mut received: Vec<(Option<Vec<u8>>, Vec<u8>)> = letters
        .into_iter()
        .map(|letter| (letter.key, letter.value))
        .collect();
    sent.sort();
    received.sort();
    assert!(sent == received, "dead letters differ from the poison sent");
    assert!(!consumer.health.snapshot().retrying);

    consumer.stop().await;
    pipeline.finish().await;
}
