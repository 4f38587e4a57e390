//! `LedgerAudit` over the store (SPEC §3 "Ledger"): every account's balance must equal the sum of its
//! ledger entries' cash effects, its blocked balance both the sum of its entries' blocked
//! effects and the reserved cash of its active BUY holds; every position's quantity and
//! blocked quantity likewise, against the ledger and the active SELL holds; its settled
//! balance the sum of its entries' settled effects, and what is not settled yet (balance less
//! settled balance) the cash of its open settlement obligations.
//!
//! MySQL sums exactly in SQL (`SUM` of `DECIMAL` is exact). SQLite cannot sum decimal text
//! without going through floats, so there the same queries return the rows unsummed and the
//! sums are made here, with `rust_decimal`; the folding code is the same for both.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use wallet_domain::UserId;
use wallet_domain::ports::{AuditFinding, LedgerAudit, StoreError};

use crate::SqlStore;
use crate::dialect::{Dialect, corrupt, get};
use crate::reader::ACTIVE_STATUSES;
use crate::statements::Query;

/// Stored and expected values of one audited figure.
#[derive(Debug, Default, Clone, Copy)]
struct Figure {
    stored: Decimal,
    expected: Decimal,
}

/// Figures keyed by user and subject (`balance`, `quantity PETR4` …).
type Figures = BTreeMap<(String, String), Figure>;

impl LedgerAudit for SqlStore {
    async fn audit(&self, user: Option<UserId>) -> Result<Vec<AuditFinding>, StoreError> {
        let user = user.as_ref().map(UserId::as_str);
        let mut figures = Figures::new();
        self.stored_figures(&mut figures, user).await?;
        self.ledger_figures(&mut figures, user).await?;
        self.hold_figures(&mut figures, user).await?;
        figures
            .into_iter()
            .filter(|(_, figure)| figure.stored != figure.expected)
            .map(|((owner, subject), figure)| {
                Ok(AuditFinding {
                    user_id: UserId::parse(&owner)
                        .map_err(|error| corrupt("user_id")(error.to_string()))?,
                    subject,
                    stored: figure.stored,
                    expected: figure.expected,
                })
            })
            .collect()
    }
}

impl SqlStore {
    /// The figures as accounts and positions store them.
    async fn stored_figures(
        &self,
        figures: &mut Figures,
        user: Option<&str>,
    ) -> Result<(), StoreError> {
        for row in self
            .audit_rows(
                "user_id, balance, blocked_balance, settled_balance FROM accounts",
                Only::All,
                user,
            )
            .await?
        {
            let owner: String = get(&row, "user_id")?;
            let balance = self.dialect.get_decimal(&row, "balance")?;
            let blocked = self.dialect.get_decimal(&row, "blocked_balance")?;
            stored(figures, &owner, "balance", balance);
            stored(figures, &owner, "blocked_balance", blocked);
            stored(figures, &owner, "blocked_balance (ledger)", blocked);
            let settled = self.dialect.get_decimal(&row, "settled_balance")?;
            stored(figures, &owner, "settled_balance", settled);
            stored(figures, &owner, "unsettled cash", balance - settled);
        }
        for row in self
            .audit_rows(
                "user_id, ticker, quantity, blocked_quantity FROM positions",
                Only::All,
                user,
            )
            .await?
        {
            let owner: String = get(&row, "user_id")?;
            let ticker: String = get(&row, "ticker")?;
            let quantity = self.dialect.get_decimal(&row, "quantity")?;
            let blocked = self.dialect.get_decimal(&row, "blocked_quantity")?;
            stored(figures, &owner, &format!("quantity {ticker}"), quantity);
            stored(
                figures,
                &owner,
                &format!("blocked_quantity {ticker}"),
                blocked,
            );
            stored(
                figures,
                &owner,
                &format!("blocked_quantity {ticker} (ledger)"),
                blocked,
            );
        }
        Ok(())
    }

    /// What the ledger's entries add up to.
    async fn ledger_figures(
        &self,
        figures: &mut Figures,
        user: Option<&str>,
    ) -> Result<(), StoreError> {
        let ledger = self
            .audit_sums(
                "ledger_entries",
                &[
                    "cash_amount",
                    "blocked_amount",
                    "quantity",
                    "blocked_quantity",
                    "settled_amount",
                ],
                &["user_id", "ticker"],
                Only::All,
                user,
            )
            .await?;
        for ((owner, ticker), sums) in ledger {
            expected(figures, &owner, "balance", sums[0]);
            expected(figures, &owner, "blocked_balance (ledger)", sums[1]);
            expected(figures, &owner, "settled_balance", sums[4]);
            if let Some(ticker) = ticker {
                expected(figures, &owner, &format!("quantity {ticker}"), sums[2]);
                expected(
                    figures,
                    &owner,
                    &format!("blocked_quantity {ticker} (ledger)"),
                    sums[3],
                );
            }
        }
        Ok(())
    }

