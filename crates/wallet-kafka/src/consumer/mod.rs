//! The order-event consumer (SPEC §4 "Delivery"): consume `order_events_topic` in batches,
//! apply each batch through the domain use case in one store transaction, dead-letter what the
//! wallet will not apply, and only then commit the offsets.
//!
//! Guarantees:
//! - an offset is stored (and so committed) only after the transaction that applied its record
//!   committed and, for a dead letter, after the broker acknowledged it;
//! - transient failures (store unavailable, dead-letter produce, commit) are retried with capped
//!   exponential backoff and shown in [`ConsumerHealth`]; nothing is skipped meanwhile;
//! - records of one partition are applied in partition order (a partition always goes to the
//!   same lane, which applies its batches one after the other);
//! - on a rebalance the client commits what was stored before partitions go; records of lost
//!   partitions still in a batch being collected are dropped (the next owner redoes them, and
//!   the domain applies them idempotently).
//!
//! - a batch whose application panics (a bug, never an input: inputs are refused with errors) is
//!   applied again one event at a time; an event that panics on its own is dead-lettered
//!   `PROCESSING_FAILED` with the panic's message, so one record can never stop its partition.
//!
//! The dispatcher stops polling the client once a lane's inbox is full (that lane is retrying
//! the store). Past the client's `max.poll.interval.ms` (30 s here) the member leaves the group
//! and its partitions move on; that is safe because nothing unapplied was committed.

mod apply;
mod batch;
mod context;
mod inbox;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use wallet_domain::EventOutcome;
use wallet_domain::ports::WalletStore;
use wallet_domain::usecases::WalletService;

use crate::backoff::{Backoff, sleep_unless_shutdown, stopping};
use crate::blocking::run_blocking;
use crate::dead_letter::DeadLetter;
use crate::error::KafkaError;
use crate::health::ConsumerHealth;
use crate::metrics;
use crate::publisher::Publisher;
use crate::settings::KafkaSettings;

use batch::Batch;
use context::{WalletContext, is_no_offset};
use inbox::Arrival;

/// Longest wait for the client to close (leave the group, flush the dead letters).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often an idle consumer retries a failed commit.
const IDLE_TICK: Duration = Duration::from_millis(500);

/// Fewest records a lane's inbox holds. Since a full prefetch is refilled within 10 ms the
/// inboxes stay full while the lanes catch up, and 4,000 records each made the peak RSS of the
/// throughput run 142–154 MB; 2,000 made it 138–146 MB at the same rate (`make bench`).
const LANE_INBOX_RECORDS_MIN: usize = 2_000;

/// Records a lane's inbox holds. A fetch brings long runs of one partition (one producer batch
/// each, thousands of records); while the dispatcher waits for room in one lane's inbox, the
/// other lanes get nothing, so each inbox holds such a run and several batches, not just one.
fn lane_inbox_records(settings: &KafkaSettings) -> usize {
    (settings.batch_size_max * 4).max(LANE_INBOX_RECORDS_MIN)
}

/// Consumes order events and applies them through a [`WalletService`].
pub struct OrderEventConsumer<S> {
    shared: Arc<Shared<S>>,
}

/// What the dispatcher and the lanes share.
struct Shared<S> {
    consumer: StreamConsumer<WalletContext>,
    context: Arc<WalletContext>,
    service: WalletService<S>,
    dead_letters: Publisher,
    settings: KafkaSettings,
    health: ConsumerHealth,
}

impl<S> std::fmt::Debug for OrderEventConsumer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderEventConsumer")
            .field("group_id", &self.shared.settings.group_id)
            .field("topic", &self.shared.settings.order_events_topic)
            .field("lanes", &self.shared.settings.apply_lanes)
            .finish_non_exhaustive()
    }
}

/// How the processing of one batch ended.
enum BatchEnd {
    /// Applied, dead-lettered and its offsets stored.
    Done,
    /// Shutdown was requested while a transient failure was being retried: nothing of the
    /// batch is committed.
    Abandoned,
}

