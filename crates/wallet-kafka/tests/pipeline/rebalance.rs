//! Rebalances: a second member joins while events flow, then the first one leaves; every event
//! is applied exactly once whoever owned its partition when.

use wallet_domain::UserId;
use wallet_domain::ports::WalletReader;

use crate::support::{PATIENCE, Pipeline, dec, wait_until};

const USERS: usize = 24;
const ORDERS_PER_PHASE: usize = 4;

/// The events of `orders` one-share orders of every user, starting at order `first`: a
/// PENDING reserving 10.00 and a FILLED at the limit.
fn orders(first: usize, orders: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut records = Vec::new();
    for order in first..first + orders {
        for user in 0..USERS {
            let order_id = user * 1_000 + order + 1;
            for status in ["PENDING", "FILLED"] {
                let value = format!(
                    r#"{{"orderId":{order_id},"userId":"member-{user}","ticker":"BBAS3","quantity":1,"price":10.00,"executedPrice":10.00,"side":"BUY","status":"{status}"}}"#
                );
                records.push((format!("member-{user}").into_bytes(), value.into_bytes()));
            }
        }
    }
    records
}

/// Member B joins while A consumes, then A leaves gracefully while events keep coming: all
/// partitions end up committed and every order is settled exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_joining_and_leaving_apply_every_event_once() {
    let pipeline = Pipeline::start().await;
    for user in 0..USERS {
        pipeline.deposit(&format!("member-{user}"), "1000.00").await;
    }

    pipeline.produce_all(&orders(0, ORDERS_PER_PHASE)).await;
    let first = pipeline.spawn_consumer(pipeline.service());
    pipeline.wait_all_committed().await;

    let second = pipeline.spawn_consumer(pipeline.service());
    pipeline
        .produce_all(&orders(ORDERS_PER_PHASE, ORDERS_PER_PHASE))
        .await;
    wait_until("the second member gets partitions", PATIENCE, || {
        second.health.snapshot().assigned_partitions > 0
    })
    .await;
    pipeline.wait_all_committed().await;

    let leaving = tokio::spawn(first.stop());
    pipeline
        .produce_all(&orders(2 * ORDERS_PER_PHASE, ORDERS_PER_PHASE))
        .await;
    leaving.await.unwrap();
    pipeline.wait_all_committed().await;
    wait_until("the second member owns every partition", PATIENCE, || {
        second.health.snapshot().assigned_partitions == 4
    })
    .await;

    let store = pipeline.database.store();
    let bought = 3 * ORDERS_PER_PHASE;
    for user in 0..USERS {
        let id = UserId::parse(&format!("member-{user}")).unwrap();
        let account = store.account(&id).await.unwrap().unwrap();
        assert_eq!(
            account.balance.value(),
            dec("1000.00") - dec("10.00") * rust_decimal::Decimal::from(bought),
            "member-{user}"
        );
        assert!(account.blocked_balance.is_zero());
        let positions = store.positions(&id).await.unwrap();
        assert_eq!(
            positions[0].quantity.value(),
            rust_decimal::Decimal::from(bought)
        );
    }
    second.stop().await;
    pipeline.finish().await;
}
