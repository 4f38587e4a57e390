//! Kafka settings (SPEC §6 `kafka.*`) and the client configurations derived from them.
//!
//! The consumer is configured for manual offsets only (SPEC §4 "Delivery"): nothing is stored
//! or committed by the client on its own; the consumer stores an offset after the database
//! transaction that applied the event committed, and commits what it stored.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::BaseConsumer;
use rdkafka::producer::BaseProducer;
use serde::{Deserialize, Deserializer};

use crate::client_properties::ClientProperties;
use crate::error::KafkaError;

/// The `kafka.brokers` value that asks for the in-process broker ([`crate::EmbeddedBroker`]).
pub const EMBEDDED_BROKERS: &str = "embedded";

/// Settings of the Kafka adapters. Every limit has its unit last in its name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaSettings {
    /// `embedded`, or the bootstrap list `host:port,…`.
    pub brokers: String,
    /// Consumer group of the order-event consumer.
    pub group_id: String,
    /// Input topic of order events.
    pub order_events_topic: String,
    /// Dead-letter topic for events the wallet will not apply.
    pub dead_letter_topic: String,
    /// Output topic of wallet events (the outbox relay's target).
    pub wallet_events_topic: String,
    /// Most events applied in one database transaction.
    pub batch_size_max: usize,
    /// Longest wait for a batch to fill once its first event arrived.
    pub batch_wait_ms_max: u64,
    /// The consumer's `fetch.wait.max.ms`: how long the broker may hold a fetch that finds
    /// nothing new. Apache Kafka answers as soon as data arrives; brokers that hold the whole
    /// wait (the embedded one) add up to this much to an event's time once the consumer caught up.
    pub fetch_wait_ms_max: u64,
    /// Batches applied at the same time, each lane taking the partitions `p` with
    /// `p mod apply_lanes` equal to its number; 1 applies one batch at a time.
    pub apply_lanes: usize,
    /// Consumer group session timeout: how long a silent member keeps its partitions.
    pub session_timeout_ms: u64,
    /// Static group membership (KIP-345): a stable name of this instance in the group, e.g.
    /// its host or pod name. An instance restarted under the same name takes its partitions
    /// back at once instead of waiting for the group to expire its previous incarnation. Empty
    /// in configuration: dynamic membership.
    #[serde(deserialize_with = "empty_as_none")]
    pub group_instance_id: Option<String>,
    /// First wait after a transient failure (database or broker down); doubles per attempt.
    pub retry_backoff_ms_min: u64,
    /// Cap of the retry wait.
    pub retry_backoff_ms_max: u64,
    /// How long the producer keeps trying to deliver one record before reporting failure.
    pub delivery_timeout_ms: u64,
    /// Whether producers ask for idempotent delivery (the broker must support
    /// `InitProducerId`; Apache Kafka and the mock cluster do).
    pub producer_idempotence: bool,
    /// How often the consumer client reports statistics (consumer lag); 0 disables them.
    pub statistics_interval_ms: u64,
    /// Partitions of the input topic created by the embedded broker.
    pub embedded_partitions: i32,
    /// Pause of the outbox relay when the outbox is empty.
    pub outbox_poll_interval_ms: u64,
    /// Most wallet events published per round, in whole outbox rows (a row of more goes
    /// alone).
    pub outbox_batch_max: u32,
    /// librdkafka properties of every client (`security.protocol`, `sasl.*`, `ssl.*`, …),
    /// applied after the wallet's own.
    pub client: ClientProperties,
    /// Properties of the order-event consumer only, applied after [`KafkaSettings::client`].
    pub consumer_client: ClientProperties,
    /// Properties of the producers only (dead letters, outbox relay, replay, demo).
    pub producer_client: ClientProperties,
    /// Properties of the readers only (the read cache's change listener, dead-letter replay).
    pub reader_client: ClientProperties,
}

/// The role of a client, which picks its property overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRole {
    /// The order-event consumer.
    Consumer,
    /// Every producer.
    Producer,
    /// Consumers that only read: the change listener, the replay reader.
    Reader,
}

impl ClientRole {
    /// The setting holding the role's overrides.
    #[must_use]
    pub fn setting(self) -> &'static str {
        match self {
            ClientRole::Consumer => "kafka.consumer_client",
            ClientRole::Producer => "kafka.producer_client",
            ClientRole::Reader => "kafka.reader_client",
        }
    }
}

fn empty_as_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|text| !text.trim().is_empty()))
}

