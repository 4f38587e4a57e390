//! Tests of the Redis price feed against the real Redis (SPEC §5 "Prices"; issue 5).
//!
//! They need Redis at `redis://127.0.0.1:6379` or at `WALLET_TEST_REDIS_URL`, and fail (never
//! skip) when it cannot be reached. Each test writes under its own random key prefix and
//! deletes its keys before it asserts, so tests run in parallel and leave nothing behind.

mod failures;
mod layouts;
mod round_trip;
mod support;
