//! Measurement 6: one cash dividend over many holders (issue 18). The holders' accounts and
//! positions are seeded by SQL; the service runs HTTP only, receives the dividend over
//! `POST /api/v1/corporate-actions` with its record and payment dates past, and its
//! corporate-action job records every entitlement and pays it, in batches of
//! `corporate_actions.batch_size`. The rate is holders over the time from receipt to
//! completion, as the service stamped them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::seed::BenchDatabase;
use crate::service::Service;

/// Shares each holder has.
const SHARES: &str = "100";
/// The dividend per share.
const PER_SHARE: &str = "0.50";
/// Longest wait for the action to complete.
const COMPLETION_LIMIT: Duration = Duration::from_secs(900);

/// What the dividend run measured.
#[derive(Debug, Clone, Copy)]
pub struct DividendResult {
    /// Holders paid.
    pub holders: u64,
    /// Seconds from receipt to completion.
    pub seconds: f64,
    /// Holders per transaction.
    pub batch_size: u32,
    /// Peak RSS of the service at the end, in KiB.
    pub peak_rss_kib: Option<u64>,
}

/// Pays one dividend to `holders` holders, `batch_size` per transaction.
///
/// # Errors
/// A message naming what failed, including a total that is not exactly holders × shares ×
/// the dividend.
pub async fn run(holders: usize, batch_size: u32) -> Result<DividendResult, String> {
    let database = BenchDatabase::create().await?;
    let users: Vec<String> = (0..holders)
        .map(|index| format!("bench-holder-{index:06}"))
        .collect();
    let deposits: Vec<(String, String)> = users
        .iter()
        .map(|user| (user.clone(), "10.00".to_owned()))
        .collect();
    database.deposit(&deposits).await?;
    database
        .positions(&users, &["PETR4"], SHARES, "30.25")
        .await?;
    let environment = [
        ("WALLET__DATABASE__URL", database.url()),
        ("WALLET__KAFKA__BROKERS", "none".to_owned()),
        (
            "WALLET__CORPORATE_ACTIONS__INTERVAL_SECONDS",
            "1".to_owned(),
        ),
        (
            "WALLET__CORPORATE_ACTIONS__BATCH_SIZE",
            batch_size.to_string(),
        ),
    ];
    let mut service = Service::start("dividend", &environment)?;
    service.wait_live(Duration::from_secs(60)).await?;
    let today = Utc::now().date_naive();
    let id = format!("BENCH-DIVIDEND-{}", uuid::Uuid::new_v4().simple());
    let body = serde_json::json!({
        "id": id,
        "type": "CASH_DIVIDEND",
        "ticker": "PETR4",
        "amountPerShare": PER_SHARE,
        "recordDate": (today - chrono::Days::new(3)).to_string(),
        "paymentDate": (today - chrono::Days::new(2)).to_string(),
    });
    let client = reqwest::Client::new();
    let base = service.base_url();
    let posted = client
        .post(format!("{base}/api/v1/corporate-actions"))
        .json(&body)
        .send()
        .await
        .map_err(|error| format!("post the dividend: {error}"))?;
    if posted.status().as_u16() != 202 {
        return Err(format!("the dividend was answered {}", posted.status()));
    }
    let started = std::time::Instant::now();
    let record = loop {
        let record: Value = client
            .get(format!("{base}/api/v1/corporate-actions/{id}"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| format!("read the dividend: {error}"))?
            .json()
            .await
            .map_err(|error| format!("read the dividend: {error}"))?;
        if record["status"] == "COMPLETED" {
            break record;
        }
        if started.elapsed() > COMPLETION_LIMIT || !service.is_running() {
            return Err(format!(
                "the dividend did not complete: {record}\n{}",
                service.log_tail()
            ));
        }
        // The job stamps its own times; polling its status only tells when to read them.
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    check_totals(&record, holders)?;
    let instant = |field: &str| {
        record[field]
            .as_str()
            .and_then(|text| text.parse::<DateTime<Utc>>().ok())
            .ok_or_else(|| format!("{field} missing in {record}"))
    };
    let seconds = (instant("completedAt")? - instant("receivedAt")?)
        .to_std()
        .map_err(|error| error.to_string())?
        .as_secs_f64();
    Ok(DividendResult {
        holders: holders as u64,
        seconds,
        batch_size,
        peak_rss_kib: service.peak_rss_kib(),
    })
}

/// Every holder paid exactly once: holders × shares × the dividend.
fn check_totals(record: &Value, holders: usize) -> Result<(), String> {
    let decimal = |text: &str| text.parse::<Decimal>().map_err(|error| error.to_string());
    let expected = Decimal::from(holders as u64) * decimal(SHARES)? * decimal(PER_SHARE)?;
    let paid = decimal(record["cashPaid"].as_str().unwrap_or_default())?;
    if record["holdersAffected"].as_u64() != Some(holders as u64) || paid != expected {
        return Err(format!(
            "the dividend paid {paid} to {} holders, expected {expected} to {holders}",
            record["holdersAffected"]
        ));
    }
    Ok(())
}
