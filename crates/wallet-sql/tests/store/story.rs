//! The fixture story of `shared/fixtures/order-events/README.md` end to end through
//! `WalletService` and the store, with its exact numbers, and its idempotency.

use wallet_domain::ports::{LedgerAudit, Outbox, WalletReader};
use wallet_domain::{EventOutcome, HoldStatus, OrderId};
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, at, decimal, deposit, ledger, service, story, ticker, user};

/// Applied one event per unit of work, the story ends with the README's balances, position,
/// P&L and holds, and the audit finds nothing.
async fn fixture_story_one_event_at_a_time(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T10:15:30Z");
    deposit(store, "investor-42", "10000.00", now).await;
    let service = service(store);

    let expected_available = [
        "6145.00", "6160.00", "6160.00", "6160.00", "7138.75", "7725.60",
    ];
    for (event, available) in story().iter().zip(expected_available) {
        let outcomes = service
            .apply_order_events(std::slice::from_ref(event), now)
            .await
            .unwrap();
        assert_eq!(outcomes, vec![EventOutcome::Applied], "{event:?}");
        let investor = account(store, "investor-42").await;
        assert_eq!(
            investor.available_balance().value(),
            decimal(available),
            "after {event:?}"
        );
    }

    assert_final_story_state(database).await;
}
on_both_backends!(fixture_story_one_event_at_a_time);

/// The whole story as one batch gives the same end state.
async fn fixture_story_in_one_batch(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T10:15:30Z");
    deposit(store, "investor-42", "10000.00", now).await;
    let outcomes = service(store)
        .apply_order_events(&story(), now)
        .await
        .unwrap();
    assert!(
        outcomes
            .iter()
            .all(|outcome| *outcome == EventOutcome::Applied),
        "{outcomes:?}"
    );
    assert_final_story_state(database).await;
}
on_both_backends!(fixture_story_in_one_batch);

async fn assert_final_story_state(database: &TestDatabase) {
    let store = database.store();
    let investor = account(store, "investor-42").await;
    assert_eq!(investor.balance.value(), decimal("7725.60"));
    assert_eq!(investor.blocked_balance.value(), decimal("0"));

    let positions = store.positions(&user("investor-42")).await.unwrap();
    assert_eq!(positions.len(), 1);
    let petr4 = &positions[0];
    assert_eq!(petr4.ticker, ticker("PETR4"));
    assert_eq!(petr4.quantity.value(), decimal("60"));
    assert_eq!(petr4.blocked_quantity.value(), decimal("0"));
    assert_eq!(petr4.average_price.value(), decimal("38.40"));
    assert_eq!(petr4.realized_pnl, decimal("29.60"));

    let buy = store
        .hold(OrderId::new(1001).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(buy.status, HoldStatus::Filled);
    assert_eq!(buy.filled_amount.value(), decimal("3840.00"));
    let rejected = store
        .hold(OrderId::new(1002).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rejected.status, HoldStatus::Released);

    // The ledger adds up to the balance, and the audit agrees.
    let entries = ledger(store, "investor-42").await;
    let cash: rust_decimal::Decimal = entries.iter().map(|entry| entry.entry.cash_amount).sum();
    assert_eq!(cash, decimal("7725.60"));
    assert_eq!(
        entries.last().unwrap().entry.balance_after.value(),
        decimal("7725.60")
    );
    assert_eq!(store.audit(None).await.unwrap(), vec![]);

    let trades = store.last_trades(&[ticker("PETR4")]).await.unwrap();
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0].price.value(), decimal("39.14"));

    // Every step announced itself once, in order, with exact decimal strings.
    let outbox = store.pending(100).await.unwrap();
    let types: Vec<String> = outbox
        .iter()
        .map(|record| {
            let json: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
            assert_eq!(record.key, "investor-42");
            json["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(types.first().map(String::as_str), Some("DEPOSITED"));
    assert!(types.contains(&"FUNDS_RESERVED".to_owned()), "{types:?}");
    assert!(types.contains(&"ORDER_SETTLED".to_owned()), "{types:?}");
    // Rows in commit order; the events of one user in one commit share their row.
    assert!(outbox.windows(2).all(|pair| pair[0].id <= pair[1].id));
    let rows: std::collections::BTreeSet<i64> = outbox.iter().map(|record| record.id).collect();
    assert!(rows.len() < outbox.len(), "a fill's events share a row");
}

/// The same batch applied twice changes nothing the second time: no ledger entry, no outbox
/// row, no balance change, every outcome a duplicate.
async fn a_batch_applied_twice_changes_nothing_the_second_time(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T10:15:30Z");
    deposit(store, "investor-42", "10000.00", now).await;
    let service = service(store);
    service.apply_order_events(&story(), now).await.unwrap();
    let ledger_before = ledger(store, "investor-42").await;
    let account_before = account(store, "investor-42").await;
    let positions_before = store.positions(&user("investor-42")).await.unwrap();
    let outbox_before = store.pending(1_000).await.unwrap().len();

    let outcomes = service.apply_order_events(&story(), now).await.unwrap();

    assert!(
        outcomes
            .iter()
            .all(|outcome| *outcome == EventOutcome::Duplicate),
        "{outcomes:?}"
    );
    assert_eq!(ledger(store, "investor-42").await, ledger_before);
    assert_eq!(account(store, "investor-42").await, account_before);
    assert_eq!(
        store.positions(&user("investor-42")).await.unwrap(),
        positions_before
    );
    assert_eq!(store.pending(1_000).await.unwrap().len(), outbox_before);
}
on_both_backends!(a_batch_applied_twice_changes_nothing_the_second_time);
