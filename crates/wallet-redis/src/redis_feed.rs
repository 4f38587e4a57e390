//! The Redis price feed (SPEC §5 "Prices"): every ticker of a summary in one round trip, under
//! a timeout, with per-key problems reported as missing prices and whole failures as a
//! [`PriceFeedError`] so that the summary falls back to last trades instead of failing.
//!
//! Connections: deadpool-redis re-checks a connection with an `UNWATCH` + `PING` round trip
//! every time it leaves the pool, which would double the cost of a summary. A multiplexed
//! connection carries any number of concurrent requests, so the feed keeps `pool_size` of them
//! checked out in slots and hands clones to callers (no I/O). A slot whose request failed or
//! timed out gives its connection back to the pool, whose check on the next checkout replaces
//! it if it is broken. Connecting runs as a task of its own under `connect_timeout_ms`, so a
//! look-up with a short budget never abandons a connection half-made.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, Pipeline, Value};
use deadpool_redis::{Config, Connection, Pool, PoolConfig, Runtime, Timeouts};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;
use wallet_domain::Ticker;
use wallet_domain::ports::{PriceFeed, PriceFeedError, PriceQuote};

use crate::config::{KeyPattern, PriceKeyKind, RedisConfigError, RedisPriceConfig};
use crate::parse::{Lookup, age_from_pttl, age_from_updated_at, lookup, reply_text};
use crate::telemetry::{LookupCounts, record_duration, record_feed_error};

/// Prices from Redis over a deadpool-redis pool. Clones share the pool.
#[derive(Clone)]
pub struct RedisPriceFeed {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Connections checked out of the pool, used round-robin; `None` until first used or after
    /// a failure.
    slots: Vec<Mutex<Option<Connection>>>,
    next_slot: AtomicUsize,
    /// True from a failed look-up to the next good one: failures are logged as a warning once
    /// per outage, not once per summary.
    failing: AtomicBool,
    pattern: KeyPattern,
    kind: PriceKeyKind,
    timeout: Duration,
    string_ttl_seconds: u64,
}

