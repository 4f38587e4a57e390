//! One test per row of the SPEC §3 "Order events → effects" table, named after the row.

mod common;

use common::*;
use rust_decimal::Decimal;
use wallet_domain::{
    DeadLetterReason, DenyReason, EntryType, EventOutcome, HoldStatus, WalletBook, WalletEventType,
};

/// The ledger of the book adds up to the account's balance and blocked balance.
fn assert_ledger_matches(book: &WalletBook, user_id: &str) {
    let (balance, blocked) = balance(book, user_id);
    let entries = book
        .ledger()
        .iter()
        .filter(|entry| entry.user_id == user(user_id));
    let (cash, held) = entries.fold((Decimal::ZERO, Decimal::ZERO), |(cash, held), entry| {
        (cash + entry.cash_amount, held + entry.blocked_amount)
    });
    assert_eq!((cash, held), (balance, blocked), "ledger sums vs account");
}

fn last_event_type(book: &WalletBook) -> WalletEventType {
    book.outbox().last().unwrap().event_type
}

#[test]
fn pending_buy_with_available_funds_blocks_cash_and_publishes_funds_reserved() {
    let mut book = book_with_cash("u", "1000.00");
    let outcome = book.apply_order_event(&pending(1, "u", "BUY", "3", "0.335"), now());
    assert_eq!(outcome, EventOutcome::Applied);
    // ⌈3 × 0.335⌉ = ⌈1.005⌉ = 1.01: a reservation is never short.
    assert_eq!(balance(&book, "u"), (dec("1000.00"), dec("1.01")));
    let hold = book.hold(order(1)).unwrap();
    assert_eq!(hold.status, HoldStatus::Reserved);
    assert_eq!(hold.reserved_amount.value(), dec("1.01"));
    assert_eq!(book.ledger().last().unwrap().entry_type, EntryType::Reserve);
    assert_eq!(last_event_type(&book), WalletEventType::FundsReserved);
    assert_ledger_matches(&book, "u");
}

#[test]
fn pending_buy_otherwise_is_denied_without_balance_change() {
    let mut book = book_with_cash("u", "100.00");
    let outcome = book.apply_order_event(&pending(1, "u", "BUY", "10", "10.01"), now());
    assert_eq!(outcome, EventOutcome::Denied(DenyReason::InsufficientFunds));
    assert_eq!(balance(&book, "u"), (dec("100.00"), dec("0")));
    let hold = book.hold(order(1)).unwrap();
    assert_eq!(
        (hold.status, hold.deny_reason),
        (HoldStatus::Denied, Some(DenyReason::InsufficientFunds))
    );
    assert_eq!(last_event_type(&book), WalletEventType::ReservationRejected);

    let outcome = book.apply_order_event(&pending(2, "nobody", "BUY", "1", "1"), now());
    assert_eq!(outcome, EventOutcome::Denied(DenyReason::AccountNotFound));
    assert!(book.account(&user("nobody")).is_none());
}

#[test]
fn pending_sell_with_available_quantity_blocks_shares_and_publishes_assets_reserved() {
    let mut book = book_with_cash("u", "1000.00");
    book.apply_order_event(&filled(1, "u", "BUY", "10", "10", "10"), now());
    let outcome = book.apply_order_event(&pending(2, "u", "SELL", "4", "11"), now());
    assert_eq!(outcome, EventOutcome::Applied);
    assert_eq!(shares(&book, "u"), (dec("10"), dec("4")));
    assert_eq!(
        book.hold(order(2)).unwrap().reserved_quantity.value(),
        dec("4")
    );
    assert_eq!(
        book.ledger().last().unwrap().entry_type,
        EntryType::AssetReserve
    );
    assert_eq!(last_event_type(&book), WalletEventType::AssetsReserved);
}

