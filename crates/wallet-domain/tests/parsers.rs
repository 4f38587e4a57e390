//! Property tests of every parser of untrusted input in the domain: decimals (plain and in
//! exponent form), amounts, quantities, prices, user ids, tickers, order ids, whole order
//! events, corporate actions and the exchange's holiday file. None may panic on any input, and whatever they accept must round-trip exactly.

use proptest::prelude::*;
use rust_decimal::Decimal;
use wallet_domain::amount::{AMOUNT_LIMIT, FRACTION_DIGITS_MAX, parse_decimal};
use wallet_domain::{
    Currency, Money, OrderEvent, OrderId, OrderStatus, Price, Quantity, SettlementCalendar, Ticker,
    UserId,
};

/// The exact value of `mantissa × 10^exponent` as decimal text, built digit by digit: the
/// reference the parser must agree with.
fn shifted(mantissa: i64, exponent: i32) -> String {
    let negative = mantissa < 0;
    let digits = mantissa.unsigned_abs().to_string();
    let text = if exponent >= 0 {
        format!("{digits}{}", "0".repeat(exponent.unsigned_abs() as usize))
    } else {
        let shift = exponent.unsigned_abs() as usize;
        let padded = format!(
            "{}{digits}",
            "0".repeat(shift.saturating_sub(digits.len()) + 1)
        );
        let point = padded.len() - shift;
        format!("{}.{}", &padded[..point], &padded[point..])
    };
    if negative { format!("-{text}") } else { text }
}

/// JSON-number-like text: digits, an optional fraction, an optional exponent in any of the
/// forms Jackson and other writers use, sometimes a sign.
fn number_text() -> impl Strategy<Value = String> {
    (
        prop::option::of(Just("-")),
        "[0-9]{1,20}",
        prop::option::of("[0-9]{1,12}"),
        prop::option::of((
            prop_oneof![Just("e"), Just("E")],
            prop_oneof![Just(""), Just("+"), Just("-")],
            0..60_u32,
        )),
    )
        .prop_map(|(sign, integral, fraction, exponent)| {
            let mut text = format!("{}{integral}", sign.unwrap_or(""));
            if let Some(fraction) = fraction {
                text.push('.');
                text.push_str(&fraction);
            }
            if let Some((e, exponent_sign, exponent)) = exponent {
                text.push_str(&format!("{e}{exponent_sign}{exponent}"));
            }
            text
        })
}

