//! Summaries priced from a real Redis, laid out as the configuration says: the seed's hash
//! (`ticker:price:<T>` field `price`, age from `updatedAt`) and the asset service's plain string
//! key with a 10-minute expiry (age from the time left).

use std::process::Command;

use reqwest::StatusCode;
use secrecy::SecretString;
use wallet_redis::{PriceKeyKind, RedisPriceConfig};

use crate::helpers::{FILLED_BUY, PENDING_BUY, json_with, spawn_app_with};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Runs `redis-cli` against the test Redis (the CI machine has it, beside the server).
fn redis(args: &[&str]) {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", "6379"])
        .args(args)
        .output()
        .expect("redis-cli runs");
    assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
}

/// A key prefix of this test alone, so tests sharing the Redis never see each other's prices.
fn prefix() -> String {
    format!("wallet-app-test-{}", uuid::Uuid::new_v4().simple())
}

/// The hash layout: price from the configured field, age from `updatedAt`.
#[tokio::test]
async fn summaries_read_hash_prices_from_redis() {
    let prefix = prefix();
    let pattern = format!("{prefix}:{{ticker}}");
    let app = spawn_app_with(|settings| {
        settings.prices.redis = Some(RedisPriceConfig {
            url: SecretString::from(REDIS_URL),
            key_pattern: pattern,
            kind: PriceKeyKind::Hash {
                field: "last".to_owned(),
                updated_at_field: Some("updatedAt".to_owned()),
            },
            timeout_ms: 2000,
            ..RedisPriceConfig::default()
        });
    })
    .await;
    let written = (chrono::Utc::now().timestamp() - 30).to_string();
    let key = format!("{prefix}:PETR4");
    redis(&["HSET", &key, "last", "40.10", "updatedAt", &written]);
    app.deposit("investor-42", "10000.00").await;
    app.apply_events(&[PENDING_BUY, FILLED_BUY]).await;

    let summary = json_with(
        app.get("/api/v1/wallet/investor-42/summary").await,
        StatusCode::OK,
    )
    .await;
    redis(&["DEL", &key]);
    let petr = &summary["positions"][0];
    assert_eq!(petr["priceSource"], "REDIS", "{summary}");
    assert_eq!(petr["lastPrice"], "40.1");
    assert_eq!(petr["marketValue"], "4010.00");
    assert_eq!(petr["unrealizedPnl"], "170.00");
    let age = petr["priceAgeSeconds"].as_u64().unwrap();
    assert!((30..120).contains(&age), "age {age}");
    assert_eq!(summary["totalEquity"], "10170.00");
    assert_eq!(summary["pricesDegraded"], false);
    let ready = json_with(app.get("/health/ready").await, StatusCode::OK).await;
    assert_eq!(ready["checks"]["redis"], "ok");
}

/// The asset service's layout: a plain string key with an expiry.
#[tokio::test]
async fn summaries_read_string_prices_from_redis() {
    let prefix = prefix();
    let pattern = format!("{prefix}:{{ticker}}");
    let app = spawn_app_with(|settings| {
        settings.prices.redis = Some(RedisPriceConfig {
            url: SecretString::from(REDIS_URL),
            key_pattern: pattern,
            kind: PriceKeyKind::String,
            timeout_ms: 2000,
            ..RedisPriceConfig::default()
        });
    })
    .await;
    let key = format!("{prefix}:PETR4");
    redis(&["SET", &key, "37.00", "EX", "600"]);
    app.deposit("investor-42", "10000.00").await;
    app.apply_events(&[PENDING_BUY, FILLED_BUY]).await;

    let summary = json_with(
        app.get("/api/v1/wallet/investor-42/summary").await,
        StatusCode::OK,
    )
    .await;
    redis(&["DEL", &key]);
    let petr = &summary["positions"][0];
    assert_eq!(petr["priceSource"], "REDIS", "{summary}");
    assert_eq!(petr["lastPrice"], "37");
    assert_eq!(petr["marketValue"], "3700.00");
    assert_eq!(petr["unrealizedPnl"], "-140.00");
    assert!(petr["priceAgeSeconds"].as_u64().unwrap() < 60);
}
