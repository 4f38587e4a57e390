//! The `wallet-migrations` binary (sea-orm-migration's CLI over [`wallet_migrations::Migrator`])
//! builds and migrates a database, and reports every migration as applied afterwards.

use std::process::Command;

fn run(database_url: &str, arguments: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_wallet-migrations"))
        .arg("-u")
        .arg(database_url)
        .args(arguments)
        .output()
        .expect("the wallet-migrations binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{arguments:?} failed: {text}");
    text
}

#[test]
fn the_cli_migrates_a_fresh_sqlite_database_up_and_down() {
    let directory =
        std::env::temp_dir().join(format!("wallet-migrations-cli-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let url = format!("sqlite://{}/wallet.db?mode=rwc", directory.display());

    run(&url, &["up"]);
    let status = run(&url, &["status"]);
    for name in [
        "m20260501_000001_create_accounts_and_positions",
        "m20260501_000002_create_holds",
        "m20260501_000003_create_ledger_entries",
        "m20260501_000004_create_outbox",
        "m20260501_000005_create_idempotency_keys_and_last_trades",
    ] {
        assert!(
            status
                .lines()
                .any(|line| line.contains(name) && line.contains("Applied")),
            "{name} not applied: {status}"
        );
    }
    // Every migration can be rolled back, and applied again on the emptied database.
    run(&url, &["down", "-n", "5"]);
    run(&url, &["up"]);

    std::fs::remove_dir_all(&directory).unwrap();
}
