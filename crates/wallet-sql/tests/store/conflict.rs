//! Optimistic concurrency: two units of work loaded from the same snapshot cannot both
//! commit; the second gets `StoreError::Conflict` and nothing of it is written.

use std::time::Duration;

use wallet_domain::ports::{Outbox, StoreError, WalletStore};
use wallet_domain::unit_of_work::LoadRequest;
use wallet_domain::{Currency, EventOutcome, WalletBook};
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, at, cash, decimal, deposit, event, ledger, user};

/// Two books from one snapshot: the first commit wins, the second conflicts and writes nothing
/// (no account change, no ledger entry, no outbox row).
async fn the_second_of_two_commits_from_one_snapshot_conflicts(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T10:00:00Z");
    deposit(store, "investor-7", "1000.00", now).await;
    let mut request = LoadRequest::default();
    request.users.insert(user("investor-7"));
    let snapshot = store.load(&request).await.unwrap();

    let mut first = WalletBook::new(snapshot.clone(), Currency::BRL);
    first.withdraw(&cash("investor-7", "100.00"), now).unwrap();
    let mut second = WalletBook::new(snapshot, Currency::BRL);
    second.withdraw(&cash("investor-7", "250.00"), now).unwrap();

    store.commit(first.into_changes()).await.unwrap();
    let ledger_before = ledger(store, "investor-7").await;
    let outbox_before = store.pending(100).await.unwrap();

    let error = store.commit(second.into_changes()).await.unwrap_err();

    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    let investor = account(store, "investor-7").await;
    assert_eq!(investor.balance.value(), decimal("900.00"));
    assert_eq!(
        investor.version, 2,
        "stored by one deposit and one withdrawal"
    );
    assert_eq!(ledger(store, "investor-7").await, ledger_before);
    assert_eq!(store.pending(100).await.unwrap(), outbox_before);
}
on_both_backends!(the_second_of_two_commits_from_one_snapshot_conflicts);

/// A row that is gone since it was loaded is a conflict, not a new row: on MySQL the guarded
/// upsert inserts it, counts one change instead of two and rolls it back.
async fn a_row_gone_since_it_was_loaded_conflicts_and_is_not_written(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T10:00:00Z");
    deposit(store, "investor-9", "1000.00", now).await;
    let mut request = LoadRequest::default();
    request.users.insert(user("investor-9"));
    let mut book = WalletBook::new(store.load(&request).await.unwrap(), Currency::BRL);
    book.withdraw(&cash("investor-9", "100.00"), now).unwrap();
    database
        .execute_sql("DELETE FROM accounts WHERE user_id = 'investor-9'")
        .await
        .unwrap();

    let error = store.commit(book.into_changes()).await.unwrap_err();

    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    let reloaded = store.load(&request).await.unwrap();
    assert!(reloaded.accounts.is_empty(), "{:?}", reloaded.accounts);
}
on_both_backends!(a_row_gone_since_it_was_loaded_conflicts_and_is_not_written);

/// Two books that both create the same hold (version 0): the second insert is a duplicate
/// key, reported as a conflict, and its account change is rolled back with it.
async fn a_duplicate_new_row_conflicts_and_rolls_back_the_rest(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T10:00:00Z");
    deposit(store, "investor-8", "10000.00", now).await;
    let pending = event(
        r#"{"orderId":77,"userId":"investor-8","ticker":"VALE3","quantity":10,"price":60,
            "side":"BUY","status":"PENDING"}"#,
    );
    let mut request = LoadRequest::default();
    request.users.insert(user("investor-8"));
    request.orders.insert(pending.order_id);
    let snapshot = store.load(&request).await.unwrap();
    let mut first = WalletBook::new(snapshot.clone(), Currency::BRL);
    assert_eq!(
        first.apply_order_event(&pending, now),
        EventOutcome::Applied
    );
    let mut second = WalletBook::new(snapshot, Currency::BRL);
    assert_eq!(
        second.apply_order_event(&pending, now),
        EventOutcome::Applied
    );
    store.commit(first.into_changes()).await.unwrap();

    // The second book's account row is at the right version only if the first did not touch
    // it; make it so by giving it a fresh load of the account but the stale hold.
    let mut changes = second.into_changes();
    changes.accounts = store.load(&request).await.unwrap().accounts;
    let error = store.commit(changes).await.unwrap_err();

    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    let investor = account(store, "investor-8").await;
    assert_eq!(investor.blocked_balance.value(), decimal("600"));
    assert_eq!(
        investor.version, 2,
        "the conflicting commit did not bump the version"
    );
}
on_both_backends!(a_duplicate_new_row_conflicts_and_rolls_back_the_rest);

