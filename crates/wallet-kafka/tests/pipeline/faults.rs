//! Faults: the broker or the database goes away for a while; the consumer pauses, commits
//! nothing past what it applied, shows it in its health, and resumes by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use wallet_domain::Currency;
use wallet_domain::usecases::WalletService;
use wallet_sql::SqlStore;
use wallet_sql::test_support::mysql_server_url;

use crate::support::{PATIENCE, Pipeline, STORY, dec, fixture, wait_until, wait_until_async};

/// How long each outage lasts: long enough for several retries and client reconnects.
const OUTAGE: Duration = Duration::from_secs(3);

/// All brokers refuse connections for a few seconds while events are being produced; the
/// consumer reconnects and applies every event exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_for_a_while_then_everything_is_applied() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-42", "10000.00").await;
    let consumer = pipeline.spawn_consumer(pipeline.service());
    for name in &STORY[..3] {
        pipeline.produce(b"investor-42", &fixture(name)).await;
    }
    pipeline.wait_all_committed().await;

    pipeline.broker.brokers_down().unwrap();
    // The rest of the story is produced during the outage: the producer holds it until the
    // brokers are back, so the consumer must catch up on it afterwards.
    let produce_rest = async {
        for name in &STORY[3..] {
            pipeline.produce(b"investor-42", &fixture(name)).await;
        }
    };
    let outage = async {
        // The outage's length is the scenario, not a synchronisation.
        tokio::time::sleep(OUTAGE).await;
        pipeline.broker.brokers_up().unwrap();
    };
    tokio::join!(produce_rest, outage);

    pipeline.wait_all_committed().await;
    pipeline.assert_story_balances().await;
    assert_eq!(
        consumer.health.snapshot().events_processed,
        STORY.len() as u64
    );
    consumer.stop().await;
    pipeline.finish().await;
}

/// A TCP relay in front of MariaDB that can be cut (every connection closed, new ones
/// refused) and restored: the database "goes down" without touching the shared server.
struct CuttableProxy {
    address: String,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: JoinHandle<()>,
}

impl CuttableProxy {
    async fn start(target: String) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let acceptor = tokio::spawn({
            let cut = cut.clone();
            let links = links.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        continue; // dropped: the client sees the connection closed
                    }
                    let target = target.clone();
                    links.lock().await.push(tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    }));
                }
            }
        });
        CuttableProxy {
            address,
            cut,
            links,
            acceptor,
        }
    }

    async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// `host:port` of a `mysql://user@host:port[/db]` URL.
fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    let host = rest.split('/').next().unwrap_or(rest);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:3306")
    }
}

/// The database becomes unreachable while events arrive: nothing is committed past the last
/// applied event, readiness turns false, and when the database is back every event is applied
/// once and committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_commits_nothing_unapplied_and_resumes() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-42", "10000.00").await;
    let server = authority(&mysql_server_url());
    let proxy = CuttableProxy::start(server.clone()).await;
    let proxied_url = pipeline.database.url().replacen(&server, &proxy.address, 1);
    assert_ne!(
        proxied_url,
        pipeline.database.url(),
        "URL must go through the proxy"
    );
    let proxied = SqlStore::connect(&proxied_url, 4).await.unwrap();
    let consumer = pipeline.spawn_consumer(WalletService::new(proxied, Currency::BRL));

    for name in &STORY[..2] {
        pipeline.produce(b"investor-42", &fixture(name)).await;
    }
    pipeline.wait_all_committed().await;
    wait_until("consumer ready", PATIENCE, || consumer.health.is_ready()).await;
    let committed_before = pipeline.committed().await;

    proxy.cut().await;
    for name in &STORY[2..] {
        pipeline.produce(b"investor-42", &fixture(name)).await;
    }
    wait_until("the consumer retrying the store", PATIENCE, || {
        consumer.health.snapshot().retrying
    })
    .await;
    assert!(
        !consumer.health.is_ready(),
        "not ready while the database is down"
    );
    // The outage's length is the scenario: several retries happen meanwhile.
    tokio::time::sleep(OUTAGE).await;
    assert_eq!(
        pipeline.committed().await,
        committed_before,
        "an offset was committed past unapplied events"
    );
    // Only the first two steps are in the database (read around the proxy).
    let (balance, blocked) = pipeline.balance("investor-42").await;
    assert_eq!((balance, blocked), (dec("6160.00"), dec("0")));

    proxy.restore();
    pipeline.wait_all_committed().await;
    pipeline.assert_story_balances().await;
    wait_until("consumer ready again", PATIENCE, || {
        consumer.health.is_ready()
    })
    .await;

    consumer.stop().await;
    drop(proxy);
    pipeline.finish().await;
}

