//! B3's market profile for the tests and the bench: the `[settlement]` and `[[fees.schedule]]`
//! sections of `config/production.example.toml`, the one place their numbers are written, as a
//! config file of their own.

use std::path::PathBuf;

/// The sections, with `holiday_file` pointed at the repository's calendar and `settlement_extra`
/// (e.g. `interval_seconds = 1`) added to `[settlement]`.
///
/// # Panics
/// When the production example cannot be read: the repository is incomplete.
#[must_use]
pub fn market_config(settlement_extra: &str) -> String {
    let root = crate::repository_root();
    let example = std::fs::read_to_string(root.join("config/production.example.toml"))
        .expect("config/production.example.toml");
    let holidays = root.join("config/b3-holidays.txt");
    let mut section = String::new();
    let mut out = String::new();
    for line in example.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed.to_owned();
        }
        if !matches!(section.as_str(), "[settlement]" | "[[fees.schedule]]")
            || trimmed.starts_with('#')
        {
            continue;
        }
        if trimmed.starts_with("holiday_file") {
            out.push_str(&format!(
                "holiday_file = {:?}\n",
                holidays.display().to_string()
            ));
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if trimmed == "[settlement]" {
            out.push_str(settlement_extra);
            out.push('\n');
        }
    }
    out
}

/// [`market_config`] written to a fresh file; the caller removes it.
///
/// # Panics
/// When the file cannot be written.
#[must_use]
pub fn market_config_file(settlement_extra: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("wallet-b3-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, market_config(settlement_extra)).expect("write the B3 config file");
    path
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_profile_has_d_plus_two_and_the_three_fees() {
        let config = super::market_config("interval_seconds = 1");
        assert!(config.contains("cycle_days = 2\n"), "{config}");
        assert!(config.contains("interval_seconds = 1\n"), "{config}");
        assert_eq!(config.matches("[[fees.schedule]]").count(), 3, "{config}");
        assert!(config.contains("b3-holidays.txt"), "{config}");
        assert!(!config.contains("[log]"), "{config}");
    }
}
