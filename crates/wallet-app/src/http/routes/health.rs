//! Operations endpoints: `/health/live` (the process answers), `/health/ready` (each
//! dependency answers within its time budget; 503 naming the failing ones) and `/metrics`
//! (Prometheus text), and the same under the Spring Boot Actuator paths the broker's probes and
//! its Prometheus scrape job use for every service: `/actuator/health` (with its `liveness`
//! and `readiness` groups) in Actuator's `{"status":"UP"}` shape, `/actuator/prometheus`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures::future::{BoxFuture, join_all};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{Map, Value, json};

use crate::http::problem::{Problem, problem_response};

type CheckFn = dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync;

/// One named readiness check.
#[derive(Clone)]
pub struct Check {
    name: &'static str,
    run: Arc<CheckFn>,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("name", &self.name).finish()
    }
}

impl Check {
    /// A check called `name` that runs `run` each time readiness is asked.
    pub fn new<F, Fut>(name: &'static str, run: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Check {
            name,
            run: Arc::new(move || Box::pin(run())),
        }
    }
}

/// Every readiness check and the budget of each.
#[derive(Debug, Clone)]
pub struct Readiness {
    checks: Vec<Check>,
    timeout: Duration,
}

impl Readiness {
    /// Readiness made of `checks`, each given `timeout`.
    #[must_use]
    pub fn new(checks: Vec<Check>, timeout: Duration) -> Self {
        Readiness { checks, timeout }
    }

    /// Runs every check concurrently; the failures by name, empty when ready.
    pub async fn run(&self) -> Vec<(&'static str, Result<(), String>)> {
        join_all(self.checks.iter().map(|check| async move {
            let outcome = match tokio::time::timeout(self.timeout, (check.run)()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {} ms", self.timeout.as_millis())),
            };
            (check.name, outcome)
        }))
        .await
    }
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process answers")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "live"}))
}

/// The service can do its work: database, Redis (when configured) and the Kafka consumer.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Every dependency answers"),
        (status = 503, description = "SERVICE_UNAVAILABLE with the failing checks", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    let results = readiness.run().await;
    let mut checks = Map::new();
    let mut failing = Vec::new();
    for (name, outcome) in results {
        match outcome {
            Ok(()) => {
                checks.insert(name.to_owned(), Value::from("ok"));
            }
            Err(reason) => {
                // Debug only: probes ask every few seconds, and the failing component logs its
                // own errors; the 503 body names the check.
                tracing::debug!(check = name, %reason, "readiness check failed");
                checks.insert(name.to_owned(), Value::from(format!("failed: {reason}")));
                failing.push(name);
            }
        }
    }
    if failing.is_empty() {
        HttpResponse::Ok().json(json!({"status": "ready", "checks": checks}))
    } else {
        problem_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            format!("not ready: {} failing", failing.join(", ")),
            Some(Value::Object(checks)),
        )
    }
}

/// Prometheus metrics: HTTP requests by route and status with latencies, consumer, dead
/// letters, outbox and price look-ups.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

/// Readiness in Spring Boot Actuator's shape: `{"status":"UP","components":{…}}`, or 503 with
/// `"DOWN"` and the failing component's error.
#[utoipa::path(get, path = "/actuator/health", tag = "operations",
    responses(
        (status = 200, description = "`{\"status\":\"UP\", \"components\": …}`"),
        (status = 503, description = "`{\"status\":\"DOWN\", \"components\": …}` naming the \
            failing component"),
    ))]
pub async fn actuator_health(readiness: web::Data<Readiness>) -> HttpResponse {
    let mut components = Map::new();
    let mut up = true;
    for (name, outcome) in readiness.run().await {
        let component = match outcome {
            Ok(()) => json!({"status": "UP"}),
            Err(error) => {
                up = false;
                json!({"status": "DOWN", "details": {"error": error}})
            }
        };
        components.insert(name.to_owned(), component);
    }
    let (status, word) = if up {
        (StatusCode::OK, "UP")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "DOWN")
    };
    HttpResponse::build(status).json(json!({"status": word, "components": components}))
}

/// Liveness in Actuator's shape.
#[utoipa::path(get, path = "/actuator/health/liveness", tag = "operations",
    responses((status = 200, description = "`{\"status\":\"UP\"}`")))]
pub async fn actuator_liveness() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "UP"}))
}

/// Registers the operations endpoints.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/health/live").route(web::get().to(live)))
        .service(web::resource("/health/ready").route(web::get().to(ready)))
        .service(web::resource("/metrics").route(web::get().to(metrics)))
        .service(web::resource("/actuator/health").route(web::get().to(actuator_health)))
        .service(web::resource("/actuator/health/liveness").route(web::get().to(actuator_liveness)))
        .service(web::resource("/actuator/health/readiness").route(web::get().to(actuator_health)))
        .service(web::resource("/actuator/prometheus").route(web::get().to(metrics)));
}
