//! `wallet demo`: plays the fixtures' story (`../shared/fixtures/order-events`) through Kafka
//! and HTTP, checking the balances after each event, so a newcomer sees the service work in a
//! minute.
//!
//! With `--brokers` it drives a running service (`wallet serve` prints its embedded broker's
//! address). Without it, and with `kafka.brokers = "embedded"`, it starts its own service in
//! this process, on a scratch database, and stops it at the end. Each run uses a fresh user
//! and fresh order ids, so it can be repeated against the same service.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::Value;
use wallet_kafka::{KafkaSettings, RecordProducer};

use crate::config::{AuthMode, Brokers, Settings};
use crate::startup::Application;

/// Longest wait for the service to become ready, or for one event to show.
const STEP_DEADLINE: Duration = Duration::from_secs(60);
/// Pause between two looks at the service while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// One step of the story: an order event and what the wallet shows once it is applied.
struct Step {
    /// What happens, for the reader.
    title: &'static str,
    /// The event as the Order API publishes it; `{user}` and `{order}` are filled in.
    event: &'static str,
    /// Which of the run's orders (0, 1, 2).
    order: i64,
    /// The hold's status afterwards.
    status: &'static str,
    /// Balance and blocked balance afterwards.
    balance: &'static str,
    blocked: &'static str,
}

/// The fixtures' story for `investor-42`, who deposited 10,000.00 first.
const STORY: &[Step] = &[
    Step {
        title: "PENDING BUY 100 PETR4 @ 38.55: reserve ⌈100 × 38.55⌉",
        event: r#"{"orderId":{order},"userId":"{user}","ticker":"PETR4","quantity":100,"price":38.55,"executedPrice":null,"side":"BUY","status":"PENDING","eventTimestamp":"2026-05-01T10:15:30.123"}"#,
        order: 0,
        status: "RESERVED",
        balance: "10000.00",
        blocked: "3855.00",
    },
    Step {
        title: "FILLED at 38.40: pay 3,840.00, release the 15.00 left",
        event: r#"{"orderId":{order},"userId":"{user}","ticker":"PETR4","quantity":100,"price":38.55,"executedPrice":38.40,"side":"BUY","status":"FILLED","eventTimestamp":"2026-05-01T10:15:31.004"}"#,
        order: 0,
        status: "FILLED",
        balance: "6160.00",
        blocked: "0.00",
    },
    Step {
        title: "REJECTED BUY 50 VALE3 never seen PENDING: recorded, nothing moves",
        event: r#"{"orderId":{order},"userId":"{user}","ticker":"VALE3","quantity":50,"price":61.20,"executedPrice":null,"side":"BUY","status":"REJECTED","eventTimestamp":"2026-05-01T10:16:02"}"#,
        order: 1,
        status: "RELEASED",
        balance: "6160.00",
        blocked: "0.00",
    },
    Step {
        title: "PENDING SELL 40 PETR4 @ 39.10: block 40 shares",
        event: r#"{"orderId":{order},"userId":"{user}","ticker":"PETR4","quantity":40,"price":39.10,"executedPrice":null,"side":"SELL","status":"PENDING","eventTimestamp":"2026-05-01T11:00:00"}"#,
        order: 2,
        status: "RESERVED",
        balance: "6160.00",
        blocked: "0.00",
    },
    Step {
        title: "PARTIALLY_FILLED 25 at 39.15: +978.75",
        event: r#"{"orderId":{order},"userId":"{user}","ticker":"PETR4","quantity":40,"price":39.10,"executedPrice":39.15,"filledQuantity":25,"side":"SELL","status":"PARTIALLY_FILLED","eventTimestamp":"2026-05-01T11:00:01"}"#,
        order: 2,
        status: "PARTIALLY_FILLED",
        balance: "7138.75",
        blocked: "0.00",
    },
    Step {
        title: "FILLED 40 at an average of 39.14: proceeds 1,565.60 in all, +586.85 now",
        event: r#"{"orderId":{order},"userId":"{user}","ticker":"PETR4","quantity":40,"price":39.10,"executedPrice":39.14,"filledQuantity":40,"side":"SELL","status":"FILLED","eventTimestamp":"2026-05-01T11:00:02"}"#,
        order: 2,
        status: "FILLED",
        balance: "7725.60",
        blocked: "0.00",
    },
];

/// Where the demo sends events and requests: the service's HTTP API, and its Kafka settings
/// with the brokers to produce to.
struct Target {
    http: String,
    kafka: KafkaSettings,
}

/// Runs the demo; `brokers` and `url` name a running service, otherwise one is started here.
///
/// # Errors
/// A message saying which step did not show what the story expects.
pub async fn run(
    settings: Settings,
    brokers: Option<String>,
    url: Option<String>,
) -> Result<(), String> {
    let with_brokers = |brokers: String| KafkaSettings {
        brokers,
        ..settings.kafka.clone()
    };
    // The in-process service, stopped (gracefully) at the end.
    let mut scratch = None;
    let target = match (brokers, Brokers::of(&settings.kafka)) {
        (Some(brokers), _) => Target {
            http: url.unwrap_or_else(|| format!("http://{}", settings.server.bind)),
            kafka: with_brokers(brokers),
        },
        (None, Brokers::External(list)) => Target {
            http: url.unwrap_or_else(|| format!("http://{}", settings.server.bind)),
            kafka: with_brokers(list),
        },
        (None, Brokers::Disabled) => {
            return Err("kafka.brokers = \"none\": pass --brokers of a running service".into());
        }
        (None, Brokers::Embedded) => {
            let (target, service) = start_in_process(settings).await?;
            scratch = Some(service);
            target
        }
    };
    let outcome = play(&target).await;
    if let Some(service) = scratch {
        service.stop().await;
    }
    outcome
}

