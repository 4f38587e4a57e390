//! Loading the layers: the embedded default, overrides, and errors that name their key.

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
    assert_eq!(Brokers::of(&settings.kafka), Brokers::Embedded);
    assert_eq!(settings.kafka.group_id, "broker-wallet-api");
    assert_eq!(settings.kafka.order_events_topic, "order-events-v1");
    assert_eq!(settings.kafka.dead_letter_topic, "order-events-v1.DLT");
    assert_eq!(settings.kafka.wallet_events_topic, "wallet-events-v1");
    assert!(settings.prices.redis.is_none());
    assert!(matches!(settings.auth.mode, AuthMode::None));
    assert_eq!(settings.wallet.default_currency, Currency::BRL);
    assert_eq!(settings.wallet.hold_ttl_hours, 24);
    assert!(
        settings.fees.is_empty(),
        "no fees unless the broker sets them"
    );
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
            (
                "WALLET__AUTH__JWT_HS256_SECRET",
                "1e500000000000000000000000000000",
            ),
            ("WALLET__AUTH__JWT_AUDIENCE", "broker-wallet"),
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
        Brokers::of(&settings.kafka),
        Brokers::External("k1:9092,k2:9092".to_owned())
    );
    let AuthMode::Jwt(JwtKey::Hs256(secret)) = settings.auth.mode else {
        panic!("jwt mode expected");
    };
    // A secret that looks like a number is kept verbatim.
    assert_eq!(secret.expose_secret(), "1e500000000000000000000000000000");
    assert_eq!(settings.auth.audience.as_deref(), Some("broker-wallet"));
    assert_eq!(settings.auth.issuer, None);
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
    assert_eq!(
        error_of(&[
            ("WALLET__AUTH__MODE", "jwt"),
            (
                "WALLET__AUTH__JWT_HS256_SECRET",
                "0123456789abcdef0123456789abcde"
            )
        ]),
        "configuration error: auth.jwt_hs256_secret: must be at least 32 bytes, got 31"
    );
    assert!(error_of(&[("WALLET__PRICES__KEY_KIND", "list")]).contains("prices.key_kind"));
    assert!(error_of(&[("WALLET__PRICES__KEY_PATTERN", "p:")]).contains("prices.key_pattern"));
    assert!(
        error_of(&[("WALLET__WALLET__DEFAULT_CURRENCY", "R$")]).contains("wallet.default_currency")
    );
    assert!(
        error_of(&[("WALLET__KAFKA__FETCH_WAIT_MS_MAX", "0")]).contains("kafka.fetch_wait_ms_max")
    );
    assert!(error_of(&[("WALLET__LOG__FORMAT", "xml")]).contains("log.format"));
    assert!(error_of(&[("WALLET__LOG__LEVEL", "info,[=")]).contains("log.level"));
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
            (
                "WALLET__AUTH__JWT_HS256_SECRET",
                "topsecret-topsecret-topsecret-top",
            ),
        ]),
    )
    .unwrap();
    let debug = format!("{settings:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!debug.contains("topsecret"), "{debug}");
}

#[test]
fn the_production_example_loads_with_sasl_ssl_kafka_and_tls_stores() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/production.example.toml");
    let holidays = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/b3-holidays.txt");
    let settings = Settings::load_from(
        Some(&path),
        env(&[
            (
                "WALLET__AUTH__JWT_HS256_SECRET",
                "a-production-secret-of-32-bytes-at-least",
            ),
            // The image's path, here where the repository has the file.
            (
                "WALLET__SETTLEMENT__HOLIDAY_FILE",
                holidays.to_str().unwrap(),
            ),
        ]),
    )
    .unwrap();
    assert_eq!(
        settings.kafka.client.get("security.protocol"),
        Some("SASL_SSL")
    );
    assert_eq!(
        settings.kafka.client.get("sasl.mechanisms"),
        Some("SCRAM-SHA-512")
    );
    assert!(
        settings
            .database
            .url
            .expose_secret()
            .contains("ssl-mode=VERIFY_CA")
    );
    let redis = settings.prices.redis.expect("Redis prices");
    assert!(redis.url.expose_secret().starts_with("rediss://"));
    assert_eq!(settings.settlement.calendar.cycle_days(), 2);
    assert!(
        settings
            .settlement
            .calendar
            .holidays()
            .contains(&chrono::NaiveDate::from_ymd_opt(2027, 4, 21).unwrap()),
        "Tiradentes"
    );
    let fees: Vec<&str> = settings.fees.fees().iter().map(|fee| fee.name()).collect();
    assert_eq!(fees, ["BROKERAGE", "B3_TRADING", "B3_SETTLEMENT"]);
    let notional = wallet_domain::Money::from_stored(rust_decimal::Decimal::new(385_500, 2));
    let total = settings
        .fees
        .total(wallet_domain::Side::Buy, notional, Currency::BRL)
        .unwrap();
    assert_eq!(total.to_scaled_string(Currency::BRL), "6.05");
}

