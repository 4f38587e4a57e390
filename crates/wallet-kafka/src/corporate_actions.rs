//! The corporate-action consumer: reads `corporate_actions.topic` (key: the ticker), stores
//! each action through [`WalletService::receive_corporate_action`] and dead-letters what the
//! wallet will not take (a malformed or contradictory action, or another action under a
//! stored id) to `<topic>.DLT` with its reason, then commits. Applying an action is the job's
//! (see the app's corporate-action job), so a record costs one insert here.
//!
//! As for order events, an offset is committed only after its action is stored or its dead
//! letter acknowledged, and a store or broker failure is retried with backoff, never skipped.

use std::time::Duration;

use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use tokio::sync::watch;
use wallet_domain::corporate_actions::{CorporateAction, Received};
use wallet_domain::ports::{CorporateActionStore, WalletStore};
use wallet_domain::usecases::WalletService;
use wallet_domain::{DeadLetterReason, Rejection};

use crate::backoff::{Backoff, stopping};
use crate::blocking::run_blocking;
use crate::dead_letter::DeadLetter;
use crate::error::KafkaError;
use crate::health::ConsumerHealth;
use crate::metrics;
use crate::publisher::Publisher;
use crate::settings::KafkaSettings;

/// Longest wait for the client to close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// What to do with one record.
enum Verdict {
    Stored,
    DeadLetter(Rejection),
}

/// Consumes `topic` until `shutdown` turns true, in the group `<kafka.group_id>.corporate-actions`.
/// `health` turns not ready while a failure is retried.
///
/// # Errors
/// [`KafkaError::Config`] or [`KafkaError::Client`] when a client cannot be created or
/// subscribed; failures after that are retried.
pub async fn run_corporate_action_consumer<S: WalletStore + CorporateActionStore>(
    settings: &KafkaSettings,
    topic: &str,
    service: WalletService<S>,
    health: ConsumerHealth,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), KafkaError> {
    settings.validate()?;
    let mut config = settings.consumer_config()?;
    config
        .set(
            "group.id",
            format!("{}.corporate-actions", settings.group_id),
        )
        .set("statistics.interval.ms", "0");
    let consumer: StreamConsumer = config
        .create()
        .map_err(|error| KafkaError::client("create corporate-action consumer", &error))?;
    consumer
        .subscribe(&[topic])
        .map_err(|error| KafkaError::client("subscribe to corporate actions", &error))?;
    let dead_letters = Publisher::new(settings, "wallet-corporate-action-dlt")?;
    let dead_letter_topic = format!("{topic}.DLT");
    let mut backoff = Backoff::new(settings.retry_backoff_ms_min, settings.retry_backoff_ms_max);
    health.set_running(true);
    tracing::info!(topic, "corporate-action consumer started");
    'records: while !stopping(&shutdown) {
        let received = tokio::select! {
            received = consumer.recv() => received,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let message = match received {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "corporate-action read failed; retrying");
                metrics::retry("corporate_actions");
                backoff.wait(&mut shutdown).await;
                continue;
            }
        };
        let Some(verdict) = decide(&message, &service, &health, &mut backoff, &mut shutdown).await
        else {
            break;
        };
        if let Verdict::DeadLetter(rejection) = verdict {
            let letter = DeadLetter {
                key: message.key(),
                value: message.payload(),
                reason: rejection.reason.as_str(),
                detail: &rejection.detail,
                topic: message.topic(),
                partition: message.partition(),
                offset: message.offset(),
            };
            let record = letter.to_record(&dead_letter_topic);
            loop {
                match dead_letters
                    .send_all(std::slice::from_ref(&record))
                    .await
                    .pop()
                {
                    Some(Ok(())) => break,
                    failure => {
                        let error = failure.and_then(Result::err).unwrap_or_default();
                        health.retrying(format!("corporate-action dead letter: {error}"));
                        metrics::retry("corporate_action_dead_letter");
                        if !backoff.wait(&mut shutdown).await {
                            // Not committed: the record is read again after the restart.
                            break 'records;
                        }
                    }
                }
            }
            metrics::dead_letter(rejection.reason.as_str());
            tracing::warn!(
                reason = rejection.reason.as_str(),
                detail = %rejection.detail,
                offset = message.offset(),
                "corporate action dead-lettered"
            );
        }
        if let Err(error) = consumer
            .store_offset_from_message(&message)
            .and_then(|()| consumer.commit_consumer_state(CommitMode::Async))
        {
            // The record is stored or dead-lettered already; a redelivery is a duplicate.
            tracing::warn!(%error, "corporate-action offset commit failed");
            metrics::commit_failure();
        }
        backoff.reset();
        health.recovered();
    }
    health.set_running(false);
    run_blocking(|| {
        let _ = consumer.commit_consumer_state(CommitMode::Sync);
        dead_letters.flush(CLOSE_TIMEOUT);
    });
    tracing::info!("corporate-action consumer stopped");
    Ok(())
}

/// Parses and stores one record, retrying the store; `None` when shutdown came first.
async fn decide<S: WalletStore + CorporateActionStore>(
    message: &BorrowedMessage<'_>,
    service: &WalletService<S>,
    health: &ConsumerHealth,
    backoff: &mut Backoff,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Verdict> {
    let action = match CorporateAction::parse(message.payload().unwrap_or_default()) {
        Ok(action) => action,
        Err(rejection) => return Some(Verdict::DeadLetter(rejection)),
    };
    loop {
        match service
            .receive_corporate_action(action.clone(), service.now())
            .await
        {
            Ok(Received::New(_) | Received::Duplicate(_)) => return Some(Verdict::Stored),
            Ok(Received::Conflict(stored)) => {
                return Some(Verdict::DeadLetter(Rejection::new(
                    DeadLetterReason::ConflictingAction,
                    stored.conflict_detail(),
                )));
            }
            Err(error) => {
                health.retrying(format!("corporate action store: {error}"));
                metrics::retry("corporate_action_store");
                if !backoff.wait(shutdown).await {
                    return None;
                }
            }
        }
    }
}
