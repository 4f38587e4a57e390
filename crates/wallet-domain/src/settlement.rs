//! The settlement cycle (D+n): when the cash of a trade changes hands.
//!
//! On B3 a trade settles two business days after the trade date (D+2). A sale gives buying power
//! at once (`balance`, and so the available balance, count it from the fill), but its cash can
//! be withdrawn only once it settles; a purchase is paid at D+2. Each fill of a cycle above zero
//! creates an [`Obligation`] due on its trade date plus the cycle, in business days of the
//! exchange's calendar; the settlement job moves its cash into `settled_balance` on that day.
//! A cycle of 0 (the default) settles every fill at once: `settled_balance` equals `balance`,
//! as in the Java wallet.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};
use rust_decimal::Decimal;
use thiserror::Error;

use crate::ids::{OrderId, UserId};

/// The exchange's time zone, America/Sao_Paulo: UTC−03:00 all year since Brazil ended daylight
/// saving time in 2019, so a fixed offset says the same without a time-zone database.
#[must_use]
pub fn exchange_offset() -> FixedOffset {
    FixedOffset::west_opt(3 * 3600).expect("UTC-03:00 is a valid offset")
}

/// Most business days a settlement cycle may have.
pub const CYCLE_DAYS_MAX: u32 = 10;

/// A holiday file the wallet cannot read; the message names the line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// A line that is neither blank, a `#` comment nor a `YYYY-MM-DD` date.
    #[error("line {line}: `{text}` is not a date (YYYY-MM-DD)")]
    NotADate {
        /// 1-based line number.
        line: usize,
        /// What the line holds (at most 40 characters).
        text: String,
    },
    /// The cycle is longer than [`CYCLE_DAYS_MAX`].
    #[error("settlement cycle of {0} business days is above {CYCLE_DAYS_MAX}")]
    CycleTooLong(u32),
}

/// The exchange's business days and the settlement cycle.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettlementCalendar {
    cycle_days: u32,
    holidays: BTreeSet<NaiveDate>,
}

impl SettlementCalendar {
    /// Every fill settles at once (the default).
    #[must_use]
    pub fn immediate() -> SettlementCalendar {
        SettlementCalendar::default()
    }

    /// A cycle of `cycle_days` business days; weekends and `holidays` are not business days.
    ///
    /// # Errors
    /// [`CalendarError::CycleTooLong`].
    pub fn new(
        cycle_days: u32,
        holidays: BTreeSet<NaiveDate>,
    ) -> Result<SettlementCalendar, CalendarError> {
        if cycle_days > CYCLE_DAYS_MAX {
            return Err(CalendarError::CycleTooLong(cycle_days));
        }
        Ok(SettlementCalendar {
            cycle_days,
            holidays,
        })
    }

    /// Reads a holiday file: one `YYYY-MM-DD` date per line; blank lines and text after `#`
    /// are ignored.
    ///
    /// # Errors
    /// [`CalendarError::NotADate`] naming the first line that is not a date.
    pub fn parse_holidays(text: &str) -> Result<BTreeSet<NaiveDate>, CalendarError> {
        let mut holidays = BTreeSet::new();
        for (index, line) in text.lines().enumerate() {
            let content = line.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            let date = is_iso_date_shape(content)
                .then(|| NaiveDate::parse_from_str(content, "%Y-%m-%d").ok())
                .flatten()
                .ok_or_else(|| CalendarError::NotADate {
                    line: index + 1,
                    text: content.chars().take(40).collect(),
                })?;
            holidays.insert(date);
        }
        Ok(holidays)
    }

    /// Business days between a trade and its settlement; 0 settles at once.
    #[must_use]
    pub fn cycle_days(&self) -> u32 {
        self.cycle_days
    }

    /// True when fills settle at once.
    #[must_use]
    pub fn is_immediate(&self) -> bool {
        self.cycle_days == 0
    }

    /// The exchange's holidays.
    #[must_use]
    pub fn holidays(&self) -> &BTreeSet<NaiveDate> {
        &self.holidays
    }

    /// True on a weekday that is not a holiday.
    #[must_use]
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }

    /// The date of `instant` at the exchange.
    #[must_use]
    pub fn trade_date(instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&exchange_offset()).date_naive()
    }

    /// The settlement date of a trade on `trade_date`: `cycle_days` business days later. A
    /// trade on a day the exchange is closed counts from the next business day.
    #[must_use]
    pub fn due_date(&self, trade_date: NaiveDate) -> NaiveDate {
        let mut date = self.business_day_from(trade_date);
        for _ in 0..self.cycle_days {
            date = self.business_day_from(next_day(date));
        }
        date
    }

    /// `date` if it is a business day, else the next one (the last date the calendar can
    /// hold, should every day up to it be a holiday).
    fn business_day_from(&self, mut date: NaiveDate) -> NaiveDate {
        while !self.is_business_day(date) {
            let next = next_day(date);
            if next == date {
                break;
            }
            date = next;
        }
        date
    }

    /// The start (00:00 at the exchange) of the first business day after `instant`'s date: when
    /// the settlement job runs next.
    #[must_use]
    pub fn next_business_day_start(&self, instant: DateTime<Utc>) -> DateTime<Utc> {
        let date = self.business_day_from(next_day(Self::trade_date(instant)));
        day_start(date)
    }
}