    /// What the active holds reserve and the open settlement obligations owe.
    async fn hold_figures(
        &self,
        figures: &mut Figures,
        user: Option<&str>,
    ) -> Result<(), StoreError> {
        let buys = self
            .audit_sums(
                "holds",
                &["reserved_amount"],
                &["user_id"],
                Only::ActiveHolds("BUY"),
                user,
            )
            .await?;
        for ((owner, _), sums) in buys {
            expected(figures, &owner, "blocked_balance", sums[0]);
        }
        let sells = self
            .audit_sums(
                "holds",
                &["reserved_quantity"],
                &["user_id", "ticker"],
                Only::ActiveHolds("SELL"),
                user,
            )
            .await?;
        let open = self
            .audit_sums(
                "settlement_obligations",
                &["cash_amount"],
                &["user_id"],
                Only::OpenObligations,
                user,
            )
            .await?;
        for ((owner, _), sums) in open {
            expected(figures, &owner, "unsettled cash", sums[0]);
        }
        for ((owner, ticker), sums) in sells {
            let ticker = ticker.unwrap_or_default();
            expected(
                figures,
                &owner,
                &format!("blocked_quantity {ticker}"),
                sums[0],
            );
        }
        Ok(())
    }

    /// `SELECT <columns_and_table> WHERE <only> [AND user_id = ?]`.
    async fn audit_rows(
        &self,
        columns_and_table: &str,
        only: Only,
        user: Option<&str>,
    ) -> Result<Vec<sea_orm::QueryResult>, StoreError> {
        let mut query = Query::new(&format!("SELECT {columns_and_table} WHERE 1 = 1"));
        only.restrict(&mut query);
        if let Some(user) = user {
            query.sql(" AND user_id = ").bind(user);
        }
        self.query_all(query).await
    }

    /// Sums of `amounts` of `table` grouped by `groups` (`user_id` and optionally `ticker`),
    /// of the rows `only` keeps: in SQL on MySQL, here on SQLite.
    async fn audit_sums(
        &self,
        table: &str,
        amounts: &[&str],
        groups: &[&str],
        only: Only,
        user: Option<&str>,
    ) -> Result<BTreeMap<(String, Option<String>), Vec<Decimal>>, StoreError> {
        let group_list = groups.join(", ");
        let rows = match self.dialect {
            Dialect::MySql => {
                let sums: Vec<String> = amounts
                    .iter()
                    .map(|amount| format!("SUM({amount}) AS {amount}"))
                    .collect();
                let mut query = Query::new(&format!(
                    "SELECT {group_list}, {} FROM {table} WHERE 1 = 1",
                    sums.join(", ")
                ));
                only.restrict(&mut query);
                if let Some(user) = user {
                    query.sql(" AND user_id = ").bind(user);
                }
                query.sql(&format!(" GROUP BY {group_list}"));
                self.query_all(query).await?
            }
            Dialect::Sqlite => {
                self.audit_rows(
                    &format!("{group_list}, {} FROM {table}", amounts.join(", ")),
                    only,
                    user,
                )
                .await?
            }
        };
        let mut sums: BTreeMap<(String, Option<String>), Vec<Decimal>> = BTreeMap::new();
        for row in rows {
            let owner: String = get(&row, "user_id")?;
            let ticker: Option<String> = if groups.contains(&"ticker") {
                get(&row, "ticker")?
            } else {
                None
            };
            let totals = sums
                .entry((owner, ticker))
                .or_insert_with(|| vec![Decimal::ZERO; amounts.len()]);
            for (total, amount) in totals.iter_mut().zip(amounts) {
                let value = self.dialect.get_decimal(&row, amount)?;
                *total = total.checked_add(value).ok_or_else(|| {
                    StoreError::Internal(format!("audit: the sum of {table}.{amount} overflows"))
                })?;
            }
        }
        Ok(sums)
    }
}

/// The rows of a table an audit query reads.
#[derive(Debug, Clone, Copy)]
enum Only {
    All,
    /// Active holds of a side.
    ActiveHolds(&'static str),
    /// Settlement obligations not settled yet.
    OpenObligations,
}

impl Only {
    fn restrict(self, query: &mut Query) {
        match self {
            Only::All => {}
            Only::ActiveHolds(side) => {
                query
                    .sql(&format!(" AND status IN {} AND side = ", *ACTIVE_STATUSES))
                    .bind(side);
            }
            Only::OpenObligations => {
                query.sql(" AND settled_at IS NULL");
            }
        }
    }
}

fn stored(figures: &mut Figures, owner: &str, subject: &str, value: Decimal) {
    figures
        .entry((owner.to_owned(), subject.to_owned()))
        .or_default()
        .stored = value;
}

/// Adds to the expected value: the ledger is summed per ticker, the balance over all of them.
fn expected(figures: &mut Figures, owner: &str, subject: &str, value: Decimal) {
    figures
        .entry((owner.to_owned(), subject.to_owned()))
        .or_default()
        .expected += value;
}
