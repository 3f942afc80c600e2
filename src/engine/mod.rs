//! The engine: runs a stored task to its end through the [`Store`] trait.
//!
//! Two halves. The scheduler (`scheduler`, with `queue`, `retry`, `cancel` and `outcome`)
//! holds the run's state and makes every decision, with no I/O and time from an injected
//! clock. The driver (`run`) does the I/O around it in one loop: start what is ready
//! (committing `in_progress` first) → wait for an attempt to finish, a commit to land, a
//! retry to come due, the task deadline, a tick (cancel requests, heartbeat) or a signal →
//! hand the outcome to the scheduler → repeat. The writer (`writer`) commits off the
//! runtime's threads.

mod attempt;
mod inputs;
pub mod plan;

mod cancel;
mod outcome;
mod queue;
pub mod retry;
mod run;
mod scheduler;
pub mod worker;
mod writer;

use std::time::Duration;

use tokio::sync::watch;

use crate::events::Subscriber;
use crate::model::State;
use crate::store::{Store, StoreError, TaskId};
use crate::templates::Template;

pub use cancel::cancel_now;
pub use scheduler::parse_traceparent;

/// How a run behaves; the command line fills it.
#[derive(Clone)]
pub struct Options {
    /// Steps running at once; `None` uses the template's `max_parallel`, else the CPU count.
    pub concurrency: Option<usize>,
    /// Stop starting steps after the first step fails for good.
    pub fail_fast: bool,
    /// Between SIGTERM and SIGKILL when a step is stopped.
    pub kill_grace: Duration,
    /// Bytes of stdout and of stderr kept per attempt.
    pub output_limit: usize,
    /// The W3C `traceparent` the task's first run is a child of (`TRACEPARENT`).
    pub traceparent: Option<String>,
    /// Given each line a step writes, as it writes it (`--follow-output`).
    pub echo: Option<Echo>,
    /// Where the engine reads the time it records (starts, ends, retries due); tests give
    /// one that stands still.
    pub clock: std::sync::Arc<dyn Clock>,
}

/// The wall clock as the engine reads it, in milliseconds since the epoch.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::clock::now_ms()
    }
}

pub use crate::handlers::Echo;

/// Why a run stopped short of an end of its own.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed: what was committed stands.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runner could not make the directory its steps' files go in.
    #[error(
        "cannot create the runner's scratch directory `{}`: {source}\n  hint: steps' output and input documents go there; point TMPDIR at a writable directory with room",
        dir.display()
    )]
    Scratch {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: None,
            fail_fast: false,
            kill_grace: Duration::from_secs(10),
            output_limit: 1024 * 1024,
            traceparent: None,
            echo: None,
            clock: std::sync::Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("concurrency", &self.concurrency)
            .field("fail_fast", &self.fail_fast)
            .field("kill_grace", &self.kill_grace)
            .field("output_limit", &self.output_limit)
            .field("echo", &self.echo.is_some())
            .finish()
    }
}

/// A request from outside to stop the run (a signal to tasker itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Halt {
    #[default]
    None,
    /// Stop gracefully: SIGTERM to the steps, SIGKILL after the grace period.
    Signal(i32),
    /// A second signal: kill the steps at once.
    Kill(i32),
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Finish {
    pub state: State,
    /// The signal that interrupted the run, if one did; the task is then resumable.
    pub interrupted: Option<i32>,
    /// What the run cost the engine itself.
    pub stats: Stats,
    /// The task's steps as the run committed them (see `Store::task_head` for the rest):
    /// what a read of them would give when no one else wrote to the store meanwhile.
    pub steps: Option<Vec<crate::store::StepRecord>>,
}

/// What a run cost the engine: commits, and the time its loop was busy (not waiting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Transactions written.
    pub commits: u64,
    /// Milliseconds the engine's loop worked — deciding, recording, committing — rather
    /// than waiting for processes, timers or signals.
    pub busy_ms: u64,
}

/// Run task `task_id` (created from `template`) on `runtime` until it ends or `halt` stops
/// it, driven from this thread (outside the runtime).
///
/// The run first claims the task (refused while another live runner owns it), then takes
/// over whatever state the task is in: a new task, an interrupted one, an orphan whose
/// runner died, or a task in `error` to continue after an operator resolved a step.
///
/// On a runtime of one thread, the engine, every attempt's process and the commits share
/// this thread: nothing is handed between threads. On a pool, the store gets a thread of
/// its own (the writer), so store work never blocks the runtime's threads.
#[expect(
    clippy::too_many_arguments,
    reason = "the run's parts, and the runtime"
)]
pub fn run(
    runtime: &tokio::runtime::Runtime,
    store: &mut dyn Store,
    task_id: TaskId,
    known: Option<Known>,
    template: &std::sync::Arc<Template>,
    options: &Options,
    subscriber: &mut dyn Subscriber,
    halt: watch::Receiver<Halt>,
) -> Result<Finish, RunError> {
    let start = |writer: &writer::Writer<'_, '_>| {
        runtime.block_on(run::Run::start(
            writer, task_id, known, template, options, subscriber, halt,
        ))
    };
    match runtime.handle().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::CurrentThread => {
            let shared: writer::Shared<'_> = std::sync::Mutex::new(store);
            start(&writer::Writer::here(&shared))
        }
        _ => with_writer(store, start),
    }
}

