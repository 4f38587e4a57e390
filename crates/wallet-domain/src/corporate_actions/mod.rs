//! Corporate actions: what a company's dividend, interest on equity (JCP), split, reverse split
//! or bonus issue does to one holder, as exact, pure rules.
//!
//! - **Cash** (`CASH_DIVIDEND`, `INTEREST_ON_EQUITY`): the entitled quantity × the amount per
//!   share, half-even to the cash scale; JCP withholds income tax at source (15 % unless the
//!   event says otherwise), also half-even, and credits the rest.
//! - **Shares** (`SPLIT`, `REVERSE_SPLIT`, `BONUS_SHARES`): a ratio `from:to` turns `from` shares
//!   into `to`. The quantity, the blocked quantity and an open SELL's reserved quantity scale
//!   alike; the cost basis (quantity × average price) is preserved, so the average price is
//!   divided by the ratio; bonus shares add their tax cost. Whole shares only: the fraction a
//!   holder is left with is removed and paid in cash at the event's fraction price. Realized
//!   P&L never changes.
//!
//! [`CorporateAction::parse`] reads an action as it arrives. Entitlement (the quantity at the
//! end of the record date) and the booking of these effects are the caller's; these functions
//! only say what one holder's position becomes.

mod event;
mod record;
mod wire;

pub use event::{ACTION_ID_LENGTH_MAX, ActionTerms, CorporateAction};
pub use record::{ActionRecord, ActionStage, BatchTotals, Entitlement, HolderPage, Received};

use rust_decimal::Decimal;
use thiserror::Error;

use crate::amount::{AMOUNT_LIMIT, AmountError, Currency, Money, Price, Quantity};

/// Income tax withheld from interest on equity when the event names no rate (Brazil, 15 %).
pub const JCP_WITHHOLDING_DEFAULT: Decimal = Decimal::from_parts(15, 0, 0, false, 2);

/// Largest side of a ratio.
pub const RATIO_SIDE_MAX: u32 = 1_000_000;

/// A ratio the wallet cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RatioError {
    /// Not `from:to` with two whole numbers from 1 to [`RATIO_SIDE_MAX`].
    #[error("ratio `{0}` is not from:to with whole numbers from 1 to {RATIO_SIDE_MAX}")]
    Malformed(String),
    /// A split that does not add shares, or a reverse split that does not remove them.
    #[error("ratio {from}:{to} does not {direction}")]
    WrongDirection {
        /// Shares before.
        from: u32,
        /// Shares after.
        to: u32,
        /// What the event type needs the ratio to do.
        direction: &'static str,
    },
}

/// `from` shares become `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    from: u32,
    to: u32,
}

impl Ratio {
    /// Parses `from:to`, e.g. `1:2` (a split that doubles), `10:1` (a reverse split).
    ///
    /// # Errors
    /// [`RatioError::Malformed`].
    pub fn parse(text: &str) -> Result<Ratio, RatioError> {
        let malformed = || RatioError::Malformed(text.chars().take(40).collect());
        let (from, to) = text.split_once(':').ok_or_else(malformed)?;
        let side = |part: &str| {
            part.parse::<u32>()
                .ok()
                .filter(|value| (1..=RATIO_SIDE_MAX).contains(value) && !part.starts_with('+'))
        };
        match (side(from), side(to)) {
            (Some(from), Some(to)) => Ok(Ratio { from, to }),
            _ => Err(malformed()),
        }
    }

    /// Shares before.
    #[must_use]
    pub fn shares_before(self) -> u32 {
        self.from
    }

    /// Shares after.
    #[must_use]
    pub fn shares_after(self) -> u32 {
        self.to
    }

    /// This ratio as a split (more shares after).
    ///
    /// # Errors
    /// [`RatioError::WrongDirection`] when `to ≤ from`.
    pub fn increasing(self) -> Result<Ratio, RatioError> {
        self.check(self.to > self.from, "add shares")
    }

