//! Settings of the Redis price feed (SPEC §5 "Prices"): where the market-data side writes
//! prices and how long the wallet waits for them. The configuration file's `[prices]` table
//! deserialises into them through [`crate::PriceSettings`].

use secrecy::SecretString;

/// The default key pattern: where the broker's asset service, the only writer of prices,
/// `SETEX`es a plain string per ticker. (The Java wallet read a hash `ticker:price:{ticker}`
/// that nothing writes.)
pub const KEY_PATTERN_DEFAULT: &str = "market:price:{ticker}";

/// The placeholder in a key pattern that the upper-case ticker replaces.
pub const TICKER_PLACEHOLDER: &str = "{ticker}";

/// How a price is stored under its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceKeyKind {
    /// A hash with the price in one field and, optionally, the time it was written in another
    /// (`HSET ticker:price:PETR4 price 38.55 updatedAt 1764205200`).
    Hash {
        /// The field holding the price. Default `price`.
        field: String,
        /// The field holding when the price was written (epoch seconds, epoch milliseconds or
        /// RFC 3339), which gives its age; `None` when the writer records no time. Default
        /// `updatedAt`.
        updated_at_field: Option<String>,
    },
    /// A plain string key, as the broker's asset service writes it
    /// (`SET market:price:PETR4 38.55 EX 600`); the age comes from the expiry left.
    String,
}

impl PriceKeyKind {
    /// The hash kind with the default fields `price` and `updatedAt`.
    #[must_use]
    pub fn default_hash() -> Self {
        PriceKeyKind::Hash {
            field: "price".to_owned(),
            updated_at_field: Some("updatedAt".to_owned()),
        }
    }
}

impl Default for PriceKeyKind {
    /// The asset service's plain strings.
    fn default() -> Self {
        PriceKeyKind::String
    }
}

/// Everything [`crate::RedisPriceFeed::new`] needs.
#[derive(Debug, Clone)]
pub struct RedisPriceConfig {
    /// Redis URL, e.g. `redis://127.0.0.1:6379/0` or `rediss://…` for TLS; may hold a password,
    /// so it is a secret (never in `Debug` output). Default `redis://127.0.0.1:6379`.
    pub url: SecretString,
    /// Key of a ticker's price, with `{ticker}` (exactly once) standing for the upper-case
    /// ticker. Default [`KEY_PATTERN_DEFAULT`], the asset service's.
    pub key_pattern: String,
    /// Hash field or plain string. Default: plain string, as the asset service writes it.
    pub kind: PriceKeyKind,
    /// Budget of one look-up, connecting included; past it the feed reports an error and the
    /// summary falls back to last trades. Default 50 ms: a summary must stay fast when Redis
    /// is slow.
    pub timeout_ms: u64,
    /// Budget of opening a connection, which runs apart from the look-up that needed it (a
    /// look-up that gives up does not abandon it), so that a Redis further away than
    /// `timeout_ms` allows for a handshake still gets connected. Default 1000 ms.
    pub connect_timeout_ms: u64,
    /// Number of multiplexed connections (each carries many concurrent look-ups). Default 4.
    pub pool_size: usize,
    /// The expiry the writer gives a plain string key, so that its age is this minus the time
    /// left. Only used with [`PriceKeyKind::String`]. Default 600 s (the asset service's
    /// 10 minutes).
    pub string_ttl_seconds: u64,
}

impl Default for RedisPriceConfig {
    fn default() -> Self {
        RedisPriceConfig {
            url: SecretString::from("redis://127.0.0.1:6379"),
            key_pattern: KEY_PATTERN_DEFAULT.to_owned(),
            kind: PriceKeyKind::default(),
            timeout_ms: 50,
            connect_timeout_ms: 1_000,
            pool_size: 4,
            string_ttl_seconds: 600,
        }
    }
}

/// A [`RedisPriceConfig`] that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisConfigError {
    /// The key pattern lacks the `{ticker}` placeholder or has it more than once.
    #[error("prices key pattern {0:?} must contain {{ticker}} exactly once")]
    KeyPattern(String),
    /// `timeout_ms`, `connect_timeout_ms` or `pool_size` is zero.
    #[error("prices setting {0} must be greater than zero")]
    Zero(&'static str),
    /// A hash field name is empty.
    #[error("prices hash field names must not be empty")]
    EmptyField,
    /// The URL is not a Redis URL.
    #[error("prices redis url is invalid: {0}")]
    Url(String),
}

/// A key pattern split around its placeholder, so that building a key is two copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPattern {
    prefix: String,
    suffix: String,
}

impl KeyPattern {
    /// Splits `pattern` around its single `{ticker}`.
    pub(crate) fn parse(pattern: &str) -> Result<Self, RedisConfigError> {
        match pattern.split_once(TICKER_PLACEHOLDER) {
            Some((prefix, suffix)) if !suffix.contains(TICKER_PLACEHOLDER) => Ok(KeyPattern {
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
            }),
            _ => Err(RedisConfigError::KeyPattern(pattern.to_owned())),
        }
    }

    /// The key of `ticker`.
    pub(crate) fn key(&self, ticker: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + ticker.len() + self.suffix.len());
        key.push_str(&self.prefix);
        key.push_str(ticker);
        key.push_str(&self.suffix);
        key
    }
}

impl RedisPriceConfig {
    /// Checks the settings that do not need Redis to be checked.
    pub(crate) fn validate(&self) -> Result<KeyPattern, RedisConfigError> {
        if self.timeout_ms == 0 {
            return Err(RedisConfigError::Zero("timeout_ms"));
        }
        if self.connect_timeout_ms == 0 {
            return Err(RedisConfigError::Zero("connect_timeout_ms"));
        }
        if self.pool_size == 0 {
            return Err(RedisConfigError::Zero("pool_size"));
        }
        if let PriceKeyKind::Hash {
            field,
            updated_at_field,
        } = &self.kind
            && (field.is_empty() || updated_at_field.as_deref() == Some(""))
        {
            return Err(RedisConfigError::EmptyField);
        }
        KeyPattern::parse(&self.key_pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pattern_replaces_its_single_placeholder() {
        let pattern = KeyPattern::parse("market:price:{ticker}").unwrap();
        assert_eq!(pattern.key("PETR4"), "market:price:PETR4");
        let pattern = KeyPattern::parse("p:{ticker}:last").unwrap();
        assert_eq!(pattern.key("VALE3"), "p:VALE3:last");
    }

    #[test]
    fn key_pattern_without_or_with_two_placeholders_is_refused() {
        assert!(KeyPattern::parse("market:price:").is_err());
        assert!(KeyPattern::parse("{ticker}:{ticker}").is_err());
    }

    #[test]
    fn defaults_are_the_asset_services_layout() {
        let config = RedisPriceConfig::default();
        assert_eq!(config.key_pattern, "market:price:{ticker}");
        assert_eq!(config.kind, PriceKeyKind::String);
        assert_eq!(config.timeout_ms, 50);
        assert_eq!(config.string_ttl_seconds, 600);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn zero_limits_and_empty_fields_are_refused() {
        let zero_timeout = RedisPriceConfig {
            timeout_ms: 0,
            ..RedisPriceConfig::default()
        };
        assert_eq!(
            zero_timeout.validate(),
            Err(RedisConfigError::Zero("timeout_ms"))
        );
        let empty_field = RedisPriceConfig {
            kind: PriceKeyKind::Hash {
                field: String::new(),
                updated_at_field: None,
            },
            ..RedisPriceConfig::default()
        };
        assert_eq!(empty_field.validate(), Err(RedisConfigError::EmptyField));
    }
}
