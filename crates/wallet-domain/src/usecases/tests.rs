//! Use-case tests against mocks of the ports.

use std::collections::HashMap;
use std::future::ready;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::account::{Account, LastTrade, Position};
use crate::amount::{Currency, Money, Price, Quantity};
use crate::engine::CashOperation;
use crate::ids::{Ticker, UserId};
use crate::ports::{
    MockPriceFeed, MockWalletReader, MockWalletStore, PriceFeedError, PriceQuote, PriceSource,
    StoreError,
};
use crate::unit_of_work::Snapshot;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn deposit_of(amount: &str) -> CashOperation {
    CashOperation {
        user_id: UserId::parse("u").unwrap(),
        amount: Money::parse_amount("amount", amount, Currency::BRL).unwrap(),
        idempotency_key: None,
        request_id: uuid::Uuid::nil(),
    }
}

#[test]
fn a_version_conflict_is_retried_on_a_fresh_load() {
    let mut store = MockWalletStore::new();
    store
        .expect_load()
        .times(2)
        .returning(|_| Box::pin(ready(Ok(Snapshot::default()))));
    let mut commits = 0;
    store.expect_commit().times(2).returning(move |changes| {
        commits += 1;
        assert_eq!(changes.accounts[0].balance.value(), dec("10.00"));
        let result = if commits == 1 {
            Err(StoreError::Conflict("version".into()))
        } else {
            Ok(())
        };
        Box::pin(ready(result))
    });
    let service = WalletService::new(store, Currency::BRL);
    let account =
        futures::executor::block_on(service.deposit(&deposit_of("10.00"), now())).unwrap();
    assert_eq!(account.balance.value(), dec("10.00"));
}

#[test]
fn persistent_conflicts_are_reported_after_the_attempt_limit() {
    let mut store = MockWalletStore::new();
    store
        .expect_load()
        .returning(|_| Box::pin(ready(Ok(Snapshot::default()))));
    store
        .expect_commit()
        .times(apply::CONFLICT_ATTEMPTS_MAX as usize)
        .returning(|_| Box::pin(ready(Err(StoreError::Conflict("version".into())))));
    let service = WalletService::new(store, Currency::BRL);
    let error =
        futures::executor::block_on(service.deposit(&deposit_of("10.00"), now())).unwrap_err();
    assert!(matches!(error, ApplyError::Store(StoreError::Conflict(_))));
}

#[test]
fn an_unavailable_store_is_not_retried_by_the_use_case() {
    let mut store = MockWalletStore::new();
    store
        .expect_load()
        .times(1)
        .returning(|_| Box::pin(ready(Err(StoreError::Unavailable("down".into())))));
    store.expect_commit().never();
    let service = WalletService::new(store, Currency::BRL);
    let error = futures::executor::block_on(service.apply_order_events(&[], now())).unwrap_err();
    assert_eq!(
        error,
        ApplyError::Store(StoreError::Unavailable("down".into()))
    );
}

fn reader_with(positions: &[(&str, &str, &str)], last_trades: &[(&str, &str)]) -> MockWalletReader {
    let user = UserId::parse("u").unwrap();
    let mut account = Account::open(user.clone(), Currency::BRL, now());
    account.balance = Money::from_stored(dec("1000.00"));
    // All of it settled: a summary then asks for no obligations.
    account.settled_balance = dec("1000.00");
    let positions: Vec<Position> = positions
        .iter()
        .map(|(symbol, quantity, average)| {
            let mut position = Position::open(user.clone(), Ticker::parse(symbol).unwrap(), now());
            position.quantity = Quantity::from_stored(dec(quantity));
            position.average_price = Price::from_stored(dec(average));
            position
        })
        .collect();
    let trades: Vec<LastTrade> = last_trades
        .iter()
        .map(|(symbol, price)| LastTrade {
            ticker: Ticker::parse(symbol).unwrap(),
            price: Price::from_stored(dec(price)),
            traded_at: now(),
        })
        .collect();
    let mut reader = MockWalletReader::new();
    reader
        .expect_account()
        .returning(move |_| Box::pin(ready(Ok(Some(account.clone())))));
    reader
        .expect_positions()
        .returning(move |_| Box::pin(ready(Ok(positions.clone()))));
    reader.expect_last_trades().returning(move |tickers| {
        let found = trades
            .iter()
            .filter(|trade| tickers.contains(&trade.ticker))
            .cloned()
            .collect();
        Box::pin(ready(Ok(found)))
    });
    reader
        .expect_receivables()
        .returning(|_| Box::pin(ready(Ok(Vec::new()))));
    reader
}

