//! The `wallet` binary: parses the command line and runs it (see [`wallet_app::cli`]).

use std::process::ExitCode;

use clap::Parser;
use wallet_app::cli::{Cli, run};

#[tokio::main]
async fn main() -> ExitCode {
    run(Cli::parse()).await
}
