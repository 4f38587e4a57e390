//! `WalletReader`: the reads of the HTTP API and the sweeper, each one indexed query.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::Value;
use wallet_domain::ports::{BalanceAt, StoreError};
use wallet_domain::{
    Account, Hold, LastTrade, Money, OrderId, Position, StoredLedgerEntry, Ticker, UserId,
};

use crate::SqlStore;
use crate::codec::{corrupt, get};
use crate::rows;
use crate::sql::{IN_LIST_KEYS_MAX, Query, in_list};

/// Most ledger entries one statement page returns, whatever the caller asks.
pub const STATEMENT_PAGE_MAX: u32 = 1_000;
/// Most holds one sweeper query returns, whatever the caller asks.
pub const EXPIRED_HOLDS_MAX: u32 = 10_000;

/// The hold statuses that still block cash or shares ([`wallet_domain::HoldStatus::is_active`]).
pub(crate) const ACTIVE_STATUSES: &str = "('RESERVED', 'PARTIALLY_FILLED')";

impl SqlStore {
    pub(crate) async fn read_account(&self, user: &UserId) -> Result<Option<Account>, StoreError> {
        let mut query = Query::new(&format!(
            "SELECT {} FROM accounts WHERE user_id = ",
            rows::ACCOUNT_COLUMNS.join(", ")
        ));
        query.bind(user.as_str());
        self.query_all(query)
            .await?
            .first()
            .map(|row| rows::account(self.backend, row))
            .transpose()
    }

    pub(crate) async fn read_positions(&self, user: &UserId) -> Result<Vec<Position>, StoreError> {
        let zero = self.backend.decimal(Decimal::ZERO);
        let mut query = Query::new(&format!(
            "SELECT {} FROM positions WHERE user_id = ",
            rows::POSITION_COLUMNS.join(", ")
        ));
        // Amounts are stored canonically (SQLite text `0`), so `<> 0` is exact on both.
        query
            .bind(user.as_str())
            .sql(" AND (quantity <> ")
            .bind(zero.clone())
            .sql(" OR realized_pnl <> ")
            .bind(zero)
            .sql(") ORDER BY ticker");
        self.query_all(query)
            .await?
            .iter()
            .map(|row| rows::position(self.backend, row))
            .collect()
    }

    pub(crate) async fn read_statement(
        &self,
        user: &UserId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredLedgerEntry>, StoreError> {
        let mut query = Query::new(&format!(
            "SELECT id, {} FROM ledger_entries WHERE user_id = ",
            rows::LEDGER_COLUMNS.join(", ")
        ));
        query.bind(user.as_str());
        if let Some(before_id) = before_id {
            query.sql(" AND id < ").bind(before_id);
        }
        query
            .sql(" ORDER BY id DESC LIMIT ")
            .bind(i64::from(limit.min(STATEMENT_PAGE_MAX)));
        self.query_all(query)
            .await?
            .iter()
            .map(|row| rows::ledger_entry(self.backend, row))
            .collect()
    }

    pub(crate) async fn read_hold(&self, order: OrderId) -> Result<Option<Hold>, StoreError> {
        let mut query = Query::new(&format!(
            "SELECT {} FROM holds WHERE order_id = ",
            rows::HOLD_COLUMNS.join(", ")
        ));
        query.bind(order.get());
        self.query_all(query)
            .await?
            .first()
            .map(|row| rows::hold(self.backend, row))
            .transpose()
    }

    pub(crate) async fn read_balance_at(
        &self,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> Result<Option<BalanceAt>, StoreError> {
        let mut query = Query::new(
            "SELECT balance_after, blocked_balance_after, occurred_at FROM ledger_entries \
             WHERE user_id = ",
        );
        query
            .bind(user.as_str())
            .sql(" AND occurred_at <= ")
            .bind(self.backend.time(at))
            .sql(" ORDER BY occurred_at DESC, id DESC LIMIT 1");
        if let Some(row) = self.query_all(query).await?.first() {
            return Ok(Some(BalanceAt {
                balance: Money::from_stored(self.backend.get_decimal(row, "balance_after")?),
                blocked_balance: Money::from_stored(
                    self.backend.get_decimal(row, "blocked_balance_after")?,
                ),
                as_of: Some(self.backend.get_time(row, "occurred_at")?),
            }));
        }
        // No entry yet at that time: an empty balance if the account exists at all.
        Ok(self.read_account(user).await?.map(|_| BalanceAt {
            balance: Money::ZERO,
            blocked_balance: Money::ZERO,
            as_of: None,
        }))
    }

    pub(crate) async fn read_last_trades(
        &self,
        tickers: &[Ticker],
    ) -> Result<Vec<LastTrade>, StoreError> {
        let mut trades = Vec::new();
        for chunk in tickers.chunks(IN_LIST_KEYS_MAX) {
            let mut query =
                Query::new("SELECT ticker, price, traded_at FROM last_trades WHERE ticker IN ");
            in_list(
                &mut query,
                chunk.iter().map(|ticker| Value::from(ticker.as_str())),
            );
            for row in self.query_all(query).await? {
                trades.push(rows::last_trade(self.backend, &row)?);
            }
        }
        Ok(trades)
    }

    pub(crate) async fn read_expired_holds(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(OrderId, UserId)>, StoreError> {
        let mut query = Query::new(&format!(
            "SELECT order_id, user_id FROM holds WHERE status IN {ACTIVE_STATUSES} AND created_at < "
        ));
        query
            .bind(self.backend.time(created_before))
            .sql(" ORDER BY created_at, order_id LIMIT ")
            .bind(i64::from(limit.min(EXPIRED_HOLDS_MAX)));
        self.query_all(query)
            .await?
            .iter()
            .map(|row| {
                let order = OrderId::new(get(row, "order_id")?)
                    .map_err(|error| corrupt("order_id")(error.to_string()))?;
                let user = UserId::parse(&get::<String>(row, "user_id")?)
                    .map_err(|error| corrupt("user_id")(error.to_string()))?;
                Ok((order, user))
            })
            .collect()
    }

    pub(crate) async fn count_open_holds(&self) -> Result<u64, StoreError> {
        let query = Query::new(&format!(
            "SELECT COUNT(*) AS open_holds FROM holds WHERE status IN {ACTIVE_STATUSES}"
        ));
        let rows = self.query_all(query).await?;
        let count: i64 = rows.first().map_or(Ok(0), |row| get(row, "open_holds"))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
