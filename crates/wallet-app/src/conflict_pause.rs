//! The pause between attempts of a unit of work that met a concurrent writer.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use wallet_domain::usecases::ConflictPause;

/// Upper bound of the pause per attempt, in microseconds: attempt n waits up to n × this.
const PAUSE_PER_ATTEMPT_MICROS_MAX: u64 = 2_000;

/// A random pause that grows with the attempt number, so that writers who collided on one
/// account (HTTP withdrawals on any instance, the consumer, the sweeper) retry at different
/// moments instead of colliding again.
#[must_use]
pub fn conflict_pause() -> ConflictPause {
    Arc::new(|attempt| {
        // A fresh RandomState is seeded from the OS: enough randomness for jitter, no extra crate.
        let random = RandomState::new().build_hasher().finish();
        let ceiling = PAUSE_PER_ATTEMPT_MICROS_MAX * u64::from(attempt.max(1));
        Box::pin(tokio::time::sleep(Duration::from_micros(
            1 + random % ceiling,
        )))
    })
}
