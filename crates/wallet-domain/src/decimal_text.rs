//! Numbers as text, written straight into a `String`: decimals and integers exactly as their
//! `Display` writes them (plain digits, the scale's fractional digits, never an exponent), and
//! zero-padded digits for the fields of a date and time.
//!
//! Every event of a batch puts several amounts into its JSON and several into its SQL rows.
//! Through `Display` each one went through `core::fmt` and a padded copy of its digits: 13 % of
//! the wallet's instructions in a slice of an instruction profile (callgrind) of the throughput
//! run (`docs/benchmarks.md`). Values whose mantissa does not fit 64 bits (beyond any amount
//! the wallet accepts) still go through `Display`.

use std::fmt::Write as _;

use rust_decimal::Decimal;

/// Appends `value` as its `Display` writes it.
pub fn push_decimal(out: &mut String, value: Decimal) {
    let mantissa = value.mantissa();
    let Ok(magnitude) = u64::try_from(mantissa.unsigned_abs()) else {
        // Writing to a String cannot fail.
        let _ = write!(out, "{value}");
        return;
    };
    if value.is_sign_negative() && mantissa != 0 {
        out.push('-');
    }
    let mut buffer = [0_u8; 20];
    let digits = digits_of(magnitude, &mut buffer);
    let scale = value.scale() as usize;
    if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        push_ascii(out, whole);
        if scale > 0 {
            out.push('.');
            push_ascii(out, fraction);
        }
    } else {
        out.push_str("0.");
        for _ in digits.len()..scale {
            out.push('0');
        }
        push_ascii(out, digits);
    }
}

/// Appends `value` as its `Display` writes it.
pub fn push_integer(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    let mut buffer = [0_u8; 20];
    push_ascii(out, digits_of(value.unsigned_abs(), &mut buffer));
}

/// Appends the last `width` decimal digits of `value`, zero-padded (the fields of a date and
/// time).
pub fn push_padded(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        // A remainder of ten is below ten: an ASCII digit.
        out.push(char::from(b'0' + (value / 10_u32.pow(place) % 10) as u8));
    }
}

/// The decimal digits of `value`, written at the end of `buffer`.
fn digits_of(value: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    let mut rest = value;
    loop {
        start -= 1;
        // A remainder of ten is below ten: an ASCII digit.
        buffer[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    &buffer[start..]
}

/// `value` as its `Display` writes it, in a `String` of its own.
#[must_use]
pub fn decimal_string(value: Decimal) -> String {
    let mut text = String::with_capacity(24);
    push_decimal(&mut text, value);
    text
}

/// Appends ASCII digits.
fn push_ascii(out: &mut String, digits: &[u8]) {
    for digit in digits {
        out.push(char::from(*digit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_as_display_writes_them() {
        let values = [
            Decimal::ZERO,
            Decimal::from_parts(0, 0, 0, true, 2),
            Decimal::from_parts(0, 0, 0, false, 28),
            Decimal::new(1, 8),
            Decimal::new(-1, 8),
            Decimal::new(385_500, 2),
            Decimal::new(-123_456, 3),
            Decimal::new(10, 0),
            Decimal::new(i64::MAX, 0),
            Decimal::new(i64::MIN, 10),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::from_parts(u32::MAX, u32::MAX, 0, true, 28),
        ];
        for value in values {
            assert_eq!(decimal_string(value), value.to_string(), "{value:?}");
        }
    }

    #[test]
    fn padded_digits_are_the_last_ones_of_the_value() {
        let mut text = String::new();
        push_padded(&mut text, 7, 2);
        push_padded(&mut text, 2026, 4);
        push_padded(&mut text, 1_234_567, 6);
        push_padded(&mut text, 0, 3);
        assert_eq!(text, "072026234567000");
    }

    proptest::proptest! {
        #[test]
        fn every_integer_is_written_as_display_writes_it(value: i64) {
            let mut text = String::new();
            push_integer(&mut text, value);
            proptest::prop_assert_eq!(text, value.to_string());
        }

        #[test]
        fn every_decimal_is_written_as_display_writes_it(
            low: u32,
            mid: u32,
            high in proptest::prop_oneof![proptest::strategy::Just(0_u32), proptest::num::u32::ANY],
            negative: bool,
            scale in 0_u32..=28,
        ) {
            let value = Decimal::from_parts(low, mid, high, negative, scale);
            proptest::prop_assert_eq!(decimal_string(value), value.to_string());
        }
    }
}
