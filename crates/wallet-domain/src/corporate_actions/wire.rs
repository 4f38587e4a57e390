//! The stored form of a corporate action: its wire format written back, decimals as strings.

use super::Ratio;
use super::event::{ActionTerms, CorporateAction};
use crate::amount::Price;

impl ActionTerms {
    /// The action's `type` on the wire.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            ActionTerms::CashDividend { .. } => "CASH_DIVIDEND",
            ActionTerms::InterestOnEquity { .. } => "INTEREST_ON_EQUITY",
            ActionTerms::Split { .. } => "SPLIT",
            ActionTerms::ReverseSplit { .. } => "REVERSE_SPLIT",
            ActionTerms::BonusShares { .. } => "BONUS_SHARES",
        }
    }
}

impl CorporateAction {
    /// The action in its wire format, decimals as strings: what the store keeps and
    /// [`CorporateAction::parse`] reads back into an equal action.
    #[must_use]
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// [`CorporateAction::to_json`] as a JSON value, for answers that embed it.
    #[must_use]
    pub fn to_json_value(&self) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        let mut put = |key: &str, value: String| {
            object.insert(key.to_owned(), serde_json::Value::String(value));
        };
        put("id", self.id.clone());
        put("type", self.terms.type_name().to_owned());
        put("ticker", self.ticker.as_str().to_owned());
        let decimal = |price: &Price| price.value().normalize().to_string();
        let ratio = |ratio: &Ratio| format!("{}:{}", ratio.shares_before(), ratio.shares_after());
        match &self.terms {
            ActionTerms::CashDividend {
                amount_per_share,
                record_date,
                payment_date,
            } => {
                put("amountPerShare", decimal(amount_per_share));
                put("recordDate", record_date.to_string());
                put("paymentDate", payment_date.to_string());
            }
            ActionTerms::InterestOnEquity {
                amount_per_share,
                withholding_rate,
                record_date,
                payment_date,
            } => {
                put("amountPerShare", decimal(amount_per_share));
                put("withholdingRate", withholding_rate.normalize().to_string());
                put("recordDate", record_date.to_string());
                put("paymentDate", payment_date.to_string());
            }
            ActionTerms::Split {
                ratio: r,
                effective_date,
            } => {
                put("ratio", ratio(r));
                put("effectiveDate", effective_date.to_string());
            }
            ActionTerms::ReverseSplit {
                ratio: r,
                effective_date,
                fraction_price,
                payment_date,
            } => {
                put("ratio", ratio(r));
                put("effectiveDate", effective_date.to_string());
                put("fractionPrice", decimal(fraction_price));
                put("paymentDate", payment_date.to_string());
            }
            ActionTerms::BonusShares {
                ratio: r,
                cost_per_share,
                effective_date,
                fraction_price,
                payment_date,
            } => {
                put("ratio", ratio(r));
                put("costPerShare", decimal(cost_per_share));
                put("effectiveDate", effective_date.to_string());
                if let Some(price) = fraction_price {
                    put("fractionPrice", decimal(price));
                }
                if let Some(date) = payment_date {
                    put("paymentDate", date.to_string());
                }
            }
        }
        serde_json::Value::Object(object)
    }
}

impl super::ActionRecord {
    /// Why another action under this one's id is refused, with the terms that stand.
    #[must_use]
    pub fn conflict_detail(&self) -> String {
        format!(
            "corporate action {} is stored with other terms: {}",
            self.action.id,
            self.action.to_json()
        )
    }
}
