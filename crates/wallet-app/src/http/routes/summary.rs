//! `GET …/summary` and `GET …/positions`: the portfolio valued at market prices, falling back
//! to the last trade the wallet booked (SPEC §5 "Prices").

use actix_web::{HttpResponse, web};

use wallet_domain::usecases::ValuationError;

use super::{ApiState, parse_user};
use crate::http::auth::Caller;
use crate::http::dto::{PositionResponse, SummaryResponse};
use crate::http::problem::{ApiError, Problem, WalletRouteErrors};

/// Balances, positions with prices and values, and total equity.
#[utoipa::path(
    get,
    path = "/api/v1/wallet/{userId}/summary",
    tag = "wallet",
    params(("userId" = String, Path, description = "1–100 characters of A-Z a-z 0-9 . _ : @ + -")),
    responses(
        (status = 200, description = "The valued portfolio", body = SummaryResponse),
        (status = 400, description = "INVALID_USER_ID", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "ACCOUNT_NOT_FOUND", body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn summary(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_user(&path)?;
    caller.may_access(&user)?;
    let summary = state.wallet.summary(&user).await?;
    Ok(HttpResponse::Ok().json(SummaryResponse::from(&summary)))
}

/// The positions, valued as in the summary.
#[utoipa::path(
    get,
    path = "/api/v1/wallet/{userId}/positions",
    tag = "wallet",
    params(("userId" = String, Path, description = "1–100 characters of A-Z a-z 0-9 . _ : @ + -")),
    responses(
        (status = 200, description = "The positions; empty for a user without an account",
            body = Vec<PositionResponse>),
        (status = 400, description = "INVALID_USER_ID", body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn positions(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_user(&path)?;
    caller.may_access(&user)?;
    // The Java wallet answered a user without an account with an empty list, and the
    // frontend calls `.filter()` on whatever comes back.
    match state.wallet.summary(&user).await {
        Ok(summary) => Ok(HttpResponse::Ok().json(PositionResponse::list(&summary))),
        Err(ValuationError::AccountNotFound(_)) => {
            Ok(HttpResponse::Ok().json(Vec::<PositionResponse>::new()))
        }
        Err(error) => Err(error.into()),
    }
}
