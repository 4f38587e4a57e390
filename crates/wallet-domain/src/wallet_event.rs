//! Outgoing wallet events (SPEC §4 `wallet-events-v1`), written to the outbox in the same
//! transaction as the change they announce.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::amount::Money;
use crate::decimal_text::{decimal_string, push_padded};
use crate::ids::{OrderId, Ticker, UserId};
use crate::ledger::TransactionType;
use crate::text_enum::text_enum;

/// Namespace of the deterministic event ids: the same step always yields the same `eventId`, so
/// a consumer that drops duplicates by id also drops a step re-announced after a crash.
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6b1d_3c9e_5f0a_4e7b_9c2d_8a41_f0e3_b7d2);

/// Kinds of outgoing event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WalletEventType {
    /// Cash blocked for a BUY.
    FundsReserved,
    /// Shares blocked for a SELL.
    AssetsReserved,
    /// A reservation was refused; `reason` says why.
    ReservationRejected,
    /// A fill was settled.
    OrderSettled,
    /// A reservation was released; `reason` is the order status or `EXPIRED`.
    ReservationReleased,
    /// Cash deposited.
    Deposited,
    /// Cash withdrawn.
    Withdrawn,
    /// A fee charged on a fill; `reason` names the fee.
    FeeCharged,
    /// A fill's cash settled on its settlement date.
    CashSettled,
    /// A corporate action changed the account or a position (`reason`: the action's id).
    CorporateActionApplied,
}

text_enum!(WalletEventType {
    FundsReserved => "FUNDS_RESERVED",
    AssetsReserved => "ASSETS_RESERVED",
    ReservationRejected => "RESERVATION_REJECTED",
    OrderSettled => "ORDER_SETTLED",
    ReservationReleased => "RESERVATION_RELEASED",
    Deposited => "DEPOSITED",
    Withdrawn => "WITHDRAWN",
    FeeCharged => "FEE_CHARGED",
    CashSettled => "CASH_SETTLED",
    CorporateActionApplied => "CORPORATE_ACTION_APPLIED",
});

/// One outgoing event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletEvent {
    /// Unique id, derived from the step that produced the event.
    pub event_id: Uuid,
    /// What the wallet did.
    pub event_type: WalletEventType,
    /// The account the step changed (also the Kafka key).
    pub user_id: UserId,
    /// The order, when the event concerns one.
    pub order_id: Option<OrderId>,
    /// The statement line's kind, as the report service reads it.
    pub transaction_type: TransactionType,
    /// The statement line's amount in the currency's scale, with the Java meaning (see
    /// [`crate::ledger::StatementLine::amount`]); `None` where no cash moves.
    pub amount: Option<Decimal>,
    /// The exact signed change of the balance, in the currency's scale.
    pub cash_amount: Decimal,
    /// The instrument, for order events.
    pub ticker: Option<Ticker>,
    /// Shares: ordered (reservations), settled (fills) or released.
    pub quantity: Option<Decimal>,
    /// Why, for rejections and releases.
    pub reason: Option<String>,
    /// The account's balance after the step.
    pub balance_after: Money,
    /// The account's blocked balance after the step.
    pub blocked_balance_after: Money,
    /// When the step happened.
    pub occurred_at: DateTime<Utc>,
}

/// The JSON shape of SPEC §4, decimals as strings: our fields and the ones the broker's
/// report service reads (`transactionType`, `balanceAfter`, `blockedBalanceAfter`,
/// `eventTimestamp`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WalletEventJson<'a> {
    event_id: Uuid,
    #[serde(rename = "type")]
    event_type: &'static str,
    user_id: &'a str,
    order_id: Option<i64>,
    transaction_type: &'static str,
    amount: Option<String>,
    cash_amount: String,
    ticker: Option<&'a str>,
    quantity: Option<String>,
    reason: Option<&'a str>,
    balance_after: String,
    blocked_balance_after: String,
    occurred_at: String,
    event_timestamp: String,
}

/// About the bytes of one event's JSON (380–420 in a throughput run).
pub const EVENT_JSON_BYTES: usize = 512;

/// Jackson's `LocalDateTime` text: ISO local date-time, no offset (the time is UTC).
const LOCAL_DATE_TIME: &str = "%Y-%m-%dT%H:%M:%S%.6f";

impl WalletEvent {
    /// The id of the event announcing `step_key` (see [`crate::LedgerEntry::step_key`]).
    #[must_use]
    pub fn id_for_step(step_key: &str) -> Uuid {
        Uuid::new_v5(&EVENT_ID_NAMESPACE, step_key.as_bytes())
    }

