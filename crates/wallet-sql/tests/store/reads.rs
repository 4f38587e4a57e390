//! The reads of the HTTP API, the sweeper and the relay: statement pages, balance at a time,
//! stale holds, the outbox, and idempotent deposits.

use chrono::{DateTime, Duration};
use wallet_domain::ports::{LedgerAudit, Outbox, WalletReader, WalletStore};
use wallet_domain::usecases::{ApplyError, Sweep};
use wallet_domain::{CashError, EventOutcome, HoldStatus, OrderId};
use wallet_sql::test_support::TestDatabase;

use crate::on_both_backends;
use crate::support::{account, at, cash, decimal, deposit, event, ledger, service, user};

/// Pages of 10 over 25 entries: 10, 10, 5, newest first, each page continuing below the
/// last id of the one before, together the whole ledger once.
async fn statement_pages_follow_the_cursor(database: &TestDatabase) {
    let store = database.store();
    let start = at("2026-05-01T09:00:00Z");
    for minute in 0..25 {
        deposit(store, "pager", "1.00", start + Duration::minutes(minute)).await;
    }
    deposit(store, "someone-else", "5.00", start).await;

    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.statement(&user("pager"), cursor, 10).await.unwrap();
        if page.is_empty() {
            break;
        }
        cursor = Some(page.last().unwrap().id);
        pages.push(page);
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![10, 10, 5]);
    let all: Vec<_> = pages.into_iter().flatten().collect();
    assert!(
        all.windows(2).all(|pair| pair[0].id > pair[1].id),
        "newest first"
    );
    assert!(all.iter().all(|entry| entry.entry.user_id == user("pager")));
    assert_eq!(all[0].entry.balance_after.value(), decimal("25"));
    assert_eq!(all[24].entry.balance_after.value(), decimal("1"));
}
on_both_backends!(statement_pages_follow_the_cursor);

async fn the_statement_is_in_booking_time_order_and_its_cursor_is_the_owners(
    database: &TestDatabase,
) {
    let store = database.store();
    // Booked out of time order (a clock stepped back): ids and times disagree.
    deposit(store, "clocks", "1.00", at("2026-05-01T09:10:00Z")).await;
    deposit(store, "clocks", "2.00", at("2026-05-01T09:05:00Z")).await;
    deposit(store, "clocks", "4.00", at("2026-05-01T09:10:00Z")).await;
    deposit(store, "stranger", "8.00", at("2026-05-01T09:00:00Z")).await;

    let all = store.statement(&user("clocks"), None, 10).await.unwrap();
    let amounts: Vec<String> = all
        .iter()
        .map(|stored| stored.entry.cash_amount.normalize().to_string())
        .collect();
    assert_eq!(
        amounts,
        ["4", "1", "2"],
        "newest booking first, then newest id"
    );

    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.statement(&user("clocks"), cursor, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(last.id);
        paged.extend(page.iter().map(|stored| stored.id));
    }
    let ids: Vec<i64> = all.iter().map(|stored| stored.id).collect();
    assert_eq!(paged, ids, "pages of one follow the whole statement");

    let strangers = store.statement(&user("stranger"), None, 10).await.unwrap();
    let foreign_cursor = Some(strangers[0].id);
    assert!(
        store
            .statement(&user("clocks"), foreign_cursor, 10)
            .await
            .unwrap()
            .is_empty(),
        "another user's entry is no cursor into this statement"
    );
}
on_both_backends!(the_statement_is_in_booking_time_order_and_its_cursor_is_the_owners);

