//! The two key layouts, and the keys that hold no usable price: missing, garbage, expired.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use deadpool_redis::redis;
use wallet_domain::ports::PriceFeed;
use wallet_redis::PriceKeyKind;

use crate::support::{CountingRecorder, TestRedis, ticker};

const HASH_PATTERN: &str = "ticker:price:{ticker}";
const STRING_PATTERN: &str = "market:price:{ticker}";

/// The default hash layout yields exact prices and their age from `updatedAt` in each of its
/// three notations, and no age where the writer records none.
#[tokio::test]
async fn hash_layout_reads_price_and_age_from_updated_at() {
    let mut redis = TestRedis::connect().await;
    let written = Utc::now() - chrono::Duration::seconds(30);
    let fixtures = [
        ("PETR4", "38.55", Some(written.timestamp().to_string())),
        (
            "VALE3",
            "5E+1",
            Some(written.timestamp_millis().to_string()),
        ),
        (
            "ITUB4",
            "12.34567891",
            Some(written.to_rfc3339_opts(SecondsFormat::Millis, true)),
        ),
        ("BBAS3", "7", None),
    ];
    for (name, price, updated_at) in &fixtures {
        let mut command = redis::cmd("HSET");
        command
            .arg(redis.key(HASH_PATTERN, name))
            .arg("price")
            .arg(price);
        if let Some(updated_at) = updated_at {
            command.arg("updatedAt").arg(updated_at);
        }
        let _: u64 = redis.run(&mut command).await;
    }
    let feed = redis.feed(HASH_PATTERN, PriceKeyKind::default_hash());
    let tickers: Vec<_> = fixtures.iter().map(|(name, ..)| ticker(name)).collect();
    let quotes = feed.quotes(&tickers).await;
    redis.cleanup().await;

    let quotes = quotes.unwrap();
    assert_eq!(quotes.len(), 4);
    let price = |name: &str| quotes[&ticker(name)].price.value().to_string();
    let age = |name: &str| quotes[&ticker(name)].age_seconds;
    assert_eq!(price("PETR4"), "38.55");
    assert_eq!(price("VALE3"), "50");
    assert_eq!(price("ITUB4"), "12.34567891");
    assert_eq!(price("BBAS3"), "7");
    for name in ["PETR4", "VALE3", "ITUB4"] {
        let age = age(name).unwrap_or_else(|| panic!("{name} has an updatedAt, so an age"));
        // Written 30 s before the look-up; the look-up itself takes well under the slack.
        assert!((30..=35).contains(&age), "{name} age {age}");
    }
    assert_eq!(age("BBAS3"), None);
}

/// The asset service's layout (a plain string with a 10-minute expiry) yields the price and
/// its age from the expiry left; a string without expiry has a price but no known age.
#[tokio::test]
async fn string_layout_reads_price_and_age_from_expiry() {
    let mut redis = TestRedis::connect().await;
    // As if written 42 s ago with the 600 s expiry.
    let _: () = redis
        .run(
            redis::cmd("SET")
                .arg(redis.key(STRING_PATTERN, "PETR4"))
                .arg("38.55")
                .arg("PX")
                .arg(558_000),
        )
        .await;
    let _: () = redis
        .run(
            redis::cmd("SET")
                .arg(redis.key(STRING_PATTERN, "VALE3"))
                .arg("61.2"),
        )
        .await;
    let feed = redis.feed(STRING_PATTERN, PriceKeyKind::String);
    let quotes = feed.quotes(&[ticker("PETR4"), ticker("VALE3")]).await;
    redis.cleanup().await;

    let quotes = quotes.unwrap();
    let petr4 = quotes[&ticker("PETR4")];
    assert_eq!(petr4.price.value().to_string(), "38.55");
    let age = petr4.age_seconds.expect("an expiring key has an age");
    assert!((42..=47).contains(&age), "age {age}");
    let vale3 = quotes[&ticker("VALE3")];
    assert_eq!(vale3.price.value().to_string(), "61.2");
    assert_eq!(vale3.age_seconds, None);
}

/// A ticker without a key, or a hash without the price field, is absent (not an error, not a
/// zero), and counted as a miss; a look-up is one duration sample.
#[tokio::test]
async fn missing_prices_are_absent_and_counted() {
    let recorder = CountingRecorder::default();
    let _local = metrics::set_default_local_recorder(&recorder);
    let mut redis = TestRedis::connect().await;
    let _: u64 = redis
        .run(
            redis::cmd("HSET")
                .arg(redis.key(HASH_PATTERN, "VALE3"))
                .arg("updatedAt")
                .arg("1795741200"),
        )
        .await;
    let feed = redis.feed(HASH_PATTERN, PriceKeyKind::default_hash());
    let quotes = feed.quotes(&[ticker("PETR4"), ticker("VALE3")]).await;
    redis.cleanup().await;

    assert!(quotes.unwrap().is_empty());
    assert_eq!(recorder.get("wallet_price_lookups_total{result=miss}"), 2);
    assert_eq!(recorder.get("wallet_price_lookups_total{result=hit}"), 0);
    assert_eq!(recorder.get("wallet_price_lookup_seconds{}"), 1);
}

