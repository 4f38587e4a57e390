//! The actix-web server: middleware order, extractor error handlers, routes, Swagger UI, and
//! the signals that stop it.
//!
//! Middleware, outermost first: the tracing logger (root span with the request id), the
//! metrics and request-id echo, then the error handlers that turn any error response that is
//! not problem+json yet into one, so metrics and logs see the final status.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::http::auth::Authenticator;
use crate::http::openapi::{ApiDoc, JAVA_OPENAPI_PATH, OPENAPI_PATH};
use crate::http::problem::{ApiError, problem_for_status};
use crate::http::routes::health::Readiness;
use crate::http::routes::{self, ApiState};
use crate::telemetry::{self, WalletRootSpan};

pub(crate) fn listener_display(settings: &Settings, port: u16) -> String {
    let ip = settings.server.bind.ip();
    if ip.is_unspecified() {
        format!("127.0.0.1:{port}")
    } else {
        std::net::SocketAddr::new(ip, port).to_string()
    }
}

pub(crate) fn http_server(
    listener: TcpListener,
    settings: &Settings,
    api: ApiState,
    readiness: Readiness,
    authenticator: Authenticator,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Result<Server, std::io::Error> {
    let body_limit = settings.server.body_limit_bytes;
    let api = web::Data::new(api);
    let readiness = web::Data::new(readiness);
    let authenticator = web::Data::new(authenticator);
    let metrics = web::Data::new(metrics);
    let openapi = ApiDoc::openapi();
    // Serialising a document built from static annotations cannot fail.
    let openapi_json = openapi.to_json().unwrap_or_default();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(ErrorHandlers::new().default_handler(problem_for_status))
            .wrap(from_fn(telemetry::request_metrics))
            .wrap(TracingLogger::<WalletRootSpan>::new())
            .app_data(api.clone())
            .app_data(readiness.clone())
            .app_data(authenticator.clone())
            .app_data(metrics.clone())
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(|error, _| {
                        ApiError::BadRequest(format!("invalid JSON body: {error}")).into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|error, _| {
                ApiError::BadRequest(format!("invalid query string: {error}")).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|error, _| {
                ApiError::BadRequest(format!("invalid path segment: {error}")).into()
            }))
            .configure(routes::configure_api)
            .configure(routes::health::configure)
            .service(web::redirect("/swagger-ui", "/swagger-ui/"))
            // springdoc's paths, which the broker's people have bookmarked.
            .service(web::redirect("/swagger-ui.html", "/swagger-ui/"))
            .service(web::resource(JAVA_OPENAPI_PATH).route(web::get().to({
                let document = openapi_json.clone();
                move || {
                    let document = document.clone();
                    async move {
                        actix_web::HttpResponse::Ok()
                            .content_type("application/json")
                            .body(document)
                    }
                }
            })))
            .service(SwaggerUi::new("/swagger-ui/{_:.*}").url(OPENAPI_PATH, openapi.clone()))
            // An empty 404, rewritten to problem+json (with the path) by the error handlers.
            .default_service(web::to(actix_web::HttpResponse::NotFound))
    })
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(settings.server.shutdown_timeout_seconds);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