impl<S: WalletStore> OrderEventConsumer<S> {
    /// Creates the consumer and its dead-letter producer, and subscribes to the input topic.
    /// The group is joined once [`OrderEventConsumer::run`] polls.
    ///
    /// # Errors
    /// [`KafkaError::Config`] for invalid settings, [`KafkaError::Client`] when a client cannot
    /// be created or subscribed.
    pub fn new(
        settings: &KafkaSettings,
        service: WalletService<S>,
        health: ConsumerHealth,
    ) -> Result<Self, KafkaError> {
        settings.validate()?;
        let context = WalletContext::new(health.clone());
        let consumer: StreamConsumer<WalletContext> = settings
            .consumer_config()?
            .create_with_context(context)
            .map_err(|error| KafkaError::client("create consumer", &error))?;
        consumer
            .subscribe(&[settings.order_events_topic.as_str()])
            .map_err(|error| KafkaError::client("subscribe", &error))?;
        let context = consumer.context().clone();
        Ok(OrderEventConsumer {
            shared: Arc::new(Shared {
                consumer,
                context,
                service,
                dead_letters: Publisher::new(settings, "wallet-dead-letters")?,
                settings: settings.clone(),
                health,
            }),
        })
    }

    /// Runs until `shutdown` turns true (or its sender is dropped): then finishes the batches
    /// in flight, commits, leaves the group and returns.
    ///
    /// One dispatcher polls the client and hands each record to the lane of its partition
    /// (`partition mod apply_lanes`); each lane collects, applies and stores the offsets of its
    /// own batches, so while one lane waits for its transaction another applies the next
    /// batch, and the next records are fetched meanwhile. A partition always goes to the same
    /// lane, so its records are applied in order; lanes that touch the same account (its
    /// events spread over partitions) are kept correct by the store's version checks.
    ///
    /// # Errors
    /// None today: every failure inside the loop is transient and retried; the `Result` leaves
    /// room for fatal ones.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), KafkaError> {
        let shared = self.shared;
        shared.health.set_running(true);
        let lane_count = shared.settings.apply_lanes.max(1);
        tracing::info!(
            topic = %shared.settings.order_events_topic,
            group = %shared.settings.group_id,
            lanes = lane_count,
            "order-event consumer started"
        );
        let stored = Arc::new(Notify::new());
        let mut lanes = Vec::with_capacity(lane_count);
        let mut lane_tasks = Vec::with_capacity(lane_count);
        for _ in 0..lane_count {
            let (sender, receiver) = mpsc::channel(lane_inbox_records(&shared.settings));
            lanes.push(sender);
            lane_tasks.push(tokio::spawn(run_lane(
                shared.clone(),
                receiver,
                shutdown.clone(),
                stored.clone(),
            )));
        }
        let mut backoff = shared.backoff();
        let mut commit_pending = false;
        loop {
            let received = tokio::select! {
                received = shared.consumer.recv() => Some(received.map(|message| message.detach())),
                () = stored.notified() => None,
                _ = shutdown.wait_for(|stop| *stop) => break,
                () = tokio::time::sleep(IDLE_TICK), if commit_pending => None,
            };
            match received {
                None => commit_pending = true,
                Some(Ok(record)) => {
                    backoff.reset();
                    // Partitions are never negative; the modulo keeps the index in range.
                    let lane = usize::try_from(record.partition()).unwrap_or(0) % lane_count;
                    let arrival = Arrival::now(record);
                    // A full inbox must not hold shutdown up: the lane may be stuck retrying.
                    let sent = tokio::select! {
                        sent = lanes[lane].send(arrival) => sent.is_ok(),
                        _ = shutdown.wait_for(|stop| *stop) => false,
                    };
                    if !sent {
                        break; // shutdown, or the lane gave up for it
                    }
                }
                Some(Err(error)) => {
                    // Fetch errors are reported and retried by the client itself; pause a
                    // little so a persistent one does not spin.
                    tracing::warn!(%error, "consume error");
                    metrics::retry("fetch");
                    shared.health.note_error(format!("consume: {error}"));
                    sleep_unless_shutdown(backoff.next_delay(), &mut shutdown).await;
                }
            }
            if commit_pending {
                commit_pending = !shared.commit();
            }
            if stopping(&shutdown) {
                break;
            }
        }
        // Each lane finishes the batch it holds (or abandons it if a failure is being retried)
        // and stops; then the last stored offsets are committed.
        drop(lanes);
        for task in lane_tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "consumer lane failed");
            }
        }
        shared.commit();
        close(shared).await;
        Ok(())
    }
}

