//! Harness of the end-to-end tests: each test gets its own MariaDB database, its own broker
//! process on a free port and its own `wallet` process, and drives them the way the Order API,
//! the market-data service and an operator do.

pub mod b3;
pub mod broker;
pub mod dashboard;
pub mod database;
pub mod java_wallet;
pub mod kafka;
pub mod process;
pub mod tls;
pub mod wallet;
pub mod workload;

use std::time::{Duration, Instant};

/// A free TCP port on the loopback interface.
#[must_use]
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Polls `condition` every 50 ms until it holds; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The repository root (the parent of this crate).
#[must_use]
pub fn repository_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
