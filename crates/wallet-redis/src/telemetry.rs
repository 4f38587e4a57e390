//! The price feed's metrics, through the `metrics` facade so that this crate knows no exporter
//! (the app crate installs Prometheus). SPEC §5 asks for price hits and misses on `/metrics`.

/// Counter of tickers looked up, labelled `result` = `hit`, `miss` or `garbage`.
pub const LOOKUPS_TOTAL: &str = "wallet_price_lookups_total";
/// Counter of look-ups that failed as a whole (Redis unreachable, timed out, bad reply): the
/// summaries they served fell back to last trades.
pub const FEED_ERRORS_TOTAL: &str = "wallet_price_feed_errors_total";
/// Histogram of the duration of one look-up (all tickers of a summary), in seconds.
pub const LOOKUP_SECONDS: &str = "wallet_price_lookup_seconds";

/// How the tickers of one look-up fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LookupCounts {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) garbage: u64,
}

impl LookupCounts {
    /// Adds the counts to [`LOOKUPS_TOTAL`], once per label rather than once per ticker.
    pub(crate) fn record(self) {
        for (result, count) in [
            ("hit", self.hits),
            ("miss", self.misses),
            ("garbage", self.garbage),
        ] {
            if count > 0 {
                metrics::counter!(LOOKUPS_TOTAL, "result" => result).increment(count);
            }
        }
    }
}

/// Counts a failed look-up.
pub(crate) fn record_feed_error() {
    metrics::counter!(FEED_ERRORS_TOTAL).increment(1);
}

/// Records how long a look-up took.
pub(crate) fn record_duration(duration: std::time::Duration) {
    metrics::histogram!(LOOKUP_SECONDS).record(duration);
}