impl Default for KafkaSettings {
    fn default() -> Self {
        KafkaSettings {
            brokers: EMBEDDED_BROKERS.to_owned(),
            group_id: "broker-wallet-api".to_owned(),
            order_events_topic: "order-events-v1".to_owned(),
            dead_letter_topic: "order-events-v1.DLT".to_owned(),
            wallet_events_topic: "wallet-events-v1".to_owned(),
            batch_size_max: 500,
            batch_wait_ms_max: 0,
            fetch_wait_ms_max: 10,
            apply_lanes: 2,
            session_timeout_ms: 10_000,
            group_instance_id: None,
            retry_backoff_ms_min: 100,
            retry_backoff_ms_max: 5_000,
            delivery_timeout_ms: 30_000,
            producer_idempotence: true,
            statistics_interval_ms: 5_000,
            embedded_partitions: 4,
            outbox_poll_interval_ms: 200,
            outbox_batch_max: 2_000,
            client: ClientProperties::default(),
            consumer_client: ClientProperties::default(),
            producer_client: ClientProperties::default(),
            reader_client: ClientProperties::default(),
        }
    }
}

/// See the comment in [`KafkaSettings::consumer_config`].
const MAX_POLL_INTERVAL_MS: u64 = 30_000;

/// See the comment in [`KafkaSettings::consumer_config`].
const CONSUMER_PREFETCH_KBYTES: u32 = 4 * 1024;

/// See the comment in [`KafkaSettings::consumer_config`].
const CONSUMER_FULL_QUEUE_BACKOFF_MS: u32 = 10;

impl KafkaSettings {
    /// Checks the settings; the error names the first wrong one.
    ///
    /// # Errors
    /// [`KafkaError::Config`] naming the setting.
    pub fn validate(&self) -> Result<(), KafkaError> {
        let fail = |setting, detail: &str| {
            Err(KafkaError::Config {
                setting,
                detail: detail.to_owned(),
            })
        };
        if self.brokers.trim().is_empty() {
            return fail("kafka.brokers", "must be `embedded` or host:port,…");
        }
        for (setting, value) in [
            ("kafka.group_id", &self.group_id),
            ("kafka.order_events_topic", &self.order_events_topic),
            ("kafka.dead_letter_topic", &self.dead_letter_topic),
            ("kafka.wallet_events_topic", &self.wallet_events_topic),
        ] {
            if value.trim().is_empty() {
                return fail(setting, "must not be empty");
            }
        }
        if self.dead_letter_topic == self.order_events_topic {
            return fail(
                "kafka.dead_letter_topic",
                "must differ from the input topic",
            );
        }
        if !(1..=100_000).contains(&self.batch_size_max) {
            return fail("kafka.batch_size_max", "must be between 1 and 100000");
        }
        if !(1..=64).contains(&self.apply_lanes) {
            return fail("kafka.apply_lanes", "must be between 1 and 64");
        }
        if self.batch_wait_ms_max > 60_000 {
            return fail("kafka.batch_wait_ms_max", "must be at most 60000");
        }
        if !(1..=60_000).contains(&self.fetch_wait_ms_max) {
            return fail("kafka.fetch_wait_ms_max", "must be between 1 and 60000");
        }
        if !(1_000..=300_000).contains(&self.session_timeout_ms) {
            return fail(
                "kafka.session_timeout_ms",
                "must be between 1000 and 300000",
            );
        }
        if self.retry_backoff_ms_min == 0 || self.retry_backoff_ms_min > self.retry_backoff_ms_max {
            return fail(
                "kafka.retry_backoff_ms_min",
                "must be > 0 and ≤ kafka.retry_backoff_ms_max",
            );
        }
        if self.delivery_timeout_ms == 0 {
            return fail("kafka.delivery_timeout_ms", "must be > 0");
        }
        if !(1..=1_000).contains(&self.embedded_partitions) {
            return fail("kafka.embedded_partitions", "must be between 1 and 1000");
        }
        if self.outbox_poll_interval_ms == 0 {
            return fail("kafka.outbox_poll_interval_ms", "must be > 0");
        }
        if !(1..=10_000).contains(&self.outbox_batch_max) {
            return fail("kafka.outbox_batch_max", "must be between 1 and 10000");
        }
        for (setting, properties) in [
            ("kafka.client", &self.client),
            (ClientRole::Consumer.setting(), &self.consumer_client),
            (ClientRole::Producer.setting(), &self.producer_client),
            (ClientRole::Reader.setting(), &self.reader_client),
        ] {
            if let Some((key, why)) = properties.reserved() {
                return fail(setting, &format!("`{key}` cannot be configured: {why}"));
            }
        }
        Ok(())
    }

