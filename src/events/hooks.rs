//! Hooks: commands run with an event's JSON on stdin, from `on:` in the template or the
//! config file. A hook never changes a task's outcome: a failure or a timeout is logged.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{Event, Subscriber};
use crate::handlers::{Abort, process};
use crate::templates::{Hook, Program};

/// How long a hook may run before it is killed, and how long the exit waits for the hooks
/// still running.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether an `on:` pattern (`task.failed`, `step.*`, `*`) matches an event name.
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

struct Job {
    program: Program,
    event: Arc<Vec<u8>>,
    name: String,
    task_id: i64,
}

/// Events waiting for one hook; more are dropped with a warning rather than slow the run.
const QUEUE: usize = 1024;

/// What the workers share.
struct Shared {
    /// Rises to `Kill` at the deadline or on a signal: running hooks are killed, queued
    /// ones skipped.
    stop: watch::Sender<Abort>,
    /// Hooks queued or running, and its change told to the exit's wait.
    pending: Mutex<usize>,
    idle: Condvar,
    /// Hooks killed at the exit.
    killed: AtomicUsize,
    cwd: std::path::PathBuf,
    timeout: Duration,
    /// `TASKER_HOOK_OF`, by which the next runner finds a dead runner's hooks.
    marker: String,
    /// Lives while hooks may run (see [`crate::runner::sweep_dead_runners`]).
    mark_dir: std::path::PathBuf,
}

/// How the hooks ended when the run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HooksEnd {
    /// Hooks never run: the queue was full, or the exit came first.
    pub not_run: usize,
    /// Hooks killed at the exit deadline or on a signal.
    pub killed: usize,
}

/// Runs hooks on threads of their own, so the run never waits for them: each hook gets its
/// events in order, one at a time (a hook appending to a file never interleaves with
/// itself), and different hooks run side by side. [`Hooks::finish`] gives them one
/// deadline at exit.
pub struct Hooks {
    hooks: Vec<Hook>,
    /// One queue a hook.
    queues: Vec<mpsc::SyncSender<Job>>,
    shared: Option<Arc<Shared>>,
    workers: Vec<JoinHandle<usize>>,
    dropped: usize,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hooks({})", self.hooks.len())
    }
}

impl Hooks {
    /// Hooks run in `cwd`, each for at most `timeout`, marked `TASKER_HOOK_OF=marker`.
    pub fn new(
        hooks: Vec<Hook>,
        cwd: std::path::PathBuf,
        timeout: Duration,
        marker: String,
    ) -> Hooks {
        if hooks.is_empty() {
            return Hooks {
                hooks,
                queues: Vec::new(),
                shared: None,
                workers: Vec::new(),
                dropped: 0,
            };
        }
        // While hooks may run, this names their runner, so that if it dies without stopping
        // them the next runner finds them by their mark.
        let mark_dir = std::env::temp_dir().join(format!("tasker-{marker}.hooks"));
        let _ = std::fs::create_dir(&mark_dir);
        let shared = Arc::new(Shared {
            stop: watch::Sender::new(Abort::None),
            pending: Mutex::new(0),
            idle: Condvar::new(),
            killed: AtomicUsize::new(0),
            cwd,
            timeout,
            marker,
            mark_dir,
        });
        let (queues, workers) = hooks
            .iter()
            .map(|_| {
                let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE);
                let shared = Arc::clone(&shared);
                (tx, std::thread::spawn(move || work(&rx, &shared)))
            })
            .unzip();
        Hooks {
            hooks,
            queues,
            shared: Some(shared),
            workers,
            dropped: 0,
        }
    }

    /// Let the hooks queued finish until `deadline`, or until `interrupted` says a signal
    /// came; then kill those still running and skip those still queued.
    pub fn finish(&mut self, deadline: Instant, interrupted: &dyn Fn() -> bool) -> HooksEnd {
        self.queues.clear();
        let mut end = HooksEnd {
            not_run: std::mem::take(&mut self.dropped),
            killed: 0,
        };
        let Some(shared) = self.shared.take() else {
            return end;
        };
        // Woken as hooks finish; a signal is looked for between.
        let mut pending = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
        while *pending > 0 {
            if Instant::now() >= deadline || interrupted() {
                shared.stop.send_replace(Abort::Kill);
                break;
            }
            let wait = deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(50));
            pending = shared
                .idle
                .wait_timeout(pending, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        drop(pending);
        for worker in self.workers.drain(..) {
            end.not_run += worker.join().unwrap_or(0);
        }
        end.killed = shared.killed.load(Ordering::SeqCst);
        let _ = std::fs::remove_dir(&shared.mark_dir);
        end
    }
}

