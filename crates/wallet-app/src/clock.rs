//! The service clock when `wallet.clock_file` is set: end-to-end tests drive the wallet through
//! days (settlement dates, hold expiry) by writing an instant to a file, with nothing else of
//! the service changed. Production uses the system clock.

use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use wallet_domain::ports::{Clock, SystemClock};

/// A clock that reads an RFC 3339 instant from a file on every call.
#[derive(Debug)]
pub struct FileClock {
    path: PathBuf,
    /// The last instant read, kept when the file cannot be read or parsed (a test rewriting
    /// it): the clock never fails and never panics.
    last: Mutex<DateTime<Utc>>,
}

impl FileClock {
    /// A clock reading `path`; until it holds an instant, the system clock's now.
    #[must_use]
    pub fn new(path: PathBuf) -> FileClock {
        FileClock {
            path,
            last: Mutex::new(SystemClock.now()),
        }
    }
}

impl Clock for FileClock {
    fn now(&self) -> DateTime<Utc> {
        let read = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| DateTime::parse_from_rfc3339(text.trim()).ok())
            .map(|instant| instant.with_timezone(&Utc));
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(instant) = read {
            *last = instant;
        }
        *last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_follows_the_file_and_keeps_its_last_instant() {
        let path = std::env::temp_dir().join(format!("wallet-clock-{}", uuid::Uuid::new_v4()));
        let clock = FileClock::new(path.clone());
        std::fs::write(&path, "2027-04-19T17:00:00Z\n").unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2027-04-19T17:00:00+00:00");
        std::fs::write(&path, "2027-04-20T09:30:00-03:00").unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2027-04-20T12:30:00+00:00");
        std::fs::write(&path, "not a time").unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2027-04-20T12:30:00+00:00");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2027-04-20T12:30:00+00:00");
    }
}
