//! A fresh MariaDB database per test, dropped at the end.

use std::process::Command;

/// Server URL without a database; `WALLET_TEST_MYSQL_URL` overrides it.
fn server_url() -> String {
    std::env::var("WALLET_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
}

fn run_sql(sql: &str) -> String {
    let output = Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "-u",
            "root",
            "--batch",
            "--skip-column-names",
            "-e",
            sql,
        ])
        .output()
        .expect("run the mariadb client (MariaDB must be running at 127.0.0.1:3306)");
    assert!(
        output.status.success(),
        "mariadb `{sql}` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A database `wallet_e2e_<uuid>` that exists for the lifetime of the value.
#[derive(Debug)]
pub struct Database {
    name: String,
}

impl Database {
    /// Creates an empty database.
    #[must_use]
    pub fn create() -> Database {
        let name = format!("wallet_e2e_{}", uuid::Uuid::new_v4().simple());
        run_sql(&format!("CREATE DATABASE `{name}`"));
        Database { name }
    }

    /// The URL the wallet connects with.
    #[must_use]
    pub fn url(&self) -> String {
        format!("{}/{}", server_url(), self.name)
    }

    /// The URL through a different host and port (e.g. a proxy in front of MariaDB).
    #[must_use]
    pub fn url_via(&self, address: &str) -> String {
        format!("mysql://root@{address}/{}", self.name)
    }

    /// Runs statements in this database (DDL, inserts) that return no rows.
    pub fn execute(&self, sql: &str) {
        run_sql(&format!("USE `{}`; {sql}", self.name));
    }

    /// Runs a query in this database and returns its tab-separated rows.
    #[must_use]
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        run_sql(&format!("USE `{}`; {sql}", self.name))
            .lines()
            .map(|line| line.split('\t').map(str::to_owned).collect())
            .collect()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("mariadb")
            .args([
                "-h",
                "127.0.0.1",
                "-u",
                "root",
                "-e",
                &format!("DROP DATABASE IF EXISTS `{}`", self.name),
            ])
            .output();
    }
}
