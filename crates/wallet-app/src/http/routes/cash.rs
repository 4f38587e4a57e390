//! Deposit and withdraw (SPEC §5): the amount comes from the `amount` query parameter, a JSON
//! body `{"amount": …}` (a string or a number read exactly from the raw JSON text, never
//! through `f64`) or a form body `amount=…` (as the Java wallet's clients post it); an
//! `Idempotency-Key` makes a retry apply once.

use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;
use wallet_domain::{CashOperation, Money, UserId};

use super::{ApiState, parse_user};
use crate::http::auth::Caller;
use crate::http::dto::{AccountResponse, AmountRequest};
use crate::http::problem::{ApiError, Problem, WalletRouteErrors};

/// Longest `Idempotency-Key` accepted.
pub const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 255;

/// Query parameters of deposit and withdraw.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AmountQuery {
    /// Decimal amount, e.g. `100.50` (or give it in the body).
    #[param(example = "100.50")]
    amount: Option<String>,
}

/// The JSON body, with the amount kept as raw JSON text so a number is never rounded.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmountBody<'a> {
    #[serde(borrow)]
    amount: Option<&'a RawValue>,
}

/// The form body the Java wallet's clients post: `amount=100.50`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmountForm {
    amount: Option<String>,
}

/// The media type of a request body, lower-cased without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
}

/// The amount's text in a JSON body: an object whose only key is `amount`.
fn json_amount(body: &[u8]) -> Result<Option<String>, ApiError> {
    // serde reads a struct from a JSON array too (`[1]` as `{"amount": 1}`); a body is an
    // object, and nothing else is one.
    if !body.trim_ascii_start().starts_with(b"{") {
        return Err(ApiError::BadRequest(
            "invalid JSON body: it must be an object such as {\"amount\": \"100.50\"}".to_owned(),
        ));
    }
    let parsed: AmountBody<'_> = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("invalid JSON body: {error}")))?;
    parsed.amount.map(raw_amount).transpose()
}

/// The amount's text in a form body.
fn form_amount(body: &[u8]) -> Result<Option<String>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("invalid form body: not UTF-8".to_owned()))?;
    let form = web::Query::<AmountForm>::from_query(text.trim())
        .map_err(|error| ApiError::BadRequest(format!("invalid form body: {error}")))?;
    Ok(form.into_inner().amount)
}

/// The amount's text, from the query or the body (not both).
pub(crate) fn amount_text(
    query: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, ApiError> {
    let body_text = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match media_type(headers).as_deref() {
            Some(media) if media == "application/json" || media.ends_with("+json") => {
                json_amount(body)?
            }
            Some("application/x-www-form-urlencoded") => form_amount(body)?,
            _ => {
                return Err(ApiError::UnsupportedMediaType(
                    "a request body must be application/json or \
                     application/x-www-form-urlencoded"
                        .to_owned(),
                ));
            }
        }
    };
    match (query, body_text) {
        (Some(_), Some(_)) => Err(ApiError::InvalidAmount(
            "give amount either in the query or in the body, not both".to_owned(),
        )),
        (Some(text), None) | (None, Some(text)) => Ok(text),
        (None, None) => Err(ApiError::InvalidAmount("amount is required".to_owned())),
    }
}

/// The decimal text of a JSON string or number.
fn raw_amount(raw: &RawValue) -> Result<String, ApiError> {
    let text = raw.get();
    if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map_err(|error| ApiError::InvalidAmount(format!("amount: {error}")))
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(ApiError::InvalidAmount(
            "amount must be a decimal string or number".to_owned(),
        ))
    }
}

/// The `Idempotency-Key` header, if any: 1 to 255 visible ASCII characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::InvalidIdempotencyKey(format!(
            "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_LENGTH_MAX} visible ASCII characters"
        ))
    };
    let text = value.to_str().map_err(|_| invalid())?;
    let valid = (1..=IDEMPOTENCY_KEY_LENGTH_MAX).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(Some(text.to_owned()))
    } else {
        Err(invalid())
    }
}

/// Everything a cash request says, parsed; the amount in the scale of `user`'s currency.
async fn operation(
    state: &ApiState,
    user: UserId,
    query: AmountQuery,
    request: &HttpRequest,
    body: &[u8],
) -> Result<CashOperation, ApiError> {
    let text = amount_text(query.amount, request.headers(), body)?;
    let currency = state.currency_of(&user).await?;
    Ok(CashOperation {
        amount: Money::parse_amount("amount", &text, currency)?,
        idempotency_key: idempotency_key(request.headers())?,
        user_id: user,
        request_id: Uuid::new_v4(),
    })
}

