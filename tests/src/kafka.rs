//! Producing order events as the Order API does (JSON, key = userId) and reading what the
//! wallet wrote to the dead-letter and wallet-events topics.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// One record read back from a topic.
#[derive(Debug, Clone)]
pub struct Record {
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes.
    pub value: Vec<u8>,
    /// Headers as UTF-8 text.
    pub headers: HashMap<String, String>,
}

/// A producer acknowledged by every in-sync replica, as the Order API configures it.
pub fn producer(bootstrap: &str) -> FutureProducer {
    producer_with(bootstrap, &[])
}

/// [`producer`] with more client properties (SASL credentials, say).
pub fn producer_with(bootstrap: &str, properties: &[(&str, &str)]) -> FutureProducer {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "60000");
    for (key, value) in properties {
        config.set(*key, *value);
    }
    config.create().expect("create the producer")
}

/// Produces `records` (key, value) to `topic` and waits until the broker acknowledged each.
///
/// Records are enqueued without awaiting each one (awaiting a send pays the linger per
/// record); a full local queue is waited out.
pub async fn produce(producer: &FutureProducer, topic: &str, records: &[(String, Vec<u8>)]) {
    let mut deliveries = Vec::with_capacity(records.len());
    for (key, value) in records {
        loop {
            match producer.send_result(FutureRecord::to(topic).key(key).payload(value)) {
                Ok(delivery) => {
                    deliveries.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((error, _)) => panic!("produce to {topic}: {error}"),
            }
        }
    }
    for delivery in deliveries {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((error, _))) => panic!("produce to {topic}: {error}"),
            Err(_) => panic!("produce to {topic}: the producer dropped a delivery"),
        }
    }
}

/// Reads `topic` from the beginning until `count` records arrived; panics after `timeout`.
pub async fn read(bootstrap: &str, topic: &str, count: usize, timeout: Duration) -> Vec<Record> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "group.id",
            format!("e2e-reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("create the reader");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = Instant::now() + timeout;
    let mut records = Vec::new();
    while records.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "read {} of {count} records of {topic} before the deadline",
            records.len()
        );
        let Ok(message) = tokio::time::timeout(left, consumer.recv()).await else {
            continue;
        };
        let message = message.unwrap_or_else(|error| panic!("read {topic}: {error}"));
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        (
                            header.key.to_owned(),
                            header
                                .value
                                .map(|v| String::from_utf8_lossy(v).into_owned())
                                .unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        records.push(Record {
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            headers,
        });
    }
    records
}

/// Commits, for consumer group `group`, every partition of `topic` at its end: what a consumer
/// that applied everything there leaves behind (the Java wallet before a cut-over).
pub fn commit_at_end(bootstrap: &str, group: &str, topic: &str) {
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
    use rdkafka::{Offset, TopicPartitionList};

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("create the committing consumer");
    let timeout = Duration::from_secs(30);
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .expect("topic metadata");
    let mut offsets = TopicPartitionList::new();
    for partition in metadata.topics()[0].partitions() {
        let (_, high) = consumer
            .fetch_watermarks(topic, partition.id(), timeout)
            .expect("watermarks");
        offsets
            .add_partition_offset(topic, partition.id(), Offset::Offset(high))
            .expect("an offset");
    }
    consumer
        .commit(&offsets, CommitMode::Sync)
        .expect("commit the offsets");
    // The list goes before the client (KAFKA.md pitfall).
    drop(offsets);
}
