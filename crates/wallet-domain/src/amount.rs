//! Exact decimal amounts (SPEC §3 "Amounts").
//!
//! Every amount that enters the wallet is parsed here: cash in the currency's scale, quantities
//! and prices with at most eight fractional digits, each greater than zero and below 10^15 when
//! it comes from a request or an event. Too many digits is invalid input and is never rounded.
//! The two rounding rules of the spec (reservations round up, settlements round half-even) live
//! in [`reservation_cost`] and [`settlement_value`] and nowhere else.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use thiserror::Error;

/// Exclusive upper bound of every amount in a request or an event, and of every balance.
pub const AMOUNT_LIMIT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0);

/// Maximum fractional digits of a quantity or a price.
pub const FRACTION_DIGITS_MAX: u32 = 8;

/// Why a decimal input was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    /// The text is not a decimal number (plain or with an exponent).
    #[error("{field} `{text}` is not a decimal number")]
    NotANumber {
        /// The JSON field (or query parameter) that held the value, named in the message.
        field: &'static str,
        /// What was given (at most 64 characters).
        text: String,
    },
    /// Zero or negative where the spec requires more than zero.
    #[error("{field} must be greater than zero, got {value}")]
    NotPositive {
        /// The JSON field (or query parameter) that held the value, named in the message.
        field: &'static str,
        /// What was given.
        value: Decimal,
    },
    /// More fractional digits than the field allows.
    #[error("{field} {value} has more than {digits_max} fractional digits")]
    TooManyDigits {
        /// The JSON field (or query parameter) that held the value, named in the message.
        field: &'static str,
        /// What was given.
        value: Decimal,
        /// The most fractional digits the field allows.
        digits_max: u32,
    },
    /// At or above 10^15, or too large to compute with exactly.
    #[error("{field} must be below 10^15")]
    TooLarge {
        /// The JSON field (or query parameter) that held the value, named in the message.
        field: &'static str,
    },
}

/// Parses decimal text as JSON and the Order API write it: `38.55`, `-5`, `5E+1`, `1.5e-3`.
///
/// The value is normalised (trailing fractional zeros dropped), so `38.40` and `38.4` are equal
/// and `1.000000000` counts as having no fractional digits.
///
/// # Errors
/// [`AmountError::NotANumber`] for anything else, [`AmountError::TooLarge`] when the value
/// cannot be represented exactly.
pub fn parse_decimal(field: &'static str, text: &str) -> Result<Decimal, AmountError> {
    let not_a_number = || AmountError::NotANumber {
        field,
        text: text.chars().take(64).collect(),
    };
    let trimmed = text.trim();
    let (mantissa, exponent) = match trimmed.find(['e', 'E']) {
        Some(at) => {
            let exponent: i32 = trimmed[at + 1..].parse().map_err(|_| not_a_number())?;
            (&trimmed[..at], exponent)
        }
        None => (trimmed, 0),
    };
    let well_formed = {
        let digits = mantissa.strip_prefix('-').unwrap_or(mantissa);
        let mut parts = digits.splitn(2, '.');
        let integral = parts.next().unwrap_or_default();
        let fraction = parts.next();
        !integral.is_empty()
            && integral.bytes().all(|b| b.is_ascii_digit())
            && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    };
    if !well_formed {
        return Err(not_a_number());
    }
    let too_large = || AmountError::TooLarge { field };
    let mut value = Decimal::from_str_exact(mantissa).map_err(|_| too_large())?;
    if exponent > 0 {
        // 10^29 and above do not fit the decimal's 96-bit mantissa: refused, never built.
        let power = 10_i128
            .checked_pow(exponent.unsigned_abs())
            .ok_or_else(too_large)?;
        let factor = Decimal::try_from_i128_with_scale(power, 0).map_err(|_| too_large())?;
        value = value.checked_mul(factor).ok_or_else(too_large)?;
    } else if exponent < 0 {
        let scale = value.scale() + exponent.unsigned_abs();
        if scale > Decimal::MAX_SCALE {
            return Err(too_large());
        }
        value.set_scale(scale).map_err(|_| too_large())?;
    }
    Ok(value.normalize())
}

fn check_input(
    field: &'static str,
    value: Decimal,
    digits_max: u32,
) -> Result<Decimal, AmountError> {
    let value = value.normalize();
    if value <= Decimal::ZERO {
        return Err(AmountError::NotPositive { field, value });
    }
    if value >= AMOUNT_LIMIT {
        return Err(AmountError::TooLarge { field });
    }
    if value.scale() > digits_max {
        return Err(AmountError::TooManyDigits {
            field,
            value,
            digits_max,
        });
    }
    Ok(value)
}