#[test]
fn a_price_feed_failure_degrades_the_summary_to_last_trades_instead_of_failing_it() {
    let reader = reader_with(
        &[("PETR4", "100", "38.40"), ("VALE3", "10", "60")],
        &[("PETR4", "39.00")],
    );
    let mut prices = MockPriceFeed::new();
    prices
        .expect_quotes()
        .times(1)
        .returning(|_| Box::pin(ready(Err(PriceFeedError("timeout".into())))));
    let summary = futures::executor::block_on(
        Valuation::new(reader, prices).summary(&UserId::parse("u").unwrap()),
    )
    .unwrap();
    assert!(summary.prices_degraded);
    let petr = &summary.positions[0];
    assert_eq!(
        (petr.price_source, petr.market_value.map(Money::value)),
        (PriceSource::LastTrade, Some(dec("3900.00")))
    );
    assert_eq!(petr.unrealized_pnl, Some(dec("60.00")));
    let vale = &summary.positions[1];
    // No price at all: not valued, and never silently valued at zero.
    assert_eq!(
        (vale.price_source, vale.market_value, vale.unrealized_pnl),
        (PriceSource::Unavailable, None, None)
    );
    assert_eq!(summary.positions_value.value(), dec("3900.00"));
    assert_eq!(summary.total_equity.value(), dec("4900.00"));
}

#[test]
fn every_price_of_a_summary_comes_from_one_look_up() {
    let reader = reader_with(
        &[
            ("PETR4", "100", "38.40"),
            ("VALE3", "10", "60"),
            ("ITUB4", "5", "30"),
        ],
        &[],
    );
    let mut prices = MockPriceFeed::new();
    prices.expect_quotes().times(1).returning(|tickers| {
        assert_eq!(tickers.len(), 3);
        let quotes: HashMap<Ticker, PriceQuote> = tickers
            .iter()
            .filter(|ticker| ticker.as_str() != "ITUB4")
            .map(|ticker| {
                (
                    ticker.clone(),
                    PriceQuote {
                        price: Price::from_stored(dec("50")),
                        age_seconds: Some(3),
                    },
                )
            })
            .collect();
        Box::pin(ready(Ok(quotes)))
    });
    let summary = futures::executor::block_on(
        Valuation::new(reader, prices).summary(&UserId::parse("u").unwrap()),
    )
    .unwrap();
    assert!(!summary.prices_degraded);
    let sources: Vec<PriceSource> = summary.positions.iter().map(|p| p.price_source).collect();
    assert_eq!(
        sources,
        [
            PriceSource::Redis,
            PriceSource::Redis,
            PriceSource::Unavailable
        ]
    );
    assert_eq!(summary.positions[0].price_age_seconds, Some(3));
    assert_eq!(summary.positions_value.value(), dec("5500"));
}

#[test]
fn the_runtime_pause_runs_between_conflicting_attempts() {
    let mut store = MockWalletStore::new();
    store
        .expect_load()
        .times(3)
        .returning(|_| Box::pin(ready(Ok(Snapshot::default()))));
    let mut commits = 0;
    store.expect_commit().times(3).returning(move |_| {
        commits += 1;
        let result = if commits < 3 {
            Err(StoreError::Conflict("version".into()))
        } else {
            Ok(())
        };
        Box::pin(ready(result))
    });
    let pauses = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = std::sync::Arc::clone(&pauses);
    let pause: ConflictPause = std::sync::Arc::new(move |attempt| {
        recorded.lock().unwrap().push(attempt);
        Box::pin(ready(()))
    });
    let service = WalletService::new(store, Currency::BRL).with_conflict_pause(pause);
    futures::executor::block_on(service.deposit(&deposit_of("10.00"), now())).unwrap();
    assert_eq!(*pauses.lock().unwrap(), [2, 3]);
}

#[test]
fn a_value_out_of_range_falls_back_instead_of_panicking() {
    // 999,999,999,999,999 shares at a feed price of 999,999,999,999,999 overflow any decimal:
    // the feed's price is not usable for this position, the last trade is.
    let reader = reader_with(
        &[
            ("PETR4", "999999999999999", "0.0001"),
            ("VALE3", "999999999999999", "1"),
        ],
        &[("PETR4", "0.0000001")],
    );
    let mut prices = MockPriceFeed::new();
    prices.expect_quotes().returning(|tickers| {
        let huge = PriceQuote {
            price: Price::parse("p", "999999999999999").unwrap(),
            age_seconds: None,
        };
        Box::pin(ready(Ok(tickers
            .iter()
            .map(|t| (t.clone(), huge))
            .collect())))
    });
    let summary = futures::executor::block_on(
        Valuation::new(reader, prices).summary(&UserId::parse("u").unwrap()),
    )
    .unwrap();
    let petr = &summary.positions[0];
    assert_eq!(
        (petr.price_source, petr.market_value.map(Money::value)),
        (PriceSource::LastTrade, Some(dec("100000000.00")))
    );
    let vale = &summary.positions[1];
    assert_eq!(
        (vale.price_source, vale.market_value),
        (PriceSource::Unavailable, None)
    );
    assert_eq!(summary.positions_value.value(), dec("100000000.00"));
}
