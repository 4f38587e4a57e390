//! A broker that requires SASL (SCRAM over plain TCP: Tansu 0.6.0 does not serve TLS, its
//! `--cert` is parsed and never used): with the right credentials in `[kafka.client]` the
//! wallet is ready and applies events; with wrong ones it is not ready and says why in its
//! log; once the credentials are fixed it applies everything that waited, nothing lost.
//!
//! Tansu 0.6.0 refuses a client's re-authentication, which librdkafka attempts 54 s into a
//! session, so each phase here stays well under that.

use std::time::Duration;

use wallet_e2e::broker::{Broker, ScramUser};
use wallet_e2e::database::Database;
use wallet_e2e::wallet::Wallet;
use wallet_e2e::{eventually, kafka};

use crate::{DEAD_LETTERS, INPUT, WALLET_EVENTS, assert_audit_passes, settings, tail};

const USER: ScramUser<'static> = ScramUser {
    name: "broker-wallet",
    password: "scram-secret-7",
};

fn sasl(password: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "WALLET__KAFKA__CLIENT__SECURITY_PROTOCOL",
            "SASL_PLAINTEXT".to_owned(),
        ),
        (
            "WALLET__KAFKA__CLIENT__SASL_MECHANISMS",
            "SCRAM-SHA-256".to_owned(),
        ),
        ("WALLET__KAFKA__CLIENT__SASL_USERNAME", USER.name.to_owned()),
        ("WALLET__KAFKA__CLIENT__SASL_PASSWORD", password.to_owned()),
    ]
}

fn pending(order: u32) -> Vec<u8> {
    format!(
        r#"{{"orderId":{order},"userId":"sasl-investor","ticker":"PETR4","quantity":1,"price":10,"executedPrice":null,"side":"BUY","status":"PENDING"}}"#
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sasl_broker_takes_the_configured_credentials_and_refuses_wrong_ones() {
    let database = Database::create();
    let broker = Broker::start_authenticated(&[INPUT, DEAD_LETTERS, WALLET_EVENTS], 3, &[USER]);
    let producer = kafka::producer_with(
        &broker.bootstrap(),
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanisms", "SCRAM-SHA-512"),
            ("sasl.username", USER.name),
            ("sasl.password", USER.password),
        ],
    );
    let mut environment = settings(database.url(), broker.bootstrap());
    environment.extend(sasl("not-the-password"));
    let mut wallet = Wallet::start(&environment);
    wallet.wait_live(Duration::from_secs(30)).await;
    let (status, _) = wallet
        .post("/api/v1/wallet/sasl-investor/deposit?amount=100.00")
        .await;
    assert_eq!(status, 200);
    let events: Vec<(String, Vec<u8>)> = (1..=3)
        .map(|order| ("sasl-investor".to_owned(), pending(order)))
        .collect();
    kafka::produce(&producer, INPUT, &events).await;

    // Wrong credentials: never ready, with librdkafka's reason in the log.
    eventually(
        "the authentication failure logged",
        Duration::from_secs(20),
        || async {
            wallet.log().contains("Authentication failed")
                || wallet.log().contains("SASL authentication error")
        },
    )
    .await;
    assert_ne!(
        wallet.readiness().await,
        Some(200),
        "{}",
        tail(&wallet.log())
    );
    assert!(!wallet.log().contains(USER.password));
    let (_, account) = wallet.get("/api/v1/wallet/sasl-investor").await;
    assert_eq!(
        account["blockedBalance"], "0.00",
        "nothing applied: {account}"
    );
    wallet.signal("TERM");
    assert!(wallet.wait_exit_within(Duration::from_secs(45)).is_ok());

    // The right ones, same group and database: ready, and what waited is applied.
    let mut environment = settings(database.url(), broker.bootstrap());
    environment.extend(sasl(USER.password));
    let group = environment
        .iter()
        .position(|(key, _)| *key == "WALLET__KAFKA__GROUP_ID")
        .expect("a group id");
    environment[group].1 = wallet_group(&wallet);
    let mut wallet = Wallet::start(&environment);
    wallet.wait_ready(Duration::from_secs(30)).await;
    eventually(
        "the waiting events applied",
        Duration::from_secs(30),
        || async {
            wallet.get("/api/v1/wallet/sasl-investor").await.1["blockedBalance"] == "30.00"
        },
    )
    .await;
    assert!(!wallet.log().contains(USER.password));
    assert_audit_passes(&wallet);
}

/// The group id the first wallet ran with.
fn wallet_group(wallet: &Wallet) -> String {
    wallet.env("WALLET__KAFKA__GROUP_ID").expect("a group id")
}
