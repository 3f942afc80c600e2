//! `tasker wait ID`: follow a task to its end, with `run`'s exit codes.

use std::time::{Duration, Instant};

use super::Global;
use crate::error::Error;

/// Follow a task to its end (run by workers, or by another terminal); exit as `run` would
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker run workflows/order_fulfillment.yml --submit   prints `task 42`
  tasker wait 42                                        0 complete, 1 error, 3 cancelled
  tasker wait 42 --timeout 10m

Exit codes: 0 the task is complete (or resolved by hand), 1 it ended in error, 3 it was
cancelled; 7 when --timeout passed first.")]
pub struct Args {
    /// The task id
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    /// Give up after this long (exit 7) [default: wait as long as it takes]
    #[arg(long, value_name = "DUR", value_parser = crate::templates::duration::parse)]
    pub timeout: Option<Duration>,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let store = super::existing_store(global, args.id)?;
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let mut last = None;
    // The task is read whole when its log says it may have ended (and every few seconds);
    // in between, only its new events are.
    let mut seen = store.last_event_seq(args.id)?;
    loop {
        let task = super::find_task(&*store, args.id)?;
        let read_at = Instant::now();
        if last != Some(task.status) {
            last = Some(task.status);
            if global.verbosity() == crate::render::progress::Verbosity::Verbose {
                super::say!("task {} is {}", args.id, task.status);
            }
        }
        if task.status.is_final() {
            let done = task
                .steps
                .iter()
                .filter(|s| s.status.is_satisfied())
                .count();
            if global.verbosity() != crate::render::progress::Verbosity::Quiet {
                super::say!(
                    "task {} {} ({done} of {} steps done)",
                    args.id,
                    task.status,
                    task.steps.len()
                );
            }
            return Ok(super::drive::exit_code(task.status));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::Io(format!(
                "task {} is still {} after {}; it goes on (`tasker wait {}` again)",
                args.id,
                task.status,
                crate::templates::duration::human(args.timeout.unwrap_or_default()),
                args.id
            )));
        }
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let mut ended = false;
            for doc in store.events(args.id, seen, 10_000)? {
                seen = doc["seq"].as_u64().unwrap_or(seen).max(seen);
                ended |= matches!(
                    doc["name"].as_str(),
                    Some(
                        "task.completed"
                            | "task.failed"
                            | "task.cancelled"
                            | "task.resolved_manually"
                    )
                );
            }
            if ended
                || read_at.elapsed() >= Duration::from_secs(5)
                || deadline.is_some_and(|d| Instant::now() >= d)
            {
                break;
            }
        }
    }
}
