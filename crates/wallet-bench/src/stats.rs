//! Timing statistics: percentiles of latency samples and the parsing of `wrk`'s report. Timing
//! only, never money, so `f64` is fine here.

use std::time::Duration;

/// The `percent`-th percentile (nearest rank) of `samples`, which must be sorted ascending;
/// `None` for no samples.
#[must_use]
pub fn percentile(sorted: &[Duration], percent: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank: the smallest sample with at least `percent` % of the samples at or below it.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What one `wrk --latency` run reported.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkReport {
    /// `Requests/sec:`.
    pub requests_per_second: f64,
    /// Requests completed.
    pub requests: u64,
    /// The 50 % line of the latency distribution.
    pub p50: Duration,
    /// The 99 % line of the latency distribution.
    pub p99: Duration,
    /// `Non-2xx or 3xx responses:` (0 when wrk printed no such line).
    pub non_2xx: u64,
    /// Connect, read, write and timeout errors summed (0 when wrk printed no such line).
    pub socket_errors: u64,
}

/// A wrk duration such as `812.00us`, `1.25ms`, `2.01s` or `1.00m`.
fn wrk_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

/// Parses the output of `wrk --latency`.
///
/// # Errors
/// A message naming the line that is missing or unreadable.
pub fn parse_wrk(output: &str) -> Result<WrkReport, String> {
    let mut requests_per_second = None;
    let mut requests = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut non_2xx = 0;
    let mut socket_errors = 0;
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => requests_per_second = value.parse::<f64>().ok(),
            ["50%", value] => p50 = wrk_duration(value),
            ["99%", value] => p99 = wrk_duration(value),
            [count, "requests", "in", ..] => requests = count.parse::<u64>().ok(),
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                non_2xx = count.parse().unwrap_or(u64::MAX);
            }
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                socket_errors = rest
                    .iter()
                    .filter_map(|word| word.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    Ok(WrkReport {
        requests_per_second: requests_per_second.ok_or("no `Requests/sec:` line")?,
        requests: requests.ok_or("no `N requests in` line")?,
        p50: p50.ok_or("no `50%` latency line (was --latency given?)")?,
        p99: p99.ok_or("no `99%` latency line (was --latency given?)")?,
        non_2xx,
        socket_errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK_OUTPUT: &str = "Running 10s test @ http://127.0.0.1:40000
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    2.31ms  40.12ms   80.00%
    Req/Sec     7.90k   512.33     9.01k    70.00%
  Latency Distribution
     50%    3.71ms
     75%    5.02ms
     90%    6.80ms
     99%   12.50ms
  157340 requests in 10.01s, 180.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  15718.28
Transfer/sec:     17.99MB
";

    /// The numbers the bench reports are read from the right lines of wrk's report.
    #[test]
    fn wrk_report_is_parsed() {
        let report = parse_wrk(WRK_OUTPUT).unwrap();
        assert_eq!(report.requests, 157_340);
        assert!((report.requests_per_second - 15_718.28).abs() < 1e-6);
        assert_eq!(report.p50, Duration::from_micros(3_710));
        assert_eq!(report.p99, Duration::from_micros(12_500));
        assert_eq!(report.non_2xx, 5);
        assert_eq!(report.socket_errors, 3);
    }

    /// A report without the latency distribution is refused rather than read as zero.
    #[test]
    fn wrk_report_without_latency_is_refused() {
        let output = "  100 requests in 1.00s, 1.00MB read\nRequests/sec:    100.00\n";
        assert!(parse_wrk(output).unwrap_err().contains("50%"));
    }

    /// wrk's units, microseconds to minutes.
    #[test]
    fn wrk_durations() {
        assert_eq!(wrk_duration("812.00us"), Some(Duration::from_micros(812)));
        assert_eq!(wrk_duration("2.00s"), Some(Duration::from_secs(2)));
        assert_eq!(wrk_duration("1.00m"), Some(Duration::from_secs(60)));
        assert_eq!(wrk_duration("12"), None);
    }

    /// Nearest-rank percentiles: p50 of 1..=100 ms is 50 ms, p99 is 99 ms, p100 the maximum.
    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&samples, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(
            percentile(&samples, 100.0),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            percentile(&samples[..1], 99.0),
            Some(Duration::from_millis(1))
        );
        assert_eq!(percentile(&[], 50.0), None);
    }
}
