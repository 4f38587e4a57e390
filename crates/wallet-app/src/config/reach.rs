//! Every key of `config/default.toml`, set through the environment to a value unlike its
//! default, reaches the component it configures: the typed settings the adapter is built from
//! and, for Kafka, the effective librdkafka configuration of each client the service creates.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::ExposeSecret;
use wallet_redis::PriceKeyKind;

use super::*;

type Reached = fn(&Settings) -> bool;

/// The librdkafka configuration of each client of `settings`, by client.
fn clients(settings: &Settings) -> BTreeMap<&'static str, BTreeMap<String, String>> {
    settings
        .kafka
        .effective_configs()
        .expect("client configurations")
        .into_iter()
        .map(|(client, config)| {
            // `config_map` shows secrets as a placeholder; `get` gives what librdkafka gets.
            let properties = config
                .config_map()
                .keys()
                .map(|key| {
                    (
                        (*key).to_owned(),
                        config.get(key).unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            (client, properties)
        })
        .collect()
}

/// True when every client for which `which` holds has `key` = `value`, and the others not.
fn property(settings: &Settings, key: &str, value: &str, which: fn(&str) -> bool) -> bool {
    clients(settings).iter().all(|(client, properties)| {
        (properties.get(key).map(String::as_str) == Some(value)) == which(client)
    })
}

fn every(_: &str) -> bool {
    true
}

fn consumer(client: &str) -> bool {
    client == "order consumer"
}

fn producers(client: &str) -> bool {
    client.contains("producer") || client == "outbox relay"
}

fn readers(client: &str) -> bool {
    client.contains("reader") || client == "change listener"
}

/// (key, value set through the environment, proof that it arrived).
fn reach_table() -> Vec<(&'static str, &'static str, Reached)> {
    vec![
        ("server.bind", "0.0.0.0:9999", |s| {
            s.server.bind.to_string() == "0.0.0.0:9999"
        }),
        ("server.shutdown_timeout_seconds", "7", |s| {
            s.server.shutdown_timeout_seconds == 7
        }),
        ("server.body_limit_bytes", "777", |s| {
            s.server.body_limit_bytes == 777
        }),
        ("server.readiness_timeout_ms", "777", |s| {
            s.server.readiness_timeout_ms == 777
        }),
        ("server.workers", "3", |s| s.server.workers == 3),
        (
            "database.url",
            "mysql://u:p@db:3306/w?ssl-mode=REQUIRED",
            |s| s.database.url.expose_secret() == "mysql://u:p@db:3306/w?ssl-mode=REQUIRED",
        ),
        ("database.max_connections", "17", |s| {
            s.database.max_connections == 17
        }),
        ("database.migrate_on_start", "false", |s| {
            !s.database.migrate_on_start
        }),
        ("database.connect_timeout_ms", "777", |s| {
            s.database.connect_timeout_ms == 777
        }),
        ("kafka.brokers", "k1:9092,k2:9092", |s| {
            property(s, "bootstrap.servers", "k1:9092,k2:9092", every)
        }),
        ("kafka.group_id", "reach-group", |s| {
            property(s, "group.id", "reach-group", consumer)
        }),
        ("kafka.group_instance_id", "pod-7", |s| {
            property(s, "group.instance.id", "pod-7", consumer)
        }),
        ("kafka.order_events_topic", "orders-x", |s| {
            s.kafka.order_events_topic == "orders-x"
        }),
        ("kafka.dead_letter_topic", "orders-x.DLT", |s| {
            s.kafka.dead_letter_topic == "orders-x.DLT"
        }),
        ("kafka.wallet_events_topic", "wallet-x", |s| {
            s.kafka.wallet_events_topic == "wallet-x"
        }),
        ("kafka.batch_size_max", "77", |s| {
            s.kafka.batch_size_max == 77
        }),
        ("kafka.batch_wait_ms_max", "7", |s| {
            s.kafka.batch_wait_ms_max == 7
        }),
        ("kafka.fetch_wait_ms_max", "7", |s| {
            property(s, "fetch.wait.max.ms", "7", consumer)
        }),
        ("kafka.apply_lanes", "3", |s| s.kafka.apply_lanes == 3),
        ("kafka.session_timeout_ms", "7777", |s| {
            property(s, "session.timeout.ms", "7777", consumer)
        }),
        ("kafka.retry_backoff_ms_min", "7", |s| {
            s.kafka.retry_backoff_ms_min == 7
        }),
        ("kafka.retry_backoff_ms_max", "777", |s| {
            s.kafka.retry_backoff_ms_max == 777
        }),
        ("kafka.delivery_timeout_ms", "7777", |s| {
            property(s, "message.timeout.ms", "7777", producers)
        }),
        ("kafka.producer_idempotence", "false", |s| {
            property(s, "enable.idempotence", "false", producers)
        }),
        ("kafka.statistics_interval_ms", "7777", |s| {
            property(s, "statistics.interval.ms", "7777", consumer)
        }),
        ("kafka.embedded_partitions", "7", |s| {
            s.kafka.embedded_partitions == 7
        }),
        ("kafka.outbox_poll_interval_ms", "77", |s| {
            s.kafka.outbox_poll_interval_ms == 77
        }),
        ("kafka.outbox_batch_max", "77", |s| {
            s.kafka.outbox_batch_max == 77
        }),
        ("kafka.client.socket_timeout_ms", "17000", |s| {
            property(s, "socket.timeout.ms", "17000", every)
        }),
        ("kafka.client.sasl_password", "reach-secret", |s| {
            property(s, "sasl.password", "reach-secret", every)
                && !format!("{s:?}").contains("reach-secret")
        }),
        ("kafka.consumer_client.fetch_max_bytes", "7777777", |s| {
            property(s, "fetch.max.bytes", "7777777", consumer)
        }),
        ("kafka.producer_client.linger_ms", "77", |s| {
            property(s, "linger.ms", "77", producers)
        }),
        ("kafka.reader_client.fetch_min_bytes", "77", |s| {
            property(s, "fetch.min.bytes", "77", readers)
        }),
        ("prices.redis_url", "rediss://:pw@cache:6380/2", |s| {
            s.prices
                .redis
                .as_ref()
                .is_some_and(|redis| redis.url.expose_secret() == "rediss://:pw@cache:6380/2")
        }),
        ("prices.key_pattern", "px:{ticker}:last", |s| {
            s.prices
                .redis
                .as_ref()
                .is_some_and(|r| r.key_pattern == "px:{ticker}:last")
        }),
        ("prices.key_kind", "hash", |s| {
            s.prices
                .redis
                .as_ref()
                .is_some_and(|r| matches!(r.kind, PriceKeyKind::Hash { .. }))
        }),
        ("prices.hash_field", "last", |s| {
            s.prices.redis.as_ref().is_some_and(
                |r| matches!(&r.kind, PriceKeyKind::Hash { field, .. } if field == "last"),
            )
        }),
        ("prices.updated_at_field", "at", |s| {
            s.prices.redis.as_ref().is_some_and(|r| {
                matches!(&r.kind, PriceKeyKind::Hash { updated_at_field, .. }
                    if updated_at_field.as_deref() == Some("at"))
            })
        }),
        ("prices.timeout_ms", "77", |s| {
            s.prices.redis.as_ref().is_some_and(|r| r.timeout_ms == 77)
        }),
        ("prices.connect_timeout_ms", "777", |s| {
            s.prices
                .redis
                .as_ref()
                .is_some_and(|r| r.connect_timeout_ms == 777)
        }),
        ("prices.pool_size", "7", |s| {
            s.prices.redis.as_ref().is_some_and(|r| r.pool_size == 7)
        }),
        ("prices.string_ttl_seconds", "77", |s| {
            s.prices
                .redis
                .as_ref()
                .is_some_and(|r| r.string_ttl_seconds == 77)
        }),
        ("read_cache.accounts_max", "77", |s| {
            s.read_cache.accounts_max == 77
        }),
        ("read_cache.ttl_ms", "777", |s| s.read_cache.ttl_ms == 777),
        ("auth.mode", "jwt", |s| {
            matches!(s.auth.mode, AuthMode::Jwt(_))
        }),
        (
            "auth.jwt_hs256_secret",
            "a-jwt-key-of-more-than-thirty-two-bytes",
            |s| {
                matches!(&s.auth.mode, AuthMode::Jwt(JwtKey::Hs256(secret))
                if secret.expose_secret() == "a-jwt-key-of-more-than-thirty-two-bytes")
            },
        ),
        // Only one key can verify tokens; this one is proven by its own test with a PEM.
        ("auth.jwt_rs256_public_key_pem", "", |_| true),
        ("auth.jwt_issuer", "https://id.example/", |s| {
            s.auth.issuer.as_deref() == Some("https://id.example/")
        }),
        ("auth.jwt_audience", "broker-wallet", |s| {
            s.auth.audience.as_deref() == Some("broker-wallet")
        }),
        ("wallet.default_currency", "USD", |s| {
            s.wallet.default_currency.code() == "USD"
        }),
        ("wallet.hold_ttl_hours", "7", |s| {
            s.wallet.hold_ttl_hours == 7
        }),
        ("wallet.sweep_interval_seconds", "7", |s| {
            s.wallet.sweep_interval_seconds == 7
        }),
        ("wallet.clock_file", "/tmp/wallet-clock", |s| {
            s.wallet.clock_file.as_deref() == Some(std::path::Path::new("/tmp/wallet-clock"))
        }),
        ("settlement.cycle_days", "3", |s| {
            s.settlement.calendar.cycle_days() == 3
        }),
        ("settlement.interval_seconds", "7", |s| {
            s.settlement.interval_seconds == 7
        }),
        ("corporate_actions.topic", "actions-v2", |s| {
            s.corporate_actions.topic == "actions-v2"
        }),
        ("corporate_actions.interval_seconds", "9", |s| {
            s.corporate_actions.interval_seconds == 9
        }),
        ("corporate_actions.batch_size", "250", |s| {
            s.corporate_actions.batch_size == 250
        }),
        ("log.level", "debug", |s| s.log.level == "debug"),
        ("log.format", "json", |s| s.log.format == LogFormat::Json),
    ]
}

/// `section.key` of every key `config/default.toml` sets.
fn default_keys() -> BTreeSet<String> {
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in DEFAULT_TOML.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            section = name.to_owned();
        } else if let Some((key, _)) = line.split_once('=') {
            keys.insert(format!("{section}.{}", key.trim()));
        }
    }
    keys
}

/// Keys proven by their own tests: a list of tables, which an environment variable cannot
/// spell (`fee_schedules_are_read_exactly_…`), and a file the settings read
/// (`the_holiday_file_is_read_…`).
const LIST_KEYS: &[&str] = &["fees.schedule", "settlement.holiday_file"];

#[test]
fn every_key_set_through_the_environment_reaches_its_component() {
    let table = reach_table();
    let checked: BTreeSet<String> = table
        .iter()
        .map(|(key, _, _)| *key)
        .chain(LIST_KEYS.iter().copied())
        .map(str::to_owned)
        .collect();
    let unchecked: Vec<String> = default_keys().difference(&checked).cloned().collect();
    assert!(unchecked.is_empty(), "keys without a proof: {unchecked:?}");
    let environment: HashMap<String, String> = table
        .iter()
        .map(|(key, value, _)| {
            let name = format!("WALLET__{}", key.replace('.', "__").to_uppercase());
            (name, (*value).to_owned())
        })
        .collect();
    let settings = Settings::load_from(None, Some(environment)).expect("the settings load");
    for (key, value, reached) in &table {
        assert!(
            reached(&settings),
            "{key} = {value:?} did not reach its component"
        );
    }
}
