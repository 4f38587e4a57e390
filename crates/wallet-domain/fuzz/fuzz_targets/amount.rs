//! The decimal and amount parsers on arbitrary text: never a panic, and whatever they accept
//! is in range and reads back as the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_domain::amount::{AMOUNT_LIMIT, parse_decimal};
use wallet_domain::{Currency, Money, Price, Quantity};

fuzz_target!(|text: &str| {
    if let Ok(value) = parse_decimal("fuzz", text) {
        assert_eq!(
            parse_decimal("fuzz", &value.to_string()),
            Ok(value),
            "{text}"
        );
    }
    let accepted = [
        Quantity::parse("quantity", text).ok().map(Quantity::value),
        Price::parse("price", text).ok().map(Price::value),
        Money::parse_amount("amount", text, Currency::BRL)
            .ok()
            .map(Money::value),
    ];
    for value in accepted.into_iter().flatten() {
        assert!(
            !value.is_sign_negative() && !value.is_zero() && value < AMOUNT_LIMIT,
            "{text}"
        );
        assert_eq!(
            parse_decimal("again", &value.to_string()),
            Ok(value),
            "{text}"
        );
    }
});
