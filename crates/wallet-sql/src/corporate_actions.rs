//! `CorporateActionStore`: the actions received (`corporate_actions`, the action kept in its
//! wire format beside its progress), the cash owed (`corporate_action_entitlements`), and the
//! holders of a ticker at an instant, from the positions and the ledger.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{QueryResult, Value};
use wallet_domain::corporate_actions::{
    ActionRecord, ActionStage, CorporateAction, Entitlement, HolderPage,
};
use wallet_domain::ports::{CorporateActionStore, StoreError};
use wallet_domain::{Money, OrderId, Quantity, Ticker, UserId};

use crate::SqlStore;
use crate::dialect::{Dialect, corrupt, get, parse_name};
use crate::obligations::{DATE_FORMAT, date};
use crate::reader::ACTIVE_STATUSES;
use crate::rows;
use crate::statements::{IN_LIST_KEYS_MAX, Query, in_list, insert_rows};
use crate::writes::Writes;

/// Most holders or entitlements one page returns, whatever the caller asks: the use case's
/// batch bound, so a page is never shorter than a batch that is not the last.
const HOLDER_PAGE_MAX: u32 = wallet_domain::usecases::HOLDER_BATCH_MAX;

/// Columns of `corporate_actions`, primary key first, in the order of [`action_values`].
pub(crate) const ACTION_COLUMNS: &[&str] = &[
    "action_id",
    "ticker",
    "action_type",
    "body",
    "stage",
    "cursor_user_id",
    "holders",
    "cash_paid",
    "tax_withheld",
    "cash_owed",
    "shares_delta",
    "version",
    "created_at",
    "updated_at",
    "next_due_at",
    "completed_at",
    "failure",
];

const ENTITLEMENT_COLUMNS: &[&str] = &[
    "action_id",
    "user_id",
    "quantity",
    "gross",
    "withheld",
    "payment_date",
    "paid_at",
];

/// Bind values of `record` stored with `version`, in [`ACTION_COLUMNS`] order.
pub(crate) fn action_values(dialect: Dialect, record: &ActionRecord, version: i64) -> Vec<Value> {
    vec![
        Value::from(record.action.id.as_str()),
        Value::from(record.action.ticker.as_str()),
        Value::from(record.action.terms.type_name()),
        Value::from(record.action.to_json()),
        Value::from(record.stage.as_str()),
        Value::from(record.cursor.as_ref().map(|user| user.as_str().to_owned())),
        Value::from(i64::try_from(record.holders).unwrap_or(i64::MAX)),
        dialect.decimal(record.cash_paid),
        dialect.decimal(record.tax_withheld),
        dialect.decimal(record.cash_owed),
        dialect.decimal(record.shares_delta),
        Value::from(version),
        dialect.time(record.received_at),
        dialect.time(record.updated_at),
        dialect.time(record.next_due_at()),
        dialect.optional_time(record.completed_at),
        Value::from(record.failure.clone()),
    ]
}

fn action(dialect: Dialect, row: &QueryResult) -> Result<ActionRecord, StoreError> {
    let body: String = get(row, "body")?;
    let action = CorporateAction::parse(body.as_bytes())
        .map_err(|rejection| corrupt("body")(rejection.detail))?;
    let cursor = get::<Option<String>>(row, "cursor_user_id")?
        .map(|text| {
            UserId::parse(&text).map_err(|error| corrupt("cursor_user_id")(error.to_string()))
        })
        .transpose()?;
    Ok(ActionRecord {
        action,
        stage: parse_name::<ActionStage>(row, "stage")?,
        cursor,
        holders: u64::try_from(get::<i64>(row, "holders")?).unwrap_or_default(),
        cash_paid: dialect.get_decimal(row, "cash_paid")?,
        tax_withheld: dialect.get_decimal(row, "tax_withheld")?,
        cash_owed: dialect.get_decimal(row, "cash_owed")?,
        shares_delta: dialect.get_decimal(row, "shares_delta")?,
        version: get(row, "version")?,
        received_at: dialect.get_time(row, "created_at")?,
        updated_at: dialect.get_time(row, "updated_at")?,
        completed_at: dialect.get_optional_time(row, "completed_at")?,
        failure: get(row, "failure")?,
    })
}

fn entitlement(dialect: Dialect, row: &QueryResult) -> Result<Entitlement, StoreError> {
    Ok(Entitlement {
        action_id: get(row, "action_id")?,
        user_id: rows::user_id(row, "user_id")?,
        quantity: Quantity::from_stored(dialect.get_decimal(row, "quantity")?),
        gross: Money::from_stored(dialect.get_decimal(row, "gross")?),
        withheld: Money::from_stored(dialect.get_decimal(row, "withheld")?),
        payment_date: date(row, "payment_date")?,
        paid_at: dialect.get_optional_time(row, "paid_at")?,
    })
}