/// One lane: collects batches of the records the dispatcher hands it, applies them and stores
/// their offsets, until its inbox is closed or a retry is cut short by shutdown.
///
/// A batch's dead letters are acknowledged, and its offsets stored, while the lane already
/// applies the next batch: the acknowledgement is a round trip to the broker that no record of
/// the next batch needs to wait for. The next batch's offsets are stored only after that, so a
/// partition's offsets are still stored in order, each after its dead letters.
async fn run_lane<S: WalletStore>(
    shared: Arc<Shared<S>>,
    mut inbox: mpsc::Receiver<Arrival<OwnedMessage>>,
    mut shutdown: watch::Receiver<bool>,
    stored: Arc<Notify>,
) {
    let mut rebalances_seen = shared.context.rebalances.load(Ordering::SeqCst);
    let mut finishing: Option<JoinHandle<BatchEnd>> = None;
    // On shutdown only the batch in flight is finished: what waits in the inbox is not
    // committed, and the next owner of its partitions consumes it again.
    while !stopping(&shutdown) {
        let collected = inbox::collect(
            &mut inbox,
            shared.settings.batch_size_max,
            shared.settings.batch_wait(),
        );
        let Some(mut records) = collected.await else {
            break;
        };
        let rebalances = shared.context.rebalances.load(Ordering::SeqCst);
        if rebalances != rebalances_seen {
            rebalances_seen = rebalances;
            shared.drop_lost_partitions(&mut records);
        }
        if records.is_empty() {
            continue;
        }
        let Some(applied) = shared
            .apply_batch(Batch::parse(records), &mut shutdown)
            .await
        else {
            break;
        };
        if !finished(finishing.take()).await {
            break;
        }
        finishing = Some(tokio::spawn(shared.clone().finish(
            applied,
            shutdown.clone(),
            stored.clone(),
        )));
    }
    finished(finishing).await;
}

/// Waits for a batch's dead letters and offsets, if one is finishing; false when shutdown
/// cut its retries short (or it failed), so that nothing after it is stored.
async fn finished(finishing: Option<JoinHandle<BatchEnd>>) -> bool {
    let Some(finishing) = finishing else {
        return true;
    };
    match finishing.await {
        Ok(BatchEnd::Done) => true,
        Ok(BatchEnd::Abandoned) => false,
        Err(error) => {
            tracing::error!(%error, "finishing a batch failed");
            false
        }
    }
}

/// A batch whose events were applied, with their outcomes.
struct Applied {
    batch: Batch,
    outcomes: Vec<EventOutcome>,
    started: Instant,
    apply_elapsed: Duration,
}

impl<S: WalletStore> Shared<S> {
    fn backoff(&self) -> Backoff {
        Backoff::new(
            self.settings.retry_backoff_ms_min,
            self.settings.retry_backoff_ms_max,
        )
    }

    /// Drops records of partitions this member no longer owns (a rebalance happened while the
    /// batch was collected): their next owner consumes them from the committed offset.
    fn drop_lost_partitions(&self, records: &mut Vec<OwnedMessage>) {
        // The list from `assignment()` is dropped at once: see KAFKA.md's pitfall.
        let owned: HashSet<(String, i32)> = match self.consumer.assignment() {
            Ok(list) => list
                .elements()
                .iter()
                .map(|element| (element.topic().to_owned(), element.partition()))
                .collect(),
            Err(_) => return,
        };
        let before = records.len();
        records.retain(|record| owned.contains(&(record.topic().to_owned(), record.partition())));
        if records.len() != before {
            tracing::info!(
                dropped = before - records.len(),
                "records of revoked partitions dropped"
            );
        }
    }

