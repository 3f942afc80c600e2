//! The `tasker` binary: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use tasker::cli::{self, Cli};

/// mimalloc, not glibc's allocator: a spawned step makes a few hundred small allocations,
/// which cost glibc ~150 instructions each, and a consolidation of its fast bins at every
/// large one (docs/performance.md). Built without transparent huge pages (`no_thp`), which
/// would round what a run holds up to 2 MiB pieces.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Memory freed is given back to the system at once, not after mimalloc's default 10 ms:
/// held back, it raised a 10,000-step run's peak from 37 to 43 MiB.
#[expect(
    unsafe_code,
    reason = "mimalloc's options are set through its C interface"
)]
fn tune_allocator() {
    /// `mi_option_purge_delay` (milliseconds), which the bindings do not name.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets one of mimalloc's option values; any value is valid for this option.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
}

fn main() -> ExitCode {
    tune_allocator();
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