    /// Creates one client of each role, so that an unknown or invalid librdkafka property
    /// stops start-up with librdkafka's own message (which names the property) instead of a
    /// task failing later. Nothing connects: the clients are dropped at once.
    ///
    /// # Errors
    /// [`KafkaError::Config`] naming the table that holds the property.
    pub fn check_clients(&self) -> Result<(), KafkaError> {
        let refused = |role: ClientRole, error: rdkafka::error::KafkaError| {
            let detail = error.to_string();
            let own = self.role_properties(role);
            // The table that holds the property librdkafka names, when one does.
            let setting = if own.iter().any(|(key, _)| detail.contains(key)) {
                role.setting()
            } else {
                "kafka.client"
            };
            KafkaError::Config { setting, detail }
        };
        self.consumer_config()?
            .create::<BaseConsumer>()
            .map_err(|error| refused(ClientRole::Consumer, error))?;
        self.producer_config("wallet-config-check")?
            .create::<BaseProducer>()
            .map_err(|error| refused(ClientRole::Producer, error))?;
        self.listener_config()?
            .create::<BaseConsumer>()
            .map_err(|error| refused(ClientRole::Reader, error))?;
        Ok(())
    }

    /// The batch wait as a duration.
    #[must_use]
    pub fn batch_wait(&self) -> Duration {
        Duration::from_millis(self.batch_wait_ms_max)
    }

    /// The bootstrap list, refusing the `embedded` placeholder: the app starts the
    /// [`crate::EmbeddedBroker`] first and puts its address here.
    fn bootstrap(&self) -> Result<&str, KafkaError> {
        if self.brokers == EMBEDDED_BROKERS {
            return Err(KafkaError::Config {
                setting: "kafka.brokers",
                detail: "`embedded` must be replaced by EmbeddedBroker::bootstrap_servers() \
                         before clients are created"
                    .to_owned(),
            });
        }
        Ok(&self.brokers)
    }

