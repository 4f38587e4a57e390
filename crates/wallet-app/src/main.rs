//! The `wallet` binary: parses the command line and runs it (see [`wallet_app::cli`]).

use std::process::ExitCode;

use clap::Parser;
use mimalloc::MiMalloc;
use wallet_app::cli::{Cli, run};

#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    run(Cli::parse()).await
}
