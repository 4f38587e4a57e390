//! `wallet import-java --from <mysql url> [--dry-run]` (SPEC §10): the cut-over from the Java
//! wallet. Reads its database, plans the import ([`wallet_domain::import::plan_import`]),
//! refuses with one line per account what cannot be carried exactly, and writes everything in
//! one transaction, or nothing.

use std::process::ExitCode;

use secrecy::ExposeSecret;
use wallet_domain::import::{ImportPlan, Refusal, plan_import};
use wallet_domain::ports::{Clock, SystemClock, WalletStore};

use crate::config::Settings;
use crate::startup;

fn report_refusals(refusals: &[Refusal]) {
    eprintln!(
        "wallet import-java: {} account(s) cannot be imported exactly; nothing was written:",
        refusals.len()
    );
    for refusal in refusals {
        eprintln!(
            "  refused {}: {}",
            refusal.user_id,
            refusal.reasons.join("; ")
        );
    }
}

fn describe(plan: &ImportPlan) {
    for imported in &plan.accounts {
        let account = &imported.account;
        let currency = account.currency;
        println!(
            "  {} {currency}: balance {}, blocked {}, {} position(s), {} open order(s)",
            account.user_id,
            account.balance.to_scaled_string(currency),
            account.blocked_balance.to_scaled_string(currency),
            imported.positions.len(),
            imported.holds.len()
        );
    }
}

/// Runs the import; exit 0 when it was written (or there was nothing left to write), 1 when
/// accounts were refused, 2 when it could not run.
pub async fn run(settings: &Settings, from: &str, dry_run: bool) -> ExitCode {
    let now = SystemClock.now();
    let java = match wallet_sql::read_java_wallet(from).await {
        Ok(java) => java,
        Err(error) => {
            eprintln!("wallet import-java: cannot read the Java wallet at --from: {error}");
            return ExitCode::from(2);
        }
    };
    let plan = match plan_import(&java, settings.wallet.default_currency, now) {
        Ok(plan) => plan,
        Err(refusals) => {
            report_refusals(&refusals);
            return ExitCode::FAILURE;
        }
    };
    let store = match startup::connect_store(&settings.database, !dry_run).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("wallet import-java: {error}");
            return ExitCode::from(2);
        }
    };
    // A dry run leaves a fresh database as it is, without the schema: nothing exists there.
    let fresh = dry_run && !store.has_schema().await.unwrap_or(true);
    let existing = if fresh {
        Ok(wallet_domain::unit_of_work::Snapshot::default())
    } else {
        store.load(&plan.load_request()).await
    };
    let existing = match existing {
        Ok(existing) => existing,
        Err(error) => {
            eprintln!(
                "wallet import-java: cannot read {}: {error}",
                redacted(&settings.database.url)
            );
            return ExitCode::from(2);
        }
    };
    let plan = match plan.against(&existing) {
        Ok(plan) => plan,
        Err(refusals) => {
            report_refusals(&refusals);
            return ExitCode::FAILURE;
        }
    };
    let (accounts, skipped) = (plan.accounts.len(), plan.already_imported.len());
    if dry_run {
        println!(
            "import-java (dry run): would import {accounts} account(s); {skipped} already imported; nothing written"
        );
        describe(&plan);
        return ExitCode::SUCCESS;
    }
    if accounts == 0 {
        println!(
            "import-java: nothing to import: {skipped} account(s) already imported, nothing changed"
        );
        return ExitCode::SUCCESS;
    }
    let positions: usize = plan.accounts.iter().map(|a| a.positions.len()).sum();
    let holds: usize = plan.accounts.iter().map(|a| a.holds.len()).sum();
    match store.commit(plan.into_changes()).await {
        Ok(()) => {
            println!(
                "import-java: imported {accounts} account(s), {positions} position(s), {holds} open order(s) in one transaction; {skipped} already imported; run `wallet audit` next"
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("wallet import-java: the import was not written: {error}");
            ExitCode::from(2)
        }
    }
}

/// The scheme and host of a database URL, without credentials.
fn redacted(url: &secrecy::SecretString) -> String {
    let text = url.expose_secret();
    let host = text.split('@').nth(1).unwrap_or(text);
    let scheme = text.split("://").next().unwrap_or_default();
    format!(
        "{scheme}://…@{}",
        host.split('?').next().unwrap_or_default()
    )
}