/// The balance at a time is the one after the last entry at or before it.
async fn balance_at_reads_the_ledger(database: &TestDatabase) {
    let store = database.store();
    let first = at("2026-05-01T09:00:00Z");
    let second = at("2026-05-01T10:00:00Z");
    deposit(store, "timely", "100.00", first).await;
    deposit(store, "timely", "50.50", second).await;
    service(store)
        .withdraw(&cash("timely", "20.25"), second + Duration::hours(1))
        .await
        .unwrap();
    let timely = user("timely");

    let before = store
        .balance_at(&timely, first - Duration::seconds(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.balance.value(), decimal("0"));
    assert_eq!(before.as_of, None);
    let at_second = store.balance_at(&timely, second).await.unwrap().unwrap();
    assert_eq!(at_second.balance.value(), decimal("150.50"));
    assert_eq!(at_second.as_of, Some(second));
    let between = store
        .balance_at(&timely, second + Duration::minutes(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(between.balance.value(), decimal("150.50"));
    let later = store
        .balance_at(&timely, second + Duration::days(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(later.balance.value(), decimal("130.25"));
    assert_eq!(later.blocked_balance.value(), decimal("0"));
    // Instants outside four-digit years compare like the edges of what is stored: the end of
    // year 9999 minus 23:59 is in UTC year 10000, after every entry; year 1 before all.
    let far_future = DateTime::parse_from_rfc3339("9999-12-31T23:59:59-23:59")
        .unwrap()
        .to_utc();
    let future = store
        .balance_at(&timely, far_future)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(future.balance.value(), decimal("130.25"));
    let far_past = DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let past = store.balance_at(&timely, far_past).await.unwrap().unwrap();
    assert_eq!(past.balance.value(), decimal("0"));
    assert_eq!(
        store.balance_at(&user("nobody"), second).await.unwrap(),
        None
    );
}
on_both_backends!(balance_at_reads_the_ledger);

/// Active holds older than the cut-off are listed oldest first and expired in sweeps of at
/// most the limit; once expired they are not listed again.
async fn stale_holds_are_the_old_active_ones_and_expire_once(database: &TestDatabase) {
    let store = database.store();
    let start = at("2026-05-01T08:00:00Z");
    deposit(store, "sweepy", "10000.00", start).await;
    let service = service(store);
    for (order, hours) in [(501, 2), (502, 0), (503, 1), (504, 30)] {
        let pending = event(&format!(
            r#"{{"orderId":{order},"userId":"sweepy","ticker":"ITUB4","quantity":10,
                "price":30,"side":"BUY","status":"PENDING"}}"#
        ));
        let outcomes = service
            .apply_order_events(&[pending], start + Duration::hours(hours))
            .await
            .unwrap();
        assert_eq!(outcomes, vec![EventOutcome::Applied]);
    }
    let stale = store
        .stale_holds(start + Duration::hours(24), 10)
        .await
        .unwrap();
    let orders: Vec<i64> = stale.iter().map(|hold| hold.order_id.get()).collect();
    assert_eq!(orders, vec![502, 503, 501]);

    // Forty hours in, a 16-hour time-to-live cuts off at hour 24: hold 504 (hour 30) stays.
    let now = start + Duration::hours(40);
    let ttl = Duration::hours(16);
    let first = service.expire_stale_holds(now, ttl, 2).await.unwrap();
    assert_eq!(
        first,
        Sweep {
            listed: 2,
            applied: 2,
            more: true
        }
    );
    let second = service.expire_stale_holds(now, ttl, 10).await.unwrap();
    assert_eq!(
        second,
        Sweep {
            listed: 1,
            applied: 1,
            more: false
        }
    );
    assert_eq!(
        store
            .stale_holds(start + Duration::hours(24), 10)
            .await
            .unwrap(),
        vec![]
    );
    let hold = store
        .hold(OrderId::new(502).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hold.status, HoldStatus::Expired);
    assert_eq!(
        account(store, "sweepy").await.blocked_balance.value(),
        decimal("300")
    );
    assert_eq!(store.audit(None).await.unwrap(), vec![]);
}
on_both_backends!(stale_holds_are_the_old_active_ones_and_expire_once);

/// The relay reads unsent records lowest id first and marks them sent, idempotently.
async fn outbox_pending_and_mark_sent(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T08:00:00Z");
    for index in 0..5 {
        deposit(store, &format!("relay-{index}"), "1.00", now).await;
    }
    let pending = store.pending(3).await.unwrap();
    assert_eq!(pending.len(), 3);
    assert!(pending.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(pending[0].key, "relay-0");
    let json: serde_json::Value = serde_json::from_str(&pending[0].payload).unwrap();
    assert_eq!(json["type"], "DEPOSITED");
    assert_eq!(json["amount"], "1.00");

    let sent: Vec<i64> = pending.iter().map(|record| record.id).collect();
    store.mark_sent(sent.clone()).await.unwrap();
    store.mark_sent(sent).await.unwrap();
    let rest = store.pending(10).await.unwrap();
    let keys: Vec<&str> = rest.iter().map(|record| record.key.as_str()).collect();
    assert_eq!(keys, vec!["relay-3", "relay-4"]);
}
on_both_backends!(outbox_pending_and_mark_sent);

/// The events of one commit share one outbox row whoever they belong to; the relay keys each
/// record by its own user and takes whole rows, at least one, up to its limit in records.
async fn a_commit_of_several_users_is_one_outbox_row(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T08:00:00Z");
    for investor in ["ana", "bia", "caio"] {
        deposit(store, investor, "10000.00", now).await;
    }
    let pending = |order: u32, investor: &str| {
        event(&format!(
            r#"{{"orderId":{order},"userId":"{investor}","ticker":"PETR4","quantity":100,"price":38.55,"executedPrice":null,"side":"BUY","status":"PENDING","eventTimestamp":"2026-05-01T10:15:30.123"}}"#
        ))
    };
    service(store)
        .apply_order_events(
            &[pending(1, "ana"), pending(2, "bia"), pending(3, "caio")],
            now,
        )
        .await
        .unwrap();

    let everything = store.pending(100).await.unwrap();
    let rows: std::collections::BTreeSet<i64> = everything.iter().map(|record| record.id).collect();
    assert_eq!(
        rows.len(),
        4,
        "three deposits and one commit of three PENDINGs"
    );
    let batch_row = *rows.last().unwrap();
    let reserved: Vec<(&str, String)> = everything
        .iter()
        .filter(|record| record.id == batch_row)
        .map(|record| {
            let json: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
            assert_eq!(json["userId"], record.key.as_str());
            (
                record.key.as_str(),
                json["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reserved,
        [
            ("ana", "FUNDS_RESERVED".to_owned()),
            ("bia", "FUNDS_RESERVED".to_owned()),
            ("caio", "FUNDS_RESERVED".to_owned())
        ]
    );

    // Three one-event rows fill a round of three; a round of four cannot split the next row.
    let first_three = store.pending(4).await.unwrap();
    assert_eq!(first_three.len(), 3);
    assert!(first_three.iter().all(|record| record.id < batch_row));
    let deposits: Vec<i64> = first_three.iter().map(|record| record.id).collect();
    store.mark_sent(deposits).await.unwrap();
    // A row of more records than the limit goes alone, whole.
    let alone = store.pending(1).await.unwrap();
    assert_eq!(alone.len(), 3);
    assert!(alone.iter().all(|record| record.id == batch_row));
    store.mark_sent(vec![batch_row]).await.unwrap();
    assert!(store.pending(100).await.unwrap().is_empty());
}
on_both_backends!(a_commit_of_several_users_is_one_outbox_row);

/// A deposit repeated under the same idempotency key applies once and replays the stored
/// account; the same key with another amount is refused.
async fn idempotency_keys_replay_and_refuse(database: &TestDatabase) {
    let store = database.store();
    let now = at("2026-05-01T08:00:00Z");
    let service = service(store);
    let mut operation = cash("keyed", "40.00");
    // Quotes, a backslash, a statement terminator and characters beyond ASCII: stored and
    // matched exactly however the backend receives strings.
    operation.idempotency_key = Some(format!("{}'\\\"é🚀;--", "k-1".repeat(80)));
    let first = service.deposit(&operation, now).await.unwrap();
    operation.request_id = uuid::Uuid::new_v4();
    let replay = service
        .deposit(&operation, now + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(replay.balance, first.balance);
    assert_eq!(ledger(store, "keyed").await.len(), 1);
    assert_eq!(account(store, "keyed").await.balance.value(), decimal("40"));

    let mut other = cash("keyed", "41.00");
    other.idempotency_key = operation.idempotency_key.clone();
    let refused = service.deposit(&other, now).await.unwrap_err();
    assert!(
        matches!(refused, ApplyError::Cash(CashError::IdempotencyConflict(_))),
        "{refused:?}"
    );

    // Keys that differ in one character each, written as MySQL quotes them as they are
    // (visible ASCII, what the HTTP API takes) or as hex (a quote, a backslash): each is a key
    // of its own, so none of them was altered on its way into the database or into a look-up.
    let visible: String = (b'!'..=b'~')
        .filter(|byte| *byte != b'\'' && *byte != b'\\')
        .map(char::from)
        .collect();
    let keys: Vec<String> = ["", "%", "_", "?", "\"", "'", "\\", "é"]
        .iter()
        .map(|extra| format!("{visible}{extra}"))
        .collect();
    for (index, key) in keys.iter().enumerate() {
        let mut keyed = cash("many-keys", "1.00");
        keyed.idempotency_key = Some(key.clone());
        let applied = service.deposit(&keyed, now).await.unwrap();
        assert_eq!(
            applied.balance.value(),
            decimal(&(index + 1).to_string()),
            "key {key:?} was taken for another"
        );
        keyed.request_id = uuid::Uuid::new_v4();
        let replay = service.deposit(&keyed, now).await.unwrap();
        assert_eq!(
            replay.balance, applied.balance,
            "key {key:?} did not replay"
        );
    }
}
on_both_backends!(idempotency_keys_replay_and_refuse);