/// The start of `date` at the exchange (00:00, UTC−3), as an instant.
#[must_use]
pub fn day_start(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    exchange_offset()
        .from_local_datetime(&midnight)
        .single()
        .map_or(DateTime::<Utc>::MIN_UTC, |start| start.with_timezone(&Utc))
}

/// `DDDD-DD-DD` with ASCII digits: chrono's `%Y` alone also reads `80822-1-01` as the year
/// 80822, a date written back as `+80822-01-01`, which no holiday file means.
pub(crate) fn is_iso_date_shape(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

fn next_day(date: NaiveDate) -> NaiveDate {
    date.checked_add_days(Days::new(1)).unwrap_or(date)
}

/// Cash a fill owes or is owed on its settlement date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    /// The step key of the fill that created it: one obligation per fill step.
    pub key: String,
    /// The account.
    pub user_id: UserId,
    /// The order filled.
    pub order_id: OrderId,
    /// The exchange date of the fill.
    pub trade_date: NaiveDate,
    /// When its cash settles.
    pub due_date: NaiveDate,
    /// Signed cash the account's settled balance gains on `due_date`: a sale's proceeds less
    /// its fees (positive), a purchase's cost and fees (negative).
    pub cash_amount: Decimal,
    /// When the settlement job settled it; `None` while open.
    pub settled_at: Option<DateTime<Utc>>,
    /// When the fill was booked.
    pub created_at: DateTime<Utc>,
}

/// The settled balance an account will have after one coming settlement date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectedSettlement {
    /// The settlement date.
    pub date: NaiveDate,
    /// What the obligations due that day move, signed.
    pub cash_amount: Decimal,
    /// The settled balance after that day's settlement.
    pub settled_balance: Decimal,
}

/// The settled balance after each coming settlement date of `open`, from `settled_balance` now:
/// one line per date, in date order.
#[must_use]
pub fn project(settled_balance: Decimal, open: &[Obligation]) -> Vec<ProjectedSettlement> {
    let mut by_date: std::collections::BTreeMap<NaiveDate, Decimal> =
        std::collections::BTreeMap::new();
    for obligation in open
        .iter()
        .filter(|obligation| obligation.settled_at.is_none())
    {
        *by_date.entry(obligation.due_date).or_default() += obligation.cash_amount;
    }
    let mut settled = settled_balance;
    by_date
        .into_iter()
        .map(|(date, cash_amount)| {
            settled += cash_amount;
            ProjectedSettlement {
                date,
                cash_amount,
                settled_balance: settled,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// B3 in the week of Tiradentes 2027 (Wednesday 21 April).
    fn b3_d2() -> SettlementCalendar {
        let holidays = SettlementCalendar::parse_holidays("2027-04-21 # Tiradentes\n").unwrap();
        SettlementCalendar::new(2, holidays).unwrap()
    }

    #[test]
    fn d_plus_two_skips_weekends_and_holidays() {
        let calendar = b3_d2();
        // Monday → Thursday over the Wednesday holiday; Tuesday → Friday.
        assert_eq!(calendar.due_date(date("2027-04-19")), date("2027-04-22"));
        assert_eq!(calendar.due_date(date("2027-04-20")), date("2027-04-23"));
        // Thursday → Monday, Friday → Tuesday over the weekend.
        assert_eq!(calendar.due_date(date("2027-04-22")), date("2027-04-26"));
        assert_eq!(calendar.due_date(date("2027-04-23")), date("2027-04-27"));
        // A trade booked on the holiday counts from Thursday.
        assert_eq!(calendar.due_date(date("2027-04-21")), date("2027-04-26"));
        assert_eq!(
            SettlementCalendar::immediate().due_date(date("2027-04-20")),
            date("2027-04-20")
        );
    }

    #[test]
    fn the_trade_date_is_the_exchange_date() {
        let late = DateTime::parse_from_rfc3339("2027-04-20T02:30:00Z").unwrap();
        // 23:30 on Monday in São Paulo.
        assert_eq!(
            SettlementCalendar::trade_date(late.with_timezone(&Utc)),
            date("2027-04-19")
        );
        let next = b3_d2().next_business_day_start(late.with_timezone(&Utc));
        // Tuesday 00:00 at the exchange; Tuesday 20 → Thursday 22 over the holiday.
        assert_eq!(next.to_rfc3339(), "2027-04-20T03:00:00+00:00");
        let tuesday = DateTime::parse_from_rfc3339("2027-04-20T15:00:00Z").unwrap();
        assert_eq!(
            b3_d2()
                .next_business_day_start(tuesday.with_timezone(&Utc))
                .to_rfc3339(),
            "2027-04-22T03:00:00+00:00"
        );
    }

    #[test]
    fn holiday_files_are_read_strictly() {
        let holidays =
            SettlementCalendar::parse_holidays("# B3\n\n2027-01-01\n 2027-02-08 # Carnival\n")
                .unwrap();
        assert_eq!(holidays.len(), 2);
        let error = SettlementCalendar::parse_holidays("2027-01-01\n2027-13-01\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: `2027-13-01` is not a date (YYYY-MM-DD)"
        );
        assert!(SettlementCalendar::parse_holidays("2027-1-1").is_err());
        // Found by the fuzz target: chrono's %Y reads more than four digits.
        assert!(SettlementCalendar::parse_holidays("80822-1-01").is_err());
        assert!(SettlementCalendar::parse_holidays("+202-01-01").is_err());
        assert!(SettlementCalendar::new(11, BTreeSet::new()).is_err());
    }
}
