//! A record whose application panics (a bug, simulated by a store that panics for one user) is
//! dead-lettered `PROCESSING_FAILED` after it panicked alone, and the rest of its partition,
//! before and after it, is applied: one record can never stop a partition.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use wallet_domain::UserId;
use wallet_domain::ports::{StoreError, WalletStore};
use wallet_domain::unit_of_work::{ChangeSet, LoadRequest, Snapshot};
use wallet_domain::usecases::WalletService;
use wallet_domain::{Currency, Hold, Obligation};
use wallet_kafka::dead_letter::{HEADER_DETAIL, HEADER_REASON};
use wallet_sql::SqlStore;

use crate::support::{Pipeline, dec};

/// The real store, except that loading the rows of one user panics.
#[derive(Clone)]
struct PanickingStore {
    inner: SqlStore,
    victim: UserId,
    panics: Arc<AtomicUsize>,
}

impl WalletStore for PanickingStore {
    async fn load(&self, request: &LoadRequest) -> Result<Snapshot, StoreError> {
        if request.users.contains(&self.victim) {
            self.panics.fetch_add(1, Ordering::SeqCst);
            panic!("injected fault for {}", self.victim);
        }
        self.inner.load(request).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.inner.commit(changes).await
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
}

fn pending(order: i64, user: &str) -> Vec<u8> {
    format!(
        r#"{{"orderId":{order},"userId":"{user}","ticker":"PETR4","quantity":10,"price":10,"side":"BUY","status":"PENDING"}}"#
    )
    .into_bytes()
}

#[tokio::test]
async fn a_record_that_panics_is_dead_lettered_and_its_partition_goes_on() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-1", "1000.00").await;
    let panics = Arc::new(AtomicUsize::new(0));
    let store = PanickingStore {
        inner: pipeline.store(),
        victim: UserId::parse("poisoned").unwrap(),
        panics: panics.clone(),
    };
    let consumer = pipeline.spawn_consumer(WalletService::new(store, Currency::BRL));
    // One key, so one partition: the poisoned record sits between two good ones.
    let records: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (b"investor-1".to_vec(), pending(1, "investor-1")),
        (b"investor-1".to_vec(), pending(2, "poisoned")),
        (b"investor-1".to_vec(), pending(3, "investor-1")),
    ];
    pipeline.produce_all(&records).await;
    pipeline.wait_all_committed().await;

    assert_eq!(
        pipeline.balance("investor-1").await,
        (dec("1000.00"), dec("200.00"))
    );
    let letters = pipeline
        .read_topic(&pipeline.settings.dead_letter_topic, 1)
        .await;
    assert_eq!(letters[0].headers[HEADER_REASON], "PROCESSING_FAILED");
    assert!(
        letters[0].headers[HEADER_DETAIL].contains("injected fault for poisoned"),
        "{:?}",
        letters[0].headers
    );
    assert_eq!(letters[0].value, pending(2, "poisoned"));
    // Tried in its batch and alone, then given up on: never retried forever.
    let tries = panics.load(Ordering::SeqCst);
    assert!((1..=2).contains(&tries), "{tries} tries");
    assert!(!consumer.health.snapshot().retrying);
    consumer.stop().await;
    pipeline.finish().await;
}
