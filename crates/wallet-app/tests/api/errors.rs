//! Bad input of every kind gets a 4xx problem+json with a stable code, never a 5xx: bad path
//! segments, bad numbers, huge numbers, wrong content types, oversize bodies, bad cursors,
//! unknown routes and methods.

use reqwest::{Method, StatusCode};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

/// User ids that break the format are 400 INVALID_USER_ID on every route.
#[tokio::test]
async fn invalid_user_ids_are_refused() {
    let app = spawn_app().await;
    let long = "x".repeat(101);
    for user in ["a%20b", "%C3%BC", "a$b", "a%2Fb", long.as_str(), "%FF"] {
        for (method, suffix) in [
            ("GET", ""),
            ("GET", "/summary"),
            ("GET", "/positions"),
            ("GET", "/transactions"),
            ("GET", "/orders/1"),
            ("GET", "/balance?at=2026-05-01T00:00:00Z"),
            ("POST", "/deposit?amount=1"),
            ("POST", "/withdraw?amount=1"),
        ] {
            let url = app.url(&format!("/api/v1/wallet/{user}{suffix}"));
            let request = match method {
                "POST" => app.client.post(url),
                _ => app.client.get(url),
            };
            let response = request.send().await.unwrap();
            let status = response.status();
            assert!(
                status.is_client_error(),
                "{method} {user}{suffix}: {status}"
            );
            let body = assert_problem(response, status, "INVALID_USER_ID").await;
            assert!(!body["detail"].as_str().unwrap().is_empty());
        }
    }
}

/// Unknown paths are 404 NOT_FOUND and wrong methods 405 METHOD_NOT_ALLOWED, as problems.
#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/api/v1/wallet",
        "/api/v1/wallet/u1/unknown",
        "/api/v2/wallet/u1",
    ] {
        assert_problem(app.get(path).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    for (method, path) in [
        (Method::DELETE, "/api/v1/wallet/u1"),
        (Method::GET, "/api/v1/wallet/u1/deposit"),
        (Method::PUT, "/api/v1/wallet/u1/withdraw"),
        (Method::POST, "/api/v1/wallet/u1/summary"),
        (Method::POST, "/health/ready"),
    ] {
        let response = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        assert_problem(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        )
        .await;
    }
}

/// A method the API does not know is 405, and counted under one label: the client's text never
/// becomes a metrics label (unbounded series from unauthenticated requests).
#[tokio::test]
async fn custom_methods_are_refused_and_counted_under_one_label() {
    let app = spawn_app().await;
    for custom in ["PROBE1", "PROBE2", "XYZZY"] {
        let method = Method::from_bytes(custom.as_bytes()).unwrap();
        for path in ["/health/live", "/api/v1/wallet/u1/summary"] {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            assert_problem(
                response,
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
            )
            .await;
        }
    }
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for custom in ["PROBE1", "PROBE2", "XYZZY"] {
        assert!(!metrics.contains(custom), "{custom} became a label");
    }
    assert!(metrics.contains(r#"method="OTHER""#), "{metrics}");
}

/// A body that is not JSON is 415; malformed JSON is 400.
#[tokio::test]
async fn wrong_content_types_and_malformed_json_are_refused() {
    let app = spawn_app().await;
    for content_type in [
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = app
            .client
            .post(app.url("/api/v1/wallet/u1/deposit"))
            .body(r#"{"amount": "1"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_problem(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
    }
    for body in [
        "{",
        "[]",
        "[1]",
        r#"["1"]"#,
        r#"{"amount": "1", "extra": 1}"#,
        "\"1\"",
        "{\"amount\": 1,}",
    ] {
        let response = app.post_json("/api/v1/wallet/u1/deposit", body).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
}

/// A body above `server.body_limit_bytes` is 413 PAYLOAD_TOO_LARGE.
#[tokio::test]
async fn oversize_bodies_are_refused() {
    let app = spawn_app_with(|settings| settings.server.body_limit_bytes = 1024).await;
    let padding = " ".repeat(2048);
    let body = format!("{{\"amount\": \"1\"{padding}}}");
    let response = app.post_json("/api/v1/wallet/u1/deposit", &body).await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    let huge = format!("{{\"amount\": {}}}", "9".repeat(8_000));
    let response = app.post_json("/api/v1/wallet/u1/withdraw", &huge).await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
}

/// A sweep of hostile requests over every route: none may produce a 5xx, and every error is
/// problem+json.
#[tokio::test]
async fn no_input_produces_a_server_error() {
    let app = spawn_app().await;
    app.deposit("u1", "10").await;
    let huge_number = "9".repeat(5000);
    let long_segment = "a".repeat(5000);
    let cases: Vec<(Method, String, Option<String>)> = vec![
        (
            Method::POST,
            format!("/api/v1/wallet/u1/deposit?amount={huge_number}"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit?amount=1e308".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit?amount=-0".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit?amount=0x10".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit?amount=%ZZ".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit?amount=1&amount=2".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/withdraw?amount=1e-999999999".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit".into(),
            Some(format!("{{\"amount\": {huge_number}}}")),
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit".into(),
            Some("{\"amount\": -1e999}".into()),
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit".into(),
            Some("{\"amount\": \"\\u0000\"}".into()),
        ),
        (
            Method::POST,
            "/api/v1/wallet/u1/deposit".into(),
            Some("\u{feff}{}".into()),
        ),
        (Method::GET, format!("/api/v1/wallet/{long_segment}"), None),
        (
            Method::GET,
            "/api/v1/wallet/u1/orders/9223372036854775808".into(),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/wallet/u1/orders/{huge_number}"),
            None,
        ),
        (Method::GET, "/api/v1/wallet/u1/orders/%00".into(), None),
        (
            Method::GET,
            "/api/v1/wallet/u1/transactions?limit=1e3".into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/wallet/u1/transactions?cursor=".into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/wallet/u1/transactions?cursor=76313a39393939393939393939393939393939393939"
                .into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/wallet/u1/balance?at=9999-12-31T23:59:59Z".into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/wallet/u1/balance?at=0000-01-01T00:00:00Z".into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/wallet/u1/balance?at=2026-05-01T00:00:00%2B99:00".into(),
            None,
        ),
        (Method::GET, "/api/v1/wallet/u1/balance?at=%FF".into(), None),
        (Method::GET, "/api/v1/wallet/%00".into(), None),
        (Method::GET, "/api/v1/wallet/u1/..%2F..%2Fetc".into(), None),
        (Method::PATCH, "/api/v1/wallet/u1/deposit".into(), None),
    ];
    for (method, path, body) in cases {
        let mut request = app.client.request(method.clone(), app.url(&path));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let shown: String = path.chars().take(80).collect();
        assert!(!status.is_server_error(), "{method} {shown}: {status}");
        if !status.is_success() {
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(content_type, "application/problem+json", "{method} {shown}");
        }
    }
    // Nothing above moved money: the balance is still the first deposit.
    let account = app
        .get("/api/v1/wallet/u1")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(account["balance"], "10.00");
}
