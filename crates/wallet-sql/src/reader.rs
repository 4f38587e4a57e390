//! `WalletReader`: the reads of the HTTP API and the dashboard, each one indexed query.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::Value;
use wallet_domain::ports::{BalanceAt, StoreError, WalletReader};
use wallet_domain::{
    Account, Hold, HoldStatus, LastTrade, Money, Obligation, OrderId, Position, StoredLedgerEntry,
    Ticker, UserId,
};

use crate::SqlStore;
use crate::dialect::get;
use crate::obligations;
use crate::rows;
use crate::statements::{IN_LIST_KEYS_MAX, Query, in_list};

/// Most ledger entries one statement page returns, whatever the caller asks.
pub const STATEMENT_PAGE_MAX: u32 = 1_000;

/// The SQL list of the hold statuses that still block cash or shares, `('RESERVED', …)`,
/// derived from [`HoldStatus::is_active`] so the queries and the engine cannot disagree.
pub(crate) static ACTIVE_STATUSES: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<String> = HoldStatus::ALL
        .iter()
        .filter(|status| status.is_active())
        .map(|status| format!("'{status}'"))
        .collect();
    format!("({})", names.join(", "))
});

impl WalletReader for SqlStore {
    async fn account(&self, user: &UserId) -> Result<Option<Account>, StoreError> {
        let mut query = Query::new(&format!(
            "SELECT {} FROM accounts WHERE user_id = ",
            rows::ACCOUNT_COLUMNS.join(", ")
        ));
        query.bind(user.as_str());
        self.query_all(query)
            .await?
            .first()
            .map(|row| rows::account(self.dialect, row))
            .transpose()
    }

    async fn positions(&self, user: &UserId) -> Result<Vec<Position>, StoreError> {
        let zero = self.dialect.decimal(Decimal::ZERO);
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
            .map(|row| rows::position(self.dialect, row))
            .collect()
    }

    async fn statement(
        &self,
        user: &UserId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredLedgerEntry>, StoreError> {
        let columns: Vec<String> = rows::LEDGER_COLUMNS
            .iter()
            .map(|column| format!("l.{column}"))
            .collect();
        let mut query = Query::new(&format!(
            "SELECT l.id, {} FROM ledger_entries l",
            columns.join(", ")
        ));
        // Newest first by `(occurred_at, id)`, the order of `ledger_entries_user_time`. The
        // cursor's entry is joined by its primary key, so the server reads it once as a
        // constant and the page is one range of that index.
        if let Some(before_id) = before_id {
            query
                .sql(" JOIN ledger_entries c ON c.id = ")
                .bind(before_id)
                .sql(" AND c.user_id = l.user_id");
        }
        query.sql(" WHERE l.user_id = ").bind(user.as_str());
        if before_id.is_some() {
            query.sql(
                " AND (l.occurred_at < c.occurred_at \
                 OR (l.occurred_at = c.occurred_at AND l.id < c.id))",
            );
        }
        query
            .sql(" ORDER BY l.occurred_at DESC, l.id DESC LIMIT ")
            .bind(i64::from(limit.min(STATEMENT_PAGE_MAX)));
        self.query_all(query)
            .await?
            .iter()
            .map(|row| rows::ledger_entry(self.dialect, row))
            .collect()
    }

    async fn hold(&self, order: OrderId) -> Result<Option<Hold>, StoreError> {
        let mut query = Query::new(&format!(
            "SELECT {} FROM holds WHERE order_id = ",
            rows::HOLD_COLUMNS.join(", ")
        ));
        query.bind(order.get());
        self.query_all(query)
            .await?
            .first()
            .map(|row| rows::hold(self.dialect, row))
            .transpose()
    }

    async fn balance_at(
        &self,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> Result<Option<BalanceAt>, StoreError> {
        let mut query = Query::new(
            "SELECT balance_after, blocked_balance_after, settled_balance_after, occurred_at \
             FROM ledger_entries WHERE user_id = ",
        );
        query
            .bind(user.as_str())
            .sql(" AND occurred_at <= ")
            .bind(self.dialect.time(at))
            .sql(" ORDER BY occurred_at DESC, id DESC LIMIT 1");
        if let Some(row) = self.query_all(query).await?.first() {
            return Ok(Some(BalanceAt {
                balance: Money::from_stored(self.dialect.get_decimal(row, "balance_after")?),
                blocked_balance: Money::from_stored(
                    self.dialect.get_decimal(row, "blocked_balance_after")?,
                ),
                settled_balance: self.dialect.get_decimal(row, "settled_balance_after")?,
                as_of: Some(self.dialect.get_time(row, "occurred_at")?),
            }));
        }
        // No entry yet at that time: an empty balance if the account exists at all.
        Ok(self.account(user).await?.map(|_| BalanceAt {
            balance: Money::ZERO,
            blocked_balance: Money::ZERO,
            settled_balance: Decimal::ZERO,
            as_of: None,
        }))
    }

    async fn last_trades(&self, tickers: &[Ticker]) -> Result<Vec<LastTrade>, StoreError> {
        let mut trades = Vec::new();
        for chunk in tickers.chunks(IN_LIST_KEYS_MAX) {
            let mut query =
                Query::new("SELECT ticker, price, traded_at FROM last_trades WHERE ticker IN ");
            in_list(
                &mut query,
                chunk.iter().map(|ticker| Value::from(ticker.as_str())),
            );
            for row in self.query_all(query).await? {
                trades.push(rows::last_trade(self.dialect, &row)?);
            }
        }
        Ok(trades)
    }

    async fn open_holds(&self) -> Result<u64, StoreError> {
        let query = Query::new(&format!(
            "SELECT COUNT(*) AS open_holds FROM holds WHERE status IN {}",
            *ACTIVE_STATUSES
        ));
        let rows = self.query_all(query).await?;
        let count: i64 = rows.first().map_or(Ok(0), |row| get(row, "open_holds"))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn open_obligations(&self, user: &UserId) -> Result<Vec<Obligation>, StoreError> {
        obligations::open(self, &BTreeSet::from([user.clone()])).await
    }

    async fn receivables(
        &self,
        user: &UserId,
    ) -> Result<Vec<wallet_domain::corporate_actions::Entitlement>, StoreError> {
        self.receivables_of(user).await
    }
}
