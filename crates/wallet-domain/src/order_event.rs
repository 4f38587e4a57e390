//! Order lifecycle events as the Order API publishes them (SPEC §4 `order-events-v1`), parsed
//! into checked domain types at the edge.
//!
//! The Order API serialises with Jackson: decimals arrive as JSON numbers or strings, possibly
//! in exponent notation (`5E+1`); `eventTimestamp` is an ISO local date-time or Jackson's array
//! form; unknown fields are ignored; `filledQuantity` is cumulative. Decimal fields are read
//! from the raw JSON text, never through a binary float.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::amount::{AmountError, Price, Quantity};
use crate::dead_letter::{DeadLetterReason, Rejection};
use crate::hold::Side;
use crate::ids::{IdError, OrderId, Ticker, UserId};

/// An execution reported by a fill: the cumulative quantity filled so far and the average
/// price of those fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// Cumulative filled quantity, never above the order's quantity.
    pub filled_quantity: Quantity,
    /// Average execution price of the fills so far.
    pub executed_price: Price,
}

/// What an order event says happened, with the data the wallet needs for it, proven by the
/// parser: a pending order has its limit price, a fill its execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStatus {
    /// The order was accepted: reserve what it may consume at its limit price.
    Pending {
        /// The order's limit price.
        limit_price: Price,
    },
    /// Part of the order was executed: settle up to the cumulative fill.
    PartiallyFilled(Fill),
    /// The order was executed: settle and release the rest.
    Filled(Fill),
    /// The order ended without (more) execution: release. Carries the status name
    /// (`REJECTED`, `CANCELED`, `CANCELLED`, `EXPIRED`) for the outgoing event's reason; the
    /// event's prices are not read (the Order API sends `"executedPrice":0` when the exchange
    /// had no price).
    Ended(&'static str),
    /// A status the wallet ignores, such as `NEW` or `SENT` (at most 40 characters kept).
    Ignored(String),
}

/// The status names before their data is read.
enum StatusName {
    Pending,
    PartiallyFilled,
    Filled,
    Ended(&'static str),
    Ignored(String),
}

impl StatusName {
    fn parse(text: &str) -> StatusName {
        match text {
            "PENDING" => StatusName::Pending,
            "PARTIALLY_FILLED" => StatusName::PartiallyFilled,
            "FILLED" => StatusName::Filled,
            "REJECTED" => StatusName::Ended("REJECTED"),
            "CANCELED" => StatusName::Ended("CANCELED"),
            "CANCELLED" => StatusName::Ended("CANCELLED"),
            "EXPIRED" => StatusName::Ended("EXPIRED"),
            other => StatusName::Ignored(other.chars().take(40).collect()),
        }
    }
}

impl OrderStatus {
    /// The status name for logs and metrics labels (ignored statuses are grouped).
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            OrderStatus::Pending { .. } => "PENDING",
            OrderStatus::PartiallyFilled(_) => "PARTIALLY_FILLED",
            OrderStatus::Filled(_) => "FILLED",
            OrderStatus::Ended(name) => name,
            OrderStatus::Ignored(_) => "OTHER",
        }
    }

    /// The execution a fill reports; `None` for every other status.
    #[must_use]
    pub fn fill(&self) -> Option<Fill> {
        match self {
            OrderStatus::PartiallyFilled(fill) | OrderStatus::Filled(fill) => Some(*fill),
            _ => None,
        }
    }
}

/// A checked order event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    /// The Order API's id of the order: one hold per order.
    pub order_id: OrderId,
    /// The investor, whose account the event moves.
    pub user_id: UserId,
    /// The instrument bought or sold.
    pub ticker: Ticker,
    /// The quantity ordered (a fill's quantity is in its [`Fill`]).
    pub quantity: Quantity,
    /// BUY reserves and pays cash, SELL reserves and delivers shares.
    pub side: Side,
    /// What happened, with its data.
    pub status: OrderStatus,
    /// When the Order API says it happened (its local time); informational.
    pub event_timestamp: Option<NaiveDateTime>,
    /// Which delivery of a record this is (e.g. `order-events-v1/3/1042`: topic, partition,
    /// offset), set by the adapter that read it; `None` from [`OrderEvent::parse`]. A record
    /// delivered again after a crash or a rebalance has the same delivery and gets the same
    /// dead-letter decision as the first time (see [`crate::unit_of_work::Verdict`]); a record an
    /// operator replays is a new delivery and is decided anew.
    pub delivery: Option<String>,
}

