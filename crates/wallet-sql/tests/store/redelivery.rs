//! A batch delivered again (its offsets were not committed before a crash or a rebalance) is
//! decided as the first time: a record that was dead-lettered is dead-lettered again, even when
//! the events after it have since made it applicable.

use std::collections::BTreeSet;

use chrono::Utc;
use wallet_domain::ports::WalletStore;
use wallet_domain::unit_of_work::{ChangeSet, LoadRequest, Verdict};
use wallet_domain::{DeadLetterReason, EventOutcome, OrderEvent, Rejection};
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, decimal, deposit, event, service, user};

fn delivered(json: &str, offset: u32) -> OrderEvent {
    let mut event = event(json);
    event.delivery = Some(format!("order-events-v1/0/{offset}"));
    event
}

async fn a_redelivered_dead_letter_stays_a_dead_letter(database: &TestDatabase) {
    let store = database.store();
    deposit(store, "seller", "1.00", Utc::now()).await;
    // A purchase the account cannot pay for, then a sale that would have paid for it.
    let batch = [
        delivered(
            r#"{"orderId":1,"userId":"seller","ticker":"PETR4","quantity":10,"executedPrice":10,"side":"BUY","status":"FILLED"}"#,
            7,
        ),
        delivered(
            r#"{"orderId":2,"userId":"seller","ticker":"VALE3","quantity":1,"executedPrice":500,"side":"SELL","status":"FILLED"}"#,
            8,
        ),
    ];
    let first = service(store)
        .apply_order_events(&batch, Utc::now())
        .await
        .unwrap();
    assert!(
        matches!(&first[0], EventOutcome::DeadLetter(r) if r.reason == DeadLetterReason::SettlementNotCovered),
        "{first:?}"
    );
    // The sale has no shares either: both are dead letters, and the account keeps its 1.00.
    assert!(
        matches!(&first[1], EventOutcome::DeadLetter(_)),
        "{first:?}"
    );
    deposit(store, "seller", "1000.00", Utc::now()).await;

    // Delivered again after the deposit: still the first decision, with its reason.
    let again = service(store)
        .apply_order_events(&batch, Utc::now())
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(
        account(store, "seller").await.balance.value(),
        decimal("1001.00")
    );

    // A replay is a new delivery: decided against today's state.
    let replayed = delivered(
        r#"{"orderId":1,"userId":"seller","ticker":"PETR4","quantity":10,"executedPrice":10,"side":"BUY","status":"FILLED"}"#,
        9,
    );
    let outcome = service(store)
        .apply_order_events(&[replayed], Utc::now())
        .await
        .unwrap();
    assert_eq!(outcome, [EventOutcome::Applied]);
    assert_eq!(
        account(store, "seller").await.balance.value(),
        decimal("901.00")
    );
}
on_both_backends!(a_redelivered_dead_letter_stays_a_dead_letter);

/// Verdicts are read by key ranges: the answer holds exactly the deliveries asked for that
/// have one, whatever other deliveries of the same partition (offsets of other lengths) lie
/// inside those ranges.
async fn verdicts_are_found_exactly_for_the_deliveries_asked(database: &TestDatabase) {
    let store = database.store();
    let delivery =
        |(partition, offset): (u32, u64)| format!("order-events-v1/{partition}/{offset}");
    let decided: BTreeSet<String> = [
        (0, 9),
        (0, 10),
        (0, 11),
        (0, 57),
        (0, 100),
        (0, 1_000),
        (0, 1_005),
        (1, 10),
        (1, 55),
    ]
    .into_iter()
    .map(delivery)
    .collect();
    let changes = ChangeSet {
        verdicts: decided
            .iter()
            .map(|key| Verdict {
                delivery: key.clone(),
                user_id: user("decided"),
                rejection: Rejection::new(DeadLetterReason::SettlementNotCovered, "not covered"),
                decided_at: Utc::now(),
            })
            .collect(),
        ..ChangeSet::default()
    };
    store.commit(changes).await.unwrap();

    let asked: BTreeSet<String> = [
        (0, 10),
        (0, 12),
        (0, 57),
        (0, 1_001),
        (0, 1_005),
        (1, 11),
        (2, 10),
    ]
    .into_iter()
    .map(delivery)
    .chain(["not-a-delivery".to_owned()])
    .collect();
    let request = LoadRequest {
        deliveries: asked.clone(),
        ..LoadRequest::default()
    };
    let found: BTreeSet<String> = store
        .load(&request)
        .await
        .unwrap()
        .verdicts
        .into_iter()
        .map(|verdict| verdict.delivery)
        .collect();
    let expected: BTreeSet<String> = asked.intersection(&decided).cloned().collect();
    assert_eq!(found, expected);
    assert_eq!(
        expected.len(),
        3,
        "the test asks for three decided deliveries"
    );
}
on_both_backends!(verdicts_are_found_exactly_for_the_deliveries_asked);
