//! The price feed chosen by configuration (SPEC §7): Redis when `prices.redis_url` is set,
//! otherwise prices held in memory (summaries then fall back to last trades).

use std::collections::HashMap;

use wallet_domain::Ticker;
use wallet_domain::ports::{PriceFeed, PriceFeedError, PriceQuote};
use wallet_redis::{InMemoryPriceFeed, RedisPriceFeed};

/// One of the two price adapters.
#[derive(Debug, Clone)]
pub enum Prices {
    /// Market data in Redis.
    Redis(RedisPriceFeed),
    /// Prices set by the process itself.
    Memory(InMemoryPriceFeed),
}

impl PriceFeed for Prices {
    async fn quotes(
        &self,
        tickers: &[Ticker],
    ) -> Result<HashMap<Ticker, PriceQuote>, PriceFeedError> {
        match self {
            Prices::Redis(feed) => feed.quotes(tickers).await,
            Prices::Memory(feed) => feed.quotes(tickers).await,
        }
    }
}