/// Values that are not prices (text, zero, negative, more than eight decimals, a key of the
/// wrong type) are absent and counted as garbage, while a good price in the same look-up is
/// still read: garbage is never valued, and never spoils the others.
#[tokio::test]
async fn garbage_values_are_absent_counted_and_spare_the_others() {
    let recorder = CountingRecorder::default();
    let _local = metrics::set_default_local_recorder(&recorder);
    let mut redis = TestRedis::connect().await;
    let garbage = [
        ("GARB1", "abc"),
        ("GARB2", "0"),
        ("GARB3", "-3.5"),
        ("GARB4", "1.123456789"),
    ];
    for (name, value) in garbage {
        let _: u64 = redis
            .run(
                redis::cmd("HSET")
                    .arg(redis.key(HASH_PATTERN, name))
                    .arg("price")
                    .arg(value),
            )
            .await;
    }
    // A string where a hash is expected: Redis answers WRONGTYPE for this key only.
    let _: () = redis
        .run(
            redis::cmd("SET")
                .arg(redis.key(HASH_PATTERN, "WRONG"))
                .arg("38.55"),
        )
        .await;
    let _: u64 = redis
        .run(
            redis::cmd("HSET")
                .arg(redis.key(HASH_PATTERN, "PETR4"))
                .arg("price")
                .arg("38.55"),
        )
        .await;
    let hash_feed = redis.feed(HASH_PATTERN, PriceKeyKind::default_hash());
    let mut tickers: Vec<_> = garbage.iter().map(|(name, _)| ticker(name)).collect();
    tickers.extend([ticker("WRONG"), ticker("PETR4")]);
    let hash_quotes = hash_feed.quotes(&tickers).await;
    // The string layout: text in a string key, and a hash where a string is expected.
    let _: () = redis
        .run(
            redis::cmd("SET")
                .arg(redis.key(STRING_PATTERN, "GARB1"))
                .arg("NaN"),
        )
        .await;
    let _: u64 = redis
        .run(
            redis::cmd("HSET")
                .arg(redis.key(STRING_PATTERN, "WRONG"))
                .arg("price")
                .arg("1"),
        )
        .await;
    let string_feed = redis.feed(STRING_PATTERN, PriceKeyKind::String);
    let string_quotes = string_feed
        .quotes(&[ticker("GARB1"), ticker("WRONG"), ticker("NOKEY")])
        .await;
    redis.cleanup().await;

    let hash_quotes = hash_quotes.unwrap();
    assert_eq!(hash_quotes.len(), 1, "{hash_quotes:?}");
    assert_eq!(
        hash_quotes[&ticker("PETR4")].price.value().to_string(),
        "38.55"
    );
    assert!(string_quotes.unwrap().is_empty());
    assert_eq!(
        recorder.get("wallet_price_lookups_total{result=garbage}"),
        7
    );
    assert_eq!(recorder.get("wallet_price_lookups_total{result=hit}"), 1);
    assert_eq!(recorder.get("wallet_price_lookups_total{result=miss}"), 1);
    assert_eq!(recorder.get("wallet_price_feed_errors_total{}"), 0);
}

/// A price whose key expired is missing, like one never written. The test waits for the
/// expiry by polling `EXISTS` (which expires the key as it looks) rather than sleeping blind.
#[tokio::test]
async fn expired_prices_are_missing() {
    let mut redis = TestRedis::connect().await;
    let key = redis.key(STRING_PATTERN, "PETR4");
    let _: () = redis
        .run(redis::cmd("SET").arg(&key).arg("38.55").arg("PX").arg(5))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let exists: u64 = redis.run(redis::cmd("EXISTS").arg(&key)).await;
        if exists == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "key with a 5 ms expiry still exists after 10 s"
        );
        // Polling interval, not synchronisation: the loop ends on EXISTS answering 0.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let feed = redis.feed(STRING_PATTERN, PriceKeyKind::String);
    let quotes = feed.quotes(&[ticker("PETR4")]).await;
    redis.cleanup().await;

    assert!(quotes.unwrap().is_empty());
}
