//! The README's configuration table is checked against `config/default.toml`, the embedded
//! default: every key with its environment variable and default, nothing missing or extra, so
//! the two cannot drift apart.

use std::collections::BTreeMap;

/// `section.key` → default value as written in the TOML file.
fn default_toml() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(wallet_e2e::repository_root().join("config/default.toml"))
        .expect("config/default.toml");
    let mut section = String::new();
    let mut keys = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            section = name.to_owned();
        } else if let Some((key, value)) = line.split_once('=') {
            keys.insert(format!("{section}.{}", key.trim()), value.trim().to_owned());
        }
    }
    keys
}

/// `section.key` → (environment variable, default) from the README's table.
fn readme_table() -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(wallet_e2e::repository_root().join("README.md"))
        .expect("README.md");
    let unquote = |cell: &str| cell.trim().trim_matches('`').to_owned();
    text.lines()
        .filter(|line| line.starts_with("| `") && line.matches('|').count() >= 5)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').collect();
            let key = unquote(cells[1]);
            let env = unquote(cells[2]);
            env.starts_with("WALLET__")
                .then(|| (key, (env, unquote(cells[3]))))
        })
        .collect()
}

#[test]
fn the_readme_configuration_table_matches_the_embedded_default() {
    let defaults = default_toml();
    let table = readme_table();
    assert!(
        !defaults.is_empty(),
        "no keys read from config/default.toml"
    );
    let missing: Vec<&String> = defaults
        .keys()
        .filter(|key| !table.contains_key(*key))
        .collect();
    let extra: Vec<&String> = table
        .keys()
        .filter(|key| !defaults.contains_key(*key))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README lacks {missing:?}; README has unknown {extra:?}"
    );
    for (key, default) in &defaults {
        let (env, documented) = &table[key];
        let (section, name) = key.split_once('.').expect("section.key");
        assert_eq!(
            env,
            &format!(
                "WALLET__{}__{}",
                section.to_uppercase(),
                name.to_uppercase()
            ),
            "{key}"
        );
        assert_eq!(documented, default, "default of {key}");
    }
}

/// Every `WALLET__…` variable the compose file sets names a real configuration key, and the
/// file is well-formed enough for Compose: no tabs, and the four services it promises.
#[test]
fn the_compose_file_sets_only_real_configuration_keys() {
    let compose = std::fs::read_to_string(wallet_e2e::repository_root().join("docker/compose.yml"))
        .expect("docker/compose.yml");
    assert!(
        !compose.contains('\t'),
        "YAML must not be indented with tabs"
    );
    for service in ["  mysql:", "  redis:", "  kafka:", "  wallet:"] {
        assert!(
            compose.lines().any(|line| line == service),
            "compose.yml lacks the service {service}"
        );
    }
    let keys = default_toml();
    let variables: Vec<&str> = compose
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("WALLET__"))
        .collect();
    assert!(
        variables.len() >= 5,
        "compose.yml configures the wallet: {variables:?}"
    );
    for variable in variables {
        let mut parts = variable.trim_start_matches("WALLET__").splitn(2, "__");
        let key = format!(
            "{}.{}",
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default()
        )
        .to_lowercase();
        assert!(
            keys.contains_key(&key),
            "{variable} is not a configuration key ({key})"
        );
    }
}
