//! Running a task in the foreground — shared by `run`, `resume` and `retry`: the runtime,
//! signals, progress lines, the closing summary and the exit code.

use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

use super::Global;
use crate::clock::now_ms;
use crate::engine::{self, Halt, report::report, state::State};
use crate::error::{Error, exit};
use crate::render::{color, progress::Lines, progress::Verbosity};
use crate::store::{SqliteStore, Store, TaskId};
use crate::templates::{Template, duration};

/// How the steps of a task are run.
#[derive(Debug, Clone, clap::Args)]
pub struct DriveArgs {
    /// Steps running at once [default: the template's max_parallel, else the CPU count]
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: Option<u32>,
    /// Stop starting steps once one has failed for good
    #[arg(long)]
    pub fail_fast: bool,
    /// Print the final status document as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Time between SIGTERM and SIGKILL when a step is stopped
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub kill_grace: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

/// The exit code a task's final state means.
pub fn exit_code(state: State) -> u8 {
    match state {
        State::Complete | State::ResolvedManually => exit::OK,
        State::Cancelled => exit::CANCELLED,
        _ => exit::TASK_ERROR,
    }
}

async fn recv(s: &mut Option<Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// Run task `task_id` to its end in this process and report how it ended.
pub fn drive(
    global: &Global,
    store: &mut SqliteStore,
    task_id: TaskId,
    template: &Template,
    args: &DriveArgs,
) -> Result<u8, Error> {
    let options = engine::Options {
        concurrency: args.concurrency.map(|n| n as usize),
        fail_fast: args.fail_fast,
        kill_grace: args.kill_grace,
        ..engine::Options::default()
    };
    let verbosity = global.verbosity();
    let color_on = color::enabled(global.color_choice(), true);
    let mut lines = Lines {
        verbosity,
        color: color_on,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    let finish = runtime.block_on(async {
        let (halt_tx, halt_rx) = watch::channel(Halt::None);
        let mut sigint = signal(SignalKind::interrupt()).ok();
        let mut sigterm = signal(SignalKind::terminate()).ok();
        tokio::spawn(async move {
            // The first signal stops gracefully; a second one kills the steps at once.
            let mut first = None;
            loop {
                let sig = tokio::select! {
                    Some(()) = recv(&mut sigint) => libc::SIGINT,
                    Some(()) = recv(&mut sigterm) => libc::SIGTERM,
                    else => break,
                };
                let halt = match first {
                    None => {
                        first = Some(sig);
                        Halt::Signal(sig)
                    }
                    Some(f) => Halt::Kill(f),
                };
                if halt_tx.send(halt).is_err() {
                    break;
                }
            }
        });
        engine::run(store, task_id, template, &options, &mut lines, halt_rx).await
    })?;
    runtime.shutdown_timeout(Duration::from_millis(100));

    let record = store
        .task(task_id)?
        .ok_or_else(|| Error::NotFound(format!("task {task_id} not found")))?;
    let doc = report(&record, now_ms());
    if verbosity != Verbosity::Quiet {
        let line = match finish.interrupted {
            Some(sig) => format!(
                "task {task_id} interrupted by signal {sig}; resume it with `tasker resume {task_id}`"
            ),
            None => {
                let took = doc
                    .duration_ms
                    .map(|m| duration::human(Duration::from_millis(m)))
                    .unwrap_or_default();
                let flaky: Vec<&str> = doc
                    .steps
                    .iter()
                    .filter(|s| s.flaky)
                    .map(|s| s.name.as_str())
                    .collect();
                let retries: u32 = doc.steps.iter().map(|s| s.attempts.saturating_sub(1)).sum();
                let mut line = format!(
                    "task {task_id} {} in {took}: {}/{} steps complete",
                    color::paint(color_on, record.status, record.status.as_str()),
                    doc.execution.completed_steps,
                    doc.execution.total_steps,
                );
                if doc.execution.failed_steps > 0 {
                    line.push_str(&format!(", {} failed", doc.execution.failed_steps));
                }
                if retries > 0 {
                    line.push_str(&format!(", {retries} retries"));
                }
                if !flaky.is_empty() {
                    line.push_str(&format!(", flaky: {}", flaky.join(", ")));
                }
                line
            }
        };
        eprintln!("{line}");
    }
    if args.json {
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    }
    Ok(match finish.interrupted {
        Some(sig) => 128 + sig as u8,
        None => exit_code(finish.state),
    })
}
