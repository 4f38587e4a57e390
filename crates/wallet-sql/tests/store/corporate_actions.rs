//! Corporate actions through the store, one holder per batch so every cursor step is taken:
//! a JCP whose entitlement is the position at the end of the record date (a trade after it
//! does not count, one before it does), listed as receivable until its payment date and then
//! paid with the tax withheld; a 1:2 split with an open SELL order; a 10:1 reverse split that
//! pays a fraction in cash; each exact, idempotent and audited.

use chrono::{DateTime, Utc};
use wallet_domain::corporate_actions::{ActionStage, CorporateAction, Received};
use wallet_domain::ledger::EntryType;
use wallet_domain::ports::{CorporateActionStore, LedgerAudit, WalletReader};
use wallet_domain::usecases::WalletService;
use wallet_domain::{OrderId, Ticker};
use wallet_sql::SqlStore;
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, at, cash, decimal, event, ledger, service, user};

fn petr4() -> Ticker {
    Ticker::parse("PETR4").unwrap()
}

fn action(json: &str) -> CorporateAction {
    CorporateAction::parse(json.as_bytes()).unwrap()
}

/// A PENDING and a FILLED of one whole order.
async fn trade(
    service: &WalletService<SqlStore>,
    (id, user_id, side, quantity, price): (i64, &str, &str, u32, &str),
    now: &str,
) {
    let order = |status: &str| {
        event(&format!(
            r#"{{"orderId":{id},"userId":"{user_id}","ticker":"PETR4","quantity":{quantity},"price":{price},"executedPrice":{price},"side":"{side}","status":"{status}"}}"#
        ))
    };
    service
        .apply_order_events(&[order("PENDING"), order("FILLED")], at(now))
        .await
        .unwrap();
}

/// Runs the job's rounds at `now`, one holder per batch, until every open action waits;
/// returns the holders applied.
async fn run_job(service: &WalletService<SqlStore>, now: DateTime<Utc>) -> usize {
    let mut applied = 0;
    for _ in 0..100 {
        let round = service.advance_corporate_actions(now, 1).await.unwrap();
        applied += round.applied;
        if !round.more {
            return applied;
        }
    }
    panic!("the job never came to rest");
}

async fn position(store: &SqlStore, user_id: &str) -> wallet_domain::Position {
    store
        .positions(&user(user_id))
        .await
        .unwrap()
        .into_iter()
        .find(|position| position.ticker == petr4())
        .expect("a PETR4 position")
}

async fn assert_audited(store: &SqlStore) {
    assert_eq!(store.audit(None).await.unwrap(), vec![]);
}

