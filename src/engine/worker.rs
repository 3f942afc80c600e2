//! `tasker worker`: a long-running process that claims ready steps of any task in a shared
//! store (PostgreSQL) and runs them with the same handlers, retries, timeouts, output
//! capture and events as `run`. The database is the only thing workers share.
//!
//! One loop on the calling thread does the store's work; attempts run on the runtime given.
//! Each claimed attempt is decided by a [`Scheduler`] built from the task's snapshot, as a
//! runner decides it; the claim, the attempt's end and the task's end are each one call.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::attempt::Place;
use super::scheduler::{Adopted, Done, Scheduler};
use super::{Halt, Options, RunError};
use crate::events::{Event, Subscriber, What};
use crate::handlers::{self, Abort, Outcome};
use crate::model::{FailureClass, State};
use crate::runner::{input_dir, make_scratch, owner, scratch_dir};
use crate::store::{
    Change, ClaimFilter, Claimed, Failure, PgStore, PgUrl, StepId, Store, StoreError, TaskId,
    TaskRecord,
};
use crate::templates::{Action, Template};

/// How a worker behaves; `tasker worker`'s flags fill it.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How the worker is known (`host:pid` by default).
    pub id: String,
    /// Steps running at once.
    pub concurrency: usize,
    /// Which tasks' steps it takes.
    pub filter: ClaimFilter,
    /// Finish what it holds, claim nothing, and exit.
    pub drain: bool,
    /// Run until nothing is ready, then exit.
    pub once: bool,
    /// A worker silent this long is taken for dead, and its steps are taken back.
    pub grace: Duration,
    /// How often the store is asked for ready steps when no notification comes.
    pub poll: Duration,
    /// What each attempt is given (kill grace, output limit, the clock).
    pub run: Options,
    /// The task this process owns and runs in the foreground (`tasker run` on a shared
    /// store), with workers helping: only its steps are claimed, its events are told to the
    /// subscriber as the store records them (whoever ran the step), and its end is this
    /// process's to decide. `None` for `tasker worker`.
    pub owned: Option<Owned>,
}

/// The task a foreground run owns, as [`own`] took it.
#[derive(Debug, Clone)]
pub struct Owned {
    pub task_id: TaskId,
    /// Its events up to this one were told already.
    pub told: u64,
    /// This run's place in the task's trace: the events read back from the store are
    /// placed in it (every process names a step's and an attempt's spans alike).
    pub trace: crate::events::TraceRef,
    /// Its steps' ids by name.
    pub steps: HashMap<String, StepId>,
    /// The first event of this run (those before it have no place in its trace).
    pub run_from: u64,
    /// The last cancel request made before this run took the task (not for it).
    pub cancels_before: i64,
}

/// How a worker ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerEnd {
    /// Attempts it ran to an end it recorded.
    pub attempts: u64,
    /// The signal that stopped it, if one did.
    pub signal: Option<i32>,
    /// How the owned task ended (`pending` when a signal stopped the run), if it ended here.
    pub state: Option<State>,
}

/// What wakes the loop.
enum Msg {
    Done(StepId, Box<Done>),
    Ready,
    Halt(Halt),
}

/// An attempt this worker holds.
struct Held {
    task_id: TaskId,
    template: Arc<Template>,
    index: usize,
    attempt: u32,
    adopted: Adopted,
    abort: watch::Sender<Abort>,
    /// Its claim was taken back (or the step cancelled): its end is not recorded.
    lost: bool,
    /// It runs a process whose pid is not recorded yet.
    unrecorded: bool,
    /// Which of this worker's attempts it is, to tell which one started a process.
    number: usize,
    /// Its process (pid, start time), to record.
    process: Option<(u32, i64)>,
    scratch: PathBuf,
    inputs: PathBuf,
}

/// The templates of the tasks this worker has run steps of, by task.
type Templates = HashMap<TaskId, Arc<Template>>;

/// For the crash tests: with `TASKER_TEST_CRASH` naming `point` (`after-claim`,
/// `after-spawn`, `before-complete`, `after-complete`), the worker aborts there, as a
/// machine that dies would leave it.
fn crash_point(point: &str) {
    if std::env::var("TASKER_TEST_CRASH").is_ok_and(|p| p == point) {
        eprintln!("TASKER_TEST_CRASH: aborting {point}");
        std::process::abort();
    }
}

/// Given each task whose end this worker recorded (a task no runner owns), with its events
/// placed in its trace: spans and metrics are exported once per task, by whoever ends it.
pub type Ended<'a> = &'a mut dyn FnMut(&TaskRecord, &[Event]);

