//! A batch delivered again (its offsets were not committed before a crash or a rebalance) is
//! decided as the first time: a record that was dead-lettered is dead-lettered again, even when
//! the events after it have since made it applicable.

use chrono::Utc;
use wallet_domain::{DeadLetterReason, EventOutcome, OrderEvent};
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, decimal, deposit, event, service};

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
