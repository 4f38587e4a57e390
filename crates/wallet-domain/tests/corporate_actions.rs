//! Property tests of the corporate-action rules: no input panics; a split or reverse split
//! conserves shares (whole shares plus the fraction paid are the old quantity times the ratio)
//! and cost (the average price times the whole shares is the old cost less the fraction's
//! share, to the rounding of the average); blocked shares never exceed held ones; bonus shares
//! add exactly their tax cost; cash entitlements add up (net + withheld = gross).

use proptest::prelude::*;
use rust_decimal::Decimal;
use wallet_domain::corporate_actions::{
    Holding, JCP_WITHHOLDING_DEFAULT, Ratio, bonus, cash_entitlement, split,
};
use wallet_domain::{Currency, Price, Quantity};

fn holding() -> impl Strategy<Value = Holding> {
    (1..2_000_000_i64, 0..=100_u8, 1..10_000_000_i64).prop_map(
        |(quantity, blocked_percent, cents)| {
            let quantity = Decimal::from(quantity);
            Holding {
                quantity: Quantity::from_stored(quantity),
                blocked_quantity: Quantity::from_stored(
                    (quantity * Decimal::from(blocked_percent) / Decimal::ONE_HUNDRED).trunc(),
                ),
                average_price: Price::from_stored(Decimal::new(cents, 2)),
            }
        },
    )
}

fn ratio() -> impl Strategy<Value = Ratio> {
    (1..=1_000_u32, 1..=1_000_u32)
        .prop_map(|(from, to)| Ratio::parse(&format!("{from}:{to}")).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn ratio_parsing_never_panics(text in "\\PC{0,20}") {
        if let Ok(ratio) = Ratio::parse(&text) {
            let again = Ratio::parse(&format!("{}:{}", ratio.shares_before(), ratio.shares_after()));
            prop_assert_eq!(again, Ok(ratio));
        }
    }

    #[test]
    fn splits_conserve_shares_and_cost(held in holding(), ratio in ratio(), fraction_cents in 0..100_000_i64) {
        let fraction_price = Price::from_stored(Decimal::new(fraction_cents, 2));
        let after = split(held, ratio, fraction_price, Currency::BRL).unwrap();
        let exact = held.quantity.value() * Decimal::from(ratio.shares_after()) / Decimal::from(ratio.shares_before());
        prop_assert_eq!(after.quantity.value() + after.fraction, exact);
        prop_assert!(after.fraction < Decimal::ONE && after.quantity.value().fract().is_zero());
        prop_assert!(after.blocked_quantity <= after.quantity);
        let cost = held.quantity.value() * held.average_price.value();
        let kept = after.average_price.value() * after.quantity.value();
        let fraction_cost = cost * after.fraction / exact;
        // The average is rounded to 1e-8 per share; the fraction's cost is a quotient of
        // 28 digits.
        let tolerance = after.quantity.value() * Decimal::new(5, 9) + Decimal::new(1, 12);
        prop_assert!((kept + fraction_cost - cost).abs() <= tolerance, "{} + {} vs {}", kept, fraction_cost, cost);
    }

    #[test]
    fn bonus_shares_add_their_cost(held in holding(), ratio in ratio(), cost_cents in 0..10_000_i64) {
        let cost_per_share = Price::from_stored(Decimal::new(cost_cents, 2));
        let after = bonus(held, ratio, cost_per_share, Price::from_stored(Decimal::ONE), Currency::BRL).unwrap();
        let new_shares = after.quantity.value() - held.quantity.value();
        prop_assert!(new_shares >= Decimal::ZERO && new_shares.fract().is_zero());
        prop_assert_eq!(after.blocked_quantity, held.blocked_quantity);
        let cost = held.quantity.value() * held.average_price.value() + new_shares * cost_per_share.value();
        let tolerance = after.quantity.value() * Decimal::new(5, 9);
        prop_assert!((after.average_price.value() * after.quantity.value() - cost).abs() <= tolerance);
    }

    #[test]
    fn cash_entitlements_add_up(quantity in 1..10_000_000_i64, per_share in 1..100_000_000_i64, withhold in any::<bool>()) {
        let rate = if withhold { JCP_WITHHOLDING_DEFAULT } else { Decimal::ZERO };
        let cash = cash_entitlement(
            Quantity::from_stored(Decimal::from(quantity)),
            Price::from_stored(Decimal::new(per_share, 8)),
            rate,
            Currency::BRL,
        ).unwrap();
        prop_assert_eq!(cash.net.value() + cash.withheld.value(), cash.gross.value());
        prop_assert!(cash.gross.value().scale() <= 2 && cash.withheld <= cash.gross);
        let exact = Decimal::from(quantity) * Decimal::new(per_share, 8);
        prop_assert!((cash.gross.value() - exact).abs() <= Decimal::new(5, 3));
    }
}