/// Serve the store at `url` until drained, done (`once`) or stopped. `load` reads a task's
/// template from its snapshot (with this worker's handler configuration).
#[expect(clippy::too_many_arguments, reason = "what a worker is given")]
pub fn serve(
    store: &mut PgStore,
    url: &PgUrl,
    opts: &WorkerOptions,
    load: &dyn Fn(&TaskRecord) -> Result<Template, String>,
    subscriber: &mut dyn Subscriber,
    ended: Option<Ended<'_>>,
    mut halt: watch::Receiver<Halt>,
    runtime: &tokio::runtime::Handle,
) -> Result<WorkerEnd, RunError> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let wake = tx.clone();
    let _listener = PgStore::listen(
        url,
        Box::new(move || {
            let _ = wake.send(Msg::Ready);
        }),
    )?;
    {
        let tx = tx.clone();
        runtime.spawn(async move {
            while halt.changed().await.is_ok() {
                let h = *halt.borrow_and_update();
                if tx.send(Msg::Halt(h)).is_err() {
                    break;
                }
            }
        });
    }
    let me = owner::this_process();
    let grace_ms = opts.grace.as_millis() as i64;
    store.register_worker(&opts.id, &me.host, me.pid, grace_ms)?;
    tracing::info!(worker = %opts.id, "worker started");
    let mut w = Worker {
        store,
        opts,
        load,
        subscriber,
        // (Matched so that the callback's lifetime shortens to the worker's.)
        exporter: match ended {
            Some(e) => Some(e),
            None => None,
        },
        runtime,
        tx,
        held: HashMap::new(),
        templates: HashMap::new(),
        schedulers: HashMap::new(),
        ended: Vec::new(),
        draining: opts.drain,
        end: WorkerEnd::default(),
        owner: me,
        spawned: Arc::default(),
        zombies: Vec::new(),
        starts_due: None,
        attempts_started: 0,
        scratched: std::collections::HashSet::new(),
        told: opts.owned.as_ref().map_or(0, |o| o.told),
        over: false,
        closed_at: None,
        cancel_seen: opts.owned.as_ref().map_or(0, |o| o.cancels_before),
    };
    // A store that fails for a moment (a deadlock, a lost connection) is tried again with
    // backoff, on a new connection; what the worker holds runs on meanwhile.
    let mut delay = Duration::from_millis(200);
    let result = loop {
        match w.run(&rx) {
            // A foreground run whose connection is lost stops (its steps are taken back
            // later) and says how to go on.
            Err(RunError::Store(StoreError::Backend { kind, message }))
                if kind == Failure::Busy || (kind == Failure::Io && opts.owned.is_none()) =>
            {
                w.subscriber.warning(
                    0,
                    &format!(
                        "the store failed ({message}); trying again in {}",
                        crate::templates::duration::human(delay)
                    ),
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(10));
                if kind == Failure::Io {
                    match PgStore::open(url) {
                        Ok(s) => *w.store = s,
                        Err(_) => continue,
                    }
                    let held: Vec<StepId> = w.held.keys().copied().collect();
                    let _ = w
                        .store
                        .register_worker(&opts.id, &w.owner.host, w.owner.pid, grace_ms);
                    let _ = w.store.disown(&opts.id, &held);
                }
            }
            other => break other,
        }
    };
    // Whatever happened, what still runs is stopped; the store takes it back later.
    for h in w.held.values().chain(w.zombies.iter().map(|(_, z)| z)) {
        let _ = h.abort.send(Abort::Kill);
    }
    for task_id in std::mem::take(&mut w.scratched) {
        w.remove_scratch(task_id);
    }
    if result.is_ok() {
        w.store.unregister_worker(&opts.id)?;
    }
    result.map(|()| w.end)
}

struct Worker<'a> {
    store: &'a mut PgStore,
    opts: &'a WorkerOptions,
    load: &'a dyn Fn(&TaskRecord) -> Result<Template, String>,
    subscriber: &'a mut dyn Subscriber,
    /// Whoever exports the spans and metrics of the tasks this worker ends.
    exporter: Option<Ended<'a>>,
    runtime: &'a tokio::runtime::Handle,
    tx: mpsc::Sender<Msg>,
    held: HashMap<StepId, Held>,
    templates: Templates,
    /// A scheduler for each task this worker runs steps of: the task as it last read or
    /// wrote it.
    schedulers: HashMap<TaskId, Scheduler>,
    /// Attempts that ended as they started, recorded with their claim's others.
    ended: Vec<(StepId, Done)>,
    draining: bool,
    end: WorkerEnd,
    owner: crate::store::Owner,
    /// Processes its attempts started, to record (the pid of each, so that whoever takes
    /// the step over can stop what is left of it).
    spawned: Arc<std::sync::Mutex<Vec<handlers::Started>>>,
    /// When the starts not yet recorded must be, at the latest.
    starts_due: Option<Instant>,
    /// Attempts whose step this worker claimed again (the earlier claim was taken back):
    /// stopped, and their ends ignored when they come.
    zombies: Vec<(StepId, Held)>,
    attempts_started: usize,
    /// Tasks whose scratch directories this worker made.
    scratched: std::collections::HashSet<TaskId>,
    /// Of the owned task: the last event told, and whether it is over (ended, or left).
    told: u64,
    over: bool,
    /// When the owned task was closed to claims (a step failed for good under
    /// `--fail-fast`): it ends once nothing of it runs.
    closed_at: Option<Instant>,
    /// The last cancel request acted on.
    cancel_seen: i64,
}