/// An ISO 4217 currency code, which fixes the scale of cash amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The default currency of the brokerage.
    pub const BRL: Currency = Currency(*b"BRL");

    /// Parses a three-letter upper-case code such as `BRL` or `USD`.
    ///
    /// # Errors
    /// [`CurrencyError`] when the code is not three ASCII upper-case letters.
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| CurrencyError(code.chars().take(16).collect()))?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(CurrencyError(code.to_owned()));
        }
        Ok(Currency(bytes))
    }

    /// The code, e.g. `"BRL"`.
    #[must_use]
    pub fn code(&self) -> &str {
        // The constructor admits ASCII letters only.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Fractional digits of cash in this currency (ISO 4217 minor units).
    #[must_use]
    pub fn scale(&self) -> u32 {
        match &self.0 {
            b"JPY" | b"KRW" | b"CLP" | b"ISK" | b"VND" | b"PYG" | b"UGX" => 0,
            b"BHD" | b"KWD" | b"OMR" | b"JOD" | b"TND" | b"LYD" | b"IQD" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code)
    }
}

/// A currency code that is not three upper-case letters.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("currency `{0}` is not a three-letter ISO 4217 code")]
pub struct CurrencyError(pub String);

macro_rules! decimal_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
        #[serde(transparent)]
        pub struct $name(Decimal);

        impl $name {
            /// Zero, the value of an empty balance or position.
            pub const ZERO: $name = $name(Decimal::ZERO);

            /// The exact decimal value.
            #[must_use]
            pub fn value(self) -> Decimal {
                self.0
            }

            /// Wraps a value read back from storage, which was validated when it was written.
            #[must_use]
            pub fn from_stored(value: Decimal) -> Self {
                $name(value)
            }

            /// True when the amount is zero.
            #[must_use]
            pub fn is_zero(self) -> bool {
                self.0.is_zero()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.normalize(), f)
            }
        }
    };
}

decimal_newtype!(
    /// Cash, in the scale of the account's currency. Zero is a valid balance; amounts taken
    /// from requests and events are parsed with [`Money::parse_amount`], which requires more
    /// than zero.
    Money
);
decimal_newtype!(
    /// A number of shares, with at most eight fractional digits.
    Quantity
);
decimal_newtype!(
    /// A price per share, with at most eight fractional digits.
    Price
);

impl Money {
    /// Parses a cash amount of a request: > 0, < 10^15, at most the currency's scale.
    ///
    /// # Errors
    /// [`AmountError`] naming `field` when the text breaks any of those rules.
    pub fn parse_amount(
        field: &'static str,
        text: &str,
        currency: Currency,
    ) -> Result<Self, AmountError> {
        Self::try_amount(field, parse_decimal(field, text)?, currency)
    }

    /// Checks an already exact decimal as a request amount in `currency`.
    ///
    /// # Errors
    /// As [`Money::parse_amount`].
    pub fn try_amount(
        field: &'static str,
        value: Decimal,
        currency: Currency,
    ) -> Result<Self, AmountError> {
        check_input(field, value, currency.scale()).map(Money)
    }

    /// A computed charge (a fee) rounded **half-even** to the scale of `currency`, as
    /// [`settlement_value`] rounds a trade.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] when the value is negative or at or above 10^15.
    pub fn round_half_even(value: Decimal, currency: Currency) -> Result<Money, AmountError> {
        let rounded =
            value.round_dp_with_strategy(currency.scale(), RoundingStrategy::MidpointNearestEven);
        if rounded.is_sign_negative() || rounded >= AMOUNT_LIMIT {
            return Err(AmountError::TooLarge { field: "fee" });
        }
        Ok(Money(rounded))
    }

    /// The amount written with exactly the currency's fractional digits, e.g. `"3855.00"`.
    #[must_use]
    pub fn to_scaled_string(self, currency: Currency) -> String {
        scaled(self.0, currency.scale()).to_string()
    }

    /// `self + other`, refused when the sum reaches 10^15.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] naming `field`.
    pub fn checked_add(self, other: Money, field: &'static str) -> Result<Money, AmountError> {
        self.0
            .checked_add(other.0)
            .filter(|sum| *sum < AMOUNT_LIMIT)
            .map(Money)
            .ok_or(AmountError::TooLarge { field })
    }

    /// `self - other` when it does not go below zero.
    #[must_use]
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        (self.0 >= other.0).then(|| Money(self.0 - other.0))
    }

    /// The smaller of two amounts.
    #[must_use]
    pub fn min(self, other: Money) -> Money {
        Money(self.0.min(other.0))
    }
}

