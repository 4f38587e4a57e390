//! Measurements 1 and 2: order events applied end to end, from a topic of the in-process mock
//! cluster through the real `wallet` process into MariaDB.
//!
//! A run owns a fresh database (accounts deposited in SQL first), fresh topics filled before the
//! service starts, and a service process with its own consumer group. Throughput is counted from
//! the group's committed offsets (see [`crate::progress`]) between the first commit and the
//! last, so start-up and the group join are left out.

use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use wallet_kafka::EmbeddedBroker;

use crate::cpu::{CpuMark, CpuUse};
use crate::progress::{self, Rate, Watch};
use crate::seed::BenchDatabase;
use crate::service::Service;
use crate::stats::percentile;

/// Partitions of each run's input topic. The mock cluster keeps at most 5 MiB per partition
/// and silently drops older records past that (`rdkafka_mock.c`, `max_size`); 16 partitions
/// hold 200,000 events of ~250 bytes with room to spare. [`check_retained`] proves it per run.
pub const PARTITIONS: i32 = 16;

/// Partitions of the paced run's input topic. The mock finds the record set a fetch asks for
/// by walking the partition's list of them from its start ("FIXME: Maintain an index",
/// `rdkafka_mock.c`), and the paced producer adds one per partition per linger: with 16
/// partitions the bench's own CPU grew from a third of a core to more than half within a run
/// and the latencies grew with it. Four partitions make a quarter of the record sets, and
/// past 5 MiB each the mock drops the oldest (consumed) ones, which bounds the walk.
pub const PACED_PARTITIONS: i32 = 4;

/// One key and JSON value, as the Order API produces them.
pub type Event = (String, Vec<u8>);

/// A service consuming its own topic into its own database.
#[derive(Debug)]
pub struct Run {
    /// The run's database.
    pub database: BenchDatabase,
    /// The service process.
    pub service: Service,
    bootstrap: String,
    topic: String,
    group: String,
    /// Partitions of the topic.
    partitions: i32,
    /// Records produced to the topic so far.
    produced: u64,
}

/// Rows the service left in its tables, beyond what the seeding wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowCounts {
    /// Hold rows.
    pub holds: u64,
    /// Ledger rows written by the service (deposits left out).
    pub ledger: u64,
    /// Outbox rows.
    pub outbox: u64,
    /// Wallet events in the outbox rows.
    pub outbox_events: u64,
    /// Position rows.
    pub positions: u64,
}

/// How a paced run offers its events.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Events produced per second.
    pub per_second: f64,
    /// The producer's `linger.ms`: a record waits up to this long for its batch to leave.
    pub linger_ms: u64,
    /// The service's `kafka.fetch_wait_ms_max`.
    pub fetch_wait_ms: u64,
}

/// Produce-to-commit latencies of a paced run.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// How the events were offered.
    pub pace: Pace,
    /// Events produced.
    pub events: usize,
    /// Events whose commit was not seen before the time limit.
    pub missing: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
}

