//! Trading fees (brokerage, the exchange's rates): a schedule the broker configures, charged on
//! fills. Empty by default, which is the Java wallet's behaviour: a fill moves exactly
//! quantity × price.
//!
//! A fee of an order is a function of the order's **cumulative** filled notional `N`:
//! `fee(N) = clamp(fixed + rate × N, minimum, maximum)` rounded half-even to the cash scale,
//! and `fee(0) = 0`. Each fill charges `fee(N after) − fee(N before)`, so partial fills add up
//! to the fee of the whole order, a fixed fee is paid once, and a redelivered fill charges
//! nothing. `fee` never decreases as `N` grows (rates and amounts are not negative, clamping
//! and rounding keep order), so a reservation of `fee(⌈quantity × limit⌉)` covers every fill
//! within the limit.

use rust_decimal::Decimal;
use thiserror::Error;

use crate::amount::{AMOUNT_LIMIT, AmountError, Currency, Money};
use crate::hold::Side;
use crate::text_enum::text_enum;

/// Longest fee name: it is stored with each FEE ledger entry and is part of its step key.
pub const FEE_NAME_LENGTH_MAX: usize = 32;

/// The orders a fee applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeeSide {
    /// Purchases only.
    Buy,
    /// Sales only.
    Sell,
    /// Every order.
    Both,
}

text_enum!(FeeSide {
    Buy => "BUY",
    Sell => "SELL",
    Both => "BOTH",
});

impl FeeSide {
    /// True when the fee applies to an order on `side`.
    #[must_use]
    pub fn covers(self, side: Side) -> bool {
        matches!(
            (self, side),
            (FeeSide::Both, _) | (FeeSide::Buy, Side::Buy) | (FeeSide::Sell, Side::Sell)
        )
    }
}

/// A fee schedule the wallet cannot apply; the message names the fee.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FeeError {
    /// The name is empty, too long or has characters other than letters, digits, `_` and `-`.
    #[error("fee name `{0}` must be 1-{FEE_NAME_LENGTH_MAX} letters, digits, '_' or '-'")]
    InvalidName(String),
    /// Two fees share a name.
    #[error("fee `{0}` is defined twice")]
    DuplicateName(String),
    /// A negative, too large or too precise number.
    #[error("fee `{name}`: {problem}")]
    InvalidAmount {
        /// The fee.
        name: String,
        /// What is wrong, naming the field.
        problem: String,
    },
}

/// One named fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    name: String,
    side: FeeSide,
    fixed: Decimal,
    rate: Decimal,
    minimum: Option<Decimal>,
    maximum: Option<Decimal>,
}

/// The parts of a fee as configured, checked by [`Fee::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeTerms {
    /// Name shown in the ledger, the statement and wallet events.
    pub name: String,
    /// The orders it applies to.
    pub side: FeeSide,
    /// Amount charged once per order, on its first fill (0 for none).
    pub fixed: Decimal,
    /// Fraction of the filled notional (0.00005 is 0.005 %; 0 for none).
    pub rate: Decimal,
    /// Least the fee of an order with a fill can be.
    pub minimum: Option<Decimal>,
    /// Most the fee of an order can be.
    pub maximum: Option<Decimal>,
}

impl Fee {
    /// A fee from its configured terms.
    ///
    /// # Errors
    /// [`FeeError`] for an invalid name, a negative amount or rate, a rate of 1 or more,
    /// an amount at or above 10^15, or a minimum above the maximum.
    pub fn new(terms: FeeTerms) -> Result<Fee, FeeError> {
        let FeeTerms {
            name,
            side,
            fixed,
            rate,
            minimum,
            maximum,
        } = terms;
        let valid_name = !name.is_empty()
            && name.len() <= FEE_NAME_LENGTH_MAX
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name {
            return Err(FeeError::InvalidName(name.chars().take(60).collect()));
        }
        let invalid = |problem: String| FeeError::InvalidAmount {
            name: name.clone(),
            problem,
        };
        for (field, value) in [
            ("fixed", Some(fixed)),
            ("minimum", minimum),
            ("maximum", maximum),
        ] {
            if let Some(value) = value
                && (value.is_sign_negative() || value >= AMOUNT_LIMIT)
            {
                return Err(invalid(format!("{field} {value} must be in [0, 10^15)")));
            }
        }
        if rate.is_sign_negative() || rate >= Decimal::ONE {
            return Err(invalid(format!("rate {rate} must be in [0, 1)")));
        }
        if let (Some(minimum), Some(maximum)) = (minimum, maximum)
            && minimum > maximum
        {
            return Err(invalid(format!(
                "minimum {minimum} is above maximum {maximum}"
            )));
        }
        Ok(Fee {
            name,
            side,
            fixed,
            rate,
            minimum,
            maximum,
        })
    }