    /// This ratio as a reverse split (fewer shares after).
    ///
    /// # Errors
    /// [`RatioError::WrongDirection`] when `to ≥ from`.
    pub fn decreasing(self) -> Result<Ratio, RatioError> {
        self.check(self.to < self.from, "remove shares")
    }

    fn check(self, holds: bool, direction: &'static str) -> Result<Ratio, RatioError> {
        if holds {
            Ok(self)
        } else {
            Err(RatioError::WrongDirection {
                from: self.from,
                to: self.to,
                direction,
            })
        }
    }

    /// `quantity × to / from`, down to whole shares (an open order never holds a fraction).
    #[must_use]
    pub fn scale_whole(self, quantity: Quantity) -> Quantity {
        self.scale(quantity.value()).map_or(quantity, |scaled| {
            Quantity::from_stored(scaled.trunc().normalize())
        })
    }

    /// A price per share before the event as a price per share after it: `price × from / to`,
    /// half-even to eight places.
    #[must_use]
    pub fn scale_price(self, price: Price) -> Price {
        price
            .value()
            .checked_mul(Decimal::from(self.from))
            .and_then(|value| value.checked_div(Decimal::from(self.to)))
            .map_or(price, |value| {
                Price::from_stored(
                    value
                        .round_dp_with_strategy(
                            8,
                            rust_decimal::RoundingStrategy::MidpointNearestEven,
                        )
                        .normalize(),
                )
            })
    }

    /// `value × to / from`, exactly when it can be.
    fn scale(self, value: Decimal) -> Option<Decimal> {
        value
            .checked_mul(Decimal::from(self.to))?
            .checked_div(Decimal::from(self.from))
    }
}

/// A cash entitlement of one holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashEntitlement {
    /// Quantity × amount per share, half-even to the cash scale.
    pub gross: Money,
    /// Income tax withheld at source (zero for a dividend).
    pub withheld: Money,
    /// What the holder is credited: `gross − withheld`.
    pub net: Money,
}

/// What a holder with `quantity` entitled shares receives of `per_share`, with `withholding`
/// (a fraction, 0 for a dividend) withheld.
///
/// # Errors
/// [`AmountError::TooLarge`] when the amount leaves the wallet's range.
pub fn cash_entitlement(
    quantity: Quantity,
    per_share: Price,
    withholding: Decimal,
    currency: Currency,
) -> Result<CashEntitlement, AmountError> {
    let too_large = || AmountError::TooLarge {
        field: "corporate action cash",
    };
    let gross = quantity
        .value()
        .checked_mul(per_share.value())
        .filter(|gross| *gross < AMOUNT_LIMIT)
        .ok_or_else(too_large)?;
    let gross = Money::round_half_even(gross, currency)?;
    let withheld = gross
        .value()
        .checked_mul(withholding)
        .ok_or_else(too_large)?;
    let withheld = Money::round_half_even(withheld, currency)?;
    let net = gross.checked_sub(withheld).ok_or_else(too_large)?;
    Ok(CashEntitlement {
        gross,
        withheld,
        net,
    })
}

/// A holder's shares before a share event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding {
    /// Shares held, blocked ones included.
    pub quantity: Quantity,
    /// Shares blocked by open SELL orders.
    pub blocked_quantity: Quantity,
    /// Cost basis per share.
    pub average_price: Price,
}

/// A holder's shares after a share event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjusted {
    /// Whole shares held after the event.
    pub quantity: Quantity,
    /// Blocked shares after it, scaled like the quantity and never above it.
    pub blocked_quantity: Quantity,
    /// The new cost basis per share, half-even to eight places.
    pub average_price: Price,
    /// The fraction of a share removed (paid in cash).
    pub fraction: Decimal,
    /// What the fraction is paid: fraction × fraction price, half-even to the cash scale.
    pub cash_in_lieu: Money,
}

