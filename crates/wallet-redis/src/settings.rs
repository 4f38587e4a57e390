//! The `[prices]` settings (SPEC §5 "Prices", §6) as the configuration file writes them,
//! deserialised straight into what the feed needs: no Redis URL keeps prices in memory;
//! otherwise a [`RedisPriceConfig`]. Every value is checked here, and a wrong one is refused
//! with its key (`prices.key_kind: …`).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::{KeyPattern, PriceKeyKind, RedisPriceConfig};

/// Where summaries take market prices from.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "PricesToml")]
pub struct PriceSettings {
    /// The Redis feed; `None` keeps prices in memory (the embedded default).
    pub redis: Option<RedisPriceConfig>,
}

impl PriceSettings {
    /// Prices in memory, with the last-trade fallback.
    #[must_use]
    pub fn in_memory() -> Self {
        PriceSettings { redis: None }
    }
}

/// `[prices]` as written: flat keys, `redis_url` empty for prices in memory.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesToml {
    redis_url: SecretString,
    key_pattern: String,
    key_kind: String,
    hash_field: String,
    updated_at_field: String,
    timeout_ms: u64,
    connect_timeout_ms: u64,
    pool_size: usize,
    string_ttl_seconds: u64,
}

fn invalid(key: &str, problem: impl std::fmt::Display) -> String {
    format!("prices.{key}: {problem}")
}

impl TryFrom<PricesToml> for PriceSettings {
    type Error = String;

    fn try_from(toml: PricesToml) -> Result<Self, Self::Error> {
        // Every value is checked, also while prices are in memory: a wrong one is a mistake
        // that would surface only once Redis is configured.
        let url = toml.redis_url.expose_secret().trim().to_owned();
        if !(url.is_empty() || url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(invalid(
                "redis_url",
                "must start with redis:// or rediss:// (or be empty for in-memory prices)",
            ));
        }
        KeyPattern::parse(&toml.key_pattern).map_err(|error| invalid("key_pattern", error))?;
        let kind = match toml.key_kind.trim() {
            "string" => PriceKeyKind::String,
            "hash" if toml.hash_field.trim().is_empty() => {
                return Err(invalid(
                    "hash_field",
                    "must not be empty with key_kind = \"hash\"",
                ));
            }
            "hash" => PriceKeyKind::Hash {
                field: toml.hash_field.trim().to_owned(),
                updated_at_field: Some(toml.updated_at_field.trim().to_owned())
                    .filter(|field| !field.is_empty()),
            },
            other => {
                return Err(invalid(
                    "key_kind",
                    format!("must be \"hash\" or \"string\", got {other:?}"),
                ));
            }
        };
        for (key, value) in [
            ("timeout_ms", toml.timeout_ms),
            ("connect_timeout_ms", toml.connect_timeout_ms),
            ("string_ttl_seconds", toml.string_ttl_seconds),
            ("pool_size", toml.pool_size as u64),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than zero"));
            }
        }
        if url.is_empty() {
            return Ok(PriceSettings::in_memory());
        }
        Ok(PriceSettings {
            redis: Some(RedisPriceConfig {
                url: SecretString::from(url),
                key_pattern: toml.key_pattern,
                kind,
                timeout_ms: toml.timeout_ms,
                connect_timeout_ms: toml.connect_timeout_ms,
                pool_size: toml.pool_size,
                string_ttl_seconds: toml.string_ttl_seconds,
            }),
        })
    }
}
