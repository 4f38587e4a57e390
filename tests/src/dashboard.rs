//! The metrics the shipped Grafana dashboard (`docker/grafana/dashboards/`) queries, so that a
//! scenario can check each one exists in the service's `/metrics`.

use std::collections::BTreeSet;

/// Every metric name in the dashboard's PromQL expressions (`wallet_…`, `http_…`), histogram
/// series (`…_bucket`, `…_sum`, `…_count`) reduced to their metric.
#[must_use]
pub fn queried_metrics() -> BTreeSet<String> {
    let directory = crate::repository_root().join("docker/grafana/dashboards");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&directory).expect("docker/grafana/dashboards") {
        let path = entry.expect("a dashboard file").path();
        let text = std::fs::read_to_string(&path).expect("read the dashboard");
        let dashboard: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
        for panel in dashboard["panels"].as_array().expect("panels") {
            for target in panel["targets"].as_array().expect("targets") {
                let expression = target["expr"].as_str().expect("a PromQL expression");
                names.extend(metric_names(expression));
            }
        }
    }
    names
}

fn metric_names(expression: &str) -> Vec<String> {
    expression
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|token| token.starts_with("wallet_") || token.starts_with("http_"))
        .map(|token| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| token.strip_suffix(suffix))
                .unwrap_or(token)
                .to_owned()
        })
        .collect()
}

/// The metric names of a Prometheus text exposition.
#[must_use]
pub fn exported_metrics(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(|name| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name)
                .to_owned()
        })
        .collect()
}