impl Quantity {
    /// Parses a quantity of a request or event: > 0, < 10^15, at most eight fractional digits.
    ///
    /// # Errors
    /// [`AmountError`] naming `field`.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, AmountError> {
        Self::try_new(field, parse_decimal(field, text)?)
    }

    /// Checks an exact decimal as a request or event quantity.
    ///
    /// # Errors
    /// [`AmountError`] naming `field`.
    pub fn try_new(field: &'static str, value: Decimal) -> Result<Self, AmountError> {
        check_input(field, value, FRACTION_DIGITS_MAX).map(Quantity)
    }

    /// `self + other` (quantities stay far below the decimal range: each input is < 10^15).
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] when the sum reaches 10^15.
    pub fn checked_add(self, other: Quantity) -> Result<Quantity, AmountError> {
        self.0
            .checked_add(other.0)
            .filter(|sum| *sum < AMOUNT_LIMIT)
            .map(Quantity)
            .ok_or(AmountError::TooLarge { field: "quantity" })
    }

    /// `self - other` when it does not go below zero.
    #[must_use]
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        (self.0 >= other.0).then(|| Quantity(self.0 - other.0))
    }

    /// The smaller of two quantities.
    #[must_use]
    pub fn min(self, other: Quantity) -> Quantity {
        Quantity(self.0.min(other.0))
    }
}

impl Price {
    /// Parses a price of an event or request: > 0, < 10^15, at most eight fractional digits.
    ///
    /// # Errors
    /// [`AmountError`] naming `field`.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, AmountError> {
        Self::try_new(field, parse_decimal(field, text)?)
    }

    /// Checks an exact decimal as a price.
    ///
    /// # Errors
    /// [`AmountError`] naming `field`.
    pub fn try_new(field: &'static str, value: Decimal) -> Result<Self, AmountError> {
        check_input(field, value, FRACTION_DIGITS_MAX).map(Price)
    }

    /// The weighted average cost of a position after buying `bought` more shares for `cost`,
    /// rounded half-even to eight fractional digits.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] when the position's cost or the average leaves the wallet's
    /// range (at or above 10^15).
    pub fn weighted_average(
        held: Quantity,
        average: Price,
        bought: Quantity,
        cost: Money,
    ) -> Result<Price, AmountError> {
        let too_large = || AmountError::TooLarge {
            field: "average price",
        };
        let total_quantity = held.0.checked_add(bought.0).ok_or_else(too_large)?;
        if total_quantity.is_zero() {
            return Ok(Price::ZERO);
        }
        let total_cost = held
            .0
            .checked_mul(average.0)
            .and_then(|held_cost| held_cost.checked_add(cost.0))
            .ok_or_else(too_large)?;
        let average = total_cost
            .checked_div(total_quantity)
            .filter(|average| *average < AMOUNT_LIMIT)
            .ok_or_else(too_large)?;
        Ok(Price(
            average
                .round_dp_with_strategy(FRACTION_DIGITS_MAX, RoundingStrategy::MidpointNearestEven)
                .normalize(),
        ))
    }
}

/// `value` with exactly `scale` fractional digits (values here never carry more).
fn scaled(value: Decimal, scale: u32) -> Decimal {
    let mut value = value;
    value.rescale(scale);
    value
}

fn multiply(quantity: Quantity, price: Price) -> Result<Decimal, AmountError> {
    quantity
        .0
        .checked_mul(price.0)
        .filter(|product| *product < AMOUNT_LIMIT)
        .ok_or(AmountError::TooLarge {
            field: "quantity × price",
        })
}

/// Cash to reserve for buying `quantity` at `price`: rounded **up** to the currency's scale, so
/// that a reservation never falls short of the trade it covers.
///
/// # Errors
/// [`AmountError::TooLarge`] when the product reaches 10^15.
pub fn reservation_cost(
    quantity: Quantity,
    price: Price,
    currency: Currency,
) -> Result<Money, AmountError> {
    let product = multiply(quantity, price)?;
    Ok(Money(product.round_dp_with_strategy(
        currency.scale(),
        RoundingStrategy::ToPositiveInfinity,
    )))
}

