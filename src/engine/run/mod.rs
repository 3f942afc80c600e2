//! The driver: the I/O around the scheduler. It claims the task, takes over what an earlier
//! runner left, commits what the scheduler decides (through the writer), launches the
//! steps it starts, waits for attempts, timers and signals, and tells subscribers what is
//! durable. Every decision about the task is the scheduler's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::scheduler::{Done, Scheduler, Signal};
use super::writer::{InFlight, Writer};
use super::{Finish, Halt, Known, Options, RunError};
use crate::events::{Event, Subscriber};
use crate::handlers::{self, Handler};
use crate::runner::{input_dir, make_scratch, owner, scratch_dir, sweep_dead_runners};
use crate::store::{Change, Owner, StoreError, TaskId};
use crate::templates::Template;

mod commit;
mod control;
mod launch;
mod wait;

/// How often the loop looks for cancel requests.
const TICK: Duration = Duration::from_millis(250);
/// How often the owner's heartbeat is written.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// A started process is recorded with the next commit, and at the latest this long after it
/// started: a short step's pid costs no commit of its own. A runner that dies before then
/// leaves the process findable by the marks in its environment (`kill_marked`).
const RECORD_PROCESS_WITHIN: Duration = Duration::from_millis(10);

/// A step's process side: how to stop its running attempt, and what runs it.
struct Proc {
    /// Stops the running attempt: gracefully, or at once.
    abort: Option<watch::Sender<handlers::Abort>>,
    /// Its current attempt's process is not yet known to have started.
    unrecorded: bool,
    handler: Arc<dyn Handler>,
}

pub(super) struct Run<'a> {
    sched: Scheduler,
    options: &'a Options,
    subscriber: &'a mut dyn Subscriber,
    halt: watch::Receiver<Halt>,
    halt_open: bool,
    owner: Owner,
    procs: Vec<Proc>,
    /// Problems worth a word that change nothing (bad `TASKER_EVENTS` lines).
    warnings: Vec<String>,
    /// Steps whose start is in the batch being gathered: launched once it is durable.
    to_launch: Vec<usize>,
    /// Started processes not yet recorded, and when they must be at the latest.
    pids: Vec<Change>,
    pids_due: Option<Instant>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    /// Processes started and not yet taken into `pids`.
    spawned: Arc<std::sync::Mutex<Vec<handlers::Started>>>,
    /// Attempts whose process is not yet known to have started.
    unrecorded: usize,
    scratch: PathBuf,
    /// Where input documents are written (may be `scratch`).
    inputs: PathBuf,
    /// The last cancel request seen.
    cancel_seen: i64,
    next_tick: Instant,
    next_beat: Instant,
    /// Commits written and time busy, for `--summary-json`.
    stats: super::Stats,
    /// The batch the writer is committing, with what waits for it: its events, its
    /// warnings, and the steps it starts.
    in_flight: Option<(InFlight, Landing)>,
}

/// What waits for a batch to be durable.
struct Landing {
    events: Vec<Event>,
    warnings: Vec<String>,
    launch: Vec<usize>,
}

impl<'a> Run<'a> {
    pub(super) async fn start(
        writer: &Writer<'_, '_>,
        task_id: TaskId,
        known: Option<Known>,
        template: &'a Arc<Template>,
        options: &'a Options,
        subscriber: &'a mut dyn Subscriber,
        halt: watch::Receiver<Halt>,
    ) -> Result<Finish, RunError> {
        let owner = owner::this_process();
        // The scratch space first: a runner that cannot have it claims nothing.
        let mut dirs = vec![scratch_dir(task_id, &owner)];
        let inputs = input_dir(task_id, &owner);
        if inputs != dirs[0] {
            dirs.push(inputs);
        }
        let remove = |dirs: &[PathBuf]| {
            for d in dirs {
                let _ = std::fs::remove_dir_all(d);
            }
        };
        for dir in &dirs {
            if let Err(source) = make_scratch(dir) {
                remove(&dirs);
                return Err(RunError::Scratch {
                    dir: dir.clone(),
                    source,
                });
            }
        }
        let claimant = owner.clone();
        let claimed = writer.call(move |store| {
            let beat = store.claim(task_id, &claimant, &owner::alive)?;
            tracing::info!(task_id, pid = claimant.pid, host = %claimant.host, "claimed the task");
            // Nothing was committed from elsewhere since the command read the task: what it
            // read is what the store holds, but for the claim just made. Otherwise the read
            // is dropped before the task is read again (one copy of its steps at a time).
            let current = match known {
                Some(Known { mut task, version })
                    if task.task_id == task_id && store.data_version()? == Some(version) =>
                {
                    task.owner = Some(claimant.clone());
                    task.heartbeat_at = Some(beat);
                    Some(task)
                }
                Some(_) => {
                    tracing::debug!(
                        task_id,
                        "the store changed since the task was read: reading it again"
                    );
                    None
                }
                None => None,
            };
            let task = match current {
                Some(task) => task,
                None => store.task(task_id)?.ok_or_else(|| {
                    StoreError::Corrupt(format!("task {task_id} vanished while it was claimed"))
                })?,
            };
            Ok((
                task,
                store.last_event_seq(task_id)? + 1,
                store.restates_events(),
            ))
        });
        let (task, next_seq, restate) = match claimed {
            Ok(c) => c,
            Err(e) => {
                remove(&dirs);
                return Err(e.into());
            }
        };
        let swept = sweep_dead_runners();
        if swept > 0 {
            tracing::info!(task_id, swept, "removed what dead runners left behind");
        }
        let sched = match Scheduler::new(task, Arc::clone(template), options, next_seq) {
            Ok(mut sched) => {
                sched.restate = restate;
                sched
            }
            Err(e) => {
                remove(&dirs);
                return Err(e.into());
            }
        };
        let mut run = Run::new(sched, options, subscriber, halt, owner);
        let result = run.drive(writer).await.map_err(RunError::from);
        if result.is_err() {
            run.abandon().await;
        }
        let _ = std::fs::remove_dir_all(&run.scratch);
        let _ = std::fs::remove_dir_all(&run.inputs);
        result
    }

