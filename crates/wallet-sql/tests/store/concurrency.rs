//! Concurrent writers on one account (SPEC §9 "Concurrency", required on MariaDB, run on
//! SQLite as well): 16 tasks withdrawing and
//! settling orders on the same account at once. Version checks make every loser reload and
//! retry, so nothing is lost, nothing goes negative, and the ledger adds up to the balance.

use std::sync::Arc;

use rust_decimal::Decimal;
use tokio::sync::Barrier;
use wallet_domain::ports::{LedgerAudit, StoreError, WalletReader};
use wallet_domain::usecases::{ApplyError, WalletService};
use wallet_domain::{CashError, EventOutcome, HoldStatus, OrderEvent, OrderId};
use wallet_sql::SqlStore;
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, at, cash, decimal, deposit, event, ledger, service, ticker, user};

const TASKS: usize = 16;
const ROUNDS_PER_TASK: usize = 15;
/// Whole-unit-of-work retries a task allows itself on top of the service's own, as the
/// consumer would redeliver a batch that kept conflicting.
const TASK_RETRIES_MAX: usize = 200;
const HOT_USER: &str = "hot-account";

/// What one task saw.
#[derive(Debug, Default)]
struct Tally {
    withdrawn: Decimal,
    withdrawals_refused: usize,
    conflicts_retried: usize,
}

/// Retries `operation` while it reports a conflict.
async fn until_not_conflicting<T, F, Fut>(
    tally: &mut Tally,
    mut operation: F,
) -> Result<T, ApplyError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApplyError>>,
{
    for _ in 0..TASK_RETRIES_MAX {
        match operation().await {
            Err(ApplyError::Store(StoreError::Conflict(_))) => tally.conflicts_retried += 1,
            other => return other,
        }
    }
    panic!("still conflicting after {TASK_RETRIES_MAX} attempts");
}

fn order_events(order: i64) -> (OrderEvent, OrderEvent) {
    let pending = event(&format!(
        r#"{{"orderId":{order},"userId":"{HOT_USER}","ticker":"BBAS3","quantity":10,
            "price":20,"side":"BUY","status":"PENDING"}}"#
    ));
    let filled = event(&format!(
        r#"{{"orderId":{order},"userId":"{HOT_USER}","ticker":"BBAS3","quantity":10,
            "price":20,"executedPrice":19.5,"side":"BUY","status":"FILLED"}}"#
    ));
    (pending, filled)
}

async fn run_task(service: WalletService<SqlStore>, task: usize, barrier: Arc<Barrier>) -> Tally {
    let now = at("2026-05-01T12:00:00Z");
    let mut tally = Tally::default();
    barrier.wait().await;
    for round in 0..ROUNDS_PER_TASK {
        // Withdrawals of 150.00 interleaved with buys that reserve 200.00 and settle 195.00:
        // more than the account holds in total, so some of both must be refused.
        let operation = cash(HOT_USER, "150.00");
        match until_not_conflicting(&mut tally, || service.withdraw(&operation, now)).await {
            Ok(_) => tally.withdrawn += decimal("150.00"),
            Err(ApplyError::Cash(CashError::InsufficientFunds {
                available,
                requested,
            })) => {
                assert!(
                    available < requested,
                    "refused {requested} with {available} available"
                );
                tally.withdrawals_refused += 1;
            }
            Err(other) => panic!("withdrawal failed: {other:?}"),
        }
        let order = i64::try_from(10_000 + task * 100 + round).unwrap();
        let (pending, filled) = order_events(order);
        let outcomes = until_not_conflicting(&mut tally, || {
            service.apply_order_events(std::slice::from_ref(&pending), now)
        })
        .await
        .unwrap();
        assert!(
            matches!(outcomes[0], EventOutcome::Applied | EventOutcome::Denied(_)),
            "{outcomes:?}"
        );
        until_not_conflicting(&mut tally, || {
            service.apply_order_events(std::slice::from_ref(&filled), now)
        })
        .await
        .unwrap();
    }
    tally
}

/// 16 tasks × 15 rounds of a withdrawal and a PENDING + FILLED buy on one account: the
/// balance never goes negative, every refusal was justified, and the balance is exactly the
/// deposit less what succeeded.
async fn concurrent_withdrawals_and_settlements_on_one_account_lose_nothing(
    database: &TestDatabase,
) {
    let store = database.store();
    deposit(store, HOT_USER, "50000.00", at("2026-05-01T11:00:00Z")).await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(run_task(service(store), task, barrier.clone())))
        .collect();
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await.unwrap());
    }

    let withdrawn: Decimal = tallies.iter().map(|tally| tally.withdrawn).sum();
    let refused: usize = tallies.iter().map(|tally| tally.withdrawals_refused).sum();
    let conflicts: usize = tallies.iter().map(|tally| tally.conflicts_retried).sum();
    let mut filled = 0_u32;
    let mut settled_cost = Decimal::ZERO;
    for task in 0..TASKS {
        for round in 0..ROUNDS_PER_TASK {
            let order = OrderId::new(i64::try_from(10_000 + task * 100 + round).unwrap()).unwrap();
            let hold = store
                .hold(order)
                .await
                .unwrap()
                .expect("every order has a hold");
            match hold.status {
                HoldStatus::Filled => {
                    assert_eq!(hold.filled_amount.value(), decimal("195.00"));
                    filled += 1;
                    settled_cost += hold.filled_amount.value();
                }
                HoldStatus::Denied => {}
                other => panic!("order {order} ended {other:?}"),
            }
        }
    }
    let hot = account(store, HOT_USER).await;
    println!(
        "{} operations: {withdrawn} withdrawn, {refused} withdrawals refused, {filled} buys \
         filled, {conflicts} conflicts retried by the tasks",
        TASKS * ROUNDS_PER_TASK * 3
    );
    assert!(
        refused > 0 && filled > 0,
        "the run must exhaust the account"
    );
    assert!(hot.balance.value() >= Decimal::ZERO);
    assert!(hot.blocked_balance.value() >= Decimal::ZERO);
    assert_eq!(
        hot.blocked_balance.value(),
        Decimal::ZERO,
        "every hold is final"
    );
    // No lost update: the balance is the deposit less exactly what succeeded.
    assert_eq!(
        hot.balance.value(),
        decimal("50000.00") - withdrawn - settled_cost
    );
    let positions = store.positions(&user(HOT_USER)).await.unwrap();
    assert_eq!(positions[0].ticker, ticker("BBAS3"));
    assert_eq!(positions[0].quantity.value(), Decimal::from(filled * 10));
    let entries = ledger(store, HOT_USER).await;
    let ledger_sum: Decimal = entries.iter().map(|entry| entry.entry.cash_amount).sum();
    assert_eq!(ledger_sum, hot.balance.value());
    assert_eq!(entries.last().unwrap().entry.balance_after, hot.balance);
    assert_eq!(store.audit(None).await.unwrap(), vec![]);
}
// On SQLite the writers queue for the database's single write lock (busy timeout) instead of
// row locks; the version checks are the same.
on_both_backends!(concurrent_withdrawals_and_settlements_on_one_account_lose_nothing);
