//! The rows one batch of events writes, and the SQL of each [`Pattern`] that writes them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::ingest::Event;

/// How a raw writer sends a batch's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// The reference of earlier rounds: each table's rows as one plain upsert, a round trip per
    /// statement between BEGIN and COMMIT.
    RoundTrips,
    /// What the service sends since its commit became one text: new rows inserted, existing
    /// ones written by upserts guarded by their version (`Writes::upsert_versioned` in
    /// wallet-sql), the `last_trades` upsert, the appends, all in one multi-statement text
    /// from START TRANSACTION to COMMIT: one round trip.
    Text,
}

impl Pattern {
    /// How the report names the pattern.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Pattern::RoundTrips => "plain upserts, a round trip per statement (reference)",
            Pattern::Text => "the service's statements: version-guarded upserts in one text",
        }
    }
}

/// The fields of an order event a batch's writes depend on.
struct Step {
    order: i64,
    user: String,
    ticker: String,
    buy: bool,
    status: String,
    quantity: String,
    price: String,
}

fn step(value: &[u8]) -> Option<(Step, String)> {
    let json: serde_json::Value = serde_json::from_slice(value).ok()?;
    let text = |field: &str| match &json[field] {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    let step = Step {
        order: json["orderId"].as_i64()?,
        user: text("userId")?,
        ticker: text("ticker")?,
        buy: json["side"].as_str()? == "BUY",
        status: text("status")?,
        quantity: text("quantity")?,
        price: text("price").unwrap_or_else(|| "1".to_owned()),
    };
    let identity = format!(
        "{}:{}:{}",
        step.order,
        step.status,
        text("filledQuantity").unwrap_or_default()
    );
    Some((step, identity))
}

/// One hold row of a batch.
struct HoldRow {
    user: String,
    buy: bool,
    ticker: String,
    quantity: String,
    price: String,
    reserved: bool,
}

/// The rows of one batch: each account, position and hold once, plus the appends.
#[derive(Default)]
pub struct BatchRows {
    accounts: BTreeSet<String>,
    positions: BTreeSet<(String, String)>,
    holds: BTreeMap<i64, HoldRow>,
    /// Tickers traded in the batch, with a price: the `last_trades` rows.
    trades: BTreeMap<String, String>,
    /// The (user, order) of each new step, which the appends are spread over.
    steps: Vec<(String, i64)>,
    ledger: Vec<String>,
    outbox: Vec<String>,
}

impl BatchRows {
    /// The account, position and hold rows of `batch`'s steps not in `seen` (a duplicate
    /// writes nothing), which takes them in.
    pub fn of(batch: &[&Event], seen: &mut HashSet<String>) -> BatchRows {
        let mut rows = BatchRows::default();
        for (_, value) in batch {
            let Some((step, identity)) = step(value) else {
                continue;
            };
            if !seen.insert(identity) {
                continue;
            }
            rows.accounts.insert(step.user.clone());
            let filled = step.status.contains("FILLED");
            if filled || (!step.buy && step.status == "PENDING") {
                rows.positions
                    .insert((step.user.clone(), step.ticker.clone()));
            }
            if filled {
                rows.trades.insert(step.ticker.clone(), step.price.clone());
            }
            rows.steps.push((step.user.clone(), step.order));
            rows.holds.insert(
                step.order,
                HoldRow {
                    user: step.user,
                    buy: step.buy,
                    ticker: step.ticker,
                    quantity: step.quantity,
                    price: step.price,
                    reserved: step.status == "PENDING",
                },
            );
        }
        rows
    }

    /// Appends `ledger` ledger rows and `outbox` outbox rows of `events_per_outbox_row` wallet
    /// events each, spread over the batch's steps; `sequence` numbers the ledger's step keys.
    pub fn append(
        &mut self,
        (ledger, outbox, events_per_outbox_row): (u64, u64, u64),
        writer: usize,
        sequence: &mut u64,
        now: &str,
    ) {
        for index in 0..ledger.max(outbox) {
            *sequence += 1;
            let Some((user, order)) = self.steps.get(index as usize % self.steps.len().max(1))
            else {
                break;
            };
            if index < ledger {
                self.ledger.push(format!(
                    "('{user}','SETTLEMENT',{order},'raw:{writer}:{sequence}',-1234.56,0,-1234.56,\
                     'PETR4',100,0,100000,0,100000,{now})"
                ));
            }
            if index < outbox {
                let event_id = uuid::Uuid::new_v4();
                let event = format!(
                    "{{\"eventId\":\"{event_id}\",\"type\":\"ORDER_SETTLED\",\
                     \"userId\":\"{user}\",\"orderId\":{order},\"amount\":\"1234.56\",\
                     \"ticker\":\"PETR4\",\"quantity\":\"100\",\"reason\":null,\
                     \"occurredAt\":\"2026-05-01T10:15:30.123456Z\"}}"
                );
                let events = events_per_outbox_row.max(1);
                let payload = if events == 1 {
                    event
                } else {
                    format!("[{}]", vec![event; events as usize].join(","))
                };
                // A binary string, as the service sends the outbox's JSON.
                self.outbox.push(format!(
                    "('{event_id}','{user}',_binary'{payload}',{events},{now})"
                ));
            }
        }
    }

    /// Rows the batch writes in `pattern` (the reference leaves `last_trades` out).
    pub fn count(&self, pattern: Pattern) -> u64 {
        let trades = match pattern {
            Pattern::RoundTrips => 0,
            Pattern::Text => self.trades.len(),
        };
        (self.accounts.len()
            + self.positions.len()
            + self.holds.len()
            + trades
            + self.ledger.len()
            + self.outbox.len()) as u64
    }

    /// The batch's statements in `pattern`, in the service's table order; `versions` holds
    /// what the writer stored before and takes in what this batch stores.
    pub fn statements(&self, pattern: Pattern, versions: &mut Versions, now: &str) -> Vec<String> {
        let mut statements = Vec::new();
        // Every column but the key's, `version` (the statement's own) and `created_at` is
        // written again, as the service does.
        let mut write = |table: &str, columns: &str, key_width: usize, rows: Rows| {
            let updated: Vec<&str> = columns
                .split(", ")
                .skip(key_width)
                .filter(|column| !matches!(*column, "version" | "created_at"))
                .collect();
            if !rows.new.is_empty() {
                statements.push(format!(
                    "INSERT INTO {table} ({columns}) VALUES {}",
                    rows.new.join(",")
                ));
            }
            if rows.existing.is_empty() {
                return;
            }
            let assignments: Vec<String> = match pattern {
                Pattern::RoundTrips => updated
                    .iter()
                    .map(|column| format!("{column} = VALUES({column})"))
                    .chain(["version = version + 1".to_owned()])
                    .collect(),
                Pattern::Text => {
                    let guard = "version = VALUES(version) - 1";
                    updated
                        .iter()
                        .map(|column| format!("{column} = IF({guard}, VALUES({column}), {column})"))
                        .chain([format!("version = IF({guard}, VALUES(version), version)")])
                        .collect()
                }
            };
            statements.push(format!(
                "INSERT INTO {table} ({columns}) VALUES {} ON DUPLICATE KEY UPDATE {}",
                rows.existing.join(","),
                assignments.join(", ")
            ));
        };
        // Every account exists (seeded); in the reference pattern every row is an upsert.
        let mut rows = Rows::default();
        for user in &self.accounts {
            let version = versions.next_account(user);
            rows.existing.push(format!(
                "('{user}','BRL',100000,0,100000,{version},{now},{now})"
            ));
        }
        write(
            "accounts",
            "user_id, currency, balance, blocked_balance, settled_balance, version, created_at, \
             updated_at",
            1,
            rows,
        );
        let mut rows = Rows::default();
        for (user, ticker) in &self.positions {
            let version = next_version(&mut versions.positions, (user.clone(), ticker.clone()));
            rows.push(
                pattern,
                version,
                format!("('{user}','{ticker}',100,0,20.5,0,{version},{now})"),
            );
        }
        write(
            "positions",
            "user_id, ticker, quantity, blocked_quantity, average_price, realized_pnl, version, \
             updated_at",
            2,
            rows,
        );
        let mut rows = Rows::default();
        for (order, hold) in &self.holds {
            let version = next_version(&mut versions.holds, *order);
            let status = if hold.reserved {
                "RESERVED"
            } else {
                "RELEASED"
            };
            rows.push(
                pattern,
                version,
                format!(
                    "({order},'{}','{}','{}',{},{},0,0,0,0,0,'{status}',NULL,0,{version},{now},\
                     {now})",
                    hold.user,
                    if hold.buy { "BUY" } else { "SELL" },
                    hold.ticker,
                    hold.quantity,
                    hold.price
                ),
            );
        }
        write(
            "holds",
            "order_id, user_id, side, ticker, quantity, limit_price, reserved_amount, \
             reserved_quantity, filled_quantity, filled_amount, fees_amount, status, \
             deny_reason, terms_pending, version, created_at, updated_at",
            1,
            rows,
        );
        if !self.ledger.is_empty() {
            statements.push(format!(
                "INSERT INTO ledger_entries (user_id, entry_type, order_id, step_key, \
                 cash_amount, blocked_amount, settled_amount, ticker, quantity, \
                 blocked_quantity, balance_after, blocked_balance_after, settled_balance_after, \
                 occurred_at) VALUES {}",
                self.ledger.join(",")
            ));
        }
        if !self.outbox.is_empty() {
            statements.push(format!(
                "INSERT INTO outbox (event_id, user_id, payload, event_count, created_at) \
                 VALUES {}",
                self.outbox.join(",")
            ));
        }
        if pattern == Pattern::Text && !self.trades.is_empty() {
            let values: Vec<String> = self
                .trades
                .iter()
                .map(|(ticker, price)| format!("('{ticker}',{price},{now})"))
                .collect();
            statements.push(format!(
                "INSERT INTO last_trades (ticker, price, traded_at) VALUES {} ON DUPLICATE KEY \
                 UPDATE price = IF(VALUES(traded_at) >= traded_at, VALUES(price), price), \
                 traded_at = GREATEST(traded_at, VALUES(traded_at))",
                values.join(",")
            ));
        }
        statements
    }
}

/// A table's rows of one statement pattern: the ones to insert and the ones to upsert.
#[derive(Default)]
struct Rows {
    new: Vec<String>,
    existing: Vec<String>,
}

impl Rows {
    /// A row stored at `version`: a new row when that is the first, unless `pattern` upserts
    /// every row.
    fn push(&mut self, pattern: Pattern, version: i64, row: String) {
        if version == 1 && pattern == Pattern::Text {
            self.new.push(row);
        } else {
            self.existing.push(row);
        }
    }
}

/// The version `key`'s row is stored with next: 1 for a row not stored before.
fn next_version<K: std::hash::Hash + Eq>(map: &mut HashMap<K, i64>, key: K) -> i64 {
    let version = map.entry(key).or_insert(0);
    *version += 1;
    *version
}

/// The version of each row a writer stored, as the service's loads would read them.
#[derive(Debug, Default)]
pub struct Versions {
    /// Accounts written by this writer, each seeded at version 1.
    accounts: HashMap<String, i64>,
    positions: HashMap<(String, String), i64>,
    holds: HashMap<i64, i64>,
}

impl Versions {
    fn next_account(&mut self, user: &str) -> i64 {
        let version = self.accounts.entry(user.to_owned()).or_insert(1);
        *version += 1;
        *version
    }

    /// The sum of the versions of the accounts and holds this writer stored, beyond the
    /// seeded accounts' 1: what the database must hold if every guarded upsert took effect.
    pub fn account_and_hold_versions(&self) -> (i64, i64) {
        (
            self.accounts.values().map(|version| version - 1).sum(),
            self.holds.values().sum(),
        )
    }
}