/// `f` with the store shared between this thread and a writer thread of its own, which
/// ends with `f`.
fn with_writer<T>(store: &mut dyn Store, f: impl FnOnce(&writer::Writer<'_, '_>) -> T) -> T {
    let shared: writer::Shared<'_> = std::sync::Mutex::new(store);
    std::thread::scope(|scope| {
        let (jobs, queue) = std::sync::mpsc::channel();
        let on_thread = &shared;
        scope.spawn(move || writer::serve(on_thread, queue));
        let writer = writer::Writer::new(jobs, &shared);
        f(&writer)
    })
}

/// The task as the command read it, and the store's [`data_version`](Store::data_version)
/// read just before: the run takes it as its own when nothing was committed from elsewhere
/// since, instead of reading the task again.
pub struct Known {
    pub task: crate::store::TaskRecord,
    pub version: i64,
}

/// Start task `task_id` (just created from `template`) for workers to run: it moves to
/// `in_progress` with the events of its start and its place in the trace, and no runner
/// owns it.
pub fn submit(
    store: &mut dyn Store,
    task_id: TaskId,
    template: &Template,
    options: &Options,
) -> Result<(), RunError> {
    let task = store.task(task_id)?.ok_or_else(|| {
        StoreError::Corrupt(format!("task {task_id} vanished as it was submitted"))
    })?;
    let next_seq = store.last_event_seq(task_id)? + 1;
    let mut sched = scheduler::Scheduler::new(
        task,
        std::sync::Arc::new(template.clone()),
        options,
        next_seq,
    )?;
    sched.place_in_trace(options.traceparent.as_deref());
    sched.take_over()?;
    let mut changes = std::mem::take(&mut sched.batch);
    changes.extend(sched.events.iter().map(crate::store::Change::event));
    store.commit(&changes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Ignore;
    use crate::store::{NewTask, SqliteStore};

    /// A clock that stands still.
    struct Still(i64);

    impl Clock for Still {
        fn now_ms(&self) -> i64 {
            self.0
        }
    }

    /// The times the engine records are its clock's: a run under a clock that stands still
    /// records every start and end at that instant.
    #[test]
    fn recorded_times_come_from_the_injected_clock() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = SqliteStore::open(&dir.path().join("t.db"), false).expect("store");
        let template = crate::templates::from_str(
            "name: still\nsteps:\n  - { name: a, noop: true }\n  - { name: b, noop: true, depends_on: [a] }\n",
            "still.yml",
        )
        .expect("template");
        let id = store
            .create_task(&NewTask::for_tests(&template, &serde_json::json!({})))
            .expect("create")
            .task_id();
        let options = Options {
            clock: std::sync::Arc::new(Still(1_000_000)),
            ..Options::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (_halt_tx, halt) = watch::channel(Halt::None);
        let finish = run(
            &runtime,
            &mut store,
            id,
            None,
            &std::sync::Arc::new(template),
            &options,
            &mut Ignore,
            halt,
        )
        .expect("run");
        assert_eq!(finish.state, State::Complete);
        let task = store.task(id).expect("read").expect("task");
        for s in &task.steps {
            assert_eq!(s.state.started_at, Some(1_000_000), "{}", s.name);
            assert_eq!(s.state.finished_at, Some(1_000_000), "{}", s.name);
        }
    }

    /// The run takes the command's read of the task as its own only while nothing was
    /// committed from elsewhere: a step another process finished in between is not run
    /// again (the stale read would have it pending), and an unchanged store runs as read.
    #[test]
    fn a_read_the_store_moved_past_is_read_again() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let mut store = SqliteStore::open(&path, false).expect("store");
        let template = std::sync::Arc::new(
            crate::templates::from_str(
                "name: known\nsteps:\n  - { name: a, noop: true }\n  - { name: b, noop: true, depends_on: [a] }\n",
                "known.yml",
            )
            .expect("template"),
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for moved in [false, true] {
            let id = store
                .create_task(&NewTask::for_tests(&template, &serde_json::json!({})))
                .expect("create")
                .task_id();
            let version = store.data_version().expect("version").expect("sqlite");
            let task = store.task(id).expect("read").expect("task");
            if moved {
                // Another connection finishes step `a` after the read.
                let other = rusqlite::Connection::open(&path).expect("open");
                other
                    .execute(
                        "UPDATE workflow_steps SET status = 'complete', results = '{\"by\": \"other\"}'
                         WHERE task_id = ?1 AND name = 'a'",
                        [id],
                    )
                    .expect("update");
            }
            let (_halt_tx, halt) = watch::channel(Halt::None);
            let finish = run(
                &runtime,
                &mut store,
                id,
                Some(Known { task, version }),
                &template,
                &Options::default(),
                &mut Ignore,
                halt,
            )
            .expect("run");
            assert_eq!(finish.state, State::Complete, "moved: {moved}");
            let after = store.task(id).expect("read").expect("task");
            let a = &after.steps[0];
            assert_eq!(a.state.attempts, u32::from(!moved), "moved: {moved}");
            if moved {
                assert_eq!(a.state.results, Some(serde_json::json!({"by": "other"})));
            }
            assert_eq!(after.steps[1].state.attempts, 1, "moved: {moved}");
        }
    }
}