/// Credits cash, opening the account on first use.
#[utoipa::path(
    post,
    path = "/api/v1/wallet/{userId}/deposit",
    tag = "wallet",
    params(
        ("userId" = String, Path, description = "1–100 characters of A-Z a-z 0-9 . _ : @ + -"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry apply once"),
        AmountQuery,
    ),
    request_body(content = Option<AmountRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "The account after the deposit", body = AccountResponse),
        (status = 400, description = "INVALID_AMOUNT, INVALID_USER_ID", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "IDEMPOTENCY_CONFLICT", body = Problem,
            content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = Problem,
            content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn deposit(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<AmountQuery>,
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_user(&path)?;
    caller.may_deposit(&user)?;
    let operation = operation(&state, user, query.into_inner(), &request, &body).await?;
    let account = state.wallet.deposit(&operation).await?;
    Ok(HttpResponse::Ok().json(AccountResponse::from(&account)))
}

/// Debits available cash.
#[utoipa::path(
    post,
    path = "/api/v1/wallet/{userId}/withdraw",
    tag = "wallet",
    params(
        ("userId" = String, Path, description = "1–100 characters of A-Z a-z 0-9 . _ : @ + -"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry apply once"),
        AmountQuery,
    ),
    request_body(content = Option<AmountRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "The account after the withdrawal", body = AccountResponse),
        (status = 400, description = "INVALID_AMOUNT, INVALID_USER_ID", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "ACCOUNT_NOT_FOUND", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "IDEMPOTENCY_CONFLICT", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "INSUFFICIENT_FUNDS: above the available balance; \
            FUNDS_NOT_SETTLED: above the withdrawable balance (sale proceeds not settled yet), \
            with `withdrawableOn`, the date the amount becomes withdrawable", body = Problem,
            content_type = "application/problem+json"),
        WalletRouteErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn withdraw(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<AmountQuery>,
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_user(&path)?;
    caller.may_access(&user)?;
    let operation = operation(&state, user, query.into_inner(), &request, &body).await?;
    let account = state.wallet.withdraw(&operation).await?;
    Ok(HttpResponse::Ok().json(AccountResponse::from(&account)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        headers
    }

    #[test]
    fn numbers_are_read_from_their_raw_text() {
        let headers = json_headers();
        assert_eq!(
            amount_text(None, &headers, br#"{"amount": 0.1}"#).unwrap(),
            "0.1"
        );
        assert_eq!(
            amount_text(None, &headers, br#"{"amount": 12345678901234.99}"#).unwrap(),
            "12345678901234.99"
        );
        assert_eq!(
            amount_text(None, &headers, br#"{"amount": "100.50"}"#).unwrap(),
            "100.50"
        );
        assert_eq!(amount_text(Some("7".into()), &headers, b"").unwrap(), "7");
    }

    #[test]
    fn form_bodies_carry_the_amount() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/x-www-form-urlencoded; charset=UTF-8"),
        );
        assert_eq!(
            amount_text(None, &headers, b"amount=100.50").unwrap(),
            "100.50"
        );
        assert_eq!(amount_text(None, &headers, b"amount=1e2").unwrap(), "1e2");
        for body in [&b"amount=1&amount=2"[..], b"value=1", b"amount=1&x=2"] {
            assert!(matches!(
                amount_text(None, &headers, body),
                Err(ApiError::BadRequest(_))
            ));
        }
        assert!(matches!(
            amount_text(None, &headers, b"other"),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn other_shapes_are_refused() {
        let headers = json_headers();
        for body in [
            &br#"{"amount": true}"#[..],
            br#"{"amount": null}"#,
            br#"{"amount": {}}"#,
            br#"{}"#,
        ] {
            assert!(matches!(
                amount_text(None, &headers, body),
                Err(ApiError::InvalidAmount(_))
            ));
        }
        assert!(matches!(
            amount_text(None, &headers, b"{"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            amount_text(None, &HeaderMap::new(), br#"{"amount": 1}"#),
            Err(ApiError::UnsupportedMediaType(_))
        ));
        // Positional fields: serde would read the array as `{"amount": 1}`.
        for body in [&b"[1]"[..], b" [\"5\"]", b"[1, 2]"] {
            assert!(matches!(
                amount_text(None, &headers, body),
                Err(ApiError::BadRequest(_))
            ));
        }
        assert!(matches!(
            amount_text(Some("1".into()), &headers, br#"{"amount": 1}"#),
            Err(ApiError::InvalidAmount(_))
        ));
    }
}