impl Run {
    /// Produces `events` to `topic` (created with [`topics_of`] by the caller) at `bootstrap`,
    /// creates and seeds the database with `deposits`, and starts the service
    /// (`batch_size_max` overrides the default when given).
    ///
    /// # Errors
    /// A message naming what failed.
    pub async fn start(
        bootstrap: &str,
        topic: &str,
        events: &[Event],
        deposits: &[(String, String)],
        settings: &[(&'static str, String)],
    ) -> Result<Run, String> {
        let [topic, dead_letters, wallet_events] = topics_of(topic);
        let label = topic.as_str();
        let bootstrap = bootstrap.to_owned();
        let started = Instant::now();
        let producer = wallet_e2e::kafka::producer(&bootstrap);
        produce_all(&producer, &topic, events).await?;
        let partitions = check_retained(&bootstrap, &topic, events.len())?;
        eprintln!(
            "  {label}: {} events produced in {:.1?}",
            events.len(),
            started.elapsed()
        );
        let database = BenchDatabase::create().await?;
        let started = Instant::now();
        database.deposit(deposits).await?;
        eprintln!(
            "  {label}: {} accounts deposited in SQL in {:.1?}",
            deposits.len(),
            started.elapsed()
        );
        let group = topic.clone();
        let mut env = vec![
            ("WALLET__DATABASE__URL", database.url()),
            ("WALLET__KAFKA__BROKERS", bootstrap.clone()),
            ("WALLET__KAFKA__GROUP_ID", group.clone()),
            ("WALLET__KAFKA__ORDER_EVENTS_TOPIC", topic.clone()),
            ("WALLET__KAFKA__DEAD_LETTER_TOPIC", dead_letters),
            ("WALLET__KAFKA__WALLET_EVENTS_TOPIC", wallet_events),
        ];
        env.extend(settings.iter().cloned());
        let service = Service::start("ingest", &env)?;
        Ok(Run {
            database,
            service,
            bootstrap,
            topic,
            group,
            partitions,
            produced: events.len() as u64,
        })
    }

    /// Waits until every produced record is committed, or `limit` passed; the rate between the
    /// first commit and the last one seen, and the CPU the processes used meanwhile.
    ///
    /// # Errors
    /// A message when the service died or committed nothing.
    pub async fn measure(&mut self, limit: Duration) -> Result<(Rate, CpuUse), String> {
        let mark = CpuMark::now(self.service.pid().unwrap_or_default());
        let watch = self.watch(self.produced);
        let samples = self.wait(watch, limit).await?;
        let cpu = mark.since();
        let rate = progress::rate(&samples).ok_or_else(|| {
            format!(
                "the service committed nothing within {limit:?}:\n{}",
                self.service.log_tail()
            )
        })?;
        Ok((rate, cpu))
    }

    /// Rows the service wrote so far, beyond `deposits` seeded ledger rows.
    ///
    /// # Errors
    /// The database's message.
    pub async fn rows(&self, deposits: u64) -> Result<RowCounts, String> {
        Ok(RowCounts {
            holds: self.database.count("holds").await?,
            ledger: self.database.count("ledger_entries").await? - deposits,
            outbox: self.database.count("outbox").await?,
            // A binary from before `event_count` (WALLET_BENCH_BINARY) wrote one event a row,
            // or one user's few: its rows stand for their events.
            outbox_events: match self.database.sum("outbox", "event_count").await {
                Ok(events) => events,
                Err(_) => self.database.count("outbox").await?,
            },
            positions: self.database.count("positions").await?,
        })
    }

    /// Settlement obligations the service created (the fills of a D+n run).
    ///
    /// # Errors
    /// The database's message.
    pub async fn obligations(&self) -> Result<u64, String> {
        self.database.count("settlement_obligations").await
    }

    /// Produces `warm_up` and waits for its commit, then produces `events` at `per_second`
    /// (after what was produced before) and measures each one's time from its send to the
    /// commit of its offset.
    ///
    /// One producer sends both, so that it is connected to the partitions' leaders before the
    /// clock starts, as a long-running Order API's producer is. A fresh one connected while
    /// the first paced records waited: at 16,245 events/s the first tenth of a second took
    /// 27–118 ms against 8–65 ms in the next ones; with the warm-up, 10–46 ms.
    ///
    /// # Errors
    /// A message when producing fails or the service dies.
    pub async fn paced(
        &mut self,
        (warm_up, events): (&[Event], &[Event]),
        pace: Pace,
        limit: Duration,
    ) -> Result<Latency, String> {
        // acks=all like the Order API's producer. The linger is part of each latency; the mock
        // cluster hands the consumer one producer batch per partition per fetch, so a linger
        // too short for the rate would cap consumption below it (docs/benchmarks.md).
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("acks", "all")
            .set("linger.ms", pace.linger_ms.to_string())
            .create()
            .map_err(|error| format!("paced producer: {error}"))?;
        produce_all(&producer, &self.topic, warm_up).await?;
        self.produced += warm_up.len() as u64;
        self.measure(limit).await?;
        let target = self.produced + events.len() as u64;
        let watch = self.watch(target);
        let started = tokio::time::Instant::now();
        let mut deliveries = Vec::with_capacity(events.len());
        for (index, (key, value)) in events.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let due = started + Duration::from_secs_f64(index as f64 / pace.per_second);
            // A record already due goes at once: the timer has a resolution of 1 ms, so most
            // records are due when the loop reaches them, and a sleep for each one registered
            // a timer 13,000 times a second on the thread that also measures.
            if due > tokio::time::Instant::now() {
                tokio::time::sleep_until(due).await;
            }
            let record = FutureRecord::to(&self.topic).key(key).payload(value);
            let delivery = producer
                .send_result(record)
                .map_err(|(error, _)| format!("paced produce: {error}"))?;
            deliveries.push((Instant::now(), delivery));
        }
        let mut sent = Vec::with_capacity(deliveries.len());
        for (at, delivery) in deliveries {
            match delivery.await {
                Ok(Ok(delivered)) => sent.push((at, delivered.partition, delivered.offset)),
                Ok(Err((error, _))) => return Err(format!("paced produce: {error}")),
                Err(_) => return Err("paced produce: delivery cancelled".to_owned()),
            }
        }
        self.produced = target;
        let samples = self.wait(watch, limit).await?;
        let timed: Vec<(Instant, Duration)> = sent
            .iter()
            .filter_map(|(at, partition, offset)| {
                let partition = usize::try_from(*partition).ok()?;
                progress::commit_time(&samples, partition, *offset)
                    .map(|committed| (*at, committed.saturating_duration_since(*at)))
            })
            .collect();
        print_by_second(&timed);
        let mut latencies: Vec<Duration> = timed.iter().map(|(_, latency)| *latency).collect();
        latencies.sort_unstable();
        Ok(Latency {
            pace,
            events: events.len(),
            missing: events.len() - latencies.len(),
            p50: percentile(&latencies, 50.0).unwrap_or_default(),
            p99: percentile(&latencies, 99.0).unwrap_or_default(),
        })
    }

    /// A poll of the group's commits on the topic, until `target` records are committed.
    fn watch(&self, target: u64) -> Watch {
        Watch::start(
            &self.bootstrap,
            &self.group,
            &self.topic,
            self.partitions,
            target,
        )
    }

    async fn wait(
        &mut self,
        watch: Watch,
        limit: Duration,
    ) -> Result<Vec<progress::Sample>, String> {
        let deadline = Instant::now() + limit;
        while !watch.is_done() && Instant::now() < deadline {
            if !self.service.is_running() {
                let _ = watch.finish();
                return Err(format!(
                    "the service exited during the run:\n{}",
                    self.service.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !watch.is_done() {
            eprintln!("  time limit of {limit:?} reached: measuring what was committed");
        }
        watch.finish()
    }
}

/// A fresh topic name for a run labelled `label`.
#[must_use]
pub fn new_topic(label: &str) -> String {
    format!("bench-{label}-{}", uuid::Uuid::new_v4().simple())
}

/// The input, dead-letter and wallet-events topics of a run on `topic`.
#[must_use]
pub fn topics_of(topic: &str) -> [String; 3] {
    [
        topic.to_owned(),
        format!("{topic}.DLT"),
        format!("{topic}-out"),
    ]
}

/// Creates the topics of a run on `topic` in the mock cluster, each with `partitions`.
///
/// # Errors
/// The cluster's message.
pub fn create_mock_topics(
    broker: &EmbeddedBroker,
    topic: &str,
    partitions: i32,
) -> Result<(), String> {
    for name in topics_of(topic) {
        broker
            .create_topic(&name, partitions)
            .map_err(|error| format!("create topic {name}: {error}"))?;
    }
    Ok(())
}

/// Records produced before their acknowledgements are awaited.
const IN_FLIGHT_MAX: usize = 20_000;

/// Produces `events` to `topic` as fast as the client batches them, and waits until the
/// broker acknowledged every one.
///
/// `send_result` hands a record to the client at once; awaiting `FutureProducer::send` one
/// record at a time would instead pay a linger and a round trip per record.
async fn produce_all(
    producer: &FutureProducer,
    topic: &str,
    events: &[Event],
) -> Result<(), String> {
    let mut in_flight: Vec<DeliveryFuture> = Vec::with_capacity(IN_FLIGHT_MAX);
    for (key, value) in events {
        let mut record = FutureRecord::to(topic).key(key).payload(value);
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    in_flight.push(delivery);
                    break;
                }
                // The client's queue is full: let acknowledgements drain it.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err((error, _)) => return Err(format!("produce to {topic}: {error}")),
            }
        }
        if in_flight.len() >= IN_FLIGHT_MAX {
            acknowledge(topic, &mut in_flight).await?;
        }
    }
    acknowledge(topic, &mut in_flight).await
}

async fn acknowledge(topic: &str, in_flight: &mut Vec<DeliveryFuture>) -> Result<(), String> {
    for delivery in in_flight.drain(..) {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((error, _))) => return Err(format!("produce to {topic}: {error}")),
            Err(_) => return Err(format!("produce to {topic}: delivery cancelled")),
        }
    }
    Ok(())
}