impl Shared {
    fn queued(&self) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    /// A job ended (run or skipped): the exit's wait hears of it.
    fn done(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *pending = pending.saturating_sub(1);
        self.idle.notify_all();
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        self.finish(Instant::now(), &|| true);
    }
}

impl Subscriber for Hooks {
    fn on_event(&mut self, event: &Event) {
        let Some(shared) = &self.shared else {
            return;
        };
        let name = event.name();
        // Serialized once, shared by every hook the event goes to.
        let mut event_bytes: Option<Arc<Vec<u8>>> = None;
        for (hook, queue) in self.hooks.iter().zip(&self.queues) {
            if !matches(&hook.pattern, name) {
                continue;
            }
            shared.queued();
            let job = Job {
                program: hook.program.clone(),
                event: Arc::clone(
                    event_bytes.get_or_insert_with(|| Arc::new(event.to_json_text().into_bytes())),
                ),
                name: name.to_owned(),
                task_id: event.task_id,
            };
            if queue.try_send(job).is_err() {
                shared.done();
                self.dropped += 1;
                if self.dropped == 1 {
                    tracing::warn!(
                        task_id = event.task_id,
                        "a hook is falling behind: {QUEUE} events wait for it, so `{name}` and later ones are not given to it"
                    );
                }
            }
        }
    }
}

/// A hook's worker: run it for each event queued until the queue closes; how many it
/// skipped at a stop. Its processes are supervised as steps are (`handlers::process`), on a
/// small runtime of the worker's own.
fn work(rx: &mpsc::Receiver<Job>, shared: &Shared) -> usize {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("hooks cannot run: no runtime for them ({e})");
            let mut skipped = 0;
            for _ in rx {
                skipped += 1;
                shared.done();
            }
            return skipped;
        }
    };
    let mut skipped = 0;
    for job in rx {
        if *shared.stop.borrow() != Abort::None {
            skipped += 1;
        } else {
            runtime.block_on(run_one(&job, shared));
        }
        shared.done();
    }
    skipped
}

async fn run_one(job: &Job, shared: &Shared) {
    let (mut command, _) = process::command_for(&job.program, None);
    command
        .current_dir(&shared.cwd)
        .env("TASKER_EVENT_NAME", &job.name)
        .env("TASKER_TASK_ID", job.task_id.to_string())
        .env("TASKER_HOOK_OF", &shared.marker);
    // Killed with the runner even by SIGKILL; what it started is found by its mark.
    command.die_with_parent();
    let shown = match &job.program {
        Program::Shell(l) => l.clone(),
        Program::Argv(a) => a.join(" "),
    };
    let supervise = process::Supervise {
        name: &job.name,
        timeout: Some(shared.timeout),
        // A hook past its time is killed outright: it only ever informs.
        kill_grace: Duration::ZERO,
        output_limit: 4096,
        live_output: None,
        spawned: None,
        echo: None,
        abort: shared.stop.subscribe(),
    };
    let finished = process::run(command, Some(Arc::clone(&job.event)), supervise).await;
    let finished = match finished {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(task_id = job.task_id, event = %job.name, hook = %shown, "hook could not start: {e}");
            return;
        }
    };
    match finished.exit {
        process::Exit::Status(status) if !status.success() => {
            tracing::warn!(task_id = job.task_id, event = %job.name, hook = %shown,
                "hook failed ({status}): {}", crate::text::printable(finished.stderr.tail_text(4096).trim()));
        }
        process::Exit::Status(_) => {}
        process::Exit::TimedOut => {
            tracing::warn!(task_id = job.task_id, event = %job.name, hook = %shown,
                "hook timed out after {} and was killed", crate::templates::duration::human(shared.timeout));
        }
        process::Exit::Aborted => {
            // Killed at the exit: counted there, not reported one by one.
            shared.killed.fetch_add(1, Ordering::SeqCst);
            tracing::debug!(task_id = job.task_id, event = %job.name, hook = %shown,
                "hook stopped: tasker is exiting");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn patterns() {
        use super::matches;
        assert!(matches("task.failed", "task.failed"));
        assert!(!matches("task.failed", "task.failed.more"));
        assert!(matches("step.*", "step.completed"));
        assert!(!matches("step.*", "task.completed"));
        assert!(matches("*", "order.charged"));
    }
}
