//! The merged layers as plain serde structs that refuse unknown keys, and their validation
//! into the typed [`Settings`](super::Settings): the first value that makes no sense is
//! reported with its key.

use secrecy::SecretString;
use serde::Deserialize;
use wallet_domain::Currency;

use super::{
    AuthMode, AuthSettings, Brokers, DatabaseSettings, JwtKey, KafkaConfig, LogFormat, LogSettings,
    PriceKeyKind, PricesSettings, ReadCacheSettings, ServerSettings, Settings, SettingsError,
    WalletSettings, invalid,
};

/// The merged layers before validation: every key of `config/default.toml`, no other. No
/// `Debug`: it holds secrets in plain strings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    server: RawServer,
    database: RawDatabase,
    kafka: RawKafka,
    prices: RawPrices,
    read_cache: RawReadCache,
    auth: RawAuth,
    wallet: RawWallet,
    log: RawLog,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    bind: String,
    shutdown_timeout_seconds: u64,
    body_limit_bytes: usize,
    readiness_timeout_ms: u64,
    workers: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: String,
    max_connections: u32,
    migrate_on_start: bool,
    connect_timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKafka {
    brokers: String,
    group_id: String,
    group_instance_id: String,
    order_events_topic: String,
    dead_letter_topic: String,
    wallet_events_topic: String,
    batch_size_max: usize,
    batch_wait_ms_max: u64,
    apply_lanes: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrices {
    redis_url: String,
    key_pattern: String,
    key_kind: String,
    hash_field: String,
    timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReadCache {
    accounts_max: usize,
    ttl_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    mode: String,
    jwt_hs256_secret: String,
    jwt_rs256_public_key_pem: String,
    jwt_issuer: String,
    jwt_audience: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWallet {
    default_currency: String,
    hold_ttl_hours: u32,
    sweep_interval_seconds: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: String,
    format: String,
}

fn non_empty(key: &str, value: String) -> Result<String, SettingsError> {
    if value.trim().is_empty() {
        Err(invalid(key, "must not be empty"))
    } else {
        Ok(value)
    }
}

fn positive<T: PartialOrd + Default + std::fmt::Display>(
    key: &str,
    value: T,
) -> Result<T, SettingsError> {
    if value > T::default() {
        Ok(value)
    } else {
        Err(invalid(
            key,
            format!("must be greater than zero, got {value}"),
        ))
    }
}

impl RawSettings {
    /// Checks every value and converts it to its typed form, or names the first invalid key.
    pub(super) fn validate(self) -> Result<Settings, SettingsError> {
        let server = ServerSettings {
            bind: self.server.bind.trim().parse().map_err(|_| {
                invalid(
                    "server.bind",
                    format!("invalid socket address {:?}", self.server.bind),
                )
            })?,
            shutdown_timeout_seconds: self.server.shutdown_timeout_seconds,
            body_limit_bytes: positive("server.body_limit_bytes", self.server.body_limit_bytes)?,
            readiness_timeout_ms: positive(
                "server.readiness_timeout_ms",
                self.server.readiness_timeout_ms,
            )?,
            workers: self.server.workers,
        };
        let database = DatabaseSettings {
            url: check_database_url(self.database.url)?,
            max_connections: positive("database.max_connections", self.database.max_connections)?,
            migrate_on_start: self.database.migrate_on_start,
            connect_timeout_ms: positive(
                "database.connect_timeout_ms",
                self.database.connect_timeout_ms,
            )?,
        };
        let brokers = non_empty("kafka.brokers", self.kafka.brokers)?;
        let kafka = KafkaConfig {
            brokers: match brokers.trim() {
                "embedded" => Brokers::Embedded,
                "none" => Brokers::Disabled,
                list => Brokers::External(list.to_owned()),
            },
            group_id: non_empty("kafka.group_id", self.kafka.group_id)?,
            group_instance_id: Some(self.kafka.group_instance_id.trim().to_owned())
                .filter(|instance| !instance.is_empty()),
            order_events_topic: non_empty(
                "kafka.order_events_topic",
                self.kafka.order_events_topic,
            )?,
            dead_letter_topic: non_empty("kafka.dead_letter_topic", self.kafka.dead_letter_topic)?,
            wallet_events_topic: non_empty(
                "kafka.wallet_events_topic",
                self.kafka.wallet_events_topic,
            )?,
            batch_size_max: positive("kafka.batch_size_max", self.kafka.batch_size_max)?,
            batch_wait_ms_max: self.kafka.batch_wait_ms_max,
            apply_lanes: positive("kafka.apply_lanes", self.kafka.apply_lanes)?,
        };
        let prices = self.prices.validate()?;
        let read_cache = ReadCacheSettings {
            accounts_max: self.read_cache.accounts_max,
            ttl_ms: self.read_cache.ttl_ms,
        };
        let auth = self.auth.validate()?;
        let wallet = WalletSettings {
            default_currency: Currency::parse(self.wallet.default_currency.trim())
                .map_err(|error| invalid("wallet.default_currency", error))?,
            hold_ttl_hours: positive("wallet.hold_ttl_hours", self.wallet.hold_ttl_hours)?,
            sweep_interval_seconds: positive(
                "wallet.sweep_interval_seconds",
                self.wallet.sweep_interval_seconds,
            )?,
        };
        let log = LogSettings {
            level: {
                let level = non_empty("log.level", self.log.level)?;
                tracing_subscriber::EnvFilter::try_new(&level)
                    .map_err(|error| invalid("log.level", format!("{level:?}: {error}")))?;
                level
            },
            format: match self.log.format.trim() {
                "compact" => LogFormat::Compact,
                "json" => LogFormat::Json,
                other => {
                    return Err(invalid(
                        "log.format",
                        format!("must be \"compact\" or \"json\", got {other:?}"),
                    ));
                }
            },
        };
        Ok(Settings {
            server,
            database,
            kafka,
            prices,
            read_cache,
            auth,
            wallet,
            log,
        })
    }
}

fn check_database_url(url: String) -> Result<SecretString, SettingsError> {
    let text = url.trim();
    // The scheme alone is shown: the rest may carry a password.
    let scheme = text.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("sqlite" | "mysql" | "mariadb") => Ok(SecretString::from(text.to_owned())),
        Some(other) => Err(invalid(
            "database.url",
            format!("scheme {other:?} is not supported (sqlite, mysql or mariadb)"),
        )),
        None if text.is_empty() => Err(invalid("database.url", "must not be empty")),
        None => Err(invalid(
            "database.url",
            "must be a URL such as sqlite://data/wallet.db?mode=rwc or mysql://user:pass@host/db",
        )),
    }
}

impl RawPrices {
    fn validate(self) -> Result<PricesSettings, SettingsError> {
        let url = self.redis_url.trim().to_owned();
        let redis_url = if url.is_empty() {
            None
        } else if url.starts_with("redis://") || url.starts_with("rediss://") {
            Some(SecretString::from(url))
        } else {
            return Err(invalid(
                "prices.redis_url",
                "must start with redis:// or rediss:// (or be empty for in-memory prices)",
            ));
        };
        if self.key_pattern.matches("{ticker}").count() != 1 {
            return Err(invalid(
                "prices.key_pattern",
                format!(
                    "{:?} must contain {{ticker}} exactly once",
                    self.key_pattern
                ),
            ));
        }
        let key_kind = match self.key_kind.trim() {
            "hash" => PriceKeyKind::Hash,
            "string" => PriceKeyKind::String,
            other => {
                return Err(invalid(
                    "prices.key_kind",
                    format!("must be \"hash\" or \"string\", got {other:?}"),
                ));
            }
        };
        let hash_field = if key_kind == PriceKeyKind::Hash {
            non_empty("prices.hash_field", self.hash_field)?
        } else {
            self.hash_field
        };
        Ok(PricesSettings {
            redis_url,
            key_pattern: self.key_pattern,
            key_kind,
            hash_field,
            timeout_ms: positive("prices.timeout_ms", self.timeout_ms)?,
        })
    }
}

/// Shortest HS256 secret accepted, in bytes.
const JWT_HS256_SECRET_BYTES_MIN: usize = 32;

impl RawAuth {
    fn validate(self) -> Result<AuthSettings, SettingsError> {
        let secret = self.jwt_hs256_secret;
        let pem = self.jwt_rs256_public_key_pem.trim().to_owned();
        let mode = match self.mode.trim() {
            "none" => AuthMode::None,
            "jwt" => match (secret.is_empty(), pem.is_empty()) {
                // A short shared secret can be brute-forced offline from one token (RFC 7518
                // §3.2 asks for at least the hash size: 256 bits).
                (false, true) if secret.len() < JWT_HS256_SECRET_BYTES_MIN => {
                    return Err(invalid(
                        "auth.jwt_hs256_secret",
                        format!(
                            "must be at least {JWT_HS256_SECRET_BYTES_MIN} bytes, got {}",
                            secret.len()
                        ),
                    ));
                }
                (false, true) => AuthMode::Jwt(JwtKey::Hs256(SecretString::from(secret))),
                (true, false) => {
                    // Refuse a key that cannot verify anything now rather than 401 every call.
                    jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|error| {
                        invalid(
                            "auth.jwt_rs256_public_key_pem",
                            format!("not an RSA public key: {error}"),
                        )
                    })?;
                    AuthMode::Jwt(JwtKey::Rs256(pem))
                }
                (true, true) => {
                    return Err(invalid(
                        "auth.jwt_hs256_secret",
                        "auth.mode = \"jwt\" needs auth.jwt_hs256_secret or \
                         auth.jwt_rs256_public_key_pem",
                    ));
                }
                (false, false) => {
                    return Err(invalid(
                        "auth.jwt_hs256_secret",
                        "set only one of auth.jwt_hs256_secret and auth.jwt_rs256_public_key_pem",
                    ));
                }
            },
            other => {
                return Err(invalid(
                    "auth.mode",
                    format!("must be \"none\" or \"jwt\", got {other:?}"),
                ));
            }
        };
        let optional = |value: String| {
            let value = value.trim().to_owned();
            (!value.is_empty()).then_some(value)
        };
        Ok(AuthSettings {
            mode,
            issuer: optional(self.jwt_issuer),
            audience: optional(self.jwt_audience),
        })
    }
}
