//! The cost of a summary: all its prices in one round trip to Redis.

use deadpool_redis::redis;
use wallet_domain::ports::PriceFeed;
use wallet_redis::{PriceKeyKind, RedisPriceConfig, RedisPriceFeed};

use crate::support::{
    TIMEOUT_MS_CONTENT, TestRedis, TurnCountingRelay, redis_url, ticker, url_address,
    url_with_address,
};

/// A feed that reaches Redis through `relay`, with one connection so every look-up shares it.
fn feed_through(
    relay: &TurnCountingRelay,
    redis: &TestRedis,
    kind: PriceKeyKind,
) -> RedisPriceFeed {
    let pattern = match kind {
        PriceKeyKind::Hash { .. } => "ticker:price:{ticker}",
        PriceKeyKind::String => "market:price:{ticker}",
    };
    RedisPriceFeed::new(&RedisPriceConfig {
        url: url_with_address(&redis_url(), &relay.address.to_string()).into(),
        key_pattern: redis.pattern(pattern),
        kind,
        timeout_ms: TIMEOUT_MS_CONTENT,
        pool_size: 1,
        ..RedisPriceConfig::default()
    })
    .unwrap()
}

/// A summary of 50 positions costs exactly one round trip, in both layouts.
///
/// How it is proven: the feed reaches Redis through [`TurnCountingRelay`], which counts the
/// times the client sends bytes after having received some. Any client that waits for an
/// answer before its next request (one round trip each) adds a turn per request, so one turn
/// for 50 prices (50 `HMGET`s, or an `MGET` and 50 `PTTL`s) means they all went out in one
/// write and came back before anything else was sent. The connection is opened first (its
/// handshake is not part of a summary), and the relay is shown to see sequential requests:
/// two `PING`s, one after the other, are two turns. Client-side counting rather than Redis's
/// `INFO` counters, because those are global to a server other tests share and count commands,
/// not round trips.
#[tokio::test]
async fn fifty_prices_cost_one_round_trip() {
    let mut redis = TestRedis::connect().await;
    let names: Vec<String> = (0..50).map(|index| format!("T{index:03}")).collect();
    for (index, name) in names.iter().enumerate() {
        let price = format!("{}.25", index + 1);
        let _: u64 = redis
            .run(
                redis::cmd("HSET")
                    .arg(redis.key("ticker:price:{ticker}", name))
                    .arg("price")
                    .arg(&price)
                    .arg("updatedAt")
                    .arg(chrono::Utc::now().timestamp()),
            )
            .await;
        let _: () = redis
            .run(
                redis::cmd("SET")
                    .arg(redis.key("market:price:{ticker}", name))
                    .arg(&price)
                    .arg("EX")
                    .arg(600),
            )
            .await;
    }
    let tickers: Vec<_> = names.iter().map(|name| ticker(name)).collect();
    let relay = TurnCountingRelay::start(url_address(&redis_url())).await;
    let mut measured = Vec::new();
    for kind in [PriceKeyKind::default_hash(), PriceKeyKind::String] {
        let feed = feed_through(&relay, &redis, kind.clone());
        let opened = feed.ping().await;
        relay.reset();
        let quotes = feed.quotes(&tickers).await;
        let summary_turns = relay.turns();
        relay.reset();
        let sequential = (feed.ping().await, feed.ping().await);
        let sequential_turns = relay.turns();
        measured.push((
            kind,
            opened,
            quotes,
            summary_turns,
            sequential,
            sequential_turns,
        ));
    }
    redis.cleanup().await;

    for (kind, opened, quotes, summary_turns, sequential, sequential_turns) in measured {
        opened.unwrap();
        let quotes = quotes.unwrap();
        assert_eq!(quotes.len(), 50, "{kind:?}: every price read");
        assert_eq!(
            quotes[&ticker("T049")].price.value().to_string(),
            "50.25",
            "{kind:?}"
        );
        assert!(quotes.values().all(|quote| quote.age_seconds.is_some()));
        assert_eq!(summary_turns, 1, "{kind:?}: 50 prices in one round trip");
        sequential.0.unwrap();
        sequential.1.unwrap();
        assert_eq!(
            sequential_turns, 2,
            "{kind:?}: the relay sees each round trip"
        );
    }
}