/// What `investor` looks like before a commit that must leave no trace.
#[derive(Debug, PartialEq)]
struct Trace {
    account: wallet_domain::Account,
    ledger: Vec<wallet_domain::StoredLedgerEntry>,
    outbox: Vec<wallet_domain::ports::OutboxRecord>,
}

async fn trace(store: &wallet_sql::SqlStore, investor: &str) -> Trace {
    Trace {
        account: account(store, investor).await,
        ledger: ledger(store, investor).await,
        outbox: store
            .pending(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|record| record.key == investor)
            .collect(),
    }
}

/// A change set for `investor` whose account is fresh but whose hold is stale (a fill of an
/// order cancelled since its load), with ledger entries and outbox events after them; and
/// `investor`'s trace before it.
async fn stale_hold_after_a_fresh_account(
    store: &wallet_sql::SqlStore,
    investor: &str,
    order_id: u64,
) -> (wallet_domain::unit_of_work::ChangeSet, Trace) {
    let now = at("2026-05-01T10:00:00Z");
    deposit(store, investor, "10000.00", now).await;
    let order = |status: &str| {
        event(&format!(
            r#"{{"orderId":{order_id},"userId":"{investor}","ticker":"VALE3","quantity":10,
                "price":60,"executedPrice":60,"side":"BUY","status":"{status}"}}"#
        ))
    };
    let mut request = LoadRequest::default();
    request.users.insert(user(investor));
    request.orders.insert(order("PENDING").order_id);
    let mut pending = WalletBook::new(store.load(&request).await.unwrap(), Currency::BRL);
    assert_eq!(
        pending.apply_order_event(&order("PENDING"), now),
        EventOutcome::Applied
    );
    store.commit(pending.into_changes()).await.unwrap();
    let snapshot = store.load(&request).await.unwrap();
    let mut first = WalletBook::new(snapshot.clone(), Currency::BRL);
    assert_eq!(
        first.apply_order_event(&order("CANCELLED"), now),
        EventOutcome::Applied
    );
    let mut second = WalletBook::new(snapshot, Currency::BRL);
    assert_eq!(
        second.apply_order_event(&order("FILLED"), now),
        EventOutcome::Applied
    );
    store.commit(first.into_changes()).await.unwrap();
    let before = trace(store, investor).await;
    // Only the hold is stale: the account is given at its stored version.
    let mut changes = second.into_changes();
    for account in &mut changes.accounts {
        account.version = before.account.version;
    }
    assert!(!changes.ledger.is_empty() && !changes.outbox.is_empty());
    (changes, before)
}

/// A fresh account but a stale hold: the account's statement comes first and succeeds, the
/// hold's guard does not hold, and the appends (ledger, outbox) come after it. On MySQL the
/// server stops the commit's text at the hold's guard, before the appends and the COMMIT; on
/// SQLite the hold's count is checked at once. Either way all of it is rolled back.
async fn a_stale_row_after_fresh_ones_rolls_back_the_whole_commit(database: &TestDatabase) {
    let store = database.store();
    let (changes, before) = stale_hold_after_a_fresh_account(store, "investor-6", 66).await;

    let error = store.commit(changes).await.unwrap_err();

    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(trace(store, "investor-6").await, before);
}
on_both_backends!(a_stale_row_after_fresh_ones_rolls_back_the_whole_commit);