/// Latency by second of the paced run, on stderr: shows whether the service kept up (flat) or
/// fell behind (growing).
fn print_by_second(timed: &[(Instant, Duration)]) {
    let Some((start, _)) = timed.first() else {
        return;
    };
    let mut seconds: Vec<Vec<Duration>> = Vec::new();
    for (at, latency) in timed {
        let second = usize::try_from(at.duration_since(*start).as_secs()).unwrap_or(usize::MAX);
        if seconds.len() <= second {
            seconds.resize(second + 1, Vec::new());
        }
        seconds[second].push(*latency);
    }
    for (second, mut latencies) in seconds.into_iter().enumerate() {
        latencies.sort_unstable();
        let p50 = percentile(&latencies, 50.0).unwrap_or_default();
        let p99 = percentile(&latencies, 99.0).unwrap_or_default();
        eprintln!(
            "  second {second:>3}: {:>6} events, p50 {:>7.1?}, p99 {:>7.1?}",
            latencies.len(),
            p50,
            p99
        );
    }
}

/// The partitions of `topic`; fails unless every one still starts at offset 0 and they hold
/// `count` records in all: the committed offsets then count applied events exactly.
fn check_retained(bootstrap: &str, topic: &str, count: usize) -> Result<i32, String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("{topic}-watermarks"))
        .create()
        .map_err(|error| format!("watermark client: {error}"))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|error| format!("metadata of {topic}: {error}"))?;
    let partitions = metadata
        .topics()
        .iter()
        .map(|topic| topic.partitions().len())
        .sum::<usize>();
    let partitions =
        i32::try_from(partitions).map_err(|_| format!("{topic}: too many partitions"))?;
    let mut held = 0;
    for partition in 0..partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, Duration::from_secs(10))
            .map_err(|error| format!("watermarks of {topic}/{partition}: {error}"))?;
        if low != 0 {
            return Err(format!(
                "the broker dropped the first {low} records of {topic}/{partition} (the mock \
                 keeps 5 MiB per partition): use fewer events or more partitions"
            ));
        }
        held += high;
    }
    if usize::try_from(held).ok() == Some(count) {
        Ok(partitions)
    } else {
        Err(format!(
            "{topic} holds {held} records, {count} were produced"
        ))
    }
}
