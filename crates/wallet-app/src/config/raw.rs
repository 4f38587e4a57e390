//! The merged layers as plain serde structs that refuse unknown keys, and their validation
//! into the typed [`Settings`](super::Settings): the first value that makes no sense is
//! reported with its key.

use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;
use wallet_domain::amount::parse_decimal;

use wallet_domain::{Currency, Fee, FeeSchedule, FeeSide, FeeTerms, SettlementCalendar};
use wallet_kafka::KafkaSettings;
use wallet_redis::PriceSettings;
use wallet_sql::DatabaseSettings;

use super::{
    AuthMode, AuthSettings, CORPORATE_ACTION_BATCH_MAX, CorporateActionSettings, JwtKey, LogFormat,
    LogSettings, ReadCacheSettings, ServerSettings, Settings, SettingsError, SettlementSettings,
    WalletSettings, invalid,
};

/// The merged layers before validation: every key of `config/default.toml`, no other. The
/// adapters' sections are their own types, checked as they deserialise; the app's own are
/// checked by [`RawSettings::validate`]. No `Debug`: it holds secrets in plain strings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    server: RawServer,
    database: DatabaseSettings,
    kafka: KafkaSettings,
    prices: PriceSettings,
    read_cache: RawReadCache,
    auth: RawAuth,
    wallet: RawWallet,
    fees: RawFees,
    settlement: RawSettlement,
    corporate_actions: RawCorporateActions,
    log: RawLog,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCorporateActions {
    topic: String,
    interval_seconds: u64,
    batch_size: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettlement {
    cycle_days: u32,
    holiday_file: String,
    interval_seconds: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFees {
    schedule: Vec<RawFee>,
}

/// One fee; amounts and rates are decimal text (a TOML float is read back as the shortest
/// text of its value, but a string says exactly what was meant).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFee {
    name: String,
    side: String,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    rate: Option<String>,
    #[serde(default)]
    minimum: Option<String>,
    #[serde(default)]
    maximum: Option<String>,
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
    clock_file: String,
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
        self.kafka
            .validate()
            .map_err(|error| SettingsError(error.to_string()))?;
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
            clock_file: Some(self.wallet.clock_file.trim())
                .filter(|path| !path.is_empty())
                .map(PathBuf::from),
        };
        let fees = self.fees.validate()?;
        let settlement = self.settlement.validate()?;
        let corporate_actions = CorporateActionSettings {
            topic: non_empty("corporate_actions.topic", self.corporate_actions.topic)?,
            interval_seconds: positive(
                "corporate_actions.interval_seconds",
                self.corporate_actions.interval_seconds,
            )?,
            batch_size: match self.corporate_actions.batch_size {
                size @ 1..=CORPORATE_ACTION_BATCH_MAX => size,
                other => {
                    return Err(invalid(
                        "corporate_actions.batch_size",
                        format!("must be 1 to {CORPORATE_ACTION_BATCH_MAX}, got {other}"),
                    ));
                }
            },
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
            database: self.database,
            kafka: self.kafka,
            prices: self.prices,
            read_cache,
            auth,
            wallet,
            fees,
            settlement,
            corporate_actions,
            log,
        })
    }
}

impl RawSettlement {
    fn validate(self) -> Result<SettlementSettings, SettingsError> {
        let file = self.holiday_file.trim();
        let holidays = if file.is_empty() {
            Default::default()
        } else {
            let text = std::fs::read_to_string(file).map_err(|error| {
                invalid(
                    "settlement.holiday_file",
                    format!("cannot read {file}: {error}"),
                )
            })?;
            SettlementCalendar::parse_holidays(&text)
                .map_err(|error| invalid("settlement.holiday_file", format!("{file}: {error}")))?
        };
        Ok(SettlementSettings {
            calendar: SettlementCalendar::new(self.cycle_days, holidays)
                .map_err(|error| invalid("settlement.cycle_days", error))?,
            interval_seconds: positive("settlement.interval_seconds", self.interval_seconds)?,
        })
    }
}

impl RawFees {
    fn validate(self) -> Result<FeeSchedule, SettingsError> {
        let mut fees = Vec::with_capacity(self.schedule.len());
        for (index, raw) in self.schedule.into_iter().enumerate() {
            let key = |field: &str| format!("fees.schedule[{index}].{field}");
            let number = |field: &'static str, text: Option<String>| match text {
                None => Ok(None),
                Some(text) => parse_decimal(field, text.trim())
                    .map(Some)
                    .map_err(|error| invalid(&key(field), error)),
            };
            let side = raw
                .side
                .trim()
                .parse::<FeeSide>()
                .map_err(|_| invalid(&key("side"), "must be \"BUY\", \"SELL\" or \"BOTH\""))?;
            let terms = FeeTerms {
                name: raw.name.trim().to_owned(),
                side,
                fixed: number("fixed", raw.fixed)?.unwrap_or_default(),
                rate: number("rate", raw.rate)?.unwrap_or_default(),
                minimum: number("minimum", raw.minimum)?,
                maximum: number("maximum", raw.maximum)?,
            };
            fees.push(Fee::new(terms).map_err(|error| invalid(&key("name"), error))?);
        }
        FeeSchedule::new(fees).map_err(|error| invalid("fees.schedule", error))
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
