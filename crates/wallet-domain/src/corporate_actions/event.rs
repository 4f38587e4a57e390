//! Corporate actions as they arrive (the `corporate-actions-v1` topic, key = the ticker, and the
//! admin endpoint): one JSON object, parsed into checked terms at the edge, or a [`Rejection`]
//! whose reason becomes the dead-letter reason.
//!
//! ```json
//! {"id":"PETR4-2027-JCP-1","type":"INTEREST_ON_EQUITY","ticker":"PETR4",
//!  "amountPerShare":"0.8125","withholdingRate":"0.15",
//!  "recordDate":"2027-04-30","paymentDate":"2027-05-20"}
//! ```
//!
//! Amounts are read from the JSON text (numbers or strings), never through a binary float.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{JCP_WITHHOLDING_DEFAULT, Ratio};
use crate::amount::{Price, parse_decimal};
use crate::dead_letter::{DeadLetterReason, Rejection};
use crate::ids::Ticker;
use crate::order_event::{missing, scalar_text};
use crate::settlement::is_iso_date_shape;

/// Longest corporate-action id.
pub const ACTION_ID_LENGTH_MAX: usize = 64;

/// What a corporate action does, with the data it needs, proven by the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionTerms {
    /// Cash per share to the holders at the end of `record_date`, paid on `payment_date`.
    CashDividend {
        /// Cash per entitled share.
        amount_per_share: Price,
        /// Holders at the end of this date are entitled.
        record_date: NaiveDate,
        /// When the cash is credited.
        payment_date: NaiveDate,
    },
    /// Interest on equity (JCP): cash per share, less income tax withheld at source.
    InterestOnEquity {
        /// Gross cash per entitled share.
        amount_per_share: Price,
        /// Fraction withheld, in [0, 1); 15 % when the event names none.
        withholding_rate: Decimal,
        /// Holders at the end of this date are entitled.
        record_date: NaiveDate,
        /// When the cash is credited.
        payment_date: NaiveDate,
    },
    /// One share becomes `to`.
    Split {
        /// The ratio, `1:to` with `to` > 1.
        ratio: Ratio,
        /// The first day the new quantity trades.
        effective_date: NaiveDate,
    },
    /// `from` shares become `to`, fewer of them; fractions are paid in cash.
    ReverseSplit {
        /// The ratio, decreasing.
        ratio: Ratio,
        /// The first day the new quantity trades.
        effective_date: NaiveDate,
        /// Cash per (new) share paid for a fraction.
        fraction_price: Price,
        /// When fractions are paid.
        payment_date: NaiveDate,
    },
    /// `to` new shares for every `from` held, each at the cost the tax rule assigns.
    BonusShares {
        /// New shares per shares held.
        ratio: Ratio,
        /// Cost basis of each new share.
        cost_per_share: Price,
        /// The first day the new shares trade.
        effective_date: NaiveDate,
        /// Cash per new share paid for a fraction; the cost per share when the event names
        /// none.
        fraction_price: Option<Price>,
        /// When fractions are paid; the effective date when the event names none.
        payment_date: Option<NaiveDate>,
    },
}

/// One corporate action of a company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorporateAction {
    /// The issuer's or the broker's id of the action: applying it twice applies it once.
    pub id: String,
    /// The stock it concerns.
    pub ticker: Ticker,
    /// What it does.
    pub terms: ActionTerms,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAction<'a> {
    id: Option<String>,
    #[serde(rename = "type")]
    action_type: Option<String>,
    ticker: Option<String>,
    #[serde(borrow)]
    amount_per_share: Option<&'a RawValue>,
    #[serde(borrow)]
    withholding_rate: Option<&'a RawValue>,
    ratio: Option<String>,
    record_date: Option<String>,
    payment_date: Option<String>,
    effective_date: Option<String>,
    #[serde(borrow)]
    fraction_price: Option<&'a RawValue>,
    #[serde(borrow)]
    cost_per_share: Option<&'a RawValue>,
}

fn rejection(reason: DeadLetterReason, detail: impl Into<String>) -> Rejection {
    Rejection::new(reason, detail)
}

fn date(field: &str, value: Option<&str>) -> Result<NaiveDate, Rejection> {
    let text = value.ok_or_else(|| missing(field))?;
    is_iso_date_shape(text)
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            rejection(
                DeadLetterReason::InvalidDate,
                format!(
                    "{field} `{}` is not a date (YYYY-MM-DD)",
                    text.chars().take(40).collect::<String>()
                ),
            )
        })
}

fn price(field: &'static str, raw: Option<&RawValue>) -> Result<Price, Rejection> {
    let text = scalar_text(field, raw)?.ok_or_else(|| missing(field))?;
    Price::parse(field, &text)
        .map_err(|error| rejection(DeadLetterReason::invalid_field(field), error.to_string()))
}

