//! `tasker run FILE`: create a task from a template and run it to its end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use super::Global;
use crate::clock::now_ms;
use crate::engine::{self, report::report, state::State};
use crate::error::{Error, exit};
use crate::render::{color, progress::Lines, progress::Verbosity};
use crate::store::{NewTask, Store};
use crate::templates::{self, duration};

/// Run a template: create a task, run its steps with retries, keep every state change
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker run workflows/order_fulfillment.yml
  tasker run pipeline.yml --concurrency 8 --fail-fast
  tasker run pipeline.yml --json | jq .execution

Prints `task <id>` on stdout first; exits 0 when the task completes, 1 when it ends in
error, 3 when cancelled, 130/143 when interrupted (the task can then be resumed).")]
pub struct Args {
    /// The template file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
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
    /// Who or what started the task (stored with it)
    #[arg(long, value_name = "S")]
    pub initiator: Option<String>,
    /// The system the task came from (stored with it)
    #[arg(long, value_name = "S")]
    pub source_system: Option<String>,
    /// Why the task runs (stored with it)
    #[arg(long, value_name = "S")]
    pub reason: Option<String>,
    /// A tag for the task (repeatable)
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

pub fn run(global: &Global, args: Args) -> Result<u8, Error> {
    // Everything that can be refused is checked before the store is touched.
    let loaded = templates::load_file(&args.file)?;
    let template = &loaded.template;
    let workdir = template_dir(&args.file);
    let hash = format!("{:x}", Sha256::digest(loaded.source.as_bytes()));

    let mut store = global.open_store()?;
    let context = serde_json::json!({});
    let created = store.create_task(&NewTask {
        template,
        source: &loaded.source,
        content_hash: &hash,
        workdir: &workdir.display().to_string(),
        context: &context,
        initiator: args.initiator.as_deref(),
        source_system: args.source_system.as_deref(),
        reason: args.reason.as_deref(),
        tags: &args.tags,
    })?;
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "task {}", created.task_id);
        let _ = stdout.flush();
    }
    let task = store
        .task(created.task_id)?
        .ok_or_else(|| Error::NotFound(format!("task {} vanished", created.task_id)))?;

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
        let (stop_tx, stop_rx) = watch::channel(None);
        let mut sigint = signal(SignalKind::interrupt()).ok();
        let mut sigterm = signal(SignalKind::terminate()).ok();
        tokio::spawn(async move {
            let sig = tokio::select! {
                Some(()) = recv(&mut sigint) => libc::SIGINT,
                Some(()) = recv(&mut sigterm) => libc::SIGTERM,
            };
            let _ = stop_tx.send(Some(sig));
        });
        engine::run(&mut store, &task, template, &options, &mut lines, stop_rx).await
    })?;
    runtime.shutdown_timeout(Duration::from_millis(100));

    let record = store
        .task(created.task_id)?
        .ok_or_else(|| Error::NotFound(format!("task {} vanished", created.task_id)))?;
    let doc = report(&record, now_ms());
    if verbosity != Verbosity::Quiet {
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
            "task {} {} in {took}: {}/{} steps complete",
            record.task_id,
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
        if let Some(sig) = finish.interrupted {
            line = format!(
                "task {} interrupted by signal {sig}; resume it with `tasker resume {}`",
                record.task_id, record.task_id
            );
        }
        eprintln!("{line}");
    }
    if args.json {
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    }
    Ok(match (finish.interrupted, finish.state) {
        (Some(sig), _) => 128 + sig as u8,
        (None, State::Complete | State::ResolvedManually) => exit::OK,
        (None, State::Cancelled) => exit::CANCELLED,
        (None, _) => exit::TASK_ERROR,
    })
}

async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// The directory steps run in: the template's own, made absolute.
fn template_dir(file: &Path) -> PathBuf {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned())
}