/// `quantity` scaled by `ratio`, as whole shares and the fraction left over.
fn scaled_shares(quantity: Quantity, ratio: Ratio) -> Result<(Decimal, Decimal), AmountError> {
    let exact = ratio
        .scale(quantity.value())
        .filter(|exact| *exact < AMOUNT_LIMIT)
        .ok_or(AmountError::TooLarge { field: "shares" })?;
    let whole = exact.trunc();
    Ok((whole, exact - whole))
}

/// The cash paid for the fraction of a share that `ratio` leaves of `quantity` beyond `whole`
/// new shares, at `price`, half-even to the cash scale.
///
/// The fraction is `left / from` of a share, `left = quantity × to − whole × from`. As a decimal
/// it is cut at 28 digits unless `from` has no prime factor but 2 and 5 (1/6 = 0.1666…67), and
/// the cut moves a product that sits on a half cent off it: 1/6 × 1.23 is 0.205, 0.20
/// half-even, but 0.1666…67 × 1.23 = 0.2050…041 rounds to 0.21. So the cash is rounded from
/// its exact value: `left × price` in units of the cash scale is divided by `from` once, in
/// whole units, and the remainder decides the rounding.
fn paid_for(
    quantity: Quantity,
    ratio: Ratio,
    whole: Decimal,
    price: Price,
    currency: Currency,
) -> Result<Money, AmountError> {
    let too_large = || AmountError::TooLarge {
        field: "cash in lieu",
    };
    let from = Decimal::from(ratio.from);
    let unit = Decimal::new(1, currency.scale());
    // `from` times the cash, in units of the cash scale: exact, no division yet.
    let dividend = quantity
        .value()
        .checked_mul(Decimal::from(ratio.to))
        .zip(whole.checked_mul(from))
        .and_then(|(scaled, kept)| scaled.checked_sub(kept))
        .and_then(|left| left.checked_mul(price.value()))
        .and_then(|cash| cash.checked_mul(Decimal::from(10_u64.pow(currency.scale()))))
        .ok_or_else(too_large)?;
    let remainder = dividend.checked_rem(from).ok_or_else(too_large)?;
    // A whole number: `dividend − remainder` is a multiple of `from`.
    let units = (dividend - remainder)
        .checked_div(from)
        .ok_or_else(too_large)?;
    let half_up = match (remainder * Decimal::TWO).cmp(&from) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => !(units % Decimal::TWO).is_zero(),
    };
    let units = if half_up { units + Decimal::ONE } else { units };
    Money::round_half_even(units * unit, currency)
}

/// `holding` after `from` shares become `to` (a split or a reverse split), the cost basis
/// preserved; a fraction left is removed and paid at `fraction_price`. Blocked shares scale
/// down to whole shares too, so an open SELL never blocks a fraction.
///
/// # Errors
/// [`AmountError::TooLarge`] when a number leaves the wallet's range.
pub fn split(
    holding: Holding,
    ratio: Ratio,
    fraction_price: Price,
    currency: Currency,
) -> Result<Adjusted, AmountError> {
    let too_large = || AmountError::TooLarge { field: "split" };
    let (whole, fraction) = scaled_shares(holding.quantity, ratio)?;
    let (blocked, _) = scaled_shares(holding.blocked_quantity, ratio)?;
    let cost = holding
        .quantity
        .value()
        .checked_mul(holding.average_price.value())
        .ok_or_else(too_large)?;
    // The fraction leaves with its share of the cost; the whole shares keep the rest.
    let exact = whole + fraction;
    let kept_cost = if exact.is_zero() {
        Decimal::ZERO
    } else {
        cost.checked_mul(whole)
            .and_then(|part| part.checked_div(exact))
            .ok_or_else(too_large)?
    };
    let whole = Quantity::from_stored(whole.normalize());
    Ok(Adjusted {
        quantity: whole,
        blocked_quantity: Quantity::from_stored(blocked.min(whole.value()).normalize()),
        average_price: Price::weighted_average(
            Quantity::ZERO,
            Price::ZERO,
            whole,
            Money::from_stored(kept_cost),
        )?,
        fraction: fraction.normalize(),
        cash_in_lieu: paid_for(
            holding.quantity,
            ratio,
            whole.value(),
            fraction_price,
            currency,
        )?,
    })
}