impl fmt::Debug for RedisPriceFeed {
    // The URL may hold a password, so it is not kept, and the pool shows only its status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPriceFeed")
            .field("pool", &self.inner.pool.status())
            .field("pattern", &self.inner.pattern)
            .field("kind", &self.inner.kind)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisPriceFeed {
    /// A feed for `config`. Does not connect: the first look-up or [`RedisPriceFeed::ping`]
    /// does, so the service starts while Redis is down and degrades meanwhile.
    ///
    /// # Errors
    /// [`RedisConfigError`] when a setting cannot work (bad URL or key pattern, zero limits).
    pub fn new(config: &RedisPriceConfig) -> Result<Self, RedisConfigError> {
        let pattern = config.validate()?;
        let timeout = Duration::from_millis(config.timeout_ms);
        let connect_timeout = Duration::from_millis(config.connect_timeout_ms);
        let pool = Config {
            url: Some(config.url.expose_secret().to_owned()),
            connection: None,
            pool: Some(PoolConfig {
                timeouts: Timeouts {
                    wait: Some(connect_timeout),
                    create: Some(connect_timeout),
                    recycle: Some(connect_timeout),
                },
                ..PoolConfig::new(config.pool_size)
            }),
        }
        .create_pool(Some(Runtime::Tokio1))
        .map_err(|error| RedisConfigError::Url(error.to_string()))?;
        Ok(RedisPriceFeed {
            inner: Arc::new(Inner {
                pool,
                slots: (0..config.pool_size).map(|_| Mutex::new(None)).collect(),
                next_slot: AtomicUsize::new(0),
                failing: AtomicBool::new(false),
                pattern,
                kind: config.kind.clone(),
                timeout,
                string_ttl_seconds: config.string_ttl_seconds,
            }),
        })
    }

    /// Readiness: one `PING` within the timeout.
    ///
    /// # Errors
    /// [`PriceFeedError`] when Redis cannot be reached, refuses or does not answer in time.
    pub async fn ping(&self) -> Result<(), PriceFeedError> {
        let slot = self.inner.pick_slot();
        let outcome = tokio::time::timeout(self.inner.timeout, async {
            let mut connection = self.inner.connection(slot).await?;
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map_err(|error| error.to_string())
        })
        .await;
        self.inner.settle(slot, outcome).map(|_| ())
    }
}

impl PriceFeed for RedisPriceFeed {
    #[tracing::instrument(level = "debug", skip_all, fields(tickers = tickers.len()))]
    async fn quotes(
        &self,
        tickers: &[Ticker],
    ) -> Result<HashMap<Ticker, PriceQuote>, PriceFeedError> {
        if tickers.is_empty() {
            return Ok(HashMap::new());
        }
        let started = Instant::now();
        let slot = self.inner.pick_slot();
        let pipeline = self.inner.pipeline(tickers);
        let outcome = tokio::time::timeout(self.inner.timeout, async {
            let mut connection = self.inner.connection(slot).await?;
            pipeline
                .query_async::<Vec<Value>>(&mut connection)
                .await
                .map_err(|error| error.to_string())
        })
        .await;
        let replies = self.inner.settle(slot, outcome);
        record_duration(started.elapsed());
        let lookups = replies.and_then(|replies| {
            self.inner.decode(tickers, replies).map_err(|detail| {
                record_feed_error();
                tracing::warn!(detail, "price feed reply not understood");
                PriceFeedError(detail)
            })
        })?;
        let mut counts = LookupCounts::default();
        let mut quotes = HashMap::with_capacity(tickers.len());
        for (ticker, lookup) in tickers.iter().zip(lookups) {
            match lookup {
                Lookup::Hit(quote) => {
                    counts.hits += 1;
                    quotes.insert(ticker.clone(), quote);
                }
                Lookup::Miss => counts.misses += 1,
                Lookup::Garbage => {
                    counts.garbage += 1;
                    // Debug, not warn: the counter tells operators, and a bad key would
                    // otherwise log once per summary.
                    tracing::debug!(%ticker, "price in redis is not a valid price; ignored");
                }
            }
        }
        counts.record();
        Ok(quotes)
    }
}

impl Inner {
    fn pick_slot(&self) -> usize {
        self.next_slot.fetch_add(1, Ordering::Relaxed) % self.slots.len()
    }

    /// A handle on the connection of `slot`, checking one out of the pool when it has none.
    async fn connection(self: &Arc<Self>, slot: usize) -> Result<MultiplexedConnection, String> {
        if let Some(connection) = self.slots[slot].lock().await.as_ref() {
            return Ok(MultiplexedConnection::clone(connection.as_ref()));
        }
        // A task of its own: if the look-up times out, the connection is still made (within
        // the pool's connect timeout) and the next look-up finds it. The lock is held while
        // connecting so that callers of an empty slot share one connection.
        let inner = Arc::clone(self);
        tokio::spawn(async move {
            let mut held = inner.slots[slot].lock().await;
            let connection = match held.take() {
                Some(connection) => connection,
                None => inner.pool.get().await.map_err(|error| error.to_string())?,
            };
            let handle = MultiplexedConnection::clone(connection.as_ref());
            *held = Some(connection);
            Ok(handle)
        })
        .await
        .map_err(|error| format!("connecting failed: {error}"))?
    }

    /// Turns a timed request's outcome into the feed's result; on failure counts it and gives
    /// the slot's connection back to the pool, which checks it before it is used again.
    fn settle<T>(
        &self,
        slot: usize,
        outcome: Result<Result<T, String>, tokio::time::error::Elapsed>,
    ) -> Result<T, PriceFeedError> {
        let detail = match outcome {
            Ok(Ok(value)) => {
                if self.failing.load(Ordering::Relaxed)
                    && self.failing.swap(false, Ordering::Relaxed)
                {
                    tracing::info!("price feed answers again");
                }
                return Ok(value);
            }
            Ok(Err(detail)) => detail,
            Err(_) => format!("no answer within {} ms", self.timeout.as_millis()),
        };
        // `try_lock` because this is not async: when another caller holds the slot (cloning or
        // connecting), the connection stays, and the next failure on the slot clears it.
        if let Ok(mut held) = self.slots[slot].try_lock() {
            *held = None;
        }
        record_feed_error();
        if self.failing.swap(true, Ordering::Relaxed) {
            tracing::debug!(detail, "price feed still unavailable");
        } else {
            tracing::warn!(
                detail,
                "price feed unavailable; summaries fall back to last trades"
            );
        }
        Err(PriceFeedError(detail))
    }