async fn a_jcp_a_split_and_a_reverse_split(database: &TestDatabase) {
    let store = database.store();
    let service = service(store);
    for (user_id, amount) in [
        ("ana", "20000.00"),
        ("bia", "5000.00"),
        ("carl", "10000.00"),
    ] {
        service
            .deposit(&cash(user_id, amount), at("2027-04-26T12:00:00Z"))
            .await
            .unwrap();
    }
    trade(
        &service,
        (1, "ana", "BUY", 350, "38.55"),
        "2027-04-28T15:00:00Z",
    )
    .await;
    trade(
        &service,
        (2, "bia", "BUY", 100, "40.00"),
        "2027-04-30T20:00:00Z",
    )
    .await;
    // After the end of the record date (2027-04-30, 24:00 at UTC-3 is 03:00Z the next day).
    trade(
        &service,
        (3, "carl", "BUY", 200, "40.00"),
        "2027-05-01T03:00:01Z",
    )
    .await;
    trade(
        &service,
        (4, "bia", "SELL", 33, "41.00"),
        "2027-05-03T15:00:00Z",
    )
    .await;

    let jcp = action(
        r#"{"id":"PETR4-2027-JCP-1","type":"INTEREST_ON_EQUITY","ticker":"PETR4",
            "amountPerShare":"0.8125","recordDate":"2027-04-30","paymentDate":"2027-05-20"}"#,
    );
    let received = service
        .receive_corporate_action(jcp.clone(), at("2027-04-29T12:00:00Z"))
        .await
        .unwrap();
    assert!(matches!(received, Received::New(_)), "{received:?}");
    assert!(matches!(
        service
            .receive_corporate_action(jcp.clone(), at("2027-04-29T13:00:00Z"))
            .await
            .unwrap(),
        Received::Duplicate(_)
    ));
    let other = action(
        r#"{"id":"PETR4-2027-JCP-1","type":"CASH_DIVIDEND","ticker":"PETR4",
            "amountPerShare":"1","recordDate":"2027-04-30","paymentDate":"2027-05-20"}"#,
    );
    assert!(matches!(
        service
            .receive_corporate_action(other, at("2027-04-29T13:00:00Z"))
            .await
            .unwrap(),
        Received::Conflict(stored) if stored.action == jcp
    ));

    // Before the record date has ended nobody is entitled yet.
    assert_eq!(run_job(&service, at("2027-05-01T02:59:59Z")).await, 0);
    // After it: ana's 350 and bia's 100 (her sale came later); carl bought too late.
    assert_eq!(run_job(&service, at("2027-05-04T12:00:00Z")).await, 2);
    let stored = store.action("PETR4-2027-JCP-1").await.unwrap().unwrap();
    assert_eq!(stored.stage, ActionStage::Paying);
    assert_eq!(stored.holders, 2);
    // 350 × 0.8125 = 284.375 → 284.38, 15 % = 42.657 → 42.66; 100 × 0.8125 = 81.25, 12.1875
    // → 12.19.
    assert_eq!(stored.cash_owed, decimal("310.78"));
    let owed = store.receivables(&user("ana")).await.unwrap();
    assert_eq!(owed.len(), 1);
    assert_eq!(
        (
            owed[0].gross.value(),
            owed[0].withheld.value(),
            owed[0].net()
        ),
        (decimal("284.38"), decimal("42.66"), decimal("241.72"))
    );
    assert!(store.receivables(&user("carl")).await.unwrap().is_empty());
    let ana_before = account(store, "ana").await.balance.value();
    // Nothing is paid before the payment date.
    assert_eq!(run_job(&service, at("2027-05-20T02:59:59Z")).await, 0);
    assert_eq!(run_job(&service, at("2027-05-20T03:00:00Z")).await, 2);
    assert_eq!(run_job(&service, at("2027-05-21T03:00:00Z")).await, 0);
    let ana = account(store, "ana").await;
    assert_eq!(ana.balance.value() - ana_before, decimal("241.72"));
    assert_eq!(ana.settled_balance, ana.balance.value());
    let cash_entries: Vec<(EntryType, rust_decimal::Decimal)> = ledger(store, "ana")
        .await
        .into_iter()
        .filter(|stored| stored.entry.step_key.starts_with("corporate/"))
        .map(|stored| (stored.entry.entry_type, stored.entry.cash_amount))
        .collect();
    assert_eq!(
        cash_entries,
        [
            (EntryType::InterestOnEquity, decimal("284.38")),
            (EntryType::TaxWithheld, decimal("-42.66"))
        ]
    );
    let done = store.action("PETR4-2027-JCP-1").await.unwrap().unwrap();
    assert_eq!(done.stage, ActionStage::Completed);
    assert_eq!(
        (done.cash_paid, done.tax_withheld),
        (decimal("310.78"), decimal("54.85"))
    );
    assert!(store.receivables(&user("ana")).await.unwrap().is_empty());
    assert_audited(store).await;

    // ana offers 40 shares at 42.00 before a 1:2 split: the order becomes 80 at 21.00.
    service
        .apply_order_events(
            &[event(
                r#"{"orderId":5,"userId":"ana","ticker":"PETR4","quantity":40,"price":42.00,"side":"SELL","status":"PENDING"}"#,
            )],
            at("2027-05-25T15:00:00Z"),
        )
        .await
        .unwrap();
    let bia_pnl = position(store, "bia").await.realized_pnl;
    service
        .receive_corporate_action(
            action(
                r#"{"id":"PETR4-2027-SPLIT","type":"SPLIT","ticker":"PETR4","ratio":"1:2",
                    "effectiveDate":"2027-06-01"}"#,
            ),
            at("2027-05-26T12:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(run_job(&service, at("2027-06-01T02:59:59Z")).await, 0);
    assert_eq!(run_job(&service, at("2027-06-01T03:00:00Z")).await, 3);
    let ana = position(store, "ana").await;
    assert_eq!(
        (
            ana.quantity.value(),
            ana.blocked_quantity.value(),
            ana.average_price.value()
        ),
        (decimal("700"), decimal("80"), decimal("19.275"))
    );
    let hold = store.hold(OrderId::new(5).unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (
            hold.quantity.value(),
            hold.reserved_quantity.value(),
            hold.limit_price.map(|price| price.value())
        ),
        (decimal("80"), decimal("80"), Some(decimal("21")))
    );
    assert_eq!(
        position(store, "bia").await.quantity.value(),
        decimal("134")
    );
    assert_eq!(position(store, "bia").await.realized_pnl, bia_pnl);
    assert_eq!(
        position(store, "carl").await.quantity.value(),
        decimal("400")
    );
    assert_audited(store).await;
    // The order fills in the new shares.
    service
        .apply_order_events(
            &[event(
                r#"{"orderId":5,"userId":"ana","ticker":"PETR4","quantity":80,"price":21.00,"executedPrice":21.00,"side":"SELL","status":"FILLED"}"#,
            )],
            at("2027-06-02T15:00:00Z"),
        )
        .await
        .unwrap();
    let ana = position(store, "ana").await;
    assert_eq!(
        (ana.quantity.value(), ana.blocked_quantity.value()),
        (decimal("620"), decimal("0"))
    );

    // 10:1: bia's 134 become 13.4 → 13 shares and 0.4 × 19.87 = 7.948 → 7.95 on 2027-07-10.
    service
        .receive_corporate_action(
            action(
                r#"{"id":"PETR4-2027-GROUP","type":"REVERSE_SPLIT","ticker":"PETR4","ratio":"10:1",
                    "effectiveDate":"2027-07-01","fractionPrice":"19.87","paymentDate":"2027-07-10"}"#,
            ),
            at("2027-06-20T12:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(run_job(&service, at("2027-07-01T03:00:00Z")).await, 3);
    let bia = position(store, "bia").await;
    // The 13 whole shares keep 13/13.4 of the 2,680.00 cost basis: 2,600.00, 200.00 each.
    assert_eq!(
        (bia.quantity.value(), bia.average_price.value()),
        (decimal("13"), decimal("200"))
    );
    assert_eq!(bia.realized_pnl, bia_pnl);
    assert_eq!(position(store, "ana").await.quantity.value(), decimal("62"));
    let owed = store.receivables(&user("bia")).await.unwrap();
    assert_eq!(
        owed.iter().map(|owed| owed.net()).collect::<Vec<_>>(),
        [decimal("7.95")]
    );
    assert!(store.receivables(&user("ana")).await.unwrap().is_empty());
    let bia_cash = account(store, "bia").await.balance.value();
    assert_eq!(run_job(&service, at("2027-07-10T03:00:00Z")).await, 1);
    assert_eq!(
        account(store, "bia").await.balance.value() - bia_cash,
        decimal("7.95")
    );
    let group = store.action("PETR4-2027-GROUP").await.unwrap().unwrap();
    assert_eq!(group.stage, ActionStage::Completed);
    assert_eq!(group.holders, 3);
    // 700 − 80 sold = 620 → 62, 134 → 13, 400 → 40.
    assert_eq!(group.shares_delta, decimal("-1039"));
    assert_audited(store).await;
}
on_both_backends!(a_jcp_a_split_and_a_reverse_split);

/// An action on a ticker nobody holds completes with no holder.
async fn an_action_nobody_is_entitled_to_completes(database: &TestDatabase) {
    let store = database.store();
    let service = service(store);
    service
        .receive_corporate_action(
            action(
                r#"{"id":"VALE3-D1","type":"CASH_DIVIDEND","ticker":"VALE3","amountPerShare":"1.5",
                    "recordDate":"2027-04-30","paymentDate":"2027-05-05"}"#,
            ),
            at("2027-04-29T12:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(run_job(&service, at("2027-05-10T12:00:00Z")).await, 0);
    let done = store.action("VALE3-D1").await.unwrap().unwrap();
    assert_eq!((done.stage, done.holders), (ActionStage::Completed, 0));
    assert!(done.completed_at.is_some());
}
on_both_backends!(an_action_nobody_is_entitled_to_completes);

/// Actions go by their dates, not by their arrival: one received first but due later waits,
/// and one whose cash would leave the wallet's range fails alone instead of holding up the
/// others.
async fn actions_go_by_date_and_a_failing_one_stops_alone(database: &TestDatabase) {
    let store = database.store();
    let service = service(store);
    service
        .deposit(&cash("ana", "100.00"), at("2027-04-26T12:00:00Z"))
        .await
        .unwrap();
    trade(
        &service,
        (1, "ana", "BUY", 2, "10.00"),
        "2027-04-28T15:00:00Z",
    )
    .await;
    for json in [
        r#"{"id":"LATER","type":"CASH_DIVIDEND","ticker":"PETR4","amountPerShare":"0.10",
            "recordDate":"2027-12-30","paymentDate":"2027-12-31"}"#,
        r#"{"id":"HUGE","type":"CASH_DIVIDEND","ticker":"PETR4","amountPerShare":"999999999999999",
            "recordDate":"2027-04-30","paymentDate":"2027-05-03"}"#,
        r#"{"id":"SOON","type":"CASH_DIVIDEND","ticker":"PETR4","amountPerShare":"0.25",
            "recordDate":"2027-04-29","paymentDate":"2027-05-03"}"#,
    ] {
        service
            .receive_corporate_action(action(json), at("2027-04-26T12:00:00Z"))
            .await
            .unwrap();
    }
    let due: Vec<String> = store
        .due_actions(at("2028-01-01T12:00:00Z"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|record| record.action.id)
        .collect();
    assert_eq!(due, ["SOON", "HUGE", "LATER"]);
    assert!(
        store
            .due_actions(at("2027-04-30T02:59:59Z"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    run_job(&service, at("2027-05-03T12:00:00Z")).await;
    let huge = store.action("HUGE").await.unwrap().unwrap();
    assert_eq!(huge.stage, ActionStage::Failed);
    assert!(
        huge.failure
            .as_deref()
            .unwrap_or_default()
            .contains("below 10^15"),
        "{huge:?}"
    );
    let soon = store.action("SOON").await.unwrap().unwrap();
    assert_eq!(
        (soon.stage, soon.cash_paid),
        (ActionStage::Completed, decimal("0.5"))
    );
    assert_eq!(
        store.action("LATER").await.unwrap().unwrap().stage,
        ActionStage::Waiting
    );
    assert_eq!(
        account(store, "ana").await.balance.value(),
        decimal("80.50")
    );
    assert_audited(store).await;
}
on_both_backends!(actions_go_by_date_and_a_failing_one_stops_alone);
