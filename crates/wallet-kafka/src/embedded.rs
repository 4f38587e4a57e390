//! The embedded broker (SPEC §7): librdkafka's in-process mock cluster, speaking the real Kafka
//! protocol on loopback ports, used for `kafka.brokers = "embedded"` and in tests.
//!
//! The mock cluster handle is not `Send`, so one dedicated thread owns it for its whole life and
//! takes commands over a channel; [`EmbeddedBroker`] itself can then move between tasks.
//!
//! Group joins: the mock delays the first join of a group by 3 s (its
//! `group.initial.rebalance.delay.ms`). The only way to lower it is an `unsafe` FFI call, which
//! this workspace forbids, so a consumer's first assignment takes about 3 s here.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use crate::error::KafkaError;
use crate::settings::KafkaSettings;

/// Brokers of the mock cluster: three, so the topics are replicated like in production.
const BROKER_COUNT: i32 = 3;

enum Command {
    /// Broker id, or -1 for all; `true` takes it down.
    SetDown(i32, bool),
    /// Make the next `n` OffsetCommit requests fail with NOT_COORDINATOR.
    FailOffsetCommits(usize),
    CreateTopic(String, i32),
    /// Topic name; `true` makes its metadata requests fail with TOPIC_AUTHORIZATION_FAILED.
    TopicError(String, bool),
}

type Reply = mpsc::Sender<Result<(), KafkaError>>;

/// An in-process Kafka cluster with the wallet's topics, alive as long as this value.
#[derive(Debug)]
pub struct EmbeddedBroker {
    bootstrap_servers: String,
    commands: Option<mpsc::Sender<(Command, Reply)>>,
    owner: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a three-broker mock cluster and creates the input topic (with
    /// `embedded_partitions` partitions), the dead-letter topic and the wallet-events topic.
    ///
    /// # Errors
    /// [`KafkaError::Embedded`] when the cluster or a topic cannot be created.
    pub fn start(settings: &KafkaSettings) -> Result<EmbeddedBroker, KafkaError> {
        let topics = [
            (
                settings.order_events_topic.clone(),
                settings.embedded_partitions,
            ),
            (settings.dead_letter_topic.clone(), 1),
            (
                settings.wallet_events_topic.clone(),
                settings.embedded_partitions,
            ),
        ];
        let (started_sender, started) = mpsc::channel::<Result<String, KafkaError>>();
        let (commands, command_receiver) = mpsc::channel::<(Command, Reply)>();
        let owner = std::thread::Builder::new()
            .name("embedded-kafka".to_owned())
            .spawn(move || {
                let cluster = match start_cluster(&topics) {
                    Ok(cluster) => cluster,
                    Err(error) => {
                        let _ = started_sender.send(Err(error));
                        return;
                    }
                };
                let _ = started_sender.send(Ok(cluster.bootstrap_servers()));
                // Serves commands until the EmbeddedBroker is dropped (the sender with it).
                for (command, reply) in command_receiver {
                    let _ = reply.send(run(&cluster, command));
                }
            })
            .map_err(|error| KafkaError::Embedded(format!("cannot spawn its thread: {error}")))?;
        let bootstrap_servers = started
            .recv()
            .map_err(|_| KafkaError::Embedded("its thread ended during start-up".to_owned()))??;
        tracing::info!(%bootstrap_servers, "embedded Kafka broker started");
        Ok(EmbeddedBroker {
            bootstrap_servers,
            commands: Some(commands),
            owner: Some(owner),
        })
    }

    /// The `host:port,…` list other clients and processes connect to.
    #[must_use]
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// `settings` with `brokers` pointing at this cluster.
    #[must_use]
    pub fn client_settings(&self, settings: &KafkaSettings) -> KafkaSettings {
        KafkaSettings {
            brokers: self.bootstrap_servers.clone(),
            ..settings.clone()
        }
    }

    /// Creates another topic (tests use their own).
    ///
    /// # Errors
    /// [`KafkaError::Embedded`] when the cluster refuses.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), KafkaError> {
        self.command(Command::CreateTopic(name.to_owned(), partitions))
    }

    /// Makes every broker refuse connections (fault injection: "broker down").
    ///
    /// # Errors
    /// [`KafkaError::Embedded`] when the cluster refuses.
    pub fn brokers_down(&self) -> Result<(), KafkaError> {
        self.command(Command::SetDown(-1, true))
    }

    /// Makes every broker accept connections again.
    ///
    /// # Errors
    /// [`KafkaError::Embedded`] when the cluster refuses.
    pub fn brokers_up(&self) -> Result<(), KafkaError> {
        self.command(Command::SetDown(-1, false))
    }

    /// Makes the next `count` offset commits fail with `NOT_COORDINATOR` (fault injection).
    ///
    /// # Errors
    /// [`KafkaError::Embedded`] when the cluster thread is gone.
    pub fn fail_offset_commits(&self, count: usize) -> Result<(), KafkaError> {
        self.command(Command::FailOffsetCommits(count))
    }

    /// Makes producing to `topic` fail (its metadata requests answer "not authorized") until
    /// called again with `fail = false` (fault injection: a dead-letter topic that refuses
    /// writes).
    ///
    /// # Errors
    /// [`KafkaError::Embedded`] when the cluster refuses.
    pub fn fail_topic(&self, topic: &str, fail: bool) -> Result<(), KafkaError> {
        self.command(Command::TopicError(topic.to_owned(), fail))
    }

    fn command(&self, command: Command) -> Result<(), KafkaError> {
        let gone = || KafkaError::Embedded("the cluster thread is gone".to_owned());
        let (reply, answer) = mpsc::channel();
        self.commands
            .as_ref()
            .ok_or_else(gone)?
            .send((command, reply))
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        // Closing the channel ends the owner thread, which destroys the cluster.
        self.commands.take();
        if let Some(owner) = self.owner.take() {
            let _ = owner.join();
        }
    }
}

fn start_cluster(
    topics: &[(String, i32)],
) -> Result<MockCluster<'static, rdkafka::producer::DefaultProducerContext>, KafkaError> {
    let cluster = MockCluster::new(BROKER_COUNT)
        .map_err(|error| KafkaError::Embedded(format!("cannot create the cluster: {error}")))?;
    for (topic, partitions) in topics {
        cluster
            .create_topic(topic, *partitions, BROKER_COUNT)
            .map_err(|error| KafkaError::Embedded(format!("cannot create {topic}: {error}")))?;
    }
    Ok(cluster)
}

fn run(
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    command: Command,
) -> Result<(), KafkaError> {
    let refused = |error: rdkafka::error::KafkaError| KafkaError::Embedded(error.to_string());
    match command {
        Command::SetDown(broker, true) => cluster.broker_down(broker).map_err(refused),
        Command::SetDown(broker, false) => cluster.broker_up(broker).map_err(refused),
        Command::FailOffsetCommits(count) => {
            let errors = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_COORDINATOR; count];
            cluster.request_errors(RDKafkaApiKey::OffsetCommit, &errors);
            Ok(())
        }
        Command::TopicError(name, fail) => {
            let error = if fail {
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
            } else {
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR
            };
            cluster.topic_error(&name, error).map_err(refused)
        }
        Command::CreateTopic(name, partitions) => cluster
            .create_topic(&name, partitions, BROKER_COUNT)
            .map_err(refused),
    }
}
