//! Hooks: commands run with an event's JSON on stdin, from `on:` in the template or the
//! config file. A hook never changes a task's outcome: a failure or a timeout is logged.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Event, Subscriber};
use crate::templates::{Hook, Program};

/// How long a hook may run before it is killed.
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

/// Runs hooks one after another on a thread of their own, so the run never waits for them.
pub struct Hooks {
    hooks: Vec<Hook>,
    tx: Option<mpsc::Sender<Job>>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hooks({})", self.hooks.len())
    }
}

impl Hooks {
    /// Hooks run in `cwd`, each for at most `timeout`.
    pub fn new(hooks: Vec<Hook>, cwd: std::path::PathBuf, timeout: Duration) -> Hooks {
        if hooks.is_empty() {
            return Hooks {
                hooks,
                tx: None,
                worker: None,
            };
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let worker = std::thread::spawn(move || {
            for job in rx {
                run_one(&job, &cwd, timeout);
            }
        });
        Hooks {
            hooks,
            tx: Some(tx),
            worker: Some(worker),
        }
    }

    /// Wait for the hooks already queued to finish (each bounded by its timeout).
    pub fn finish(&mut self) {
        self.tx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Subscriber for Hooks {
    fn on_event(&mut self, event: &Event) {
        let Some(tx) = &self.tx else { return };
        let name = event.name();
        for hook in self.hooks.iter().filter(|h| matches(&h.pattern, name)) {
            let _ = tx.send(Job {
                program: hook.program.clone(),
                event: event.to_json().to_string(),
                name: name.to_owned(),
                task_id: event.task_id,
            });
        }
    }
}

fn run_one(job: &Job, cwd: &std::path::Path, timeout: Duration) {
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
        .current_dir(cwd)
        .env("TASKER_EVENT_NAME", &job.name)
        .env("TASKER_TASK_ID", job.task_id.to_string())
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
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
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(job.event.as_bytes());
    }
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    tracing::warn!(task_id = job.task_id, event = %job.name, hook = %shown,
                        "hook failed ({status}): {}", err.trim());
                }
                return;
            }
            Ok(None) if Instant::now() >= deadline => {
                crate::handlers::signal_group(child.id() as i32, libc::SIGKILL);
                let _ = child.wait();
                tracing::warn!(task_id = job.task_id, event = %job.name, hook = %shown,
                    "hook timed out after {} and was killed", crate::templates::duration::human(timeout));
                return;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return,
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
