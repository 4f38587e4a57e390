//! Wiring (zero2prod style): [`Application::build`] connects the adapters the configuration
//! names, starts the supervised background tasks and binds the HTTP server (port 0 in tests),
//! and [`Application::run_until_stopped`] serves until SIGTERM/SIGINT, then shuts down in the
//! order of SPEC §6: stop consuming and commit the batch in flight, drain HTTP, exit.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;
use thiserror::Error;
use tokio::sync::watch;
use wallet_domain::ports::{Clock, SystemClock, WalletStore};
use wallet_domain::usecases::{Wallet, WalletService};
use wallet_kafka::{ConsumerHealth, EmbeddedBroker, KafkaSettings};
use wallet_redis::{InMemoryPriceFeed, PriceSettings, RedisPriceFeed};
use wallet_sql::{DatabaseSettings, SqlStore};

use crate::clock::FileClock;
use crate::config::{AuthMode, Brokers, Settings};
use crate::http::auth::Authenticator;
use crate::http::routes::ApiState;
use crate::http::routes::health::{Check, Readiness};
use crate::http::server::{http_server, listener_display, shutdown_signal};
use crate::jobs::supervisor::{self, SupervisedTask, Supervisor, TaskHealth};
use crate::jobs::{self, sweeper};
use crate::prices::Prices;
use crate::read_cache::{CachingStore, ReadCache};
use crate::telemetry;

/// Why the service could not start (or stopped abnormally). Messages name the setting.
#[derive(Debug, Error)]
pub enum StartupError {
    /// A setting is invalid.
    #[error(transparent)]
    Settings(#[from] crate::config::SettingsError),
    /// The database cannot be reached or migrated.
    #[error("database.url: {0}")]
    Database(String),
    /// The Kafka clients or the embedded broker cannot start.
    #[error("kafka: {0}")]
    Kafka(String),
    /// The Redis price feed cannot be configured.
    #[error("prices: {0}")]
    Prices(String),
    /// The HTTP server cannot bind or failed.
    #[error("server.bind: {0}")]
    Server(#[from] std::io::Error),
    /// Tasks that did not stop within `server.shutdown_timeout_seconds`: the process must exit
    /// anyway (their threads may be stuck in a client library).
    #[error(
        "background task(s) {} did not stop within server.shutdown_timeout_seconds",
        .0.join(", ")
    )]
    ShutdownTimedOut(Vec<&'static str>),
}

/// The running service.
pub struct Application {
    port: u16,
    server: Server,
    shutdown: watch::Sender<bool>,
    tasks: Vec<SupervisedTask>,
    shutdown_timeout: Duration,
    prices: Prices,
    read_cache: Option<Arc<ReadCache>>,
    /// Kept alive as long as the service: dropping it stops the in-process broker.
    broker: Option<EmbeddedBroker>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("broker", &self.broker)
            .finish_non_exhaustive()
    }
}

/// Connects the store within `database.connect_timeout_ms` and migrates it when asked.
///
/// # Errors
/// [`StartupError::Database`].
pub async fn connect_store(
    settings: &DatabaseSettings,
    migrate: bool,
) -> Result<SqlStore, StartupError> {
    let timeout = Duration::from_millis(settings.connect_timeout_ms);
    let connect = SqlStore::connect(settings.url.expose_secret(), settings.max_connections);
    let store = tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| {
            StartupError::Database(format!(
                "no connection within database.connect_timeout_ms = {} ms",
                settings.connect_timeout_ms
            ))
        })?
        .map_err(|error| StartupError::Database(format!("cannot connect: {error}")))?;
    if migrate {
        store
            .migrate()
            .await
            .map_err(|error| StartupError::Database(format!("migration failed: {error}")))?;
        tracing::info!(
            backend = store.backend_name(),
            "database schema is up to date"
        );
    }
    Ok(store)
}

fn price_feed(settings: &PriceSettings) -> Result<Prices, StartupError> {
    let Some(config) = &settings.redis else {
        tracing::info!("prices.redis_url is empty: prices in memory, last-trade fallback");
        return Ok(Prices::Memory(InMemoryPriceFeed::new()));
    };
    let feed =
        RedisPriceFeed::new(config).map_err(|error| StartupError::Prices(error.to_string()))?;
    Ok(Prices::Redis(feed))
}

fn warn_about_open_auth(settings: &Settings) {
    if matches!(settings.auth.mode, AuthMode::None) && !settings.server.bind.ip().is_loopback() {
        tracing::warn!(
            bind = %settings.server.bind,
            "!!! auth.mode = \"none\" on a non-loopback address: ANYONE who can reach this \
             port can move money. Set auth.mode = \"jwt\" or bind to 127.0.0.1 !!!"
        );
    }
}

