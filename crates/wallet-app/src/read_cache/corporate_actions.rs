//! The corporate actions' store through the cache: nothing of it is cached (the job and the
//! admin endpoint read it rarely), so every call goes to the store.

use chrono::{DateTime, Utc};
use wallet_domain::corporate_actions::{ActionRecord, Entitlement, HolderPage};
use wallet_domain::ports::{CorporateActionStore, StoreError};
use wallet_domain::{OrderId, Ticker, UserId};

use super::CachingStore;

impl<S: CorporateActionStore> CorporateActionStore for CachingStore<S> {
    async fn insert_action(
        &self,
        record: &ActionRecord,
    ) -> Result<(ActionRecord, bool), StoreError> {
        self.inner.insert_action(record).await
    }

    async fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError> {
        self.inner.action(id).await
    }

    async fn due_actions(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, StoreError> {
        self.inner.due_actions(now, limit).await
    }

    async fn holders_at(
        &self,
        ticker: &Ticker,
        at: DateTime<Utc>,
        after: Option<&UserId>,
        limit: u32,
    ) -> Result<HolderPage, StoreError> {
        self.inner.holders_at(ticker, at, after, limit).await
    }

    async fn unpaid_entitlements(
        &self,
        action_id: &str,
        after: Option<&UserId>,
        limit: u32,
    ) -> Result<Vec<Entitlement>, StoreError> {
        self.inner
            .unpaid_entitlements(action_id, after, limit)
            .await
    }

    async fn active_sell_orders(
        &self,
        ticker: &Ticker,
        users: &[UserId],
    ) -> Result<Vec<OrderId>, StoreError> {
        self.inner.active_sell_orders(ticker, users).await
    }
}
