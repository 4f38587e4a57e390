//! The cut-over from the Java wallet (SPEC §10): what its rows become, what is refused, and how
//! an imported open order settles or releases once its first event arrives.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::*;
use rust_decimal::Decimal;
use wallet_domain::import::{JavaAccount, JavaPosition, JavaTransaction, JavaWallet, plan_import};
use wallet_domain::unit_of_work::Snapshot;
use wallet_domain::{Currency, EntryType, EventOutcome, Hold, HoldStatus, WalletBook};

fn created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap()
}

fn account(id: i64, user: &str, balance: &str, blocked: &str) -> JavaAccount {
    JavaAccount {
        id,
        user_id: user.to_owned(),
        balance: dec(balance),
        blocked_balance: dec(blocked),
        currency: "BRL".to_owned(),
        created_at: created(),
    }
}

fn transaction(user: &str, order: i64, kind: &str, amount: &str) -> JavaTransaction {
    JavaTransaction {
        user_id: user.to_owned(),
        order_id: order,
        transaction_type: kind.to_owned(),
        amount: dec(amount),
    }
}

/// One account with cash, a position, an open order and closed ones.
fn java() -> JavaWallet {
    JavaWallet {
        accounts: vec![account(
            1,
            "e82b8e13-1df9-41ba-a961-a28a4fe4e38b",
            "1000.0000",
            "355.0000",
        )],
        positions: vec![JavaPosition {
            account_id: 1,
            ticker: "PETR4".to_owned(),
            quantity: dec("10.0000"),
            average_price: dec("35.4200"),
        }],
        transactions: vec![
            transaction(
                "e82b8e13-1df9-41ba-a961-a28a4fe4e38b",
                1,
                "RESERVE",
                "355.0000",
            ),
            transaction(
                "e82b8e13-1df9-41ba-a961-a28a4fe4e38b",
                2,
                "RESERVE",
                "100.0000",
            ),
            transaction(
                "e82b8e13-1df9-41ba-a961-a28a4fe4e38b",
                2,
                "SETTLEMENT",
                "-99.0000",
            ),
            transaction(
                "e82b8e13-1df9-41ba-a961-a28a4fe4e38b",
                2,
                "REFUND",
                "1.0000",
            ),
            transaction(
                "e82b8e13-1df9-41ba-a961-a28a4fe4e38b",
                3,
                "RESERVE",
                "50.0000",
            ),
            transaction(
                "e82b8e13-1df9-41ba-a961-a28a4fe4e38b",
                3,
                "REFUND",
                "50.0000",
            ),
        ],
    }
}

const JAVA_USER: &str = "e82b8e13-1df9-41ba-a961-a28a4fe4e38b";

#[test]
fn accounts_positions_and_open_orders_are_carried_exactly_with_opening_entries() {
    let plan = plan_import(&java(), Currency::BRL, now()).unwrap();
    assert_eq!(plan.accounts.len(), 1);
    let imported = &plan.accounts[0];
    assert_eq!(imported.account.balance.value(), dec("1000"));
    assert_eq!(imported.account.blocked_balance.value(), dec("355"));
    assert_eq!(imported.account.created_at, created());
    assert_eq!(imported.positions.len(), 1);
    assert_eq!(imported.positions[0].quantity.value(), dec("10"));
    assert_eq!(imported.positions[0].average_price.value(), dec("35.42"));
    // Only order 1 is open: 2 settled and 3 was refunded.
    assert_eq!(imported.holds.len(), 1);
    let hold = &imported.holds[0];
    assert_eq!(
        (
            hold.order_id.get(),
            hold.status,
            hold.reserved_amount.value(),
            hold.terms_pending
        ),
        (1, HoldStatus::Reserved, dec("355"), true)
    );
    // The ledger explains every balance: cash, blocked cash and shares.
    let cash: Decimal = imported.ledger.iter().map(|entry| entry.cash_amount).sum();
    let blocked: Decimal = imported
        .ledger
        .iter()
        .map(|entry| entry.blocked_amount)
        .sum();
    let shares: Decimal = imported.ledger.iter().map(|entry| entry.quantity).sum();
    assert_eq!(
        (cash, blocked, shares),
        (dec("1000"), dec("355"), dec("10"))
    );
    assert!(
        imported
            .ledger
            .iter()
            .all(|entry| entry.entry_type == EntryType::Opening)
    );
}