/// Offset commits rejected by the broker are retried; the offsets end up committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_offset_commits_are_retried() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-42", "10000.00").await;
    let consumer = pipeline.spawn_consumer(pipeline.service());
    pipeline.produce(b"investor-42", &fixture(STORY[0])).await;
    pipeline.wait_all_committed().await;

    pipeline.broker.fail_offset_commits(3).unwrap();
    for name in &STORY[1..] {
        pipeline.produce(b"investor-42", &fixture(name)).await;
    }
    pipeline.wait_all_committed().await;
    pipeline.assert_story_balances().await;
    consumer.stop().await;
    pipeline.finish().await;
}

/// The dead-letter topic refuses writes: the consumer keeps retrying the dead letter and never
/// commits past it (it is not ready meanwhile), even once it has applied the next batch behind
/// it; once the topic accepts writes, the dead letter is written and everything is committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_commit_past_a_dead_letter_the_broker_did_not_acknowledge() {
    let pipeline = Pipeline::start().await;
    pipeline.deposit("investor-42", "10000.00").await;
    let dead_letter_topic = pipeline.settings.dead_letter_topic.clone();
    pipeline
        .broker
        .fail_topic(&dead_letter_topic, true)
        .unwrap();
    let consumer = pipeline.spawn_consumer(pipeline.service());

    pipeline.produce(b"investor-42", &fixture(STORY[0])).await;
    pipeline
        .produce(b"investor-42", &fixture("malformed/truncated.json"))
        .await;
    wait_until("the consumer retrying the dead letter", PATIENCE, || {
        consumer.health.snapshot().retrying
    })
    .await;
    assert!(!consumer.health.is_ready());
    // The fill comes in a batch of its own, behind the dead letter being retried: the lane
    // applies it meanwhile, but may not store its offset before the dead letter's.
    pipeline.produce(b"investor-42", &fixture(STORY[1])).await;
    wait_until_async("the fill applied", PATIENCE, || async {
        pipeline.balance("investor-42").await == (dec("6160.00"), dec("0"))
    })
    .await;
    // The outage's length is the scenario: several retries happen meanwhile.
    tokio::time::sleep(OUTAGE).await;
    let ends = pipeline
        .end_offsets(&pipeline.settings.order_events_topic)
        .await;
    let (partition, _) = ends.iter().find(|(_, end)| **end == 3).unwrap();
    let committed = pipeline.committed().await.get(partition).copied();
    // Offset 1 is the poison: a commit may cover offset 0 at most.
    assert!(
        committed.is_none_or(|offset| offset <= 1),
        "committed {committed:?} past an unacknowledged dead letter"
    );

    pipeline
        .broker
        .fail_topic(&dead_letter_topic, false)
        .unwrap();
    pipeline.wait_all_committed().await;
    let letters = pipeline.read_topic(&dead_letter_topic, 1).await;
    assert_eq!(letters[0].headers["x-error-reason"], "INVALID_JSON");
    assert_eq!(letters[0].value, fixture("malformed/truncated.json"));
    let (balance, blocked) = pipeline.balance("investor-42").await;
    assert_eq!((balance, blocked), (dec("6160.00"), dec("0")));
    wait_until("consumer ready again", PATIENCE, || {
        consumer.health.is_ready()
    })
    .await;
    consumer.stop().await;
    pipeline.finish().await;
}
