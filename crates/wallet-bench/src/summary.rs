//! Measurement 4: `GET /summary` over HTTP at many concurrent connections, for accounts with
//! several positions each, priced from Redis, driven by `wrk` with a Lua script that rotates
//! over the users. The service runs HTTP only (`kafka.brokers = "none"`), so nothing else
//! competes with the requests but the load generator itself. It runs twice: as configured by
//! default (the read cache on) and with the read cache off, every read from MariaDB, the
//! design before the cache.

use std::process::Command;
use std::time::Duration;

use deadpool_redis::redis;

use crate::seed::BenchDatabase;
use crate::service::Service;
use crate::stats::{WrkReport, parse_wrk};

/// The tickers every account holds a position in.
pub const TICKERS: [&str; 5] = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3"];

/// Redis the service reads prices from.
const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// How the summary load is shaped.
#[derive(Debug, Clone, Copy)]
pub struct SummaryLoad {
    /// Accounts (each with a position in every ticker of [`TICKERS`]).
    pub accounts: usize,
    /// Concurrent HTTP connections.
    pub connections: u32,
    /// Load generator threads.
    pub threads: u32,
    /// Seconds measured (after a warm-up of a tenth of it, at least 2 s and 1 s per 1,000
    /// accounts).
    pub seconds: u64,
}

/// What the summary run measured.
#[derive(Debug, Clone)]
pub struct SummaryResult {
    /// wrk's report of the measured run, default settings.
    pub report: WrkReport,
    /// Peak RSS of that service at the end, in KiB.
    pub peak_rss_kib: Option<u64>,
    /// The service's read-cache (hits, misses) over warm-up and run, from `/metrics`.
    pub cache_counts: Option<(u64, u64)>,
    /// wrk's report with the read cache off.
    pub uncached: WrkReport,
}

/// One service's run.
struct Run {
    report: WrkReport,
    peak_rss_kib: Option<u64>,
    cache_counts: Option<(u64, u64)>,
}

/// Runs the summary load against a service of its own.
///
/// # Errors
/// A message naming what failed (database, Redis, service, wrk).
pub async fn run(load: SummaryLoad) -> Result<SummaryResult, String> {
    let database = BenchDatabase::create().await?;
    let users: Vec<String> = (0..load.accounts)
        .map(|index| format!("bench-summary-{index}"))
        .collect();
    let deposits: Vec<(String, String)> = users
        .iter()
        .map(|user| (user.clone(), "250000.00".to_owned()))
        .collect();
    database.deposit(&deposits).await?;
    database.positions(&users, &TICKERS, "100", "30.25").await?;

    // A key prefix of this run alone, deleted at the end.
    let prefix = format!("bench:{}:price:", uuid::Uuid::new_v4().simple());
    let prices = Prices::write(&prefix).await?;
    let cached = measure(&database, &prefix, &users, load, &[]).await;
    let uncached = match &cached {
        Ok(_) => {
            let off = [("WALLET__READ_CACHE__ACCOUNTS_MAX", "0".to_owned())];
            measure(&database, &prefix, &users, load, &off).await
        }
        Err(error) => Err(error.clone()),
    };
    prices.delete().await?;
    let (cached, uncached) = (cached?, uncached?);
    Ok(SummaryResult {
        report: cached.report,
        peak_rss_kib: cached.peak_rss_kib,
        cache_counts: cached.cache_counts,
        uncached: uncached.report,
    })
}

async fn measure(
    database: &BenchDatabase,
    prefix: &str,
    users: &[String],
    load: SummaryLoad,
    settings: &[(&str, String)],
) -> Result<Run, String> {
    let mut environment = vec![
        ("WALLET__DATABASE__URL", database.url()),
        ("WALLET__KAFKA__BROKERS", "none".to_owned()),
        ("WALLET__PRICES__REDIS_URL", REDIS_URL.to_owned()),
        ("WALLET__PRICES__KEY_PATTERN", format!("{prefix}{{ticker}}")),
    ];
    environment.extend(settings.iter().cloned());
    let mut service = Service::start("summary", &environment)?;
    service.wait_live(Duration::from_secs(60)).await?;
    check_one_summary(&service, &users[0]).await?;

    let script = std::env::temp_dir().join(format!(
        "wallet-bench-summary-{}.lua",
        uuid::Uuid::new_v4().simple()
    ));
    // Each wrk thread has its own Lua state: start each at a different user and rotate.
    let lua = format!(
        "local accounts = {}\n\
         local counter = 0\n\
         function setup(thread) thread:set(\"offset\", math.random(0, accounts - 1)) end\n\
         function init(args) counter = offset or 0 end\n\
         function request()\n\
           counter = (counter + 1) % accounts\n\
           return wrk.format(\"GET\", \"/api/v1/wallet/bench-summary-\" .. counter .. \"/summary\")\n\
         end\n",
        users.len()
    );
    std::fs::write(&script, lua).map_err(|error| format!("write the wrk script: {error}"))?;
    // Long enough for the cache to have loaded every account once (a miss costs ~0.5 ms of
    // CPU), so that the measured run shows the steady state; the misses are reported.
    let warm_up = (load.seconds / 10)
        .max(2)
        .max(u64::try_from(users.len() / 1_000).unwrap_or(u64::MAX));
    let url = service.base_url();
    let _ = wrk(&script, &url, load, warm_up, false)?;
    let output = wrk(&script, &url, load, load.seconds, true);
    let _ = std::fs::remove_file(&script);
    let report = parse_wrk(&output?)?;
    Ok(Run {
        report,
        peak_rss_kib: service.peak_rss_kib(),
        cache_counts: cache_counts(&service).await,
    })
}