/// A config file of `toml` on top of the embedded default.
fn load_file(toml: &str) -> Result<Settings, SettingsError> {
    let path = std::env::temp_dir().join(format!("wallet-config-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, toml).unwrap();
    let settings = Settings::load_from(Some(&path), env(&[]));
    std::fs::remove_file(&path).unwrap();
    settings
}

#[test]
fn fee_schedules_are_read_exactly_and_refused_naming_the_fee() {
    let settings = load_file(
        "[[fees.schedule]]\nname = \"CUSTODY\"\nside = \"SELL\"\nrate = 0.0001\n\
         minimum = \"1.00\"\nmaximum = \"20\"\n",
    )
    .unwrap();
    let custody = &settings.fees.fees()[0];
    assert_eq!(custody.side(), wallet_domain::FeeSide::Sell);
    let notional = wallet_domain::Money::from_stored(rust_decimal::Decimal::new(5_000_000, 2));
    // 0.0001 × 50,000.00 = 5.00: the TOML float is read as the decimal it spells.
    assert_eq!(
        custody
            .amount(notional, Currency::BRL)
            .unwrap()
            .to_scaled_string(Currency::BRL),
        "5.00"
    );
    let refusal = |toml: &str| load_file(toml).err().map(|error| error.to_string());
    let fee = |body: &str| format!("[[fees.schedule]]\nname = \"F\"\n{body}\n");
    assert!(
        refusal(&fee("side = \"SHORT\""))
            .unwrap()
            .contains("fees.schedule[0].side")
    );
    assert!(
        refusal(&fee("side = \"BUY\"\nrate = \"abc\""))
            .unwrap()
            .contains("fees.schedule[0].rate")
    );
    assert!(
        refusal(&fee("side = \"BUY\"\nfixed = \"-1\""))
            .unwrap()
            .contains("fixed -1")
    );
    assert!(
        refusal(&fee("side = \"BUY\"\nfee = \"1\""))
            .unwrap()
            .contains("fee")
    );
    let twice = format!("{}{}", fee("side = \"BUY\""), fee("side = \"SELL\""));
    assert!(refusal(&twice).unwrap().contains("defined twice"));
}

#[test]
fn the_holiday_file_is_read_and_a_bad_one_stops_start_up_naming_its_line() {
    let holidays = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/b3-holidays.txt");
    let settings = load_file(&format!(
        "[settlement]\ncycle_days = 2\nholiday_file = {:?}\n",
        holidays.to_str().unwrap()
    ))
    .unwrap();
    let calendar = &settings.settlement.calendar;
    let date = |text| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    // Thursday 25 March 2027 + D+2 over Good Friday and the weekend.
    assert_eq!(calendar.due_date(date("2027-03-25")), date("2027-03-30"));

    let missing = error_of(&[("WALLET__SETTLEMENT__HOLIDAY_FILE", "/nonexistent/holidays")]);
    assert!(
        missing.contains("settlement.holiday_file: cannot read /nonexistent/holidays"),
        "{missing}"
    );
    let bad = std::env::temp_dir().join(format!("wallet-holidays-{}", uuid::Uuid::new_v4()));
    std::fs::write(&bad, "2027-01-01\n2027-02-30\n").unwrap();
    let refused = error_of(&[("WALLET__SETTLEMENT__HOLIDAY_FILE", bad.to_str().unwrap())]);
    std::fs::remove_file(&bad).unwrap();
    assert!(
        refused.contains("line 2: `2027-02-30` is not a date"),
        "{refused}"
    );
    let long = error_of(&[("WALLET__SETTLEMENT__CYCLE_DAYS", "11")]);
    assert!(long.contains("settlement.cycle_days"), "{long}");
}
