//! Logs, request ids and metrics in one place (STYLE §8).
//!
//! - Logs: `tracing` with compact lines or JSON (`log.format`), filtered by `log.level`.
//! - Request ids: every request gets one, echoed in the `x-request-id` response header and
//!   recorded on its root span. An incoming `x-request-id` is kept only when it is 1–64
//!   characters of `[A-Za-z0-9._-]`, so a client cannot inject text into logs; otherwise a
//!   fresh UUID is used.
//! - Metrics: the Prometheus recorder is installed once per process (the other crates emit
//!   through the `metrics` facade); a middleware counts HTTP requests by route pattern, method
//!   and status and records their latency in a histogram.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Header carrying the request id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Longest incoming request id kept.
const REQUEST_ID_LENGTH_MAX: usize = 64;
/// Counter of HTTP requests, labelled `method`, `route`, `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram of HTTP request latency in seconds, labelled `method`, `route`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
/// Buckets of the latency histogram, in seconds: fine below 10 ms where the targets are.
const LATENCY_BUCKETS_SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Installs the log subscriber. A second call (tests build several apps in one process) keeps
/// the first subscriber.
pub fn init_logging(settings: &LogSettings) {
    // `log.level` was checked when the settings were loaded; "info" only guards a hand-built
    // `LogSettings`.
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a person at a terminal: in a file or a log collector they are
    // noise, and writing them was 2–3 % of the service's CPU in `make bench`.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    let _already_installed = match settings.format {
        LogFormat::Compact => builder.compact().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The process-wide Prometheus recorder, installed on first use. Only the handle is used (no
/// HTTP listener): `/metrics` renders it.
///
/// # Panics
/// When another metrics recorder was installed first: a wiring bug.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_REQUEST_DURATION_SECONDS.to_owned()),
                    LATENCY_BUCKETS_SECONDS,
                )
                .expect("the latency buckets are not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            for name in COUNTERS_FROM_ZERO {
                metrics::counter!(*name).absolute(0);
            }
            handle
        })
        .clone()
}

/// Counters the service exports, registered at zero when the recorder is installed: a
/// dashboard or an alert on one that has never moved (no dead letter, no task failure yet)
/// then reads 0, not "no data".
const COUNTERS_FROM_ZERO: &[&str] = &[
    wallet_kafka::metrics::EVENTS_TOTAL,
    wallet_kafka::metrics::DEAD_LETTERS_TOTAL,
    wallet_kafka::metrics::COMMIT_FAILURES_TOTAL,
    wallet_kafka::metrics::RETRIES_TOTAL,
    wallet_kafka::metrics::OUTBOX_PUBLISHED_TOTAL,
    wallet_kafka::metrics::APPLY_PANICS_TOTAL,
    wallet_redis::telemetry::LOOKUPS_TOTAL,
    wallet_redis::telemetry::FEED_ERRORS_TOTAL,
    crate::jobs::supervisor::TASK_FAILURES_TOTAL,
    crate::jobs::sweeper::HOLDS_EXPIRED_TOTAL,
    crate::jobs::settlement::OBLIGATIONS_SETTLED_TOTAL,
];

/// The route pattern a request matched (`/api/v1/wallet/{userId}/summary`), kept in its
/// extensions by the root span.
#[derive(Debug, Clone)]
struct RoutePattern(String);

/// The request id of a request, kept in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Keeps a client's request id only when it is safe to log and echo.
#[must_use]
pub fn sanitize_request_id(incoming: Option<&HeaderValue>) -> Option<String> {
    let text = incoming?.to_str().ok()?.trim();
    let valid = (1..=REQUEST_ID_LENGTH_MAX).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    valid.then(|| text.to_owned())
}

/// Root span of every request: tracing-actix-web's fields plus the request id the response
/// echoes.
#[derive(Debug, Clone, Copy)]
pub struct WalletRootSpan;

impl RootSpanBuilder for WalletRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // Without a usable incoming id, the one tracing-actix-web generated (its `request_id`
        // span field) is echoed, so logs and the client see the same value.
        let id = sanitize_request_id(request.headers().get(REQUEST_ID_HEADER))
            .or_else(|| {
                request
                    .extensions()
                    .get::<tracing_actix_web::RequestId>()
                    .map(ToString::to_string)
            })
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        request.extensions_mut().insert(RequestId(id.clone()));
        // The route pattern is found once per request, here, and kept for the metrics: each
        // look-up walks the route table's regexes again (tracing-actix-web's `root_span!`
        // does one of its own, so the span is built by hand).
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.uri().path(),
            otel.kind = "server",
            request_id = %id,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        );
        request.extensions_mut().insert(RoutePattern(route));
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The `method` label of a request: one of HTTP's standard methods, or `OTHER`. A client
/// chooses the method's text (`PROBE1`, `X-…`), and a label per text would let anyone grow the
/// metrics without bound.
#[must_use]
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// Middleware (inside the tracing logger): echoes the request id and records HTTP metrics.
///
/// # Errors
/// Whatever the inner service returns.
pub async fn request_metrics(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(request.method());
    // The route pattern, never the raw path: user ids in labels would be unbounded.
    let known = request.extensions().get::<RoutePattern>().cloned();
    let route = known.map_or_else(
        || {
            request
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned())
        },
        |RoutePattern(route)| route,
    );
    let request_id = request.extensions().get::<RequestId>().cloned();
    let mut response = next.call(request).await?;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS_TOTAL, "method" => method, "route" => route.clone(),
        "status" => status)
    .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    if let Some(RequestId(id)) = request_id
        && let Ok(value) = HeaderValue::from_str(&id)
    {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        for custom in ["PROBE1", "PROBE2", "X-ANYTHING"] {
            assert_eq!(
                method_label(&Method::from_bytes(custom.as_bytes()).unwrap()),
                "OTHER"
            );
        }
    }

    #[test]
    fn only_safe_request_ids_are_kept() {
        let value = |text: &str| HeaderValue::from_str(text).unwrap();
        assert_eq!(
            sanitize_request_id(Some(&value("abc-123_x.y"))),
            Some("abc-123_x.y".to_owned())
        );
        assert_eq!(sanitize_request_id(Some(&value("a b"))), None);
        assert_eq!(sanitize_request_id(Some(&value("x\"}"))), None);
        assert_eq!(sanitize_request_id(Some(&value(&"x".repeat(65)))), None);
        assert_eq!(sanitize_request_id(None), None);
    }
}
