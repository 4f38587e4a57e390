//! The read endpoints on the fixtures' story, with exact numbers: account, summary with
//! market and fallback prices, positions, statement pages, order holds, balance at a time.

use chrono::{SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use wallet_domain::{Price, Ticker};

use crate::helpers::{
    FILLED_BUY, PENDING_BUY, PENDING_BUY_VALE, TestApp, assert_problem, json_with, spawn_app,
};

/// investor-42 deposits 10,000.00, buys 100 PETR4 (reserved at 38.55, filled at 38.40) and
/// leaves a BUY of 10 VALE3 at 61.20 open: balance 6,160.00, blocked 612.00.
async fn story() -> TestApp {
    let app = spawn_app().await;
    app.deposit("investor-42", "10000.00").await;
    app.apply_events(&[PENDING_BUY, FILLED_BUY, PENDING_BUY_VALE])
        .await;
    app
}

/// The account shows balance, blocked and available cash.
#[tokio::test]
async fn account_shows_balances() {
    let app = story().await;
    let response = app.get("/api/v1/wallet/investor-42").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let account = json_with(response, StatusCode::OK).await;
    assert_eq!(account["userId"], "investor-42");
    assert_eq!(account["currency"], "BRL");
    assert_eq!(account["balance"], "6160.00");
    assert_eq!(account["blockedBalance"], "612.00");
    assert_eq!(account["availableBalance"], "5548.00");
    let response = app.get("/api/v1/wallet/someone-else").await;
    assert_problem(response, StatusCode::NOT_FOUND, "ACCOUNT_NOT_FOUND").await;
}

/// The summary values positions at the market price, and at the last execution price
/// (`LAST_TRADE`) when the feed has none; never at zero.
#[tokio::test]
async fn summary_values_positions_with_price_fallback() {
    let app = story().await;
    app.prices.set(
        Ticker::parse("PETR4").unwrap(),
        Price::parse("price", "40.00").unwrap(),
    );
    let summary = json_with(
        app.get("/api/v1/wallet/investor-42/summary").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(summary["userId"], "investor-42");
    assert_eq!(summary["balance"], "6160.00");
    assert_eq!(summary["blockedBalance"], "612.00");
    assert_eq!(summary["availableBalance"], "5548.00");
    assert_eq!(summary["positionsValue"], "4000.00");
    assert_eq!(summary["totalEquity"], "10160.00");
    let positions = summary["positions"].as_array().unwrap();
    assert_eq!(positions.len(), 1, "{summary}");
    let petr = &positions[0];
    assert_eq!(petr["ticker"], "PETR4");
    assert_eq!(petr["quantity"], "100");
    assert_eq!(petr["blockedQuantity"], "0");
    assert_eq!(petr["averagePrice"], "38.4");
    assert_eq!(petr["lastPrice"], "40");
    assert_eq!(petr["priceSource"], "REDIS");
    assert!(petr["priceAgeSeconds"].is_u64(), "{petr}");
    assert_eq!(petr["marketValue"], "4000.00");
    assert_eq!(petr["unrealizedPnl"], "160.00");

    app.prices.remove(&Ticker::parse("PETR4").unwrap());
    let summary = json_with(
        app.get("/api/v1/wallet/investor-42/summary").await,
        StatusCode::OK,
    )
    .await;
    let petr = &summary["positions"][0];
    assert_eq!(petr["priceSource"], "LAST_TRADE");
    assert_eq!(petr["lastPrice"], "38.4");
    assert_eq!(petr["priceAgeSeconds"], Value::Null);
    assert_eq!(petr["marketValue"], "3840.00");
    assert_eq!(petr["unrealizedPnl"], "0.00");
    assert_eq!(summary["positionsValue"], "3840.00");
    assert_eq!(summary["totalEquity"], "10000.00");
}

/// Positions are the summary's positions.
#[tokio::test]
async fn positions_are_valued_as_in_the_summary() {
    let app = story().await;
    app.prices.set(
        Ticker::parse("PETR4").unwrap(),
        Price::parse("price", "37.123").unwrap(),
    );
    let positions = json_with(
        app.get("/api/v1/wallet/investor-42/positions").await,
        StatusCode::OK,
    )
    .await;
    let petr = &positions[0];
    assert_eq!(positions.as_array().unwrap().len(), 1);
    assert_eq!(petr["ticker"], "PETR4");
    // 100 × 37.123 = 3712.30; 3712.30 − 3840.00 = −127.70.
    assert_eq!(petr["marketValue"], "3712.30");
    assert_eq!(petr["unrealizedPnl"], "-127.70");
    // The Java wallet answered a user without an account with an empty list.
    let none = json_with(
        app.get("/api/v1/wallet/nobody/positions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none, serde_json::json!([]));
}

/// The next page of a statement, from its `Link: <…>; rel="next"` header.
fn next_link(response: &reqwest::Response) -> Option<String> {
    let link = response.headers().get("link")?.to_str().ok()?;
    let target = link.strip_prefix('<')?.split_once(">; rel=\"next\"")?.0;
    Some(target.to_owned())
}

/// The statement is a JSON array, newest first; pages follow the `Link` header until there is
/// none, with no entry lost or repeated.
#[tokio::test]
async fn transactions_are_paginated_newest_first() {
    let app = spawn_app().await;
    for amount in ["1.00", "2.00", "3.00", "4.00", "5.00"] {
        app.deposit("u1", amount).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/wallet/u1/transactions?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let response = app.get(&path).await;
        let next = next_link(&response);
        let page = json_with(response, StatusCode::OK).await;
        pages += 1;
        for item in page.as_array().unwrap() {
            assert_eq!(item["type"], "DEPOSIT");
            assert_eq!(item["transactionType"], "DEPOSIT");
            assert_eq!(item["orderId"], Value::Null);
            seen.push((
                item["amount"].as_str().unwrap().to_owned(),
                item["balanceAfter"].as_str().unwrap().to_owned(),
            ));
        }
        match next {
            Some(next) => {
                assert!(
                    next.starts_with("/api/v1/wallet/u1/transactions?limit=2&cursor="),
                    "{next}"
                );
                path = next;
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected = [
        ("5.00", "15.00"),
        ("4.00", "10.00"),
        ("3.00", "6.00"),
        ("2.00", "3.00"),
        ("1.00", "1.00"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(amount, after)| ((*amount).to_owned(), (*after).to_owned()))
        .collect();
    assert_eq!(seen, expected);

    // The default page holds all five; the last page has no link.
    let response = app.get("/api/v1/wallet/u1/transactions").await;
    assert!(next_link(&response).is_none());
    let page = json_with(response, StatusCode::OK).await;
    assert_eq!(page.as_array().unwrap().len(), 5);
}

/// Order events show in the statement with their signed cash and share movements.
#[tokio::test]
async fn transactions_show_order_entries() {
    let app = story().await;
    let page = json_with(
        app.get("/api/v1/wallet/investor-42/transactions?limit=500")
            .await,
        StatusCode::OK,
    )
    .await;
    let items = page.as_array().unwrap();
    let newest = &items[0];
    assert_eq!(newest["type"], "RESERVE");
    assert_eq!(newest["orderId"], 1002);
    assert_eq!(newest["blockedAmount"], "612.00");
    // The Java meaning of `amount`: what was reserved; the exact cash effect is cashAmount.
    assert_eq!(newest["transactionType"], "RESERVE");
    assert_eq!(newest["amount"], "612.00");
    assert_eq!(newest["cashAmount"], "0.00");
    assert_eq!(newest["balanceAfter"], "6160.00");
    assert_eq!(newest["blockedBalanceAfter"], "612.00");
    let oldest = items.last().unwrap();
    assert_eq!(oldest["type"], "DEPOSIT");
    assert_eq!(oldest["amount"], "10000.00");
    let settlement = items
        .iter()
        .find(|item| item["type"] == "SETTLEMENT")
        .expect("a settlement entry");
    assert_eq!(settlement["amount"], "-3840.00");
    assert_eq!(settlement["cashAmount"], "-3840.00");
    assert_eq!(settlement["transactionType"], "SETTLEMENT");
    assert_eq!(settlement["ticker"], "PETR4");
    assert_eq!(settlement["quantity"], "100");
}

/// Bad limits and cursors are 400 with their own codes; an unknown account has no entries.
#[tokio::test]
async fn transactions_refuse_bad_limits_and_cursors() {
    let app = spawn_app().await;
    app.deposit("u1", "1").await;
    for limit in ["0", "501", "-1", "ten", "4294967296"] {
        let response = app
            .get(&format!("/api/v1/wallet/u1/transactions?limit={limit}"))
            .await;
        assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_LIMIT").await;
    }
    for cursor in ["x", "123", "zz", "763a31", "%FF%FE", &"a".repeat(10_000)] {
        let response = app
            .get(&format!("/api/v1/wallet/u1/transactions?cursor={cursor}"))
            .await;
        assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_CURSOR").await;
    }
    // The Java wallet answered a user without an account with an empty list.
    let none = json_with(
        app.get("/api/v1/wallet/nobody/transactions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none, serde_json::json!([]));
}

/// A hold shows what its order reserved and settled; another user's order is not found.
#[tokio::test]
async fn order_holds_are_shown_to_their_owner() {
    let app = story().await;
    let filled = json_with(
        app.get("/api/v1/wallet/investor-42/orders/1001").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(filled["orderId"], 1001);
    assert_eq!(filled["userId"], "investor-42");
    assert_eq!(filled["side"], "BUY");
    assert_eq!(filled["ticker"], "PETR4");
    assert_eq!(filled["quantity"], "100");
    assert_eq!(filled["limitPrice"], "38.55");
    assert_eq!(filled["status"], "FILLED");
    assert_eq!(filled["reservedAmount"], "0.00");
    assert_eq!(filled["filledQuantity"], "100");
    assert_eq!(filled["filledAmount"], "3840.00");
    assert_eq!(filled["denyReason"], Value::Null);

    let open = json_with(
        app.get("/api/v1/wallet/investor-42/orders/1002").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(open["status"], "RESERVED");
    assert_eq!(open["reservedAmount"], "612.00");

    let response = app.get("/api/v1/wallet/investor-42/orders/9999").await;
    assert_problem(response, StatusCode::NOT_FOUND, "HOLD_NOT_FOUND").await;
    app.deposit("u2", "1").await;
    let response = app.get("/api/v1/wallet/u2/orders/1001").await;
    assert_problem(response, StatusCode::NOT_FOUND, "HOLD_NOT_FOUND").await;
    for order in ["abc", "0", "-1", "99999999999999999999", "1.5"] {
        let response = app
            .get(&format!("/api/v1/wallet/investor-42/orders/{order}"))
            .await;
        assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_ORDER_ID").await;
    }
}

/// The balance at a moment is the one after the last entry booked at or before it.
#[tokio::test]
async fn balance_at_a_time_reads_the_ledger() {
    let app = spawn_app().await;
    app.deposit("u1", "100").await;
    let between = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
    app.deposit("u1", "50").await;
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);

    let then = json_with(
        app.get(&format!("/api/v1/wallet/u1/balance?at={between}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(then["userId"], "u1");
    assert_eq!(then["balance"], "100.00");
    assert_eq!(then["blockedBalance"], "0.00");
    assert_eq!(then["availableBalance"], "100.00");
    assert!(then["asOf"].is_string());
    let latest = json_with(
        app.get(&format!("/api/v1/wallet/u1/balance?at={now}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(latest["balance"], "150.00");
    // 23:59 before UTC on the last day of year 9999 is in UTC year 10000: after everything.
    let far_future = json_with(
        app.get("/api/v1/wallet/u1/balance?at=9999-12-31T23:59:59-23:59")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(far_future["balance"], "150.00");
    let before = json_with(
        app.get("/api/v1/wallet/u1/balance?at=2000-01-01T00:00:00Z")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(before["balance"], "0.00");
    assert_eq!(before["asOf"], Value::Null);

    for at in [
        "",
        "yesterday",
        "2026-05-01",
        "2026-13-01T00:00:00Z",
        "2026-05-01T10:00:00",
    ] {
        let response = app.get(&format!("/api/v1/wallet/u1/balance?at={at}")).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_TIMESTAMP").await;
    }
    let response = app.get("/api/v1/wallet/u1/balance").await;
    assert_problem(response, StatusCode::BAD_REQUEST, "INVALID_TIMESTAMP").await;
    let response = app
        .get("/api/v1/wallet/nobody/balance?at=2026-05-01T10:00:00Z")
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "ACCOUNT_NOT_FOUND").await;
}
