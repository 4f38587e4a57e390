//! Fees through the store: the fixture story under B3's schedule ends in the database exactly
//! where the domain's book ends in memory, FEE entries keep their fee's name, holds their fees,
//! wallet events announce each fee, and the audit still proves every balance from the ledger.

use std::sync::Arc;

use wallet_domain::ports::{LedgerAudit, Outbox, WalletReader};
use wallet_domain::unit_of_work::Snapshot;
use wallet_domain::usecases::WalletService;
use wallet_domain::{
    Currency, EntryType, Fee, FeeSchedule, FeeSide, FeeTerms, OrderId, WalletBook,
};
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, at, cash, decimal, deposit, ledger, story, ticker, user};

fn b3() -> FeeSchedule {
    let fee = |name: &str, fixed: &str, rate: &str| {
        Fee::new(FeeTerms {
            name: name.to_owned(),
            side: FeeSide::Both,
            fixed: decimal(fixed),
            rate: decimal(rate),
            minimum: None,
            maximum: None,
        })
        .unwrap()
    };
    FeeSchedule::new(vec![
        fee("BROKERAGE", "4.90", "0"),
        fee("B3_TRADING", "0", "0.00005"),
        fee("B3_SETTLEMENT", "0", "0.00025"),
    ])
    .unwrap()
}

async fn the_fixture_story_with_fees_is_stored_as_the_book_computes_it(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T10:15:30Z");
    deposit(store, "investor-42", "10000.00", now).await;
    let service = WalletService::new(store.clone(), Currency::BRL).with_fees(b3());
    for event in story() {
        service
            .apply_order_events(std::slice::from_ref(&event), now)
            .await
            .unwrap();
    }

    let mut book = WalletBook::new(Snapshot::default(), Currency::BRL).with_fees(Arc::new(b3()));
    book.deposit(&cash("investor-42", "10000.00"), now).unwrap();
    for event in story() {
        book.apply_order_event(&event, now);
    }
    let investor = user("investor-42");
    let expected = book.account(&investor).unwrap();
    let stored = account(store, "investor-42").await;
    assert_eq!(
        (stored.balance, stored.blocked_balance),
        (expected.balance, expected.blocked_balance)
    );
    assert!(
        stored.balance.value() < decimal("7725.60"),
        "fees were charged: {}",
        stored.balance
    );
    let position = &store.positions(&investor).await.unwrap()[0];
    let expected_position = book.position(&investor, &ticker("PETR4")).unwrap();
    assert_eq!(position.average_price, expected_position.average_price);
    assert_eq!(position.realized_pnl, expected_position.realized_pnl);
    let buy = store
        .hold(OrderId::new(1001).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        buy.fees_amount,
        book.hold(buy.order_id).unwrap().fees_amount
    );
    assert!(!buy.fees_amount.is_zero());

    let fees: Vec<(Option<String>, rust_decimal::Decimal)> = ledger(store, "investor-42")
        .await
        .into_iter()
        .filter(|stored| stored.entry.entry_type == EntryType::Fee)
        .map(|stored| (stored.entry.fee_name, stored.entry.cash_amount))
        .collect();
    let computed: Vec<(Option<String>, rust_decimal::Decimal)> = book
        .ledger()
        .iter()
        .filter(|entry| entry.entry_type == EntryType::Fee)
        .map(|entry| (entry.fee_name.clone(), entry.cash_amount))
        .collect();
    assert_eq!(fees, computed);
    assert!(!fees.is_empty());
    assert_eq!(store.audit(None).await.unwrap(), vec![]);

    let announced: Vec<serde_json::Value> = store
        .pending(200)
        .await
        .unwrap()
        .iter()
        .map(|record| serde_json::from_str(&record.payload).unwrap())
        .filter(|json: &serde_json::Value| json["type"] == "FEE_CHARGED")
        .collect();
    assert_eq!(announced.len(), fees.len());
    assert_eq!(announced[0]["transactionType"], "FEE");
    assert_eq!(announced[0]["reason"], "BROKERAGE");
    assert_eq!(announced[0]["amount"], "-4.90");
}
on_both_backends!(the_fixture_story_with_fees_is_stored_as_the_book_computes_it);
