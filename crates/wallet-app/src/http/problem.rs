//! The one HTTP error type: every failure leaves as `application/problem+json` (RFC 9457) with
//! `type`, `title`, `status`, `detail` and a stable machine `code` (SPEC §5).
//!
//! Domain errors map here and nowhere else. A 5xx never shows internals: the client gets a
//! generic detail while the log gets the whole cause chain. Responses that actix itself
//! produces (unknown route, wrong method, malformed query …) are rewritten into the same shape
//! by [`problem_for_status`] through the `ErrorHandlers` middleware, so a client sees one
//! format whatever went wrong.

use std::fmt;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use wallet_domain::ports::StoreError;
use wallet_domain::usecases::{ApplyError, ValuationError};
use wallet_domain::{AmountError, CashError};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:broker-wallet:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Stable machine code, e.g. `INSUFFICIENT_FUNDS`.
    pub code: String,
    /// Per-check results, on readiness failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<serde_json::Value>,
    /// FUNDS_NOT_SETTLED: the exchange date on which the amount asked for becomes withdrawable,
    /// when a coming settlement makes it so.
    #[serde(rename = "withdrawableOn", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2027-04-23")]
    pub withdrawable_on: Option<chrono::NaiveDate>,
}

/// Error responses every `/api/v1/wallet` route may give, for the OpenAPI description.
#[derive(Debug, utoipa::IntoResponses)]
pub enum WalletRouteErrors {
    /// UNAUTHORIZED: the bearer token is missing, malformed, forged or expired (jwt mode).
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// FORBIDDEN: the token may not act on this wallet.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// SERVICE_UNAVAILABLE: the database cannot be reached; retry later.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Everything an HTTP request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The amount is missing, not a number, ≤ 0, ≥ 10^15 or has too many digits.
    #[error("{0}")]
    InvalidAmount(String),
    /// The user id in the path breaks its format.
    #[error("{0}")]
    InvalidUserId(String),
    /// The order id in the path is not a positive 64-bit integer.
    #[error("{0}")]
    InvalidOrderId(String),
    /// The pagination cursor was not issued by this service.
    #[error("{0}")]
    InvalidCursor(String),
    /// The page size is out of range.
    #[error("{0}")]
    InvalidLimit(String),
    /// `at` is missing or not RFC 3339.
    #[error("{0}")]
    InvalidTimestamp(String),
    /// The `Idempotency-Key` header is malformed.
    #[error("{0}")]
    InvalidIdempotencyKey(String),
    /// A malformed request that fits no other code (bad query string, bad path encoding, bad
    /// JSON).
    #[error("{0}")]
    BadRequest(String),
    /// Withdrawal above the available balance.
    #[error("{0}")]
    InsufficientFunds(String),
    /// Withdrawal within the available balance but above the withdrawable one: sale proceeds
    /// that have not settled yet.
    #[error("{detail}")]
    FundsNotSettled {
        /// What was refused, with the amounts.
        detail: String,
        /// When the amount becomes withdrawable, if a coming settlement makes it so.
        withdrawable_on: Option<chrono::NaiveDate>,
    },
    /// The account does not exist.
    #[error("{0}")]
    AccountNotFound(String),
    /// The order has no hold in this wallet.
    #[error("{0}")]
    HoldNotFound(String),
    /// The idempotency key was used for another request.
    #[error("{0}")]
    IdempotencyConflict(String),
    /// No, malformed, forged or expired token.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid token that may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is above `server.body_limit_bytes`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A corporate action the wallet will not take: its reason is the code (the dead-letter
    /// reasons of the corporate-action topic).
    #[error("{}", .0.detail)]
    CorporateActionRefused(wallet_domain::Rejection),
    /// Another corporate action is stored under the id.
    #[error("{0}")]
    CorporateActionConflict(String),
    /// No corporate action has the id.
    #[error("{0}")]
    CorporateActionNotFound(String),
    /// The database (or another dependency) cannot be reached; retry later.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// A bug or broken data; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The stable machine code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidAmount(_) => "INVALID_AMOUNT",
            ApiError::InvalidUserId(_) => "INVALID_USER_ID",
            ApiError::InvalidOrderId(_) => "INVALID_ORDER_ID",
            ApiError::InvalidCursor(_) => "INVALID_CURSOR",
            ApiError::InvalidLimit(_) => "INVALID_LIMIT",
            ApiError::InvalidTimestamp(_) => "INVALID_TIMESTAMP",
            ApiError::InvalidIdempotencyKey(_) => "INVALID_IDEMPOTENCY_KEY",
            ApiError::BadRequest(_) => "BAD_REQUEST",
            ApiError::InsufficientFunds(_) => "INSUFFICIENT_FUNDS",
            ApiError::FundsNotSettled { .. } => "FUNDS_NOT_SETTLED",
            ApiError::AccountNotFound(_) => "ACCOUNT_NOT_FOUND",
            ApiError::HoldNotFound(_) => "HOLD_NOT_FOUND",
            ApiError::IdempotencyConflict(_) => "IDEMPOTENCY_CONFLICT",
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            ApiError::CorporateActionRefused(rejection) => rejection.reason.as_str(),
            ApiError::CorporateActionConflict(_) => "CONFLICTING_ACTION",
            ApiError::CorporateActionNotFound(_) => "CORPORATE_ACTION_NOT_FOUND",
            ApiError::ServiceUnavailable(_) => "SERVICE_UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// An internal error from any error value.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(error))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidAmount(_)
            | ApiError::InvalidUserId(_)
            | ApiError::InvalidOrderId(_)
            | ApiError::InvalidCursor(_)
            | ApiError::InvalidLimit(_)
            | ApiError::InvalidTimestamp(_)
            | ApiError::InvalidIdempotencyKey(_)
            | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::InsufficientFunds(_)
            | ApiError::FundsNotSettled { .. }
            | ApiError::CorporateActionRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::AccountNotFound(_)
            | ApiError::HoldNotFound(_)
            | ApiError::CorporateActionNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::IdempotencyConflict(_) | ApiError::CorporateActionConflict(_) => {
                StatusCode::CONFLICT
            }
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = match self {
            ApiError::Internal(_) => {
                tracing::error!(error.cause_chain = %CauseChain(self), "request failed");
                "an internal error occurred; it has been logged".to_owned()
            }
            ApiError::ServiceUnavailable(detail) => {
                tracing::warn!(%detail, "dependency unavailable");
                "a dependency of the service is unavailable; retry later".to_owned()
            }
            other => other.to_string(),
        };
        let mut problem = Problem::new(status, self.code(), detail, None);
        if let ApiError::FundsNotSettled {
            withdrawable_on, ..
        } = self
        {
            problem.withdrawable_on = *withdrawable_on;
        }
        let mut response = problem.into_response();
        if let ApiError::Unauthorized(_) = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"broker-wallet\""),
            );
        }
        response
    }
}