impl Worker<'_> {
    fn run(&mut self, rx: &mpsc::Receiver<Msg>) -> Result<(), RunError> {
        let beat = (self.opts.grace / 4).clamp(Duration::from_millis(100), Duration::from_secs(2));
        // Claims are looked at often enough that a cancel stops a step within a second.
        let check = beat.min(Duration::from_millis(500));
        let mut next_beat = Instant::now();
        let mut next_check = Instant::now();
        let mut next_rescue = Instant::now();
        let mut next_lease = Instant::now();
        let mut next_requests = Instant::now();
        let mut next_tell = Instant::now();
        let owned = self.opts.owned.as_ref().map(|o| o.task_id);
        loop {
            let now = Instant::now();
            if let Some(task_id) = owned {
                if now >= next_lease {
                    // The owner's lease: another runner taking the task over ends this run.
                    next_lease = now + OWNER_LEASE;
                    self.store.heartbeat(task_id, &self.owner)?;
                }
                if now >= next_requests {
                    next_requests = now + REQUESTS_EVERY;
                    self.cancel_requests(task_id)?;
                }
                // What the store recorded of the task is read back every TELL_EVERY, and at
                // once when this run ended it.
                if now >= next_tell || self.over {
                    next_tell = now + TELL_EVERY;
                    self.tell_owned(task_id)?;
                }
                if self.over {
                    // Ended (or taken over): what still runs here is stopped, unrecorded.
                    self.draining = true;
                    for h in self.held.values_mut() {
                        if !h.lost {
                            h.lost = true;
                            let _ = h.abort.send(Abort::Stop);
                        }
                    }
                    if self.held.is_empty() {
                        return Ok(());
                    }
                }
            }
            if now >= next_check && !self.held.is_empty() {
                next_check = now + check;
                self.check_claims()?;
            }
            if now >= next_beat {
                next_beat = now + beat;
                if !self.store.worker_heartbeat(&self.opts.id, self.draining)? {
                    // Taken for dead: what it held was taken back. It carries on, known again.
                    self.store.register_worker(
                        &self.opts.id,
                        &self.owner.host,
                        self.owner.pid,
                        self.opts.grace.as_millis() as i64,
                    )?;
                }
            }
            if now >= next_rescue {
                next_rescue = now + (self.opts.grace / 2).max(Duration::from_millis(200));
                self.rescue()?;
                // What is kept of tasks this worker holds nothing of goes (another worker may
                // have ended them): a long-running worker keeps only what it uses.
                let busy: std::collections::HashSet<TaskId> =
                    self.held.values().map(|h| h.task_id).chain(owned).collect();
                self.schedulers.retain(|t, _| busy.contains(t));
                self.templates.retain(|t, _| busy.contains(t));
                let gone: Vec<TaskId> = self
                    .scratched
                    .iter()
                    .filter(|t| !busy.contains(t))
                    .copied()
                    .collect();
                for task_id in gone {
                    self.remove_scratch(task_id);
                }
                // Tasks whose end fell to a worker that died before deciding it.
                for task_id in self.store.settled_tasks()? {
                    self.finish_task(task_id)?;
                }
            }
            let deadlines = self.deadlines();
            let free = self.opts.concurrency.saturating_sub(self.held.len());
            let mut claimed = 0;
            if !self.draining && free > 0 {
                let got = self
                    .store
                    .claim_steps(&self.opts.id, free, &self.opts.filter)?;
                claimed = got.len();
                if claimed > 0 {
                    crash_point("after-claim");
                }
                // Each task's steps claimed together are announced once, with the first.
                let mut by_task: HashMap<TaskId, Vec<usize>> = HashMap::new();
                for c in &got {
                    by_task.entry(c.task_id).or_default().push(c.position);
                }
                for c in got {
                    let discovered = by_task.remove(&c.task_id);
                    self.start(c, discovered)?;
                }
                let ended = std::mem::take(&mut self.ended);
                self.finished(ended)?;
            }
            if let Some(task_id) = owned
                && self.held.is_empty()
                && !self.over
            {
                if let Some(sig) = self.end.signal {
                    // Stopped by a signal, what it ran is recorded: the task waits for
                    // `resume`.
                    return self.interrupt(task_id, sig);
                }
                if claimed == 0 && !self.settling() && !self.store.task_busy(task_id)? {
                    // Nothing of it runs anywhere, nothing is ready: its end is due.
                    self.finish_task(task_id)?;
                    if self.over {
                        continue;
                    }
                }
            } else if self.held.is_empty() && (self.draining || (self.opts.once && claimed == 0)) {
                return Ok(());
            }
            if claimed > 0 && self.held.len() < self.opts.concurrency {
                // There may be more ready: ask again before sleeping.
                continue;
            }
            let mut timeout = self.opts.poll.min(next_beat.saturating_duration_since(now));
            if let Some(due) = self.record_started()? {
                timeout = timeout.min(due.saturating_duration_since(Instant::now()));
            }
            if owned.is_some() {
                // What other workers record is told as it comes.
                timeout = timeout.min(TELL_EVERY);
            }
            if !self.held.is_empty() {
                timeout = timeout.min(next_check.saturating_duration_since(now));
            }
            if deadlines {
                // A deadline is looked at four times a second while one runs.
                timeout = timeout.min(Duration::from_millis(250));
            }
            if claimed == 0
                && let Some(due) = self.store.next_retry()?
            {
                let wait = (due - self.opts.run.clock.now_ms()).max(0) as u64;
                timeout = timeout.min(Duration::from_millis(wait));
            }
            let first = match rx.recv_timeout(timeout) {
                Ok(m) => Some(m),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            };
            // Attempts that ended together are recorded together.
            let mut dones = Vec::new();
            for msg in first
                .into_iter()
                .chain(std::iter::from_fn(|| rx.try_recv().ok()))
            {
                match msg {
                    Msg::Done(step, done) => dones.push((step, *done)),
                    Msg::Ready => {}
                    Msg::Halt(Halt::None) => {}
                    Msg::Halt(Halt::Signal(sig)) if owned.is_some() => {
                        // A foreground run stops as `run` does on one machine: its steps are
                        // stopped and recorded interrupted, and the task waits for `resume`.
                        let message = if self.held.is_empty() {
                            "stopping".to_owned()
                        } else {
                            format!(
                                "stopping: {} running; again to kill at once",
                                crate::text::count(self.held.len(), "step")
                            )
                        };
                        self.subscriber.stopping(&message);
                        self.draining = true;
                        self.end.signal = Some(sig);
                        for h in self.held.values() {
                            let _ = h.abort.send(Abort::Stop);
                        }
                    }
                    Msg::Halt(Halt::Signal(sig)) => {
                        // Finish what it holds, claim nothing more.
                        self.subscriber.stopping(&format!(
                            "draining: {} running; again to stop them at once",
                            crate::text::count(self.held.len(), "step")
                        ));
                        self.draining = true;
                        self.end.signal = Some(sig);
                    }
                    Msg::Halt(Halt::Kill(sig)) => {
                        self.subscriber.stopping("stopping the running steps now");
                        self.draining = true;
                        self.end.signal = Some(sig);
                        for h in self.held.values() {
                            let _ = h.abort.send(Abort::Kill);
                        }
                    }
                }
            }
            self.finished(dones)?;
        }
    }

    /// Stop the attempts of tasks past their deadline (their ends are recorded as
    /// timeouts); whether any task this worker runs has a deadline.
    fn deadlines(&mut self) -> bool {
        let mut any = false;
        let mut signals = Vec::new();
        for (task_id, sched) in &mut self.schedulers {
            if !sched.has_deadline() || sched.running() == 0 {
                continue;
            }
            any = true;
            signals.extend(sched.advance().into_iter().map(|s| (*task_id, s)));
        }
        for (task_id, (index, level)) in signals {
            for h in self.held.values() {
                if h.task_id == task_id && h.index == index {
                    let _ = h.abort.send(level);
                }
            }
        }
        any
    }

    /// The template of `task`, read from its snapshot once.
    fn template(&mut self, task: &TaskRecord) -> Result<Arc<Template>, String> {
        if let Some(t) = self.templates.get(&task.task_id) {
            return Ok(Arc::clone(t));
        }
        let t = Arc::new((self.load)(task)?);
        self.templates.insert(task.task_id, Arc::clone(&t));
        Ok(t)
    }

    /// The scheduler of claim `c`'s task, the claim taken into it: the one kept since this
    /// worker last read or wrote the task, when nobody else has worked on the step since and
    /// its parents' results are there; else one built from the task read again. `Err` with
    /// the reason when this worker cannot read the task's template.
    fn scheduler(&mut self, c: &Claimed) -> Result<Result<&mut Scheduler, String>, RunError> {
        let fresh = self.schedulers.get(&c.task_id).is_some_and(|s| {
            s.steps.get(c.position).is_some_and(|step| {
                step.state.attempts + 1 == c.attempt
                    && s.dag
                        .parents(c.position)
                        .all(|p| s.steps[p].status.is_satisfied())
            })
        });
        if fresh {
            let sched = self.schedulers.get_mut(&c.task_id).expect("kept");
            let now = sched.now();
            let step = &mut sched.steps[c.position];
            step.status = State::InProgress;
            step.state.attempts = c.attempt;
            step.state.started_at.get_or_insert(now);
            step.state.finished_at = None;
            step.state.next_retry_at = None;
            return Ok(Ok(sched));
        }
        let task = self.store.task(c.task_id)?.ok_or_else(|| {
            StoreError::Corrupt(format!("task {} vanished while claimed", c.task_id))
        })?;
        let template = match self.template(&task) {
            Ok(t) => t,
            Err(why) => return Ok(Err(why)),
        };
        let mut sched = scheduler_of(task, template, &self.opts.run)?;
        // Steps of the task this worker still runs: they stay running in the new one.
        for h in self.held.values().filter(|h| h.task_id == c.task_id) {
            sched.readopt(h.index, &h.adopted);
        }
        self.schedulers.insert(c.task_id, sched);
        Ok(Ok(self.schedulers.get_mut(&c.task_id).expect("kept")))
    }

    /// Start the attempt just claimed; `discovered` holds the positions of its task's steps
    /// claimed with it, announced (`workflow.viable_steps_discovered`) with this one.
    fn start(&mut self, c: Claimed, discovered: Option<Vec<usize>>) -> Result<(), RunError> {
        let sched = match self.scheduler(&c)? {
            Ok(sched) => sched,
            Err(why) => {
                // This worker cannot read the template (a handler it has no command for):
                // the attempt fails, retryable, for a worker that can.
                self.subscriber.warning(
                    c.task_id,
                    &format!("this worker cannot run task {}: {why}", c.task_id),
                );
                return self.fail_at_once(c, &why);
            }
        };
        if let Some(positions) = discovered {
            let steps: Vec<String> = positions.iter().map(|&i| sched.name(i)).collect();
            sched.emit(What::WorkflowViableStepsDiscovered {
                count: steps.len() as u64,
                steps,
            });
        }
        let adopted = sched.adopt(c.position, c.was, c.ready_at);
        let template = Arc::clone(&sched.template);
        let (abort_tx, abort_rx) = watch::channel(Abort::None);
        let scratch = scratch_dir(c.task_id, &self.owner);
        let inputs = input_dir(c.task_id, &self.owner);
        if !self.scratched.contains(&c.task_id) {
            // Made (afresh) once per task: its attempts running here share it.
            for dir in [&scratch, &inputs] {
                make_scratch(dir).map_err(|source| RunError::Scratch {
                    dir: dir.clone(),
                    source,
                })?;
            }
            self.scratched.insert(c.task_id);
        }
        let step = &template.steps[c.position];
        self.attempts_started += 1;
        let number = self.attempts_started;
        let outcome = if step.action == Action::Noop {
            Some(handlers::Noop::outcome())
        } else {
            let place = Place {
                scratch: &scratch,
                inputs: &inputs,
            };
            let sched = &self.schedulers[&c.task_id];
            match super::attempt::prepare(
                sched,
                c.position,
                c.attempt,
                abort_rx,
                &self.opts.run,
                &place,
                Some(handlers::Spawned {
                    slot: Arc::clone(&self.spawned),
                    index: number,
                    attempt: c.attempt,
                }),
            ) {
                Ok(request) => {
                    let handler = handlers::for_action(&step.action);
                    let tx = self.tx.clone();
                    let (index, attempt, step_id) = (c.position, c.attempt, c.step_id);
                    let crash = std::env::var_os("TASKER_TEST_CRASH").is_some();
                    self.runtime.spawn(async move {
                        let outcome = handler.execute(request).await;
                        let _ = tx.send(Msg::Done(
                            step_id,
                            Box::new(Done {
                                index,
                                attempt,
                                outcome,
                            }),
                        ));
                    });
                    if crash {
                        // The process is started within moments of the handler's task.
                        std::thread::sleep(Duration::from_millis(100));
                        crash_point("after-spawn");
                    }
                    None
                }
                Err(failure) => Some(Outcome::failed(failure)),
            }
        };
        if let Some(old) = self.held.remove(&c.step_id) {
            let _ = old.abort.send(Abort::Stop);
            self.zombies.push((c.step_id, old));
        }
        self.held.insert(
            c.step_id,
            Held {
                task_id: c.task_id,
                template: Arc::clone(&template),
                index: c.position,
                attempt: c.attempt,
                adopted,
                abort: abort_tx,
                lost: false,
                // Only a process has a pid to record (an HTTP call has none).
                unrecorded: outcome.is_none()
                    && matches!(step.action, Action::Command(_) | Action::Plugin(_)),
                number,
                process: None,
                scratch,
                inputs,
            },
        );
        if outcome.is_none() {
            self.starts_due
                .get_or_insert_with(|| Instant::now() + RECORD_PROCESS_WITHIN);
        }
        if let Some(outcome) = outcome {
            // Ended at once (a noop, an attempt that could not be prepared): recorded with
            // the others of this claim.
            self.ended.push((
                c.step_id,
                Done {
                    index: c.position,
                    attempt: c.attempt,
                    outcome,
                },
            ));
        }
        Ok(())
    }

    /// An attempt claimed that this worker cannot run: recorded as failed, retryable.
    fn fail_at_once(&mut self, c: Claimed, why: &str) -> Result<(), RunError> {
        let task = self.store.task(c.task_id)?.ok_or_else(|| {
            StoreError::Corrupt(format!("task {} vanished while claimed", c.task_id))
        })?;
        let template = Arc::new(records_only(&task)?);
        let mut sched = scheduler_of(task, Arc::clone(&template), &self.opts.run)?;
        let adopted = sched.adopt(c.position, c.was, c.ready_at);
        self.schedulers.insert(c.task_id, sched);
        let (abort, _) = watch::channel(Abort::None);
        self.held.insert(
            c.step_id,
            Held {
                task_id: c.task_id,
                template,
                index: c.position,
                attempt: c.attempt,
                adopted,
                abort,
                lost: false,
                unrecorded: false,
                number: 0,
                process: None,
                scratch: PathBuf::new(),
                inputs: PathBuf::new(),
            },
        );
        self.ended.push((
            c.step_id,
            Done {
                index: c.position,
                attempt: c.attempt,
                outcome: Outcome::failed(handlers::Failure::retryable(
                    FailureClass::Spawn,
                    format!("this worker cannot run it: {why}"),
                )),
            },
        ));
        Ok(())
    }

    /// Attempts ended: record them behind their claims, all in one call, tell the
    /// subscribers, and end the tasks left with nothing to run.
    fn finished(&mut self, dones: Vec<(StepId, Done)>) -> Result<(), RunError> {
        struct End {
            step_id: StepId,
            held: Held,
            done: Done,
            changes: Vec<Change>,
            events: Vec<Event>,
        }
        let mut ends = Vec::new();
        for (step_id, done) in dones {
            if let Some(at) = self
                .zombies
                .iter()
                .position(|(id, z)| *id == step_id && z.attempt == done.attempt)
            {
                self.zombies.swap_remove(at);
                continue;
            }
            let Some(h) = self.held.remove(&step_id) else {
                continue;
            };
            let process = matches!(
                h.template.steps[h.index].action,
                Action::Command(_) | Action::Plugin(_)
            );
            let custom = if process && !h.scratch.as_os_str().is_empty() {
                let place = Place {
                    scratch: &h.scratch,
                    inputs: &h.inputs,
                };
                // What the process printed is not known here: its live copy may exist.
                let (events, warnings) = place.collect(
                    &h.template,
                    h.index,
                    h.attempt,
                    self.opts.run.clock.now_ms(),
                    true,
                );
                for w in warnings {
                    self.subscriber.warning(h.task_id, &w);
                }
                events
            } else {
                Vec::new()
            };
            let task_id = h.task_id;
            if h.lost {
                // What this worker knew of the step is stale: the task is read again.
                self.schedulers.remove(&task_id);
                continue;
            }
            let running = self
                .schedulers
                .get(&task_id)
                .is_some_and(|s| s.steps[h.index].running);
            if !running {
                let task = self.store.task(task_id)?.ok_or_else(|| {
                    StoreError::Corrupt(format!("task {task_id} vanished while claimed"))
                })?;
                let mut sched = scheduler_of(task, Arc::clone(&h.template), &self.opts.run)?;
                for other in self.held.values().filter(|o| o.task_id == task_id) {
                    sched.readopt(other.index, &other.adopted);
                }
                sched.readopt(h.index, &h.adopted);
                self.schedulers.insert(task_id, sched);
            }
            let sched = self.schedulers.get_mut(&task_id).expect("kept");
            sched.events.extend(h.adopted.events.iter().cloned());
            sched.finished(done.clone(), custom);
            let (changes, events) = unnumbered(sched);
            ends.push(End {
                step_id,
                held: h,
                done,
                changes,
                events,
            });
        }
        if ends.is_empty() {
            return Ok(());
        }
        // The rows of their tasks are locked in one order.
        ends.sort_by_key(|e| e.held.task_id);
        crash_point("before-complete");
        let batch: Vec<(StepId, u32, &[Change])> = ends
            .iter()
            .map(|e| (e.step_id, e.held.attempt, e.changes.as_slice()))
            .collect();
        let recorded = match self.store.complete_steps(&self.opts.id, &batch) {
            Ok(recorded) => {
                crash_point("after-complete");
                recorded
            }
            Err(e) => {
                // Kept, to record again once the store answers (their tasks read again).
                for end in ends {
                    self.schedulers.remove(&end.held.task_id);
                    self.held.insert(end.step_id, end.held);
                    let _ = self.tx.send(Msg::Done(end.step_id, Box::new(end.done)));
                }
                return Err(e.into());
            }
        };
        let mut settled = std::collections::BTreeSet::new();
        for (end, recorded) in ends.iter().zip(recorded) {
            let task_id = end.held.task_id;
            match recorded {
                Some(done) => {
                    self.end.attempts += 1;
                    for e in &end.events {
                        self.tell(e);
                    }
                    if done {
                        settled.insert(task_id);
                    }
                }
                None => {
                    // What this worker knew of the task is stale: read it again when needed.
                    self.schedulers.remove(&task_id);
                    self.subscriber.warning(
                        task_id,
                        &format!(
                            "step `{}`: this worker's claim was taken back; the end of attempt {} was not recorded",
                            end.held.template.steps[end.held.index].name, end.held.attempt
                        ),
                    );
                }
            }
        }
        for task_id in settled {
            self.finish_task(task_id)?;
        }
        Ok(())
    }

    /// Remove the scratch directories of task `task_id`, none of whose attempts runs here.
    fn remove_scratch(&mut self, task_id: TaskId) {
        self.scratched.remove(&task_id);
        let _ = std::fs::remove_dir_all(scratch_dir(task_id, &self.owner));
        let _ = std::fs::remove_dir_all(input_dir(task_id, &self.owner));
    }

    /// Record the starts of the attempts begun here — the events of each start (the
    /// execution asked for, the handler about to run) and the pid of each process — in one
    /// call once every process has started, or at the latest [`RECORD_PROCESS_WITHIN`]
    /// after the first: the log shows a step running while it runs, and whoever takes a
    /// step over can stop what is left of it. (An attempt that ends first has its start
    /// recorded with its end.) When something is still to record, when it is due.
    fn record_started(&mut self) -> Result<Option<Instant>, RunError> {
        let Some(due) = self.starts_due else {
            return Ok(None);
        };
        let started = match self.spawned.lock() {
            Ok(mut slot) => std::mem::take(&mut *slot),
            Err(_) => Vec::new(),
        };
        for s in started {
            if let Some(h) = self
                .held
                .values_mut()
                .find(|h| h.number == s.index && h.unrecorded)
            {
                h.unrecorded = false;
                h.process = Some((s.pid, s.started_at));
            }
        }
        let waiting = self.held.values().any(|h| h.unrecorded && !h.lost);
        if waiting && Instant::now() < due {
            return Ok(Some(due));
        }
        let mut held: Vec<(&StepId, &mut Held)> = self.held.iter_mut().collect();
        held.sort_by_key(|(_, h)| (h.task_id, h.number));
        // Per attempt: its changes, and what they were taken from (put back if the call
        // fails: recorded with the attempt's end instead).
        struct Start {
            step_id: StepId,
            attempt: u32,
            changes: Vec<Change>,
            events: Vec<Event>,
            process: Option<(u32, i64)>,
        }
        let mut batches: Vec<Start> = Vec::new();
        for (&step_id, h) in held {
            if h.lost || (h.adopted.events.is_empty() && h.process.is_none()) {
                continue;
            }
            let events = std::mem::take(&mut h.adopted.events);
            let mut changes: Vec<Change> = events
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    e.seq = 0;
                    Change::event(&e)
                })
                .collect();
            let process = h.process.take();
            if let Some((pid, started_at)) = process {
                changes.push(Change::AttemptProcess {
                    step_id,
                    attempt: h.attempt,
                    pid,
                    started_at,
                });
            }
            batches.push(Start {
                step_id,
                attempt: h.attempt,
                changes,
                events,
                process,
            });
        }
        self.starts_due = waiting.then(|| Instant::now() + RECORD_PROCESS_WITHIN);
        if batches.is_empty() {
            return Ok(self.starts_due);
        }
        let calls: Vec<(StepId, u32, &[Change])> = batches
            .iter()
            .map(|b| (b.step_id, b.attempt, b.changes.as_slice()))
            .collect();
        let written = match self.store.record_running(&self.opts.id, &calls) {
            Ok(written) => written,
            Err(e) => {
                for b in batches {
                    if let Some(h) = self.held.get_mut(&b.step_id) {
                        h.adopted.events = b.events;
                        h.process = h.process.or(b.process);
                    }
                }
                return Err(e.into());
            }
        };
        for (b, written) in batches.iter().zip(written) {
            // An attempt whose claim was taken back meanwhile: nothing of it is told.
            if written {
                for e in &b.events {
                    self.tell(e);
                }
            }
        }
        Ok(self.starts_due)
    }

    /// Whether the owned task was closed to claims so lately that a claim under way then
    /// may still start a step: its end waits until any such claim has landed.
    fn settling(&self) -> bool {
        self.closed_at
            .is_some_and(|at| at.elapsed() < CLAIMS_LAND_WITHIN)
    }

    /// Give the events of task `task_id`, which this worker ended, placed in its trace, to
    /// whoever exports them.
    fn export(&mut self, task_id: TaskId) -> Result<(), RunError> {
        let Some(task) = self.store.task(task_id)? else {
            return Ok(());
        };
        let Some((trace_id, root)) = task
            .traceparent
            .as_deref()
            .and_then(super::parse_traceparent)
        else {
            return Ok(());
        };
        let run = crate::events::TraceRef {
            trace_id,
            task_span: root,
            ..crate::events::TraceRef::default()
        };
        let ids: HashMap<&str, StepId> = task
            .steps
            .iter()
            .map(|s| (s.name.as_str(), s.step_id))
            .collect();
        let mut events = Vec::new();
        let mut placed = false;
        for doc in self.store.events(task_id, 0, usize::MAX >> 1)? {
            let Some(mut e) = Event::from_json(&doc) else {
                continue;
            };
            // The run starts with the task's start; what came before has no place in it.
            placed |= matches!(e.what, What::TaskStartRequested { .. });
            if placed {
                e.trace = Some(run.placing(&e, |n| ids.get(n).copied()));
            }
            events.push(e);
        }
        if let Some(export) = self.exporter.as_mut() {
            export(&task, &events);
        }
        Ok(())
    }

    /// Tell the subscriber of an event this worker recorded; a foreground run tells its
    /// task's events as the store has them instead ([`Worker::tell_owned`]).
    fn tell(&mut self, e: &Event) {
        if self.opts.owned.is_none() {
            self.subscriber.on_event(e);
        }
    }

    /// Tell the subscriber the owned task's events recorded since the last told, whoever
    /// recorded them; note whether the task is over.
    fn tell_owned(&mut self, task_id: TaskId) -> Result<(), RunError> {
        loop {
            let docs = self.store.events(task_id, self.told, 10_000)?;
            let more = docs.len() == 10_000;
            for doc in docs {
                let Some(mut e) = Event::from_json(&doc) else {
                    continue;
                };
                if let Some(owned) = self.opts.owned.as_ref().filter(|o| e.seq >= o.run_from) {
                    e.trace = Some(owned.trace.placing(&e, |n| owned.steps.get(n).copied()));
                }
                self.told = self.told.max(e.seq);
                match e.what {
                    What::TaskCompleted { .. }
                    | What::TaskFailed { .. }
                    | What::TaskCancelled { .. } => self.over = true,
                    What::StepFailed {
                        retryable: false, ..
                    } if self.opts.run.fail_fast && self.closed_at.is_none() => {
                        // Nobody claims its steps any more; it ends once nothing of it runs.
                        self.draining = true;
                        self.store.close_claims(task_id)?;
                        self.closed_at = Some(Instant::now());
                    }
                    _ => {}
                }
                self.subscriber.on_event(&e);
            }
            if !more {
                return Ok(());
            }
        }
    }

    /// Act on cancel requests for the owned task (`tasker cancel` asks its owner): the
    /// steps are cancelled in the store, where every worker running one sees its claim
    /// gone; the ones running here are stopped at once.
    fn cancel_requests(&mut self, task_id: TaskId) -> Result<(), RunError> {
        let requests = self
            .store
            .annotations(task_id, "cancel_request", self.cancel_seen)?;
        for (id, request) in requests {
            let names: Option<Vec<String>> = request["steps"].as_array().map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            });
            let actor = request["actor"].as_str().unwrap_or("operator").to_owned();
            let reason = request["reason"].as_str().unwrap_or("cancelled").to_owned();
            // A step that moves meanwhile makes the cancel conflict: it is read again (and
            // the request is looked at again at the next tick if it keeps conflicting).
            let mut acted = false;
            for _ in 0..5 {
                let Some(task) = self.store.task(task_id)? else {
                    return Ok(());
                };
                let positions: Vec<usize> = match &names {
                    Some(names) => task
                        .steps
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| names.contains(&s.name))
                        .filter(|(_, s)| {
                            matches!(s.status, State::Pending | State::Error | State::InProgress)
                        })
                        .map(|(i, _)| i)
                        .collect(),
                    None => Vec::new(),
                };
                if names.is_some() && positions.is_empty() {
                    acted = true;
                    break;
                }
                let ran_for = task
                    .started_at
                    .map(|at| (self.opts.run.clock.now_ms() - at).max(0) as u64);
                let (mut changes, events) =
                    match super::cancel_now(&task, &positions, &actor, &reason, ran_for) {
                        Ok(c) => c,
                        Err(why) => {
                            self.subscriber.warning(task_id, &why);
                            acted = true;
                            break;
                        }
                    };
                changes.extend(events.iter().map(|e| {
                    let mut e = e.clone();
                    e.seq = 0;
                    Change::event(&e)
                }));
                match self.store.commit_as(task_id, &self.owner, &changes) {
                    Ok(()) => {
                        self.schedulers.remove(&task_id);
                        for h in self.held.values_mut() {
                            if h.task_id == task_id
                                && (positions.is_empty() || positions.contains(&h.index))
                            {
                                h.lost = true;
                                let _ = h.abort.send(Abort::Stop);
                            }
                        }
                        acted = true;
                        break;
                    }
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            if !acted {
                return Ok(());
            }
            self.cancel_seen = id;
        }
        Ok(())
    }

    /// The foreground run was stopped by signal `sig` and what it ran is recorded: the task
    /// goes back to `pending`, owner released, for `resume`.
    fn interrupt(&mut self, task_id: TaskId, sig: i32) -> Result<(), RunError> {
        let Some(task) = self.store.task(task_id)? else {
            return Ok(());
        };
        if task.status != State::InProgress || task.owner.as_ref() != Some(&self.owner) {
            self.over = true;
            return Ok(());
        }
        let (state, changes, _) = self.ending(task, |sched| {
            sched.stop(super::scheduler::Stop::Signal(sig));
        })?;
        self.store.commit_as(task_id, &self.owner, &changes)?;
        self.tell_owned(task_id)?;
        self.end.state = Some(state);
        self.over = true;
        Ok(())
    }

    /// Stop the attempts whose claims no longer hold (taken back, cancelled).
    fn check_claims(&mut self) -> Result<(), RunError> {
        let ids: Vec<StepId> = self
            .held
            .iter()
            .filter(|(_, h)| !h.lost)
            .map(|(id, _)| *id)
            .collect();
        for id in self.store.lost_claims(&self.opts.id, &ids)? {
            if let Some(h) = self.held.get_mut(&id) {
                h.lost = true;
                let _ = h.abort.send(Abort::Stop);
            }
        }
        Ok(())
    }

    /// Take back the steps of workers that went silent, and say so in their tasks' logs.
    fn rescue(&mut self) -> Result<(), RunError> {
        let rescued = self.store.rescue()?;
        // What a dead worker of this machine left running is stopped before it runs again.
        for r in rescued
            .iter()
            .filter(|r| r.host.as_deref() == Some(self.owner.host.as_str()))
        {
            if let Some((pid, started)) = self
                .store
                .attempts(r.step_id)?
                .into_iter()
                .find(|a| a.attempt == r.attempt)
                .and_then(|a| a.process)
            {
                handlers::kill_leftovers(pid, started);
            }
        }
        let mut by_task: HashMap<TaskId, Vec<crate::store::Rescued>> = HashMap::new();
        for r in rescued {
            by_task.entry(r.task_id).or_default().push(r);
        }
        for (task_id, rs) in by_task {
            let Some(task) = self.store.task(task_id)? else {
                continue;
            };
            let names: Vec<String> = rs
                .iter()
                .filter_map(|r| task.steps.iter().find(|s| s.step_id == r.step_id))
                .map(|s| s.name.clone())
                .collect();
            tracing::warn!(task_id, worker = %rs[0].worker, steps = ?names, "took back the steps of a silent worker");
            let event = Event::new(
                What::OrphanRecovered {
                    previous_owner_pid: rs[0].pid,
                    previous_owner_host: rs[0].host.clone(),
                    interrupted_steps: names,
                },
                task_id,
            );
            self.store.commit(&[Change::event(&event)])?;
            self.tell(&event);
        }
        Ok(())
    }

    /// The end of `task`'s run once `stop` has told its scheduler what stopped it: the state
    /// it ends in, the changes that record it, and their events (numbered by the store).
    fn ending(
        &mut self,
        task: TaskRecord,
        stop: impl FnOnce(&mut Scheduler),
    ) -> Result<(State, Vec<Change>, Vec<Event>), RunError> {
        let template = match self.template(&task) {
            Ok(t) => t,
            Err(_) => Arc::new(records_only(&task)?),
        };
        let started = task.started_at.unwrap_or(task.created_at);
        let mut sched = scheduler_of(task, template, &self.opts.run)?;
        stop(&mut sched);
        let (state, _) = sched.finish(started);
        let (changes, events) = unnumbered(&mut sched);
        Ok((state, changes, events))
    }

    /// Decide the end of task `task_id`, which has nothing left to run, and record it (if
    /// another worker did first, nothing changes).
    fn finish_task(&mut self, task_id: TaskId) -> Result<(), RunError> {
        let Some(task) = self.store.task(task_id)? else {
            return Ok(());
        };
        // A task a runner owns is that runner's to end, unless the runner is dead (its
        // machine's process gone, or its lease not renewed): then the workers end it.
        let mine = self
            .opts
            .owned
            .as_ref()
            .is_some_and(|o| o.task_id == task_id);
        let owner_ok = if mine {
            task.owner.as_ref() == Some(&self.owner)
        } else {
            task.owner
                .as_ref()
                .is_none_or(|o| !owner::alive(o, task.heartbeat_at))
        };
        if task.status != State::InProgress || !owner_ok || (mine && self.settling()) {
            return Ok(());
        }
        // Past its deadline, the task ends timed out.
        let (state, changes, events) = self.ending(task, |sched| {
            sched.advance();
        })?;
        let committed = if mine {
            self.store.commit_as(task_id, &self.owner, &changes)
        } else {
            self.store.commit(&changes)
        };
        match committed {
            Ok(()) => {
                for e in &events {
                    self.tell(e);
                }
                if mine {
                    self.end.state = Some(state);
                    self.over = true;
                } else if self.exporter.is_some() {
                    self.export(task_id)?;
                }
                self.templates.remove(&task_id);
                self.schedulers.remove(&task_id);
                Ok(())
            }
            // Another worker ended it first.
            Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// How often a foreground run renews its lease on the task it owns.
const OWNER_LEASE: Duration = Duration::from_secs(5);
/// A started process is recorded at the latest this long after it started: processes that
/// start together are recorded together.
const RECORD_PROCESS_WITHIN: Duration = Duration::from_millis(10);
/// A claim (one statement) under way when its task is closed to claims has landed by then.
const CLAIMS_LAND_WITHIN: Duration = Duration::from_secs(1);
/// How often a foreground run looks for cancel requests.
const REQUESTS_EVERY: Duration = Duration::from_millis(250);
/// How often a foreground run tells what the store recorded of its task.
const TELL_EVERY: Duration = Duration::from_millis(100);

/// Make this process the owner of task `task_id` and bring it to `in_progress` for a run
/// in the foreground that workers help: what an earlier runner left running is taken over
/// (its attempts end `interrupted` and run again), as `run` on one machine does.
pub fn own(
    store: &mut PgStore,
    task_id: TaskId,
    template: &Template,
    options: &Options,
    told: u64,
) -> Result<Owned, RunError> {
    let me = owner::this_process();
    // Cancel requests made from here on are for this run.
    let cancels_before = store
        .annotations(task_id, "cancel_request", 0)?
        .last()
        .map_or(0, |(id, _)| *id);
    store.claim(task_id, &me, &owner::alive)?;
    let task = store
        .task(task_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("task {task_id} vanished as it was claimed")))?;
    // Steps live workers run stay theirs; processes an earlier runner of this machine left
    // running are stopped first.
    let live = store.live_claims(task_id)?;
    let elsewhere: Vec<usize> = task
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| live.contains(&s.step_id))
        .map(|(i, _)| i)
        .collect();
    for (i, step) in task.steps.iter().enumerate() {
        if step.status != State::InProgress || elsewhere.contains(&i) {
            continue;
        }
        if let Some((pid, started)) = store
            .attempts(step.step_id)?
            .into_iter()
            .find(|a| a.attempt == step.state.attempts)
            .and_then(|a| a.process)
        {
            handlers::kill_leftovers(pid, started);
        } else {
            handlers::kill_marked(&[
                format!("TASKER_TASK_UUID={}", task.uuid),
                format!("TASKER_STEP_NAME={}", template.steps[i].name),
                format!("TASKER_ATTEMPT={}", step.state.attempts),
            ]);
        }
    }
    let steps = task
        .steps
        .iter()
        .map(|s| (s.name.clone(), s.step_id))
        .collect();
    let next_seq = store.last_event_seq(task_id)? + 1;
    let mut sched = Scheduler::new(task, Arc::new(template.clone()), options, next_seq)?;
    sched.place_in_trace(options.traceparent.as_deref());
    sched.take_over_leaving(&elsewhere)?;
    // Numbered by the store: a worker may record an event of the task meanwhile.
    let (changes, _) = unnumbered(&mut sched);
    store.commit_as(task_id, &me, &changes)?;
    Ok(Owned {
        task_id,
        told,
        trace: sched.trace,
        steps,
        run_from: next_seq,
        cancels_before,
    })
}