    /// The fee's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The orders it applies to.
    #[must_use]
    pub fn side(&self) -> FeeSide {
        self.side
    }

    /// The fee of an order whose fills add up to `notional`, rounded half-even to the scale of
    /// `currency`; zero before any fill.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] when the fee leaves the wallet's range.
    pub fn amount(&self, notional: Money, currency: Currency) -> Result<Money, AmountError> {
        if notional.is_zero() {
            return Ok(Money::ZERO);
        }
        let too_large = || AmountError::TooLarge { field: "fee" };
        let mut fee = self
            .rate
            .checked_mul(notional.value())
            .and_then(|variable| variable.checked_add(self.fixed))
            .ok_or_else(too_large)?;
        if let Some(minimum) = self.minimum {
            fee = fee.max(minimum);
        }
        if let Some(maximum) = self.maximum {
            fee = fee.min(maximum);
        }
        Money::round_half_even(fee, currency)
    }
}

/// What one fee charges on one fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeCharge {
    /// The fee.
    pub name: String,
    /// `fee(N after) − fee(N before)`; never negative.
    pub amount: Money,
}

/// The fees of every order, in the order the broker listed them (the order of their ledger
/// entries).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeeSchedule {
    fees: Vec<Fee>,
}

impl FeeSchedule {
    /// No fees: a fill moves exactly quantity × price.
    #[must_use]
    pub fn none() -> FeeSchedule {
        FeeSchedule::default()
    }

    /// A schedule of `fees`.
    ///
    /// # Errors
    /// [`FeeError::DuplicateName`] when two fees share a name.
    pub fn new(fees: Vec<Fee>) -> Result<FeeSchedule, FeeError> {
        for (index, fee) in fees.iter().enumerate() {
            if fees[..index].iter().any(|other| other.name == fee.name) {
                return Err(FeeError::DuplicateName(fee.name.clone()));
            }
        }
        Ok(FeeSchedule { fees })
    }

    /// The fees, in order.
    #[must_use]
    pub fn fees(&self) -> &[Fee] {
        &self.fees
    }

