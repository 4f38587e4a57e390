//! D+2 through the store: fills create obligations, a withdrawal of unsettled cash is refused
//! with the date it becomes possible, the settlement runs settle each obligation once, the
//! balance at a time reports the settled balance of then, and the audit proves the settled
//! balance against the open obligations throughout.

use chrono::NaiveDate;
use wallet_domain::ports::{LedgerAudit, WalletReader};
use wallet_domain::usecases::{ApplyError, WalletService};
use wallet_domain::{CashError, Currency, SettlementCalendar};
use wallet_sql::SqlStore;
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, at, cash, decimal, event, user};

fn d2_service(store: &SqlStore) -> WalletService<SqlStore> {
    let holidays = SettlementCalendar::parse_holidays("2027-04-21 # Tiradentes").unwrap();
    WalletService::new(store.clone(), Currency::BRL)
        .with_settlement(SettlementCalendar::new(2, holidays).unwrap())
}

fn order(id: i64, side: &str, status: &str, extra: &str) -> wallet_domain::OrderEvent {
    event(&format!(
        r#"{{"orderId":{id},"userId":"ana","ticker":"PETR4","quantity":10,"side":"{side}","status":"{status}"{extra}}}"#
    ))
}

async fn a_d_plus_two_week_through_the_store(database: &TestDatabase) {
    let store = database.store();
    let service = d2_service(store);
    service
        .deposit(&cash("ana", "1000.00"), at("2027-04-19T12:00:00Z"))
        .await
        .unwrap();
    let fill = |id, side, price: &str| {
        [
            order(id, side, "PENDING", &format!(r#","price":{price}"#)),
            order(
                id,
                side,
                "FILLED",
                &format!(r#","price":{price},"executedPrice":{price}"#),
            ),
        ]
    };
    service
        .apply_order_events(&fill(1, "BUY", "50.00"), at("2027-04-19T17:00:00Z"))
        .await
        .unwrap();
    service
        .apply_order_events(&fill(2, "SELL", "60.00"), at("2027-04-20T17:00:00Z"))
        .await
        .unwrap();
    let ana = account(store, "ana").await;
    assert_eq!(
        (ana.balance.value(), ana.settled_balance),
        (decimal("1100.00"), decimal("1000.00"))
    );
    let open = store.open_obligations(&user("ana")).await.unwrap();
    let dues: Vec<(NaiveDate, rust_decimal::Decimal)> = open
        .iter()
        .map(|obligation| (obligation.due_date, obligation.cash_amount))
        .collect();
    let date = |text| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    assert_eq!(
        dues,
        [
            (date("2027-04-22"), decimal("-500.00")),
            (date("2027-04-23"), decimal("600.00"))
        ]
    );
    assert_eq!(store.audit(None).await.unwrap(), vec![]);

    let refused = service
        .withdraw(&cash("ana", "1050.00"), at("2027-04-20T18:00:00Z"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            ApplyError::Cash(CashError::NotYetSettled { withdrawable_on: Some(on), .. }) if on == date("2027-04-23")
        ),
        "{refused:?}"
    );

    // Wednesday is a holiday: nothing is due. Thursday the purchase is paid, once.
    let wednesday = service
        .settle_due_obligations(at("2027-04-21T03:00:00Z"), 100)
        .await
        .unwrap();
    assert_eq!((wednesday.listed, wednesday.applied), (0, 0));
    let thursday = service
        .settle_due_obligations(at("2027-04-22T03:00:00Z"), 100)
        .await
        .unwrap();
    assert_eq!((thursday.listed, thursday.applied), (1, 1));
    let again = service
        .settle_due_obligations(at("2027-04-22T09:00:00Z"), 100)
        .await
        .unwrap();
    assert_eq!(again.listed, 0, "a settled obligation is not listed again");
    assert_eq!(
        account(store, "ana").await.settled_balance,
        decimal("500.00")
    );
    assert_eq!(store.audit(None).await.unwrap(), vec![]);

    service
        .settle_due_obligations(at("2027-04-23T03:00:00Z"), 100)
        .await
        .unwrap();
    service
        .withdraw(&cash("ana", "1050.00"), at("2027-04-23T13:00:00Z"))
        .await
        .unwrap();
    let ana = account(store, "ana").await;
    assert_eq!(
        (ana.balance.value(), ana.settled_balance),
        (decimal("50.00"), decimal("50.00"))
    );
    assert!(
        store
            .open_obligations(&user("ana"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.audit(None).await.unwrap(), vec![]);

    // Tuesday evening the settled balance was still the deposit.
    let tuesday = store
        .balance_at(&user("ana"), at("2027-04-20T20:00:00Z"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (tuesday.balance.value(), tuesday.settled_balance),
        (decimal("1100.00"), decimal("1000.00"))
    );
}
on_both_backends!(a_d_plus_two_week_through_the_store);

/// Two settlement runs that listed the same obligation: the second one's commit conflicts and
/// leaves nothing behind, so the obligation's cash is settled once.
async fn an_obligation_is_settled_once_when_two_runs_meet(database: &TestDatabase) {
    use wallet_domain::WalletBook;
    use wallet_domain::ports::{StoreError, WalletStore};
    use wallet_domain::unit_of_work::LoadRequest;

    let store = database.store();
    let service = d2_service(store);
    service
        .deposit(&cash("ana", "1000.00"), at("2027-04-19T12:00:00Z"))
        .await
        .unwrap();
    service
        .apply_order_events(
            &[order(
                1,
                "BUY",
                "FILLED",
                r#","price":50,"executedPrice":50"#,
            )],
            at("2027-04-19T17:00:00Z"),
        )
        .await
        .unwrap();
    let due = store.due_obligations(NaiveDate::from_ymd_opt(2027, 4, 30).unwrap(), 10);
    let due = due.await.unwrap();
    assert_eq!(due.len(), 1);
    let mut request = LoadRequest::default();
    request.users.insert(user("ana"));
    let settle_from_one_listing = || async {
        let mut book = WalletBook::new(store.load(&request).await.unwrap(), Currency::BRL);
        book.settle_obligation(&due[0], at("2027-04-22T03:00:00Z"));
        book.into_changes()
    };
    let (first, second) = (
        settle_from_one_listing().await,
        settle_from_one_listing().await,
    );
    store.commit(first).await.unwrap();
    assert!(matches!(
        store.commit(second).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        account(store, "ana").await.settled_balance,
        decimal("500.00")
    );
    assert_eq!(store.audit(None).await.unwrap(), vec![]);
}
on_both_backends!(an_obligation_is_settled_once_when_two_runs_meet);
