//! Spawning the app for a test and talking to it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::Value;
use wallet_app::Application;
use wallet_app::config::Settings;
use wallet_app::read_cache::ReadCache;
use wallet_domain::usecases::WalletService;
use wallet_domain::{Currency, EventOutcome, OrderEvent};
use wallet_redis::InMemoryPriceFeed;
use wallet_sql::test_support::TestDatabase;

/// A running app and what the test needs to drive it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The in-memory price feed of the app (a detached one when prices are in Redis).
    pub prices: InMemoryPriceFeed,
    /// The app's database (removed when the test ends).
    pub database: TestDatabase,
    /// The app's read cache, when enabled.
    pub read_cache: Option<Arc<ReadCache>>,
}

/// The embedded default with the environment ignored, bound to port 0, without Kafka (the
/// HTTP tests do not consume), on `database_url`.
pub fn settings_for(database_url: &str) -> Settings {
    let mut settings = Settings::load_from(None, Some(HashMap::new())).expect("default config");
    settings.server.bind = "127.0.0.1:0".parse().unwrap();
    settings.server.workers = 1;
    settings.database.url = SecretString::from(database_url.to_owned());
    settings.kafka.brokers = wallet_app::config::NO_BROKERS.to_owned();
    settings
}

/// Spawns the app on a fresh SQLite database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app on a fresh SQLite database, with `customize` applied to its settings.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_on(TestDatabase::sqlite().await, customize).await
}

/// Spawns the app on `database`.
pub async fn spawn_on(database: TestDatabase, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = settings_for(database.url());
    customize(&mut settings);
    spawn_with_settings(database, settings).await
}

/// Spawns the app with exactly `settings`.
pub async fn spawn_with_settings(database: TestDatabase, settings: Settings) -> TestApp {
    let app = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let prices = app.in_memory_prices().unwrap_or_default();
    let read_cache = app.read_cache();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        prices,
        database,
        read_cache,
    }
}

impl TestApp {
    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// `POST path` without a body.
    pub async fn post(&self, path: &str) -> Response {
        self.client.post(self.url(path)).send().await.expect("POST")
    }

    /// `POST path` with a raw JSON body.
    pub async fn post_json(&self, path: &str, body: &str) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("POST")
    }

    /// Deposits `amount` (query form) into `user`'s wallet and checks it worked.
    pub async fn deposit(&self, user: &str, amount: &str) -> Value {
        let response = self
            .post(&format!("/api/v1/wallet/{user}/deposit?amount={amount}"))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "deposit {amount} to {user}"
        );
        response.json().await.unwrap()
    }

    /// Applies order events (JSON as the Order API publishes them) straight through the
    /// domain use case on the app's database, as another instance's consumer would, and drops
    /// their accounts from the app's read cache, as that instance's wallet events would.
    pub async fn apply_events(&self, events: &[&str]) {
        self.apply_events_at(events, Utc::now()).await;
    }

    /// As [`TestApp::apply_events`], booked as if it were `at`.
    pub async fn apply_events_at(&self, events: &[&str], at: chrono::DateTime<Utc>) {
        let parsed: Vec<OrderEvent> = events
            .iter()
            .map(|event| OrderEvent::parse(event.as_bytes()).expect("a valid event"))
            .collect();
        let service = WalletService::new(self.database.store().clone(), Currency::BRL);
        let outcomes = service
            .apply_order_events(&parsed, at)
            .await
            .expect("events applied");
        for outcome in outcomes {
            assert!(
                matches!(outcome, EventOutcome::Applied),
                "unexpected {outcome:?}"
            );
        }
        if let Some(cache) = &self.read_cache {
            for event in &parsed {
                cache.invalidate(&event.user_id);
            }
        }
    }
}

/// The JSON body of a response with the expected status.
pub async fn json_with(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Checks a problem+json response: status, `code`, and the RFC 9457 members.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = json_with(response, status).await;
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:broker-wallet:problem:")
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

/// The story of the fixtures (`../shared/fixtures/order-events`): PENDING then FILLED BUY of
/// 100 PETR4 (limit 38.55, executed 38.40) for `investor-42`.
pub const PENDING_BUY: &str = r#"{"orderId":1001,"userId":"investor-42","ticker":"PETR4","quantity":100,"price":38.55,"executedPrice":null,"side":"BUY","status":"PENDING","eventTimestamp":"2026-05-01T10:15:30.123"}"#;
/// See [`PENDING_BUY`].
pub const FILLED_BUY: &str = r#"{"orderId":1001,"userId":"investor-42","ticker":"PETR4","quantity":100,"price":38.55,"executedPrice":38.40,"side":"BUY","status":"FILLED","eventTimestamp":"2026-05-01T10:15:31.004"}"#;
/// A second order, left open: 10 VALE3 at 61.20.
pub const PENDING_BUY_VALE: &str = r#"{"orderId":1002,"userId":"investor-42","ticker":"VALE3","quantity":10,"price":61.20,"executedPrice":null,"side":"BUY","status":"PENDING"}"#;
