//! An in-process cache of each account and its positions, in front of the store, so that the
//! hot reads of the HTTP API (`summary`, `positions`, the account) do not cost two SQL round
//! trips each (docs/decisions/0005-read-cache.md).
//!
//! Freshness rules:
//! - every write of this process goes through [`CachingStore::commit`], which drops the
//!   accounts it touched once the transaction has returned: a read after a write of this
//!   instance always sees it;
//! - writes of other instances reach the cache through its [`ChangeSink`] port, told of every
//!   wallet event relayed to Kafka (`wallet_kafka::run_change_listener`), and in any case
//!   an entry is reloaded after `ttl`;
//! - a load that raced with a write must not put the older rows back: each shard counts its
//!   invalidations, and a load's result is kept only if no invalidation of its shard happened
//!   since the load began.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use wallet_domain::corporate_actions::Entitlement;
use wallet_domain::ports::{BalanceAt, ChangeSink, StoreError, WalletReader, WalletStore};
use wallet_domain::unit_of_work::{ChangeSet, LoadRequest, Snapshot};
use wallet_domain::{
    Account, Hold, LastTrade, Obligation, OrderId, Position, StoredLedgerEntry, Ticker, UserId,
};

mod corporate_actions;

const SHARDS: usize = 64;

/// Counter of account reads by outcome (`hit`, `miss`).
pub const READ_CACHE_TOTAL: &str = "wallet_read_cache_total";

/// An account (absent when the user has none) and its positions, as one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    /// The account.
    pub account: Option<Account>,
    /// Its positions, as [`WalletReader::positions`] returns them.
    pub positions: Vec<Position>,
    /// What corporate actions owe it, as [`WalletReader::receivables`] returns them.
    pub receivables: Vec<Entitlement>,
}

#[derive(Debug)]
struct Entry {
    holdings: Arc<Holdings>,
    loaded_at: Instant,
}

#[derive(Debug, Default)]
struct Shard {
    invalidations: u64,
    entries: HashMap<UserId, Entry>,
}

/// Proof of when a load began: [`ReadCache::insert`] keeps the load only if its shard saw no
/// invalidation since.
#[derive(Debug, Clone, Copy)]
pub struct LoadTicket {
    shard: usize,
    invalidations: u64,
}

/// The sharded map behind [`CachingStore`], bounded in entries and age.
#[derive(Debug)]
pub struct ReadCache {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    ttl: Duration,
    entries_per_shard_max: usize,
    accepting: AtomicBool,
    hits: metrics::Counter,
    misses: metrics::Counter,
}

impl ReadCache {
    /// A cache of at most about `capacity` accounts, each kept at most `ttl`.
    #[must_use]
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        ReadCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            ttl,
            entries_per_shard_max: capacity.div_ceil(SHARDS).max(1),
            accepting: AtomicBool::new(true),
            // Registered once: a `counter!` per read would look its labels up every time.
            hits: metrics::counter!(READ_CACHE_TOTAL, "outcome" => "hit"),
            misses: metrics::counter!(READ_CACHE_TOTAL, "outcome" => "miss"),
        }
    }

    /// Stops (`false`) or resumes caching. While stopped every read goes to the store: an
    /// instance whose change listener is not (or no longer) positioned on the topic could miss
    /// another instance's write, so it forgets everything and caches nothing until it is.
    pub fn set_accepting(&self, accepting: bool) {
        let was = self.accepting.swap(accepting, Ordering::SeqCst);
        // Resuming also turns away the loads that began before: they may predate a write
        // whose event came before the listener was positioned.
        if was != accepting {
            for shard in 0..SHARDS {
                let mut guard = self.lock(shard);
                guard.invalidations += 1;
                guard.entries.clear();
            }
        }
    }

    fn shard_of(&self, user: &UserId) -> usize {
        // The modulo keeps the value below SHARDS, so the cast cannot truncate.
        (self.hasher.hash_one(user) % SHARDS as u64) as usize
    }

    fn lock(&self, shard: usize) -> MutexGuard<'_, Shard> {
        // A panic while holding the lock cannot leave a shard half-written (every change is
        // one map operation), so a poisoned shard is still consistent.
        self.shards[shard]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached holdings of `user` if they are younger than the TTL, or the ticket to load
    /// them with.
    pub fn get(&self, user: &UserId) -> Result<Arc<Holdings>, LoadTicket> {
        let shard = self.shard_of(user);
        let guard = self.lock(shard);
        match guard.entries.get(user) {
            Some(entry) if entry.loaded_at.elapsed() < self.ttl && self.accepting() => {
                Ok(entry.holdings.clone())
            }
            _ => Err(LoadTicket {
                shard,
                invalidations: guard.invalidations,
            }),
        }
    }

    /// Keeps `holdings` loaded under `ticket`, unless an invalidation of its shard happened
    /// since the ticket was taken (the load may predate that write).
    pub fn insert(&self, user: UserId, holdings: Arc<Holdings>, ticket: LoadTicket) {
        let mut guard = self.lock(ticket.shard);
        if guard.invalidations != ticket.invalidations || !self.accepting() {
            return;
        }
        if guard.entries.len() >= self.entries_per_shard_max && !guard.entries.contains_key(&user) {
            let ttl = self.ttl;
            guard
                .entries
                .retain(|_, entry| entry.loaded_at.elapsed() < ttl);
            if guard.entries.len() >= self.entries_per_shard_max {
                let victim = guard.entries.keys().next().cloned();
                if let Some(victim) = victim {
                    guard.entries.remove(&victim);
                }
            }
        }
        let loaded_at = Instant::now();
        guard.entries.insert(
            user,
            Entry {
                holdings,
                loaded_at,
            },
        );
    }

    /// Forgets `user` and turns away every load of its shard that began before now.
    pub fn invalidate(&self, user: &UserId) {
        let mut guard = self.lock(self.shard_of(user));
        guard.invalidations += 1;
        guard.entries.remove(user);
    }

    fn accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }

    /// Accounts cached now, expired ones included.
    #[must_use]
    pub fn len(&self) -> usize {
        (0..SHARDS)
            .map(|shard| self.lock(shard).entries.len())
            .sum()
    }

    /// True when nothing is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Other instances' writes, as the change listener hears them.
