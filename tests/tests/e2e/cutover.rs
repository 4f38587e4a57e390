//! The cut-over from the Java wallet (SPEC §10) with the real binary: `wallet import-java`
//! carries thousands of accounts, positions and open orders exactly, refuses what it cannot
//! carry and writes nothing then, changes nothing the second time; and a service started on the
//! Java wallet's consumer group continues from its committed offsets and settles and releases
//! the imported open orders exactly.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use wallet_e2e::database::Database;
use wallet_e2e::eventually;
use wallet_e2e::java_wallet::{Expected, JavaWallet};
use wallet_e2e::kafka;
use wallet_e2e::wallet::Wallet;

use crate::{DRAIN_TIMEOUT, INPUT, assert_audit_passes, settings, start_broker};

fn decimal(text: &str) -> Decimal {
    Decimal::from_str_exact(text)
        .unwrap_or_else(|error| panic!("{text}: {error}"))
        .normalize()
}

/// What the wallet's database holds, in the shape of [`Expected`].
fn imported(database: &Database) -> BTreeMap<String, Expected> {
    let mut found: BTreeMap<String, Expected> = BTreeMap::new();
    for row in database.query("SELECT user_id, balance, blocked_balance FROM accounts") {
        found.entry(row[0].clone()).or_default().cash = (decimal(&row[1]), decimal(&row[2]));
    }
    for row in database.query("SELECT user_id, ticker, quantity, average_price FROM positions") {
        found
            .entry(row[0].clone())
            .or_default()
            .positions
            .insert(row[1].clone(), (decimal(&row[2]), decimal(&row[3])));
    }
    for row in database.query(
        "SELECT user_id, order_id, reserved_amount FROM holds \
         WHERE status = 'RESERVED' AND terms_pending = 1",
    ) {
        found
            .entry(row[0].clone())
            .or_default()
            .holds
            .insert(row[1].parse().expect("order id"), decimal(&row[2]));
    }
    found
}

fn normalised(expected: &BTreeMap<String, Expected>) -> BTreeMap<String, Expected> {
    expected
        .iter()
        .map(|(user, account)| {
            let mut account = account.clone();
            account.cash = (account.cash.0.normalize(), account.cash.1.normalize());
            account.holds = account
                .holds
                .iter()
                .map(|(k, v)| (*k, v.normalize()))
                .collect();
            (user.clone(), account)
        })
        .collect()
}

