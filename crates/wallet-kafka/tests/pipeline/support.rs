//! Test harness: one embedded Kafka cluster and one fresh MariaDB database per test, a producer
//! for the input topic, readers for the other topics, and condition waits with deadlines.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::Headers;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use rust_decimal::Decimal;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wallet_domain::ports::{WalletReader, WalletStore};
use wallet_domain::usecases::WalletService;
use wallet_domain::{CashOperation, Currency, Money, UserId};
use wallet_kafka::{ConsumerHealth, EmbeddedBroker, KafkaError, KafkaSettings, OrderEventConsumer};
use wallet_sql::SqlStore;
use wallet_sql::test_support::TestDatabase;

/// Longest wait for any condition of these tests: generous for a loaded 2-core CI machine.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The fixture directory shared by the project.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/order-events")
}

/// The bytes of a fixture file.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures().join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The README's story for `investor-42`, in order.
pub const STORY: [&str; 6] = [
    "pending-buy.json",
    "filled-buy.json",
    "rejected-buy.json",
    "pending-sell.json",
    "partially-filled-sell.json",
    "filled-sell.json",
];

/// Settings for tests: the group leaves fast when a member dies, retries are quick.
pub fn test_settings() -> KafkaSettings {
    KafkaSettings {
        session_timeout_ms: 6_000,
        retry_backoff_ms_min: 50,
        retry_backoff_ms_max: 500,
        statistics_interval_ms: 1_000,
        ..KafkaSettings::default()
    }
}

/// A broker, a database and a producer of order events.
pub struct Pipeline {
    pub broker: EmbeddedBroker,
    pub settings: KafkaSettings,
    pub database: TestDatabase,
    producer: FutureProducer,
}

impl Pipeline {
    pub async fn start() -> Pipeline {
        Self::start_with(test_settings()).await
    }

