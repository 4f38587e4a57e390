//! `make bench` (SPEC §8, issue 8): one run on this machine, one table.
//!
//! 1. events/s end to end: the real release `wallet` binary consumes a pre-filled topic of an
//!    in-process mock cluster into MariaDB, then a paced run at half that rate gives the
//!    produce → commit latencies;
//!    1b. the same events with B3's fee schedule and D+2 settlement on, in the same run;
//! 2. the same with `kafka.batch_size_max = 1` (one transaction per event);
//! 3. the raw limit: the same row writes by plain batched SQL from the bench;
//! 4. summary req/s and latency over HTTP under `wrk`;
//! 5. the service's peak RSS during 1 and 4;
//! 6. holders/s of one cash dividend over 100,000 holders (corporate actions).
//!
//! Every database it creates is dropped and every Redis key deleted at the end. See
//! `docs/benchmarks.md` for the method and the numbers of a real run.

mod cpu;
mod dividend;
mod ingest;
mod progress;
mod raw_sql;
mod report;
mod seed;
mod service;
mod stats;
mod summary;

use std::time::{Duration, Instant};

use clap::Parser;
use wallet_e2e::workload::{Day, generate_day};
use wallet_kafka::{EmbeddedBroker, KafkaSettings};

use ingest::Run;
use report::Report;
use summary::SummaryLoad;

/// Order events per order in `generate_day`'s mix, rounded down, to size the workload.
const EVENTS_PER_ORDER_MIN: usize = 2;
/// The apply lanes of the services the bench starts, so the raw SQL run's writers: the
/// service's default (`kafka.apply_lanes`), or `WALLET__KAFKA__APPLY_LANES` when it is set in
/// the bench's environment, which the services inherit on top of their default configuration.
fn service_lanes() -> usize {
    std::env::var("WALLET__KAFKA__APPLY_LANES")
        .ok()
        .and_then(|lanes| lanes.parse().ok())
        .unwrap_or_else(|| KafkaSettings::default().apply_lanes)
}

/// The service's default batch size, used for the raw SQL batches too.
const BATCH_SIZE_DEFAULT: usize = 500;
/// Holders per transaction of measurement 6: `corporate_actions.batch_size` of
/// `config/default.toml`.
const DIVIDEND_BATCH_SIZE: u32 = 1_000;

/// Options; each can also be given by its environment variable.
#[derive(Debug, Parser)]
#[command(
    name = "wallet-bench",
    about = "Benchmarks of the wallet binary (SPEC §8)"
)]
struct Options {
    /// Order events of measurement 1 (and 3).
    #[arg(long, env = "BENCH_EVENTS", default_value_t = 200_000)]
    events: usize,
    /// Accounts the events are spread over.
    #[arg(long, env = "BENCH_ACCOUNTS", default_value_t = 10_000)]
    accounts: usize,
    /// Order events of measurement 2 (batch size 1).
    #[arg(long, env = "BENCH_BATCH1_EVENTS", default_value_t = 10_000)]
    batch1_events: usize,
    /// Seconds of the paced latency run.
    #[arg(long, env = "BENCH_PACED_SECONDS", default_value_t = 15)]
    paced_seconds: u64,
    /// Linger of the paced run's producer, in milliseconds (part of every latency measured).
    /// The mock cluster hands a consumer one producer batch per partition per fetch, so a
    /// linger much shorter than the fetch cycle makes the records queue in the broker: at 5 ms
    /// the median doubled within a run, at 10 it moves as little as at 20 (docs/benchmarks.md).
    #[arg(long, env = "BENCH_PACED_LINGER_MS", default_value_t = 10)]
    paced_linger_ms: u64,
    /// The paced service's `kafka.fetch_wait_ms_max`. The mock cluster holds a fetch that
    /// found nothing for the whole wait, even when records arrive meanwhile, and every record
    /// that arrives then waits it out; Apache Kafka answers as soon as data arrives. At the
    /// service's default of 10 ms that hold was 4–5 ms of the paced median and 7 ms of its
    /// p99 before a record reached the service; the CPU of the extra fetches is in the CPU
    /// rows (docs/benchmarks.md). It overrides `WALLET__KAFKA__FETCH_WAIT_MS_MAX` in the
    /// bench's environment for the paced service.
    #[arg(long, env = "BENCH_PACED_FETCH_WAIT_MS", default_value_t = 2)]
    paced_fetch_wait_ms: u64,
    /// Events/s of the paced run; 0 offers half of the measured throughput. A fixed rate lets
    /// two builds' latencies be compared at the same load.
    #[arg(long, env = "BENCH_PACED_RATE", default_value_t = 0)]
    paced_rate: u32,
    /// Seconds of the measured summary load.
    #[arg(long, env = "BENCH_SUMMARY_SECONDS", default_value_t = 15)]
    summary_seconds: u64,
    /// Concurrent HTTP connections of the summary load.
    #[arg(long, env = "BENCH_CONNECTIONS", default_value_t = 64)]
    connections: u32,
    /// Longest wait for one consuming run; past it the rate is taken from what was committed.
    #[arg(long, env = "BENCH_RUN_LIMIT_SECONDS", default_value_t = 150)]
    run_limit_seconds: u64,
    /// Holders of the dividend of measurement 6.
    #[arg(long, env = "BENCH_HOLDERS", default_value_t = 100_000)]
    holders: usize,
    /// Measurements to run, comma-separated: ingest, fees, batch1, raw, summary, dividend.
    #[arg(
        long,
        env = "BENCH_PHASES",
        default_value = "ingest,fees,batch1,raw,summary,dividend",
        value_delimiter = ','
    )]
    phases: Vec<String>,
}

