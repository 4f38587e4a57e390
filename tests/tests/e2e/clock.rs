//! The service's clock for the scenarios that drive time (`wallet.clock_file`).

use std::path::PathBuf;

/// The service's clock: an instant in a file the test rewrites.
pub(crate) struct TestClock {
    path: PathBuf,
}

impl TestClock {
    pub(crate) fn at(instant: &str) -> TestClock {
        let path = std::env::temp_dir().join(format!("wallet-e2e-clock-{}", uuid::Uuid::new_v4()));
        let clock = TestClock { path };
        clock.set(instant);
        clock
    }

    pub(crate) fn set(&self, instant: &str) {
        // Written whole and renamed, so the service never reads half an instant.
        let partial = self.path.with_extension("partial");
        std::fs::write(&partial, instant).expect("write the clock");
        std::fs::rename(&partial, &self.path).expect("move the clock into place");
    }

    /// The setting that makes the service read this clock.
    pub(crate) fn setting(&self) -> (&'static str, String) {
        (
            "WALLET__WALLET__CLOCK_FILE",
            self.path
                .to_str()
                .expect("a UTF-8 temporary path")
                .to_owned(),
        )
    }
}

impl Drop for TestClock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