    pub async fn start_with(settings: KafkaSettings) -> Pipeline {
        init_logs();
        let broker = EmbeddedBroker::start(&settings).expect("embedded broker starts");
        let settings = broker.client_settings(&settings);
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &settings.brokers)
            .set("linger.ms", "5")
            .create()
            .expect("test producer");
        Pipeline {
            broker,
            settings,
            database: TestDatabase::mysql().await,
            producer,
        }
    }

    pub fn store(&self) -> SqlStore {
        self.database.store().clone()
    }

    pub fn service(&self) -> WalletService<SqlStore> {
        WalletService::new(self.store(), Currency::BRL)
    }

    pub async fn deposit(&self, user: &str, amount: &str) {
        let operation = CashOperation {
            user_id: UserId::parse(user).unwrap(),
            amount: Money::parse_amount("amount", amount, Currency::BRL).unwrap(),
            idempotency_key: None,
            request_id: uuid::Uuid::new_v4(),
        };
        self.service()
            .deposit(&operation, Utc::now())
            .await
            .expect("deposit");
    }

    /// Produces one record to the input topic and waits for its acknowledgement.
    pub async fn produce(&self, key: &[u8], value: &[u8]) {
        let record = FutureRecord::to(&self.settings.order_events_topic)
            .key(key)
            .payload(value);
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(error, _)| error)
            .expect("produce order event");
    }

    /// Produces many records concurrently, each keyed `key`.
    pub async fn produce_all(&self, records: &[(Vec<u8>, Vec<u8>)]) {
        let topic = self.settings.order_events_topic.as_str();
        for chunk in records.chunks(5_000) {
            let sends = chunk.iter().map(|(key, value)| {
                self.producer.send(
                    FutureRecord::to(topic).key(key).payload(value),
                    Duration::from_secs(30),
                )
            });
            for result in futures::future::join_all(sends).await {
                result.map_err(|(error, _)| error).expect("produce");
            }
        }
    }

    pub fn spawn_consumer<S: WalletStore>(&self, service: WalletService<S>) -> RunningConsumer {
        self.spawn_consumer_with(&self.settings, service)
    }

    pub fn spawn_consumer_with<S: WalletStore>(
        &self,
        settings: &KafkaSettings,
        service: WalletService<S>,
    ) -> RunningConsumer {
        let health = ConsumerHealth::new();
        let (stop, shutdown) = watch::channel(false);
        let consumer =
            OrderEventConsumer::new(settings, service, health.clone()).expect("consumer");
        RunningConsumer {
            health,
            stop,
            task: tokio::spawn(consumer.run(shutdown)),
        }
    }

    /// Partitions of `topic` and their high watermarks (one past the last record).
    pub async fn end_offsets(&self, topic: &str) -> BTreeMap<i32, i64> {
        let settings = self.settings.clone();
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || {
            let client: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &settings.brokers)
                .create()
                .unwrap();
            let metadata = client
                .fetch_metadata(Some(&topic), Duration::from_secs(10))
                .unwrap();
            let partitions: Vec<i32> = metadata.topics()[0]
                .partitions()
                .iter()
                .map(|partition| partition.id())
                .collect();
            partitions
                .into_iter()
                .map(|partition| {
                    let (_, high) = client
                        .fetch_watermarks(&topic, partition, Duration::from_secs(10))
                        .unwrap();
                    (partition, high)
                })
                .collect()
        })
        .await
        .unwrap()
    }

    /// The group's committed offsets on the input topic (absent: nothing committed).
    pub async fn committed(&self) -> BTreeMap<i32, i64> {
        let ends = self.end_offsets(&self.settings.order_events_topic).await;
        let settings = self.settings.clone();
        tokio::task::spawn_blocking(move || {
            let client: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &settings.brokers)
                .set("group.id", &settings.group_id)
                .create()
                .unwrap();
            let mut wanted = TopicPartitionList::new();
            for partition in ends.keys() {
                wanted.add_partition(&settings.order_events_topic, *partition);
            }
            let committed = client
                .committed_offsets(wanted, Duration::from_secs(10))
                .expect("committed offsets");
            let offsets = committed
                .elements()
                .iter()
                .filter_map(|element| match element.offset() {
                    Offset::Offset(offset) => Some((element.partition(), offset)),
                    _ => None,
                })
                .collect();
            // The list goes before the client (KAFKA.md pitfall).
            drop(committed);
            offsets
        })
        .await
        .unwrap()
    }

    /// Waits until the group committed everything produced to the input topic so far.
    pub async fn wait_all_committed(&self) {
        let ends = self.end_offsets(&self.settings.order_events_topic).await;
        let ends: BTreeMap<i32, i64> = ends.into_iter().filter(|(_, end)| *end > 0).collect();
        wait_until_async("every produced event committed", PATIENCE, || async {
            let committed = self.committed().await;
            ends.iter()
                .all(|(partition, end)| committed.get(partition) == Some(end))
        })
        .await;
    }

    /// Reads `count` records of `topic` from the beginning (fails after [`PATIENCE`]).
    pub async fn read_topic(&self, topic: &str, count: usize) -> Vec<TopicRecord> {
        let ends = self.end_offsets(topic).await;
        let reader: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.settings.brokers)
            .set("group.id", format!("test-reader-{}", uuid::Uuid::new_v4()))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut assignment = TopicPartitionList::new();
        for partition in ends.keys() {
            assignment
                .add_partition_offset(topic, *partition, Offset::Beginning)
                .unwrap();
        }
        reader.assign(&assignment).unwrap();
        drop(assignment);
        let mut records = Vec::new();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while records.len() < count {
            let message = tokio::time::timeout_at(deadline, reader.recv())
                .await
                .unwrap_or_else(|_| panic!("only {} of {count} records on {topic}", records.len()))
                .expect("read record");
            let headers = message
                .headers()
                .map(|headers| {
                    headers
                        .iter()
                        .map(|header| {
                            let value = header
                                .value
                                .map(|value| String::from_utf8_lossy(value).into_owned());
                            (header.key.to_owned(), value.unwrap_or_default())
                        })
                        .collect()
                })
                .unwrap_or_default();
            records.push(TopicRecord {
                key: message.key().map(<[u8]>::to_vec),
                value: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                headers,
            });
        }
        records
    }

    pub async fn balance(&self, user: &str) -> (Decimal, Decimal) {
        let account = self
            .database
            .store()
            .account(&UserId::parse(user).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no account {user}"));
        (account.balance.value(), account.blocked_balance.value())
    }

    /// Ledger entries of `user` (newest first).
    pub async fn ledger_len(&self, user: &str) -> usize {
        self.database
            .store()
            .statement(&UserId::parse(user).unwrap(), None, 1_000)
            .await
            .unwrap()
            .len()
    }

    /// Checks the final state of the README story for `investor-42`.
    pub async fn assert_story_balances(&self) {
        let (balance, blocked) = self.balance("investor-42").await;
        assert_eq!(balance, dec("7725.60"));
        assert_eq!(blocked, Decimal::ZERO);
        let positions = self
            .database
            .store()
            .positions(&UserId::parse("investor-42").unwrap())
            .await
            .unwrap();
        let petr4 = positions
            .iter()
            .find(|position| position.ticker.as_str() == "PETR4")
            .expect("PETR4 position");
        assert_eq!(petr4.quantity.value(), dec("60"));
        assert_eq!(petr4.blocked_quantity.value(), Decimal::ZERO);
        assert_eq!(petr4.average_price.value(), dec("38.40"));
        assert_eq!(petr4.realized_pnl, dec("29.60"));
    }

    pub async fn finish(self) {
        let Pipeline {
            broker, database, ..
        } = self;
        drop(broker);
        database.cleanup().await;
    }
}

/// A record read back from a topic.
#[derive(Debug)]
pub struct TopicRecord {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

/// A consumer running in a task.
pub struct RunningConsumer {
    pub health: ConsumerHealth,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), KafkaError>>,
}

impl RunningConsumer {
    /// Graceful stop: finish, commit, leave the group.
    pub async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("consumer stops in time")
            .expect("consumer task")
            .expect("consumer result");
    }

    /// Crash: the task is cancelled wherever it is, nothing more is committed.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

/// Polls `condition` every 20 ms until it holds; panics naming `what` after `timeout`.
pub async fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    wait_until_async(what, timeout, || std::future::ready(condition())).await;
}

/// Like [`wait_until`] with an async condition.
pub async fn wait_until_async<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if condition().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Logs to the test output when `RUST_LOG` is set (e.g. `RUST_LOG=wallet_kafka=debug`).
pub fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
