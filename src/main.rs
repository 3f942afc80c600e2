//! The `tasker` binary: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use tasker::cli::{self, Cli};

fn main() -> ExitCode {
    tasker::install_tls_provider();
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            cli::print_error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
