//! `GET …/orders/{orderId}`: what one order reserved and settled.

use actix_web::{HttpResponse, web};

use super::{ApiState, parse_order, parse_user};
use crate::http::auth::Caller;
use crate::http::dto::HoldResponse;
use crate::http::problem::{ApiError, Problem, WalletRouteErrors};

/// The hold of one order of the user.
#[utoipa::path(
    get,
    path = "/api/v1/wallet/{userId}/orders/{orderId}",
    tag = "wallet",
    params(
        ("userId" = String, Path, description = "1–100 characters of A-Z a-z 0-9 . _ : @ + -"),
        ("orderId" = i64, Path, description = "The Order API's order id (positive)"),
    ),
    responses(
        (status = 200, description = "The hold", body = HoldResponse),
        (status = 400, description = "INVALID_USER_ID, INVALID_ORDER_ID", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "HOLD_NOT_FOUND", body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn hold(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let (user, order) = path.into_inner();
    let user = parse_user(&user)?;
    let order = parse_order(&order)?;
    caller.may_access(&user)?;
    // Another user's order is "not found" here, so order ids of others are not disclosed.
    let not_found =
        || ApiError::HoldNotFound(format!("order {order} has no hold in wallet {user}"));
    let hold = state
        .wallet
        .hold(order)
        .await?
        .filter(|hold| hold.user_id == user)
        .ok_or_else(not_found)?;
    // A hold denied for ACCOUNT_NOT_FOUND has no account to take the currency from.
    let currency = state.currency_of(&user).await?;
    Ok(HttpResponse::Ok().json(HoldResponse::new(&hold, currency)))
}
