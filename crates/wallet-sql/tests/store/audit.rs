//! The audit finds what was changed behind the store's back.

use wallet_domain::ports::LedgerAudit;
use wallet_domain::usecases::WalletService;
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{at, decimal, deposit, service, story, user};

/// A balance, a blocked balance and a position quantity tampered with directly in the
/// database each show up with the stored and the expected value; other accounts stay clean.
async fn audit_detects_tampered_rows(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T10:15:30Z");
    deposit(store, "investor-42", "10000.00", now).await;
    deposit(store, "bystander", "50.00", now).await;
    let service: WalletService<_> = service(store);
    service.apply_order_events(&story(), now).await.unwrap();
    assert_eq!(store.audit(None).await.unwrap(), vec![]);

    let changed = database
        .execute_sql("UPDATE accounts SET balance = '7726.6' WHERE user_id = 'investor-42'")
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let findings = store.audit(None).await.unwrap();
    // The balance no longer adds up from the ledger, and 1.00 of it is settled by no
    // obligation.
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(findings[0].user_id, user("investor-42"));
    assert_eq!(findings[0].subject, "balance");
    assert_eq!(findings[0].stored, decimal("7726.6"));
    assert_eq!(findings[0].expected, decimal("7725.60"));
    assert_eq!(findings[1].subject, "unsettled cash");
    assert_eq!(
        (findings[1].stored, findings[1].expected),
        (decimal("1.00"), decimal("0"))
    );

    database
        .execute_sql("UPDATE accounts SET blocked_balance = '0.5' WHERE user_id = 'investor-42'")
        .await
        .unwrap();
    database
        .execute_sql(
            "UPDATE positions SET quantity = '61' WHERE user_id = 'investor-42' AND ticker = 'PETR4'",
        )
        .await
        .unwrap();
    let subjects: Vec<String> = store
        .audit(Some(user("investor-42")))
        .await
        .unwrap()
        .into_iter()
        .map(|finding| finding.subject)
        .collect();
    assert_eq!(
        subjects,
        vec![
            "balance",
            "blocked_balance",
            "blocked_balance (ledger)",
            "quantity PETR4",
            "unsettled cash"
        ]
    );
    assert_eq!(store.audit(Some(user("bystander"))).await.unwrap(), vec![]);
}
on_both_backends!(audit_detects_tampered_rows);
