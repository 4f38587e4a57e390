//! The consumer, the dead-letter path and the outbox relay against a real, separate Kafka
//! protocol broker process (Tansu with SQLite storage), not librdkafka's own mock: proves the
//! adapters work with a broker that is not the client's own implementation. Run by
//! `crates/wallet-bench/scripts/tansu.sh`, which installs and starts the broker; exits non-zero
//! on any failure.
//!
//! ```text
//! cargo run -p wallet-bench --example tansu_pipeline -- 127.0.0.1:PORT
//! ```
//! Needs MariaDB at `WALLET_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::Headers;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use rust_decimal::Decimal;
use tokio::sync::watch;
use wallet_domain::ports::{Outbox, WalletReader};
use wallet_domain::usecases::WalletService;
use wallet_domain::{CashOperation, Currency, Money, UserId};
use wallet_kafka::{ConsumerHealth, KafkaSettings, OrderEventConsumer, run_outbox_relay};
use wallet_sql::test_support::TestDatabase;

const PATIENCE: Duration = Duration::from_secs(90);
const STORY: [&str; 6] = [
    "pending-buy.json",
    "filled-buy.json",
    "rejected-buy.json",
    "pending-sell.json",
    "partially-filled-sell.json",
    "filled-sell.json",
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/order-events")
}

fn check(condition: bool, what: &str) {
    assert!(condition, "tansu pipeline: {what}");
}