fn import(target: &Database, java: &JavaWallet, extra: &[&str]) -> (Option<i32>, String) {
    let wallet = Wallet::prepare(&[("WALLET__DATABASE__URL", target.url())]);
    let mut arguments = vec!["import-java", "--from"];
    let from = java.url();
    arguments.push(&from);
    arguments.extend_from_slice(extra);
    wallet.cli(&arguments)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_java_accounts_are_imported_exactly_once() {
    let java = JavaWallet::generate(41, 3_000);
    let target = Database::create();

    let (code, output) = import(&target, &java, &["--dry-run"]);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("would import 3000 account(s)"), "{output}");
    assert!(target.query("SHOW TABLES").is_empty(), "a dry run wrote");

    let (code, output) = import(&target, &java, &[]);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("imported 3000 account(s)"), "{output}");
    assert_eq!(imported(&target), normalised(&java.expected));
    let wallet = Wallet::prepare(&[("WALLET__DATABASE__URL", target.url())]);
    assert_audit_passes(&wallet);
    // The statement says where each balance came from.
    let openings = target
        .query("SELECT COUNT(DISTINCT user_id) FROM ledger_entries WHERE entry_type = 'OPENING'");
    assert_eq!(openings[0][0], "3000");

    let ledger_before = target.query("SELECT COUNT(*) FROM ledger_entries")[0][0].clone();
    let (code, output) = import(&target, &java, &[]);
    assert_eq!(code, Some(0), "{output}");
    assert!(
        output.contains("nothing to import: 3000 account(s) already imported"),
        "{output}"
    );
    assert_eq!(
        target.query("SELECT COUNT(*) FROM ledger_entries")[0][0],
        ledger_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_carried_exactly_refuses_the_import_and_writes_nothing() {
    let java = JavaWallet::generate(43, 50);
    java.insert(
        "accounts (id, user_id, balance, blocked_balance, currency, created_at)",
        &[
            "(901, 'cents-too-fine', 10.1234, 0, 'BRL', NOW(6))".to_owned(),
            "(902, 'blocked-unexplained', 100, 40, 'BRL', NOW(6))".to_owned(),
            "(903, 'negative', -5, 0, 'BRL', NOW(6))".to_owned(),
            "(904, 'bad user id', 1, 0, 'BRL', NOW(6))".to_owned(),
            "(905, 'long-ticker', 1, 0, 'BRL', NOW(6))".to_owned(),
        ],
    );
    java.insert(
        "positions (account_id, ticker, quantity, average_price)",
        &["(905, 'ABCDEFGHIJKLMNOPQRST', 1, 1)".to_owned()],
    );
    let target = Database::create();
    for extra in [&["--dry-run"][..], &[]] {
        let (code, output) = import(&target, &java, extra);
        assert_eq!(code, Some(1), "{output}");
        for user in [
            "cents-too-fine",
            "blocked-unexplained",
            "negative",
            "bad user id",
            "long-ticker",
        ] {
            let line = format!("refused {user}:");
            assert_eq!(
                output.matches(&line).count(),
                1,
                "{line} once in:\n{output}"
            );
        }
        assert!(output.contains("nothing was written"), "{output}");
    }
    // Refused before the wallet's database was touched: not even its schema was created.
    assert!(
        target.query("SHOW TABLES").is_empty(),
        "a refused import wrote"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cut_over_continues_from_the_java_offsets_and_settles_the_imported_orders() {
    const USER: &str = "e82b8e13-1df9-41ba-a961-a28a4fe4e38b";
    let java = JavaWallet::empty();
    java.insert(
        "accounts (id, user_id, balance, blocked_balance, currency, created_at)",
        &[format!("(1, '{USER}', 1000.0000, 455.0000, 'BRL', NOW(6))")],
    );
    java.insert(
        "positions (account_id, ticker, quantity, average_price)",
        &["(1, 'PETR4', 10.0000, 35.4200)".to_owned()],
    );
    java.insert(
        "wallet_transactions (user_id, order_id, transaction_type, amount, created_at)",
        &[
            format!("('{USER}', 1, 'RESERVE', 355.0000, NOW(6))"),
            format!("('{USER}', 2, 'RESERVE', 100.0000, NOW(6))"),
            format!("('{USER}', 3, 'RESERVE', 200.0000, NOW(6))"),
            format!("('{USER}', 3, 'SETTLEMENT', -199.0000, NOW(6))"),
            format!("('{USER}', 3, 'REFUND', 1.0000, NOW(6))"),
        ],
    );
    let broker = start_broker();
    let producer = kafka::producer(&broker.bootstrap());
    // What the Java wallet consumed and committed before the cut-over: order 3's events (and
    // a deposit-like noise order) that this wallet must never apply again.
    let consumed: Vec<(String, Vec<u8>)> = [
        format!(r#"{{"orderId":3,"userId":"{USER}","ticker":"VALE3","quantity":2,"price":100,"executedPrice":null,"side":"BUY","status":"PENDING"}}"#),
        format!(r#"{{"orderId":3,"userId":"{USER}","ticker":"VALE3","quantity":2.0000,"price":100.0000,"executedPrice":99.50,"side":"BUY","status":"FILLED"}}"#),
    ]
    .into_iter()
    .map(|value| (USER.to_owned(), value.into_bytes()))
    .collect();
    kafka::produce(&producer, INPUT, &consumed).await;
    kafka::commit_at_end(&broker.bootstrap(), "broker-wallet-api", INPUT);
    // After the cut-over: the fill of open order 1 and the rejection of open order 2.
    let after: Vec<(String, Vec<u8>)> = [
        format!(r#"{{"orderId":1,"userId":"{USER}","ticker":"PETR4","quantity":10.0000,"price":35.5000,"executedPrice":35.40,"side":"BUY","status":"FILLED","eventTimestamp":[2026,5,13,20,40,56,7012345]}}"#),
        format!(r#"{{"orderId":2,"userId":"{USER}","ticker":"VALE3","quantity":1.0000,"price":100.0000,"executedPrice":0,"side":"BUY","status":"REJECTED","eventTimestamp":[2026,5,13,21,6,12,301987654]}}"#),
    ]
    .into_iter()
    .map(|value| (USER.to_owned(), value.into_bytes()))
    .collect();
    kafka::produce(&producer, INPUT, &after).await;

    let target = Database::create();
    let (code, output) = import(&target, &java, &[]);
    assert_eq!(code, Some(0), "{output}");
    let mut environment = settings(target.url(), broker.bootstrap());
    for (key, value) in &mut environment {
        if *key == "WALLET__KAFKA__GROUP_ID" {
            *value = "broker-wallet-api".to_owned();
        }
    }
    let mut wallet = Wallet::start(&environment);
    wallet.wait_ready(Duration::from_secs(60)).await;
    eventually(
        "the imported orders settled and released",
        DRAIN_TIMEOUT,
        || async {
            target.query("SELECT COUNT(*) FROM holds WHERE status IN ('FILLED', 'RELEASED')")[0][0]
                == "2"
        },
    )
    .await;
    let (_, account) = wallet.get(&format!("/api/v1/wallets/{USER}/summary")).await;
    // 1000 − 10 × 35.40; nothing blocked; order 3's events were the Java wallet's.
    assert_eq!(account["balance"], "646.00", "{account}");
    assert_eq!(account["blockedBalance"], "0.00", "{account}");
    let (_, positions) = wallet
        .get(&format!("/api/v1/wallets/{USER}/positions"))
        .await;
    assert_eq!(positions.as_array().map(Vec::len), Some(1), "{positions}");
    assert_eq!(positions[0]["quantity"], "20", "{positions}");
    assert_eq!(positions[0]["averagePrice"], "35.41", "{positions}");
    let hold = target.query(
        "SELECT ticker, CAST(quantity AS SIGNED), terms_pending FROM holds WHERE order_id = 1",
    );
    assert_eq!(
        hold[0],
        ["PETR4", "10", "0"],
        "the fill completed the imported hold's terms"
    );
    assert_audit_passes(&wallet);
}