impl ChangeSink for ReadCache {
    fn listening(&self, listening: bool) {
        self.set_accepting(listening);
    }

    fn changed(&self, user: &UserId) {
        self.invalidate(user);
    }
}

/// A store whose account and position reads are served from a [`ReadCache`] and whose commits
/// invalidate it. Every other call goes straight to the inner store, and so does everything
/// when there is no cache.
#[derive(Debug, Clone)]
pub struct CachingStore<S> {
    inner: S,
    cache: Option<Arc<ReadCache>>,
}

impl<S> CachingStore<S> {
    /// `inner` behind `cache` (`None`: no caching).
    pub fn new(inner: S, cache: Option<Arc<ReadCache>>) -> Self {
        CachingStore { inner, cache }
    }

    /// The cache, for invalidations from other instances' writes.
    #[must_use]
    pub fn cache(&self) -> Option<&Arc<ReadCache>> {
        self.cache.as_ref()
    }

    /// The store behind the cache.
    #[must_use]
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: WalletReader> CachingStore<S> {
    async fn holdings(
        &self,
        cache: &ReadCache,
        user: &UserId,
    ) -> Result<Arc<Holdings>, StoreError> {
        let ticket = match cache.get(user) {
            Ok(holdings) => {
                cache.hits.increment(1);
                return Ok(holdings);
            }
            Err(ticket) => ticket,
        };
        cache.misses.increment(1);
        let holdings = Arc::new(self.load_holdings(user).await?);
        cache.insert(user.clone(), holdings.clone(), ticket);
        Ok(holdings)
    }

    async fn load_holdings(&self, user: &UserId) -> Result<Holdings, StoreError> {
        let (account, positions, receivables) = futures::future::try_join3(
            self.inner.account(user),
            self.inner.positions(user),
            self.inner.receivables(user),
        )
        .await?;
        Ok(Holdings {
            account,
            positions,
            receivables,
        })
    }
}

impl<S: WalletStore> WalletStore for CachingStore<S> {
    async fn load(&self, request: &LoadRequest) -> Result<Snapshot, StoreError> {
        self.inner.load(request).await
    }

    async fn stale_holds(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Hold>, StoreError> {
        self.inner.stale_holds(created_before, limit).await
    }

    async fn due_obligations(
        &self,
        due_by: NaiveDate,
        limit: u32,
    ) -> Result<Vec<Obligation>, StoreError> {
        self.inner.due_obligations(due_by, limit).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let Some(cache) = &self.cache else {
            return self.inner.commit(changes).await;
        };
        let mut touched: Vec<UserId> = changes
            .accounts
            .iter()
            .map(|account| account.user_id.clone())
            .chain(
                changes
                    .positions
                    .iter()
                    .map(|position| position.user_id.clone()),
            )
            // A corporate action's entitlements change what the summary lists as owed.
            .chain(
                changes
                    .entitlements
                    .iter()
                    .map(|entitlement| entitlement.user_id.clone()),
            )
            .collect();
        touched.sort_unstable();
        touched.dedup();
        let outcome = self.inner.commit(changes).await;
        // Also after a failure: an unavailable database may still have committed.
        for user in &touched {
            cache.invalidate(user);
        }
        outcome
    }
}

impl<S: WalletReader> WalletReader for CachingStore<S> {
    async fn account(&self, user: &UserId) -> Result<Option<Account>, StoreError> {
        match &self.cache {
            Some(cache) => Ok(self.holdings(cache, user).await?.account.clone()),
            None => self.inner.account(user).await,
        }
    }