/// Builds a problem+json response.
#[must_use]
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: String,
    checks: Option<serde_json::Value>,
) -> HttpResponse {
    Problem::new(status, code, detail, checks).into_response()
}

impl Problem {
    fn new(
        status: StatusCode,
        code: &str,
        detail: String,
        checks: Option<serde_json::Value>,
    ) -> Problem {
        Problem {
            problem_type: format!("urn:broker-wallet:problem:{}", code.to_ascii_lowercase()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            checks,
            withdrawable_on: None,
        }
    }

    fn into_response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .json(self)
    }
}

/// Writes an error and all its sources, `outer: inner: innermost`.
struct CauseChain<'a>(&'a dyn std::error::Error);

impl fmt::Display for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            // A conflict that outlived the use case's retries is load, not a bad request: the
            // client may retry, exactly as for an outage.
            StoreError::Unavailable(_) | StoreError::Conflict(_) => {
                ApiError::ServiceUnavailable(error.to_string())
            }
            StoreError::Internal(_) => ApiError::internal(error),
        }
    }
}

impl From<AmountError> for ApiError {
    fn from(error: AmountError) -> Self {
        ApiError::InvalidAmount(error.to_string())
    }
}

impl From<CashError> for ApiError {
    fn from(error: CashError) -> Self {
        match error {
            CashError::AccountNotFound(_) => ApiError::AccountNotFound(error.to_string()),
            CashError::InsufficientFunds { .. } => ApiError::InsufficientFunds(error.to_string()),
            CashError::NotYetSettled {
                withdrawable_on, ..
            } => ApiError::FundsNotSettled {
                detail: error.to_string(),
                withdrawable_on,
            },
            CashError::Amount(amount) => ApiError::InvalidAmount(amount.to_string()),
            CashError::IdempotencyConflict(_) => ApiError::IdempotencyConflict(error.to_string()),
        }
    }
}

