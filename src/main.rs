//! The `tasker` binary: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use tasker::cli::{self, Cli};

fn main() -> ExitCode {
    tasker::install_tls_provider();
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Where each global option came from, for `tasker config show`.
    let given = |id: &str| {
        let sub = matches.subcommand().map(|(_, m)| m);
        [Some(&matches), sub].into_iter().flatten().any(|m| {
            m.try_get_raw(id).is_ok() && m.value_source(id) == Some(ValueSource::CommandLine)
        })
    };
    cli.global.from_flags = ["db", "color", "log_format"]
        .into_iter()
        .filter(|id| given(id))
        .collect();
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            cli::print_error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
