//! The in-memory price feed of the embedded default (SPEC §7: no Redis configured). Prices
//! are set by the process itself (tests, a demo loader); a ticker never set is absent, so the
//! summary falls back to the last trade the wallet booked.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use wallet_domain::ports::{PriceFeed, PriceFeedError, PriceQuote};
use wallet_domain::{Price, Ticker};

use crate::telemetry::LookupCounts;

/// Prices held in the process, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct InMemoryPriceFeed {
    /// Price of each ticker and when it was set, which gives its age.
    prices: Arc<RwLock<HashMap<Ticker, (Price, Instant)>>>,
}

impl InMemoryPriceFeed {
    /// An empty feed: every ticker is missing until [`InMemoryPriceFeed::set`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the price of `ticker`, replacing any earlier one; its age starts at zero.
    pub fn set(&self, ticker: Ticker, price: Price) {
        // A panic while the lock was held cannot leave the map half-written (one insert or
        // remove), so a poisoned lock is still sound to use.
        self.prices
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(ticker, (price, Instant::now()));
    }

    /// Removes the price of `ticker`, returning it if there was one.
    pub fn remove(&self, ticker: &Ticker) -> Option<Price> {
        self.prices
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(ticker)
            .map(|(price, _)| price)
    }
}

impl PriceFeed for InMemoryPriceFeed {
    async fn quotes(
        &self,
        tickers: &[Ticker],
    ) -> Result<HashMap<Ticker, PriceQuote>, PriceFeedError> {
        let mut counts = LookupCounts::default();
        let quotes: HashMap<Ticker, PriceQuote> = {
            let prices = self.prices.read().unwrap_or_else(PoisonError::into_inner);
            tickers
                .iter()
                .filter_map(|ticker| {
                    let found = prices.get(ticker).map(|(price, set_at)| PriceQuote {
                        price: *price,
                        age_seconds: Some(set_at.elapsed().as_secs()),
                    });
                    match found {
                        Some(_) => counts.hits += 1,
                        None => counts.misses += 1,
                    }
                    found.map(|quote| (ticker.clone(), quote))
                })
                .collect()
        };
        counts.record();
        Ok(quotes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticker(text: &str) -> Ticker {
        Ticker::parse(text).unwrap()
    }

    #[tokio::test]
    async fn set_prices_are_quoted_and_others_are_absent() {
        let feed = InMemoryPriceFeed::new();
        let shared = feed.clone();
        shared.set(ticker("PETR4"), Price::parse("price", "38.55").unwrap());
        let quotes = feed
            .quotes(&[ticker("PETR4"), ticker("VALE3")])
            .await
            .unwrap();
        assert_eq!(quotes.len(), 1);
        let quote = quotes[&ticker("PETR4")];
        assert_eq!(quote.price.value().to_string(), "38.55");
        assert!(quote.age_seconds.is_some());
        assert!(!quotes.contains_key(&ticker("VALE3")));
    }

    #[tokio::test]
    async fn a_removed_price_is_missing_again() {
        let feed = InMemoryPriceFeed::new();
        let price = Price::parse("price", "12").unwrap();
        feed.set(ticker("ITUB4"), price);
        assert_eq!(feed.remove(&ticker("ITUB4")), Some(price));
        assert!(feed.quotes(&[ticker("ITUB4")]).await.unwrap().is_empty());
    }
}
