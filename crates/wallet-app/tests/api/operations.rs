//! Operations endpoints: liveness, readiness (and its 503 when the database goes away),
//! metrics, the OpenAPI document and Swagger UI, request ids.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use wallet_sql::test_support::TestDatabase;

use crate::helpers::{assert_problem, json_with, spawn_app, spawn_app_with, spawn_on};

/// Liveness answers without looking at dependencies; readiness checks the database.
#[tokio::test]
async fn live_and_ready_answer() {
    let app = spawn_app().await;
    let live = json_with(app.get("/health/live").await, StatusCode::OK).await;
    assert_eq!(live["status"], "live");
    let ready = json_with(app.get("/health/ready").await, StatusCode::OK).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["database"], "ok");
}

/// A TCP proxy in front of MariaDB that the test can cut, as a network failure would.
struct Proxy {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let connections = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(forward);
            }
        });
        Proxy {
            port,
            tasks,
            accept,
        }
    }

    /// Closes the listener and every forwarded connection.
    fn cut(&self) {
        self.accept.abort();
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// When the database becomes unreachable, readiness is 503 naming the database check and
/// writes are 503 SERVICE_UNAVAILABLE (the client may retry), without internals.
#[tokio::test]
async fn readiness_fails_when_the_database_is_unreachable() {
    let database = TestDatabase::mysql().await;
    // mysql://root@127.0.0.1:3306/wallet_test_x → through the proxy.
    let url = database.url().to_owned();
    let (scheme_and_user, rest) = url.split_once('@').unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(host.to_owned()).await;
    let proxied = format!("{scheme_and_user}@127.0.0.1:{}/{path}", proxy.port);
    let app = spawn_on(database, |settings| {
        settings.database.url = secrecy::SecretString::from(proxied);
        settings.server.readiness_timeout_ms = 3000;
    })
    .await;
    app.deposit("u1", "10").await;
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::OK);

    proxy.cut();
    let problem = assert_problem(
        app.get("/health/ready").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("database"),
        "{problem}"
    );
    assert!(
        problem["checks"]["database"]
            .as_str()
            .unwrap()
            .starts_with("failed")
    );
    let problem = assert_problem(
        app.post("/api/v1/wallet/u1/deposit?amount=1").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    assert!(
        !problem["detail"].as_str().unwrap().contains("127.0.0.1"),
        "{problem}"
    );
}

/// A configured Redis that does not answer makes readiness fail naming it, while summaries
/// degrade to fallback prices instead of failing.
#[tokio::test]
async fn an_unreachable_redis_fails_readiness_but_not_summaries() {
    let app = spawn_app_with(|settings| {
        // Port 1 on loopback: nothing listens there.
        settings.prices.redis = Some(wallet_redis::RedisPriceConfig {
            url: secrecy::SecretString::from("redis://127.0.0.1:1"),
            ..wallet_redis::RedisPriceConfig::default()
        });
    })
    .await;
    let problem = assert_problem(
        app.get("/health/ready").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("redis"),
        "{problem}"
    );
    assert_eq!(problem["checks"]["database"], "ok");
    app.deposit("investor-42", "10000").await;
    app.apply_events(&[crate::helpers::PENDING_BUY, crate::helpers::FILLED_BUY])
        .await;
    let summary = json_with(
        app.get("/api/v1/wallet/investor-42/summary").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(summary["pricesDegraded"], true);
    assert_eq!(summary["positions"][0]["priceSource"], "LAST_TRADE");
    assert_eq!(summary["totalEquity"], "10000.00");
}

/// `/metrics` is Prometheus text with HTTP requests by route pattern (never the raw path)
/// and status, and latency histograms.
#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.deposit("metrics-user", "1").await;
    app.get("/api/v1/wallet/metrics-user").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{method="POST",route="/api/v1/wallet/{userId}/deposit",status="200"}"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"http_request_duration_seconds_bucket{method="GET",route="/api/v1/wallet/{userId}""#
    ));
    assert!(
        !text.contains("metrics-user"),
        "user ids must not become labels"
    );
}

