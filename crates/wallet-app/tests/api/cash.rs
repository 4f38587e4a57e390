//! Deposit and withdraw: exact amounts from the query, a JSON string or a JSON number, the
//! error codes of refused operations, and idempotent retries.

use reqwest::StatusCode;

use crate::helpers::{assert_problem, json_with, spawn_app};

/// A deposit opens the account and returns it with cash at the currency's scale.
#[tokio::test]
async fn deposit_by_query_opens_the_account() {
    let app = spawn_app().await;
    let response = app
        .post("/api/v1/wallet/investor-42/deposit?amount=100.5")
        .await;
    let account = json_with(response, StatusCode::OK).await;
    assert_eq!(account["userId"], "investor-42");
    assert_eq!(account["currency"], "BRL");
    assert_eq!(account["balance"], "100.50");
    assert_eq!(account["blockedBalance"], "0.00");
    assert_eq!(account["availableBalance"], "100.50");
    assert!(account["updatedAt"].is_string());
}

/// Body amounts are read exactly, whether a JSON string or a JSON number: 0.1 + 0.2 is 0.30,
/// and a 14-digit number keeps its cents (an f64 would not).
#[tokio::test]
async fn deposit_by_json_body_reads_numbers_exactly() {
    let app = spawn_app().await;
    let path = "/api/v1/wallet/u1/deposit";
    json_with(
        app.post_json(path, r#"{"amount": 0.1}"#).await,
        StatusCode::OK,
    )
    .await;
    let account = json_with(
        app.post_json(path, r#"{"amount": "0.2"}"#).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(account["balance"], "0.30");
    let account = json_with(
        app.post_json(path, r#"{"amount": 99999999999999.99}"#)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(account["balance"], "100000000000000.29");
}

/// A withdrawal takes available cash only and returns the account after it.
#[tokio::test]
async fn withdraw_debits_available_cash() {
    let app = spawn_app().await;
    app.deposit("u1", "250.00").await;
    let response = app
        .post_json("/api/v1/wallet/u1/withdraw", r#"{"amount": "100.25"}"#)
        .await;
    let account = json_with(response, StatusCode::OK).await;
    assert_eq!(account["balance"], "149.75");
    assert_eq!(account["availableBalance"], "149.75");
    let response = app.post("/api/v1/wallet/u1/withdraw?amount=149.75").await;
    assert_eq!(json_with(response, StatusCode::OK).await["balance"], "0.00");
}

/// Withdrawing more than is available is 422 INSUFFICIENT_FUNDS and changes nothing; cash
/// blocked by an open order is not available.
#[tokio::test]
async fn withdrawing_more_than_available_is_insufficient_funds() {
    let app = spawn_app().await;
    app.deposit("investor-42", "5000").await;
    app.apply_events(&[crate::helpers::PENDING_BUY]).await;
    // 5000.00 − 3855.00 blocked = 1145.00 available.
    let response = app
        .post("/api/v1/wallet/investor-42/withdraw?amount=1145.01")
        .await;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INSUFFICIENT_FUNDS",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("1145"),
        "{problem}"
    );
    let account = json_with(app.get("/api/v1/wallet/investor-42").await, StatusCode::OK).await;
    assert_eq!(account["balance"], "5000.00");
    assert_eq!(account["blockedBalance"], "3855.00");
    let response = app
        .post("/api/v1/wallet/investor-42/withdraw?amount=1145.00")
        .await;
    assert_eq!(
        json_with(response, StatusCode::OK).await["availableBalance"],
        "0.00"
    );
}

/// Withdrawing from a wallet that was never opened is 404 ACCOUNT_NOT_FOUND.
#[tokio::test]
async fn withdrawing_from_a_missing_account_is_not_found() {
    let app = spawn_app().await;
    let response = app.post("/api/v1/wallet/nobody/withdraw?amount=1").await;
    assert_problem(response, StatusCode::NOT_FOUND, "ACCOUNT_NOT_FOUND").await;
}

/// Every malformed amount is 400 INVALID_AMOUNT, never rounded, never a 5xx.
#[tokio::test]
async fn invalid_amounts_are_refused() {
    let app = spawn_app().await;
    for amount in [
        "0",
        "-5",
        "abc",
        "0.001",
        "1e999999",
        "1000000000000000",
        "NaN",
        "1,5",
        "%20",
        "99999999999999999999999999999999999999999",
        // Powers of ten past the decimal's mantissa used to drop the connection (a panic).
        "1e29",
        "1E%2B30",
        "0e35",
        "1e38",
        "9e28",
    ] {
        let response = app
            .post(&format!("/api/v1/wallet/u1/deposit?amount={amount}"))
            .await;
        assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_AMOUNT").await;
    }
    for body in [
        r#"{"amount": 1e400}"#,
        r#"{"amount": 1e29}"#,
        r#"{"amount": "1E+30"}"#,
        r#"{"amount": 0e35}"#,
        r#"{"amount": "1e-30"}"#,
        r#"{"amount": 0.005}"#,
        r#"{"amount": true}"#,
        r#"{"amount": null}"#,
        r#"{"amount": [1]}"#,
        r#"{}"#,
    ] {
        let response = app.post_json("/api/v1/wallet/u1/deposit", body).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_AMOUNT").await;
    }
    let response = app.post("/api/v1/wallet/u1/deposit").await;
    assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_AMOUNT").await;
    // Nothing was booked by any of them.
    let response = app.get("/api/v1/wallet/u1").await;
    assert_problem(response, StatusCode::NOT_FOUND, "ACCOUNT_NOT_FOUND").await;
}

/// The same Idempotency-Key with the same request answers the same and applies once; with
/// another request it is 409 IDEMPOTENCY_CONFLICT.
#[tokio::test]
async fn idempotency_key_replays_and_conflicts() {
    let app = spawn_app().await;
    let deposit = |amount: &'static str, key: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/wallet/u1/deposit?amount={amount}")))
            .header("Idempotency-Key", key)
            .send()
    };
    let first = json_with(deposit("100.00", "key-1").await.unwrap(), StatusCode::OK).await;
    let replay = json_with(deposit("100", "key-1").await.unwrap(), StatusCode::OK).await;
    assert_eq!(first, replay, "a replay answers exactly as the first time");
    assert_eq!(replay["balance"], "100.00");
    let conflict = deposit("200.00", "key-1").await.unwrap();
    assert_problem(conflict, StatusCode::CONFLICT, "IDEMPOTENCY_CONFLICT").await;
    let other_key = json_with(deposit("100.00", "key-2").await.unwrap(), StatusCode::OK).await;
    assert_eq!(other_key["balance"], "200.00");
    let statement = json_with(
        app.get("/api/v1/wallet/u1/transactions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(statement.as_array().unwrap().len(), 2, "{statement}");

    // The same key on a withdrawal is another request.
    let response = app
        .client
        .post(app.url("/api/v1/wallet/u1/withdraw?amount=100.00"))
        .header("Idempotency-Key", "key-1")
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::CONFLICT, "IDEMPOTENCY_CONFLICT").await;
}

/// An Idempotency-Key longer than 255 characters or with spaces is 400.
#[tokio::test]
async fn malformed_idempotency_keys_are_refused() {
    let app = spawn_app().await;
    for key in ["k".repeat(256), "with space".to_owned()] {
        let response = app
            .client
            .post(app.url("/api/v1/wallet/u1/deposit?amount=1"))
            .header("Idempotency-Key", key)
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_IDEMPOTENCY_KEY").await;
    }
    let longest = app
        .client
        .post(app.url("/api/v1/wallet/u1/deposit?amount=1"))
        .header("Idempotency-Key", "k".repeat(255))
        .send()
        .await
        .unwrap();
    assert_eq!(longest.status(), StatusCode::OK);
}
