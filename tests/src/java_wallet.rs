//! The Java wallet's database as its Flyway migrations V1–V4 leave it (SPEC §10), in a fresh
//! MariaDB database, filled with generated accounts, positions and orders whose expected import
//! is known exactly.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::database::Database;

/// The Java wallet's tables, from the facts of SPEC §10.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE accounts (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        user_id VARCHAR(100) NOT NULL UNIQUE,
        balance DECIMAL(19,4) NOT NULL DEFAULT 0,
        blocked_balance DECIMAL(19,4) NOT NULL DEFAULT 0,
        currency VARCHAR(10) NOT NULL DEFAULT 'BRL',
        updated_at DATETIME(6) NULL,
        created_at DATETIME(6) NOT NULL)",
    "CREATE TABLE positions (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        account_id BIGINT NOT NULL,
        ticker VARCHAR(20) NOT NULL,
        quantity DECIMAL(19,4) NOT NULL,
        average_price DECIMAL(19,4) NOT NULL,
        updated_at DATETIME(6) NULL,
        UNIQUE (account_id, ticker),
        FOREIGN KEY (account_id) REFERENCES accounts (id))",
    "CREATE TABLE wallet_transactions (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        user_id VARCHAR(100) NOT NULL,
        order_id BIGINT NOT NULL,
        transaction_type ENUM('RESERVE','SETTLEMENT','REFUND') NOT NULL,
        amount DECIMAL(19,4) NOT NULL,
        created_at DATETIME(6) NOT NULL,
        UNIQUE (order_id, transaction_type))",
];

/// A deterministic generator, so that a failure replays exactly.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// A decimal with four fractional digits, as DECIMAL(19,4) writes it.
fn scale4(units: u64, digits: u32) -> String {
    let value = Decimal::new(i64::try_from(units).expect("small"), digits);
    let mut value = value;
    value.rescale(4);
    value.to_string()
}

/// What the import must produce for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Balance and blocked balance.
    pub cash: (Decimal, Decimal),
    /// Quantity and average price by ticker.
    pub positions: BTreeMap<String, (Decimal, Decimal)>,
    /// Amount reserved by open order.
    pub holds: BTreeMap<i64, Decimal>,
}

/// A filled Java wallet database and what importing it must produce, by user.
#[derive(Debug)]
pub struct JavaWallet {
    /// The database.
    pub database: Database,
    /// Expected accounts by user id.
    pub expected: BTreeMap<String, Expected>,
}

const TICKERS: [&str; 5] = ["PETR4", "VALE3", "ITUB4", "BBDC4", "WEGE3"];

impl JavaWallet {
    /// An empty Java wallet database (its schema, no rows).
    #[must_use]
    pub fn empty() -> JavaWallet {
        let database = Database::create();
        for statement in SCHEMA {
            database.execute(statement);
        }
        JavaWallet {
            database,
            expected: BTreeMap::new(),
        }
    }

    /// `accounts` generated accounts, each with up to three positions at DECIMAL(19,4) values
    /// and a mix of open, settled and refunded orders, its blocked balance the sum of the open.
    #[must_use]
    pub fn generate(seed: u64, accounts: usize) -> JavaWallet {
        let mut wallet = JavaWallet::empty();
        let mut random = Lcg(seed);
        let mut account_rows = Vec::new();
        let mut position_rows = Vec::new();
        let mut transaction_rows = Vec::new();
        let mut order = 50_000_000_i64;
        for index in 0..accounts {
            let id = index + 1;
            let user = if index % 7 == 0 {
                format!("{:08x}-1df9-41ba-a961-{:012x}", seed, index)
            } else {
                format!("java-{seed}-{index}")
            };
            let mut expected = Expected::default();
            let mut blocked_cents = 0_u64;
            for _ in 0..random.next(4) {
                order += 1;
                let cents = 100 + random.next(500_000);
                let at = "2026-05-13 20:40:55.123456";
                let reserve = format!(
                    "('{user}', {order}, 'RESERVE', {}, '{at}')",
                    scale4(cents, 2)
                );
                transaction_rows.push(reserve);
                match random.next(4) {
                    0 => {
                        blocked_cents += cents;
                        expected
                            .holds
                            .insert(order, Decimal::new(i64::try_from(cents).expect("small"), 2));
                    }
                    1 => transaction_rows.push(format!(
                        "('{user}', {order}, 'SETTLEMENT', -{}, '{at}')",
                        scale4(cents, 2)
                    )),
                    2 => transaction_rows.push(format!(
                        "('{user}', {order}, 'REFUND', {}, '{at}')",
                        scale4(cents, 2)
                    )),
                    _ => {
                        transaction_rows.push(format!(
                            "('{user}', {order}, 'SETTLEMENT', -{}, '{at}')",
                            scale4(cents - 50, 2)
                        ));
                        transaction_rows
                            .push(format!("('{user}', {order}, 'REFUND', 0.5000, '{at}')"));
                    }
                }
            }
            let balance_cents = blocked_cents + random.next(100_000_000);
            account_rows.push(format!(
                "({id}, '{user}', {}, {}, 'BRL', '2026-05-13 20:00:00.000000', '2026-01-02 09:00:00.000000')",
                scale4(balance_cents, 2),
                scale4(blocked_cents, 2)
            ));
            expected.cash = (
                Decimal::new(i64::try_from(balance_cents).expect("small"), 2),
                Decimal::new(i64::try_from(blocked_cents).expect("small"), 2),
            );
            for (slot, ticker) in TICKERS.iter().enumerate() {
                if random.next(3) != 0 || slot > 2 {
                    continue;
                }
                let quantity = 1 + random.next(10_000_000);
                let price = 1 + random.next(5_000_000);
                position_rows.push(format!(
                    "({id}, '{ticker}', {}, {}, '2026-05-13 20:00:00')",
                    scale4(quantity, 4),
                    scale4(price, 4)
                ));
                expected.positions.insert(
                    (*ticker).to_owned(),
                    (
                        Decimal::new(i64::try_from(quantity).expect("small"), 4).normalize(),
                        Decimal::new(i64::try_from(price).expect("small"), 4).normalize(),
                    ),
                );
            }
            wallet.expected.insert(user, expected);
        }
        wallet.insert(
            "accounts (id, user_id, balance, blocked_balance, currency, updated_at, created_at)",
            &account_rows,
        );
        wallet.insert(
            "positions (account_id, ticker, quantity, average_price, updated_at)",
            &position_rows,
        );
        wallet.insert(
            "wallet_transactions (user_id, order_id, transaction_type, amount, created_at)",
            &transaction_rows,
        );
        wallet
    }

    /// Inserts `rows` (SQL tuples) into `table_and_columns`, in chunks.
    pub fn insert(&self, table_and_columns: &str, rows: &[String]) {
        for chunk in rows.chunks(500) {
            self.database.execute(&format!(
                "INSERT INTO {table_and_columns} VALUES {}",
                chunk.join(", ")
            ));
        }
    }

    /// The URL the import reads from.
    #[must_use]
    pub fn url(&self) -> String {
        self.database.url()
    }
}
