//! Adversarial HTTP against the real binary (its embedded default): inputs that used to drop
//! the connection (a panic), grow the metrics without bound, deposit from a JSON array, answer a
//! balance the account never had, or let a bad token through are answered with a clear error,
//! and the process is still serving afterwards.

use std::time::Duration;

use wallet_e2e::wallet::Wallet;

use crate::assert_audit_passes;

async fn status_and_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adversarial_requests_get_clear_errors_and_change_nothing() {
    let mut wallet = Wallet::start(&[
        ("WALLET__AUTH__MODE", "jwt".to_owned()),
        (
            "WALLET__AUTH__JWT_HS256_SECRET",
            "an-e2e-secret-of-at-least-32-bytes".to_owned(),
        ),
        ("WALLET__AUTH__JWT_AUDIENCE", "broker-wallet".to_owned()),
    ]);
    wallet.wait_ready(Duration::from_secs(60)).await;
    let base = wallet.base_url();
    let http = wallet.http().clone();
    let token = |claims: serde_json::Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"an-e2e-secret-of-at-least-32-bytes"),
        )
        .unwrap()
    };
    let now = chrono::Utc::now().timestamp();
    let admin = token(serde_json::json!({
        "sub": "ops", "roles": ["wallet:admin"], "exp": now + 600, "aud": "broker-wallet"
    }));
    let deposit = http
        .post(format!("{base}/api/v1/wallet/u1/deposit?amount=100.00"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deposit.status(), 200);

    // Exponents past the decimal's range, in the query and in the body.
    for amount in ["1e29", "1E%2B30", "0e35"] {
        let response = http
            .post(format!("{base}/api/v1/wallet/u1/deposit?amount={amount}"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(
            status_and_code(response).await,
            (400, "INVALID_AMOUNT".into())
        );
    }
    for body in [r#"{"amount": 1e29}"#, r#"{"amount": "1E+30"}"#] {
        let response = http
            .post(format!("{base}/api/v1/wallet/u1/withdraw"))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(
            status_and_code(response).await,
            (400, "INVALID_AMOUNT".into())
        );
    }
    // A JSON array is no amount.
    let response = http
        .post(format!("{base}/api/v1/wallet/u1/deposit"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("[1]")
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_code(response).await, (400, "BAD_REQUEST".into()));

    // Methods of the client's invention: 405, counted under one label.
    for method in ["PROBE1", "PROBE2", "PROBE3"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = http
            .request(method, format!("{base}/health/live"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("PROBE"), "client methods became labels");

    // UTC year 10000 is after every entry: the current balance.
    let response = http
        .get(format!(
            "{base}/api/v1/wallet/u1/balance?at=9999-12-31T23:59:59-23:59"
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["balance"], "100.00", "{body}");

    // Tokens: not yet valid, for another audience, without one: 401.
    for claims in [
        serde_json::json!({"sub": "u1", "exp": now + 600, "nbf": now + 300, "aud": "broker-wallet"}),
        serde_json::json!({"sub": "u1", "exp": now + 600, "aud": "another-api"}),
        serde_json::json!({"sub": "u1", "exp": now + 600}),
    ] {
        let response = http
            .get(format!("{base}/api/v1/wallet/u1"))
            .bearer_auth(token(claims))
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_and_code(response).await,
            (401, "UNAUTHORIZED".into())
        );
    }
    let owner = token(serde_json::json!({"sub": "u1", "exp": now + 600, "aud": "broker-wallet"}));
    let response = http
        .get(format!("{base}/api/v1/wallets/u1/summary"))
        .bearer_auth(owner)
        .send()
        .await
        .unwrap();
    let summary: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        summary["balance"], "100.00",
        "nothing of the above moved money: {summary}"
    );
    assert_eq!(wallet.readiness().await, Some(200));
    assert_audit_passes(&wallet);
}

/// A short HS256 secret stops start-up with the key named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_jwt_secret_stops_start_up() {
    let wallet = Wallet::prepare(&[
        ("WALLET__AUTH__MODE", "jwt".to_owned()),
        ("WALLET__AUTH__JWT_HS256_SECRET", "short".to_owned()),
    ]);
    let (code, output) = wallet.cli(&["serve"]);
    assert_eq!(code, Some(2), "{output}");
    assert!(output.contains("auth.jwt_hs256_secret"), "{output}");
}
