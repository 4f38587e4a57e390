//! The `[database]` settings (SPEC §6), deserialised from the configuration file as they are
//! written and checked here: a wrong value is refused with its key (`database.url: …`).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Where the store connects and how.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "DatabaseToml")]
pub struct DatabaseSettings {
    /// `sqlite://…` or `mysql://user:pass@host:3306/db` (TLS with `?ssl-mode=VERIFY_CA&ssl-ca=…`,
    /// see the sqlx MySQL options); may hold a password, so it is a secret.
    pub url: SecretString,
    /// Size of the connection pool.
    pub max_connections: u32,
    /// Whether `wallet serve` applies pending migrations at start-up.
    pub migrate_on_start: bool,
    /// How long to wait for a connection from the pool or to the server, in milliseconds.
    pub connect_timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseToml {
    url: SecretString,
    max_connections: u32,
    migrate_on_start: bool,
    connect_timeout_ms: u64,
}

impl TryFrom<DatabaseToml> for DatabaseSettings {
    type Error = String;

    fn try_from(toml: DatabaseToml) -> Result<Self, Self::Error> {
        let text = toml.url.expose_secret().trim();
        // The scheme alone is shown: the rest may carry a password.
        match text.split_once("://").map(|(scheme, _)| scheme) {
            Some("sqlite" | "mysql" | "mariadb") => {}
            Some(other) => {
                return Err(format!(
                    "database.url: scheme {other:?} is not supported (sqlite, mysql or mariadb)"
                ));
            }
            None if text.is_empty() => return Err("database.url: must not be empty".to_owned()),
            None => {
                return Err(
                    "database.url: must be a URL such as sqlite://data/wallet.db?mode=rwc \
                            or mysql://user:pass@host/db"
                        .to_owned(),
                );
            }
        }
        if toml.max_connections == 0 {
            return Err("database.max_connections: must be greater than zero".to_owned());
        }
        if toml.connect_timeout_ms == 0 {
            return Err("database.connect_timeout_ms: must be greater than zero".to_owned());
        }
        Ok(DatabaseSettings {
            url: SecretString::from(text.to_owned()),
            max_connections: toml.max_connections,
            migrate_on_start: toml.migrate_on_start,
            connect_timeout_ms: toml.connect_timeout_ms,
        })
    }
}
