//! Layered configuration (SPEC §6): the embedded `config/default.toml`, then the file named by
//! `--config` / `WALLET_CONFIG`, then environment variables `WALLET__SECTION__KEY`.
//!
//! Loading happens in two steps. The `config` crate merges the layers into plain serde structs
//! that refuse unknown keys (a typo is an error, not a silently ignored setting); then
//! a validation step turns them into typed [`Settings`], naming the key of the first
//! value that does not make sense. Secrets are [`SecretString`]s, so they never reach a log.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use config::{Config, Environment, File, FileFormat};
use secrecy::SecretString;
use serde::Deserialize;
use thiserror::Error;
use wallet_domain::Currency;

/// The embedded default, compiled in so that the binary works from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// Prefix of the environment overrides (`WALLET__DATABASE__URL`).
const ENV_PREFIX: &str = "WALLET";
/// Separator between prefix, section and key in environment overrides.
const ENV_SEPARATOR: &str = "__";

/// A setting that is missing or invalid; the message names the key.
#[derive(Debug, Error)]
#[error("configuration error: {0}")]
pub struct SettingsError(pub String);

fn invalid(key: &str, problem: impl std::fmt::Display) -> SettingsError {
    SettingsError(format!("{key}: {problem}"))
}

/// Every setting, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Kafka.
    pub kafka: KafkaConfig,
    /// Market prices.
    pub prices: PricesSettings,
    /// Authentication.
    pub auth: AuthSettings,
    /// Wallet rules.
    pub wallet: WalletSettings,
    /// Logging.
    pub log: LogSettings,
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `server.bind`.
    pub bind: SocketAddr,
    /// `server.shutdown_timeout_seconds`.
    pub shutdown_timeout_seconds: u64,
    /// `server.body_limit_bytes`.
    pub body_limit_bytes: usize,
    /// `server.readiness_timeout_ms`.
    pub readiness_timeout_ms: u64,
    /// `server.workers` (0: one per core).
    pub workers: usize,
}

/// `[database]`.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `database.url`; may hold a password.
    pub url: SecretString,
    /// `database.max_connections`.
    pub max_connections: u32,
    /// `database.migrate_on_start`.
    pub migrate_on_start: bool,
    /// `database.connect_timeout_ms`.
    pub connect_timeout_ms: u64,
}

/// Where the Kafka brokers are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Brokers {
    /// Start an in-process broker on a loopback port.
    Embedded,
    /// Bootstrap servers, comma-separated.
    External(String),
    /// `none`: no Kafka client in this instance (an HTTP-only replica; another instance of
    /// the group consumes and relays the outbox).
    Disabled,
}

/// `[kafka]`.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `kafka.brokers`.
    pub brokers: Brokers,
    /// `kafka.group_id`.
    pub group_id: String,
    /// `kafka.order_events_topic`.
    pub order_events_topic: String,
    /// `kafka.dead_letter_topic`.
    pub dead_letter_topic: String,
    /// `kafka.wallet_events_topic`.
    pub wallet_events_topic: String,
    /// `kafka.batch_size_max`.
    pub batch_size_max: usize,
    /// `kafka.batch_wait_ms_max`.
    pub batch_wait_ms_max: u64,
}

/// How a price is stored under its Redis key (`prices.key_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceKeyKind {
    /// A hash; the price is in `prices.hash_field`.
    Hash,
    /// A plain string key.
    String,
}

/// `[prices]`.
#[derive(Debug, Clone)]
pub struct PricesSettings {
    /// `prices.redis_url`; `None` keeps prices in memory. May hold a password.
    pub redis_url: Option<SecretString>,
    /// `prices.key_pattern`.
    pub key_pattern: String,
    /// `prices.key_kind`.
    pub key_kind: PriceKeyKind,
    /// `prices.hash_field`.
    pub hash_field: String,
    /// `prices.timeout_ms`.
    pub timeout_ms: u64,
}

/// The key that verifies JWTs.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 shared secret.
    Hs256(SecretString),
    /// RS256 public key, PEM.
    Rs256(String),
}