fn ratio(value: Option<&str>, increasing: bool) -> Result<Ratio, Rejection> {
    let invalid =
        |error: super::RatioError| rejection(DeadLetterReason::InvalidRatio, error.to_string());
    let parsed = Ratio::parse(value.ok_or_else(|| missing("ratio"))?).map_err(invalid)?;
    if increasing {
        parsed.increasing().map_err(invalid)
    } else {
        parsed.decreasing().map_err(invalid)
    }
}

fn withholding(raw: Option<&RawValue>) -> Result<Decimal, Rejection> {
    let Some(text) = scalar_text("withholdingRate", raw)? else {
        return Ok(JCP_WITHHOLDING_DEFAULT);
    };
    let rate = parse_decimal("withholdingRate", &text)
        .map_err(|error| rejection(DeadLetterReason::ContradictoryAction, error.to_string()))?;
    if rate.is_sign_negative() || rate >= Decimal::ONE {
        return Err(rejection(
            DeadLetterReason::ContradictoryAction,
            format!("withholdingRate {rate} must be in [0, 1)"),
        ));
    }
    Ok(rate)
}

/// `second` not before `first`.
fn in_order(
    (first_field, first): (&str, NaiveDate),
    (second_field, second): (&str, NaiveDate),
) -> Result<(), Rejection> {
    if second < first {
        return Err(rejection(
            DeadLetterReason::ContradictoryAction,
            format!("{second_field} {second} is before {first_field} {first}"),
        ));
    }
    Ok(())
}

impl CorporateAction {
    /// Parses the value bytes of a `corporate-actions-v1` record or an admin request body.
    ///
    /// # Errors
    /// A [`Rejection`]: bad UTF-8, JSON that is not one object (duplicate keys included), a
    /// missing field, an unknown type, an invalid id, ticker, amount, ratio or date, or fields
    /// that contradict each other. Only the fields the type acts on are read.
    pub fn parse(bytes: &[u8]) -> Result<CorporateAction, Rejection> {
        let text = std::str::from_utf8(bytes).map_err(|error| {
            rejection(
                DeadLetterReason::InvalidEncoding,
                format!("value is not UTF-8: {error}"),
            )
        })?;
        if !text.trim_start().starts_with('{') {
            return Err(rejection(
                DeadLetterReason::InvalidJson,
                "the value must be a JSON object",
            ));
        }
        let raw: RawAction<'_> = serde_json::from_str(text)
            .map_err(|error| rejection(DeadLetterReason::InvalidJson, error.to_string()))?;
        let id = raw.id.as_deref().ok_or_else(|| missing("id"))?;
        let valid_id = !id.is_empty()
            && id.len() <= ACTION_ID_LENGTH_MAX
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if !valid_id {
            return Err(rejection(
                DeadLetterReason::InvalidActionId,
                format!(
                    "id must be 1-{ACTION_ID_LENGTH_MAX} letters, digits, '.', '_', ':' or '-'"
                ),
            ));
        }
        let ticker = Ticker::parse(raw.ticker.as_deref().ok_or_else(|| missing("ticker"))?)
            .map_err(|error| rejection(DeadLetterReason::InvalidTicker, error.to_string()))?;
        let terms = terms(&raw)?;
        Ok(CorporateAction {
            id: id.to_owned(),
            ticker,
            terms,
        })
    }
}

