//! The holiday-file parser on arbitrary text: never a panic; every date it accepts reads back
//! the same, and a settlement date computed on the calendar is a business day, never before
//! the trade.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_domain::SettlementCalendar;

fuzz_target!(|input: (u8, &str)| {
    let (cycle, text) = input;
    let Ok(holidays) = SettlementCalendar::parse_holidays(text) else {
        return;
    };
    for date in &holidays {
        let again = SettlementCalendar::parse_holidays(&date.to_string());
        assert_eq!(again.map(|dates| dates.contains(date)), Ok(true), "{date}");
    }
    let calendar = SettlementCalendar::new(u32::from(cycle % 11), holidays.clone())
        .expect("a cycle of at most 10 days");
    for date in &holidays {
        let due = calendar.due_date(*date);
        assert!(due > *date, "{date} → {due}");
        assert!(calendar.is_business_day(due), "{date} → {due}");
    }
});
