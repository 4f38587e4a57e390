//! The one table `make bench` prints: every number of one run, its SPEC §8 target and whether
//! it is met, with the machine it ran on.

use std::fmt::Write as _;
use std::time::Duration;

use crate::cpu::CpuUse;
use crate::ingest::{Latency, RowCounts};
use crate::progress::Rate;
use crate::raw_sql::RawResult;
use crate::summary::SummaryResult;

/// SPEC §8: events per second end to end.
const EVENTS_PER_SECOND_MIN: f64 = 20_000.0;
/// Issue 17: fees and D+2 cost at most 10 % of the throughput.
const FEES_RATIO_MIN: f64 = 0.9;
/// SPEC §8: the service's share of the raw SQL limit.
const RAW_FRACTION_MIN: f64 = 0.5;
/// SPEC §8: batched over one-transaction-per-event.
const BATCH_RATIO_MIN: f64 = 20.0;
/// SPEC §8: summary requests per second.
const SUMMARY_PER_SECOND_MIN: f64 = 25_000.0;
/// SPEC §8: summary p99.
const SUMMARY_P99_MAX: Duration = Duration::from_millis(10);
/// SPEC §8: peak RSS, in KiB (150 MB).
const RSS_KIB_MAX: u64 = 150 * 1000 * 1000 / 1024;

/// Everything measured; `None` for what was skipped or failed.
#[derive(Debug, Default)]
pub struct Report {
    /// Events of measurement 1.
    pub events: usize,
    /// Accounts of measurements 1–3.
    pub accounts: usize,
    /// Measurement 1.
    pub throughput: Option<Rate>,
    /// Rows the service wrote in measurement 1.
    pub service_rows: Option<RowCounts>,
    /// CPU used during measurement 1.
    pub ingest_cpu: Option<CpuUse>,
    /// CPU used during measurement 2.
    pub batch1_cpu: Option<CpuUse>,
    /// Measurement 1b: with fees and D+2.
    pub fees: Option<Rate>,
    /// CPU used during measurement 1b.
    pub fees_cpu: Option<CpuUse>,
    /// Settlement obligations the service of 1b created.
    pub fees_obligations: Option<u64>,
    /// Measurement 1, paced.
    pub latency: Option<Latency>,
    /// Peak RSS of the service of measurement 1, KiB.
    pub ingest_rss_kib: Option<u64>,
    /// Events of measurement 2.
    pub batch1_events: usize,
    /// Measurement 2.
    pub batch1: Option<Rate>,
    /// Measurement 3 in the service's statements, with as many writers as it has lanes.
    pub raw: Option<RawResult>,
    /// Measurement 3 in the plain upserts of earlier rounds: the reference.
    pub raw_reference: Option<RawResult>,
    /// Measurement 4 (accounts, connections).
    pub summary_shape: (usize, u32),
    /// Measurement 4.
    pub summary: Option<SummaryResult>,
    /// Measurement 6.
    pub dividend: Option<crate::dividend::DividendResult>,
    /// Failures, one line each.
    pub failures: Vec<String>,
}

fn yes_no(met: bool) -> &'static str {
    if met { "**yes**" } else { "no" }
}

fn thousands(value: f64) -> String {
    // Display only.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let digits = (value.max(0.0).round() as u64).to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn cpu_label(measurement: &str) -> String {
    format!("{measurement}. CPU seconds used: wallet / mariadbd / bench (mock Kafka)")
}

fn cpu_text(cpu: CpuUse) -> String {
    format!(
        "{:.1} / {:.1} / {:.1} in {:.1} s wall (start-up included)",
        cpu.service, cpu.database, cpu.bench, cpu.wall
    )
}

/// Issue 19: CPU per event of the wallet and MariaDB together, on two cores at 20,000 events/s.
const CPU_MICROS_PER_EVENT_MAX: f64 = 100.0;

