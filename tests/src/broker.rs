//! A Kafka-protocol broker in its own process: Tansu with SQLite storage (see
//! `shared/KAFKA.md`), installed by `scripts/install-tansu.sh`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::Spawned;

/// Where `scripts/install-tansu.sh` puts the binary; `WALLET_E2E_TANSU` overrides it.
fn tansu_binary() -> PathBuf {
    if let Ok(path) = std::env::var("WALLET_E2E_TANSU") {
        return PathBuf::from(path);
    }
    let home = std::env::var("HOME").expect("HOME is set");
    let path = PathBuf::from(home).join(".cache/broker-wallet/tools/bin/tansu");
    assert!(
        path.exists(),
        "tansu is not installed at {}: run scripts/install-tansu.sh (make test does)",
        path.display()
    );
    path
}

/// A running broker with its data directory; stopped and removed on drop.
#[derive(Debug)]
pub struct Broker {
    port: u16,
    directory: PathBuf,
    process: Option<Spawned>,
}

impl Broker {
    /// Starts a broker on a free port and creates `topics` with `partitions` partitions each.
    #[must_use]
    pub fn start(topics: &[&str], partitions: u32) -> Broker {
        let directory = std::env::temp_dir().join(format!(
            "wallet-e2e-broker-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&directory).expect("create the broker directory");
        let mut broker = Broker {
            port: crate::free_port(),
            directory,
            process: None,
        };
        broker.resume();
        for topic in topics {
            broker.create_topic(topic, partitions);
        }
        broker
    }

    /// `127.0.0.1:<port>`.
    #[must_use]
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker process again on the same port and storage after [`Broker::stop`].
    pub fn resume(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let mut command = Command::new(tansu_binary());
        command
            .current_dir(&self.directory)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "sqlite://tansu.db"]);
        self.process = Some(Spawned::start(
            "tansu",
            command,
            self.directory.join("tansu.log"),
        ));
        self.wait_listening();
    }

    /// Kills the broker process (its storage stays).
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {}: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn create_topic(&self, topic: &str, partitions: u32) {
        let output = Command::new(tansu_binary())
            .current_dir(&self.directory)
            .args([
                "topic",
                "create",
                "--broker",
                &format!("tcp://127.0.0.1:{}", self.port),
            ])
            .args(["--partitions", &partitions.to_string(), topic])
            .output()
            .expect("run tansu topic create");
        assert!(
            output.status.success(),
            "tansu topic create {topic}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The broker's log so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.join("tansu.log")).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
