//! Adapters of the domain's [`wallet_domain::ports::PriceFeed`] port (SPEC §5 "Prices"):
//!
//! - [`RedisPriceFeed`] reads the prices the broker's market-data side writes to Redis, every
//!   ticker of a summary in one round trip, with a timeout; key pattern and layout (hash field
//!   or plain string with an expiry) come from [`RedisPriceConfig`];
//! - [`InMemoryPriceFeed`] holds prices in the process for the embedded default.
//!
//! A missing or garbage price is absent from the answer (never a zero), and a failed look-up
//! is an error, so that the valuation use case falls back to the last trade the wallet booked.
//! Metrics go through the `metrics` facade; see [`telemetry`].

mod config;
mod memory;
mod parse;
mod redis_feed;
mod settings;
pub mod telemetry;

pub use config::{
    KEY_PATTERN_DEFAULT, PriceKeyKind, RedisConfigError, RedisPriceConfig, TICKER_PLACEHOLDER,
};
pub use memory::InMemoryPriceFeed;
pub use redis_feed::RedisPriceFeed;
pub use settings::PriceSettings;
