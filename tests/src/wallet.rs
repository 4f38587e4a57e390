//! The compiled `wallet` binary as a black box: started with environment overrides, spoken to
//! over HTTP, signalled, and run as a CLI.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process::{Spawned, StillRunning};

/// The `wallet` binary built beside this test (the workspace's `cargo test` builds it).
#[must_use]
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("WALLET_E2E_BINARY") {
        return PathBuf::from(path);
    }
    let test = std::env::current_exe().expect("path of the test binary");
    // target/<profile>/deps/<test> → target/<profile>/wallet
    let path = test
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target directory")
        .join("wallet");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p wallet-app`",
        path.display()
    );
    path
}

/// A running `wallet serve`.
#[derive(Debug)]
pub struct Wallet {
    env: BTreeMap<String, String>,
    port: u16,
    directory: PathBuf,
    process: Option<Spawned>,
    http: reqwest::Client,
}

impl Wallet {
    /// Starts `wallet serve` on a free port with `env` (keys such as `WALLET__DATABASE__URL`)
    /// in a fresh working directory.
    #[must_use]
    pub fn start(env: &[(&str, String)]) -> Wallet {
        let mut wallet = Self::prepare(env);
        wallet.restart();
        wallet
    }

    /// Prepares a `wallet` with `env` in a fresh working directory without starting it, to
    /// run its CLI or to start it with [`Wallet::restart`].
    #[must_use]
    pub fn prepare(env: &[(&str, String)]) -> Wallet {
        let port = crate::free_port();
        let mut variables: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        variables.insert("WALLET__SERVER__BIND".into(), format!("127.0.0.1:{port}"));
        variables
            .entry("WALLET__LOG__FORMAT".into())
            .or_insert_with(|| "compact".into());
        let directory =
            std::env::temp_dir().join(format!("wallet-e2e-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("create the wallet directory");
        Wallet {
            env: variables,
            port,
            directory,
            process: None,
            http: reqwest::Client::new(),
        }
    }

    /// Starts the process again with the same settings (after a kill or a stop).
    pub fn restart(&mut self) {
        let mut command = Command::new(binary());
        command
            .current_dir(&self.directory)
            .arg("serve")
            .envs(&self.env);
        self.process = Some(Spawned::start(
            "wallet",
            command,
            self.directory.join("wallet.log"),
        ));
    }

    /// The value of one of the process's settings variables.
    #[must_use]
    pub fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The HTTP client.
    #[must_use]
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The status of `GET /health/ready`, or `None` while nothing answers.
    pub async fn readiness(&self) -> Option<u16> {
        let response = self
            .http
            .get(format!("{}/health/ready", self.base_url()))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        response.ok().map(|response| response.status().as_u16())
    }

    /// Waits until `/health/live` answers (the service serves HTTP, ready or not).
    pub async fn wait_live(&mut self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let live = self
                .http
                .get(format!("{}/health/live", self.base_url()))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if live {
                return;
            }
            let running = self.process.as_mut().is_some_and(Spawned::is_running);
            assert!(
                running,
                "wallet exited before it served HTTP:\n{}",
                self.log()
            );
            assert!(
                std::time::Instant::now() < deadline,
                "wallet not serving HTTP after {timeout:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `/health/ready` answers 200.
    pub async fn wait_ready(&mut self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.readiness().await == Some(200) {
                return;
            }
            let running = self.process.as_mut().is_some_and(Spawned::is_running);
            assert!(
                running,
                "wallet exited before it was ready:\n{}",
                self.log()
            );
            assert!(
                std::time::Instant::now() < deadline,
                "wallet not ready after {timeout:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `GET path` as JSON, with its status.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url()))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// `POST path` as JSON, with its status.
    pub async fn post(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url()))
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Sends a signal to the process (`KILL`, `TERM`).
    pub fn signal(&self, signal: &str) {
        self.process
            .as_ref()
            .expect("wallet is running")
            .signal(signal);
    }

    /// Kills the process with SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Waits for the process to exit; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        self.process.take().expect("wallet is running").wait()
    }

    /// Waits at most `timeout` for the process to exit: its exit code, or `Err` when it was
    /// still running (it is killed then).
    pub fn wait_exit_within(&mut self, timeout: Duration) -> Result<Option<i32>, StillRunning> {
        self.process
            .take()
            .expect("wallet is running")
            .wait_within(timeout)
    }

    /// Runs `wallet <arguments>` with the same settings; its exit code and output.
    #[must_use]
    pub fn cli(&self, arguments: &[&str]) -> (Option<i32>, String) {
        let output = Command::new(binary())
            .current_dir(&self.directory)
            .args(arguments)
            .envs(&self.env)
            .output()
            .expect("run the wallet CLI");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code(), text)
    }

    /// The service's log so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.join("wallet.log")).unwrap_or_default()
    }
}

impl Drop for Wallet {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
