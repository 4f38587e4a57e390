//! The fixture story end to end, plus the valid variants.

use wallet_domain::ports::WalletReader;
use wallet_domain::{HoldStatus, OrderId};

use crate::support::{PATIENCE, Pipeline, STORY, fixture, wait_until};

/// The README story produced as JSON ends in exactly the README's balances, the offsets are
/// committed, and readiness reflects the assignment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_story_ends_in_the_readme_balances() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-42", "10000.00").await;
    let consumer = pipeline.spawn_consumer(pipeline.service());

    for name in STORY {
        pipeline.produce(b"investor-42", &fixture(name)).await;
    }
    for name in [
        "timestamp-as-array.json",
        "decimals-as-strings.json",
        "ignored-status-sent.json",
    ] {
        pipeline.produce(b"investor-7", &fixture(name)).await;
    }
    pipeline.wait_all_committed().await;
    wait_until("consumer ready", PATIENCE, || consumer.health.is_ready()).await;
    // The client's statistics report the lag: nothing left once everything is committed.
    wait_until("lag reported as zero", PATIENCE, || {
        consumer.health.snapshot().lag == Some(0)
    })
    .await;

    pipeline.assert_story_balances().await;
    let store = pipeline.database.store();
    let rejected = store
        .hold(OrderId::new(1002).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rejected.status, HoldStatus::Released);
    // investor-7 has no account: its PENDING orders are denied, nothing else happens.
    let denied = store
        .hold(OrderId::new(1004).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(denied.status, HoldStatus::Denied);
    assert!(
        store
            .hold(OrderId::new(1006).unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(consumer.health.snapshot().events_processed, 9);

    consumer.stop().await;
    pipeline.finish().await;
}