/// The service the demo started, and its scratch directory.
struct InProcess {
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), crate::startup::StartupError>>,
    directory: std::path::PathBuf,
}

impl InProcess {
    /// Stops the service as SIGTERM would, then removes its scratch database.
    async fn stop(self) {
        let _ = self.stop.send(());
        if let Ok(Err(error)) = self.running.await {
            eprintln!("wallet demo: the service stopped with an error: {error}");
        }
        let _ = std::fs::remove_dir_all(self.directory);
    }
}

/// Starts a service with embedded Kafka, in-memory prices and a scratch SQLite database.
async fn start_in_process(mut settings: Settings) -> Result<(Target, InProcess), String> {
    let directory = std::env::temp_dir().join(format!("wallet-demo-{}", uuid::Uuid::new_v4()));
    settings.server.bind = "127.0.0.1:0".parse().map_err(|_| "loopback address")?;
    settings.database.url = SecretString::from(format!(
        "sqlite://{}/wallet.db?mode=rwc",
        directory.display()
    ));
    settings.database.migrate_on_start = true;
    settings.auth.mode = AuthMode::None;
    let settings_kafka = settings.kafka.clone();
    let application = Application::build(settings)
        .await
        .map_err(|error| error.to_string())?;
    let kafka = KafkaSettings {
        brokers: application
            .embedded_brokers()
            .ok_or("the embedded broker did not start")?
            .to_owned(),
        ..settings_kafka
    };
    let http = format!("http://127.0.0.1:{}", application.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(application.run_until(async {
        let _ = stopped.await;
    }));
    Ok((
        Target { http, kafka },
        InProcess {
            stop,
            running,
            directory,
        },
    ))
}

/// Waits until `check` returns a value, or fails after [`STEP_DEADLINE`] naming `what`.
async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + STEP_DEADLINE;
    let mut interval = tokio::time::interval(POLL_INTERVAL);
    loop {
        interval.tick().await;
        if let Some(value) = check().await {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: not seen within {STEP_DEADLINE:?}"));
        }
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Option<Value> {
    let response = client.get(url).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

async fn play(target: &Target) -> Result<(), String> {
    let client = reqwest::Client::new();
    let http = &target.http;
    wait_for("service ready", || {
        let client = client.clone();
        async move { get_json(&client, &format!("{http}/health/ready")).await }
    })
    .await?;
    let producer = RecordProducer::new(&target.kafka, "wallet-demo")
        .map_err(|error| format!("Kafka producer for {}: {error}", target.kafka.brokers))?;
    let user = format!("demo-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    // Order ids are global: the run's are taken from the clock so repeated runs never collide.
    let first_order = chrono::Utc::now().timestamp_millis() * 10;
    println!(
        "demo: service {http}, Kafka {} topic {}, user {user}",
        target.kafka.brokers, target.kafka.order_events_topic
    );

    let response = client
        .post(format!("{http}/api/v1/wallet/{user}/deposit"))
        .json(&serde_json::json!({"amount": "10000.00"}))
        .send()
        .await
        .map_err(|error| format!("deposit: {error}"))?;
    if !response.status().is_success() {
        return Err(format!("deposit: HTTP {}", response.status()));
    }
    println!("0. deposit 10,000.00 over HTTP -> balance 10000.00");

    for (number, step) in STORY.iter().enumerate() {
        play_step(
            &client,
            target,
            &producer,
            &user,
            first_order,
            number + 1,
            step,
        )
        .await?;
    }
    let summary = get_json(&client, &format!("{http}/api/v1/wallet/{user}/summary"))
        .await
        .ok_or("summary not readable")?;
    let petr = &summary["positions"][0];
    if petr["ticker"] != "PETR4" || petr["quantity"] != "60" || petr["realizedPnl"] != "29.60" {
        return Err(format!(
            "summary: expected PETR4 60 with realized P&L 29.60, got {summary}"
        ));
    }
    println!(
        "summary: {}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
    println!("demo: the story played out as the fixtures say");
    Ok(())
}

/// Step `number` of the story: its event produced, its hold awaited, the account checked.
async fn play_step(
    client: &reqwest::Client,
    target: &Target,
    producer: &RecordProducer,
    user: &str,
    first_order: i64,
    number: usize,
    step: &Step,
) -> Result<(), String> {
    let http = &target.http;
    let order = first_order + step.order;
    let event = step
        .event
        .replace("{order}", &order.to_string())
        .replace("{user}", user);
    producer
        .send(
            &target.kafka.order_events_topic,
            user.as_bytes(),
            event.as_bytes(),
        )
        .await
        .map_err(|error| format!("step {}: {error}", number))?;
    let hold_url = format!("{http}/api/v1/wallet/{user}/orders/{order}");
    wait_for(&format!("step {}: hold {}", number, step.status), || {
        let (client, hold_url) = (client.clone(), hold_url.clone());
        async move {
            get_json(&client, &hold_url)
                .await
                .filter(|hold| hold["status"] == step.status)
        }
    })
    .await?;
    let account = get_json(client, &format!("{http}/api/v1/wallet/{user}"))
        .await
        .ok_or_else(|| format!("step {}: account not readable", number))?;
    if account["balance"] != step.balance || account["blockedBalance"] != step.blocked {
        return Err(format!(
            "step {}: expected balance {} blocked {}, got {account}",
            number, step.balance, step.blocked
        ));
    }
    println!(
        "{}. {} -> hold {}, balance {}, blocked {}",
        number, step.title, step.status, step.balance, step.blocked
    );
    Ok(())
}