fn terms(raw: &RawAction<'_>) -> Result<ActionTerms, Rejection> {
    let kind = raw.action_type.as_deref().ok_or_else(|| missing("type"))?;
    let record_and_payment = || -> Result<(NaiveDate, NaiveDate), Rejection> {
        let record = date("recordDate", raw.record_date.as_deref())?;
        let payment = date("paymentDate", raw.payment_date.as_deref())?;
        in_order(("recordDate", record), ("paymentDate", payment))?;
        Ok((record, payment))
    };
    let effective = || date("effectiveDate", raw.effective_date.as_deref());
    Ok(match kind {
        "CASH_DIVIDEND" => {
            let (record_date, payment_date) = record_and_payment()?;
            ActionTerms::CashDividend {
                amount_per_share: price("amountPerShare", raw.amount_per_share)?,
                record_date,
                payment_date,
            }
        }
        "INTEREST_ON_EQUITY" => {
            let (record_date, payment_date) = record_and_payment()?;
            ActionTerms::InterestOnEquity {
                amount_per_share: price("amountPerShare", raw.amount_per_share)?,
                withholding_rate: withholding(raw.withholding_rate)?,
                record_date,
                payment_date,
            }
        }
        "SPLIT" => {
            let ratio = ratio(raw.ratio.as_deref(), true)?;
            // A split pays no fractions: 1:n leaves none, 2:3 would leave half shares.
            if ratio.shares_before() != 1 {
                return Err(rejection(
                    DeadLetterReason::InvalidRatio,
                    format!(
                        "a SPLIT is 1:n; {}:{} leaves fractions, which a split cannot pay",
                        ratio.shares_before(),
                        ratio.shares_after()
                    ),
                ));
            }
            ActionTerms::Split {
                ratio,
                effective_date: effective()?,
            }
        }
        "REVERSE_SPLIT" => {
            let effective_date = effective()?;
            let payment_date = date("paymentDate", raw.payment_date.as_deref())?;
            in_order(
                ("effectiveDate", effective_date),
                ("paymentDate", payment_date),
            )?;
            ActionTerms::ReverseSplit {
                ratio: ratio(raw.ratio.as_deref(), false)?,
                effective_date,
                fraction_price: price("fractionPrice", raw.fraction_price)?,
                payment_date,
            }
        }
        "BONUS_SHARES" => {
            let effective_date = effective()?;
            let payment_date = raw
                .payment_date
                .as_deref()
                .map(|text| date("paymentDate", Some(text)))
                .transpose()?;
            if let Some(payment_date) = payment_date {
                in_order(
                    ("effectiveDate", effective_date),
                    ("paymentDate", payment_date),
                )?;
            }
            ActionTerms::BonusShares {
                ratio: Ratio::parse(raw.ratio.as_deref().ok_or_else(|| missing("ratio"))?)
                    .map_err(|error| {
                        rejection(DeadLetterReason::InvalidRatio, error.to_string())
                    })?,
                cost_per_share: price("costPerShare", raw.cost_per_share)?,
                effective_date,
                // An optional field given as `null` is not given.
                fraction_price: raw
                    .fraction_price
                    .filter(|raw| raw.get().trim() != "null")
                    .map(|raw| price("fractionPrice", Some(raw)))
                    .transpose()?,
                payment_date,
            }
        }
        other => {
            return Err(rejection(
                DeadLetterReason::UnknownActionType,
                format!(
                    "type `{}` is not CASH_DIVIDEND, INTEREST_ON_EQUITY, SPLIT, REVERSE_SPLIT or \
                     BONUS_SHARES",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<CorporateAction, Rejection> {
        CorporateAction::parse(json.as_bytes())
    }

    fn reason(json: &str) -> &'static str {
        parse(json).unwrap_err().reason.as_str()
    }

    #[test]
    fn each_type_is_read_with_its_terms() {
        let jcp = parse(
            r#"{"id":"PETR4-2027-JCP-1","type":"INTEREST_ON_EQUITY","ticker":"petr4",
                "amountPerShare":0.8125,"recordDate":"2027-04-30","paymentDate":"2027-05-20"}"#,
        )
        .unwrap();
        assert_eq!(jcp.ticker.as_str(), "PETR4");
        let ActionTerms::InterestOnEquity {
            amount_per_share,
            withholding_rate,
            ..
        } = jcp.terms
        else {
            panic!("{jcp:?}");
        };
        assert_eq!(amount_per_share.value(), "0.8125".parse().unwrap());
        assert_eq!(withholding_rate, JCP_WITHHOLDING_DEFAULT);
        let reverse = parse(
            r#"{"id":"R1","type":"REVERSE_SPLIT","ticker":"OIBR3","ratio":"10:1",
                "effectiveDate":"2027-06-01","fractionPrice":"19.87","paymentDate":"2027-06-10"}"#,
        )
        .unwrap();
        assert!(
            matches!(reverse.terms, ActionTerms::ReverseSplit { ratio, .. } if ratio.shares_before() == 10)
        );
        assert!(parse(r#"{"id":"S1","type":"SPLIT","ticker":"VALE3","ratio":"1:2","effectiveDate":"2027-06-01"}"#).is_ok());
        assert!(parse(r#"{"id":"B1","type":"BONUS_SHARES","ticker":"ITUB4","ratio":"10:1","costPerShare":"8.50","effectiveDate":"2027-06-01"}"#).is_ok());
        assert!(parse(r#"{"id":"D1","type":"CASH_DIVIDEND","ticker":"ITUB4","amountPerShare":"0.4567","recordDate":"2027-04-30","paymentDate":"2027-04-30"}"#).is_ok());
    }

    #[test]
    fn an_optional_field_given_as_null_is_not_given() {
        let bonus = parse(
            r#"{"id":"B3","type":"BONUS_SHARES","ticker":"ITUB4","ratio":"10:1","costPerShare":"8.5",
                "effectiveDate":"2027-06-01","fractionPrice":null}"#,
        )
        .unwrap();
        assert!(matches!(
            bonus.terms,
            ActionTerms::BonusShares {
                fraction_price: None,
                ..
            }
        ));
    }

    #[test]
    fn the_stored_form_reads_back_into_the_same_action() {
        for json in [
            r#"{"id":"J1","type":"INTEREST_ON_EQUITY","ticker":"PETR4","amountPerShare":0.81250,
                "withholdingRate":"0.15","recordDate":"2027-04-30","paymentDate":"2027-05-20"}"#,
            r#"{"id":"D1","type":"CASH_DIVIDEND","ticker":"ITUB4","amountPerShare":"0.4567",
                "recordDate":"2027-04-30","paymentDate":"2027-05-03"}"#,
            r#"{"id":"S1","type":"SPLIT","ticker":"VALE3","ratio":"1:2","effectiveDate":"2027-06-01"}"#,
            r#"{"id":"R1","type":"REVERSE_SPLIT","ticker":"OIBR3","ratio":"10:1",
                "effectiveDate":"2027-06-01","fractionPrice":"19.87","paymentDate":"2027-06-10"}"#,
            r#"{"id":"B1","type":"BONUS_SHARES","ticker":"ITUB4","ratio":"10:1","costPerShare":"8.5",
                "effectiveDate":"2027-06-01","fractionPrice":"18","paymentDate":"2027-06-08"}"#,
            r#"{"id":"B2","type":"BONUS_SHARES","ticker":"ITUB4","ratio":"10:1","costPerShare":"8.5",
                "effectiveDate":"2027-06-01"}"#,
        ] {
            let action = parse(json).unwrap();
            assert_eq!(parse(&action.to_json()).unwrap(), action, "{json}");
        }
    }

    #[test]
    fn malformed_and_contradictory_actions_are_refused_with_a_reason() {
        let head = r#""id":"X1","ticker":"PETR4""#;
        assert_eq!(reason("[1]"), "INVALID_JSON");
        assert_eq!(
            reason(&format!(r#"{{{head},"type":"MERGER"}}"#)),
            "UNKNOWN_ACTION_TYPE"
        );
        assert_eq!(
            reason(r#"{"id":"a b","type":"SPLIT","ticker":"PETR4"}"#),
            "INVALID_ACTION_ID"
        );
        assert_eq!(
            reason(&format!(
                r#"{{{head},"type":"SPLIT","ratio":"2:1","effectiveDate":"2027-01-04"}}"#
            )),
            "INVALID_RATIO"
        );
        assert_eq!(
            reason(&format!(
                r#"{{{head},"type":"REVERSE_SPLIT","ratio":"1:2","effectiveDate":"2027-01-04","fractionPrice":1,"paymentDate":"2027-01-05"}}"#
            )),
            "INVALID_RATIO"
        );
        // 2:3 would leave half shares, which a split has no price to pay for.
        assert_eq!(
            reason(&format!(
                r#"{{{head},"type":"SPLIT","ratio":"2:3","effectiveDate":"2027-01-04"}}"#
            )),
            "INVALID_RATIO"
        );
        assert_eq!(
            reason(&format!(
                r#"{{{head},"type":"SPLIT","ratio":"1:2","effectiveDate":"80822-1-01"}}"#
            )),
            "INVALID_DATE"
        );
        assert_eq!(
            reason(&format!(
                r#"{{{head},"type":"CASH_DIVIDEND","amountPerShare":1,"recordDate":"2027-05-02","paymentDate":"2027-05-01"}}"#
            )),
            "CONTRADICTORY_ACTION"
        );
        assert_eq!(
            reason(&format!(
                r#"{{{head},"type":"INTEREST_ON_EQUITY","amountPerShare":1,"withholdingRate":1,"recordDate":"2027-05-01","paymentDate":"2027-05-02"}}"#
            )),
            "CONTRADICTORY_ACTION"
        );
        assert_eq!(
            reason(&format!(
                r#"{{{head},"type":"CASH_DIVIDEND","amountPerShare":1e30,"recordDate":"2027-05-01","paymentDate":"2027-05-02"}}"#
            )),
            "INVALID_PRICE"
        );
        assert_eq!(
            reason(&format!(
                r#"{{{head},"type":"CASH_DIVIDEND","recordDate":"2027-05-01","paymentDate":"2027-05-02"}}"#
            )),
            "MISSING_FIELD"
        );
        assert_eq!(
            reason(r#"{"id":"X1","id":"X2","type":"SPLIT","ticker":"PETR4"}"#),
            "INVALID_JSON"
        );
    }
}