/// Any JSON value a field could hold: numbers of every shape, strings, nulls, nesting.
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        number_text(),
        number_text().prop_map(|number| format!("\"{number}\"")),
        "\"[ -~]{0,20}\"".prop_map(|text| text.replace('\\', "")),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec(inner, 0..3).prop_map(|items| {
                let fields: Vec<String> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("\"k{i}\":{v}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

const STATUSES: [&str; 9] = [
    "PENDING",
    "PARTIALLY_FILLED",
    "FILLED",
    "REJECTED",
    "CANCELED",
    "CANCELLED",
    "EXPIRED",
    "SENT",
    "",
];

/// An order event whose every field may be valid or not.
fn event_json() -> impl Strategy<Value = String> {
    let field = |valid: BoxedStrategy<String>| {
        prop_oneof![4 => valid, 1 => json_value(), 1 => Just(String::new())].boxed()
    };
    (
        field((1..i64::MAX).prop_map(|id| id.to_string()).boxed()),
        field("\"[A-Za-z0-9._:@+-]{1,100}\"".boxed()),
        field("\"[A-Za-z0-9]{1,12}\"".boxed()),
        field(number_text().boxed()),
        field(number_text().boxed()),
        field(number_text().boxed()),
        field(number_text().boxed()),
        field(prop_oneof![Just("\"BUY\"".to_owned()), Just("\"SELL\"".to_owned())].boxed()),
        field(
            prop::sample::select(STATUSES.as_slice())
                .prop_map(|s| format!("\"{s}\""))
                .boxed(),
        ),
    )
        .prop_map(
            |(order, user, ticker, quantity, price, executed, filled, side, status)| {
                let names = [
                    "orderId",
                    "userId",
                    "ticker",
                    "quantity",
                    "price",
                    "executedPrice",
                    "filledQuantity",
                    "side",
                    "status",
                ];
                let values = [
                    order, user, ticker, quantity, price, executed, filled, side, status,
                ];
                let fields: Vec<String> = names
                    .iter()
                    .zip(values)
                    .filter(|(_, value)| !value.is_empty())
                    .map(|(name, value)| format!("\"{name}\":{value}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            },
        )
}

/// The event written back as the Order API would, from what the parser accepted.
fn rewritten(event: &OrderEvent) -> String {
    let side = event.side.as_str();
    let head = format!(
        r#"{{"orderId":{},"userId":"{}","ticker":"{}","quantity":{},"side":"{side}""#,
        event.order_id, event.user_id, event.ticker, event.quantity
    );
    match &event.status {
        OrderStatus::Pending { limit_price } => {
            format!(r#"{head},"price":{limit_price},"status":"PENDING"}}"#)
        }
        OrderStatus::PartiallyFilled(fill) | OrderStatus::Filled(fill) => format!(
            r#"{head},"executedPrice":{},"filledQuantity":{},"status":"{}"}}"#,
            fill.executed_price,
            fill.filled_quantity,
            event.status.label()
        ),
        OrderStatus::Ended(name) => format!(r#"{head},"status":"{name}"}}"#),
        OrderStatus::Ignored(name) => format!(r#"{head},"status":"{name}"}}"#),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn decimal_parsing_never_panics_and_round_trips(text in "\\PC{0,40}") {
        if let Ok(value) = parse_decimal("field", &text) {
            prop_assert_eq!(parse_decimal("field", &value.to_string()), Ok(value));
        }
    }

    #[test]
    fn exponent_forms_mean_their_exact_value(mantissa in any::<i64>(), exponent in -45..45_i32, upper in any::<bool>(), plus in any::<bool>()) {
        let e = if upper { "E" } else { "e" };
        let sign = if plus && exponent >= 0 { "+" } else { "" };
        let text = format!("{mantissa}{e}{sign}{exponent}");
        let reference = Decimal::from_str_exact(&shifted(mantissa, exponent)).ok();
        match parse_decimal("field", &text) {
            Ok(value) => prop_assert_eq!(Some(value), reference.map(|r| r.normalize()), "{}", text),
            // Refused only when the exact value does not fit a decimal.
            Err(_) => prop_assert!(reference.is_none_or(|r| r.scale() > 28 || r.is_zero()), "{} refused", text),
        }
    }

    #[test]
    fn amounts_quantities_and_prices_accept_only_what_the_spec_allows(text in prop_oneof![number_text(), "\\PC{0,30}"]) {
        for (accepted, digits) in [
            (Quantity::parse("quantity", &text).ok().map(Quantity::value), FRACTION_DIGITS_MAX),
            (Price::parse("price", &text).ok().map(Price::value), FRACTION_DIGITS_MAX),
            (Money::parse_amount("amount", &text, Currency::BRL).ok().map(Money::value), 2),
            (Money::parse_amount("amount", &text, Currency::parse("JPY").unwrap()).ok().map(Money::value), 0),
        ] {
            if let Some(value) = accepted {
                prop_assert!(value > Decimal::ZERO && value < AMOUNT_LIMIT, "{}", value);
                prop_assert!(value.scale() <= digits, "{}", value);
                prop_assert_eq!(parse_decimal("again", &value.to_string()), Ok(value));
            }
        }
    }

    #[test]
    fn identifiers_never_panic_and_round_trip(text in prop_oneof!["\\PC{0,120}", "[A-Za-z0-9._:@+/-]{1,110}"]) {
        if let Ok(user) = UserId::parse(&text) {
            prop_assert_eq!(user.as_str(), text.as_str());
            prop_assert!(!text.contains('/'));
        }
        if let Ok(ticker) = Ticker::parse(&text) {
            prop_assert_eq!(ticker.as_str(), text.to_ascii_uppercase());
        }
        if let Ok(order) = OrderId::parse(&text) {
            prop_assert!(order.get() > 0);
            prop_assert_eq!(OrderId::parse(&order.to_string()), Ok(order));
        }
    }

    #[test]
    fn order_events_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = OrderEvent::parse(&bytes);
    }

    #[test]
    fn accepted_order_events_round_trip(json in event_json()) {
        if let Ok(event) = OrderEvent::parse(json.as_bytes()) {
            let again = OrderEvent::parse(rewritten(&event).as_bytes());
            prop_assert_eq!(again, Ok(event), "{}", json);
        }
    }

    #[test]
    fn order_events_never_panic_on_any_json(json in json_value()) {
        let _ = OrderEvent::parse(json.as_bytes());
    }

    #[test]
    fn corporate_actions_never_panic_and_accepted_ones_keep_their_promises(json in prop_oneof![
        json_value(),
        (
            prop::sample::select(vec!["CASH_DIVIDEND", "INTEREST_ON_EQUITY", "SPLIT", "REVERSE_SPLIT", "BONUS_SHARES", "MERGER"]),
            "[0-9]{1,4}:[0-9]{1,4}",
            prop_oneof![number_text(), "\\PC{0,12}"],
            "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
            "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
        )
            .prop_map(|(kind, ratio, amount, first, second)| format!(
                r#"{{"id":"A1","type":"{kind}","ticker":"PETR4","ratio":"{ratio}","amountPerShare":"{amount}","fractionPrice":"{amount}","costPerShare":"{amount}","withholdingRate":"{amount}","recordDate":"{first}","effectiveDate":"{first}","paymentDate":"{second}"}}"#
            )),
    ]) {
        use wallet_domain::corporate_actions::{ActionTerms, CorporateAction};
        if let Ok(action) = CorporateAction::parse(json.as_bytes()) {
            match action.terms {
                ActionTerms::CashDividend { record_date, payment_date, .. } => prop_assert!(payment_date >= record_date),
                ActionTerms::InterestOnEquity { withholding_rate, record_date, payment_date, .. } => {
                    prop_assert!(payment_date >= record_date);
                    prop_assert!(withholding_rate >= Decimal::ZERO && withholding_rate < Decimal::ONE);
                }
                ActionTerms::Split { ratio, .. } => prop_assert!(ratio.shares_before() == 1 && ratio.shares_after() > 1),
                ActionTerms::ReverseSplit { ratio, effective_date, payment_date, .. } => {
                    prop_assert!(ratio.shares_after() < ratio.shares_before());
                    prop_assert!(payment_date >= effective_date);
                }
                ActionTerms::BonusShares { .. } => {}
            }
        }
    }

    #[test]
    fn holiday_files_never_panic_and_accepted_dates_round_trip(
        text in prop_oneof![
            "\\PC{0,80}",
            prop::collection::vec("(19|20|99)[0-9]{2}-[01][0-9]-[0-3][0-9]( #[ -~]{0,10})?", 0..6)
                .prop_map(|lines| lines.join("\n")),
            // Near misses: more or fewer digits, signs (chrono's %Y alone reads "80822-1-01").
            "[+-]?[0-9]{3,6}-[0-9]{1,2}-[0-9]{1,3}",
        ],
        cycle in 0..=10_u32,
    ) {
        if let Ok(holidays) = SettlementCalendar::parse_holidays(&text) {
            let listed = holidays.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            prop_assert_eq!(SettlementCalendar::parse_holidays(&listed), Ok(holidays.clone()));
            let calendar = SettlementCalendar::new(cycle, holidays.clone()).unwrap();
            for date in &holidays {
                let due = calendar.due_date(*date);
                prop_assert!(due > *date && calendar.is_business_day(due), "{} → {}", date, due);
            }
        }
    }
}

#[test]
fn the_reference_shifts_the_point() {
    assert_eq!(shifted(15, -3), "0.015");
    assert_eq!(shifted(-15, 2), "-1500");
    assert_eq!(shifted(0, -2), "0.00");
    assert_eq!(shifted(123, -3), "0.123");
}
