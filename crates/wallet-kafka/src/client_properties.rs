//! librdkafka properties from configuration (SPEC §6 `kafka.client`): anything a managed Kafka
//! needs (`security.protocol`, SASL, TLS, timeouts) reaches every client the service creates,
//! with per-role overrides where clients must differ. Secret values (`sasl.password`,
//! `ssl.key.password`, …) never show in `Debug` output or logs.
//!
//! The properties the wallet's delivery guarantees rest on are the wallet's to set and cannot be
//! configured here (see [`RESERVED`]); each has its own setting where it may vary.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};

/// Properties set by the wallet itself, with the setting that controls each (or why none).
pub const RESERVED: &[(&str, &str)] = &[
    ("bootstrap.servers", "set kafka.brokers"),
    ("group.id", "set kafka.group_id"),
    ("group.instance.id", "set kafka.group_instance_id"),
    (
        "enable.auto.commit",
        "offsets are committed only after the database commit",
    ),
    (
        "enable.auto.offset.store",
        "offsets are stored only after the database commit",
    ),
    (
        "auto.offset.reset",
        "a group without offsets starts at the earliest event, so none is skipped",
    ),
    (
        "enable.partition.eof",
        "the readers need the end-of-partition events",
    ),
    (
        "acks",
        "every record is acknowledged by all in-sync replicas",
    ),
    ("enable.idempotence", "set kafka.producer_idempotence"),
    ("message.timeout.ms", "set kafka.delivery_timeout_ms"),
    ("session.timeout.ms", "set kafka.session_timeout_ms"),
    ("statistics.interval.ms", "set kafka.statistics_interval_ms"),
];

/// Words that make a property's value a secret.
const SECRET_MARKERS: &[&str] = &["password", "secret", "jaas", "token", "key.pem"];

/// Whether `key`'s value is a secret.
#[must_use]
pub fn is_secret(key: &str) -> bool {
    SECRET_MARKERS.iter().any(|marker| key.contains(marker))
}

/// librdkafka properties by name. Names are normalised: `_` reads as `.` (no librdkafka
/// property has an underscore), so that an environment variable such as
/// `WALLET__KAFKA__CLIENT__SASL_PASSWORD` can name `sasl.password`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientProperties(BTreeMap<String, String>);

impl ClientProperties {
    /// The properties of `pairs`, names normalised.
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        ClientProperties(
            pairs
                .into_iter()
                .map(|(key, value)| (normalise(key.as_ref()), value.into()))
                .collect(),
        )
    }

    /// Each property, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// True when no property is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first property that the wallet sets itself, with why it cannot be configured.
    #[must_use]
    pub fn reserved(&self) -> Option<(&str, &'static str)> {
        self.0.keys().find_map(|key| {
            RESERVED
                .iter()
                .find(|(reserved, _)| reserved == key)
                .map(|(_, why)| (key.as_str(), *why))
        })
    }
}

fn normalise(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('_', ".")
}

impl fmt::Debug for ClientProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(key, value)| {
                let shown = if is_secret(key) {
                    "<secret>"
                } else {
                    value.as_str()
                };
                (key, shown)
            }))
            .finish()
    }
}

impl<'de> Deserialize<'de> for ClientProperties {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = BTreeMap::<String, PropertyValue>::deserialize(deserializer)?;
        Ok(ClientProperties::from_pairs(
            pairs.into_iter().map(|(key, value)| (key, value.0)),
        ))
    }
}

/// A property's value: written as a string, a number or a boolean in TOML, always text for
/// librdkafka.
struct PropertyValue(String);

impl<'de> Deserialize<'de> for PropertyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Integer(i64),
            Boolean(bool),
        }
        Ok(PropertyValue(match Written::deserialize(deserializer)? {
            Written::Text(text) => text,
            Written::Integer(number) => number.to_string(),
            Written::Boolean(flag) => flag.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let properties = ClientProperties::from_pairs([
            ("security.protocol", "SASL_SSL"),
            ("sasl.password", "hunter2"),
            ("ssl.key.password", "hunter3"),
            ("sasl.oauthbearer.client.secret", "hunter4"),
        ]);
        let debug = format!("{properties:?}");
        assert!(debug.contains("SASL_SSL"), "{debug}");
        for secret in ["hunter2", "hunter3", "hunter4"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }

    #[test]
    fn underscores_name_the_dotted_property() {
        let properties = ClientProperties::from_pairs([("SASL_PASSWORD", "x")]);
        assert_eq!(properties.get("sasl.password"), Some("x"));
    }

    #[test]
    fn the_wallets_own_properties_are_refused() {
        let properties = ClientProperties::from_pairs([("enable.auto.commit", "true")]);
        let (key, why) = properties.reserved().unwrap();
        assert_eq!(key, "enable.auto.commit");
        assert!(why.contains("database commit"));
        assert!(
            ClientProperties::from_pairs([("socket.timeout.ms", "1")])
                .reserved()
                .is_none()
        );
    }
}