fn entitlement_values(dialect: Dialect, entitlement: &Entitlement) -> Vec<Value> {
    vec![
        Value::from(entitlement.action_id.as_str()),
        Value::from(entitlement.user_id.as_str()),
        dialect.decimal(entitlement.quantity.value()),
        dialect.decimal(entitlement.gross.value()),
        dialect.decimal(entitlement.withheld.value()),
        Value::from(entitlement.payment_date.format(DATE_FORMAT).to_string()),
        dialect.optional_time(entitlement.paid_at),
    ]
}

fn select_actions(condition: &str) -> Query {
    Query::new(&format!(
        "SELECT {} FROM corporate_actions WHERE {condition}",
        ACTION_COLUMNS.join(", ")
    ))
}

fn select_entitlements(condition: &str) -> Query {
    Query::new(&format!(
        "SELECT {} FROM corporate_action_entitlements WHERE {condition}",
        ENTITLEMENT_COLUMNS.join(", ")
    ))
}

impl SqlStore {
    async fn actions(&self, query: Query) -> Result<Vec<ActionRecord>, StoreError> {
        self.query_all(query)
            .await?
            .iter()
            .map(|row| action(self.dialect, row))
            .collect()
    }

    /// The unpaid entitlements of `user`, earliest payment first.
    pub(crate) async fn receivables_of(
        &self,
        user: &UserId,
    ) -> Result<Vec<Entitlement>, StoreError> {
        let mut query = select_entitlements("user_id = ");
        query
            .bind(user.as_str())
            .sql(" AND paid_at IS NULL ORDER BY payment_date, action_id");
        self.query_all(query)
            .await?
            .iter()
            .map(|row| entitlement(self.dialect, row))
            .collect()
    }
}