    async fn positions(&self, user: &UserId) -> Result<Vec<Position>, StoreError> {
        match &self.cache {
            Some(cache) => Ok(self.holdings(cache, user).await?.positions.clone()),
            None => self.inner.positions(user).await,
        }
    }

    async fn statement(
        &self,
        user: &UserId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredLedgerEntry>, StoreError> {
        self.inner.statement(user, before_id, limit).await
    }

    async fn hold(&self, order: OrderId) -> Result<Option<Hold>, StoreError> {
        self.inner.hold(order).await
    }

    async fn balance_at(
        &self,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> Result<Option<BalanceAt>, StoreError> {
        self.inner.balance_at(user, at).await
    }

    async fn last_trades(&self, tickers: &[Ticker]) -> Result<Vec<LastTrade>, StoreError> {
        self.inner.last_trades(tickers).await
    }

    async fn open_holds(&self) -> Result<u64, StoreError> {
        self.inner.open_holds().await
    }

    async fn open_obligations(&self, user: &UserId) -> Result<Vec<Obligation>, StoreError> {
        self.inner.open_obligations(user).await
    }

    async fn receivables(&self, user: &UserId) -> Result<Vec<Entitlement>, StoreError> {
        match &self.cache {
            Some(cache) => Ok(self.holdings(cache, user).await?.receivables.clone()),
            None => self.inner.receivables(user).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: usize) -> UserId {
        UserId::parse(&format!("user-{n}")).unwrap()
    }

    fn nothing() -> Arc<Holdings> {
        Arc::new(Holdings {
            account: None,
            positions: Vec::new(),
            receivables: Vec::new(),
        })
    }

    #[test]
    fn a_load_is_served_until_its_account_is_invalidated() {
        let cache = ReadCache::new(100, Duration::from_secs(60));
        let ticket = cache.get(&user(1)).unwrap_err();
        cache.insert(user(1), nothing(), ticket);
        assert!(cache.get(&user(1)).is_ok());
        cache.invalidate(&user(1));
        assert!(cache.get(&user(1)).is_err());
    }

    #[test]
    fn a_load_that_began_before_a_write_is_not_kept() {
        let cache = ReadCache::new(100, Duration::from_secs(60));
        let ticket = cache.get(&user(1)).unwrap_err();
        // The write commits and invalidates while the load is still reading older rows.
        cache.invalidate(&user(1));
        cache.insert(user(1), nothing(), ticket);
        assert!(cache.get(&user(1)).is_err(), "the older rows were kept");
    }

    #[test]
    fn an_entry_past_its_time_to_live_is_loaded_again() {
        let cache = ReadCache::new(100, Duration::ZERO);
        let ticket = cache.get(&user(1)).unwrap_err();
        cache.insert(user(1), nothing(), ticket);
        assert!(cache.get(&user(1)).is_err());
    }

    #[test]
    fn nothing_is_cached_while_writes_elsewhere_could_be_missed() {
        let cache = ReadCache::new(100, Duration::from_secs(60));
        let ticket = cache.get(&user(1)).unwrap_err();
        cache.insert(user(1), nothing(), ticket);
        cache.set_accepting(false);
        assert!(cache.is_empty(), "what was cached before is forgotten");
        let ticket = cache.get(&user(1)).unwrap_err();
        cache.insert(user(1), nothing(), ticket);
        assert!(cache.get(&user(1)).is_err());
        cache.set_accepting(true);
        let ticket = cache.get(&user(1)).unwrap_err();
        cache.insert(user(1), nothing(), ticket);
        assert!(cache.get(&user(1)).is_ok());
    }

    #[test]
    fn the_number_of_accounts_stays_bounded() {
        let cache = ReadCache::new(SHARDS * 2, Duration::from_secs(60));
        for n in 0..10_000 {
            let ticket = cache.get(&user(n)).unwrap_err();
            cache.insert(user(n), nothing(), ticket);
        }
        assert!(cache.len() <= SHARDS * 2, "{} cached", cache.len());
        assert!(!cache.is_empty());
    }
}