    /// Applies the batch's events; `None` when shutdown cut a retry short.
    async fn apply_batch(
        &self,
        batch: Batch,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<Applied> {
        let started = Instant::now();
        let outcomes = self.outcomes(batch.events(), shutdown).await?;
        let apply_elapsed = started.elapsed();
        metrics::batch(batch.len(), apply_elapsed);
        Some(Applied {
            batch,
            outcomes,
            started,
            apply_elapsed,
        })
    }

    /// Dead-letters what must be of an applied batch, then stores its offsets and tells the
    /// dispatcher (`stored`) that there is something to commit.
    async fn finish(
        self: Arc<Self>,
        applied: Applied,
        mut shutdown: watch::Receiver<bool>,
        stored: Arc<Notify>,
    ) -> BatchEnd {
        let Applied {
            batch,
            outcomes,
            started,
            apply_elapsed,
        } = applied;
        let letters = batch.settle(&outcomes);
        if !self.send_dead_letters(&letters, &mut shutdown).await {
            return BatchEnd::Abandoned;
        }

        self.store_offsets(&batch);
        tracing::info!(
            records = batch.len(),
            dead_letters = letters.len(),
            apply_ms = apply_elapsed.as_millis(),
            total_ms = started.elapsed().as_millis(),
            "batch applied and offsets stored"
        );
        self.health.add_events(batch.len() as u64);
        self.health.recovered();
        stored.notify_one();
        BatchEnd::Done
    }

    /// Sends `letters` to the dead-letter topic, retrying the unacknowledged ones with backoff;
    /// `false` when shutdown cut the retries short (nothing of the batch may be committed).
    async fn send_dead_letters(
        &self,
        letters: &[DeadLetter<'_>],
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        if letters.is_empty() {
            return true;
        }
        let records: Vec<_> = letters
            .iter()
            .map(|letter| letter.to_record(&self.settings.dead_letter_topic))
            .collect();
        let mut unacknowledged: Vec<usize> = (0..records.len()).collect();
        let mut backoff = self.backoff();
        loop {
            let attempt: Vec<_> = unacknowledged
                .iter()
                .map(|index| records[*index].clone())
                .collect();
            let results = self.dead_letters.send_all(&attempt).await;
            let mut failed = Vec::new();
            for (index, result) in unacknowledged.iter().zip(results) {
                if let Err(error) = result {
                    failed.push(*index);
                    self.health.retrying(format!("dead letter: {error}"));
                }
            }
            if failed.is_empty() {
                break;
            }
            tracing::warn!(
                failed = failed.len(),
                "dead letters not acknowledged; retrying"
            );
            metrics::retry("dead_letter");
            unacknowledged = failed;
            if !backoff.wait(shutdown).await {
                return false;
            }
        }
        true
    }

    /// Stores, for each partition of the batch, the offset after its last record: what the
    /// next commit sends. `store_offsets` takes the next offset as given (unlike
    /// `store_offset`, which adds one).
    fn store_offsets(&self, batch: &Batch) {
        for ((topic, partition), next) in batch.next_offsets() {
            let mut list = TopicPartitionList::new();
            let stored = list
                .add_partition_offset(&topic, partition, Offset::Offset(next))
                .and_then(|()| self.consumer.store_offsets(&list));
            // Fails only for a partition revoked meanwhile: its next owner redoes the records.
            if let Err(error) = stored {
                tracing::info!(%error, topic, partition, "offset not stored (partition revoked)");
            }
        }
    }

    /// Commits the stored offsets; true when nothing is left to commit.
    fn commit(&self) -> bool {
        match run_blocking(|| self.consumer.commit_consumer_state(CommitMode::Sync)) {
            Ok(()) => {
                tracing::debug!("offsets committed");
                self.health.add_committed_batch();
                self.health.recovered();
                true
            }
            Err(error) if is_no_offset(&error) => true,
            Err(error) => {
                // The stored offsets stay stored; the next commit carries them.
                tracing::warn!(%error, "offset commit failed; will retry");
                metrics::commit_failure();
                metrics::retry("commit");
                self.health.retrying(format!("commit: {error}"));
                false
            }
        }
    }
}

/// Leaves the group and closes the client on a thread of its own (closing waits for the broker
/// to acknowledge the leave), for at most [`CLOSE_TIMEOUT`]: a client that does not finish
/// closing in time is left behind on its thread, and the consumer still returns.
async fn close<S: WalletStore>(shared: Arc<Shared<S>>) {
    shared.context.closing.store(true, Ordering::SeqCst);
    shared.consumer.unsubscribe();
    let health = shared.health.clone();
    let (closed_sender, closed) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("wallet-consumer-close".to_owned())
        .spawn(move || {
            shared.dead_letters.flush(Duration::from_secs(5));
            drop(shared);
            let _ = closed_sender.send(());
        });
    match spawned {
        Ok(_) => match tokio::time::timeout(CLOSE_TIMEOUT, closed).await {
            Ok(_) => tracing::info!("order-event consumer stopped"),
            Err(_) => tracing::error!(
                timeout_seconds = CLOSE_TIMEOUT.as_secs(),
                "the Kafka consumer did not finish closing; leaving it behind"
            ),
        },
        Err(error) => tracing::error!(%error, "cannot start the thread that closes the consumer"),
    }
    health.set_running(false);
}

/// Creates an [`OrderEventConsumer`] and runs it until `shutdown`.
///
/// # Errors
/// As [`OrderEventConsumer::new`].
pub async fn run_consumer<S: WalletStore>(
    settings: &KafkaSettings,
    service: WalletService<S>,
    health: ConsumerHealth,
    shutdown: watch::Receiver<bool>,
) -> Result<(), KafkaError> {
    OrderEventConsumer::new(settings, service, health)?
        .run(shutdown)
        .await
}
