//! Reading Redis replies into prices and ages (SPEC §5 "Prices"): values are exact decimals,
//! and anything that is not a usable price is garbage, reported as missing so the position
//! falls back to its last trade; it is never valued as zero.

use chrono::{DateTime, Utc};
use deadpool_redis::redis::Value;
use wallet_domain::Price;
use wallet_domain::ports::PriceQuote;

/// Milliseconds since the epoch from which an integer `updatedAt` is read as milliseconds:
/// 10^11 seconds is the year 5138, and 10^11 milliseconds is 1973, so no real time of either
/// unit falls on the wrong side.
const EPOCH_MILLIS_FROM: i64 = 100_000_000_000;

/// What one ticker's look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A usable price.
    Hit(PriceQuote),
    /// No key, or no price field in it.
    Miss,
    /// A value that is not a price (not a number, ≤ 0, too many digits, wrong Redis type).
    Garbage,
}

/// The text of a reply that holds a value, `Ok(None)` for nil, `Err(())` for anything that
/// cannot be a price (an error reply, an array, bytes that are not UTF-8).
pub(crate) fn reply_text(value: &Value) -> Result<Option<String>, ()> {
    match value {
        Value::Nil => Ok(None),
        Value::BulkString(bytes) => std::str::from_utf8(bytes)
            .map(|text| Some(text.to_owned()))
            .map_err(|_| ()),
        Value::SimpleString(text) => Ok(Some(text.clone())),
        Value::Int(number) => Ok(Some(number.to_string())),
        _ => Err(()),
    }
}

/// Parses a stored price exactly (`38.55`, `"5E+1"`); `None` when it is not a valid price.
pub(crate) fn parse_price(text: &str) -> Option<Price> {
    Price::parse("price", text).ok()
}

/// The look-up of a price reply and the age found beside it.
pub(crate) fn lookup(price: &Value, age_seconds: Option<u64>) -> Lookup {
    match reply_text(price) {
        Ok(None) => Lookup::Miss,
        Ok(Some(text)) => match parse_price(&text) {
            Some(price) => Lookup::Hit(PriceQuote { price, age_seconds }),
            None => Lookup::Garbage,
        },
        Err(()) => Lookup::Garbage,
    }
}

/// Age of a string key from its time left: the writer set `ttl_seconds_original`, so
/// `PTTL` milliseconds later it is `original − left` old. `None` when the key has no expiry
/// (`-1`) or is gone (`-2`). A time left above the original (another writer's longer expiry)
/// counts as fresh.
pub(crate) fn age_from_pttl(pttl_ms: i64, ttl_seconds_original: u64) -> Option<u64> {
    let left_ms = u64::try_from(pttl_ms).ok()?;
    let original_ms = ttl_seconds_original.saturating_mul(1000);
    Some(original_ms.saturating_sub(left_ms) / 1000)
}

/// Age at `now` of a price written at `updated_at`: epoch seconds (optionally with a fraction),
/// epoch milliseconds, or RFC 3339. `None` when the text is none of those. A time in the future
/// (clocks of writer and wallet disagree) counts as fresh.
pub(crate) fn age_from_updated_at(text: &str, now: DateTime<Utc>) -> Option<u64> {
    let text = text.trim();
    let written_ms = epoch_millis(text).or_else(|| {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|time| time.timestamp_millis())
    })?;
    let age_ms = now.timestamp_millis().saturating_sub(written_ms);
    Some(u64::try_from(age_ms).unwrap_or(0) / 1000)
}

