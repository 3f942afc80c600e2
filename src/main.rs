//! The `tasker` binary: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use tasker::cli::{self, Cli};

/// mimalloc, not glibc's allocator: a spawned step makes a few hundred small allocations,
/// which cost glibc ~150 instructions each, and a consolidation of its fast bins at every
/// large one (docs/performance.md). Built without transparent huge pages (`no_thp`), which
/// would round what a run holds up to 2 MiB pieces; `tasker::tune_allocator` sets the rest.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tasker::tune_allocator();
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
