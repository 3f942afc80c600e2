//! Hooks: commands run with an event's JSON on stdin, from `on:` in the template or the
//! config file. A hook never changes a task's outcome: a failure or a timeout is logged.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Event, Subscriber};
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
    event: String,
    name: String,
    task_id: i64,
}

/// Events waiting for one hook; more are dropped with a warning rather than slow the run.
const QUEUE: usize = 1024;

/// What the workers share.
struct Shared {
    /// Set at the deadline or on a signal: running hooks are killed, queued ones skipped.
    stop: AtomicBool,
    /// Hooks queued or running.
    pending: AtomicUsize,
    /// Process groups of the hooks running now.
    running: Mutex<Vec<i32>>,
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
            stop: AtomicBool::new(false),
            pending: AtomicUsize::new(0),
            running: Mutex::new(Vec::new()),
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
        while shared.pending.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= deadline || interrupted() {
                shared.stop.store(true, Ordering::SeqCst);
                for &group in shared
                    .running
                    .lock()
                    .map(|g| g.clone())
                    .unwrap_or_default()
                    .iter()
                {
                    crate::handlers::signal_group(group, libc::SIGKILL);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        for worker in self.workers.drain(..) {
            end.not_run += worker.join().unwrap_or(0);
        }
        end.killed = shared.killed();
        let _ = std::fs::remove_dir(&shared.mark_dir);
        end
    }
}

impl Shared {
    fn killed(&self) -> usize {
        self.running.lock().map(|r| r.len()).unwrap_or(0)
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
        for (hook, queue) in self.hooks.iter().zip(&self.queues) {
            if !matches(&hook.pattern, name) {
                continue;
            }
            shared.pending.fetch_add(1, Ordering::SeqCst);
            let job = Job {
                program: hook.program.clone(),
                event: event.to_json().to_string(),
                name: name.to_owned(),
                task_id: event.task_id,
            };
            if queue.try_send(job).is_err() {
                shared.pending.fetch_sub(1, Ordering::SeqCst);
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
/// skipped at a stop.
fn work(rx: &mpsc::Receiver<Job>, shared: &Shared) -> usize {
    let mut skipped = 0;
    for job in rx {
        if shared.stop.load(Ordering::SeqCst) {
            skipped += 1;
        } else {
            run_one(&job, shared);
        }
        shared.pending.fetch_sub(1, Ordering::SeqCst);
    }
    skipped
}

#[expect(unsafe_code, reason = "prctl has no safe wrapper in std")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl only sets a flag of the new process; it is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let _ = rustix::process::set_parent_process_death_signal(Some(
                rustix::process::Signal::KILL,
            ));
            Ok(())
        });
    }
}

fn run_one(job: &Job, shared: &Shared) {
    let mut command = match &job.program {
        Program::Shell(line) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(line);
            c
        }
        Program::Argv(argv) => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    use std::os::unix::process::CommandExt;
    command
        .current_dir(&shared.cwd)
        .env("TASKER_EVENT_NAME", &job.name)
        .env("TASKER_TASK_ID", job.task_id.to_string())
        .env("TASKER_HOOK_OF", &shared.marker)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Killed with the runner even by SIGKILL; what it started is found by its mark.
    die_with_parent(&mut command);
    let shown = match &job.program {
        Program::Shell(l) => l.clone(),
        Program::Argv(a) => a.join(" "),
    };
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(task_id = job.task_id, event = %job.name, hook = %shown, "hook could not start: {e}");
            return;
        }
    };
    let group = child.id() as i32;
    if let Ok(mut running) = shared.running.lock() {
        running.push(group);
    }
    // Neither a hook that never reads its stdin nor one that floods stderr holds this up.
    if let Some(mut stdin) = child.stdin.take() {
        let event = job.event.clone();
        std::thread::spawn(move || {
            let _ = stdin.write_all(event.as_bytes());
        });
    }
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut e, &mut buf) {
                if n == 0 {
                    break;
                }
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 8192 {
                    kept.drain(..kept.len() - 4096);
                }
            }
            String::from_utf8_lossy(&kept).into_owned()
        })
    });
    let deadline = Instant::now() + shared.timeout;
    let ended = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if shared.stop.load(Ordering::SeqCst) => {
                crate::handlers::signal_group(group, libc::SIGKILL);
                let _ = child.wait();
                tracing::debug!(task_id = job.task_id, event = %job.name, hook = %shown,
                    "hook stopped: tasker is exiting");
                // Left in `running`, it is counted as killed.
                return;
            }
            Ok(None) if Instant::now() >= deadline => {
                crate::handlers::signal_group(group, libc::SIGKILL);
                let _ = child.wait();
                tracing::warn!(task_id = job.task_id, event = %job.name, hook = %shown,
                    "hook timed out after {} and was killed", crate::templates::duration::human(shared.timeout));
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    // What the hook itself left running in its group goes with it.
    crate::handlers::signal_group(group, libc::SIGKILL);
    if shared.stop.load(Ordering::SeqCst) {
        // Killed at the exit: counted there, not reported one by one.
        return;
    }
    if let Ok(mut running) = shared.running.lock() {
        running.retain(|g| *g != group);
    }
    if let Some(status) = ended.filter(|s| !s.success()) {
        let err = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        tracing::warn!(task_id = job.task_id, event = %job.name, hook = %shown,
            "hook failed ({status}): {}", crate::text::printable(err.trim()));
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