impl OrderEvent {
    /// The limit price of a PENDING event; `None` for every other status.
    #[must_use]
    pub fn limit_price(&self) -> Option<Price> {
        match self.status {
            OrderStatus::Pending { limit_price } => Some(limit_price),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOrderEvent<'a> {
    #[serde(borrow)]
    order_id: Option<&'a RawValue>,
    user_id: Option<String>,
    ticker: Option<String>,
    #[serde(borrow)]
    quantity: Option<&'a RawValue>,
    #[serde(borrow)]
    price: Option<&'a RawValue>,
    #[serde(borrow)]
    executed_price: Option<&'a RawValue>,
    #[serde(borrow)]
    filled_quantity: Option<&'a RawValue>,
    side: Option<String>,
    status: Option<String>,
    #[serde(borrow)]
    event_timestamp: Option<&'a RawValue>,
}

pub(crate) fn missing(field: &str) -> Rejection {
    Rejection::new(
        DeadLetterReason::MissingField,
        format!("{field} is required"),
    )
}

/// The text of a JSON number or string, or `None` for absent and `null`.
pub(crate) fn scalar_text<'a>(
    field: &str,
    raw: Option<&'a RawValue>,
) -> Result<Option<std::borrow::Cow<'a, str>>, Rejection> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    if text.starts_with('"') {
        let unquoted: String = serde_json::from_str(text).map_err(|_| {
            Rejection::new(
                DeadLetterReason::InvalidJson,
                format!("{field} is not a valid string"),
            )
        })?;
        return Ok(Some(unquoted.into()));
    }
    if text.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
        return Ok(Some(text.into()));
    }
    Err(Rejection::new(
        DeadLetterReason::invalid_field(field),
        format!("{field} must be a number or a numeric string"),
    ))
}

fn amount_rejection(field: &str, error: &AmountError) -> Rejection {
    Rejection::new(DeadLetterReason::invalid_field(field), error.to_string())
}

fn id_rejection(field: &str, error: &IdError) -> Rejection {
    Rejection::new(DeadLetterReason::invalid_field(field), error.to_string())
}

fn parse_quantity(
    field: &'static str,
    raw: Option<&RawValue>,
) -> Result<Option<Quantity>, Rejection> {
    scalar_text(field, raw)?
        .map(|text| Quantity::parse(field, &text).map_err(|e| amount_rejection(field, &e)))
        .transpose()
}

fn parse_price(field: &'static str, raw: Option<&RawValue>) -> Result<Option<Price>, Rejection> {
    scalar_text(field, raw)?
        .map(|text| Price::parse(field, &text).map_err(|e| amount_rejection(field, &e)))
        .transpose()
}

fn parse_timestamp(raw: Option<&RawValue>) -> Result<Option<NaiveDateTime>, Rejection> {
    let invalid = || {
        Rejection::new(
            DeadLetterReason::InvalidTimestamp,
            "eventTimestamp must be an ISO-8601 date-time or [year,month,day,hour,minute,second,nanos]",
        )
    };
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    if text.starts_with('[') {
        let parts: Vec<u32> = serde_json::from_str(text).map_err(|_| invalid())?;
        if !(3..=7).contains(&parts.len()) {
            return Err(invalid());
        }
        let at = |index: usize| parts.get(index).copied().unwrap_or(0);
        let year = i32::try_from(at(0)).map_err(|_| invalid())?;
        return NaiveDate::from_ymd_opt(year, at(1), at(2))
            .and_then(|date| date.and_hms_nano_opt(at(3), at(4), at(5), at(6)))
            .map(Some)
            .ok_or_else(invalid);
    }
    let text: String = serde_json::from_str(text).map_err(|_| invalid())?;
    if let Ok(local) = text.parse::<NaiveDateTime>() {
        return Ok(Some(local));
    }
    DateTime::parse_from_rfc3339(&text)
        .map(|at| Some(at.naive_utc()))
        .map_err(|_| invalid())
}

