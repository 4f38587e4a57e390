//! Throughput of the order-event pipeline: fixture-like events from the embedded (mock) Kafka
//! cluster into MariaDB through the real consumer and store, in process. Prints events/s with
//! the default batch settings and with batch size 1 (one transaction per event).
//!
//! ```text
//! cargo run --release -p wallet-bench --example consumer_throughput -- [EVENTS] [BATCH1_EVENTS] [ACCOUNTS]
//! ```
//! Defaults: 100000 events, 5000 events for batch size 1, 10000 accounts. MariaDB at
//! `WALLET_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`); each run gets a fresh
//! database, dropped afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::watch;
use wallet_domain::ports::{StoreError, WalletStore};
use wallet_domain::unit_of_work::{ChangeSet, LoadRequest, Snapshot};
use wallet_domain::usecases::WalletService;
use wallet_domain::{CashOperation, Currency, Hold, Money, Obligation, UserId};
use wallet_kafka::{ConsumerHealth, EmbeddedBroker, KafkaSettings, OrderEventConsumer};
use wallet_sql::SqlStore;
use wallet_sql::test_support::TestDatabase;

/// The events of one account's orders, as the Order API would publish them: fills, partial
/// fills, rejections, a duplicate and a sell of what was bought.
fn account_events(user: &str, first_order: i64) -> Vec<String> {
    let event = |order: i64, side: &str, quantity: u32, status: &str, extra: &str| {
        format!(
            r#"{{"orderId":{order},"userId":"{user}","ticker":"PETR4","quantity":{quantity},"price":38.55,"side":"{side}","status":"{status}"{extra},"eventTimestamp":"2026-05-01T10:15:30.123"}}"#
        )
    };
    let mut events = Vec::new();
    let (a, b, c, d, e) = (
        first_order,
        first_order + 1,
        first_order + 2,
        first_order + 3,
        first_order + 4,
    );
    events.push(event(a, "BUY", 10, "PENDING", ""));
    events.push(event(a, "BUY", 10, "FILLED", r#","executedPrice":38.40"#));
    events.push(event(b, "BUY", 10, "PENDING", ""));
    events.push(event(
        b,
        "BUY",
        10,
        "PARTIALLY_FILLED",
        r#","executedPrice":38.50,"filledQuantity":4"#,
    ));
    events.push(event(b, "BUY", 10, "FILLED", r#","executedPrice":38.45"#));
    events.push(event(c, "BUY", 10, "PENDING", ""));
    events.push(event(c, "BUY", 10, "REJECTED", ""));
    events.push(event(d, "BUY", 10, "PENDING", ""));
    events.push(event(d, "BUY", 10, "PENDING", ""));
    events.push(event(d, "BUY", 10, "FILLED", r#","executedPrice":38.30"#));
    events.push(event(e, "SELL", 5, "PENDING", ""));
    events.push(event(e, "SELL", 5, "FILLED", r#","executedPrice":39.14"#));
    events
}

/// `count` events over `accounts` accounts, interleaved across accounts so every batch
/// touches many of them, each account's events in order.
fn workload(count: usize, accounts: usize) -> Vec<(String, String)> {
    let per_account = count.div_ceil(accounts);
    let mut streams: Vec<(String, Vec<String>)> = (0..accounts)
        .map(|index| {
            let user = format!("bench-{index}");
            let mut events = Vec::new();
            let mut order = i64::try_from(index).unwrap() * 1_000 + 1;
            while events.len() < per_account {
                events.extend(account_events(&user, order));
                order += 5;
            }
            events.truncate(per_account);
            (user, events)
        })
        .collect();
    let mut out = Vec::with_capacity(count);
    for step in 0..per_account {
        for (user, events) in &mut streams {
            if out.len() == count {
                return out;
            }
            out.push((user.clone(), std::mem::take(&mut events[step])));
        }
    }
    out
}

/// The real store, timing its calls: says where a batch's time goes (load or commit).
#[derive(Clone)]
struct Timed {
    inner: SqlStore,
    load_us: Arc<AtomicU64>,
    commit_us: Arc<AtomicU64>,
}

impl WalletStore for Timed {
    async fn load(&self, request: &LoadRequest) -> Result<Snapshot, StoreError> {
        let started = Instant::now();
        let result = self.inner.load(request).await;
        self.load_us.fetch_add(micros(started), Ordering::Relaxed);
        result
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.commit(changes).await;
        self.commit_us.fetch_add(micros(started), Ordering::Relaxed);
        result
    }

    async fn stale_holds(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Hold>, StoreError> {
        self.inner.stale_holds(created_before, limit).await
    }

    async fn due_obligations(
        &self,
        due_by: NaiveDate,
        limit: u32,
    ) -> Result<Vec<Obligation>, StoreError> {
        self.inner.due_obligations(due_by, limit).await
    }
}

fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

async fn run(label: &str, events: usize, accounts: usize, batch_size_max: usize) -> f64 {
    let accounts = accounts.min(events).max(1);
    let broker = EmbeddedBroker::start(&KafkaSettings::default()).expect("embedded broker");
    let settings = broker.client_settings(&KafkaSettings {
        batch_size_max,
        group_id: format!("throughput-{label}"),
        ..KafkaSettings::default()
    });
    let database = TestDatabase::mysql().await;
    let service = WalletService::new(database.store().clone(), Currency::BRL);

    let started = Instant::now();
    futures::stream::iter(0..accounts)
        .for_each_concurrent(16, |index| {
            let service = service.clone();
            async move {
                let operation = CashOperation {
                    user_id: UserId::parse(&format!("bench-{index}")).unwrap(),
                    amount: Money::parse_amount("amount", "100000.00", Currency::BRL).unwrap(),
                    idempotency_key: None,
                    request_id: uuid::Uuid::new_v4(),
                };
                service.deposit(&operation, Utc::now()).await.unwrap();
            }
        })
        .await;
    eprintln!(
        "{label}: {accounts} accounts deposited in {:.1?}",
        started.elapsed()
    );

    let started = Instant::now();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let records = workload(events, accounts);
    for chunk in records.chunks(20_000) {
        let sends = chunk.iter().map(|(key, value)| {
            producer.send(
                FutureRecord::to(&settings.order_events_topic)
                    .key(key)
                    .payload(value),
                Duration::from_secs(30),
            )
        });
        for result in futures::future::join_all(sends).await {
            result.map_err(|(error, _)| error).expect("produce");
        }
    }
    eprintln!(
        "{label}: {events} events produced in {:.1?}",
        started.elapsed()
    );

    let health = ConsumerHealth::new();
    let (stop, shutdown) = watch::channel(false);
    let timed = Timed {
        inner: database.store().clone(),
        load_us: Arc::default(),
        commit_us: Arc::default(),
    };
    let (load_us, commit_us) = (timed.load_us.clone(), timed.commit_us.clone());
    let consumer = OrderEventConsumer::new(
        &settings,
        WalletService::new(timed, Currency::BRL),
        health.clone(),
    )
    .unwrap();
    let task = tokio::spawn(consumer.run(shutdown));
    // The clock starts at the assignment: the mock cluster's first group join takes ~3 s.
    while health.snapshot().assigned_partitions == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    let total = events as u64;
    loop {
        let processed = health.snapshot().events_processed;
        if processed >= total {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1_800),
            "{label}: only {processed} of {total} events after 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    let snapshot = health.snapshot();
    #[allow(clippy::cast_precision_loss)]
    let rate = events as f64 / elapsed.as_secs_f64();
    println!(
        "{label}: {events} events over {accounts} accounts, batch_size_max {batch_size_max}: \
         {elapsed:.2?} → {rate:.0} events/s ({} commits; store.load {:.1} s, store.commit {:.1} s)",
        snapshot.batches_committed,
        Duration::from_micros(load_us.load(Ordering::Relaxed)).as_secs_f64(),
        Duration::from_micros(commit_us.load(Ordering::Relaxed)).as_secs_f64(),
    );
    database.cleanup().await;
    drop(broker);
    rate
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let mut args = std::env::args()
        .skip(1)
        .map(|arg| arg.parse::<usize>().expect("a number"));
    let events = args.next().unwrap_or(100_000);
    let batch1_events = args.next().unwrap_or(5_000);
    let accounts = args.next().unwrap_or(10_000);
    let batched = run(
        "batched",
        events,
        accounts,
        KafkaSettings::default().batch_size_max,
    )
    .await;
    let single = run("batch-1", batch1_events, accounts, 1).await;
    println!(
        "default batches: {batched:.0} events/s; batch size 1: {single:.0} events/s; ratio {:.1}×",
        batched / single
    );
}