/// The CPU of a run per event: wallet, mariadbd and the two together, in µs.
fn cpu_per_event(cpu: CpuUse, events: usize) -> (f64, f64, f64) {
    #[allow(clippy::cast_precision_loss)]
    let per_event = |seconds: f64| seconds * 1e6 / events.max(1) as f64;
    let (wallet, database) = (per_event(cpu.service), per_event(cpu.database));
    (wallet, database, wallet + database)
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn megabytes(kib: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mb = kib as f64 * 1024.0 / 1e6;
    format!("{mb:.0} MB")
}

impl Report {
    /// The table in Markdown, headed by the machine and followed by any failure.
    #[must_use]
    pub fn table(&self, machine: &str) -> String {
        let mut rows: Vec<[String; 4]> = Vec::new();
        let mut row = |what: String, value: String, target: &str, met: &str| {
            rows.push([what, value, target.to_owned(), met.to_owned()]);
        };
        let events_per_second = self.throughput.map(|rate| rate.records_per_second);
        if let Some(rate) = self.throughput {
            row(
                format!(
                    "1. events/s end to end ({} events, {} accounts, batch ≤ 500)",
                    thousands(self.events as f64),
                    thousands(self.accounts as f64)
                ),
                format!(
                    "{} ({} events in {:.2} s)",
                    thousands(rate.records_per_second),
                    rate.records,
                    rate.seconds
                ),
                "≥ 20,000",
                yes_no(rate.records_per_second >= EVENTS_PER_SECOND_MIN),
            );
        }
        if let Some(rate) = self.fees {
            row(
                format!(
                    "1b. events/s with B3's fees and D+2 ({} obligations)",
                    thousands(self.fees_obligations.unwrap_or_default() as f64)
                ),
                thousands(rate.records_per_second),
                "—",
                "",
            );
            if let Some(plain) = events_per_second {
                let ratio = rate.records_per_second / plain;
                row(
                    "1b. with fees and D+2 ÷ without (1)".to_owned(),
                    format!("{:.0} %", ratio * 100.0),
                    "≥ 90 %",
                    yes_no(ratio >= FEES_RATIO_MIN),
                );
            }
        }
        if let Some(cpu) = self.fees_cpu {
            row(cpu_label("1b"), cpu_text(cpu), "—", "");
            let (wallet, database, together) = cpu_per_event(cpu, self.events);
            row(
                "1b. CPU µs per event: wallet / mariadbd / together (start-up included)".to_owned(),
                format!("{wallet:.0} / {database:.0} / {together:.0}"),
                "—",
                "",
            );
        }
        if let Some(latency) = self.latency {
            row(
                format!(
                    "1. produce → commit latency, paced at {} events/s ({} events, producer linger {} ms, consumer fetch wait {} ms{})",
                    thousands(latency.pace.per_second),
                    thousands(latency.events as f64),
                    latency.pace.linger_ms,
                    latency.pace.fetch_wait_ms,
                    if latency.missing > 0 {
                        format!(", {} not committed in time", latency.missing)
                    } else {
                        String::new()
                    }
                ),
                format!("p50 {} / p99 {}", millis(latency.p50), millis(latency.p99)),
                "—",
                "",
            );
        }
        if let Some(cpu) = self.ingest_cpu {
            row(cpu_label("1"), cpu_text(cpu), "—", "");
            let (wallet, database, together) = cpu_per_event(cpu, self.events);
            row(
                "1. CPU µs per event: wallet / mariadbd / together (start-up included)".to_owned(),
                format!("{wallet:.0} / {database:.0} / {together:.0}"),
                "≤ 100 together",
                yes_no(together <= CPU_MICROS_PER_EVENT_MAX),
            );
        }
        if let Some(service) = self.service_rows {
            row(
                "1. rows the service left after 1: holds / ledger / outbox / positions".to_owned(),
                format!(
                    "{} / {} / {} / {}",
                    thousands(service.holds as f64),
                    thousands(service.ledger as f64),
                    thousands(service.outbox as f64),
                    thousands(service.positions as f64)
                ),
                "—",
                "",
            );
        }
        if let Some(rate) = self.batch1 {
            row(
                format!(
                    "2. events/s with batch size 1 ({} events)",
                    thousands(self.batch1_events as f64)
                ),
                thousands(rate.records_per_second),
                "—",
                "",
            );
            if let Some(batched) = events_per_second {
                let ratio = batched / rate.records_per_second;
                row(
                    "2. batched ÷ batch size 1".to_owned(),
                    format!("{ratio:.1}×"),
                    "≥ 20×",
                    yes_no(ratio >= BATCH_RATIO_MIN),
                );
            }
        }
        if let Some(cpu) = self.batch1_cpu {
            row(cpu_label("2"), cpu_text(cpu), "—", "");
        }
        for raw in [self.raw, self.raw_reference].into_iter().flatten() {
            row(
                format!(
                    "3. raw SQL limit, {} writers on disjoint accounts (as the lanes), {}: \
                     events/s equivalent (same rows, batches of 500 events)",
                    raw.writers,
                    raw.pattern.describe()
                ),
                format!(
                    "{} ({} rows/s, {} rows)",
                    thousands(raw.events_per_second()),
                    thousands(raw.rows_per_second()),
                    thousands(raw.rows as f64)
                ),
                "—",
                "",
            );
        }
        if let (Some(raw), Some(batched)) = (self.raw, events_per_second) {
            let fraction = batched / raw.events_per_second();
            row(
                format!(
                    "3. service ÷ raw limit of {} writers in its statements",
                    raw.writers
                ),
                format!("{:.0} %", fraction * 100.0),
                "≥ 50 %",
                yes_no(fraction >= RAW_FRACTION_MIN),
            );
        }
        if let Some(summary) = &self.summary {
            let report = &summary.report;
            let (accounts, connections) = self.summary_shape;
            row(
                format!(
                    "4. summary req/s ({connections} connections, {} accounts × 5 positions, \
                     Redis prices{})",
                    thousands(accounts as f64),
                    if report.non_2xx + report.socket_errors > 0 {
                        format!(
                            "; {} non-2xx, {} socket errors",
                            report.non_2xx, report.socket_errors
                        )
                    } else {
                        String::new()
                    }
                ),
                thousands(report.requests_per_second),
                "≥ 25,000",
                yes_no(report.requests_per_second >= SUMMARY_PER_SECOND_MIN),
            );
            row(
                "4. summary latency".to_owned(),
                format!("p50 {} / p99 {}", millis(report.p50), millis(report.p99)),
                "p99 ≤ 10 ms",
                yes_no(report.p99 <= SUMMARY_P99_MAX),
            );
            if let Some((hits, misses)) = summary.cache_counts {
                row(
                    "4. read cache hits / misses (warm-up included)".to_owned(),
                    format!("{} / {}", thousands(hits as f64), thousands(misses as f64)),
                    "—",
                    "",
                );
            }
            let uncached = &summary.uncached;
            row(
                "4. the same with the read cache off (`read_cache.accounts_max = 0`)".to_owned(),
                format!(
                    "{} req/s, p50 {} / p99 {}",
                    thousands(uncached.requests_per_second),
                    millis(uncached.p50),
                    millis(uncached.p99)
                ),
                "—",
                "",
            );
        }
        let rss = [
            ("5. peak RSS during 1", self.ingest_rss_kib),
            (
                "5. peak RSS during 4",
                self.summary.as_ref().and_then(|s| s.peak_rss_kib),
            ),
        ];
        for (what, kib) in rss {
            if let Some(kib) = kib {
                row(
                    what.to_owned(),
                    megabytes(kib),
                    "≤ 150 MB",
                    yes_no(kib <= RSS_KIB_MAX),
                );
            }
        }
        if let Some(dividend) = self.dividend {
            row(
                format!(
                    "6. one cash dividend: holders/s ({} holders, {} per transaction)",
                    thousands(dividend.holders as f64),
                    dividend.batch_size
                ),
                format!(
                    "{} ({:.1} s from receipt to the last payment; peak RSS {})",
                    thousands(dividend.holders as f64 / dividend.seconds.max(1e-9)),
                    dividend.seconds,
                    dividend.peak_rss_kib.map_or("—".to_owned(), megabytes)
                ),
                "—",
                "",
            );
        }
        let mut out = String::new();
        let _ = writeln!(out, "{machine}\n");
        let _ = writeln!(out, "| measurement | value | SPEC §8 target | met |");
        let _ = writeln!(out, "|---|---|---|---|");
        for [what, value, target, met] in rows {
            let _ = writeln!(out, "| {what} | {value} | {target} | {met} |");
        }
        for failure in &self.failures {
            let _ = writeln!(out, "\nFAILED: {failure}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large numbers get thousands separators; the table shows what was measured only.
    #[test]
    fn thousands_and_an_empty_report() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        let table = Report::default().table("machine");
        assert!(table.contains("| measurement |"));
        assert!(!table.contains("1. events/s"));
    }
}
