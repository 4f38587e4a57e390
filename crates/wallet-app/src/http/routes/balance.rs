//! `GET …/balance?at=<RFC 3339>`: the balances as they stood at a moment, from the ledger.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{ApiState, parse_user};
use crate::http::auth::Caller;
use crate::http::dto::BalanceAtResponse;
use crate::http::problem::{ApiError, Problem, WalletRouteErrors};

/// Query of the balance-at-a-time endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BalanceQuery {
    /// The moment, RFC 3339, e.g. `2026-05-01T10:15:30Z`.
    #[param(required = true, example = "2026-05-01T10:15:30Z")]
    at: Option<String>,
}

/// Parses `at`.
pub(crate) fn parse_at(at: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    let text = at.ok_or_else(|| ApiError::InvalidTimestamp("at is required".to_owned()))?;
    DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| {
            let shown: String = text.chars().take(64).collect();
            ApiError::InvalidTimestamp(format!("at {shown:?} is not an RFC 3339 time: {error}"))
        })
}

/// Balance and blocked balance after the last ledger entry at or before `at`.
#[utoipa::path(
    get,
    path = "/api/v1/wallet/{userId}/balance",
    tag = "wallet",
    params(
        ("userId" = String, Path, description = "1–100 characters of A-Z a-z 0-9 . _ : @ + -"),
        BalanceQuery,
    ),
    responses(
        (status = 200, description = "The balances at that time", body = BalanceAtResponse),
        (status = 400, description = "INVALID_USER_ID, INVALID_TIMESTAMP", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "ACCOUNT_NOT_FOUND", body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn balance_at(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<BalanceQuery>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_user(&path)?;
    caller.may_access(&user)?;
    let at = parse_at(query.at.as_deref())?;
    let account = state.existing_account(&user).await?;
    // The account exists, so the store answers with a balance (zero before its first entry).
    let found = state
        .wallet
        .balance_at(&user, at)
        .await?
        .ok_or_else(|| ApiError::AccountNotFound(format!("account {user} does not exist")))?;
    Ok(HttpResponse::Ok().json(BalanceAtResponse::new(&user, account.currency, at, &found)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_is_rfc3339_with_an_offset() {
        assert_eq!(
            parse_at(Some("2026-05-01T10:15:30-03:00"))
                .unwrap()
                .to_rfc3339(),
            "2026-05-01T13:15:30+00:00"
        );
        for bad in [
            None,
            Some(""),
            Some("2026-05-01"),
            Some("2026-05-01T10:15:30"),
            Some("x"),
        ] {
            assert!(matches!(parse_at(bad), Err(ApiError::InvalidTimestamp(_))));
        }
    }
}