#[test]
fn pending_sell_otherwise_is_denied() {
    let mut book = book_with_cash("u", "1000.00");
    book.apply_order_event(&filled(1, "u", "BUY", "10", "10", "10"), now());
    book.apply_order_event(&pending(2, "u", "SELL", "8", "11"), now());
    // Only 2 shares are still available.
    let outcome = book.apply_order_event(&pending(3, "u", "SELL", "3", "11"), now());
    assert_eq!(
        outcome,
        EventOutcome::Denied(DenyReason::InsufficientPosition)
    );
    assert_eq!(shares(&book, "u"), (dec("10"), dec("8")));
    assert_eq!(last_event_type(&book), WalletEventType::ReservationRejected);
}

#[test]
fn partially_filled_settles_the_part_of_the_cumulative_fill_not_settled_yet() {
    let mut book = book_with_cash("u", "10000.00");
    book.apply_order_event(&pending(1, "u", "BUY", "100", "10"), now());
    assert_eq!(
        book.apply_order_event(&partial(1, "u", "BUY", "100", "30", "9.90"), now()),
        EventOutcome::Applied
    );
    // 30 × 9.90 = 297.00 paid from the 1000.00 reserved.
    assert_eq!(balance(&book, "u"), (dec("9703.00"), dec("703.00")));
    assert_eq!(
        book.apply_order_event(&partial(1, "u", "BUY", "100", "50", "9.95"), now()),
        EventOutcome::Applied
    );
    // Cumulative 50 × 9.95 = 497.50, so this step pays 200.50.
    assert_eq!(balance(&book, "u"), (dec("9502.50"), dec("502.50")));
    assert_eq!(shares(&book, "u"), (dec("50"), dec("0")));
    let hold = book.hold(order(1)).unwrap();
    assert_eq!(
        (hold.status, hold.filled_quantity.value()),
        (HoldStatus::PartiallyFilled, dec("50"))
    );
    // The same cumulative fill again, or an older one, changes nothing.
    assert_eq!(
        book.apply_order_event(&partial(1, "u", "BUY", "100", "50", "9.95"), now()),
        EventOutcome::Duplicate
    );
    assert_eq!(
        book.apply_order_event(&partial(1, "u", "BUY", "100", "30", "9.90"), now()),
        EventOutcome::Duplicate
    );
    assert_ledger_matches(&book, "u");
}

