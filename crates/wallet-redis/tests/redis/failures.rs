//! Redis unreachable, silent or restarted: the look-up fails fast with an error (so the summary
//! falls back to last trades), is counted, and the feed recovers by itself.

use std::time::{Duration, Instant};

use deadpool_redis::redis;
use tokio::net::TcpListener;
use wallet_domain::ports::PriceFeed;
use wallet_redis::{PriceKeyKind, RedisPriceConfig, RedisPriceFeed};

use crate::support::{
    CountingRecorder, TIMEOUT_MS_CONTENT, TestRedis, TurnCountingRelay, redis_url, ticker,
    url_address, url_with_address,
};

/// An answer slower than this is a hang, whatever the load on the machine.
const HANG: Duration = Duration::from_secs(5);

fn feed_at(url: String, timeout_ms: u64) -> RedisPriceFeed {
    RedisPriceFeed::new(&RedisPriceConfig {
        url: url.into(),
        timeout_ms,
        pool_size: 1,
        ..RedisPriceConfig::default()
    })
    .unwrap()
}

/// A closed port gives `Err(PriceFeedError)` at once, for look-ups and readiness alike, and
/// each failed look-up is counted.
#[tokio::test]
async fn closed_port_fails_fast_and_is_counted() {
    let recorder = CountingRecorder::default();
    let _local = metrics::set_default_local_recorder(&recorder);
    let feed = feed_at("redis://127.0.0.1:1".to_owned(), 200);
    let started = Instant::now();
    let first = feed.quotes(&[ticker("PETR4")]).await;
    let second = feed.quotes(&[ticker("PETR4"), ticker("VALE3")]).await;
    let ready = feed.ping().await;
    let elapsed = started.elapsed();

    assert!(first.is_err() && second.is_err() && ready.is_err());
    assert!(elapsed < HANG, "took {elapsed:?}");
    assert_eq!(recorder.get("wallet_price_feed_errors_total{}"), 3);
    assert_eq!(recorder.get("wallet_price_lookups_total{result=miss}"), 0);
}

/// A server that accepts connections and never answers is cut off by the timeout: an error
/// shortly after it, not a hang.
#[tokio::test]
async fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // Holds the accepted sockets open without ever writing to them.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let feed = feed_at(format!("redis://{address}"), 100);
    let started = Instant::now();
    let quotes = feed.quotes(&[ticker("PETR4")]).await;
    let elapsed = started.elapsed();
    silent.abort();

    // The pool's connect timeout or the look-up's own, whichever fires first: both are the
    // configured 100 ms.
    assert!(quotes.is_err(), "{quotes:?}");
    assert!(elapsed >= Duration::from_millis(100), "took {elapsed:?}");
    assert!(elapsed < HANG, "took {elapsed:?}");
}

/// When the connection to Redis breaks, the look-up in flight fails and the next one opens a
/// new connection: the feed heals without a restart.
#[tokio::test]
async fn feed_recovers_after_the_connection_breaks() {
    let mut redis = TestRedis::connect().await;
    let _: u64 = redis
        .run(
            redis::cmd("HSET")
                .arg(redis.key("ticker:price:{ticker}", "PETR4"))
                .arg("price")
                .arg("38.55"),
        )
        .await;
    let relay = TurnCountingRelay::start(url_address(&redis_url())).await;
    let feed = RedisPriceFeed::new(&RedisPriceConfig {
        url: url_with_address(&redis_url(), &relay.address.to_string()).into(),
        key_pattern: redis.pattern("ticker:price:{ticker}"),
        kind: PriceKeyKind::default_hash(),
        timeout_ms: TIMEOUT_MS_CONTENT,
        pool_size: 1,
        ..RedisPriceConfig::default()
    })
    .unwrap();
    let before = feed.quotes(&[ticker("PETR4")]).await;
    relay.sever();
    let broken = feed.quotes(&[ticker("PETR4")]).await;
    let healed = feed.quotes(&[ticker("PETR4")]).await;
    redis.cleanup().await;

    assert_eq!(before.unwrap().len(), 1);
    assert!(broken.is_err(), "the severed connection cannot answer");
    assert_eq!(healed.unwrap().len(), 1, "a new connection is opened");
}

/// A connection slower to open than a look-up may wait is still opened: the look-ups that
/// gave up fall back, and a later one finds the connection ready. (Were connecting part of
/// the look-up, each attempt would abandon it and the feed would never connect.)
#[tokio::test]
async fn slow_connect_is_finished_in_the_background() {
    let mut redis = TestRedis::connect().await;
    let _: u64 = redis
        .run(
            redis::cmd("HSET")
                .arg(redis.key("ticker:price:{ticker}", "PETR4"))
                .arg("price")
                .arg("38.55"),
        )
        .await;
    let relay = TurnCountingRelay::with_handshake_delay(
        url_address(&redis_url()),
        Duration::from_millis(300),
    )
    .await;
    let feed = RedisPriceFeed::new(&RedisPriceConfig {
        url: url_with_address(&redis_url(), &relay.address.to_string()).into(),
        key_pattern: redis.pattern("ticker:price:{ticker}"),
        kind: PriceKeyKind::default_hash(),
        timeout_ms: 100,
        connect_timeout_ms: 10_000,
        pool_size: 1,
        ..RedisPriceConfig::default()
    })
    .unwrap();
    let first = feed.quotes(&[ticker("PETR4")]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut later = feed.quotes(&[ticker("PETR4")]).await;
    while later.is_err() && Instant::now() < deadline {
        // Polling interval between attempts, each bounded by the 100 ms budget.
        tokio::time::sleep(Duration::from_millis(10)).await;
        later = feed.quotes(&[ticker("PETR4")]).await;
    }
    redis.cleanup().await;

    assert!(
        first.is_err(),
        "the handshake takes 300 ms, the budget is 100 ms"
    );
    assert_eq!(later.unwrap().len(), 1, "connected in the background");
}