    /// One pipeline for all `tickers`: an `HMGET` per hash key, or one `MGET` and a `PTTL` per
    /// string key (the expiry left gives the age).
    fn pipeline(&self, tickers: &[Ticker]) -> Pipeline {
        let mut pipeline = Pipeline::with_capacity(tickers.len() + 1);
        // Without this one key's error reply (WRONGTYPE) would fail the whole summary; a key
        // holding the wrong type is one garbage price, not an outage.
        pipeline.ignore_errors();
        match &self.kind {
            PriceKeyKind::Hash {
                field,
                updated_at_field,
            } => {
                for ticker in tickers {
                    let command = pipeline
                        .cmd("HMGET")
                        .arg(self.pattern.key(ticker.as_str()))
                        .arg(field);
                    if let Some(updated_at_field) = updated_at_field {
                        command.arg(updated_at_field);
                    }
                }
            }
            PriceKeyKind::String => {
                let keys: Vec<String> = tickers
                    .iter()
                    .map(|ticker| self.pattern.key(ticker.as_str()))
                    .collect();
                pipeline.cmd("MGET").arg(&keys);
                for key in &keys {
                    pipeline.cmd("PTTL").arg(key);
                }
            }
        }
        pipeline
    }

    /// The look-up of each ticker, in order, from the pipeline's replies.
    fn decode(&self, tickers: &[Ticker], replies: Vec<Value>) -> Result<Vec<Lookup>, String> {
        let now = Utc::now();
        match &self.kind {
            PriceKeyKind::Hash { .. } => {
                if replies.len() != tickers.len() {
                    return Err(format!(
                        "{} replies to {} HMGET",
                        replies.len(),
                        tickers.len()
                    ));
                }
                Ok(replies
                    .iter()
                    .map(|reply| match reply {
                        Value::Array(fields) => {
                            let age = fields
                                .get(1)
                                .and_then(|value| reply_text(value).ok().flatten())
                                .and_then(|text| age_from_updated_at(&text, now));
                            fields
                                .first()
                                .map_or(Lookup::Miss, |price| lookup(price, age))
                        }
                        // An error reply to one key (WRONGTYPE: not a hash).
                        _ => Lookup::Garbage,
                    })
                    .collect())
            }
            PriceKeyKind::String => {
                let mut replies = replies.into_iter();
                let Some(Value::Array(values)) = replies.next() else {
                    return Err("MGET did not answer with an array".to_owned());
                };
                let ttls: Vec<Value> = replies.collect();
                if values.len() != tickers.len() || ttls.len() != tickers.len() {
                    return Err(format!(
                        "{} values and {} expiries for {} tickers",
                        values.len(),
                        ttls.len(),
                        tickers.len()
                    ));
                }
                Ok(values
                    .iter()
                    .zip(&ttls)
                    .map(|(value, ttl)| {
                        let pttl_ms = match ttl {
                            Value::Int(milliseconds) => Some(*milliseconds),
                            _ => None,
                        };
                        match (value, pttl_ms) {
                            // MGET answers nil for a key of another type; PTTL tells that the
                            // key exists (-2 means it does not), so it is garbage, not missing.
                            (Value::Nil, Some(pttl)) if pttl != -2 => Lookup::Garbage,
                            _ => lookup(
                                value,
                                pttl_ms
                                    .and_then(|pttl| age_from_pttl(pttl, self.string_ttl_seconds)),
                            ),
                        }
                    })
                    .collect())
            }
        }
    }
}
