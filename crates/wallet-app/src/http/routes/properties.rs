//! Property tests of the HTTP parsing of untrusted input: bodies (JSON, form, anything),
//! queries, headers, path segments, times and cursors never panic, and what they accept is
//! read exactly.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use proptest::prelude::*;
use wallet_domain::{Currency, Money};

use super::balance::parse_at;
use super::cash::{amount_text, idempotency_key};
use super::transactions::{decode_cursor, encode_cursor, parse_limit};
use super::{parse_order, parse_user};

fn headers(content_type: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(value) = content_type.and_then(|text| HeaderValue::from_str(text).ok()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers
}

/// JSON-number text of every shape: signs, fractions, exponents.
fn number_text() -> impl Strategy<Value = String> {
    "-?[0-9]{1,20}(\\.[0-9]{1,12})?([eE][+-]?[0-9]{1,3})?"
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("application/json".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("application/merge-patch+json; charset=utf-8".to_owned()),
        "[ -~]{0,30}",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn any_body_query_and_content_type_is_an_answer(
        body in prop::collection::vec(any::<u8>(), 0..200),
        query in prop::option::of("\\PC{0,30}"),
        content_type in content_type(),
    ) {
        if let Ok(text) = amount_text(query, &headers(content_type.as_deref()), &body) {
            let _ = Money::parse_amount("amount", &text, Currency::BRL);
        }
    }

    #[test]
    fn json_numbers_and_strings_are_read_exactly(number in number_text(), quoted in any::<bool>()) {
        let body = if quoted {
            format!(r#"{{"amount": "{number}"}}"#)
        } else {
            format!(r#"{{"amount": {number}}}"#)
        };
        let text = amount_text(None, &headers(Some("application/json")), body.as_bytes());
        // A JSON number must not have leading zeros; serde refuses those, as it should.
        if let Ok(text) = text {
            prop_assert_eq!(text, number);
        } else {
            let integral = number.trim_start_matches('-');
            prop_assert!(!quoted && integral.starts_with('0') && integral.len() > 1, "{}", body);
        }
    }

    #[test]
    fn form_amounts_are_read_exactly(number in number_text()) {
        let body = format!("amount={}", number.replace('+', "%2B"));
        let text = amount_text(None, &headers(Some("application/x-www-form-urlencoded")), body.as_bytes());
        prop_assert_eq!(text.ok(), Some(number));
    }

    #[test]
    fn times_cursors_limits_keys_and_ids_never_panic(text in "\\PC{0,80}", id in any::<i64>()) {
        let _ = parse_at(Some(&text));
        let _ = decode_cursor(&text);
        let _ = parse_limit(Some(&text));
        let _ = parse_user(&text);
        let _ = parse_order(&text);
        if let Ok(value) = HeaderValue::from_str(&text) {
            let mut map = HeaderMap::new();
            map.insert(header::HeaderName::from_static("idempotency-key"), value);
            if let Ok(Some(key)) = idempotency_key(&map) {
                prop_assert_eq!(key, text.clone());
            }
        }
        if id > 0 {
            prop_assert_eq!(decode_cursor(&encode_cursor(id)).ok(), Some(id));
        }
    }
}
