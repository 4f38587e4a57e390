//! The sea-orm-migration command line for the Broker Wallet schema: `wallet-migrations up`,
//! `down`, `status`, `fresh` … against `DATABASE_URL` (or `-u <url>`).

#[tokio::main]
async fn main() {
    sea_orm_migration::cli::run_cli(wallet_migrations::Migrator).await;
}