/// `auth.mode`.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// No authentication: every caller may do everything.
    None,
    /// Bearer JWTs verified with the key.
    Jwt(JwtKey),
}

/// `[auth]`.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `auth.mode` with its key.
    pub mode: AuthMode,
}

/// `[wallet]`.
#[derive(Debug, Clone)]
pub struct WalletSettings {
    /// `wallet.default_currency`.
    pub default_currency: Currency,
    /// `wallet.hold_ttl_hours`.
    pub hold_ttl_hours: u32,
    /// `wallet.sweep_interval_seconds`.
    pub sweep_interval_seconds: u64,
}

/// `log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Compact,
    /// One JSON object per line.
    Json,
}

/// `[log]`.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `log.level` (EnvFilter syntax).
    pub level: String,
    /// `log.format`.
    pub format: LogFormat,
}

/// The merged layers before validation: every key of `config/default.toml`, no other. No
/// `Debug`: it holds secrets in plain strings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    server: RawServer,
    database: RawDatabase,
    kafka: RawKafka,
    prices: RawPrices,
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
    order_events_topic: String,
    dead_letter_topic: String,
    wallet_events_topic: String,
    batch_size_max: usize,
    batch_wait_ms_max: u64,
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
struct RawAuth {
    mode: String,
    jwt_hs256_secret: String,
    jwt_rs256_public_key_pem: String,
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

impl Settings {
    /// Loads the layers from the embedded default, `file` (if any) and the process environment.
    ///
    /// # Errors
    /// [`SettingsError`] naming the first missing or invalid key.
    pub fn load(file: Option<&Path>) -> Result<Settings, SettingsError> {
        Self::load_from(file, None)
    }

