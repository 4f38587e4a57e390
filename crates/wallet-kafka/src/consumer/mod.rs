//! The order-event consumer (SPEC §4 "Delivery"): consume `order_events_topic` in batches,
//! apply each batch through the domain use case in one store transaction, dead-letter what the
//! wallet will not apply, and only then commit the offsets.
//!
//! Guarantees:
//! - an offset is stored (and so committed) only after the transaction that applied its record
//!   committed and, for a dead letter, after the broker acknowledged it;
//! - transient failures (store unavailable, dead-letter produce, commit) are retried with capped
//!   exponential backoff and shown in [`ConsumerHealth`]; nothing is skipped meanwhile;
//! - records of one partition are applied in partition order (one loop, batches in order);
//! - on a rebalance the client commits what was stored before partitions go; records of lost
//!   partitions still in a batch being collected are dropped (the next owner redoes them, and
//!   the domain applies them idempotently).
//!
//! The loop does not poll the client while it retries the store. Past the client's
//! `max.poll.interval.ms` (5 min by default) the member leaves the group and its partitions move
//! on; that is safe because nothing unapplied was committed.

mod batch;
mod context;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::watch;
use wallet_domain::ports::WalletStore;
use wallet_domain::usecases::WalletService;

use crate::backoff::{Backoff, sleep_unless_shutdown, stopping};
use crate::error::KafkaError;
use crate::health::ConsumerHealth;
use crate::metrics;
use crate::publisher::Publisher;
use crate::runtime::run_blocking;
use crate::settings::KafkaSettings;

use batch::Batch;
use context::{WalletContext, is_no_offset};

/// How often an idle consumer retries a failed commit.
const IDLE_TICK: Duration = Duration::from_millis(500);

/// Consumes order events and applies them through a [`WalletService`].
pub struct OrderEventConsumer<S> {
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
            .field("group_id", &self.settings.group_id)
            .field("topic", &self.settings.order_events_topic)
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
            consumer,
            context,
            service,
            dead_letters: Publisher::new(settings, "wallet-dead-letters")?,
            settings: settings.clone(),
            health,
        })
    }

    /// The consumer's health, shared with readiness.
    #[must_use]
    pub fn health(&self) -> &ConsumerHealth {
        &self.health
    }

    /// Runs until `shutdown` turns true (or its sender is dropped): then finishes the batch in
    /// flight, commits, leaves the group and returns.
    ///
    /// # Errors
    /// None today: every failure inside the loop is transient and retried; the `Result` leaves
    /// room for fatal ones.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), KafkaError> {
        self.health.set_running(true);
        tracing::info!(
            topic = %self.settings.order_events_topic,
            group = %self.settings.group_id,
            "order-event consumer started"
        );
        let mut backoff = self.backoff();
        let mut commit_pending = false;
        loop {
            let records = self
                .collect_batch(&mut shutdown, commit_pending, &mut backoff)
                .await;
            if !records.is_empty() {
                match self.process(Batch::parse(records), &mut shutdown).await {
                    BatchEnd::Done => commit_pending = true,
                    BatchEnd::Abandoned => break,
                }
            }
            if commit_pending {
                commit_pending = !self.commit();
            }
            if stopping(&shutdown) {
                break;
            }
        }
        if commit_pending {
            self.commit();
        }
        self.close().await;
        Ok(())
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(
            self.settings.retry_backoff_ms_min,
            self.settings.retry_backoff_ms_max,
        )
    }

    /// Waits for the first record, then takes more until `batch_size_max` records or
    /// `batch_wait_ms_max` have passed, whichever comes first. Returns early (possibly empty)
    /// on shutdown, and empty after an idle tick when a commit is waiting to be retried.
    async fn collect_batch(
        &self,
        shutdown: &mut watch::Receiver<bool>,
        commit_pending: bool,
        backoff: &mut Backoff,
    ) -> Vec<OwnedMessage> {
        let rebalances_before = self.context.rebalances.load(Ordering::SeqCst);
        let mut records = Vec::new();
        let first = tokio::select! {
            received = self.consumer.recv() => received.map(|message| message.detach()),
            _ = shutdown.wait_for(|stop| *stop) => return records,
            () = tokio::time::sleep(IDLE_TICK), if commit_pending => return records,
        };
        match first {
            Ok(record) => {
                backoff.reset();
                records.push(record);
            }
            Err(error) => {
                // Fetch errors are reported and retried by the client itself; pause a little so
                // a persistent one does not spin.
                tracing::warn!(%error, "consume error");
                metrics::retry("fetch");
                self.health.note_error(format!("consume: {error}"));
                sleep_unless_shutdown(backoff.next_delay(), shutdown).await;
                return records;
            }
        }
        let deadline = tokio::time::Instant::now() + self.settings.batch_wait();
        while records.len() < self.settings.batch_size_max {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Ok(Ok(message)) => records.push(message.detach()),
                Ok(Err(error)) => {
                    tracing::warn!(%error, "consume error");
                    break;
                }
                Err(_elapsed) => break,
            }
        }
        if self.context.rebalances.load(Ordering::SeqCst) != rebalances_before {
            self.drop_lost_partitions(&mut records);
        }
        records
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

    /// Applies the batch, dead-letters what must be, then stores the offsets.
    async fn process(&self, batch: Batch, shutdown: &mut watch::Receiver<bool>) -> BatchEnd {
        let started = Instant::now();
        let outcomes = if batch.events().is_empty() {
            Vec::new()
        } else {
            let mut backoff = self.backoff();
            loop {
                match self
                    .service
                    .apply_order_events(batch.events(), Utc::now())
                    .await
                {
                    Ok(outcomes) => break outcomes,
                    Err(error) => {
                        tracing::warn!(%error, events = batch.events().len(), "apply failed; retrying");
                        metrics::retry("store");
                        self.health.retrying(format!("apply: {error}"));
                        if !backoff.wait(shutdown).await {
                            return BatchEnd::Abandoned;
                        }
                    }
                }
            }
        };
        let apply_elapsed = started.elapsed();
        metrics::batch(batch.len(), apply_elapsed);

        let letters = batch.settle(&outcomes);
        if !letters.is_empty() {
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
                    return BatchEnd::Abandoned;
                }
            }
        }

        self.store_offsets(&batch);
        tracing::debug!(
            records = batch.len(),
            dead_letters = letters.len(),
            apply_ms = apply_elapsed.as_millis(),
            total_ms = started.elapsed().as_millis(),
            "batch applied and offsets stored"
        );
        self.health.add_events(batch.len() as u64);
        self.health.recovered();
        BatchEnd::Done
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

    /// Leaves the group and closes the client off the async threads (closing waits for the
    /// broker to acknowledge the leave).
    async fn close(self) {
        self.consumer.unsubscribe();
        let OrderEventConsumer {
            consumer,
            dead_letters,
            health,
            ..
        } = self;
        let closed = tokio::task::spawn_blocking(move || {
            dead_letters.flush(Duration::from_secs(5));
            drop(consumer);
        })
        .await;
        if let Err(error) = closed {
            tracing::warn!(%error, "consumer close failed");
        }
        health.set_running(false);
        tracing::info!("order-event consumer stopped");
    }
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
