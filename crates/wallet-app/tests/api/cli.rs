//! The `wallet` command line: `migrate`, `audit` (exit 0 when everything reconciles, 1 with a
//! report otherwise), `dead-letters replay` guarding against the embedded broker, and
//! start-up refusing a bad setting with a message naming it.

use std::process::{Command, Output};

use chrono::Utc;
use wallet_domain::usecases::WalletService;
use wallet_domain::{CashOperation, Currency, Money, UserId};
use wallet_sql::test_support::TestDatabase;

/// Runs the compiled binary with only `env` (and PATH) in its environment.
fn wallet(args: &[&str], env: &[(&str, &str)]) -> Output {
    let directory = std::env::temp_dir().join(format!("wallet-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wallet"))
        .args(args)
        .current_dir(&directory)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WALLET__LOG__LEVEL", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("the wallet binary runs");
    let _ = std::fs::remove_dir_all(&directory);
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `migrate` is idempotent; `audit` passes on a consistent ledger and reports a tampered
/// balance with exit code 1.
#[tokio::test]
async fn migrate_and_audit() {
    let database = TestDatabase::sqlite().await;
    let env = [("WALLET__DATABASE__URL", database.url())];
    let migrated = wallet(&["migrate"], &env);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));

    let service = WalletService::new(database.store().clone(), Currency::BRL);
    let deposit = CashOperation {
        user_id: UserId::parse("investor-42").unwrap(),
        amount: Money::parse_amount("amount", "10000.00", Currency::BRL).unwrap(),
        idempotency_key: None,
        request_id: uuid::Uuid::new_v4(),
    };
    service.deposit(&deposit, Utc::now()).await.unwrap();
    let clean = wallet(&["audit"], &env);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stderr));
    assert!(text(&clean.stdout).contains("every account reconciles"));

    database
        .execute_sql("UPDATE accounts SET balance = '10000.01' WHERE user_id = 'investor-42'")
        .await
        .unwrap();
    let tampered = wallet(&["audit"], &env);
    assert_eq!(
        tampered.status.code(),
        Some(1),
        "{}",
        text(&tampered.stderr)
    );
    let report = text(&tampered.stdout);
    // The balance no longer adds up from the ledger, and 0.01 of it is settled by nothing.
    assert!(report.contains("2 difference(s)"), "{report}");
    assert!(report.contains("investor-42\tbalance"), "{report}");
    assert!(report.contains("investor-42\tunsettled cash"), "{report}");
    assert!(report.contains("10000"), "{report}");
}

/// A bad setting stops start-up before anything binds, naming the key.
#[test]
fn bad_settings_stop_start_up_with_the_key_named() {
    let output = wallet(&["serve"], &[("WALLET__SERVER__BIND", "x")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(r#"server.bind: invalid socket address "x""#),
        "{}",
        text(&output.stderr)
    );
    let output = wallet(&["--config", "/nowhere/wallet.toml"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("/nowhere/wallet.toml"));
    let output = wallet(&[], &[("WALLET__AUTH__MODE", "jwt")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("auth.jwt_hs256_secret"));

    // An unknown librdkafka property: librdkafka's message, which names it, and the table.
    let output = wallet(
        &["serve"],
        &[
            ("WALLET__SERVER__BIND", "127.0.0.1:0"),
            ("WALLET__KAFKA__BROKERS", "127.0.0.1:1"),
            ("WALLET__KAFKA__CLIENT__BOGUS_PROPERTY", "1"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bogus.property") && stderr.contains("kafka.client"),
        "{stderr}"
    );
    // One the delivery guarantees rest on is refused before anything starts.
    let output = wallet(
        &["serve"],
        &[("WALLET__KAFKA__CONSUMER_CLIENT__ENABLE_AUTO_COMMIT", "true")],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("enable.auto.commit") && stderr.contains("kafka.consumer_client"),
        "{stderr}"
    );

    // A port in use is named too, and nothing else was started before the bind.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let output = wallet(&["serve"], &[("WALLET__SERVER__BIND", bind.as_str())]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("server.bind"),
        "{}",
        text(&output.stderr)
    );
}

/// The embedded broker lives inside `serve`, so replay asks for the address it printed.
#[test]
fn replay_needs_a_reachable_broker() {
    let output = wallet(&["dead-letters", "replay"], &[]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("WALLET__KAFKA__BROKERS"),
        "{}",
        text(&output.stderr)
    );
    let output = wallet(
        &[
            "dead-letters",
            "replay",
            "--from-offset",
            "5",
            "--to-offset",
            "2",
        ],
        &[("WALLET__KAFKA__BROKERS", "127.0.0.1:1")],
    );
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("--from-offset 5 is after --to-offset 2"));
}

/// `wallet demo` starts its own embedded service, plays the fixtures' story through Kafka and
/// HTTP, checks every balance on the way, and stops cleanly.
#[test]
fn the_demo_plays_the_fixture_story() {
    let output = wallet(&["demo"], &[]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    for line in [
        "hold RESERVED, balance 10000.00, blocked 3855.00",
        "hold FILLED, balance 6160.00, blocked 0.00",
        "hold RELEASED, balance 6160.00",
        "hold PARTIALLY_FILLED, balance 7138.75",
        "hold FILLED, balance 7725.60, blocked 0.00",
        "the story played out",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

/// `dead-letters replay` reaches a real broker: with an empty dead-letter topic it replays
/// nothing and exits 0.
#[test]
fn replay_from_an_empty_dead_letter_topic_replays_nothing() {
    let broker = wallet_kafka::EmbeddedBroker::start(&wallet_kafka::KafkaSettings::default())
        .expect("an embedded broker");
    let output = wallet(
        &["dead-letters", "replay"],
        &[("WALLET__KAFKA__BROKERS", broker.bootstrap_servers())],
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("replayed 0 dead letter(s) from order-events-v1.DLT to order-events-v1"),
        "{stdout}"
    );
}