/// `wallet_read_cache_total` by outcome from the service's `/metrics`; `None` when the cache
/// counted nothing (it is off).
async fn cache_counts(service: &Service) -> Option<(u64, u64)> {
    let url = format!("{}/metrics", service.base_url());
    let text = reqwest::get(&url).await.ok()?.text().await.ok()?;
    let count = |outcome: &str| {
        text.lines()
            .filter(|line| {
                line.starts_with("wallet_read_cache_total")
                    && line.contains(&format!("outcome=\"{outcome}\""))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>()
    };
    let (hits, misses) = (count("hit"), count("miss"));
    (hits + misses > 0).then_some((hits, misses))
}

/// One summary answers 200 with every position priced from Redis, so the load measures the
/// real path and not an error page.
async fn check_one_summary(service: &Service, user: &str) -> Result<(), String> {
    let url = format!("{}/api/v1/wallet/{user}/summary", service.base_url());
    let response = reqwest::get(&url)
        .await
        .map_err(|error| format!("GET {url}: {error}"))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|error| format!("summary body: {error}"))?;
    let positions = body["positions"].as_array().map_or(0, Vec::len);
    let from_redis = body["positions"]
        .as_array()
        .is_some_and(|list| list.iter().all(|p| p["priceSource"] == "REDIS"));
    if status.is_success() && positions == TICKERS.len() && from_redis {
        Ok(())
    } else {
        Err(format!("unexpected summary ({status}): {body}"))
    }
}

fn wrk(
    script: &std::path::Path,
    url: &str,
    load: SummaryLoad,
    seconds: u64,
    latency: bool,
) -> Result<String, String> {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(script);
    if latency {
        command.arg("--latency");
    }
    let output = command
        .arg(url)
        .output()
        .map_err(|error| format!("run wrk (apt-get install -y wrk): {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Expiry of the run's price keys: the asset service's.
const PRICE_EXPIRY_SECONDS: u64 = 600;

/// The prices of [`TICKERS`] under a key prefix of the run.
struct Prices {
    connection: redis::aio::MultiplexedConnection,
    keys: Vec<String>,
}

impl Prices {
    /// Writes every price in one pipeline as the broker's asset service does, and as the
    /// service reads them by default (`prices.key_kind = "string"`): a decimal string SETEX'd
    /// with a 10-minute expiry, long enough for the run.
    async fn write(prefix: &str) -> Result<Prices, String> {
        let client = redis::Client::open(REDIS_URL).map_err(|error| error.to_string())?;
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|error| format!("connect to Redis at {REDIS_URL}: {error}"))?;
        let keys: Vec<String> = TICKERS
            .iter()
            .map(|ticker| format!("{prefix}{ticker}"))
            .collect();
        let mut pipeline = redis::pipe();
        for (index, key) in keys.iter().enumerate() {
            pipeline
                .set_ex(
                    key,
                    format!("{}.{:02}", 30 + index, 17 * index % 100),
                    PRICE_EXPIRY_SECONDS,
                )
                .ignore();
        }
        pipeline
            .query_async::<()>(&mut connection)
            .await
            .map_err(|error| format!("write prices: {error}"))?;
        Ok(Prices { connection, keys })
    }

    /// Deletes the run's keys.
    async fn delete(mut self) -> Result<(), String> {
        redis::cmd("DEL")
            .arg(&self.keys)
            .query_async::<()>(&mut self.connection)
            .await
            .map_err(|error| format!("delete prices: {error}"))
    }
}
