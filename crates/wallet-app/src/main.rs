//! The `wallet` binary: parses the command line and runs it (see [`wallet_app::cli`]).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mimalloc::MiMalloc;
use wallet_app::cli::{Cli, run};

#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

/// How long the runtime's threads get to finish once the command has returned.
const RUNTIME_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("wallet: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(Cli::parse()));
    // Dropping a runtime waits for its blocking threads without end; one stuck in a client
    // library (a Kafka client that never finishes closing) would keep the process alive. The
    // command has already reported such a task and chosen the exit code.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN_TIMEOUT);
    code
}
