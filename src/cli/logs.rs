//! `tasker logs ID STEP`: the captured output of an attempt, or of the one running.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use super::Global;
use crate::error::{Error, exit};
use crate::runner::owner;
use crate::store::{AttemptRecord, Backend, TaskId};

/// Print what a step wrote on stdout (or stderr) in one of its attempts
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker logs 42 transform                 the latest attempt's stdout
  tasker logs 42 transform --attempt 1 --stderr
  tasker logs 42 load --follow             while it runs, until it ends")]
pub struct Args {
    /// The task id
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    /// The step's name
    pub step: String,
    /// The attempt (1-based) [default: the latest]
    #[arg(long, value_name = "N")]
    pub attempt: Option<u32>,
    /// Print stderr instead of stdout
    #[arg(long)]
    pub stderr: bool,
    /// Keep printing while the attempt runs
    #[arg(long, short = 'f', conflicts_with = "json")]
    pub follow: bool,
    /// Print the attempt's output and details as JSON
    #[arg(long)]
    pub json: bool,
}

fn pick(attempts: &[AttemptRecord], n: Option<u32>, step: &str) -> Result<AttemptRecord, Error> {
    let found = match n {
        Some(n) => attempts.iter().find(|a| a.attempt == n),
        None => attempts.last(),
    };
    found.cloned().ok_or_else(|| match n {
        Some(n) => Error::NotFound(format!(
            "step `{step}` has no attempt {n} (it has {})",
            attempts.len()
        )),
        None => Error::NotFound(format!("step `{step}` has not run yet")),
    })
}

fn kept(a: &AttemptRecord, stderr: bool) -> (&[u8], u64) {
    if stderr {
        (&a.stderr, a.stderr_dropped)
    } else {
        (&a.stdout, a.stdout_dropped)
    }
}

fn write(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let store = super::existing_store(global, args.id)?;
    let task = super::find_task(&*store, args.id)?;
    let position = super::step_position(&task, &args.step)?;
    let step_id = task.steps[position].step_id;
    let attempt = pick(&store.attempts(step_id)?, args.attempt, &args.step)?;
    if args.json {
        let (bytes, dropped) = kept(&attempt, args.stderr);
        let doc = serde_json::json!({
            "task_id": args.id,
            "step_name": args.step,
            "attempt": attempt.attempt,
            "stream": if args.stderr { "stderr" } else { "stdout" },
            "running": attempt.finished_at.is_none(),
            "started_at": crate::clock::rfc3339(attempt.started_at),
            "finished_at": attempt.finished_at.map(crate::clock::rfc3339),
            "exit_code": attempt.exit_code,
            "error": attempt.error,
            "output": String::from_utf8_lossy(bytes),
            "dropped_bytes": dropped,
        });
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
        return Ok(exit::OK);
    }
    if attempt.finished_at.is_some() {
        let (bytes, dropped) = kept(&attempt, args.stderr);
        if dropped > 0 {
            super::say!("[the first {dropped} bytes were not kept; this is the tail]");
        }
        write(bytes);
        return Ok(exit::OK);
    }
    // Running: the runner writes a live copy beside its other files.
    let live = task
        .owner
        .as_ref()
        .filter(|o| owner::alive(o, task.heartbeat_at))
        .map(|o| {
            crate::runner::scratch_dir(args.id, o)
                .join(format!("{position}-{}", attempt.attempt))
                .with_extension(if args.stderr { "stderr" } else { "stdout" })
        });
    let mut printed = 0u64;
    let mut file = live.as_ref().and_then(|p| std::fs::File::open(p).ok());
    loop {
        if let Some(f) = &mut file {
            let mut buf = Vec::new();
            if f.seek(SeekFrom::Start(printed)).is_ok() && f.read_to_end(&mut buf).is_ok() {
                printed += buf.len() as u64;
                write(&buf);
            }
        }
        if !args.follow {
            return Ok(exit::OK);
        }
        if let Some(done) = finished(&*store, args.id, step_id, attempt.attempt)? {
            // Print what the live copy did not show before it was removed.
            let (bytes, dropped) = kept(&done, args.stderr);
            let total = dropped + bytes.len() as u64;
            if printed < dropped {
                // The live copy stopped at its cap and the middle was not kept.
                super::say!(
                    "[{} bytes after the first {printed} were not kept; this is the tail]",
                    dropped - printed
                );
            }
            if printed < total {
                let from = printed.saturating_sub(dropped) as usize;
                write(&bytes[from.min(bytes.len())..]);
            }
            return Ok(exit::OK);
        }
        // A runner that died leaves the attempt unfinished until a resume: stop following.
        // (Read from the running tasks, which is cheap whatever the task's size.)
        let runner_alive = store.running()?.into_iter().any(|t| {
            t.task_id == args.id
                && t.owner
                    .as_ref()
                    .is_some_and(|o| owner::alive(o, t.heartbeat_at))
        });
        if !runner_alive {
            // It may have ended the attempt just before it let the task go.
            if finished(&*store, args.id, step_id, attempt.attempt)?.is_some() {
                continue;
            }
            super::say!(
                "[the runner of task {} stopped before this attempt ended; `tasker resume {}` takes the task over]",
                args.id,
                args.id
            );
            return Ok(exit::OK);
        }
        if file.is_none() {
            file = live.as_ref().and_then(|p| std::fs::File::open(p).ok());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The attempt, once it has ended.
fn finished(
    store: &dyn Backend,
    _task: TaskId,
    step_id: i64,
    attempt: u32,
) -> Result<Option<AttemptRecord>, Error> {
    Ok(store
        .attempts(step_id)?
        .into_iter()
        .find(|a| a.attempt == attempt && a.finished_at.is_some()))
}