    /// Settings every client shares.
    fn base_config(&self, client_id: &str) -> Result<ClientConfig, KafkaError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", self.bootstrap()?)
            .set("client.id", client_id);
        Ok(config)
    }

    /// The overrides of `role`.
    fn role_properties(&self, role: ClientRole) -> &ClientProperties {
        match role {
            ClientRole::Consumer => &self.consumer_client,
            ClientRole::Producer => &self.producer_client,
            ClientRole::Reader => &self.reader_client,
        }
    }

    /// Applies [`KafkaSettings::client`] and then the overrides of `role`, after the wallet's
    /// own properties.
    fn apply_extra(&self, config: &mut ClientConfig, role: ClientRole) {
        for (key, value) in self.client.iter().chain(self.role_properties(role).iter()) {
            config.set(key, value);
        }
    }

    /// The librdkafka configuration of each client the service creates, as it is handed to
    /// librdkafka (secret values included: never log it).
    ///
    /// # Errors
    /// As the client configurations.
    pub fn effective_configs(&self) -> Result<Vec<(&'static str, ClientConfig)>, KafkaError> {
        Ok(vec![
            ("order consumer", self.consumer_config()?),
            (
                "dead-letter producer",
                self.producer_config("wallet-dead-letters")?,
            ),
            ("outbox relay", self.producer_config("wallet-outbox-relay")?),
            ("change listener", self.listener_config()?),
            (
                "dead-letter replay reader",
                self.reader_config("wallet-replay")?,
            ),
        ])
    }

    /// The order-event consumer: group member, manual offset store and commit, starting from
    /// the earliest offset when the group has none (an event is never skipped).
    pub(crate) fn consumer_config(&self) -> Result<ClientConfig, KafkaError> {
        let mut config = self.base_config("wallet-order-consumer")?;
        // Heartbeats a few times per session so a slow network does not cost the assignment.
        let heartbeat_ms = (self.session_timeout_ms / 4).max(100);
        config
            .set("group.id", &self.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", self.session_timeout_ms.to_string())
            .set("heartbeat.interval.ms", heartbeat_ms.to_string())
            // Also the rebalance timeout a joining member announces: how long the coordinator
            // waits for the old members of a group to rejoin. A replacement started after a
            // crash waits that long for its partitions, so it is kept well under librdkafka's
            // five-minute default; a member that stays in a batch's retries longer than this
            // leaves the group and rejoins, and its uncommitted events are redelivered.
            .set("max.poll.interval.ms", MAX_POLL_INTERVAL_MS.to_string())
            // A fetch that finds nothing new is held by the broker this long: librdkafka's 500 ms
            // default put half a second between an event's arrival and its commit whenever the
            // consumer had caught up (`make bench`: p50 530 → 106 ms).
            .set("fetch.wait.max.ms", self.fetch_wait_ms_max.to_string())
            // Records fetched ahead of the lanes: librdkafka's 64 MB default made most of the
            // service's memory while it caught up (`make bench`: peak RSS 179 MB). Once the
            // lanes got faster, 2 MB starved them (15,947 events/s, against 20,796 and 21,017
            // with 4 MB and 19,888–20,397 with 8 MB); 4 MB peaks at 127–139 MB, 8 MB at
            // 144–153 MB (mimalloc v2, `docs/benchmarks.md`).
            .set(
                "queued.max.messages.kbytes",
                CONSUMER_PREFETCH_KBYTES.to_string(),
            )
            // Once the prefetch is full, librdkafka fetches again only after this pause, 1 s by
            // default: the lanes emptied the 4 MB in about half a second and then waited for
            // records for the rest of it, every second (`make bench`: both lanes idle 120–460
            // ms at each second's end while catching up).
            .set(
                "fetch.queue.backoff.ms",
                CONSUMER_FULL_QUEUE_BACKOFF_MS.to_string(),
            )
            .set(
                "statistics.interval.ms",
                self.statistics_interval_ms.to_string(),
            );
        if let Some(instance) = &self.group_instance_id {
            config.set("group.instance.id", instance);
        }
        self.apply_extra(&mut config, ClientRole::Consumer);
        Ok(config)
    }

    /// A consumer that only reads (dead-letter replay, tests): no group commits.
    pub(crate) fn reader_config(&self, group_id: &str) -> Result<ClientConfig, KafkaError> {
        let mut config = self.base_config("wallet-reader")?;
        config
            .set("group.id", group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest");
        self.apply_extra(&mut config, ClientRole::Reader);
        Ok(config)
    }

    /// The change listener ([`crate::run_change_listener`]): it assigns itself partitions at
    /// offsets it chose, so it never joins its group (named only because librdkafka wants one
    /// for a consumer) and never commits.
    pub(crate) fn listener_config(&self) -> Result<ClientConfig, KafkaError> {
        let mut config = self.base_config("wallet-change-listener")?;
        config
            .set("group.id", format!("{}.read-cache", self.group_id))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // Apache Kafka answers a fetch as soon as data arrives; this bounds the wait on
            // brokers that hold it (the embedded one) without polling as often as the consumer.
            .set("fetch.wait.max.ms", "100")
            // Only the keys matter and the events are small: a megabyte of prefetch (instead of
            // librdkafka's 64 MB) keeps up with any relay.
            .set("queued.max.messages.kbytes", "1024");
        self.apply_extra(&mut config, ClientRole::Reader);
        Ok(config)
    }

    /// Producers (dead letters, outbox relay, replay): acknowledged by all in-sync replicas,
    /// idempotent where the broker supports it, so retries neither lose nor reorder records.
    pub fn producer_config(&self, client_id: &str) -> Result<ClientConfig, KafkaError> {
        let mut config = self.base_config(client_id)?;
        // Every producer is driven by `Publisher::send_all`, which hands over a call's records
        // at once and waits for their acknowledgement (a batch's offsets wait for its dead
        // letters): the records batch without a linger, and a linger only delays each call.
        config
            .set("acks", "all")
            .set("enable.idempotence", self.producer_idempotence.to_string())
            .set("linger.ms", "0")
            .set("message.timeout.ms", self.delivery_timeout_ms.to_string());
        self.apply_extra(&mut config, ClientRole::Producer);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec_and_validate() {
        let settings = KafkaSettings::default();
        assert_eq!(settings.brokers, "embedded");
        assert_eq!(settings.group_id, "broker-wallet-api");
        assert_eq!(settings.order_events_topic, "order-events-v1");
        assert_eq!(settings.dead_letter_topic, "order-events-v1.DLT");
        assert_eq!(settings.wallet_events_topic, "wallet-events-v1");
        assert_eq!(settings.batch_size_max, 500);
        assert_eq!(settings.batch_wait_ms_max, 0);
        settings.validate().unwrap();
    }

    #[test]
    fn a_wrong_setting_is_named() {
        let settings = KafkaSettings {
            batch_size_max: 0,
            ..KafkaSettings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("kafka.batch_size_max"), "{error}");
    }

    #[test]
    fn clients_refuse_the_embedded_placeholder() {
        let error = KafkaSettings::default().consumer_config().unwrap_err();
        assert!(error.to_string().contains("kafka.brokers"));
    }

    #[test]
    fn an_unknown_client_property_is_refused_with_librdkafkas_message() {
        let settings = KafkaSettings {
            brokers: "127.0.0.1:9092".to_owned(),
            client: ClientProperties::from_pairs([("bogus.property", "1")]),
            ..KafkaSettings::default()
        };
        settings.validate().unwrap();
        let error = settings.check_clients().unwrap_err().to_string();
        assert!(error.contains("bogus.property"), "{error}");
        assert!(error.contains("kafka.client"), "{error}");
        let invalid = KafkaSettings {
            brokers: "127.0.0.1:9092".to_owned(),
            producer_client: ClientProperties::from_pairs([("linger.ms", "forever")]),
            ..KafkaSettings::default()
        };
        let error = invalid.check_clients().unwrap_err().to_string();
        assert!(error.contains("linger.ms"), "{error}");
        assert!(error.contains("kafka.producer_client"), "{error}");
    }

    #[test]
    fn properties_the_guarantees_rest_on_cannot_be_configured() {
        let settings = KafkaSettings {
            consumer_client: ClientProperties::from_pairs([("enable.auto.commit", "true")]),
            ..KafkaSettings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("kafka.consumer_client"), "{error}");
        assert!(error.contains("enable.auto.commit"), "{error}");
    }

    /// Settings whose clients can be configured (the embedded placeholder is refused).
    fn with_brokers() -> KafkaSettings {
        KafkaSettings {
            brokers: "127.0.0.1:9092".to_owned(),
            ..KafkaSettings::default()
        }
    }

    #[test]
    fn producers_send_without_lingering_unless_configured() {
        let linger = |settings: &KafkaSettings| {
            let config = settings.producer_config("wallet-dead-letters").unwrap();
            config.get("linger.ms").map(str::to_owned)
        };
        assert_eq!(linger(&with_brokers()).as_deref(), Some("0"));
        let configured = KafkaSettings {
            producer_client: ClientProperties::from_pairs([("linger.ms", "7")]),
            ..with_brokers()
        };
        assert_eq!(linger(&configured).as_deref(), Some("7"));
    }

    #[test]
    fn a_full_prefetch_is_refilled_within_milliseconds_unless_configured() {
        let backoff = |settings: &KafkaSettings| {
            let config = settings.consumer_config().unwrap();
            config.get("fetch.queue.backoff.ms").map(str::to_owned)
        };
        assert_eq!(backoff(&with_brokers()).as_deref(), Some("10"));
        let configured = KafkaSettings {
            consumer_client: ClientProperties::from_pairs([("fetch.queue.backoff.ms", "250")]),
            ..with_brokers()
        };
        assert_eq!(backoff(&configured).as_deref(), Some("250"));
    }

    #[test]
    fn client_tables_reach_their_clients_in_order() {
        let settings = KafkaSettings {
            brokers: "127.0.0.1:9092".to_owned(),
            client: ClientProperties::from_pairs([
                ("security.protocol", "SASL_PLAINTEXT"),
                ("linger.ms", "9"),
            ]),
            producer_client: ClientProperties::from_pairs([("linger.ms", "1")]),
            ..KafkaSettings::default()
        };
        for (client, config) in settings.effective_configs().unwrap() {
            assert_eq!(
                config.get("security.protocol"),
                Some("SASL_PLAINTEXT"),
                "{client}"
            );
        }
        assert_eq!(
            settings.producer_config("x").unwrap().get("linger.ms"),
            Some("1")
        );
        assert_eq!(
            settings.consumer_config().unwrap().get("linger.ms"),
            Some("9")
        );
    }

    #[test]
    fn the_consumer_never_commits_on_its_own() {
        let config = with_brokers().consumer_config().unwrap();
        assert_eq!(config.get("enable.auto.commit"), Some("false"));
        assert_eq!(config.get("enable.auto.offset.store"), Some("false"));
    }
}
