//! The broker's Java Order API against the real binary and a separate broker: its exact bytes
//! (no record headers, key = the userId, decimals at scale 4 on fills, `"executedPrice":0` on a
//! REJECTED without a market price, fills of orders the wallet denied) settle, release and
//! dead-letter exactly, and the wallet events carry what the report service reads.

use std::time::Duration;

use wallet_e2e::database::Database;
use wallet_e2e::eventually;
use wallet_e2e::kafka;
use wallet_e2e::wallet::Wallet;

use crate::{
    DEAD_LETTERS, DRAIN_TIMEOUT, INPUT, WALLET_EVENTS, assert_audit_passes, settings, start_broker,
};

const USER: &str = "e82b8e13-1df9-41ba-a961-a28a4fe4e38b";

fn fixture(name: &str) -> Vec<u8> {
    let path = wallet_e2e::repository_root()
        .join("../shared/fixtures/order-events/java-order-api")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// An order event as the Order API's Jackson writes it.
fn java_event(
    order: i64,
    ticker: &str,
    quantity: &str,
    price: &str,
    executed: &str,
    status: &str,
) -> Vec<u8> {
    format!(
        r#"{{"orderId":{order},"userId":"{USER}","ticker":"{ticker}","quantity":{quantity},"price":{price},"executedPrice":{executed},"side":"BUY","status":"{status}","eventTimestamp":[2026,5,13,21,{order},0,1000]}}"#
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_apis_events_settle_exactly() {
    let database = Database::create();
    let broker = start_broker();
    let mut wallet = Wallet::start(&settings(database.url(), broker.bootstrap()));
    wallet.wait_ready(Duration::from_secs(60)).await;
    let response = wallet
        .http()
        .post(format!(
            "{}/api/v1/wallets/{USER}/deposit",
            wallet.base_url()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("amount=5000.00")
        .send()
        .await
        .expect("deposit");
    assert_eq!(response.status(), 200);

    let events: Vec<Vec<u8>> = vec![
        // Reserve 355.00, settle 10 × 35.42 = 354.20, release 0.80.
        fixture("pending-buy.json"),
        fixture("filled-buy.json"),
        // Never PENDING here: recorded released, nothing moves.
        fixture("rejected-price-outside-market.json"),
        // Reserve 3,060.00; the REJECTED with "executedPrice":0 releases it.
        java_event(4, "VALE3", "50", "61.20", "null", "PENDING"),
        fixture("rejected-ticker-without-price.json"),
        // 7,100.00 is more than the 4,645.80 available: denied; the exchange fills it anyway
        // and 7,084.00 is not there either: dead-lettered, never dropped.
        java_event(5, "PETR4", "200", "35.50", "null", "PENDING"),
        java_event(5, "PETR4", "200.0000", "35.5000", "35.42", "FILLED"),
        // Two quick BUYs pass the Order API's pre-check; the second is denied here.
        java_event(6, "PETR4", "100", "35.50", "null", "PENDING"),
        java_event(7, "PETR4", "31", "35.50", "null", "PENDING"),
        java_event(6, "PETR4", "100.0000", "35.5000", "35.42", "FILLED"),
        // The exchange filled the denied one: booked from available cash, 1,098.02.
        java_event(7, "PETR4", "31.0000", "35.5000", "35.42", "FILLED"),
    ];
    let records: Vec<(String, Vec<u8>)> = events
        .into_iter()
        .map(|value| (USER.to_owned(), value))
        .collect();
    kafka::produce(&kafka::producer(&broker.bootstrap()), INPUT, &records).await;

    eventually("every event decided", DRAIN_TIMEOUT, || async {
        database.query(&format!(
            "SELECT COUNT(*) FROM holds WHERE user_id = '{USER}' AND order_id = 7 AND filled_quantity = 31"
        ))[0][0]
            == "1"
    })
    .await;
    let (status, summary) = wallet.get(&format!("/api/v1/wallets/{USER}/summary")).await;
    assert_eq!(status, 200);
    assert_eq!(summary["balance"], "5.78", "{summary}");
    assert_eq!(summary["blockedBalance"], "0.00", "{summary}");
    assert_eq!(summary["availableBalance"], "5.78", "{summary}");
    let (_, positions) = wallet
        .get(&format!("/api/v1/wallets/{USER}/positions"))
        .await;
    assert_eq!(positions[0]["ticker"], "PETR4", "{positions}");
    assert_eq!(positions[0]["quantity"], "141", "{positions}");
    assert_eq!(positions[0]["averagePrice"], "35.42", "{positions}");
    let holds = database.query(&format!(
        "SELECT order_id, status, CAST(filled_quantity AS SIGNED) FROM holds WHERE user_id = '{USER}' ORDER BY order_id"
    ));
    let holds: Vec<(String, String, String)> = holds
        .into_iter()
        .map(|row| (row[0].clone(), row[1].clone(), row[2].clone()))
        .collect();
    let expected = [
        ("1", "FILLED", "10"),
        ("3", "RELEASED", "0"),
        ("4", "RELEASED", "0"),
        ("5", "DENIED", "0"),
        ("6", "FILLED", "100"),
        ("7", "DENIED", "31"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(holds, expected);

    let dead = kafka::read(
        &broker.bootstrap(),
        DEAD_LETTERS,
        1,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(dead[0].headers["x-error-reason"], "SETTLEMENT_NOT_COVERED");
    assert_eq!(dead[0].key.as_deref(), Some(USER.as_bytes()));
    assert_eq!(
        dead[0].value,
        java_event(5, "PETR4", "200.0000", "35.5000", "35.42", "FILLED")
    );
    // The only dead letter: every decision to dead-letter is kept beside the balances.
    assert_eq!(
        database.query("SELECT COUNT(*) FROM dead_letter_verdicts")[0][0],
        "1"
    );

    // The report service's statement, from the topic alone: the deposit, three steps of order
    // 1, two of order 4, the two refusals, and the reservation and fill steps of orders 6, 7.
    let announced = kafka::read(
        &broker.bootstrap(),
        WALLET_EVENTS,
        11,
        Duration::from_secs(60),
    )
    .await;
    let lines: Vec<serde_json::Value> = announced
        .iter()
        .map(|record| serde_json::from_slice(&record.value).expect("wallet event JSON"))
        .collect();
    let reserve = lines
        .iter()
        .find(|line| line["orderId"] == 1 && line["transactionType"] == "RESERVE")
        .expect("the RESERVE of order 1");
    assert_eq!(reserve["amount"], "355.00");
    assert_eq!(reserve["balanceAfter"], "5000.00");
    assert_eq!(reserve["blockedBalanceAfter"], "355.00");
    let timestamp = reserve["eventTimestamp"].as_str().expect("eventTimestamp");
    assert!(
        chrono::NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%dT%H:%M:%S%.6f").is_ok(),
        "{timestamp} is not a LocalDateTime without offset"
    );
    for line in &lines {
        for field in [
            "eventId",
            "userId",
            "transactionType",
            "amount",
            "ticker",
            "orderId",
            "balanceAfter",
            "blockedBalanceAfter",
            "eventTimestamp",
        ] {
            assert!(line.get(field).is_some(), "{field} missing: {line}");
        }
    }
    assert_audit_passes(&wallet);
}