#[test]
fn filled_buy_pays_the_cost_releases_the_rest_and_averages_the_price() {
    let mut book = book_with_cash("u", "10000.00");
    book.apply_order_event(&pending(1, "u", "BUY", "100", "38.55"), now());
    assert_eq!(
        book.apply_order_event(&filled(1, "u", "BUY", "100", "38.55", "38.40"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "u"), (dec("6160.00"), dec("0")));
    let position = book.position(&user("u"), &ticker("PETR4")).unwrap();
    assert_eq!(
        (position.quantity.value(), position.average_price.value()),
        (dec("100"), dec("38.40"))
    );
    let types: Vec<EntryType> = book.ledger().iter().map(|entry| entry.entry_type).collect();
    assert_eq!(
        types,
        [
            EntryType::Deposit,
            EntryType::Reserve,
            EntryType::Settlement,
            EntryType::Refund
        ]
    );
    assert_eq!(book.hold(order(1)).unwrap().status, HoldStatus::Filled);
    assert!(
        book.outbox()
            .iter()
            .any(|event| event.event_type == WalletEventType::OrderSettled)
    );

    // A second buy moves the weighted average.
    book.apply_order_event(&pending(2, "u", "BUY", "50", "40"), now());
    book.apply_order_event(&filled(2, "u", "BUY", "50", "40", "40"), now());
    let position = book.position(&user("u"), &ticker("PETR4")).unwrap();
    // (3840 + 2000) / 150 = 38.93333333…
    assert_eq!(position.average_price.value(), dec("38.93333333"));
    assert_ledger_matches(&book, "u");
}

#[test]
fn filled_buy_above_the_reservation_takes_the_difference_from_available_cash() {
    let mut book = book_with_cash("u", "1000.00");
    book.apply_order_event(&pending(1, "u", "BUY", "10", "50"), now());
    // Executed worse than the limit: 10 × 51 = 510 against 500 reserved.
    assert_eq!(
        book.apply_order_event(&filled(1, "u", "BUY", "10", "50", "51"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "u"), (dec("490.00"), dec("0")));
    assert_ledger_matches(&book, "u");
}

#[test]
fn filled_sell_delivers_shares_credits_proceeds_and_books_realized_pnl() {
    let mut book = book_with_cash("u", "10000.00");
    book.apply_order_event(&filled(1, "u", "BUY", "100", "38.40", "38.40"), now());
    book.apply_order_event(&pending(2, "u", "SELL", "40", "39.10"), now());
    assert_eq!(
        book.apply_order_event(&filled(2, "u", "SELL", "40", "39.10", "39.14"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "u"), (dec("7725.60"), dec("0")));
    let position = book.position(&user("u"), &ticker("PETR4")).unwrap();
    assert_eq!(position.quantity.value(), dec("60"));
    assert_eq!(position.blocked_quantity.value(), dec("0"));
    assert_eq!(position.average_price.value(), dec("38.40"));
    assert_eq!(position.realized_pnl, dec("29.60"));
    assert_ledger_matches(&book, "u");
}

#[test]
fn rejected_canceled_cancelled_and_expired_release_what_is_reserved() {
    for (index, status) in ["REJECTED", "CANCELED", "CANCELLED", "EXPIRED"]
        .into_iter()
        .enumerate()
    {
        let mut book = book_with_cash("u", "1000.00");
        book.apply_order_event(&filled(100, "u", "BUY", "10", "10", "10"), now());
        let buy = 1 + index as i64 * 2;
        let sell = buy + 1;
        book.apply_order_event(&pending(buy, "u", "BUY", "10", "10"), now());
        book.apply_order_event(&pending(sell, "u", "SELL", "5", "10"), now());
        assert_eq!(
            book.apply_order_event(&ended(buy, "u", "BUY", status, "10"), now()),
            EventOutcome::Applied
        );
        assert_eq!(
            book.apply_order_event(&ended(sell, "u", "SELL", status, "5"), now()),
            EventOutcome::Applied
        );
        assert_eq!(balance(&book, "u"), (dec("900.00"), dec("0")), "{status}");
        assert_eq!(shares(&book, "u"), (dec("10"), dec("0")), "{status}");
        assert_eq!(book.hold(order(buy)).unwrap().status, HoldStatus::Released);
        let released = book.outbox().last().unwrap();
        assert_eq!(released.event_type, WalletEventType::ReservationReleased);
        assert_eq!(released.reason.as_deref(), Some(status));
        let types: Vec<EntryType> = book
            .ledger()
            .iter()
            .rev()
            .take(2)
            .map(|entry| entry.entry_type)
            .collect();
        assert_eq!(types, [EntryType::AssetRelease, EntryType::Refund]);
        assert_ledger_matches(&book, "u");
    }
}

#[test]
fn any_status_on_a_final_hold_or_an_applied_step_is_a_no_op() {
    let mut book = book_with_cash("u", "1000.00");
    book.apply_order_event(&pending(1, "u", "BUY", "10", "10"), now());
    book.apply_order_event(&filled(1, "u", "BUY", "10", "10", "9"), now());
    let ledger_length = book.ledger().len();
    for event in [
        pending(1, "u", "BUY", "10", "10"),
        filled(1, "u", "BUY", "10", "10", "9"),
        partial(1, "u", "BUY", "10", "5", "9"),
        ended(1, "u", "BUY", "CANCELLED", "10"),
    ] {
        assert_eq!(
            book.apply_order_event(&event, now()),
            EventOutcome::Duplicate
        );
    }
    assert_eq!(book.ledger().len(), ledger_length);
    assert_eq!(balance(&book, "u"), (dec("910.00"), dec("0")));
}

#[test]
fn filled_or_partially_filled_without_a_hold_reserves_and_settles_at_once() {
    let mut book = book_with_cash("u", "1000.00");
    assert_eq!(
        book.apply_order_event(&filled(1, "u", "BUY", "10", "10", "9.5"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "u"), (dec("905.00"), dec("0")));
    assert_eq!(book.hold(order(1)).unwrap().status, HoldStatus::Filled);
    // The PENDING that arrives late is a no-op.
    assert_eq!(
        book.apply_order_event(&pending(1, "u", "BUY", "10", "10"), now()),
        EventOutcome::Duplicate
    );

    assert_eq!(
        book.apply_order_event(&partial(2, "u", "SELL", "10", "4", "10"), now()),
        EventOutcome::Applied
    );
    assert_eq!(shares(&book, "u"), (dec("6"), dec("0")));
    assert_eq!(balance(&book, "u"), (dec("945.00"), dec("0")));
    assert_ledger_matches(&book, "u");
}

#[test]
fn rejected_without_a_hold_records_a_released_hold_so_a_late_pending_is_a_no_op() {
    let mut book = book_with_cash("u", "1000.00");
    assert_eq!(
        book.apply_order_event(&ended(1, "u", "BUY", "REJECTED", "10"), now()),
        EventOutcome::Applied
    );
    assert_eq!(book.hold(order(1)).unwrap().status, HoldStatus::Released);
    assert_eq!(
        book.apply_order_event(&pending(1, "u", "BUY", "10", "10"), now()),
        EventOutcome::Duplicate
    );
    assert_eq!(balance(&book, "u"), (dec("1000.00"), dec("0")));
}

#[test]
fn pending_when_a_hold_exists_is_a_no_op() {
    let mut book = book_with_cash("u", "1000.00");
    book.apply_order_event(&pending(1, "u", "BUY", "10", "10"), now());
    assert_eq!(
        book.apply_order_event(&pending(1, "u", "BUY", "10", "10"), now()),
        EventOutcome::Duplicate
    );
    assert_eq!(balance(&book, "u"), (dec("1000.00"), dec("100.00")));
}

#[test]
fn filled_whose_cash_or_shares_are_not_there_is_dead_lettered_and_changes_nothing() {
    let mut book = book_with_cash("u", "100.00");
    let before = book.ledger().len();
    let outcome = book.apply_order_event(&filled(1, "u", "BUY", "10", "20", "20"), now());
    assert!(
        matches!(outcome, EventOutcome::DeadLetter(r) if r.reason == DeadLetterReason::SettlementNotCovered)
    );
    let outcome = book.apply_order_event(&filled(2, "u", "SELL", "10", "20", "20"), now());
    assert!(
        matches!(outcome, EventOutcome::DeadLetter(r) if r.reason == DeadLetterReason::SettlementNotCovered)
    );
    let outcome = book.apply_order_event(&filled(3, "ghost", "BUY", "1", "1", "1"), now());
    assert!(
        matches!(outcome, EventOutcome::DeadLetter(r) if r.reason == DeadLetterReason::SettlementNotCovered)
    );
    assert_eq!(book.ledger().len(), before);
    assert!(book.hold(order(1)).is_none() && book.hold(order(2)).is_none());
    assert_eq!(balance(&book, "u"), (dec("100.00"), dec("0")));

    // A fill above the reservation that available cash cannot cover changes nothing either.
    book.apply_order_event(&pending(4, "u", "BUY", "10", "10"), now());
    let outcome = book.apply_order_event(&filled(4, "u", "BUY", "10", "10", "10.01"), now());
    assert!(
        matches!(outcome, EventOutcome::DeadLetter(r) if r.reason == DeadLetterReason::SettlementNotCovered)
    );
    assert_eq!(balance(&book, "u"), (dec("100.00"), dec("100.00")));
    assert_eq!(book.hold(order(4)).unwrap().status, HoldStatus::Reserved);
}

#[test]
fn unknown_status_is_ignored() {
    let mut book = book_with_cash("u", "100.00");
    for status in ["NEW", "SENT"] {
        assert_eq!(
            book.apply_order_event(&ended(1, "u", "BUY", status, "10"), now()),
            EventOutcome::Ignored
        );
    }
    assert!(book.hold(order(1)).is_none());
}

#[test]
fn no_final_event_within_the_hold_ttl_expires_the_hold_and_a_later_fill_is_still_booked() {
    let mut book = book_with_cash("u", "1000.00");
    book.apply_order_event(&pending(1, "u", "BUY", "10", "10"), now());
    assert_eq!(book.expire_hold(order(1), now()), EventOutcome::Applied);
    assert_eq!(balance(&book, "u"), (dec("1000.00"), dec("0")));
    assert_eq!(book.hold(order(1)).unwrap().status, HoldStatus::Expired);
    let released = book.outbox().last().unwrap();
    assert_eq!(
        (released.event_type, released.reason.as_deref()),
        (WalletEventType::ReservationReleased, Some("EXPIRED"))
    );
    assert_eq!(book.expire_hold(order(1), now()), EventOutcome::Duplicate);

    // The trade happened: it is settled from available cash, and the hold stays final.
    assert_eq!(
        book.apply_order_event(&filled(1, "u", "BUY", "10", "10", "10"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "u"), (dec("900.00"), dec("0")));
    let hold = book.hold(order(1)).unwrap();
    assert_eq!(
        (hold.status, hold.filled_quantity.value()),
        (HoldStatus::Expired, dec("10"))
    );
    assert_eq!(book.expire_hold(order(1), now()), EventOutcome::Duplicate);
    assert_ledger_matches(&book, "u");
}

#[test]
fn a_partial_fill_after_expiry_never_makes_the_hold_active_again() {
    let mut book = book_with_cash("u", "1000.00");
    book.apply_order_event(&pending(1, "u", "BUY", "10", "10"), now());
    book.expire_hold(order(1), now());
    assert_eq!(
        book.apply_order_event(&partial(1, "u", "BUY", "10", "4", "10"), now()),
        EventOutcome::Applied
    );
    assert_eq!(book.hold(order(1)).unwrap().status, HoldStatus::Expired);
    // Released once: the sweeper and a CANCELLED find nothing more to release.
    assert_eq!(book.expire_hold(order(1), now()), EventOutcome::Duplicate);
    let releases = |book: &WalletBook| {
        book.outbox()
            .iter()
            .filter(|event| event.event_type == WalletEventType::ReservationReleased)
            .count()
    };
    assert_eq!(releases(&book), 1);
    assert_eq!(
        book.apply_order_event(&ended(1, "u", "BUY", "CANCELLED", "10"), now()),
        EventOutcome::Duplicate
    );
    assert_eq!(releases(&book), 1);
    // The rest of the order still fills: the trade happened.
    book.apply_order_event(&filled(1, "u", "BUY", "10", "10", "10"), now());
    assert_eq!(balance(&book, "u"), (dec("900.00"), dec("0")));
    assert_ledger_matches(&book, "u");
}

#[test]
fn a_fill_of_a_denied_or_released_order_is_booked_from_what_is_available() {
    // The Order API's pre-check is not a reservation: the exchange fills orders the wallet
    // denied, and a fill can follow a CANCELLED that crossed it.
    let mut book = book_with_cash("u", "100.00");
    assert_eq!(
        book.apply_order_event(&pending(1, "u", "BUY", "10", "20"), now()),
        EventOutcome::Denied(DenyReason::InsufficientFunds)
    );
    assert_eq!(
        book.apply_order_event(&filled(1, "u", "BUY", "10", "20", "9"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "u"), (dec("10.00"), dec("0")));
    assert_eq!(shares(&book, "u"), (dec("10"), dec("0")));
    let hold = book.hold(order(1)).unwrap();
    assert_eq!(
        (hold.status, hold.filled_quantity.value()),
        (HoldStatus::Denied, dec("10"))
    );
    assert_eq!(
        book.apply_order_event(&filled(1, "u", "BUY", "10", "20", "9"), now()),
        EventOutcome::Duplicate
    );

    book.apply_order_event(&pending(2, "u", "SELL", "4", "10"), now());
    book.apply_order_event(&ended(2, "u", "SELL", "CANCELLED", "4"), now());
    assert_eq!(
        book.apply_order_event(&partial(2, "u", "SELL", "4", "3", "10"), now()),
        EventOutcome::Applied
    );
    assert_eq!(balance(&book, "u"), (dec("40.00"), dec("0")));
    assert_eq!(shares(&book, "u"), (dec("7"), dec("0")));
    assert_eq!(book.hold(order(2)).unwrap().status, HoldStatus::Released);
    assert_ledger_matches(&book, "u");
}

#[test]
fn a_fill_of_a_final_hold_that_is_not_covered_is_dead_lettered() {
    let mut book = book_with_cash("u", "50.00");
    book.apply_order_event(&pending(1, "u", "BUY", "10", "20"), now());
    let ledger_length = book.ledger().len();
    let outcome = book.apply_order_event(&filled(1, "u", "BUY", "10", "20", "20"), now());
    assert!(
        matches!(outcome, EventOutcome::DeadLetter(r) if r.reason == DeadLetterReason::SettlementNotCovered)
    );
    assert_eq!(book.ledger().len(), ledger_length);
    assert_eq!(
        book.hold(order(1)).unwrap().filled_quantity.value(),
        dec("0")
    );
    let outcome = book.apply_order_event(&filled(9, "u", "SELL", "1", "20", "20"), now());
    assert!(
        matches!(outcome, EventOutcome::DeadLetter(r) if r.reason == DeadLetterReason::SettlementNotCovered)
    );
}

#[test]
fn a_rejected_without_a_market_price_releases_the_hold() {
    let mut book = book_with_cash("e82b8e13-1df9-41ba-a961-a28a4fe4e38b", "5000.00");
    let json = |status: &str, executed: &str| {
        format!(
            r#"{{"orderId":4,"userId":"e82b8e13-1df9-41ba-a961-a28a4fe4e38b","ticker":"VALE3","quantity":50.0000,"price":61.2000,"executedPrice":{executed},"side":"BUY","status":"{status}","eventTimestamp":[2026,5,13,21,6,12,301987654]}}"#
        )
    };
    let pending = wallet_domain::OrderEvent::parse(json("PENDING", "null").as_bytes()).unwrap();
    let rejected = wallet_domain::OrderEvent::parse(json("REJECTED", "0").as_bytes()).unwrap();
    book.apply_order_event(&pending, now());
    assert_eq!(
        book.apply_order_event(&rejected, now()),
        EventOutcome::Applied
    );
    assert_eq!(
        balance(&book, "e82b8e13-1df9-41ba-a961-a28a4fe4e38b"),
        (dec("5000.00"), dec("0"))
    );
}

#[test]
fn an_event_for_an_order_held_for_another_user_is_dead_lettered() {
    let mut book = book_with_cash("u", "1000.00");
    book.apply_order_event(&pending(1, "u", "BUY", "10", "10"), now());
    let outcome = book.apply_order_event(&ended(1, "v", "BUY", "CANCELLED", "10"), now());
    assert!(
        matches!(outcome, EventOutcome::DeadLetter(r) if r.reason == DeadLetterReason::OrderMismatch)
    );
    assert_eq!(balance(&book, "u"), (dec("1000.00"), dec("100.00")));
}