/// The template of `task` as far as recording its steps needs it, when this worker cannot
/// run it (a `handler_class` it has no command for): read as `validate` reads it, such a
/// step standing as a noop.
fn records_only(task: &TaskRecord) -> Result<Template, StoreError> {
    let options = crate::templates::LoadOptions {
        environment: task.environment.as_deref(),
        require_environment: false,
        handlers: None,
        strict: false,
        checking: true,
    };
    crate::templates::from_str_in(&task.template_source, "snapshot", options).map_err(|ps| {
        let first = ps.first().map(ToString::to_string).unwrap_or_default();
        StoreError::Corrupt(format!(
            "task {}: its template snapshot does not read: {first}",
            task.task_id
        ))
    })
}

/// A scheduler of `task` for a worker: its place in the task's trace (recorded already),
/// its deadline (its current run's start plus its `timeout`).
fn scheduler_of(
    task: TaskRecord,
    template: Arc<Template>,
    options: &super::Options,
) -> Result<Scheduler, StoreError> {
    // The deadline counts from the start of the task's current run (a retried or resumed
    // task has a new one), as under `run`.
    let run_started = task
        .sessions
        .last()
        .map(|&(start, _)| start)
        .or(task.started_at);
    let deadline = run_started
        .zip(template.timeout)
        .map(|(start, t)| start + t.as_millis() as i64);
    let mut sched = Scheduler::new(task, template, options, 0)?;
    sched.place_in_trace(None);
    sched.batch.clear();
    sched.set_deadline(deadline);
    Ok(sched)
}

/// The scheduler's changes, with its events as changes numbered by the store (seq 0), and
/// the events themselves.
fn unnumbered(sched: &mut Scheduler) -> (Vec<Change>, Vec<Event>) {
    let mut changes = std::mem::take(&mut sched.batch);
    let mut events = std::mem::take(&mut sched.events);
    for e in &mut events {
        e.seq = 0;
        changes.push(Change::event(e));
    }
    (changes, events)
}
