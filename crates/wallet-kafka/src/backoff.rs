//! Capped exponential backoff for transient failures (SPEC §4 "Delivery": a database or broker
//! outage is retried, never skipped).

use std::time::Duration;

use tokio::sync::watch;

/// Doubling waits between `min` and `max`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(min_ms: u64, max_ms: u64) -> Self {
        let min = Duration::from_millis(min_ms.max(1));
        Backoff {
            next: min,
            min,
            max: Duration::from_millis(max_ms).max(min),
        }
    }

    /// The wait before the next attempt; doubles the one after, up to the cap.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Back to the shortest wait after a success.
    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }

    /// Waits the next delay; returns false early when shutdown was requested.
    pub(crate) async fn wait(&mut self, shutdown: &mut watch::Receiver<bool>) -> bool {
        let delay = self.next_delay();
        sleep_unless_shutdown(delay, shutdown).await
    }
}

/// True once shutdown was requested, or once nobody can request it any more (the sender was
/// dropped): a loop that kept going then could never be stopped, and would spin on the closed
/// channel.
pub(crate) fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

/// Sleeps `delay`; returns false early (or at once) when shutdown is requested.
pub(crate) async fn sleep_unless_shutdown(
    delay: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    if stopping(shutdown) {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        // A dropped sender counts as shutdown: nobody can stop us any more otherwise.
        _ = shutdown.wait_for(|stop| *stop) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(100, 350);
        let waits: Vec<u128> = (0..4).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(waits, [100, 200, 350, 350]);
        backoff.reset();
        assert_eq!(backoff.next_delay().as_millis(), 100);
    }

    #[tokio::test]
    async fn shutdown_cuts_the_wait_short() {
        let (sender, mut receiver) = watch::channel(false);
        sender.send(true).unwrap();
        assert!(!sleep_unless_shutdown(Duration::from_secs(60), &mut receiver).await);
    }

    #[test]
    fn a_dropped_sender_means_stop() {
        let (sender, receiver) = watch::channel(false);
        assert!(!stopping(&receiver));
        drop(sender);
        assert!(stopping(&receiver));
    }
}
