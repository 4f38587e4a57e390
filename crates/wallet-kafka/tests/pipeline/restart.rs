//! Redelivery: a consumer that dies after its database transaction committed but before its
//! offsets did sees its events again after a restart, and the domain applies nothing twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use wallet_domain::ports::{StoreError, WalletStore};
use wallet_domain::unit_of_work::{ChangeSet, LoadRequest, Snapshot};
use wallet_domain::usecases::WalletService;
use wallet_domain::{Currency, Hold, Obligation};
use wallet_kafka::KafkaSettings;
use wallet_sql::SqlStore;

use crate::support::{PATIENCE, Pipeline, STORY, fixture, wait_until};

/// The real store, which hangs forever right after its first commit once armed: the process
/// "dies" between the database commit and the Kafka commit.
#[derive(Clone)]
struct HangAfterCommit {
    inner: SqlStore,
    armed: Arc<AtomicBool>,
    hung: Arc<AtomicBool>,
}

impl WalletStore for HangAfterCommit {
    async fn load(&self, request: &LoadRequest) -> Result<Snapshot, StoreError> {
        self.inner.load(request).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.inner.commit(changes).await?;
        if self.armed.load(Ordering::SeqCst) {
            self.hung.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
        Ok(())
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

/// The whole story is applied (in one batch) and the consumer is killed before committing its
/// offsets; a new consumer gets every event again and the balances and the ledger are exactly
/// those of a single application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_after_a_crash_before_commit_applies_nothing_twice() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-42", "10000.00").await;
    let ledger_before = pipeline.ledger_len("investor-42").await;

    // All events are produced first so the first batch holds the whole story.
    for name in STORY {
        pipeline.produce(b"investor-42", &fixture(name)).await;
    }
    let hanging = HangAfterCommit {
        inner: pipeline.store(),
        armed: Arc::new(AtomicBool::new(true)),
        hung: Arc::new(AtomicBool::new(false)),
    };
    let hung = hanging.hung.clone();
    // A long batch wait so the first batch surely holds the whole story.
    let patient = KafkaSettings {
        batch_wait_ms_max: 2_000,
        ..pipeline.settings.clone()
    };
    let first = pipeline.spawn_consumer_with(&patient, WalletService::new(hanging, Currency::BRL));
    wait_until(
        "the first consumer committed to the database",
        PATIENCE,
        || hung.load(Ordering::SeqCst),
    )
    .await;
    // Applied in the database…
    pipeline.assert_story_balances().await;
    let ledger_applied = pipeline.ledger_len("investor-42").await;
    assert!(ledger_applied > ledger_before);
    first.kill().await;
    // …but not committed in Kafka.
    assert!(
        pipeline.committed().await.is_empty(),
        "nothing may be committed before the crash"
    );

    let second = pipeline.spawn_consumer(pipeline.service());
    pipeline.wait_all_committed().await;
    assert_eq!(
        second.health.snapshot().events_processed,
        STORY.len() as u64
    );
    pipeline.assert_story_balances().await;
    assert_eq!(pipeline.ledger_len("investor-42").await, ledger_applied);

    second.stop().await;
    pipeline.finish().await;
}