async fn wait_for(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition().await {
        check(
            Instant::now() < deadline,
            &format!("timed out waiting for {what}"),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn committed(settings: &KafkaSettings, partitions: i32) -> BTreeMap<i32, i64> {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("group.id", &settings.group_id)
        .create()
        .unwrap();
    let mut wanted = TopicPartitionList::new();
    for partition in 0..partitions {
        wanted.add_partition(&settings.order_events_topic, partition);
    }
    let list = client
        .committed_offsets(wanted, Duration::from_secs(10))
        .unwrap();
    let offsets = list
        .elements()
        .iter()
        .filter_map(|element| match element.offset() {
            Offset::Offset(offset) => Some((element.partition(), offset)),
            _ => None,
        })
        .collect();
    drop(list);
    offsets
}

fn high_watermarks(settings: &KafkaSettings, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .create()
        .unwrap();
    (0..partitions)
        .map(|partition| {
            let (_, high) = client
                .fetch_watermarks(topic, partition, Duration::from_secs(10))
                .unwrap();
            (partition, high)
        })
        .filter(|(_, high)| *high > 0)
        .collect()
}

async fn read(
    settings: &KafkaSettings,
    topic: &str,
    partitions: i32,
    count: usize,
) -> Vec<(Vec<u8>, BTreeMap<String, String>)> {
    let reader: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("group.id", format!("tansu-reader-{}", uuid::Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment
            .add_partition_offset(topic, partition, Offset::Beginning)
            .unwrap();
    }
    reader.assign(&assignment).unwrap();
    drop(assignment);
    let mut records = Vec::new();
    while records.len() < count {
        let message = tokio::time::timeout(PATIENCE, reader.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "tansu pipeline: only {} of {count} on {topic}",
                    records.len()
                )
            })
            .unwrap();
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        let value = header
                            .value
                            .map(String::from_utf8_lossy)
                            .unwrap_or_default();
                        (header.key.to_owned(), value.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        records.push((message.payload().unwrap_or_default().to_vec(), headers));
    }
    records
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let brokers = std::env::args()
        .nth(1)
        .expect("usage: tansu_pipeline HOST:PORT");
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let settings = KafkaSettings {
        brokers,
        group_id: format!("wallet-tansu-{suffix}"),
        order_events_topic: format!("order-events-{suffix}"),
        dead_letter_topic: format!("order-events-{suffix}.DLT"),
        wallet_events_topic: format!("wallet-events-{suffix}"),
        producer_idempotence: std::env::var("WALLET_TANSU_IDEMPOTENCE")
            .map_or(true, |v| v == "true"),
        session_timeout_ms: 10_000,
        ..KafkaSettings::default()
    };
    let partitions = 3;
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .create()
        .unwrap();
    let topics = [
        NewTopic::new(
            &settings.order_events_topic,
            partitions,
            TopicReplication::Fixed(1),
        ),
        NewTopic::new(&settings.dead_letter_topic, 1, TopicReplication::Fixed(1)),
        NewTopic::new(
            &settings.wallet_events_topic,
            partitions,
            TopicReplication::Fixed(1),
        ),
    ];
    for result in admin
        .create_topics(&topics, &AdminOptions::new())
        .await
        .unwrap()
    {
        result
            .map_err(|(topic, error)| format!("create {topic}: {error}"))
            .unwrap();
    }

    let database = TestDatabase::mysql().await;
    let service = WalletService::new(database.store().clone(), Currency::BRL);
    service
        .deposit(
            &CashOperation {
                user_id: UserId::parse("investor-42").unwrap(),
                amount: Money::parse_amount("amount", "10000.00", Currency::BRL).unwrap(),
                idempotency_key: None,
                request_id: uuid::Uuid::new_v4(),
            },
            Utc::now(),
        )
        .await
        .unwrap();

    let health = ConsumerHealth::new();
    let (stop, shutdown) = watch::channel(false);
    let consumer = OrderEventConsumer::new(&settings, service, health.clone()).unwrap();
    let consumer = tokio::spawn(consumer.run(shutdown));
    let (stop_relay, relay_shutdown) = watch::channel(false);
    let relay = tokio::spawn({
        let (store, settings) = (database.store().clone(), settings.clone());
        async move { run_outbox_relay(store, &settings, relay_shutdown).await }
    });

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .create()
        .unwrap();
    let mut malformed: Vec<PathBuf> = std::fs::read_dir(fixtures().join("malformed"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "json" || ext == "bin")
        })
        .collect();
    malformed.sort();
    let mut records: Vec<Vec<u8>> = Vec::new();
    for (index, name) in STORY.iter().enumerate() {
        records.push(std::fs::read(fixtures().join(name)).unwrap());
        if let Some(path) = malformed.get(index) {
            records.push(std::fs::read(path).unwrap());
        }
    }
    for path in malformed.iter().skip(STORY.len()) {
        records.push(std::fs::read(path).unwrap());
    }
    for value in &records {
        producer
            .send(
                FutureRecord::to(&settings.order_events_topic)
                    .key("investor-42")
                    .payload(value),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(error, _)| error)
            .unwrap();
    }
    let ends = high_watermarks(&settings, &settings.order_events_topic, partitions);
    wait_for("every event committed", async || {
        let settings = settings.clone();
        let committed = tokio::task::spawn_blocking(move || committed(&settings, partitions))
            .await
            .unwrap();
        ends.iter()
            .all(|(partition, end)| committed.get(partition) == Some(end))
    })
    .await;

    let account = database
        .store()
        .account(&UserId::parse("investor-42").unwrap())
        .await
        .unwrap()
        .unwrap();
    check(
        account.balance.value() == Decimal::from_str_exact("7725.60").unwrap(),
        "balance 7725.60",
    );
    check(account.blocked_balance.is_zero(), "nothing blocked");
    let letters = read(&settings, &settings.dead_letter_topic, 1, malformed.len()).await;
    check(
        letters
            .iter()
            .all(|(_, headers)| headers.contains_key("x-error-reason")),
        "every dead letter has a reason",
    );
    wait_for("outbox drained", async || {
        database.store().pending(1).await.unwrap().is_empty()
    })
    .await;
    let published = read(&settings, &settings.wallet_events_topic, partitions, 6).await;
    check(!published.is_empty(), "wallet events published");

    stop.send(true).unwrap();
    consumer.await.unwrap().unwrap();
    stop_relay.send(true).unwrap();
    relay.await.unwrap().unwrap();
    database.cleanup().await;
    println!(
        "tansu pipeline: OK ({} events applied or dead-lettered, {} dead letters, balance 7725.60)",
        health.snapshot().events_processed,
        letters.len()
    );
}
