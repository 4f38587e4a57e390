//! The compiled `wallet` binary on the embedded default (SQLite under `data/`, in-process
//! Kafka, prices in memory), from an empty working directory: it becomes ready, takes a
//! deposit, and exits 0 on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

/// Longest wait for start-up and readiness (the embedded broker's first group join alone takes
/// about 3 s).
const READY_DEADLINE: Duration = Duration::from_secs(90);

/// Kills the child if the test fails half-way, and removes the working directory.
struct Running {
    /// `None` once the test took it to wait for its exit.
    child: Option<Child>,
    directory: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// Reads the HTTP port from the start-up log line and forwards every line to the test's
/// output (so a failure shows the service's logs), draining the pipe for the whole run.
fn watch_logs(stdout: std::process::ChildStdout) -> mpsc::Receiver<u16> {
    let (port_sender, port) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("wallet> {line}");
            if let Some(rest) = line.split("HTTP API on http://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(port) = digits.parse() {
                    let _ = port_sender.send(port);
                }
            }
        }
    });
    port
}

/// The binary starts from nothing on the default configuration and serves.
#[tokio::test]
async fn the_binary_runs_on_the_embedded_default() {
    let directory = std::env::temp_dir().join(format!("wallet-bin-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wallet"))
        .arg("serve")
        .current_dir(&directory)
        // Only the port differs from the default (0: the OS picks a free one); the
        // environment of the test run must not leak in.
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WALLET__SERVER__BIND", "127.0.0.1:0")
        .env("WALLET__LOG__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the wallet binary starts");
    let port = watch_logs(child.stdout.take().unwrap());
    let mut running = Running {
        child: Some(child),
        directory,
    };
    let port = port
        .recv_timeout(READY_DEADLINE)
        .expect("the binary logs where it listens");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let deadline = Instant::now() + READY_DEADLINE;
    let mut interval = tokio::time::interval(Duration::from_millis(200));
    loop {
        interval.tick().await;
        let response = client.get(format!("{base}/health/ready")).send().await;
        if matches!(&response, Ok(response) if response.status() == StatusCode::OK) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready within {READY_DEADLINE:?}: {response:?}"
        );
    }

    let response = client
        .post(format!("{base}/api/v1/wallet/investor-42/deposit"))
        .json(&serde_json::json!({"amount": "10000.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let account: serde_json::Value = response.json().await.unwrap();
    assert_eq!(account["balance"], "10000.00");
    assert!(
        running.directory.join("data/wallet.db").is_file(),
        "SQLite under data/"
    );

    // SIGTERM: a graceful stop with exit code 0.
    let mut child = running.child.take().unwrap();
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let pid = child.id().to_string();
    let (status_sender, status) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = status_sender.send(child.wait());
    });
    let status = match status.recv_timeout(Duration::from_secs(60)) {
        Ok(status) => status.unwrap(),
        Err(_) => {
            // Do not leave it running behind the failed test.
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("the binary did not stop within 60 s of SIGTERM");
        }
    };
    assert!(status.success(), "exit status {status}");
}
