//! `POST /api/v1/corporate-actions` and `GET /api/v1/corporate-actions/{id}`: the admin's way
//! in for a corporate action (the same JSON as the `corporate-actions-v1` topic) and its
//! progress. Receiving stores the action; the corporate-action job applies it when its date
//! comes.

use actix_web::{HttpResponse, web};
use wallet_domain::corporate_actions::{ACTION_ID_LENGTH_MAX, CorporateAction, Received};

use super::ApiState;
use crate::http::auth::Caller;
use crate::http::dto::CorporateActionResponse;
use crate::http::problem::{ApiError, Problem, WalletRouteErrors};

/// Receives a corporate action.
#[utoipa::path(
    post,
    path = "/api/v1/corporate-actions",
    tag = "corporate actions",
    request_body(
        content = String, content_type = "application/json",
        description = "The action as on the corporate-actions topic, e.g. \
            {\"id\":\"PETR4-2027-JCP-1\",\"type\":\"INTEREST_ON_EQUITY\",\"ticker\":\"PETR4\",\
            \"amountPerShare\":\"0.8125\",\"recordDate\":\"2027-04-30\",\
            \"paymentDate\":\"2027-05-20\"}"
    ),
    responses(
        (status = 202, description = "Stored; applied when its date comes",
            body = CorporateActionResponse),
        (status = 200, description = "The same action again: nothing changed",
            body = CorporateActionResponse),
        (status = 409, description = "CONFLICTING_ACTION: another action has the id", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "INVALID_JSON, MISSING_FIELD, UNKNOWN_ACTION_TYPE, \
            INVALID_ACTION_ID, INVALID_TICKER, INVALID_PRICE, INVALID_RATIO, INVALID_DATE, \
            CONTRADICTORY_ACTION", body = Problem, content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn receive(
    caller: Caller,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    caller.may_administer()?;
    let action = CorporateAction::parse(&body).map_err(ApiError::CorporateActionRefused)?;
    match state.wallet.receive_corporate_action(action).await? {
        Received::New(record) => Ok(HttpResponse::Accepted().json(CorporateActionResponse::new(
            &record,
            state.wallet.default_currency(),
        ))),
        Received::Duplicate(record) => Ok(HttpResponse::Ok().json(CorporateActionResponse::new(
            &record,
            state.wallet.default_currency(),
        ))),
        Received::Conflict(stored) => {
            Err(ApiError::CorporateActionConflict(stored.conflict_detail()))
        }
    }
}

/// A corporate action and how far it got.
#[utoipa::path(
    get,
    path = "/api/v1/corporate-actions/{id}",
    tag = "corporate actions",
    params(("id" = String, Path, description = "The action's id")),
    responses(
        (status = 200, description = "The action", body = CorporateActionResponse),
        (status = 404, description = "CORPORATE_ACTION_NOT_FOUND", body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn status(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    caller.may_administer()?;
    let id = path.into_inner();
    let not_found = || ApiError::CorporateActionNotFound(format!("no corporate action {id}"));
    if id.len() > ACTION_ID_LENGTH_MAX {
        return Err(not_found());
    }
    let record = state
        .wallet
        .corporate_action(&id)
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(CorporateActionResponse::new(
        &record,
        state.wallet.default_currency(),
    )))
}