/// A commit whose caller stops waiting while the server runs its text (an HTTP client that
/// hung up) still ends in COMMIT or ROLLBACK. Another transaction holds the stale hold's row,
/// so the server has updated the fresh account and waits there when the caller gives up; once
/// the row is free the hold's guard fails. Had the store's only connection gone back to the
/// pool inside that half-done transaction, the next commit's START TRANSACTION would have
/// committed the account's update. (The commit runs on a task of its own for this; sqlx also
/// closes a connection whose text was abandoned, so the test passes without the task too.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_caller_gave_up_leaves_nothing_open() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let database = TestDatabase::mysql().await;
    let store = wallet_sql::SqlStore::connect(database.url(), 1)
        .await
        .unwrap();
    let (changes, before) = stale_hold_after_a_fresh_account(&store, "investor-7", 77).await;
    let other = sea_orm::Database::connect(database.url()).await.unwrap();
    let blocker = other.begin().await.unwrap();
    blocker
        .execute_unprepared("SELECT version FROM holds WHERE order_id = 77 FOR UPDATE")
        .await
        .unwrap();

    let mut commit = Box::pin(store.commit(changes));
    let waited = tokio::time::timeout(Duration::from_millis(300), commit.as_mut()).await;
    assert!(waited.is_err(), "the commit waits for the hold's row");
    drop(commit);
    blocker.commit().await.unwrap();
    deposit(&store, "investor-70", "5.00", at("2026-05-01T11:00:00Z")).await;

    assert_eq!(trace(&store, "investor-7").await, before);
    assert_eq!(
        account(&store, "investor-70").await.balance.value(),
        decimal("5.00")
    );
    other.close().await.unwrap();
    store.close().await.unwrap();
    database.cleanup().await;
}

/// After commits that failed half-way (a guard that did not hold, then a duplicate key after
/// a statement that succeeded), the store's only connection is clean: nothing of them is left
/// open on it, and the next commit is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_leaves_its_connection_usable() {
    let database = TestDatabase::mysql().await;
    let store = wallet_sql::SqlStore::connect(database.url(), 1)
        .await
        .unwrap();
    let now = at("2026-05-01T10:00:00Z");
    deposit(&store, "investor-5", "10000.00", now).await;
    let pending = event(
        r#"{"orderId":55,"userId":"investor-5","ticker":"VALE3","quantity":10,"price":60,
            "side":"BUY","status":"PENDING"}"#,
    );
    let mut request = LoadRequest::default();
    request.users.insert(user("investor-5"));
    request.orders.insert(pending.order_id);
    let snapshot = store.load(&request).await.unwrap();
    let mut stale = WalletBook::new(snapshot.clone(), Currency::BRL);
    stale.withdraw(&cash("investor-5", "1.00"), now).unwrap();
    let books: Vec<WalletBook> = (0..2)
        .map(|_| {
            let mut book = WalletBook::new(snapshot.clone(), Currency::BRL);
            assert_eq!(book.apply_order_event(&pending, now), EventOutcome::Applied);
            book
        })
        .collect();
    let [first, duplicate]: [WalletBook; 2] = books.try_into().ok().unwrap();
    store.commit(first.into_changes()).await.unwrap();

    let guard = store.commit(stale.into_changes()).await.unwrap_err();
    let mut changes = duplicate.into_changes();
    changes.accounts = store.load(&request).await.unwrap().accounts;
    let key = store.commit(changes).await.unwrap_err();
    deposit(&store, "investor-5", "100.00", now).await;

    assert!(matches!(guard, StoreError::Conflict(_)), "{guard:?}");
    assert!(matches!(key, StoreError::Conflict(_)), "{key:?}");
    let investor = account(&store, "investor-5").await;
    assert_eq!(investor.balance.value(), decimal("10100.00"));
    assert_eq!(investor.blocked_balance.value(), decimal("600"));
    assert_eq!(investor.version, 3, "a deposit, the hold, a deposit");
    store.close().await.unwrap();
    database.cleanup().await;
}