/// The OpenAPI document lists every route of SPEC §5 and the operations endpoints, and
/// Swagger UI is served.
#[tokio::test]
async fn openapi_lists_every_route() {
    let app = spawn_app().await;
    let document = json_with(app.get("/api-docs/openapi.json").await, StatusCode::OK).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/wallet/{userId}/deposit", "post"),
        ("/api/v1/wallet/{userId}/withdraw", "post"),
        ("/api/v1/wallet/{userId}", "get"),
        ("/api/v1/wallet/{userId}/summary", "get"),
        ("/api/v1/wallet/{userId}/positions", "get"),
        ("/api/v1/wallet/{userId}/transactions", "get"),
        ("/api/v1/wallet/{userId}/orders/{orderId}", "get"),
        ("/api/v1/wallet/{userId}/balance", "get"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
        ("/actuator/health", "get"),
        ("/actuator/health/liveness", "get"),
        ("/api/v1/corporate-actions", "post"),
        ("/api/v1/corporate-actions/{id}", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} missing");
        // Every wallet route is described under the Java wallet's plural prefix too.
        if let Some(rest) = path.strip_prefix("/api/v1/wallet/") {
            let plural = format!("/api/v1/wallets/{rest}");
            assert!(
                paths[&plural][method].is_object(),
                "{method} {plural} missing"
            );
        }
    }
    assert_eq!(paths.len(), 23, "{:?}", paths.keys().collect::<Vec<_>>());
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for schema in [
        "AccountResponse",
        "SummaryResponse",
        "PositionResponse",
        "Problem",
    ] {
        assert!(schemas.contains_key(schema), "{schema}");
    }
    let swagger = app.get("/swagger-ui/").await;
    assert_eq!(swagger.status(), StatusCode::OK);
    assert!(swagger.text().await.unwrap().contains("swagger"));
    // Without the slash it redirects there (reqwest follows).
    let swagger = app.get("/swagger-ui").await;
    assert_eq!(swagger.url().path(), "/swagger-ui/");
    assert_eq!(swagger.status(), StatusCode::OK);
}

/// Every response carries a request id; a safe incoming one is echoed, an unsafe one
/// replaced.
#[tokio::test]
async fn request_ids_are_echoed_and_sanitised() {
    let app = spawn_app().await;
    let generated = app.get("/health/live").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let echoed = app
        .client
        .get(app.url("/api/v1/wallet/nobody"))
        .header("x-request-id", "client-req.42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "client-req.42");
    let replaced = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "evil\"}{\"injected")
        .send()
        .await
        .unwrap();
    let id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert!(!id.contains("evil"), "{id}");
}

/// The hold-expiry sweeper runs inside the app: a BUY hold older than `wallet.hold_ttl_hours`
/// is released (EXPIRED) and its cash unblocked, while a fresh one stays reserved.
#[tokio::test]
async fn the_sweeper_releases_holds_past_their_time_to_live() {
    let app = spawn_app_with(|settings| {
        settings.wallet.hold_ttl_hours = 24;
        settings.wallet.sweep_interval_seconds = 1;
    })
    .await;
    app.deposit("investor-42", "10000.00").await;
    let day_and_hour_ago = chrono::Utc::now() - chrono::Duration::hours(25);
    app.apply_events_at(&[crate::helpers::PENDING_BUY], day_and_hour_ago)
        .await;
    app.apply_events(&[crate::helpers::PENDING_BUY_VALE]).await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        interval.tick().await;
        let hold = json_with(
            app.get("/api/v1/wallet/investor-42/orders/1001").await,
            StatusCode::OK,
        )
        .await;
        if hold["status"] == "EXPIRED" {
            assert_eq!(hold["reservedAmount"], "0.00");
            break;
        }
        assert_eq!(hold["status"], "RESERVED");
        assert!(
            std::time::Instant::now() < deadline,
            "not expired in time: {hold}"
        );
    }
    let fresh = json_with(
        app.get("/api/v1/wallet/investor-42/orders/1002").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fresh["status"], "RESERVED");
    let account = json_with(app.get("/api/v1/wallet/investor-42").await, StatusCode::OK).await;
    // Only VALE3's 612.00 is still blocked; PETR4's 3855.00 was released.
    assert_eq!(account["blockedBalance"], "612.00");
    assert_eq!(account["balance"], "10000.00");
}
