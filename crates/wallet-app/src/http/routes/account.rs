//! `GET /api/v1/wallet/{userId}`: the account.

use actix_web::{HttpResponse, web};

use super::{ApiState, parse_user};
use crate::http::auth::Caller;
use crate::http::dto::AccountResponse;
use crate::http::problem::{ApiError, Problem, WalletRouteErrors};

/// The account: balance, blocked, available, settled and withdrawable cash, and the settled
/// balance after each coming settlement date.
#[utoipa::path(
    get,
    path = "/api/v1/wallet/{userId}",
    tag = "wallet",
    params(("userId" = String, Path, description = "1–100 characters of A-Z a-z 0-9 . _ : @ + -")),
    responses(
        (status = 200, description = "The account", body = AccountResponse),
        (status = 400, description = "INVALID_USER_ID", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "ACCOUNT_NOT_FOUND", body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn account(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_user(&path)?;
    caller.may_access(&user)?;
    let account = state.existing_account(&user).await?;
    let settlements = state.wallet.settlements(&account).await?;
    Ok(HttpResponse::Ok().json(AccountResponse::with_settlements(&account, &settlements)))
}