/// Epoch milliseconds of an integer or decimal epoch number; `None` for other text.
fn epoch_millis(text: &str) -> Option<i64> {
    let (integral, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if integral.is_empty() || !digits_only(integral) || !digits_only(fraction) {
        return None;
    }
    if text.contains('.') && fraction.is_empty() {
        return None;
    }
    let whole: i64 = integral.parse().ok()?;
    if whole >= EPOCH_MILLIS_FROM {
        // Milliseconds; a fraction of a millisecond does not change the age in seconds.
        return Some(whole);
    }
    // Seconds: the first three fractional digits are the milliseconds.
    let millis: i64 = format!("{fraction:0<3}")[..3].parse().ok()?;
    whole.checked_mul(1000)?.checked_add(millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        // 2026-11-27T01:00:00Z
        Utc.timestamp_opt(1_795_741_200, 0).unwrap()
    }

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn prices_are_exact_decimals_in_any_notation() {
        assert_eq!(parse_price("38.55").unwrap().value().to_string(), "38.55");
        assert_eq!(parse_price("5E+1").unwrap().value().to_string(), "50");
        assert_eq!(
            parse_price(" 1.5e-3 ").unwrap().value().to_string(),
            "0.0015"
        );
        assert_eq!(parse_price("38.40").unwrap(), parse_price("38.4").unwrap());
    }

    #[test]
    fn garbage_prices_are_not_prices() {
        for text in [
            "",
            "abc",
            "NaN",
            "0",
            "-1",
            "1.123456789",
            "1e15",
            "1,5",
            "38.55 BRL",
            "1e999",
        ] {
            assert_eq!(parse_price(text), None, "{text:?} must be refused");
        }
    }

    #[test]
    fn replies_map_to_hit_miss_or_garbage() {
        let hit = lookup(&bulk("38.55"), Some(3));
        let Lookup::Hit(quote) = hit else {
            panic!("expected a hit, got {hit:?}")
        };
        assert_eq!(quote.price.value().to_string(), "38.55");
        assert_eq!(quote.age_seconds, Some(3));
        assert_eq!(lookup(&Value::Int(42), None), {
            let price = parse_price("42").unwrap();
            Lookup::Hit(PriceQuote {
                price,
                age_seconds: None,
            })
        });
        assert_eq!(lookup(&Value::Nil, None), Lookup::Miss);
        assert_eq!(lookup(&bulk("zero"), None), Lookup::Garbage);
        assert_eq!(lookup(&bulk("0"), None), Lookup::Garbage);
        assert_eq!(
            lookup(&Value::BulkString(vec![0xff, 0xfe]), None),
            Lookup::Garbage
        );
        assert_eq!(lookup(&Value::Array(vec![]), None), Lookup::Garbage);
    }

    #[test]
    fn string_key_age_is_the_original_expiry_minus_the_time_left() {
        assert_eq!(age_from_pttl(600_000, 600), Some(0));
        assert_eq!(age_from_pttl(599_001, 600), Some(0));
        assert_eq!(age_from_pttl(598_999, 600), Some(1));
        assert_eq!(age_from_pttl(1, 600), Some(599));
        assert_eq!(
            age_from_pttl(900_000, 600),
            Some(0),
            "longer expiry is fresh"
        );
        assert_eq!(age_from_pttl(-1, 600), None, "no expiry: age unknown");
        assert_eq!(age_from_pttl(-2, 600), None, "key gone: age unknown");
    }

    #[test]
    fn updated_at_is_read_as_epoch_seconds_millis_or_rfc3339() {
        let now = now();
        assert_eq!(age_from_updated_at("1795741190", now), Some(10));
        assert_eq!(age_from_updated_at("1795741190.9", now), Some(9));
        assert_eq!(age_from_updated_at("1795741190000", now), Some(10));
        assert_eq!(age_from_updated_at("1795741199500", now), Some(0));
        assert_eq!(age_from_updated_at("2026-11-27T00:59:00Z", now), Some(60));
        assert_eq!(
            age_from_updated_at("2026-11-26T21:58:00-03:00", now),
            Some(120)
        );
        assert_eq!(
            age_from_updated_at(" 2026-11-27T00:59:59.5+00:00 ", now),
            Some(0)
        );
    }

    #[test]
    fn updated_at_in_the_future_is_fresh_and_garbage_is_unknown() {
        let now = now();
        assert_eq!(age_from_updated_at("1795741260", now), Some(0));
        for text in [
            "",
            "yesterday",
            "-5",
            "12.",
            ".5",
            "1e9",
            "2026-11-27 00:59:00",
        ] {
            assert_eq!(age_from_updated_at(text, now), None, "{text:?}");
        }
    }
}

/// What Redis hands back is written by another service: none of it may panic the parser, and
/// a price accepted from it is exactly the text's value.
#[cfg(test)]
mod properties {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn reply() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Nil),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::BulkString),
            "\\PC{0,30}".prop_map(Value::SimpleString),
            any::<i64>().prop_map(Value::Int),
            "[0-9]{1,20}(\\.[0-9]{1,12})?([eE][+-]?[0-9]{1,3})?"
                .prop_map(|text| Value::BulkString(text.into_bytes())),
            Just(Value::Array(vec![Value::Nil])),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn replies_never_panic_and_accepted_prices_are_exact(reply in reply(), age in prop::option::of(any::<u64>())) {
            if let Lookup::Hit(quote) = lookup(&reply, age) {
                let text = reply_text(&reply).unwrap().unwrap();
                let exact = wallet_domain::amount::parse_decimal("price", &text).unwrap();
                prop_assert_eq!(quote.price.value(), exact);
                prop_assert_eq!(quote.age_seconds, age);
            }
        }

        #[test]
        fn ages_never_panic(text in "\\PC{0,40}", pttl in any::<i64>(), original in any::<u64>(), now in any::<i64>()) {
            let now = Utc.timestamp_millis_opt(now % 8_000_000_000_000).single().unwrap_or_else(Utc::now);
            let _ = age_from_updated_at(&text, now);
            if let Some(age) = age_from_pttl(pttl, original) {
                prop_assert!(age <= original);
            }
        }
    }
}
