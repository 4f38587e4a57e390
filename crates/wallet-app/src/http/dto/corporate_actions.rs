//! The JSON shapes of corporate actions: an action with its progress, and the cash one owes a
//! holder until its payment date.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use wallet_domain::Currency;
use wallet_domain::corporate_actions::{ActionRecord, Entitlement};

use super::cash;

/// A corporate action and how far it got.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorporateActionResponse {
    /// The action's id.
    #[schema(example = "PETR4-2027-JCP-1")]
    pub id: String,
    /// `CASH_DIVIDEND`, `INTEREST_ON_EQUITY`, `SPLIT`, `REVERSE_SPLIT` or `BONUS_SHARES`.
    #[serde(rename = "type")]
    #[schema(example = "INTEREST_ON_EQUITY")]
    pub action_type: String,
    /// The stock.
    #[schema(example = "PETR4")]
    pub ticker: String,
    /// `WAITING` (for its record or effective date), `PAYING` (entitlements recorded, paid on
    /// the payment date), `COMPLETED` or `FAILED` (see `failure`).
    #[schema(example = "PAYING")]
    pub status: String,
    /// Holders the action changed or owes cash.
    #[schema(example = 3)]
    pub holders_affected: u64,
    /// Cash owed, net of tax, as recorded so far.
    #[schema(example = "241.72")]
    pub cash_owed: String,
    /// Cash credited so far, net of tax.
    #[schema(example = "0.00")]
    pub cash_paid: String,
    /// Income tax withheld so far.
    #[schema(example = "0.00")]
    pub tax_withheld: String,
    /// Net change of shares across holders.
    #[schema(example = "0")]
    pub shares_delta: String,
    /// The action as stored, in the topic's format.
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// When its last batch was applied.
    pub updated_at: DateTime<Utc>,
    /// When it completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed: a holder's cash or shares would have left the wallet's range.
    pub failure: Option<String>,
}

impl CorporateActionResponse {
    /// `record`, its cash in `currency` (the wallet's default, in which actions pay).
    #[must_use]
    pub fn new(record: &ActionRecord, currency: Currency) -> Self {
        CorporateActionResponse {
            id: record.action.id.clone(),
            action_type: record.action.terms.type_name().to_owned(),
            ticker: record.action.ticker.as_str().to_owned(),
            status: record.stage.as_str().to_owned(),
            holders_affected: record.holders,
            cash_owed: cash(record.cash_owed, currency),
            cash_paid: cash(record.cash_paid, currency),
            tax_withheld: cash(record.tax_withheld, currency),
            shares_delta: record.shares_delta.normalize().to_string(),
            action: record.action.to_json_value(),
            received_at: record.received_at,
            updated_at: record.updated_at,
            completed_at: record.completed_at,
            failure: record.failure.clone(),
        }
    }
}

/// Cash a corporate action owes the account.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceivableResponse {
    /// The action.
    #[schema(example = "PETR4-2027-JCP-1")]
    pub action_id: String,
    /// When it is paid.
    #[schema(value_type = String, format = Date, example = "2027-05-20")]
    pub payment_date: NaiveDate,
    /// Shares it is owed for.
    #[schema(example = "350")]
    pub quantity: String,
    /// Before tax.
    #[schema(example = "284.38")]
    pub gross_amount: String,
    /// Income tax withheld at source.
    #[schema(example = "42.66")]
    pub tax_withheld: String,
    /// What will be credited.
    #[schema(example = "241.72")]
    pub net_amount: String,
}

impl ReceivableResponse {
    pub(super) fn list(entitlements: &[Entitlement], currency: Currency) -> Vec<Self> {
        entitlements
            .iter()
            .map(|entitlement| ReceivableResponse {
                action_id: entitlement.action_id.clone(),
                payment_date: entitlement.payment_date,
                quantity: entitlement.quantity.value().normalize().to_string(),
                gross_amount: cash(entitlement.gross.value(), currency),
                tax_withheld: cash(entitlement.withheld.value(), currency),
                net_amount: cash(entitlement.net(), currency),
            })
            .collect()
    }
}
