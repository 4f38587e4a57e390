//! `GET …/transactions?limit=&cursor=`: the ledger, newest first, as a JSON array (the
//! broker's frontend calls `.filter()` on it), paginated with an opaque cursor whose next page
//! is in a `Link: <…>; rel="next"` header (RFC 8288). A user without an account has an empty
//! statement, as the Java wallet answered.
//!
//! The cursor names the last entry of the page (`v1:<ledger id>`, hex-encoded so clients do not
//! build one): the next page holds the entries below it, stable however many are added in
//! the meantime.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{ApiState, parse_user};
use crate::http::auth::Caller;
use crate::http::dto::TransactionResponse;
use crate::http::problem::{ApiError, Problem, WalletRouteErrors};

/// Page size when none is asked for.
pub const PAGE_LIMIT_DEFAULT: u32 = 50;
/// Largest page size.
pub const PAGE_LIMIT_MAX: u32 = 500;
/// Version tag inside every cursor, so the format can change without misreading old ones.
const CURSOR_PREFIX: &str = "v1:";

/// Query of the statement.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Encodes the cursor after ledger entry `id`.
#[must_use]
pub fn encode_cursor(id: i64) -> String {
    format!("{CURSOR_PREFIX}{id}")
        .bytes()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Decodes a cursor made by [`encode_cursor`].
pub(crate) fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    let invalid = || ApiError::InvalidCursor("cursor is not one this service issued".to_owned());
    if !cursor.len().is_multiple_of(2) || cursor.len() > 64 {
        return Err(invalid());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|at| {
            cursor
                .get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(CURSOR_PREFIX)
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(invalid)
}

pub(crate) fn parse_limit(limit: Option<&str>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(PAGE_LIMIT_DEFAULT),
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=PAGE_LIMIT_MAX).contains(limit))
            .ok_or_else(|| {
                ApiError::InvalidLimit(format!(
                    "limit must be an integer from 1 to {PAGE_LIMIT_MAX}"
                ))
            }),
    }
}

/// The ledger of the account, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/wallet/{userId}/transactions",
    tag = "wallet",
    params(
        ("userId" = String, Path, description = "1–100 characters of A-Z a-z 0-9 . _ : @ + -"),
        StatementQuery,
    ),
    responses(
        (status = 200, description = "One page of the statement, newest first; empty for a user \
            without an account", body = Vec<TransactionResponse>,
            headers(("Link" = String, description = "`<…?limit=…&cursor=…>; rel=\"next\"` \
                when an older page exists"))),
        (status = 400, description = "INVALID_USER_ID, INVALID_LIMIT, INVALID_CURSOR",
            body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn transactions(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<StatementQuery>,
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_user(&path)?;
    caller.may_access(&user)?;
    let limit = parse_limit(query.limit.as_deref())?;
    let before_id = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let Some(account) = state.wallet.account(&user).await? else {
        return Ok(HttpResponse::Ok().json(Vec::<TransactionResponse>::new()));
    };
    // One entry more than asked tells whether another page exists without a count query.
    let mut entries = state.wallet.statement(&user, before_id, limit + 1).await?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let items: Vec<TransactionResponse> = entries
        .iter()
        .map(|entry| TransactionResponse::new(entry, account.currency))
        .collect();
    let mut response = HttpResponse::Ok();
    if more && let Some(last) = entries.last() {
        // Relative to the request (RFC 8288 §3.2), so the next page keeps its prefix.
        let next = format!(
            "<{}?limit={limit}&cursor={}>; rel=\"next\"",
            request.path(),
            encode_cursor(last.id)
        );
        response.insert_header((header::LINK, next));
    }
    Ok(response.json(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_forgeries_are_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        for bad in [
            "",
            "zz",
            "abc",
            "42",
            &encode_cursor(0),
            &encode_cursor(-5),
            "76313a",
        ] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(parse_limit(None).unwrap(), 50);
        assert_eq!(parse_limit(Some("500")).unwrap(), 500);
        for bad in ["0", "501", "-1", "x", "99999999999"] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
