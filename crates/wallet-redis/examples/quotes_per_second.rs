//! How many summaries' worth of prices one task reads per second: `quotes` for 5 tickers in a
//! loop for about 2 s against the Redis at `WALLET_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`), for each key layout. A measurement to print, not a timed test
//! (SPEC §8).
//!
//! `cargo run --release -p wallet-redis --example quotes_per_second`

use std::time::{Duration, Instant};

use deadpool_redis::redis;
use wallet_domain::Ticker;
use wallet_domain::ports::PriceFeed;
use wallet_redis::{PriceKeyKind, RedisPriceConfig, RedisPriceFeed};

/// How long each layout's loop runs.
const RUN_DURATION: Duration = Duration::from_secs(2);
/// A summary of five positions.
const TICKERS: [&str; 5] = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3"];

type Error = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let url = std::env::var("WALLET_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("bench:{}:", uuid::Uuid::new_v4());
    let hash_pattern = format!("{prefix}ticker:price:{{ticker}}");
    let string_pattern = format!("{prefix}market:price:{{ticker}}");
    let mut fixtures = redis::Client::open(url.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let mut keys = Vec::new();
    for name in TICKERS {
        let hash_key = hash_pattern.replace("{ticker}", name);
        let string_key = string_pattern.replace("{ticker}", name);
        // Expiries remove the keys even if this run is killed before it deletes them.
        let _: () = redis::pipe()
            .hset(&hash_key, "price", "38.55")
            .ignore()
            .hset(&hash_key, "updatedAt", chrono::Utc::now().timestamp())
            .ignore()
            .expire(&hash_key, 600)
            .ignore()
            .set_ex(&string_key, "38.55", 600)
            .ignore()
            .query_async(&mut fixtures)
            .await?;
        keys.extend([hash_key, string_key]);
    }
    let layouts = [
        ("hash", PriceKeyKind::default_hash(), &hash_pattern),
        ("string with expiry", PriceKeyKind::String, &string_pattern),
    ];
    let mut results = Vec::new();
    for (name, kind, pattern) in layouts {
        results.push((name, measure(&url, pattern, kind).await));
    }
    let _: u64 = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut fixtures)
        .await?;
    for (name, result) in results {
        let (summaries, elapsed) = result?;
        println!(
            "{name}: {summaries} look-ups of 5 tickers in {:.2} s: {:.0} summaries/s from one task",
            elapsed.as_secs_f64(),
            summaries as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}

/// Look-ups done in [`RUN_DURATION`] by one task, and the time they took.
async fn measure(url: &str, pattern: &str, kind: PriceKeyKind) -> Result<(u64, Duration), Error> {
    let feed = RedisPriceFeed::new(&RedisPriceConfig {
        url: url.to_owned().into(),
        key_pattern: pattern.to_owned(),
        kind,
        timeout_ms: 1_000,
        ..RedisPriceConfig::default()
    })?;
    let tickers: Vec<Ticker> = TICKERS
        .iter()
        .map(|name| Ticker::parse(name))
        .collect::<Result<_, _>>()?;
    feed.ping().await?;
    let started = Instant::now();
    let mut summaries: u64 = 0;
    while started.elapsed() < RUN_DURATION {
        let quotes = feed.quotes(&tickers).await?;
        assert_eq!(quotes.len(), TICKERS.len(), "every price is there");
        summaries += 1;
    }
    Ok((summaries, started.elapsed()))
}