/// `holding` after a bonus issue of `to` new shares for every `from` held, each new share
/// costing `cost_per_share` (the cost the tax rule assigns); a fraction of a new share is paid
/// at `fraction_price`. Blocked shares do not change: an open SELL sells the shares it named.
///
/// # Errors
/// [`AmountError::TooLarge`] when a number leaves the wallet's range.
pub fn bonus(
    holding: Holding,
    ratio: Ratio,
    cost_per_share: Price,
    fraction_price: Price,
    currency: Currency,
) -> Result<Adjusted, AmountError> {
    let (new_shares, fraction) = scaled_shares(holding.quantity, ratio)?;
    let new_shares = Quantity::from_stored(new_shares.normalize());
    let added_cost = new_shares
        .value()
        .checked_mul(cost_per_share.value())
        .ok_or(AmountError::TooLarge {
            field: "bonus cost",
        })?;
    Ok(Adjusted {
        quantity: holding.quantity.checked_add(new_shares)?,
        blocked_quantity: holding.blocked_quantity,
        average_price: Price::weighted_average(
            holding.quantity,
            holding.average_price,
            new_shares,
            Money::from_stored(added_cost),
        )?,
        fraction: fraction.normalize(),
        cash_in_lieu: paid_for(
            holding.quantity,
            ratio,
            new_shares.value(),
            fraction_price,
            currency,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn holding(quantity: &str, blocked: &str, average: &str) -> Holding {
        Holding {
            quantity: Quantity::from_stored(dec(quantity)),
            blocked_quantity: Quantity::from_stored(dec(blocked)),
            average_price: Price::from_stored(dec(average)),
        }
    }

    fn price(text: &str) -> Price {
        Price::from_stored(dec(text))
    }

    #[test]
    fn ratios_are_whole_numbers_in_range_and_in_the_right_direction() {
        assert_eq!(
            Ratio::parse("1:2")
                .unwrap()
                .increasing()
                .unwrap()
                .shares_after(),
            2
        );
        assert_eq!(
            Ratio::parse("10:1")
                .unwrap()
                .decreasing()
                .unwrap()
                .shares_before(),
            10
        );
        for bad in [
            "",
            "1",
            "1:",
            ":2",
            "0:1",
            "1:0",
            "1.5:2",
            "-1:2",
            "+1:2",
            "1:2:3",
            "1:1000001",
        ] {
            assert!(Ratio::parse(bad).is_err(), "{bad}");
        }
        assert!(Ratio::parse("2:1").unwrap().increasing().is_err());
        assert_eq!(
            Ratio::parse("1:2")
                .unwrap()
                .decreasing()
                .unwrap_err()
                .to_string(),
            "ratio 1:2 does not remove shares"
        );
    }

    #[test]
    fn a_dividend_and_a_jcp_with_withholding_worked_out() {
        // 350 shares × 0.4567 = 159.845 → 159.84 (half-even).
        let dividend = cash_entitlement(
            Quantity::from_stored(dec("350")),
            price("0.4567"),
            Decimal::ZERO,
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(
            (
                dividend.gross.value(),
                dividend.withheld.value(),
                dividend.net.value()
            ),
            (dec("159.84"), dec("0"), dec("159.84"))
        );
        // JCP: 350 × 0.8125 = 284.375 → 284.38 gross; 15 % = 42.657 → 42.66 withheld.
        let jcp = cash_entitlement(
            Quantity::from_stored(dec("350")),
            price("0.8125"),
            JCP_WITHHOLDING_DEFAULT,
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(
            (jcp.gross.value(), jcp.withheld.value(), jcp.net.value()),
            (dec("284.38"), dec("42.66"), dec("241.72"))
        );
    }

    #[test]
    fn a_split_preserves_the_cost_basis_and_scales_blocked_shares() {
        // 1:2 on 150 shares at 38.55 (40 blocked by an open SELL).
        let after = split(
            holding("150", "40", "38.55"),
            Ratio::parse("1:2").unwrap(),
            price("0"),
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(after.quantity.value(), dec("300"));
        assert_eq!(after.blocked_quantity.value(), dec("80"));
        assert_eq!(after.average_price.value(), dec("19.275"));
        assert_eq!(
            (after.fraction, after.cash_in_lieu.value()),
            (dec("0"), dec("0"))
        );
    }

    #[test]
    fn a_reverse_split_pays_the_fraction_in_cash() {
        // 10:1 on 105 shares at 2.10: 10.5 → 10 shares, the 0.5 paid at 19.87 = 9.935 → 9.94.
        let after = split(
            holding("105", "0", "2.10"),
            Ratio::parse("10:1").unwrap(),
            price("19.87"),
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(after.quantity.value(), dec("10"));
        assert_eq!(after.fraction, dec("0.5"));
        assert_eq!(after.cash_in_lieu.value(), dec("9.94"));
        // The 10 whole shares keep 10/10.5 of the 220.50 cost: 210.00, 21.00 each.
        assert_eq!(after.average_price.value(), dec("21"));
        // A holder of fewer shares than the ratio is left with cash only.
        let gone = split(
            holding("7", "0", "2.10"),
            Ratio::parse("10:1").unwrap(),
            price("19.87"),
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(
            (gone.quantity.value(), gone.average_price.value()),
            (dec("0"), dec("0"))
        );
        assert_eq!(gone.cash_in_lieu.value(), dec("13.91"));
    }

    #[test]
    fn a_fraction_that_is_no_finite_decimal_is_paid_half_even_on_its_exact_value() {
        // 6:1 on 193 shares: 32 shares and 1/6 of a share, paid at 1.23: exactly 0.205, a half
        // cent, so 0.20 half-even (not 0.21 from 0.1666…67 × 1.23 = 0.2050…041).
        let after = split(
            holding("193", "0", "10.00"),
            Ratio::parse("6:1").unwrap(),
            price("1.23"),
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(after.quantity.value(), dec("32"));
        assert_eq!(after.cash_in_lieu.value(), dec("0.20"));
        // 5/6 × 1.23 = 1.025 → 1.02, and 3:1 leaving 2/3 × 0.01 = 0.00666… → 0.01.
        let five_sixths = split(
            holding("35", "0", "10.00"),
            Ratio::parse("6:1").unwrap(),
            price("1.23"),
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(five_sixths.cash_in_lieu.value(), dec("1.02"));
        let two_thirds = split(
            holding("2", "0", "10.00"),
            Ratio::parse("3:1").unwrap(),
            price("0.01"),
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(two_thirds.cash_in_lieu.value(), dec("0.01"));
    }

    #[test]
    fn bonus_shares_add_their_cost_and_keep_blocked_shares() {
        // 10:1 on 105 shares at 20.00: 10 new shares at a cost of 8.50, the half share paid at
        // 18.00; (2,100.00 + 85.00) / 115.
        let after = bonus(
            holding("105", "5", "20.00"),
            Ratio::parse("10:1").unwrap(),
            price("8.50"),
            price("18.00"),
            Currency::BRL,
        )
        .unwrap();
        assert_eq!(after.quantity.value(), dec("115"));
        assert_eq!(after.blocked_quantity.value(), dec("5"));
        assert_eq!(after.average_price.value(), dec("19.0"));
        assert_eq!(
            (after.fraction, after.cash_in_lieu.value()),
            (dec("0.5"), dec("9"))
        );
    }
}