fn database_check(store: &SqlStore) -> Check {
    let store = store.clone();
    Check::new("database", move || {
        let store = store.clone();
        async move { store.ping().await.map_err(|error| error.to_string()) }
    })
}

/// Readiness of the background tasks: none down or recovering from a failure.
fn tasks_check(health: TaskHealth) -> Check {
    Check::new("background_tasks", move || {
        let problems = health.problems();
        async move {
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
    })
}

/// The write use cases over `store`, shared by every writer of the process (consumer, sweeper,
/// HTTP, settlement): one policy for conflicts, one clock, one fee schedule, one settlement
/// cycle.
fn wallet_service<S: WalletStore>(store: S, settings: &Settings) -> WalletService<S> {
    let clock: Arc<dyn Clock> = match &settings.wallet.clock_file {
        Some(path) => {
            tracing::warn!(
                path = %path.display(),
                "wallet.clock_file is set: the service clock reads that file, not the system \
                 clock (for end-to-end tests only)"
            );
            Arc::new(FileClock::new(path.clone()))
        }
        None => Arc::new(SystemClock),
    };
    WalletService::new(store, settings.wallet.default_currency)
        .with_conflict_pause(crate::conflict_pause::conflict_pause())
        .with_clock(clock)
        .with_fees(settings.fees.clone())
        .with_settlement(settings.settlement.calendar.clone())
}

/// Starts the jobs every instance runs: the hold-expiry sweeper and the metrics upkeep.
fn spawn_upkeep(
    supervisor: &mut Supervisor,
    store: &CachingStore<SqlStore>,
    service: &WalletService<CachingStore<SqlStore>>,
    settings: &Settings,
    metrics: PrometheusHandle,
) {
    let sweeper_store = store.clone();
    let sweeper_service = service.clone();
    let ttl = chrono::Duration::hours(i64::from(settings.wallet.hold_ttl_hours));
    let interval = Duration::from_secs(settings.wallet.sweep_interval_seconds);
    supervisor.spawn("hold-sweeper", move |shutdown| {
        sweeper::run_sweeper(
            sweeper_service.clone(),
            sweeper_store.clone(),
            ttl,
            interval,
            shutdown,
        )
    });
    let settlement_service = service.clone();
    let settlement_interval = Duration::from_secs(settings.settlement.interval_seconds);
    supervisor.spawn("settlement", move |shutdown| {
        jobs::settlement::run_settlement(settlement_service.clone(), settlement_interval, shutdown)
    });
    let actions_service = service.clone();
    let actions_interval = Duration::from_secs(settings.corporate_actions.interval_seconds);
    let actions_batch = settings.corporate_actions.batch_size;
    supervisor.spawn("corporate-actions", move |shutdown| {
        jobs::corporate_actions::run_corporate_actions(
            actions_service.clone(),
            actions_interval,
            actions_batch,
            shutdown,
        )
    });
    let upkeep_handle = metrics;
    supervisor.spawn("metrics-upkeep", move |shutdown| {
        jobs::run_metrics_upkeep(upkeep_handle.clone(), shutdown)
    });
}

/// Readiness of a consumer: running and not retrying, or what is wrong. The order-event
/// consumer must also hold partitions; the corporate-action one need not (its topic has
/// fewer partitions than a group has members).
fn consumer_check(name: &'static str, health: ConsumerHealth, needs_partitions: bool) -> Check {
    Check::new(name, move || {
        let snapshot = health.snapshot();
        let ready = if needs_partitions {
            health.is_ready()
        } else {
            snapshot.running && !snapshot.retrying
        };
        async move {
            if ready {
                return Ok(());
            }
            let last_error = snapshot
                .last_error
                .map(|error| format!(", last error: {error}"))
                .unwrap_or_default();
            Err(format!(
                "running: {}, assigned partitions: {}, retrying: {}{last_error}",
                snapshot.running, snapshot.assigned_partitions, snapshot.retrying
            ))
        }
    })
}

/// The embedded broker (when configured) and the consumers' readiness checks.
type KafkaStarted = (Option<EmbeddedBroker>, Vec<Check>);

/// Starts the embedded broker (when configured), the consumer and the outbox relay. `None`
/// for `kafka.brokers = "none"`; otherwise the broker (if embedded) and the consumers'
/// readiness checks.
fn start_kafka(
    config: &KafkaSettings,
    corporate_actions_topic: &str,
    store: &CachingStore<SqlStore>,
    service: &WalletService<CachingStore<SqlStore>>,
    supervisor: &mut Supervisor,
) -> Result<Option<KafkaStarted>, StartupError> {
    let brokers = Brokers::of(config);
    if brokers == Brokers::Disabled {
        tracing::warn!(
            "kafka.brokers = \"none\": this instance consumes no order events and relays no \
             outbox; another instance of the group must"
        );
        return Ok(None);
    }
    let mut kafka = config.clone();
    let mut broker = None;
    if brokers == Brokers::Embedded {
        let embedded = EmbeddedBroker::start(&kafka)
            .map_err(|error| StartupError::Kafka(error.to_string()))?;
        tracing::info!(
            bootstrap_servers = embedded.bootstrap_servers(),
            "embedded Kafka broker: produce order events to {} on {}",
            kafka.order_events_topic,
            embedded.bootstrap_servers()
        );
        kafka = embedded.client_settings(&kafka);
        for topic in [
            corporate_actions_topic.to_owned(),
            format!("{corporate_actions_topic}.DLT"),
        ] {
            embedded
                .create_topic(&topic, 1)
                .map_err(|error| StartupError::Kafka(error.to_string()))?;
        }
        broker = Some(embedded);
    }
    kafka
        .validate()
        .and_then(|()| kafka.check_clients())
        .map_err(|error| StartupError::Kafka(error.to_string()))?;
    let health = ConsumerHealth::new();
    let actions_health = ConsumerHealth::new();
    let checks = vec![
        consumer_check("kafka_consumer", health.clone(), true),
        consumer_check("corporate_action_consumer", actions_health.clone(), false),
    ];
    let (consumer_service, consumer_kafka) = (service.clone(), kafka.clone());
    supervisor.spawn("kafka-consumer", move |shutdown| {
        let service = consumer_service.clone();
        let (kafka, health) = (consumer_kafka.clone(), health.clone());
        async move {
            wallet_kafka::run_consumer(&kafka, service, health, shutdown)
                .await
                .map_err(|error| error.to_string())
        }
    });
    let (actions_service, actions_kafka) = (service.clone(), kafka.clone());
    let actions_topic = corporate_actions_topic.to_owned();
    supervisor.spawn("corporate-action-consumer", move |shutdown| {
        let service = actions_service.clone();
        let (kafka, topic) = (actions_kafka.clone(), actions_topic.clone());
        let health = actions_health.clone();
        async move {
            wallet_kafka::run_corporate_action_consumer(&kafka, &topic, service, health, shutdown)
                .await
                .map_err(|error| error.to_string())
        }
    });
    let relay_store = store.inner().clone();
    let relay_kafka = kafka.clone();
    supervisor.spawn("outbox-relay", move |shutdown| {
        let (outbox, kafka) = (relay_store.clone(), relay_kafka.clone());
        async move {
            wallet_kafka::run_outbox_relay(outbox, &kafka, shutdown)
                .await
                .map_err(|error| error.to_string())
        }
    });
    if let Some(cache) = store.cache().cloned() {
        // Nothing is cached until the listener hears every other instance's writes.
        cache.set_accepting(false);
        supervisor.spawn("change-listener", move |shutdown| {
            let (cache, kafka) = (cache.clone(), kafka.clone());
            async move {
                wallet_kafka::run_change_listener(&kafka, cache.as_ref(), shutdown)
                    .await
                    .map_err(|error| error.to_string())
            }
        });
    }
    Ok(Some((broker, checks)))
}

impl Application {
    /// Connects, migrates (when `database.migrate_on_start`), starts the broker (when
    /// embedded), the consumer, the outbox relay, the sweeper, and binds the HTTP server.
    ///
    /// # Errors
    /// [`StartupError`] naming what could not start.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let metrics = telemetry::metrics_handle();
        warn_about_open_auth(&settings);
        // Bound first: a port in use fails start-up before anything else is started.
        let listener = TcpListener::bind(settings.server.bind)?;
        let port = listener.local_addr()?.port();
        let authenticator = Authenticator::new(&settings.auth)
            .map_err(|error| StartupError::Settings(crate::config::SettingsError(error)))?;
        let sql_store =
            connect_store(&settings.database, settings.database.migrate_on_start).await?;
        let cache = settings.read_cache.enabled().then(|| {
            Arc::new(ReadCache::new(
                settings.read_cache.accounts_max,
                Duration::from_millis(settings.read_cache.ttl_ms),
            ))
        });
        let store = CachingStore::new(sql_store, cache.clone());
        let prices = price_feed(&settings.prices)?;
        let service = wallet_service(store.clone(), &settings);
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let mut supervisor = Supervisor::new(shutdown_receiver);
        let mut checks = vec![
            database_check(store.inner()),
            tasks_check(supervisor.health()),
        ];
        if let Prices::Redis(feed) = &prices {
            let feed = feed.clone();
            checks.push(Check::new("redis", move || {
                let feed = feed.clone();
                async move { feed.ping().await.map_err(|error| error.to_string()) }
            }));
        }
        let broker = match start_kafka(
            &settings.kafka,
            &settings.corporate_actions.topic,
            &store,
            &service,
            &mut supervisor,
        )? {
            Some((broker, consumer_checks)) => {
                checks.extend(consumer_checks);
                broker
            }
            None => None,
        };
        spawn_upkeep(
            &mut supervisor,
            &store,
            &service,
            &settings,
            metrics.clone(),
        );
        let api = ApiState {
            wallet: Arc::new(Wallet::new(service, store, prices.clone())),
        };
        let readiness = Readiness::new(
            checks,
            Duration::from_millis(settings.server.readiness_timeout_ms),
        );
        let server = http_server(
            listener,
            &settings,
            api,
            readiness,
            authenticator,
            metrics.clone(),
        )?;
        tracing::info!(
            "HTTP API on http://{addr}/api/v1/wallet, Swagger UI on http://{addr}/swagger-ui/, \
             metrics on http://{addr}/metrics",
            addr = listener_display(&settings, port)
        );
        Ok(Application {
            port,
            server,
            shutdown,
            tasks: supervisor.into_tasks(),
            shutdown_timeout: Duration::from_secs(settings.server.shutdown_timeout_seconds),
            prices,
            read_cache: cache,
            broker,
        })
    }

    /// The port the HTTP server listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The in-process price feed, when prices are not in Redis: tests and demos set prices on
    /// it.
    #[must_use]
    pub fn in_memory_prices(&self) -> Option<InMemoryPriceFeed> {
        match &self.prices {
            Prices::Memory(feed) => Some(feed.clone()),
            Prices::Redis(_) => None,
        }
    }

    /// The read cache, when enabled: tests that write to the database behind the service's
    /// back drop what they changed, as another instance's events would.
    #[must_use]
    pub fn read_cache(&self) -> Option<Arc<ReadCache>> {
        self.read_cache.clone()
    }

    /// The embedded broker's bootstrap address, when it runs.
    #[must_use]
    pub fn embedded_brokers(&self) -> Option<&str> {
        self.broker.as_ref().map(EmbeddedBroker::bootstrap_servers)
    }

    /// Serves until SIGTERM or SIGINT, then stops consuming, lets the consumer commit its
    /// batch, drains HTTP and returns.
    ///
    /// # Errors
    /// [`StartupError::Server`] when the HTTP server failed, [`StartupError::ShutdownTimedOut`]
    /// naming the tasks that did not stop in time: the process should exit non-zero.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        self.run_until(shutdown_signal()).await
    }

    /// As [`Application::run_until_stopped`], with `stop` in place of the signals (the demo
    /// and embedders stop the service themselves).
    ///
    /// # Errors
    /// As [`Application::run_until_stopped`].
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> Result<(), StartupError> {
        let handle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        let mut outcome = Ok(());
        let mut server_done = false;
        tokio::select! {
            () = stop => tracing::info!("shutting down"),
            result = &mut server => {
                server_done = true;
                outcome = match result {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(error)) => Err(StartupError::Server(error)),
                    Err(error) => Err(StartupError::Server(std::io::Error::other(error))),
                };
            }
        }
        // Stop consuming first: the consumer finishes and commits its batch while HTTP drains.
        let _ = self.shutdown.send(true);
        if !server_done {
            handle.stop(true).await;
        }
        // The Kafka clients close inside their tasks, so the embedded broker they talk to is
        // dropped only after them (or after the deadline).
        let stuck = supervisor::stop(self.tasks, self.shutdown_timeout).await;
        if !stuck.is_empty() {
            tracing::error!(
                tasks = stuck.join(", "),
                timeout_seconds = self.shutdown_timeout.as_secs(),
                "background tasks did not stop within server.shutdown_timeout_seconds"
            );
            outcome = outcome.and(Err(StartupError::ShutdownTimedOut(stuck)));
        }
        drop(self.broker);
        tracing::info!("stopped");
        outcome
    }
}
