//! The broker's Java clients work against this wallet unchanged (SPEC §5 "Drop-in for the Java
//! wallet"): the Order API's Feign call sent byte for byte, the frontend's calls on both
//! prefixes, and every field those clients read, with its JSON type. Decimals are strings here
//! (Jackson reads a `BigDecimal` from a string as from a number).

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{FILLED_BUY, PENDING_BUY, TestApp, json_with, spawn_app};

const JAVA_USER: &str = "e82b8e13-1df9-41ba-a961-a28a4fe4e38b";

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/java-clients")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Sends `request` (an HTTP/1.1 message as the fixture writes it, lines ended by CRLF on the
/// wire) to the app over a plain socket; the status and the body of the answer.
async fn send_raw(app: &TestApp, request: &str) -> (u16, String, String) {
    let address = app.address.trim_start_matches("http://");
    let request = request
        .replace("Host: localhost:8085", &format!("Host: {address}"))
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "connection closed before a whole answer");
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("a Content-Length");
            if body.len() >= length {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                return (status, head.to_owned(), body[..length].to_owned());
            }
        }
    }
}

/// A decimal the Java clients read: a string (or number) holding an exact decimal.
fn assert_decimal(value: &Value, field: &str) {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        other => panic!("{field} is not a decimal: {other}"),
    };
    rust_decimal::Decimal::from_str_exact(&text)
        .unwrap_or_else(|error| panic!("{field} {text:?}: {error}"));
}

async fn java_user_with_a_trade() -> TestApp {
    let app = spawn_app().await;
    app.deposit(JAVA_USER, "1000.00").await;
    let pending = PENDING_BUY
        .replace("investor-42", JAVA_USER)
        .replace("\"quantity\":100", "\"quantity\":10");
    let filled = FILLED_BUY
        .replace("investor-42", JAVA_USER)
        .replace("\"quantity\":100", "\"quantity\":10");
    app.apply_events(&[pending.as_str(), filled.as_str()]).await;
    app
}

