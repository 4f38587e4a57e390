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
    /// Whether clients must authenticate (SASL SCRAM).
    authentication: bool,
}

/// A SCRAM user of an authenticating broker.
#[derive(Debug, Clone, Copy)]
pub struct ScramUser<'a> {
    /// The user name.
    pub name: &'a str,
    /// Its password.
    pub password: &'a str,
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
            authentication: false,
        };
        broker.resume();
        for topic in topics {
            broker.create_topic(topic, partitions);
        }
        broker
    }

    /// Starts a broker that requires SASL (SCRAM-SHA-256 and -512) from every client, with
    /// `users` and `topics`. Tansu 0.6.0 answers nothing but the SASL handshake to a client that
    /// has not authenticated, its own CLI included, so users and topics are created first, on
    /// the same storage, by a broker that does not require it yet.
    #[must_use]
    pub fn start_authenticated(
        topics: &[&str],
        partitions: u32,
        users: &[ScramUser<'_>],
    ) -> Broker {
        let mut broker = Broker::start(topics, partitions);
        for user in users {
            for mechanism in ["scram256", "scram512"] {
                broker.tansu(&[
                    "user",
                    "create",
                    "--mechanism",
                    mechanism,
                    user.name,
                    user.password,
                ]);
            }
        }
        broker.stop();
        broker.authentication = true;
        broker.resume();
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
        if self.authentication {
            command.arg("--authentication");
        }
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
        self.tansu(&[
            "topic",
            "create",
            "--partitions",
            &partitions.to_string(),
            topic,
        ]);
    }

    /// Runs `tansu <arguments> --broker <this broker>` and fails loudly when it fails.
    fn tansu(&self, arguments: &[&str]) {
        let output = Command::new(tansu_binary())
            .current_dir(&self.directory)
            .args(arguments)
            .args(["--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .output()
            .expect("run tansu");
        assert!(
            output.status.success(),
            "tansu {arguments:?}: {}{}",
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