    /// The event as the JSON value published on `wallet-events-v1`.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut json = Vec::with_capacity(EVENT_JSON_BYTES);
        self.write_json(&mut json);
        // serde_json writes UTF-8 only.
        String::from_utf8(json).unwrap_or_default()
    }

    /// Appends [`WalletEvent::to_json`]'s text to `out`: the outbox writes a commit's events
    /// into one buffer, where a `String` per event grew twice on its way to ~380 bytes and was
    /// then copied once more.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let scale = self.cash_amount.scale();
        let cash = |value: Money| {
            let mut value = value.value();
            value.rescale(scale);
            decimal_string(value)
        };
        let (occurred_at, event_timestamp) = event_times(self.occurred_at);
        let json = WalletEventJson {
            event_id: self.event_id,
            event_type: self.event_type.as_str(),
            user_id: self.user_id.as_str(),
            order_id: self.order_id.map(OrderId::get),
            transaction_type: self.transaction_type.as_str(),
            amount: self.amount.map(decimal_string),
            cash_amount: decimal_string(self.cash_amount),
            ticker: self.ticker.as_ref().map(Ticker::as_str),
            quantity: self
                .quantity
                .map(|quantity| decimal_string(quantity.normalize())),
            reason: self.reason.as_deref(),
            balance_after: cash(self.balance_after),
            blocked_balance_after: cash(self.blocked_balance_after),
            occurred_at,
            event_timestamp,
        };
        // Serialising plain strings, numbers and options into memory cannot fail.
        let _ = serde_json::to_writer(out, &json);
    }
}

/// The two texts of an event's instant, exactly as chrono writes them: RFC 3339 in
/// milliseconds with `Z` (`occurredAt`) and Jackson's `LocalDateTime` in microseconds
/// (`eventTimestamp`). Written digit by digit, because chrono's `format` reads its format string
/// again for every value, and every event of a batch needs both; chrono itself writes the rare
/// instants outside years 0–9999 and leap seconds.
fn event_times(at: DateTime<Utc>) -> (String, String) {
    let time = at.naive_utc();
    let nanos = time.nanosecond();
    let Ok(year) = u32::try_from(time.year()) else {
        return chrono_event_times(at);
    };
    if year > 9999 || nanos >= 1_000_000_000 {
        return chrono_event_times(at);
    }
    let mut local = String::with_capacity(26);
    push_padded(&mut local, year, 4);
    for (separator, value) in [
        ('-', time.month()),
        ('-', time.day()),
        ('T', time.hour()),
        (':', time.minute()),
        (':', time.second()),
    ] {
        local.push(separator);
        push_padded(&mut local, value, 2);
    }
    let mut rfc3339 = String::with_capacity(24);
    rfc3339.push_str(&local);
    rfc3339.push('.');
    push_padded(&mut rfc3339, nanos / 1_000_000, 3);
    rfc3339.push('Z');
    local.push('.');
    push_padded(&mut local, nanos / 1_000, 6);
    (rfc3339, local)
}

/// [`event_times`] as chrono writes them.
fn chrono_event_times(at: DateTime<Utc>) -> (String, String) {
    (
        at.to_rfc3339_opts(SecondsFormat::Millis, true),
        at.format(LOCAL_DATE_TIME).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_seconds_and_the_ends_of_time_are_written_as_chrono_writes_them() {
        let leap = chrono::NaiveDate::from_ymd_opt(2026, 12, 8)
            .and_then(|day| day.and_hms_nano_opt(23, 59, 59, 1_000_500_001))
            .map(|time| time.and_utc());
        let year_zero = DateTime::from_timestamp(-62_167_219_200, 0);
        for at in [
            leap,
            year_zero,
            Some(DateTime::<Utc>::MIN_UTC),
            Some(DateTime::<Utc>::MAX_UTC),
        ] {
            let at = at.unwrap();
            assert_eq!(event_times(at), chrono_event_times(at), "{at:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_instant_is_written_as_chrono_writes_it(
            seconds in -70_000_000_000_i64..260_000_000_000,
            nanos in 0_u32..1_000_000_000,
        ) {
            let at = DateTime::from_timestamp(seconds, nanos).unwrap();
            proptest::prop_assert_eq!(event_times(at), chrono_event_times(at));
        }
    }

    #[test]
    fn json_has_the_contract_fields_with_decimal_strings() {
        let event = WalletEvent {
            event_id: WalletEvent::id_for_step("order:1001:RESERVE"),
            event_type: WalletEventType::FundsReserved,
            user_id: UserId::parse("investor-42").unwrap(),
            order_id: Some(OrderId::new(1001).unwrap()),
            transaction_type: TransactionType::Reserve,
            amount: Some(Decimal::from_str_exact("3855.00").unwrap()),
            cash_amount: Decimal::from_str_exact("0.00").unwrap(),
            ticker: Some(Ticker::parse("PETR4").unwrap()),
            quantity: None,
            reason: None,
            balance_after: Money::from_stored(Decimal::from_str_exact("10000").unwrap()),
            blocked_balance_after: Money::from_stored(Decimal::from_str_exact("3855").unwrap()),
            occurred_at: DateTime::from_timestamp_micros(1_777_630_530_123_456).unwrap(),
        };
        let json: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(json["type"], "FUNDS_RESERVED");
        assert_eq!(json["amount"], "3855.00");
        assert_eq!(json["orderId"], 1001);
        assert_eq!(json["userId"], "investor-42");
        assert!(json["reason"].is_null());
        // The report service's fields.
        assert_eq!(json["transactionType"], "RESERVE");
        assert_eq!(json["cashAmount"], "0.00");
        assert_eq!(json["balanceAfter"], "10000.00");
        assert_eq!(json["blockedBalanceAfter"], "3855.00");
        assert_eq!(json["eventTimestamp"], "2026-05-01T10:15:30.123456");
        assert_eq!(json["occurredAt"], "2026-05-01T10:15:30.123Z");
        assert_eq!(json["eventId"], event.event_id.to_string());
        assert_ne!(
            event.event_id,
            WalletEvent::id_for_step("order:1001:REFUND")
        );
    }
}
