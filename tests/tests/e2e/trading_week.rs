//! A trading week on B3 through Kafka and HTTP, with the service's clock driven by the test
//! (`wallet.clock_file`): B3's fees on every fill, D+2 settlement over the Tiradentes holiday
//! (Wednesday 21 April 2027) from the repository's holiday file, buying power from a sale at
//! once, a withdrawal of unsettled cash refused with the date it becomes possible, the
//! settlement job settling each day's obligations, and `wallet audit` at 0 after it all.

use std::time::Duration;

use serde_json::Value;
use wallet_e2e::database::Database;
use wallet_e2e::eventually;
use wallet_e2e::kafka;
use wallet_e2e::wallet::Wallet;

use crate::clock::TestClock;
use crate::{DRAIN_TIMEOUT, INPUT, WALLET_EVENTS, assert_audit_passes, settings, start_broker};

const USER: &str = "investor-week";

fn order(id: i64, side: &str, status: &str, extra: &str) -> (String, Vec<u8>) {
    let json = format!(
        r#"{{"orderId":{id},"userId":"{USER}","ticker":"PETR4","quantity":100,"side":"{side}","status":"{status}"{extra}}}"#
    );
    (USER.to_owned(), json.into_bytes())
}

async fn account(wallet: &Wallet) -> Value {
    let (status, account) = wallet.get(&format!("/api/v1/wallet/{USER}")).await;
    assert_eq!(status, 200, "{account}");
    account
}