    /// As [`Settings::load`], with `env` standing in for the process environment (tests).
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_from(
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Settings, SettingsError> {
        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(SettingsError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        // Values stay strings (no `try_parsing`): the deserializer converts numbers and
        // booleans where a key wants them, and a secret such as "1e5" is never reformatted.
        let environment = Environment::with_prefix(ENV_PREFIX)
            .prefix_separator(ENV_SEPARATOR)
            .separator(ENV_SEPARATOR)
            .source(env);
        let raw: RawSettings = builder
            .add_source(environment)
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|error| SettingsError(error.to_string()))?;
        raw.validate()
    }
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
    fn validate(self) -> Result<Settings, SettingsError> {
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
        };
        let prices = self.prices.validate()?;
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
            level: non_empty("log.level", self.log.level)?,
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

impl RawAuth {
    fn validate(self) -> Result<AuthSettings, SettingsError> {
        let secret = self.jwt_hs256_secret;
        let pem = self.jwt_rs256_public_key_pem.trim().to_owned();
        let mode = match self.mode.trim() {
            "none" => AuthMode::None,
            "jwt" => match (secret.is_empty(), pem.is_empty()) {
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
        Ok(AuthSettings { mode })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    fn error_of(pairs: &[(&str, &str)]) -> String {
        Settings::load_from(None, env(pairs))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_embedded_default_is_the_spec_table() {
        let settings = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(settings.server.bind.to_string(), "127.0.0.1:8085");
        assert_eq!(
            settings.database.url.expose_secret(),
            "sqlite://data/wallet.db?mode=rwc"
        );
        assert_eq!(settings.database.max_connections, 10);
        assert_eq!(settings.kafka.brokers, Brokers::Embedded);
        assert_eq!(settings.kafka.group_id, "broker-wallet-api");
        assert_eq!(settings.kafka.order_events_topic, "order-events-v1");
        assert_eq!(settings.kafka.dead_letter_topic, "order-events-v1.DLT");
        assert_eq!(settings.kafka.wallet_events_topic, "wallet-events-v1");
        assert!(settings.prices.redis_url.is_none());
        assert!(matches!(settings.auth.mode, AuthMode::None));
        assert_eq!(settings.wallet.default_currency, Currency::BRL);
        assert_eq!(settings.wallet.hold_ttl_hours, 24);
        assert_eq!(settings.log.format, LogFormat::Compact);
    }

    #[test]
    fn environment_overrides_use_double_underscores() {
        let settings = Settings::load_from(
            None,
            env(&[
                (
                    "WALLET__DATABASE__URL",
                    "mysql://root@127.0.0.1:3306/wallet",
                ),
                ("WALLET__DATABASE__MAX_CONNECTIONS", "32"),
                ("WALLET__DATABASE__MIGRATE_ON_START", "false"),
                ("WALLET__KAFKA__BROKERS", "k1:9092,k2:9092"),
                ("WALLET__AUTH__MODE", "jwt"),
                ("WALLET__AUTH__JWT_HS256_SECRET", "1e5"),
                ("WALLET__LOG__FORMAT", "json"),
                // Not a setting: the file-name variable shares the prefix, not the separator.
                ("WALLET_CONFIG", "/nowhere.toml"),
            ]),
        )
        .unwrap();
        assert_eq!(
            settings.database.url.expose_secret(),
            "mysql://root@127.0.0.1:3306/wallet"
        );
        assert_eq!(settings.database.max_connections, 32);
        assert!(!settings.database.migrate_on_start);
        assert_eq!(
            settings.kafka.brokers,
            Brokers::External("k1:9092,k2:9092".to_owned())
        );
        let AuthMode::Jwt(JwtKey::Hs256(secret)) = settings.auth.mode else {
            panic!("jwt mode expected");
        };
        // A secret that looks like a number is kept verbatim.
        assert_eq!(secret.expose_secret(), "1e5");
        assert_eq!(settings.log.format, LogFormat::Json);
    }

    #[test]
    fn invalid_values_name_their_key() {
        assert_eq!(
            error_of(&[("WALLET__SERVER__BIND", "x")]),
            "configuration error: server.bind: invalid socket address \"x\""
        );
        assert!(
            error_of(&[("WALLET__DATABASE__MAX_CONNECTIONS", "many")])
                .contains("database.max_connections")
        );
        assert!(
            error_of(&[("WALLET__DATABASE__MAX_CONNECTIONS", "0")])
                .contains("database.max_connections")
        );
        assert!(error_of(&[("WALLET__DATABASE__URL", "postgres://x")]).contains("database.url"));
        assert!(error_of(&[("WALLET__AUTH__MODE", "jwt")]).contains("auth.jwt_hs256_secret"));
        assert!(error_of(&[("WALLET__AUTH__MODE", "basic")]).contains("auth.mode"));
        assert!(error_of(&[("WALLET__PRICES__KEY_KIND", "list")]).contains("prices.key_kind"));
        assert!(error_of(&[("WALLET__PRICES__KEY_PATTERN", "p:")]).contains("prices.key_pattern"));
        assert!(
            error_of(&[("WALLET__WALLET__DEFAULT_CURRENCY", "R$")])
                .contains("wallet.default_currency")
        );
        assert!(error_of(&[("WALLET__LOG__FORMAT", "xml")]).contains("log.format"));
        assert!(
            error_of(&[
                ("WALLET__AUTH__JWT_RS256_PUBLIC_KEY_PEM", "not a pem"),
                ("WALLET__AUTH__MODE", "jwt")
            ])
            .contains("auth.jwt_rs256_public_key_pem")
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let message = error_of(&[("WALLET__SERVER__BINDD", "127.0.0.1:1")]);
        assert!(message.contains("bindd"), "{message}");
    }

    #[test]
    fn a_missing_config_file_is_named() {
        let error = Settings::load_from(Some(Path::new("/nowhere/wallet.toml")), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nowhere/wallet.toml"), "{error}");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let settings = Settings::load_from(
            None,
            env(&[
                ("WALLET__DATABASE__URL", "mysql://root:hunter2@db/wallet"),
                ("WALLET__AUTH__MODE", "jwt"),
                ("WALLET__AUTH__JWT_HS256_SECRET", "topsecret"),
            ]),
        )
        .unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("topsecret"), "{debug}");
    }
}
