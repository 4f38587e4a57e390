//! Identifiers that parse their input (SPEC §3 "Account", "Position" and §4).

use std::fmt;

use serde::Serialize;
use thiserror::Error;

/// Longest user id accepted: the width of the Java wallet's `user_id` column, so every account
/// it held can move here.
pub const USER_ID_LENGTH_MAX: usize = 100;
/// The characters a user id may hold besides ASCII letters and digits. None of them is `/`,
/// which step keys use to end a user id (see `engine::steps`).
pub const USER_ID_PUNCTUATION: &[u8] = b"._:@+-";
/// Longest ticker accepted.
pub const TICKER_LENGTH_MAX: usize = 12;

/// An identifier that broke its format rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// Not 1–100 characters of `[A-Za-z0-9._:@+-]`.
    #[error("user id `{0}` must be 1 to 100 characters of A-Z a-z 0-9 . _ : @ + -")]
    UserId(String),
    /// Not 1–12 characters of `[A-Z0-9]` after upper-casing.
    #[error("ticker `{0}` must be 1 to 12 characters of A-Z 0-9")]
    Ticker(String),
    /// Not a positive 64-bit integer.
    #[error("order id `{0}` must be a positive 64-bit integer")]
    OrderId(String),
}

fn shortened(text: &str) -> String {
    text.chars().take(80).collect()
}

/// The investor an account belongs to: the `sub` of their token, the key of their events.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// Parses a user id: 1–100 characters of `[A-Za-z0-9._:@+-]`.
    ///
    /// # Errors
    /// [`IdError::UserId`].
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let valid = (1..=USER_ID_LENGTH_MAX).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || USER_ID_PUNCTUATION.contains(&b));
        if valid {
            Ok(UserId(text.to_owned()))
        } else {
            Err(IdError::UserId(shortened(text)))
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A listed instrument, normalised to upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Ticker(String);

impl Ticker {
    /// Parses a ticker, upper-casing it: 1–12 characters of `[A-Z0-9]`.
    ///
    /// # Errors
    /// [`IdError::Ticker`].
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let upper = text.to_ascii_uppercase();
        let valid = (1..=TICKER_LENGTH_MAX).contains(&upper.len())
            && upper
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if valid {
            Ok(Ticker(upper))
        } else {
            Err(IdError::Ticker(shortened(text)))
        }
    }

    /// The ticker as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A ticker of the wallet's own constants, which satisfy the rule (a test checks each).
    pub(crate) fn placeholder(text: &'static str) -> Ticker {
        Ticker(text.to_owned())
    }
}

impl fmt::Display for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Order API's id of an order: one hold per order id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrderId(i64);

impl OrderId {
    /// Wraps a positive id.
    ///
    /// # Errors
    /// [`IdError::OrderId`] for zero or a negative number.
    pub fn new(id: i64) -> Result<Self, IdError> {
        if id > 0 {
            Ok(OrderId(id))
        } else {
            Err(IdError::OrderId(id.to_string()))
        }
    }

    /// Parses decimal digits as an order id.
    ///
    /// # Errors
    /// [`IdError::OrderId`].
    pub fn parse(text: &str) -> Result<Self, IdError> {
        text.trim()
            .parse::<i64>()
            .map_err(|_| IdError::OrderId(shortened(text)))
            .and_then(Self::new)
    }

    /// The numeric id.
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_follow_the_pattern() {
        assert!(UserId::parse("investor-42").is_ok());
        assert!(UserId::parse("a.b_c:d@e-f+g").is_ok());
        assert!(UserId::parse("e82b8e13-1df9-41ba-a961-a28a4fe4e38b").is_ok());
        assert!(UserId::parse(&"x".repeat(100)).is_ok());
        assert!(UserId::parse(&"x".repeat(101)).is_err());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("with space").is_err());
        assert!(UserId::parse("ümlaut").is_err());
        assert!(UserId::parse("a/b").is_err());
    }

    #[test]
    fn tickers_are_upper_cased_and_checked() {
        assert_eq!(Ticker::parse("petr4").unwrap().as_str(), "PETR4");
        assert!(Ticker::parse("ABCDEFGHIJKL").is_ok());
        assert!(Ticker::parse("ABCDEFGHIJKLM").is_err());
        assert!(Ticker::parse("PETR-4").is_err());
        assert!(Ticker::parse("").is_err());
    }

    #[test]
    fn the_placeholder_ticker_follows_the_rule() {
        let placeholder = crate::Hold::PENDING_TICKER;
        assert_eq!(
            Ticker::parse(placeholder).unwrap(),
            Ticker::placeholder(placeholder)
        );
    }

    #[test]
    fn order_ids_are_positive() {
        assert_eq!(OrderId::parse("1001").unwrap().get(), 1001);
        assert!(OrderId::new(0).is_err());
        assert!(OrderId::parse("-1").is_err());
        assert!(OrderId::parse("99999999999999999999").is_err());
    }
}