impl CorporateActionStore for SqlStore {
    async fn insert_action(
        &self,
        record: &ActionRecord,
    ) -> Result<(ActionRecord, bool), StoreError> {
        if let Some(stored) = self.action(&record.action.id).await? {
            return Ok((stored, false));
        }
        let inserted = insert_rows(
            &self.connection,
            self.dialect,
            "corporate_actions",
            ACTION_COLUMNS,
            vec![action_values(self.dialect, record, 1)],
        )
        .await;
        self.count_statements(1);
        match inserted {
            Ok(_) => {}
            // Received twice at once: the other insert won.
            Err(StoreError::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
        let stored = self.action(&record.action.id).await?.ok_or_else(|| {
            StoreError::Internal(format!("corporate action {} vanished", record.action.id))
        })?;
        let new = inserted.is_ok();
        Ok((stored, new))
    }

    async fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError> {
        let mut query = select_actions("action_id = ");
        query.bind(id);
        Ok(self.actions(query).await?.into_iter().next())
    }

    async fn due_actions(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, StoreError> {
        let mut query = select_actions("completed_at IS NULL AND next_due_at <= ");
        query
            .bind(self.dialect.time(now))
            .sql(" ORDER BY next_due_at, action_id LIMIT ")
            .bind(i64::from(limit.min(HOLDER_PAGE_MAX)));
        self.actions(query).await
    }

    async fn holders_at(
        &self,
        ticker: &Ticker,
        at: DateTime<Utc>,
        after: Option<&UserId>,
        limit: u32,
    ) -> Result<HolderPage, StoreError> {
        let limit = limit.clamp(1, HOLDER_PAGE_MAX);
        // One statement, so the position and its later changes are read from one snapshot:
        // a fill committed between two reads would count twice or not at all. MySQL sums
        // DECIMAL exactly; SQLite's SUM of decimal text goes through floats, so there the
        // changes come back as a list and are summed here.
        let later = match self.dialect {
            Dialect::MySql => "SUM(l.quantity)",
            Dialect::Sqlite => "GROUP_CONCAT(l.quantity)",
        };
        let mut query = Query::new(&format!(
            "SELECT p.user_id, p.quantity, (SELECT {later} FROM ledger_entries l \
             WHERE l.user_id = p.user_id AND l.occurred_at > "
        ));
        query
            .bind(self.dialect.time(at))
            .sql(" AND l.ticker = p.ticker) AS later FROM positions p WHERE p.ticker = ")
            .bind(ticker.as_str());
        if let Some(after) = after {
            query.sql(" AND p.user_id > ").bind(after.as_str());
        }
        query
            .sql(" ORDER BY p.user_id LIMIT ")
            .bind(i64::from(limit));
        let mut users = Vec::new();
        let mut holders = Vec::new();
        for row in self.query_all(query).await? {
            let user = rows::user_id(&row, "user_id")?;
            let later = match self.dialect {
                Dialect::MySql => self
                    .dialect
                    .get_optional_decimal(&row, "later")?
                    .unwrap_or_default(),
                Dialect::Sqlite => sum_listed(get::<Option<String>>(&row, "later")?)?,
            };
            let held = self.dialect.get_decimal(&row, "quantity")? - later;
            if held > Decimal::ZERO {
                holders.push((user.clone(), Quantity::from_stored(held.normalize())));
            }
            users.push(user);
        }
        Ok(HolderPage {
            holders,
            last: users.last().cloned(),
            more: users.len() >= limit as usize,
        })
    }

    async fn unpaid_entitlements(
        &self,
        action_id: &str,
        after: Option<&UserId>,
        limit: u32,
    ) -> Result<Vec<Entitlement>, StoreError> {
        let mut query = select_entitlements("action_id = ");
        query.bind(action_id).sql(" AND paid_at IS NULL");
        if let Some(after) = after {
            query.sql(" AND user_id > ").bind(after.as_str());
        }
        query
            .sql(" ORDER BY user_id LIMIT ")
            .bind(i64::from(limit.clamp(1, HOLDER_PAGE_MAX)));
        self.query_all(query)
            .await?
            .iter()
            .map(|row| entitlement(self.dialect, row))
            .collect()
    }

    async fn active_sell_orders(
        &self,
        ticker: &Ticker,
        users: &[UserId],
    ) -> Result<Vec<OrderId>, StoreError> {
        let mut orders = Vec::new();
        for chunk in users.chunks(IN_LIST_KEYS_MAX) {
            let mut query = Query::new(&format!(
                "SELECT order_id FROM holds WHERE status IN {} AND side = 'SELL' AND ticker = ",
                *ACTIVE_STATUSES
            ));
            query.bind(ticker.as_str()).sql(" AND user_id IN ");
            in_list(
                &mut query,
                chunk.iter().map(|user| Value::from(user.as_str())),
            );
            for row in self.query_all(query).await? {
                orders.push(rows::order_id(get(&row, "order_id")?, "order_id")?);
            }
        }
        Ok(orders)
    }
}

/// The sum of a comma-separated list of decimals (SQLite's `GROUP_CONCAT`).
fn sum_listed(list: Option<String>) -> Result<Decimal, StoreError> {
    list.unwrap_or_default()
        .split(',')
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<Decimal>()
                .map_err(|error| corrupt("ledger_entries.quantity")(error.to_string()))
        })
        .sum()
}

/// Inserts `created` entitlements and marks `paid` ones paid where they are still unpaid.
///
/// # Errors
/// [`StoreError::Conflict`] when an entitlement to pay is paid already or a new one exists.
pub(crate) async fn write_entitlements(
    writes: &mut Writes<'_>,
    created: &[Entitlement],
    paid: &[Entitlement],
) -> Result<(), StoreError> {
    let dialect = writes.dialect();
    let rows = created
        .iter()
        .map(|row| entitlement_values(dialect, row))
        .collect();
    writes
        .insert("corporate_action_entitlements", ENTITLEMENT_COLUMNS, rows)
        .await?;
    // A batch pays one action's entitlements at one instant.
    let mut groups: HashMap<(&str, Option<DateTime<Utc>>), Vec<&str>> = HashMap::new();
    for entitlement in paid {
        groups
            .entry((entitlement.action_id.as_str(), entitlement.paid_at))
            .or_default()
            .push(entitlement.user_id.as_str());
    }
    for ((action_id, paid_at), users) in groups {
        for chunk in users.chunks(IN_LIST_KEYS_MAX) {
            let mut query = Query::new("UPDATE corporate_action_entitlements SET paid_at = ");
            query
                .bind(dialect.optional_time(paid_at))
                .sql(" WHERE action_id = ")
                .bind(action_id)
                .sql(" AND paid_at IS NULL AND user_id IN ");
            in_list(&mut query, chunk.iter().map(|user| Value::from(*user)));
            let named = chunk.len();
            let action_id = action_id.to_owned();
            writes
                .each_row(query, named as u64, move |missing| {
                    format!("{missing} of {named} entitlements of {action_id} are paid already")
                })
                .await?;
        }
    }
    Ok(())
}