#[test]
fn what_cannot_be_carried_exactly_is_refused_one_line_per_account() {
    let mut wallet = java();
    wallet.accounts.extend([
        account(2, "cents-too-fine", "10.1234", "0"),
        account(3, "blocked-unexplained", "100.00", "40.00"),
        account(4, "negative", "-5.00", "0"),
        account(5, "bad user id", "1.00", "0"),
        account(6, "huge-position", "1.00", "0"),
        account(7, "long-ticker", "1.00", "0"),
        account(8, "over-blocked", "10.00", "20.00"),
    ]);
    wallet.positions.push(JavaPosition {
        account_id: 6,
        ticker: "VALE3".to_owned(),
        quantity: dec("1000000000000000.0000"),
        average_price: dec("1.0000"),
    });
    wallet.positions.push(JavaPosition {
        account_id: 7,
        ticker: "ABCDEFGHIJKLMNOPQRST".to_owned(),
        quantity: dec("1.0000"),
        average_price: dec("1.0000"),
    });
    wallet
        .transactions
        .push(transaction("over-blocked", 9, "RESERVE", "20.0000"));
    wallet
        .transactions
        .push(transaction("ghost", 10, "RESERVE", "1.0000"));
    let refusals = plan_import(&wallet, Currency::BRL, now()).unwrap_err();
    let refused: Vec<&str> = refusals.iter().map(|r| r.user_id.as_str()).collect();
    assert_eq!(
        refused,
        [
            "cents-too-fine",
            "blocked-unexplained",
            "negative",
            "bad user id",
            "huge-position",
            "long-ticker",
            "over-blocked",
            "ghost"
        ]
    );
    let reason = |user: &str| {
        refusals
            .iter()
            .find(|r| r.user_id == user)
            .unwrap()
            .reasons
            .join("; ")
    };
    assert!(
        reason("cents-too-fine").contains("fractional digits"),
        "{}",
        reason("cents-too-fine")
    );
    assert!(reason("blocked-unexplained").contains("open RESERVEs add up to 0"));
    assert!(reason("negative").contains("negative"));
    assert!(reason("huge-position").contains("10^15"));
    assert!(reason("over-blocked").contains("above the balance"));
    assert!(reason("ghost").contains("no account"));
}

#[test]
fn an_imported_open_order_settles_and_releases_from_its_reservation() {
    let plan = plan_import(&java(), Currency::BRL, now()).unwrap();
    let changes = plan.into_changes();
    let mut book = WalletBook::new(
        Snapshot {
            accounts: changes.accounts,
            positions: changes.positions,
            holds: changes.holds,
            ..Snapshot::default()
        },
        Currency::BRL,
    );
    // The order's first event after the cut-over is its fill: 10 PETR4 at 35.40.
    let fill = event(
        1,
        JAVA_USER,
        "BUY",
        "FILLED",
        "10.0000",
        r#","price":35.5000,"executedPrice":35.40"#,
    );
    assert_eq!(book.apply_order_event(&fill, now()), EventOutcome::Applied);
    let hold = book.hold(order(1)).unwrap();
    assert_eq!(
        (hold.status, hold.terms_pending, hold.ticker.as_str()),
        (HoldStatus::Filled, false, "PETR4")
    );
    // 1000 − 354.00; the 1.00 the fill did not use is released.
    assert_eq!(balance(&book, JAVA_USER), (dec("646.00"), dec("0")));
    assert_eq!(shares(&book, JAVA_USER).0, dec("20"));
}

#[test]
fn an_imported_open_order_that_is_rejected_releases_its_amount() {
    let plan = plan_import(&java(), Currency::BRL, now()).unwrap();
    let changes = plan.into_changes();
    let mut book = WalletBook::new(
        Snapshot {
            accounts: changes.accounts,
            holds: changes.holds,
            ..Snapshot::default()
        },
        Currency::BRL,
    );
    let rejected = event(
        1,
        JAVA_USER,
        "BUY",
        "REJECTED",
        "10",
        r#","executedPrice":0"#,
    );
    assert_eq!(
        book.apply_order_event(&rejected, now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, JAVA_USER), (dec("1000.00"), dec("0")));
    // A SELL for an imported (cash) reservation contradicts it: refused, the hold untouched.
    let plan = plan_import(&java(), Currency::BRL, now()).unwrap();
    let changes = plan.into_changes();
    let mut book = WalletBook::new(
        Snapshot {
            accounts: changes.accounts,
            holds: changes.holds,
            ..Snapshot::default()
        },
        Currency::BRL,
    );
    let sell = event(1, JAVA_USER, "SELL", "CANCELLED", "10", "");
    assert!(matches!(
        book.apply_order_event(&sell, now()),
        EventOutcome::DeadLetter(_)
    ));
    let hold: &Hold = book.hold(order(1)).unwrap();
    assert!(hold.terms_pending);
}

#[test]
fn a_second_plan_against_what_was_imported_changes_nothing() {
    let plan = plan_import(&java(), Currency::BRL, now()).unwrap();
    let changes = plan.clone().into_changes();
    let existing = Snapshot {
        accounts: changes.accounts,
        positions: changes.positions,
        holds: changes.holds,
        ..Snapshot::default()
    };
    let again = plan.clone().against(&existing).unwrap();
    assert!(again.accounts.is_empty());
    assert_eq!(again.already_imported.len(), 1);
    // An account that changed here since is refused, never overwritten.
    let mut changed = existing;
    changed.accounts[0].balance =
        wallet_domain::Money::parse_amount("b", "1.00", Currency::BRL).unwrap();
    let refusals = plan.against(&changed).unwrap_err();
    assert!(refusals[0].reasons[0].contains("other balances"));
}
