//! The corporate-action parser on arbitrary bytes: never a panic, and whatever it accepts keeps
//! its promises (a split adds shares, a reverse split removes them, a payment is never before
//! its record or effective date, a withholding rate is below 100 %).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use wallet_domain::corporate_actions::{ActionTerms, CorporateAction};

fuzz_target!(|bytes: &[u8]| {
    let Ok(action) = CorporateAction::parse(bytes) else {
        return;
    };
    assert!(!action.id.is_empty(), "{action:?}");
    match action.terms {
        ActionTerms::CashDividend {
            record_date,
            payment_date,
            ..
        } => assert!(payment_date >= record_date),
        ActionTerms::InterestOnEquity {
            withholding_rate,
            record_date,
            payment_date,
            ..
        } => {
            assert!(payment_date >= record_date);
            assert!(withholding_rate >= Decimal::ZERO && withholding_rate < Decimal::ONE);
        }
        ActionTerms::Split { ratio, .. } => assert!(ratio.shares_after() > ratio.shares_before()),
        ActionTerms::ReverseSplit {
            ratio,
            effective_date,
            payment_date,
            ..
        } => {
            assert!(ratio.shares_after() < ratio.shares_before());
            assert!(payment_date >= effective_date);
        }
        ActionTerms::BonusShares { .. } => {}
    }
});