impl OrderEvent {
    /// Parses the value bytes of an `order-events-v1` record.
    ///
    /// # Errors
    /// A [`Rejection`] whose reason becomes the dead-letter reason: bad UTF-8, JSON that is not
    /// one object (duplicate keys included), a missing required field, an amount that is ≤ 0,
    /// too large or has too many digits, an unknown side, a fill without `executedPrice`, a
    /// `filledQuantity` above `quantity`. Only the fields the status acts on are read.
    pub fn parse(bytes: &[u8]) -> Result<OrderEvent, Rejection> {
        let text = std::str::from_utf8(bytes).map_err(|error| {
            Rejection::new(
                DeadLetterReason::InvalidEncoding,
                format!("value is not UTF-8: {error}"),
            )
        })?;
        // serde reads a struct from a JSON array too (fields by position); an event is an
        // object, and nothing else is one.
        if !text.trim_start().starts_with('{') {
            return Err(Rejection::new(
                DeadLetterReason::InvalidJson,
                "the value must be a JSON object",
            ));
        }
        let raw: RawOrderEvent<'_> = serde_json::from_str(text)
            .map_err(|error| Rejection::new(DeadLetterReason::InvalidJson, error.to_string()))?;

        let order_id = scalar_text("orderId", raw.order_id)?.ok_or_else(|| missing("orderId"))?;
        let order_id = OrderId::parse(&order_id).map_err(|e| id_rejection("orderId", &e))?;
        let user_id = raw.user_id.as_deref().ok_or_else(|| missing("userId"))?;
        let user_id = UserId::parse(user_id).map_err(|e| id_rejection("userId", &e))?;
        let ticker = raw.ticker.as_deref().ok_or_else(|| missing("ticker"))?;
        let ticker = Ticker::parse(ticker).map_err(|e| id_rejection("ticker", &e))?;
        let quantity =
            parse_quantity("quantity", raw.quantity)?.ok_or_else(|| missing("quantity"))?;
        let side = match raw.side.as_deref().ok_or_else(|| missing("side"))? {
            "BUY" => Side::Buy,
            "SELL" => Side::Sell,
            other => {
                return Err(Rejection::new(
                    DeadLetterReason::InvalidSide,
                    format!(
                        "side `{}` is not BUY or SELL",
                        other.chars().take(40).collect::<String>()
                    ),
                ));
            }
        };
        let status = StatusName::parse(raw.status.as_deref().ok_or_else(|| missing("status"))?);
        let event_timestamp = parse_timestamp(raw.event_timestamp)?;
        // Each status reads only the fields it acts on: a REJECTED's prices, a PENDING's
        // executedPrice and a fill's limit price are never looked at.
        let status = match status {
            StatusName::Pending => OrderStatus::Pending {
                limit_price: parse_price("price", raw.price)?
                    .ok_or_else(|| missing("price (for PENDING)"))?,
            },
            StatusName::PartiallyFilled => {
                OrderStatus::PartiallyFilled(parse_fill(&raw, quantity, false)?)
            }
            StatusName::Filled => OrderStatus::Filled(parse_fill(&raw, quantity, true)?),
            StatusName::Ended(name) => OrderStatus::Ended(name),
            StatusName::Ignored(name) => OrderStatus::Ignored(name),
        };
        Ok(OrderEvent {
            order_id,
            user_id,
            ticker,
            quantity,
            side,
            status,
            event_timestamp,
            delivery: None,
        })
    }
}