impl From<ApplyError> for ApiError {
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::Store(store) => store.into(),
            ApplyError::Cash(cash) => cash.into(),
            ApplyError::Amount(amount) => ApiError::InvalidAmount(amount.to_string()),
        }
    }
}

impl From<ValuationError> for ApiError {
    fn from(error: ValuationError) -> Self {
        match error {
            ValuationError::AccountNotFound(_) => ApiError::AccountNotFound(error.to_string()),
            ValuationError::Store(store) => store.into(),
        }
    }
}

/// The code of a status that actix produced itself.
fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::URI_TOO_LONG => "URI_TOO_LONG",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "HEADERS_TOO_LARGE",
        StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
        status if status.is_server_error() => "INTERNAL",
        _ => "BAD_REQUEST",
    }
}

/// `ErrorHandlers` default handler: rewrites any error response that is not problem+json yet
/// (actix's own 404, 405, 400 …) into one, keeping its status.
///
/// # Errors
/// Never; the signature is the one `ErrorHandlers` wants.
pub fn problem_for_status<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let detail = match status {
        StatusCode::NOT_FOUND => format!("no resource at {}", response.request().path()),
        StatusCode::METHOD_NOT_ALLOWED => format!(
            "method {} is not allowed on {}",
            response.request().method(),
            response.request().path()
        ),
        status if status.is_server_error() => {
            // Whatever produced it did not go through ApiError, so log what is known here.
            tracing::error!(
                status = status.as_u16(),
                error = ?response.response().error(),
                "request failed outside the handlers"
            );
            "an internal error occurred; it has been logged".to_owned()
        }
        status => response
            .response()
            .error()
            .map(ToString::to_string)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
    };
    let code = code_for_status(status);
    let (request, _) = response.into_parts();
    let rewritten: HttpResponse<BoxBody> = problem_response(status, code, detail, None);
    let response: ServiceResponse<EitherBody<B>> =
        ServiceResponse::new(request, rewritten).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(response))
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    fn body_of(error: &ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.error_response();
        let status = response.status();
        let bytes = response.into_body().try_into_bytes().ok().unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// A broken row is a 500 INTERNAL whose body says nothing of the cause.
    #[test]
    fn internal_errors_hide_their_cause() {
        let error = ApiError::from(StoreError::Internal(
            "row 17: balance 'abc' in table accounts".to_owned(),
        ));
        let (status, body) = body_of(&error);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "INTERNAL");
        assert!(!body.to_string().contains("accounts"), "{body}");
    }

    /// An outage (or conflicts that outlived the retries) is 503, also without internals.
    #[test]
    fn outages_are_service_unavailable() {
        for store in [
            StoreError::Unavailable("connection refused to 10.0.0.7:3306".to_owned()),
            StoreError::Conflict("version 3 != 4".to_owned()),
        ] {
            let (status, body) = body_of(&ApiError::from(store));
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body["code"], "SERVICE_UNAVAILABLE");
            assert!(!body.to_string().contains("10.0.0.7"), "{body}");
        }
    }

    /// The domain's refusals keep their stable codes.
    #[test]
    fn cash_errors_map_to_their_codes() {
        let user = wallet_domain::UserId::parse("u1").unwrap();
        let cases = [
            (CashError::AccountNotFound(user), "ACCOUNT_NOT_FOUND", 404),
            (
                CashError::InsufficientFunds {
                    available: wallet_domain::Money::ZERO,
                    requested: wallet_domain::Money::ZERO,
                },
                "INSUFFICIENT_FUNDS",
                422,
            ),
            (
                CashError::IdempotencyConflict("k".to_owned()),
                "IDEMPOTENCY_CONFLICT",
                409,
            ),
        ];
        for (error, code, status) in cases {
            let error = ApiError::from(error);
            assert_eq!(error.code(), code);
            assert_eq!(error.status_code().as_u16(), status);
        }
    }
}
