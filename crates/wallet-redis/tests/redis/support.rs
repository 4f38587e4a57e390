//! Helpers of the Redis tests: a connection for fixtures under a random key prefix, a metrics
//! recorder that counts, and a relay that counts round trips.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, SharedString, Unit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use wallet_domain::Ticker;
use wallet_redis::{PriceKeyKind, RedisPriceConfig, RedisPriceFeed};

use deadpool_redis::redis::{self, FromRedisValue, aio::MultiplexedConnection};

/// The Redis the tests use.
pub fn redis_url() -> String {
    std::env::var("WALLET_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A generous look-up budget for tests about content, not speed: the machine is shared with
/// parallel builds, and a timeout there would be a false failure.
pub const TIMEOUT_MS_CONTENT: u64 = 5_000;

/// `text` as a ticker.
pub fn ticker(text: &str) -> Ticker {
    Ticker::parse(text).unwrap()
}

/// A test's own corner of Redis: every key it writes starts with `test:<uuid>:`.
pub struct TestRedis {
    connection: MultiplexedConnection,
    prefix: String,
}

impl TestRedis {
    /// Connects to [`redis_url`], failing the test loudly when Redis is not there.
    pub async fn connect() -> Self {
        let url = redis_url();
        let client = redis::Client::open(url.as_str())
            .unwrap_or_else(|error| panic!("WALLET_TEST_REDIS_URL {url:?} is invalid: {error}"));
        let connection = client.get_multiplexed_async_connection().await.unwrap_or_else(|error| {
            panic!(
                "these tests need a running Redis at {url} (or set WALLET_TEST_REDIS_URL): {error}"
            )
        });
        TestRedis {
            connection,
            prefix: format!("test:{}:", uuid::Uuid::new_v4()),
        }
    }

    /// `pattern` under this test's prefix, e.g. `test:<uuid>:ticker:price:{ticker}`.
    pub fn pattern(&self, pattern: &str) -> String {
        format!("{}{pattern}", self.prefix)
    }

    /// The key of `ticker` under `pattern` (unprefixed) and this test's prefix.
    pub fn key(&self, pattern: &str, ticker: &str) -> String {
        self.pattern(pattern).replace("{ticker}", ticker)
    }

    /// A feed over this test's prefix with `pattern`, `kind` and the content-test timeout.
    pub fn feed(&self, pattern: &str, kind: PriceKeyKind) -> RedisPriceFeed {
        RedisPriceFeed::new(&RedisPriceConfig {
            url: redis_url().into(),
            key_pattern: self.pattern(pattern),
            kind,
            timeout_ms: TIMEOUT_MS_CONTENT,
            pool_size: 2,
            ..RedisPriceConfig::default()
        })
        .unwrap()
    }

    /// Runs one fixture command.
    pub async fn run<T: FromRedisValue>(&mut self, command: &mut redis::Cmd) -> T {
        command.query_async(&mut self.connection).await.unwrap()
    }

    /// Deletes every key under this test's prefix. Tests call it before asserting, so that a
    /// failed assertion leaves nothing behind either.
    pub async fn cleanup(mut self) {
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.connection)
                .await
                .unwrap();
            if !keys.is_empty() {
                let _: u64 = redis::cmd("DEL")
                    .arg(&keys)
                    .query_async(&mut self.connection)
                    .await
                    .unwrap();
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
}

/// A metrics recorder that keeps counters (and histogram sample counts) by
/// `name{label=value,…}`, installed on the test's thread only so parallel tests do not mix.
#[derive(Debug, Default)]
pub struct CountingRecorder {
    values: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

struct SampleCount(Arc<AtomicU64>);

impl HistogramFn for SampleCount {
    fn record(&self, _value: f64) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl CountingRecorder {
    fn cell(&self, key: &Key) -> Arc<AtomicU64> {
        let labels: Vec<String> = key
            .labels()
            .map(|label| format!("{}={}", label.key(), label.value()))
            .collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.values.lock().unwrap().entry(name).or_default().clone()
    }

    /// The value of `name{labels}` (0 when never touched), e.g.
    /// `get("wallet_price_lookups_total{result=garbage}")`.
    pub fn get(&self, name: &str) -> u64 {
        self.values
            .lock()
            .unwrap()
            .get(name)
            .map_or(0, |value| value.load(Ordering::Relaxed))
    }
}

impl metrics::Recorder for CountingRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.cell(key))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(SampleCount(self.cell(key))))
    }
}

/// A TCP relay between the feed and Redis that counts *turns*: a turn starts whenever the
/// client sends bytes after it has received bytes (or sends for the first time).
///
/// A client that waits for a reply before sending its next request needs a new turn for each
/// request, so the turns are at least its round trips; a pipeline written in one go is one
/// turn. (The relay reads up to 64 KiB at once, so a pipeline of a few KiB written in one
/// write is read whole.)
pub struct TurnCountingRelay {
    /// Where the feed should connect.
    pub address: std::net::SocketAddr,
    turns: Arc<AtomicUsize>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: JoinHandle<()>,
}

impl TurnCountingRelay {
    /// Starts a relay on a free loopback port in front of `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        Self::with_handshake_delay(upstream, Duration::ZERO).await
    }

    /// As [`TurnCountingRelay::start`], but each connection's first reply (the end of the
    /// client's handshake) is held back for `delay`, like a Redis far away.
    pub async fn with_handshake_delay(upstream: String, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let turns = Arc::new(AtomicUsize::new(0));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let acceptor = tokio::spawn({
            let turns = turns.clone();
            let connections = connections.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let server = TcpStream::connect(&upstream).await.unwrap();
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    // True when the client's next bytes start a new turn.
                    let replied = Arc::new(AtomicBool::new(true));
                    let requests = tokio::spawn({
                        let (turns, replied) = (turns.clone(), replied.clone());
                        async move {
                            let mut buffer = vec![0_u8; 64 * 1024];
                            while let Ok(read @ 1..) = client_read.read(&mut buffer).await {
                                if replied.swap(false, Ordering::SeqCst) {
                                    turns.fetch_add(1, Ordering::SeqCst);
                                }
                                if server_write.write_all(&buffer[..read]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    });
                    let replies = tokio::spawn(async move {
                        let mut buffer = vec![0_u8; 64 * 1024];
                        let mut first = true;
                        while let Ok(read @ 1..) = server_read.read(&mut buffer).await {
                            if std::mem::take(&mut first) && !delay.is_zero() {
                                // Simulated latency, not synchronisation.
                                tokio::time::sleep(delay).await;
                            }
                            // Marked before forwarding, so a request the client sends after
                            // reading this reply always counts as a new turn.
                            replied.store(true, Ordering::SeqCst);
                            if client_write.write_all(&buffer[..read]).await.is_err() {
                                break;
                            }
                        }
                    });
                    connections.lock().unwrap().extend([requests, replies]);
                }
            }
        });
        TurnCountingRelay {
            address,
            turns,
            connections,
            acceptor,
        }
    }

    /// Turns counted since the start or the last [`TurnCountingRelay::reset`].
    pub fn turns(&self) -> usize {
        self.turns.load(Ordering::SeqCst)
    }

    /// Starts counting from zero.
    pub fn reset(&self) {
        self.turns.store(0, Ordering::SeqCst);
    }

    /// Closes every relayed connection (new ones are still accepted), as a Redis restart would.
    pub fn sever(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

impl Drop for TurnCountingRelay {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.sever();
    }
}

/// `url` with its `host:port` replaced by `address`, keeping credentials and database.
pub fn url_with_address(url: &str, address: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a redis:// URL");
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let credentials = authority.rsplit_once('@').map(|(c, _)| c);
    let mut out = format!("{scheme}://");
    if let Some(credentials) = credentials {
        out.push_str(credentials);
        out.push('@');
    }
    out.push_str(address);
    if !path.is_empty() {
        out.push('/');
        out.push_str(path);
    }
    out
}

/// The `host:port` of `url`.
pub fn url_address(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:6379")
    }
}