/// Cost of a purchase or proceeds of a sale of `quantity` at `price`: rounded **half-even** to
/// the currency's scale.
///
/// # Errors
/// [`AmountError::TooLarge`] when the product reaches 10^15.
pub fn settlement_value(
    quantity: Quantity,
    price: Price,
    currency: Currency,
) -> Result<Money, AmountError> {
    let product = multiply(quantity, price)?;
    Ok(Money(product.round_dp_with_strategy(
        currency.scale(),
        RoundingStrategy::MidpointNearestEven,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn amount_limit_is_ten_to_the_fifteenth() {
        assert_eq!(AMOUNT_LIMIT, dec("1000000000000000"));
    }

    #[test]
    fn parses_plain_and_exponent_notation() {
        assert_eq!(parse_decimal("q", "38.55").unwrap(), dec("38.55"));
        assert_eq!(parse_decimal("q", "5E+1").unwrap(), dec("50"));
        assert_eq!(parse_decimal("q", "5e1").unwrap(), dec("50"));
        assert_eq!(parse_decimal("q", "1.5E-3").unwrap(), dec("0.0015"));
        assert_eq!(parse_decimal("q", "-5").unwrap(), dec("-5"));
        assert_eq!(parse_decimal("q", "38.400").unwrap().scale(), 1);
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for text in [
            "",
            "abc",
            "1.",
            ".5",
            "1e",
            "0x10",
            "1_000",
            "NaN",
            "inf",
            "1,5",
            "+-1",
            "1e99999999999",
            // Powers of ten past the 96-bit mantissa used to panic instead of being refused.
            "1e29",
            "1E+30",
            "0e35",
            "1e38",
            "1e39",
            "1e-30",
            "-9e28",
        ] {
            assert!(
                parse_decimal("q", text).is_err(),
                "{text} should be refused"
            );
        }
    }

    #[test]
    fn input_rules_follow_the_spec() {
        assert!(matches!(
            Quantity::parse("quantity", "0"),
            Err(AmountError::NotPositive { .. })
        ));
        assert!(matches!(
            Quantity::parse("quantity", "-5"),
            Err(AmountError::NotPositive { .. })
        ));
        assert!(matches!(
            Price::parse("price", "38.123456789"),
            Err(AmountError::TooManyDigits { .. })
        ));
        assert!(Price::parse("price", "38.12345678").is_ok());
        assert!(Price::parse("price", "38.123456780000").is_ok());
        assert!(matches!(
            Quantity::parse("quantity", "1000000000000000"),
            Err(AmountError::TooLarge { .. })
        ));
        assert!(Quantity::parse("quantity", "999999999999999.99999999").is_ok());
        assert!(matches!(
            Money::parse_amount("amount", "10.001", Currency::BRL),
            Err(AmountError::TooManyDigits { .. })
        ));
        assert!(Money::parse_amount("amount", "10.5", Currency::parse("JPY").unwrap()).is_err());
    }

    #[test]
    fn reservation_rounds_up_and_settlement_half_even() {
        let quantity = Quantity::parse("q", "3").unwrap();
        let price = Price::parse("p", "0.335").unwrap();
        // 3 × 0.335 = 1.005: the reservation must cover it, the settlement rounds to even.
        assert_eq!(
            reservation_cost(quantity, price, Currency::BRL)
                .unwrap()
                .value(),
            dec("1.01")
        );
        assert_eq!(
            settlement_value(quantity, price, Currency::BRL)
                .unwrap()
                .value(),
            dec("1.00")
        );
        let price = Price::parse("p", "0.345").unwrap();
        assert_eq!(
            settlement_value(quantity, price, Currency::BRL)
                .unwrap()
                .value(),
            dec("1.04")
        );
    }

    #[test]
    fn fixture_story_numbers() {
        let cost = reservation_cost(
            Quantity::parse("q", "100").unwrap(),
            Price::parse("p", "38.55").unwrap(),
            Currency::BRL,
        );
        assert_eq!(cost.unwrap().to_scaled_string(Currency::BRL), "3855.00");
    }

    #[test]
    fn huge_products_are_refused_not_wrapped() {
        let quantity = Quantity::parse("q", "999999999999999").unwrap();
        let price = Price::parse("p", "999999999999999").unwrap();
        assert!(matches!(
            reservation_cost(quantity, price, Currency::BRL),
            Err(AmountError::TooLarge { .. })
        ));
    }

    #[test]
    fn weighted_average_of_two_buys() {
        let average = Price::weighted_average(
            Quantity::parse("q", "100").unwrap(),
            Price::parse("p", "38.40").unwrap(),
            Quantity::parse("q", "50").unwrap(),
            Money::parse_amount("c", "2000", Currency::BRL).unwrap(),
        );
        // (3840 + 2000) / 150 = 38.9333… → 38.93333333
        assert_eq!(average.unwrap().value(), dec("38.93333333"));
    }

    #[test]
    fn currency_scales() {
        assert_eq!(Currency::BRL.scale(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().scale(), 0);
        assert!(Currency::parse("brl").is_err());
        assert!(Currency::parse("BRLX").is_err());
    }
}