/// The Order API's pre-check, sent byte for byte: no token, `Accept: */*`, the plural prefix;
/// it reads `availableBalance` and refuses the order on anything but 2xx.
#[tokio::test]
async fn the_order_apis_feign_summary_call_is_answered() {
    let app = java_user_with_a_trade().await;
    let request = fixture("order-api-summary-request.http");
    for request in [
        request.clone(),
        request.replace("/api/v1/wallets/", "/api/v1/wallet/"),
    ] {
        let (status, head, body) = send_raw(&app, &request).await;
        assert_eq!(status, 200, "{head}\n{body}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        let summary: Value = serde_json::from_str(&body).unwrap();
        let java: Value = serde_json::from_str(&fixture("summary-response.json")).unwrap();
        for field in java.as_object().unwrap().keys() {
            assert!(
                summary.get(field).is_some(),
                "summary lacks {field}: {summary}"
            );
        }
        assert_eq!(summary["userId"], JAVA_USER);
        assert_eq!(summary["currency"], "BRL");
        for field in ["availableBalance", "positionsValue", "totalEquity"] {
            assert_decimal(&summary[field], field);
        }
        // 1000.00 − 10 × 38.40.
        assert_eq!(summary["availableBalance"], "616.00");
    }
}

/// The frontend's statement: a JSON array (it calls `.filter()` on it) whose items carry the
/// Java wallet's fields with their types, on both prefixes; `[]` for a user without account.
#[tokio::test]
async fn the_frontends_statement_is_an_array_of_java_transactions() {
    let app = java_user_with_a_trade().await;
    let java: Value = serde_json::from_str(&fixture("transactions-response.json")).unwrap();
    let java_item = java[0].as_object().unwrap();
    for prefix in ["/api/v1/wallets", "/api/v1/wallet"] {
        let items = json_with(
            app.get(&format!("{prefix}/{JAVA_USER}/transactions")).await,
            StatusCode::OK,
        )
        .await;
        let items = items.as_array().expect("a JSON array");
        assert_eq!(items.len(), 4, "{items:?}");
        for item in items {
            for field in java_item.keys() {
                assert!(item.get(field).is_some(), "{field} missing: {item}");
            }
            assert!(item["id"].is_i64());
            assert_eq!(item["userId"], JAVA_USER);
            assert!(item["orderId"].is_i64() || item["orderId"].is_null());
            assert!(item["transactionType"].is_string());
            assert!(item["createdAt"].is_string());
            assert_decimal(&item["amount"], "amount");
        }
        // Newest first: REFUND of the 15.00 the fill did not use, SETTLEMENT, RESERVE, DEPOSIT,
        // each with the Java wallet's amount.
        let lines: Vec<(&str, &str)> = items
            .iter()
            .map(|item| {
                (
                    item["transactionType"].as_str().unwrap(),
                    item["amount"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("REFUND", "1.50"),
                ("SETTLEMENT", "-384.00"),
                ("RESERVE", "385.50"),
                ("DEPOSIT", "1000.00"),
            ]
        );
        let none = json_with(
            app.get(&format!("{prefix}/nobody/transactions")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(none, serde_json::json!([]));
        let none = json_with(
            app.get(&format!("{prefix}/nobody/positions")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(none, serde_json::json!([]));
    }
    // The next page keeps the prefix it was asked under.
    let response = app
        .get(&format!("/api/v1/wallets/{JAVA_USER}/transactions?limit=1"))
        .await;
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!(
            "</api/v1/wallets/{JAVA_USER}/transactions?limit=1&cursor="
        )),
        "{link}"
    );
    assert!(link.ends_with(">; rel=\"next\""), "{link}");
}

/// The frontend's positions: an array with `ticker`, `quantity`, `averagePrice`.
#[tokio::test]
async fn the_frontends_positions_are_an_array() {
    let app = java_user_with_a_trade().await;
    let positions = json_with(
        app.get(&format!("/api/v1/wallets/{JAVA_USER}/positions"))
            .await,
        StatusCode::OK,
    )
    .await;
    let positions = positions.as_array().expect("a JSON array");
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0]["ticker"], "PETR4");
    assert_decimal(&positions[0]["quantity"], "quantity");
    assert_decimal(&positions[0]["averagePrice"], "averagePrice");
    assert_eq!(positions[0]["averagePrice"], "38.4");
}

/// Deposits and withdrawals take a form body too, and answer the account with the Java
/// wallet's fields (`createdAt` included).
#[tokio::test]
async fn cash_calls_take_form_bodies_and_answer_java_accounts() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url(&format!("/api/v1/wallets/{JAVA_USER}/deposit")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("amount=1000.00")
        .send()
        .await
        .unwrap();
    let account = json_with(response, StatusCode::OK).await;
    let java: Value = serde_json::from_str(&fixture("deposit-response.json")).unwrap();
    for field in java
        .as_object()
        .unwrap()
        .keys()
        .filter(|field| *field != "id")
    {
        assert!(account.get(field).is_some(), "{field} missing: {account}");
    }
    assert_eq!(account["balance"], "1000.00");
    assert!(account["createdAt"].is_string());
    let response = app
        .client
        .post(app.url(&format!("/api/v1/wallets/{JAVA_USER}/withdraw")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("amount=250.50")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with(response, StatusCode::OK).await["balance"],
        "749.50"
    );
}

/// Spring Boot's operations paths: the probes' `/actuator/health`, the broker Prometheus's
/// `/actuator/prometheus`, springdoc's `/api-docs` and `/swagger-ui.html`.
#[tokio::test]
async fn the_actuator_and_springdoc_paths_answer() {
    let app = spawn_app().await;
    let health = json_with(app.get("/actuator/health").await, StatusCode::OK).await;
    assert_eq!(health["status"], "UP", "{health}");
    assert_eq!(health["components"]["database"]["status"], "UP", "{health}");
    for path in ["/actuator/health/liveness", "/actuator/health/readiness"] {
        assert_eq!(
            json_with(app.get(path).await, StatusCode::OK).await["status"],
            "UP"
        );
    }
    app.get("/api/v1/wallet/u1/summary").await;
    let metrics = app.get("/actuator/prometheus").await.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    let document = json_with(app.get("/api-docs").await, StatusCode::OK).await;
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/wallet/{userId}/summary",
        "/api/v1/wallets/{userId}/summary",
        "/api/v1/wallets/{userId}/transactions",
        "/actuator/health",
    ] {
        assert!(paths.contains_key(path), "{path} is not described");
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(app.url("/swagger-ui.html"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()["location"], "/swagger-ui/");
}
