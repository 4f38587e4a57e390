//! The `wallet` binary under test, as a child process whose id the bench knows, so that its
//! peak resident memory can be read from `/proc/<pid>/status` (SPEC §8 "peak RSS").

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use wallet_e2e::process::Spawned;

/// The release `wallet` binary: `WALLET_BENCH_BINARY`, else the `wallet` beside this bench's
/// executable (both are built into the same `target/release`).
///
/// # Errors
/// A message when the binary is missing.
pub fn binary() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("WALLET_BENCH_BINARY") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|error| format!("own path: {error}"))?;
    let path = exe
        .parent()
        .ok_or("the bench executable has no directory")?
        .join("wallet");
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build it with `cargo build --release -p wallet-app`",
            path.display()
        ))
    }
}

/// A running `wallet serve`, killed when dropped.
#[derive(Debug)]
pub struct Service {
    process: Spawned,
    port: u16,
    directory: PathBuf,
}

impl Service {
    /// Starts `wallet serve` on a free port with `env` in a fresh working directory.
    ///
    /// # Errors
    /// A message when the binary is missing or the directory cannot be made.
    pub fn start(label: &str, env: &[(&str, String)]) -> Result<Service, String> {
        let port = wallet_e2e::free_port();
        let directory = std::env::temp_dir().join(format!(
            "wallet-bench-{label}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&directory)
            .map_err(|error| format!("create {}: {error}", directory.display()))?;
        let mut command = Command::new(binary()?);
        command
            .current_dir(&directory)
            .arg("serve")
            .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
            .env("WALLET__SERVER__BIND", format!("127.0.0.1:{port}"));
        let process = Spawned::start("wallet", command, directory.join("wallet.log"));
        Ok(Service {
            process,
            port,
            directory,
        })
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until `/health/live` answers, i.e. migrations ran and HTTP is bound.
    ///
    /// # Errors
    /// A message with the service's log when it exits or does not answer within `timeout`.
    pub async fn wait_live(&mut self, timeout: Duration) -> Result<(), String> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            let answer = client
                .get(format!("{}/health/live", self.base_url()))
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if answer.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            if !self.process.is_running() || Instant::now() > deadline {
                return Err(format!("wallet did not come up:\n{}", self.log_tail()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process id, while it runs.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// The peak resident set size so far (`VmHWM`), in KiB.
    #[must_use]
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.process.pid()?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The last lines of the service's log, for error messages.
    #[must_use]
    pub fn log_tail(&self) -> String {
        let log = self.process.output();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.process.kill();
        // BENCH_KEEP_LOGS=DIR keeps each service's log for a post-mortem.
        if let Some(keep) = std::env::var_os("BENCH_KEEP_LOGS") {
            let run = self
                .directory
                .file_name()
                .unwrap_or_default()
                .to_string_lossy();
            let name = format!("{run}.log");
            let _ = std::fs::copy(
                self.directory.join("wallet.log"),
                std::path::Path::new(&keep).join(name),
            );
        }
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
