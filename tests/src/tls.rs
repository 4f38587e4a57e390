//! TLS servers of the project's own, made at test time: a certificate authority and a server
//! certificate for 127.0.0.1 (openssl), a private MariaDB that refuses connections without TLS,
//! and a Redis that speaks only TLS. Each lives in its own directory, on its own free port, and
//! is stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::Spawned;

fn run(what: &str, command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(
        output.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn wait_listening(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A certificate authority and a server certificate it signed for `127.0.0.1` and
/// `localhost`, valid for two days.
#[derive(Debug)]
pub struct TestCa {
    directory: PathBuf,
}

impl TestCa {
    /// Generates the authority and the server's key and certificate in a fresh directory.
    #[must_use]
    pub fn generate() -> TestCa {
        let directory =
            std::env::temp_dir().join(format!("wallet-e2e-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("create the TLS directory");
        let openssl = |arguments: &[&str]| {
            run(
                "openssl",
                Command::new("openssl")
                    .current_dir(&directory)
                    .args(arguments),
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=wallet-test-ca",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server-key.pem",
            "-out",
            "server.csr",
        ]);
        std::fs::write(
            directory.join("san.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .expect("write the extension file");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.cnf",
            "-out",
            "server.pem",
        ]);
        TestCa { directory }
    }

    /// The authority's certificate (PEM), to trust.
    #[must_use]
    pub fn ca(&self) -> PathBuf {
        self.directory.join("ca.pem")
    }

    fn server_certificate(&self) -> PathBuf {
        self.directory.join("server.pem")
    }

    fn server_key(&self) -> PathBuf {
        self.directory.join("server-key.pem")
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// A MariaDB server of its own that accepts TCP connections over TLS only
/// (`require_secure_transport`), with a database `wallet` and root without a password.
#[derive(Debug)]
pub struct TlsMariaDb {
    port: u16,
    directory: PathBuf,
    process: Option<Spawned>,
}

impl TlsMariaDb {
    /// Initialises a data directory and starts the server with `ca`'s server certificate.
    #[must_use]
    pub fn start(ca: &TestCa) -> TlsMariaDb {
        let directory = std::env::temp_dir().join(format!(
            "wallet-e2e-mariadb-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let data = directory.join("data");
        std::fs::create_dir_all(&data).expect("create the MariaDB directory");
        run(
            "mariadb-install-db",
            Command::new("mariadb-install-db").args([
                "--no-defaults",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                &format!("--datadir={}", data.display()),
            ]),
        );
        let port = crate::free_port();
        let mut command = Command::new("/usr/sbin/mariadbd");
        command.args([
            "--no-defaults".to_owned(),
            "--user=root".to_owned(),
            format!("--datadir={}", data.display()),
            format!("--port={port}"),
            "--bind-address=127.0.0.1".to_owned(),
            format!("--socket={}", directory.join("mariadb.sock").display()),
            format!("--pid-file={}", directory.join("mariadb.pid").display()),
            format!("--ssl-cert={}", ca.server_certificate().display()),
            format!("--ssl-key={}", ca.server_key().display()),
            format!("--ssl-ca={}", ca.ca().display()),
            "--require-secure-transport=ON".to_owned(),
        ]);
        let log = directory.join("mariadb.log");
        let process = Spawned::start("mariadbd", command, log.clone());
        wait_listening(port, "mariadbd", &log);
        let database = TlsMariaDb {
            port,
            directory,
            process: Some(process),
        };
        run(
            "create the wallet database",
            Command::new("mariadb").args([
                "-h127.0.0.1",
                &format!("-P{port}"),
                "-uroot",
                "--ssl",
                &format!("--ssl-ca={}", ca.ca().display()),
                "-e",
                "CREATE DATABASE wallet",
            ]),
        );
        database
    }

    /// The URL of the `wallet` database with `options` (`ssl-mode=…&ssl-ca=…`).
    #[must_use]
    pub fn url(&self, options: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/wallet?{options}", self.port)
    }
}

impl Drop for TlsMariaDb {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// A Redis server of its own that speaks only TLS.
#[derive(Debug)]
pub struct TlsRedis {
    port: u16,
    process: Option<Spawned>,
    log: PathBuf,
}

impl TlsRedis {
    /// Starts `redis-server` with `ca`'s server certificate on a free port (no plain port).
    #[must_use]
    pub fn start(ca: &TestCa) -> TlsRedis {
        let port = crate::free_port();
        let log = ca.directory.join(format!("redis-{port}.log"));
        let mut command = Command::new("redis-server");
        command.args([
            "--port".to_owned(),
            "0".to_owned(),
            "--tls-port".to_owned(),
            port.to_string(),
            "--tls-cert-file".to_owned(),
            ca.server_certificate().display().to_string(),
            "--tls-key-file".to_owned(),
            ca.server_key().display().to_string(),
            "--tls-ca-cert-file".to_owned(),
            ca.ca().display().to_string(),
            "--tls-auth-clients".to_owned(),
            "no".to_owned(),
            "--save".to_owned(),
            String::new(),
            "--appendonly".to_owned(),
            "no".to_owned(),
        ]);
        let process = Spawned::start("redis-server", command, log.clone());
        wait_listening(port, "redis-server", &log);
        TlsRedis {
            port,
            process: Some(process),
            log,
        }
    }

    /// `rediss://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    /// The server's log so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }
}
