//! The `wallet` command line (SPEC §6): `serve` (the default), `migrate`, `audit`,
//! `import-java` and `dead-letters replay`.

pub mod demo;
mod import_java;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wallet_domain::UserId;
use wallet_domain::ports::LedgerAudit;
use wallet_kafka::ReplayRange;

use crate::config::{Brokers, Settings};
use crate::startup::{self, Application, StartupError};
use crate::telemetry;

/// Broker Wallet: custody of investors' cash and stock positions.
#[derive(Debug, Parser)]
#[command(name = "wallet", version)]
pub struct Cli {
    /// A TOML file layered over the embedded default (environment variables
    /// `WALLET__SECTION__KEY` override both).
    #[arg(long, env = "WALLET_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the HTTP API, the order-event consumer, the outbox relay and the hold sweeper.
    Serve,
    /// Applies pending database migrations and exits.
    Migrate,
    /// Reconciles every account with its ledger and holds; exits non-zero on any difference.
    Audit {
        /// Audit only this account.
        #[arg(long)]
        user: Option<String>,
    },
    /// Imports the Java wallet's accounts, positions and open orders (SPEC §10) in one
    /// transaction, or refuses with one line per account what it cannot carry exactly.
    ImportJava {
        /// The Java wallet's database, e.g. mysql://user:pass@host:3307/broker_wallet_db.
        #[arg(long, value_name = "MYSQL_URL")]
        from: String,
        /// Prints what would be written and every refusal; writes nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Dead-letter topic operations.
    #[command(subcommand)]
    DeadLetters(DeadLetterCommand),
    /// Plays the fixtures' order story through Kafka and HTTP and checks every balance; starts
    /// its own service unless --brokers names a running one.
    Demo {
        /// Bootstrap servers of a running service's broker (`wallet serve` prints them).
        #[arg(long)]
        brokers: Option<String>,
        /// Base URL of that service's HTTP API (default: from server.bind).
        #[arg(long)]
        url: Option<String>,
    },
}

/// `wallet dead-letters …`.
#[derive(Debug, Subcommand)]
pub enum DeadLetterCommand {
    /// Re-publishes dead-lettered events to the input topic (they are applied idempotently).
    Replay {
        /// First dead-letter offset to replay (every partition).
        #[arg(long, requires = "to_offset")]
        from_offset: Option<i64>,
        /// Last dead-letter offset to replay, inclusive.
        #[arg(long, requires = "from_offset")]
        to_offset: Option<i64>,
    },
}

/// Runs the command line; the exit code of the process.
pub async fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("wallet: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_logging(&settings.log);
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Demo { brokers, url } => {
            return match demo::run(settings, brokers, url).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("wallet demo: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(&settings).await,
        Command::Audit { user } => return audit(&settings, user).await,
        Command::ImportJava { from, dry_run } => {
            return import_java::run(&settings, &from, dry_run).await;
        }
        Command::DeadLetters(DeadLetterCommand::Replay {
            from_offset,
            to_offset,
        }) => replay(&settings, from_offset, to_offset).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "wallet stopped with an error");
            eprintln!("wallet: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), StartupError> {
    Application::build(settings)
        .await?
        .run_until_stopped()
        .await
}

async fn migrate(settings: &Settings) -> Result<(), StartupError> {
    startup::connect_store(&settings.database, true).await?;
    println!("database schema is up to date");
    Ok(())
}

/// Exit code 0 when everything reconciles, 1 with a report otherwise, 2 when the audit could
/// not run.
async fn audit(settings: &Settings, user: Option<String>) -> ExitCode {
    let user = match user.as_deref().map(UserId::parse).transpose() {
        Ok(user) => user,
        Err(error) => {
            eprintln!("wallet audit: --user: {error}");
            return ExitCode::from(2);
        }
    };
    let findings = async {
        let store = startup::connect_store(&settings.database, false).await?;
        store
            .audit(user)
            .await
            .map_err(|error| StartupError::Database(format!("audit failed: {error}")))
    };
    match findings.await {
        Ok(findings) if findings.is_empty() => {
            println!("audit: every account reconciles with its ledger and holds");
            ExitCode::SUCCESS
        }
        Ok(findings) => {
            println!("audit: {} difference(s)", findings.len());
            println!("user\tsubject\tstored\texpected");
            for finding in &findings {
                println!(
                    "{}\t{}\t{}\t{}",
                    finding.user_id, finding.subject, finding.stored, finding.expected
                );
            }
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("wallet audit: {error}");
            ExitCode::from(2)
        }
    }
}

async fn replay(
    settings: &Settings,
    from_offset: Option<i64>,
    to_offset: Option<i64>,
) -> Result<(), StartupError> {
    match Brokers::of(&settings.kafka) {
        Brokers::External(_) => {}
        Brokers::Embedded => {
            return Err(StartupError::Kafka(
                "kafka.brokers = \"embedded\" lives inside `wallet serve`; point \
                 WALLET__KAFKA__BROKERS at the address it printed"
                    .to_owned(),
            ));
        }
        Brokers::Disabled => {
            return Err(StartupError::Kafka(
                "kafka.brokers = \"none\": there is no broker to replay from".to_owned(),
            ));
        }
    }
    let range = match (from_offset, to_offset) {
        (Some(from), Some(to)) if from <= to => ReplayRange::Offsets { from, to },
        (Some(from), Some(to)) => {
            return Err(StartupError::Kafka(format!(
                "--from-offset {from} is after --to-offset {to}"
            )));
        }
        _ => ReplayRange::All,
    };
    let kafka = &settings.kafka;
    let replayed = wallet_kafka::replay_dead_letters(kafka, range)
        .await
        .map_err(|error| StartupError::Kafka(error.to_string()))?;
    println!(
        "replayed {replayed} dead letter(s) from {} to {}",
        kafka.dead_letter_topic, kafka.order_events_topic
    );
    Ok(())
}
