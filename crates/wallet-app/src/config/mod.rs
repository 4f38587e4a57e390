//! Layered configuration (SPEC §6): the embedded `config/default.toml`, then the file named by
//! `--config` / `WALLET_CONFIG`, then environment variables `WALLET__SECTION__KEY`.
//!
//! Loading happens in two steps. The `config` crate merges the layers into plain serde structs
//! that refuse unknown keys (a typo is an error, not a silently ignored setting); then
//! a validation step turns them into typed [`Settings`], naming the key of the first
//! value that does not make sense. Secrets are [`SecretString`]s, so they never reach a log.

mod raw;
#[cfg(test)]
mod reach;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use config::{Config, Environment, File, FileFormat};
use secrecy::SecretString;
use thiserror::Error;
use wallet_domain::{Currency, FeeSchedule};
use wallet_kafka::KafkaSettings;
use wallet_redis::PriceSettings;
use wallet_sql::DatabaseSettings;

/// The embedded default, compiled in so that the binary works from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../../../config/default.toml");

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

/// Every setting, validated: one typed tree, each adapter's part in the adapter's own type
/// (deserialised from the layers as it is, so no setting is copied, or lost, on its way).
#[derive(Debug, Clone)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// `[database]`: the SQL store's own settings.
    pub database: DatabaseSettings,
    /// `[kafka]`: the Kafka adapters' own settings, `[kafka.client]` tables included.
    pub kafka: KafkaSettings,
    /// `[prices]`: the price feed's own settings.
    pub prices: PriceSettings,
    /// The read cache of accounts and positions.
    pub read_cache: ReadCacheSettings,
    /// Authentication.
    pub auth: AuthSettings,
    /// Wallet rules.
    pub wallet: WalletSettings,
    /// `[fees]`: the fees charged on fills (none by default).
    pub fees: FeeSchedule,
    /// `[settlement]`: the settlement cycle and its job.
    pub settlement: SettlementSettings,
    /// `[corporate_actions]`: their topic and their job.
    pub corporate_actions: CorporateActionSettings,
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

/// What `kafka.brokers` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Brokers {
    /// `embedded`: start an in-process broker on a loopback port.
    Embedded,
    /// Bootstrap servers, comma-separated.
    External(String),
    /// `none`: no Kafka client in this instance (an HTTP-only replica; another instance of
    /// the group consumes and relays the outbox).
    Disabled,
}

/// The `kafka.brokers` value of an HTTP-only instance.
pub const NO_BROKERS: &str = "none";

impl Brokers {
    /// What `kafka.brokers` of `kafka` asks for.
    #[must_use]
    pub fn of(kafka: &KafkaSettings) -> Brokers {
        match kafka.brokers.trim() {
            wallet_kafka::EMBEDDED_BROKERS => Brokers::Embedded,
            NO_BROKERS => Brokers::Disabled,
            list => Brokers::External(list.to_owned()),
        }
    }
}

/// `[read_cache]`: see [`crate::read_cache`].
#[derive(Debug, Clone, Copy)]
pub struct ReadCacheSettings {
    /// `read_cache.accounts_max`; 0 turns the cache off.
    pub accounts_max: usize,
    /// `read_cache.ttl_ms`: the longest an entry is served; 0 turns the cache off.
    pub ttl_ms: u64,
}

impl ReadCacheSettings {
    /// False when either limit is 0.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.accounts_max > 0 && self.ttl_ms > 0
    }
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
    /// `auth.jwt_issuer`: the `iss` every token must carry; `None` when empty (not checked).
    pub issuer: Option<String>,
    /// `auth.jwt_audience`: a value the token's `aud` must hold; `None` when empty (not
    /// checked, and a token's `aud` is then accepted whatever it says).
    pub audience: Option<String>,
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
    /// `wallet.clock_file`: the file the service clock reads its instant from (end-to-end
    /// tests that drive time); `None` for the system clock.
    pub clock_file: Option<std::path::PathBuf>,
}

/// `[settlement]`.
#[derive(Debug, Clone)]
pub struct SettlementSettings {
    /// `settlement.cycle_days` and the holidays of `settlement.holiday_file`.
    pub calendar: wallet_domain::SettlementCalendar,
    /// `settlement.interval_seconds`.
    pub interval_seconds: u64,
}

/// Most holders one batch of a corporate action applies (`corporate_actions.batch_size`).
pub const CORPORATE_ACTION_BATCH_MAX: u32 = wallet_domain::usecases::HOLDER_BATCH_MAX;

/// `[corporate_actions]`.
#[derive(Debug, Clone)]
pub struct CorporateActionSettings {
    /// `corporate_actions.topic`: where corporate actions arrive (dead letters go to
    /// `<topic>.DLT`).
    pub topic: String,
    /// `corporate_actions.interval_seconds`: how often the job looks for actions whose date
    /// has come (also at start-up).
    pub interval_seconds: u64,
    /// `corporate_actions.batch_size`: holders per transaction.
    pub batch_size: u32,
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
        let raw: raw::RawSettings = builder
            .add_source(environment)
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|error| SettingsError(error.to_string()))?;
        raw.validate()
    }
}