/// The execution of a fill: `executedPrice` is required, `filledQuantity` too on a partial
/// fill (a FILLED without it filled the whole `quantity`), and never above `quantity`.
fn parse_fill(
    raw: &RawOrderEvent<'_>,
    quantity: Quantity,
    is_final: bool,
) -> Result<Fill, Rejection> {
    let label = if is_final {
        "FILLED"
    } else {
        "PARTIALLY_FILLED"
    };
    let executed_price = parse_price("executedPrice", raw.executed_price)?.ok_or_else(|| {
        Rejection::new(
            DeadLetterReason::MissingExecutedPrice,
            format!("executedPrice is required for {label}"),
        )
    })?;
    let filled_quantity = match parse_quantity("filledQuantity", raw.filled_quantity)? {
        Some(filled) => filled,
        None if is_final => quantity,
        None => return Err(missing("filledQuantity (for PARTIALLY_FILLED)")),
    };
    if filled_quantity > quantity {
        return Err(Rejection::new(
            DeadLetterReason::InvalidQuantity,
            "filledQuantity is above quantity",
        ));
    }
    Ok(Fill {
        filled_quantity,
        executed_price,
    })
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn reason(json: &str) -> DeadLetterReason {
        OrderEvent::parse(json.as_bytes()).unwrap_err().reason
    }

    #[test]
    fn parses_numbers_exactly() {
        let event = OrderEvent::parse(
            br#"{"orderId":1001,"userId":"investor-42","ticker":"petr4","quantity":100,"price":38.55,"executedPrice":null,"side":"BUY","status":"PENDING","eventTimestamp":"2026-05-01T10:15:30.123","extra":{"a":[1]}}"#,
        )
        .unwrap();
        assert_eq!(event.order_id.get(), 1001);
        assert_eq!(event.ticker.as_str(), "PETR4");
        assert_eq!(
            event.status,
            OrderStatus::Pending {
                limit_price: Price::parse("p", "38.55").unwrap()
            }
        );
        assert_eq!(
            event.event_timestamp.unwrap().to_string(),
            "2026-05-01 10:15:30.123"
        );
    }

    #[test]
    fn accepts_strings_exponents_and_jackson_arrays() {
        let event = OrderEvent::parse(
            br#"{"orderId":"7","userId":"u1","ticker":"ITUB4","quantity":"5E+1","price":"0.1","side":"SELL","status":"PENDING","eventTimestamp":[2026,5,1,10,15,30,123000000]}"#,
        )
        .unwrap();
        assert_eq!(event.quantity.value(), dec("50"));
        assert_eq!(event.limit_price().unwrap().value(), dec("0.1"));
        assert_eq!(
            event.event_timestamp.unwrap().to_string(),
            "2026-05-01 10:15:30.123"
        );
        let short_array = br#"{"orderId":8,"userId":"u1","ticker":"X","quantity":1,"price":1,"side":"BUY","status":"PENDING","eventTimestamp":[2026,5,1,10,15]}"#;
        assert!(
            OrderEvent::parse(short_array)
                .unwrap()
                .event_timestamp
                .is_some()
        );
    }

    #[test]
    fn filled_without_filled_quantity_means_all() {
        let event = OrderEvent::parse(
            br#"{"orderId":1,"userId":"u","ticker":"X","quantity":10,"executedPrice":2,"side":"BUY","status":"FILLED"}"#,
        )
        .unwrap();
        assert_eq!(
            event.status.fill().unwrap().filled_quantity.value(),
            dec("10")
        );
    }

    #[test]
    fn an_ending_reads_no_price() {
        // The Order API's REJECTED when the exchange had no price for the ticker.
        let event = OrderEvent::parse(
            br#"{"orderId":4,"userId":"u","ticker":"VALE3","quantity":50.0000,"price":61.2000,"executedPrice":0,"side":"BUY","status":"REJECTED","eventTimestamp":[2026,5,13,21,6,12,301987654]}"#,
        )
        .unwrap();
        assert_eq!(event.status, OrderStatus::Ended("REJECTED"));
        let garbage_prices = br#"{"orderId":4,"userId":"u","ticker":"X","quantity":5,"price":"x","executedPrice":-1,"side":"SELL","status":"CANCELLED"}"#;
        assert!(OrderEvent::parse(garbage_prices).is_ok());
    }

    #[test]
    fn only_a_json_object_is_an_event() {
        // Positional fields of a struct: serde would read this array as an order event.
        let positional = br#"[1,"u","PETR4",1,1,null,null,"BUY","PENDING",null]"#;
        assert_eq!(
            OrderEvent::parse(positional).unwrap_err().reason,
            DeadLetterReason::InvalidJson
        );
        let duplicate = br#"{"orderId":1,"orderId":2,"userId":"u","ticker":"X","quantity":1,"price":1,"side":"BUY","status":"PENDING"}"#;
        assert_eq!(
            OrderEvent::parse(duplicate).unwrap_err().reason,
            DeadLetterReason::InvalidJson
        );
    }

    #[test]
    fn unknown_statuses_are_ignored_not_rejected() {
        let event = OrderEvent::parse(
            br#"{"orderId":1,"userId":"u","ticker":"X","quantity":10,"side":"BUY","status":"SENT"}"#,
        )
        .unwrap();
        assert_eq!(event.status, OrderStatus::Ignored("SENT".into()));
    }

    #[test]
    fn malformed_events_have_reasons() {
        assert_eq!(reason("{\"orderId\":1,"), DeadLetterReason::InvalidJson);
        assert_eq!(
            OrderEvent::parse(b"\xff\xfe not utf-8").unwrap_err().reason,
            DeadLetterReason::InvalidEncoding
        );
        assert_eq!(
            reason(
                r#"{"userId":"u","ticker":"X","quantity":1,"price":1,"side":"BUY","status":"PENDING"}"#
            ),
            DeadLetterReason::MissingField
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"u","ticker":"X","quantity":-5,"price":1,"side":"BUY","status":"PENDING"}"#
            ),
            DeadLetterReason::InvalidQuantity
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"u","ticker":"X","quantity":5,"price":38.123456789,"side":"BUY","status":"PENDING"}"#
            ),
            DeadLetterReason::InvalidPrice
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"u","ticker":"X","quantity":5,"price":1,"side":"SHORT","status":"PENDING"}"#
            ),
            DeadLetterReason::InvalidSide
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"u","ticker":"X","quantity":5,"price":1,"executedPrice":null,"side":"BUY","status":"FILLED"}"#
            ),
            DeadLetterReason::MissingExecutedPrice
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"u","ticker":"X","quantity":5,"side":"BUY","status":"PENDING"}"#
            ),
            DeadLetterReason::MissingField
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"u","ticker":"X","quantity":5,"executedPrice":1,"filledQuantity":6,"side":"BUY","status":"PARTIALLY_FILLED"}"#
            ),
            DeadLetterReason::InvalidQuantity
        );
        assert_eq!(
            reason(
                r#"{"orderId":1.5,"userId":"u","ticker":"X","quantity":5,"price":1,"side":"BUY","status":"PENDING"}"#
            ),
            DeadLetterReason::InvalidOrderId
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"bad user","ticker":"X","quantity":5,"price":1,"side":"BUY","status":"PENDING"}"#
            ),
            DeadLetterReason::InvalidUserId
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"u","ticker":"X","quantity":true,"price":1,"side":"BUY","status":"PENDING"}"#
            ),
            DeadLetterReason::InvalidQuantity
        );
        assert_eq!(
            reason(
                r#"{"orderId":1,"userId":"u","ticker":"X","quantity":1,"price":1,"side":"BUY","status":"PENDING","eventTimestamp":"yesterday"}"#
            ),
            DeadLetterReason::InvalidTimestamp
        );
        assert_eq!(reason("[]"), DeadLetterReason::InvalidJson);
        assert_eq!(reason("null"), DeadLetterReason::InvalidJson);
    }
}