/// The Order API's PENDING and FILLED of order `id` (100 PETR4 at `limit`, filled at
/// `executed`), waited for until the balance is `balance`.
async fn trade(
    wallet: &Wallet,
    producer: &rdkafka::producer::FutureProducer,
    (id, side, limit, executed): (i64, &str, &str, &str),
    balance: &str,
) {
    let pending = order(id, side, "PENDING", &format!(r#","price":{limit}"#));
    let filled = order(
        id,
        side,
        "FILLED",
        &format!(r#","price":{limit},"executedPrice":{executed}"#),
    );
    kafka::produce(producer, INPUT, &[pending, filled]).await;
    eventually(&format!("order {id} booked"), DRAIN_TIMEOUT, || async {
        account(wallet).await["balance"] == balance
    })
    .await;
}

async fn wait_settled(wallet: &Wallet, settled: &str) {
    eventually(
        &format!("settled balance {settled}"),
        DRAIN_TIMEOUT,
        || async { account(wallet).await["settledBalance"] == settled },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trading_week_with_fees_and_d_plus_two_settles_exactly() {
    let database = Database::create();
    let broker = start_broker();
    // Monday 19 April 2027, 09:00 in São Paulo.
    let clock = TestClock::at("2027-04-19T12:00:00Z");
    // B3's fees and D+2 on B3's calendar, the settlement job every second.
    let config = wallet_e2e::b3::market_config_file("interval_seconds = 1");
    let mut env = settings(database.url(), broker.bootstrap());
    env.push(("WALLET_CONFIG", config.to_str().unwrap().to_owned()));
    env.push(clock.setting());
    let mut wallet = Wallet::start(&env);
    wallet.wait_ready(Duration::from_secs(60)).await;
    let (status, _) = wallet
        .post(&format!("/api/v1/wallet/{USER}/deposit?amount=10000.00"))
        .await;
    assert_eq!(status, 200);
    let producer = kafka::producer(&broker.bootstrap());

    // Monday: buy 100 PETR4 at 38.50 (limit 38.55). 3,850.00 and fees 4.90 + 0.19 + 0.96.
    trade(&wallet, &producer, (1, "BUY", "38.55", "38.50"), "6143.95").await;
    let (_, hold) = wallet.get(&format!("/api/v1/wallet/{USER}/orders/1")).await;
    assert_eq!(hold["feesAmount"], "6.05", "{hold}");
    let (_, positions) = wallet
        .get(&format!("/api/v1/wallet/{USER}/positions"))
        .await;
    assert_eq!(positions[0]["averagePrice"], "38.5605", "{positions}");

    // Tuesday: sell them at 40.00. 4,000.00 less 4.90 + 0.20 + 1.00, buying power at once.
    clock.set("2027-04-20T17:00:00Z");
    trade(
        &wallet,
        &producer,
        (2, "SELL", "40.00", "40.00"),
        "10137.85",
    )
    .await;
    let tuesday = account(&wallet).await;
    assert_eq!(tuesday["availableBalance"], "10137.85", "{tuesday}");
    assert_eq!(tuesday["settledBalance"], "10000.00", "{tuesday}");
    assert_eq!(tuesday["withdrawableBalance"], "10000.00", "{tuesday}");
    // The purchase is paid on Thursday (D+2 over the holiday), the sale settles on Friday.
    let expected_settlements = serde_json::json!([
        {"date": "2027-04-22", "cashAmount": "-3856.05", "settledBalance": "6143.95"},
        {"date": "2027-04-23", "cashAmount": "3993.90", "settledBalance": "10137.85"},
    ]);
    assert_eq!(tuesday["settlements"], expected_settlements, "{tuesday}");
    let (_, summary) = wallet.get(&format!("/api/v1/wallet/{USER}/summary")).await;
    assert_eq!(summary["settlements"], expected_settlements, "{summary}");
    assert_eq!(summary["withdrawableBalance"], "10000.00", "{summary}");

    let withdraw = |amount: &str| format!("/api/v1/wallet/{USER}/withdraw?amount={amount}");
    let (status, refused) = wallet.post(&withdraw("10100.00")).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["code"], "FUNDS_NOT_SETTLED", "{refused}");
    assert_eq!(refused["withdrawableOn"], "2027-04-23", "{refused}");
    let (status, refused) = wallet.post(&withdraw("10137.86")).await;
    assert_eq!(
        (status, &refused["code"]),
        (422, &Value::from("INSUFFICIENT_FUNDS"))
    );

    // Thursday morning the purchase is paid; Friday morning the sale's cash arrives.
    clock.set("2027-04-22T03:30:00Z");
    wait_settled(&wallet, "6143.95").await;
    let (status, refused) = wallet.post(&withdraw("10100.00")).await;
    assert_eq!(
        (status, &refused["withdrawableOn"]),
        (422, &Value::from("2027-04-23"))
    );
    clock.set("2027-04-23T03:30:00Z");
    wait_settled(&wallet, "10137.85").await;
    let (status, paid) = wallet.post(&withdraw("10100.00")).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["balance"], "37.85", "{paid}");
    assert_eq!(paid["settledBalance"], "37.85", "{paid}");
    assert_eq!(account(&wallet).await["settlements"], serde_json::json!([]));

    // Tuesday evening, the settled balance was still the deposit.
    let (_, then) = wallet
        .get(&format!(
            "/api/v1/wallet/{USER}/balance?at=2027-04-20T20:00:00Z"
        ))
        .await;
    assert_eq!(then["balance"], "10137.85", "{then}");
    assert_eq!(then["settledBalance"], "10000.00", "{then}");

    let (_, statement) = wallet
        .get(&format!("/api/v1/wallet/{USER}/transactions"))
        .await;
    let lines = statement.as_array().expect("the statement is an array");
    let fees: Vec<(&str, &str)> = lines
        .iter()
        .filter(|line| line["transactionType"] == "FEE")
        .map(|line| {
            (
                line["feeName"].as_str().unwrap(),
                line["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(fees.len(), 6, "{statement}");
    assert!(fees.contains(&("B3_SETTLEMENT", "-1.00")), "{fees:?}");
    let settled: Vec<&str> = lines
        .iter()
        .filter(|line| line["transactionType"] == "CASH_SETTLEMENT")
        .map(|line| line["amount"].as_str().unwrap())
        .collect();
    assert_eq!(settled.len(), 2, "{statement}");

    // The report service sees every fee and both settlements on the topic: the deposit; the
    // reservations, fills and fees of both orders and the 5.00 the purchase left; the two
    // settlements and the withdrawal.
    let announced = kafka::read(
        &broker.bootstrap(),
        WALLET_EVENTS,
        15,
        Duration::from_secs(60),
    )
    .await;
    let types: Vec<String> = announced
        .iter()
        .map(|record| {
            let event: Value = serde_json::from_slice(&record.value).expect("wallet event JSON");
            event["type"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    let count = |kind: &str| types.iter().filter(|seen| *seen == kind).count();
    assert_eq!(
        (count("FEE_CHARGED"), count("CASH_SETTLED")),
        (6, 2),
        "{types:?}"
    );
    assert_audit_passes(&wallet);
    let _ = std::fs::remove_file(&config);
}