    fn new(
        sched: Scheduler,
        options: &'a Options,
        subscriber: &'a mut dyn Subscriber,
        halt: watch::Receiver<Halt>,
        owner: Owner,
    ) -> Run<'a> {
        let procs = sched
            .template
            .steps
            .iter()
            .map(|step| Proc {
                abort: None,
                unrecorded: false,
                handler: handlers::for_action(&step.action),
            })
            .collect();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let scratch = scratch_dir(sched.task.task_id, &owner);
        let inputs = input_dir(sched.task.task_id, &owner);
        let now = Instant::now();
        Run {
            sched,
            options,
            subscriber,
            halt,
            halt_open: true,
            owner,
            procs,
            warnings: Vec::new(),
            to_launch: Vec::new(),
            pids: Vec::new(),
            pids_due: None,
            done_tx,
            done_rx,
            spawned: Arc::default(),
            unrecorded: 0,
            scratch,
            inputs,
            cancel_seen: 0,
            next_tick: now,
            next_beat: now + HEARTBEAT,
            stats: super::Stats::default(),
            in_flight: None,
        }
    }

    async fn drive(&mut self, writer: &Writer<'_, '_>) -> Result<Finish, StoreError> {
        let started = self.sched.now();
        // Cancel requests made before this run are not for it.
        let task_id = self.sched.task.task_id;
        self.cancel_seen = writer
            .call(move |store| store.annotations(task_id, "cancel_request", 0))?
            .last()
            .map_or(0, |(id, _)| *id);
        self.take_over(writer)?;
        // The loop's time not spent waiting.
        let mut busy = Duration::ZERO;
        let mut busy_since = std::time::Instant::now();
        loop {
            let ticked = Instant::now() >= self.next_tick;
            if ticked {
                self.tick(writer)?;
            }
            let signals = self.sched.advance();
            self.signal(&signals);
            let launch = self.sched.start_ready();
            self.to_launch.extend(launch);
            // The batch goes to the writer; its steps launch once it is durable.
            self.send(writer, ticked)?;
            let settled = self.in_flight.is_none() && self.sched.batch.is_empty();
            if settled && self.sched.is_over() {
                break;
            }
            if settled && self.sched.announce_idle() {
                // Only retries remain, and none is due: say so, then sleep.
                self.flush(writer).await?;
            }
            busy += busy_since.elapsed();
            self.wait().await?;
            busy_since = std::time::Instant::now();
        }
        busy += busy_since.elapsed();
        self.stats.busy_ms = busy.as_millis() as u64;
        let (state, interrupted) = self.sched.finish(started);
        self.flush(writer).await?;
        Ok(Finish {
            state,
            interrupted,
            stats: self.stats,
            steps: self.sched.steps_as_left(),
        })
    }

    /// Take over what an earlier runner left: the processes of attempts it had running may
    /// still run, and must not run twice at once, so they are stopped first.
    fn take_over(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        self.sched
            .place_in_trace(self.options.traceparent.as_deref());
        let left: Vec<(usize, u32)> = self.sched.left_running().collect();
        for (i, attempt) in left {
            let step_id = self.sched.task.steps[i].step_id;
            match writer
                .call(move |store| store.attempts(step_id))?
                .into_iter()
                .find(|a| a.attempt == attempt)
                .and_then(|a| a.process)
            {
                Some((pid, started)) => handlers::kill_leftovers(pid, started),
                // Started but not yet recorded: found by the marks it was given.
                None => {
                    handlers::kill_marked(&[
                        format!("TASKER_TASK_UUID={}", self.sched.task.uuid),
                        format!("TASKER_STEP_NAME={}", self.sched.template.steps[i].name),
                        format!("TASKER_ATTEMPT={attempt}"),
                    ]);
                }
            }
        }
        self.sched.take_over()
    }

    /// Deliver the scheduler's signals to the running attempts they name.
    fn signal(&self, signals: &[Signal]) {
        for &(i, level) in signals {
            if let Some(abort) = &self.procs[i].abort {
                let _ = abort.send(level);
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// `ms` on the run's clock, as an instant on the runtime's timer (`now` is the clock's now).
fn instant_at(ms: i64, now: i64) -> Instant {
    Instant::now() + Duration::from_millis((ms - now).max(0) as u64)
}