    /// True when no fee applies to any order.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fees.is_empty()
    }

    /// The fees an order on `side` pays at cumulative notional `notional`, added up.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] when a fee or the total leaves the wallet's range.
    pub fn total(
        &self,
        side: Side,
        notional: Money,
        currency: Currency,
    ) -> Result<Money, AmountError> {
        let mut total = Money::ZERO;
        for fee in self.fees.iter().filter(|fee| fee.side.covers(side)) {
            total = total.checked_add(fee.amount(notional, currency)?, "fees")?;
        }
        Ok(total)
    }

    /// What each fee of an order on `side` charges when its cumulative notional grows from
    /// `before` to `after`; fees that charge nothing are left out.
    ///
    /// # Errors
    /// As [`FeeSchedule::total`].
    pub fn charges(
        &self,
        side: Side,
        before: Money,
        after: Money,
        currency: Currency,
    ) -> Result<Vec<FeeCharge>, AmountError> {
        let mut charges = Vec::new();
        for fee in self.fees.iter().filter(|fee| fee.side.covers(side)) {
            let charged = fee.amount(before, currency)?;
            let due = fee.amount(after, currency)?;
            // `fee` never decreases with the notional, so `due ≥ charged` for one schedule.
            let amount = due.checked_sub(charged).unwrap_or(Money::ZERO);
            if !amount.is_zero() {
                charges.push(FeeCharge {
                    name: fee.name.clone(),
                    amount,
                });
            }
        }
        Ok(charges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn money(text: &str) -> Money {
        Money::from_stored(dec(text))
    }

    fn fee(name: &str, side: FeeSide, fixed: &str, rate: &str) -> FeeTerms {
        FeeTerms {
            name: name.to_owned(),
            side,
            fixed: dec(fixed),
            rate: dec(rate),
            minimum: None,
            maximum: None,
        }
    }

    /// B3's equity rates for individual investors (see `config/production.example.toml`):
    /// trading 0.005 % and settlement 0.025 % of the notional, and a broker's R$ 4.90 per order.
    fn b3() -> FeeSchedule {
        FeeSchedule::new(vec![
            Fee::new(fee("BROKERAGE", FeeSide::Both, "4.90", "0")).unwrap(),
            Fee::new(fee("B3_TRADING", FeeSide::Both, "0", "0.00005")).unwrap(),
            Fee::new(fee("B3_SETTLEMENT", FeeSide::Both, "0", "0.00025")).unwrap(),
        ])
        .unwrap()
    }

    #[test]
    fn b3_fees_of_a_purchase_worked_out() {
        // 100 PETR4 at 38.55 = 3,855.00: trading 0.19275 → 0.19, settlement 0.96375 → 0.96.
        let charges = b3()
            .charges(Side::Buy, Money::ZERO, money("3855.00"), Currency::BRL)
            .unwrap();
        let amounts: Vec<(&str, String)> = charges
            .iter()
            .map(|charge| {
                (
                    charge.name.as_str(),
                    charge.amount.to_scaled_string(Currency::BRL),
                )
            })
            .collect();
        assert_eq!(
            amounts,
            [
                ("BROKERAGE", "4.90".to_owned()),
                ("B3_TRADING", "0.19".to_owned()),
                ("B3_SETTLEMENT", "0.96".to_owned())
            ]
        );
        assert_eq!(
            b3().total(Side::Buy, money("3855.00"), Currency::BRL)
                .unwrap(),
            money("6.05")
        );
    }

    #[test]
    fn partial_fills_add_up_to_the_fee_of_the_whole_order() {
        let schedule = b3();
        let steps = ["0", "1927.50", "2313.00", "3855.00"];
        let mut charged = Money::ZERO;
        for pair in steps.windows(2) {
            for charge in schedule
                .charges(Side::Sell, money(pair[0]), money(pair[1]), Currency::BRL)
                .unwrap()
            {
                charged = charged.checked_add(charge.amount, "fees").unwrap();
            }
        }
        // The fixed brokerage once, the rates on the whole notional.
        assert_eq!(charged, money("6.05"));
        assert!(
            schedule
                .charges(
                    Side::Sell,
                    money("3855.00"),
                    money("3855.00"),
                    Currency::BRL
                )
                .unwrap()
                .is_empty(),
            "a redelivered fill charges nothing"
        );
    }

    #[test]
    fn minimum_and_maximum_bound_the_fee_of_an_order() {
        let mut terms = fee("CUSTODY", FeeSide::Sell, "0", "0.01");
        terms.minimum = Some(dec("1.00"));
        terms.maximum = Some(dec("20.00"));
        let custody = Fee::new(terms).unwrap();
        assert_eq!(
            custody.amount(Money::ZERO, Currency::BRL).unwrap(),
            Money::ZERO
        );
        assert_eq!(
            custody.amount(money("50.00"), Currency::BRL).unwrap(),
            money("1.00")
        );
        assert_eq!(
            custody.amount(money("500.00"), Currency::BRL).unwrap(),
            money("5.00")
        );
        assert_eq!(
            custody.amount(money("5000.00"), Currency::BRL).unwrap(),
            money("20.00")
        );
        let schedule = FeeSchedule::new(vec![custody]).unwrap();
        assert_eq!(
            schedule
                .total(Side::Buy, money("5000.00"), Currency::BRL)
                .unwrap(),
            Money::ZERO,
            "a SELL fee is not charged on a purchase"
        );
    }

    #[test]
    fn half_even_to_the_cash_scale() {
        let rate = Fee::new(fee("R", FeeSide::Both, "0", "0.0005")).unwrap();
        // 0.0005 × 25.00 = 0.0125 → 0.01; × 35.00 = 0.0175 → 0.02.
        assert_eq!(
            rate.amount(money("25.00"), Currency::BRL).unwrap(),
            money("0.01")
        );
        assert_eq!(
            rate.amount(money("35.00"), Currency::BRL).unwrap(),
            money("0.02")
        );
    }

    #[test]
    fn invalid_schedules_are_refused_naming_the_fee() {
        let refused = |terms: FeeTerms| Fee::new(terms).unwrap_err().to_string();
        assert!(refused(fee("", FeeSide::Both, "0", "0")).contains("fee name"));
        assert!(refused(fee("a:b", FeeSide::Both, "0", "0")).contains("a:b"));
        assert!(refused(fee("X", FeeSide::Both, "-1", "0")).contains("fixed -1"));
        assert!(refused(fee("X", FeeSide::Both, "0", "1")).contains("rate 1"));
        let mut terms = fee("X", FeeSide::Both, "0", "0");
        terms.minimum = Some(dec("2"));
        terms.maximum = Some(dec("1"));
        assert!(refused(terms).contains("minimum 2 is above maximum 1"));
        let twice = FeeSchedule::new(vec![
            Fee::new(fee("X", FeeSide::Buy, "1", "0")).unwrap(),
            Fee::new(fee("X", FeeSide::Sell, "1", "0")).unwrap(),
        ]);
        assert_eq!(twice, Err(FeeError::DuplicateName("X".to_owned())));
    }
}