impl Options {
    fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|wanted| wanted == phase)
    }
}

/// The first `count` events of a day generated for `accounts` users, with enough orders.
fn workload(seed: u64, accounts: usize, count: usize, first_order_id: u64) -> Day {
    let mut day = generate_day(
        seed,
        accounts,
        count / EVENTS_PER_ORDER_MIN + 1,
        first_order_id,
    );
    day.events.truncate(count);
    day
}

fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|line| line.strip_prefix("model name").map(str::to_owned))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let memory = read("/proc/meminfo")
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let load = read("/proc/loadavg");
    format!(
        "wallet-bench {} — {cores} cores, {cpu}, {}; load average at the end: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        memory.split_whitespace().collect::<Vec<_>>().join(" "),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = Options::parse();
    let started = Instant::now();
    let mut report = Report {
        events: options.events,
        accounts: options.accounts,
        batch1_events: options.batch1_events,
        summary_shape: (options.accounts, options.connections),
        ..Report::default()
    };
    if let Err(error) = service::binary() {
        eprintln!("wallet-bench: {error}");
        return std::process::ExitCode::FAILURE;
    }
    let limit = Duration::from_secs(options.run_limit_seconds);
    let broker = match EmbeddedBroker::start(&KafkaSettings::default()) {
        Ok(broker) => broker,
        Err(error) => {
            eprintln!("wallet-bench: mock cluster: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };

    // The day of measurement 1, with room after it for the paced run.
    let day = workload(1, options.accounts, options.events * 2, 1);
    let (events, paced_pool) = day.events.split_at(options.events.min(day.events.len()));

    if options.runs("ingest") {
        eprintln!("1. end to end, {} events", events.len());
        if let Err(error) = ingest(&broker, &day, events, paced_pool, &options, &mut report).await {
            report.failures.push(format!("measurement 1: {error}"));
        }
    }
    if options.runs("fees") {
        eprintln!(
            "1b. end to end with B3's fees and D+2, {} events",
            events.len()
        );
        let measured = async {
            let topic = ingest::new_topic("fees");
            ingest::create_mock_topics(&broker, &topic, ingest::PARTITIONS)?;
            let config = wallet_e2e::b3::market_config_file("");
            let settings = [("WALLET_CONFIG", config.display().to_string())];
            let mut run = Run::start(
                broker.bootstrap_servers(),
                &topic,
                events,
                &day.deposits,
                &settings,
            )
            .await?;
            let measured = run.measure(limit).await;
            let obligations = run.obligations().await;
            drop(run);
            let _ = std::fs::remove_file(&config);
            Ok::<_, String>((measured?, obligations?))
        };
        match measured.await {
            Ok(((rate, cpu), obligations)) => {
                report.fees = Some(rate);
                report.fees_cpu = Some(cpu);
                report.fees_obligations = Some(obligations);
            }
            Err(error) => report.failures.push(format!("measurement 1b: {error}")),
        }
    }
    if options.runs("batch1") {
        eprintln!("2. batch size 1, {} events", options.batch1_events);
        let small = workload(2, options.accounts, options.batch1_events, 1);
        let measured = async {
            let topic = ingest::new_topic("batch1");
            ingest::create_mock_topics(&broker, &topic, ingest::PARTITIONS)?;
            let mut run = Run::start(
                broker.bootstrap_servers(),
                &topic,
                &small.events,
                &small.deposits,
                &[("WALLET__KAFKA__BATCH_SIZE_MAX", "1".to_owned())],
            )
            .await?;
            run.measure(limit).await
        };
        match measured.await {
            Ok((rate, cpu)) => {
                report.batch1 = Some(rate);
                report.batch1_cpu = Some(cpu);
            }
            Err(error) => report.failures.push(format!("measurement 2: {error}")),
        }
    }
    if options.runs("raw") {
        eprintln!("3. raw SQL, {} events", events.len());
        match report.service_rows {
            Some(rows) => {
                // As many writers as the service has lanes, each pattern on a fresh database:
                // the service's statements first, then the reference of earlier rounds.
                for pattern in [raw_sql::Pattern::Text, raw_sql::Pattern::RoundTrips] {
                    let measured = async {
                        let database = seed::BenchDatabase::create().await?;
                        database.deposit(&day.deposits).await?;
                        let writers = (service_lanes(), pattern);
                        raw_sql::run(&database, events, BATCH_SIZE_DEFAULT, rows, writers).await
                    };
                    match measured.await {
                        Ok(raw) if pattern == raw_sql::Pattern::Text => report.raw = Some(raw),
                        Ok(raw) => report.raw_reference = Some(raw),
                        Err(error) => report.failures.push(format!("measurement 3: {error}")),
                    }
                }
            }
            None => report
                .failures
                .push("measurement 3 needs the row counts of measurement 1".to_owned()),
        }
    }
    if options.runs("summary") {
        eprintln!("4. summary over HTTP, {} connections", options.connections);
        let load = SummaryLoad {
            accounts: options.accounts,
            connections: options.connections,
            threads: 2,
            seconds: options.summary_seconds,
        };
        match summary::run(load).await {
            Ok(result) => report.summary = Some(result),
            Err(error) => report.failures.push(format!("measurement 4: {error}")),
        }
    }
    if options.runs("dividend") {
        eprintln!("6. one dividend over {} holders", options.holders);
        match dividend::run(options.holders, DIVIDEND_BATCH_SIZE).await {
            Ok(result) => report.dividend = Some(result),
            Err(error) => report.failures.push(format!("measurement 6: {error}")),
        }
    }
    drop(broker);
    eprintln!("wallet-bench took {:.0?}", started.elapsed());
    println!("{}", report.table(&machine()));
    if report.failures.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

/// Measurement 1: the throughput run and the service's rows, then the paced run.
async fn ingest(
    broker: &EmbeddedBroker,
    day: &Day,
    events: &[ingest::Event],
    paced_pool: &[ingest::Event],
    options: &Options,
    report: &mut Report,
) -> Result<(), String> {
    let limit = Duration::from_secs(options.run_limit_seconds);
    let topic = ingest::new_topic("ingest");
    ingest::create_mock_topics(broker, &topic, ingest::PARTITIONS)?;
    let mut run = Run::start(
        broker.bootstrap_servers(),
        &topic,
        events,
        &day.deposits,
        &[],
    )
    .await?;
    let (rate, cpu) = run.measure(limit).await?;
    report.throughput = Some(rate);
    report.ingest_cpu = Some(cpu);
    report.service_rows = Some(run.rows(day.deposits.len() as u64).await?);
    report.ingest_rss_kib = run.service.peak_rss_kib();
    drop(run);
    let per_second = if options.paced_rate > 0 {
        f64::from(options.paced_rate)
    } else {
        rate.records_per_second / 2.0
    };
    // Timing arithmetic: the count of events to offer in the paced window.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let count = ((per_second * options.paced_seconds as f64) as usize)
        .min(paced_pool.len().saturating_sub(WARM_UP_EVENTS));
    let (warm_up, paced) = paced_pool.split_at(WARM_UP_EVENTS.min(paced_pool.len()));
    let paced = &paced[..count];
    // On the mock cluster too: Tansu (tried) could not take 7,000 events/s (its SQLite log),
    // see docs/benchmarks.md for what the mock adds to these latencies.
    eprintln!(
        "  {per_second:.0} events/s offered for {} s, producer linger {} ms, consumer fetch wait {} ms",
        options.paced_seconds, options.paced_linger_ms, options.paced_fetch_wait_ms
    );
    let topic = ingest::new_topic("paced");
    ingest::create_mock_topics(broker, &topic, ingest::PACED_PARTITIONS)?;
    let pace = ingest::Pace {
        per_second,
        linger_ms: options.paced_linger_ms,
        fetch_wait_ms: options.paced_fetch_wait_ms,
    };
    let latency = paced_run(
        broker.bootstrap_servers(),
        &topic,
        day,
        (warm_up, paced),
        pace,
        limit,
        report,
    )
    .await?;
    report.latency = Some(latency);
    Ok(())
}

/// Events applied before the paced run, so that the group is joined and warm.
const WARM_UP_EVENTS: usize = 2_000;

/// The paced run on its own service and database: the warm-up events applied first (sent by
/// the paced producer, see [`Run::paced`]), then the paced ones offered at `per_second`.
async fn paced_run(
    bootstrap: &str,
    topic: &str,
    day: &Day,
    (warm_up, paced): (&[ingest::Event], &[ingest::Event]),
    pace: ingest::Pace,
    limit: Duration,
    report: &mut Report,
) -> Result<ingest::Latency, String> {
    let fetch_wait = [(
        "WALLET__KAFKA__FETCH_WAIT_MS_MAX",
        pace.fetch_wait_ms.to_string(),
    )];
    let mut run = Run::start(bootstrap, topic, &[], &day.deposits, &fetch_wait).await?;
    let latency = run.paced((warm_up, paced), pace, limit).await?;
    report.ingest_rss_kib = report.ingest_rss_kib.max(run.service.peak_rss_kib());
    Ok(latency)
}
