//! The run loop: claim, take over, start what is ready, wait, record, finish.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::writer::{InFlight, Writer};
use super::{Finish, Halt, Options, RunError};
use crate::clock::now_ms;
use crate::events::{Event, Kind, Subscriber, TraceRef};
use crate::graph::Dag;
use crate::handlers::{self, Handler, Outcome};
use crate::model::{Actor, FailureClass, State};
use crate::runner::{input_dir, make_scratch, owner, scratch_dir, sweep_dead_runners};
use crate::store::{
    AttemptEnd, Change, Owner, StepError, StepState, StoreError, TaskId, TaskRecord,
};
use crate::templates::Template;

/// How often the loop looks for cancel requests.
const TICK: Duration = Duration::from_millis(250);
/// How often the owner's heartbeat is written.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Why the loop stopped starting steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    FailFast,
    Deadline,
    Cancel,
    Signal(i32),
}

/// A started process is recorded with the next commit, and at the latest this long after it
/// started: a short step's pid costs no commit of its own. A runner that dies before then
/// leaves the process findable by the marks in its environment (`kill_marked`).
pub(super) const RECORD_PROCESS_WITHIN: Duration = Duration::from_millis(10);

/// Changes and events one commit holds at most when noop steps chain within a round.
const BATCH_CAP: usize = 2048;

/// A finished attempt, sent back from its handler task.
pub(super) struct Done {
    pub index: usize,
    pub attempt: u32,
    pub outcome: Outcome,
}

pub(super) struct StepRun {
    pub status: State,
    pub state: StepState,
    pub unfinished_parents: usize,
    /// When the current attempt started (ms), for event durations.
    pub attempt_started_at: i64,
    /// When the step last became ready (ms), for the ready → running wait.
    pub ready_at: Option<i64>,
    /// Stops the running attempt: 1 gracefully, 2 at once.
    pub abort: Option<watch::Sender<handlers::Abort>>,
    /// An operator asked to cancel this step while it ran: the transition's metadata.
    pub cancelling: Option<Json>,
    /// Its current attempt's process is not yet known to have started.
    pub unrecorded: bool,
    /// This run's span of the step, and of its current attempt.
    pub span: Option<u64>,
    pub attempt_span: Option<u64>,
    pub handler: Arc<dyn Handler>,
}

pub(super) struct Run<'a> {
    pub task: TaskRecord,
    pub template: &'a Template,
    pub options: &'a Options,
    subscriber: &'a mut dyn Subscriber,
    halt: watch::Receiver<Halt>,
    halt_open: bool,
    owner: Owner,
    pub dag: Dag,
    pub steps: Vec<StepRun>,
    /// Step index by name, for `{{ steps.NAME.results }}` and cancel requests.
    pub index: HashMap<String, usize>,
    /// Problems worth a word that change nothing (bad `TASKER_EVENTS` lines).
    pub warnings: Vec<String>,
    pub ready: VecDeque<usize>,
    pub backoff: BinaryHeap<Reverse<(i64, usize)>>,
    limit: usize,
    pub running: usize,
    pub stopping: Option<Stop>,
    kill_now: bool,
    pub batch: Vec<Change>,
    /// Started processes not yet recorded, and when they must be at the latest.
    pids: Vec<Change>,
    pub pids_due: Option<Instant>,
    events: Vec<Event>,
    next_seq: u64,
    pub trace: TraceRef,
    /// Announced that nothing can start until a retry is due (once per such wait).
    idle_announced: bool,
    pub done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    /// Processes started and not yet taken into `pids`.
    pub spawned: Arc<std::sync::Mutex<Vec<handlers::Started>>>,
    /// Attempts whose process is not yet known to have started.
    pub unrecorded: usize,
    pub scratch: PathBuf,
    /// Where input documents are written (may be `scratch`).
    pub inputs: PathBuf,
    /// The last cancel request seen.
    cancel_seen: i64,
    next_tick: Instant,
    next_beat: Instant,
    /// Commits written and time busy, for `--summary-json`.
    stats: super::Stats,
    /// The batch the writer is committing, with what waits for it: its events, its
    /// warnings, and the steps it starts.
    in_flight: Option<Landing>,
}

/// What waits for a batch in flight to be durable.
struct Landing {
    commit: InFlight,
    events: Vec<Event>,
    warnings: Vec<String>,
    spawn: Vec<usize>,
}

pub(super) fn meta(reason: &str) -> Json {
    json!({ "actor": "tasker", "reason": reason })
}

/// A new random span id (never zero).
pub(super) fn span_id() -> u64 {
    rand::random_range(1..u64::MAX)
}

/// `(trace id, span id)` of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`).
/// Read as OpenTelemetry's W3C propagator reads it; an invalid one (all-zero ids, a bad
/// version) is none.
pub fn parse_traceparent(value: &str) -> Option<(u128, u64)> {
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;
    let carrier: HashMap<String, String> =
        HashMap::from([("traceparent".to_owned(), value.trim().to_owned())]);
    let context = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
    let span = context.span();
    let ids = span.span_context();
    ids.is_valid().then(|| {
        (
            u128::from_be_bytes(ids.trace_id().to_bytes()),
            u64::from_be_bytes(ids.span_id().to_bytes()),
        )
    })
}

impl<'a> Run<'a> {
    pub(super) async fn start(
        writer: &Writer<'_, '_>,
        task_id: TaskId,
        template: &'a Template,
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
            store.claim(task_id, &claimant, &owner::alive)?;
            tracing::info!(task_id, pid = claimant.pid, host = %claimant.host, "claimed the task");
            let task = store.task(task_id)?.ok_or_else(|| {
                StoreError::Corrupt(format!("task {task_id} vanished while it was claimed"))
            })?;
            Ok((task, store.last_event_seq(task_id)? + 1))
        });
        let (task, next_seq) = match claimed {
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
        let mut run = match Run::new(task, template, options, subscriber, halt, owner, next_seq) {
            Ok(run) => run,
            Err(e) => {
                remove(&dirs);
                return Err(e.into());
            }
        };
        let result = run.drive(writer).await.map_err(RunError::from);
        if result.is_err() {
            run.abandon().await;
        }
        let _ = std::fs::remove_dir_all(&run.scratch);
        let _ = std::fs::remove_dir_all(&run.inputs);
        result
    }

    fn new(
        task: TaskRecord,
        template: &'a Template,
        options: &'a Options,
        subscriber: &'a mut dyn Subscriber,
        halt: watch::Receiver<Halt>,
        owner: Owner,
        next_seq: u64,
    ) -> Result<Run<'a>, StoreError> {
        if task.steps.len() != template.steps.len()
            || task
                .steps
                .iter()
                .zip(&template.steps)
                .any(|(r, s)| r.name != s.name)
        {
            return Err(StoreError::Corrupt(format!(
                "task {} does not match its template snapshot",
                task.task_id
            )));
        }
        let dag = template.dag();
        let steps: Vec<StepRun> = task
            .steps
            .iter()
            .zip(&template.steps)
            .map(|(rec, step)| StepRun {
                status: rec.status,
                state: rec.state.clone(),
                unfinished_parents: 0,
                attempt_started_at: 0,
                ready_at: None,
                abort: None,
                cancelling: None,
                unrecorded: false,
                span: None,
                attempt_span: None,
                handler: handlers::for_action(&step.action),
            })
            .collect();
        let limit = options
            .concurrency
            .or(template.max_parallel)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let scratch = scratch_dir(task.task_id, &owner);
        let inputs = input_dir(task.task_id, &owner);
        let now = Instant::now();
        let index = template
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        Ok(Run {
            task,
            template,
            options,
            subscriber,
            halt,
            halt_open: true,
            owner,
            dag,
            steps,
            index,
            warnings: Vec::new(),
            ready: VecDeque::new(),
            backoff: BinaryHeap::new(),
            limit,
            running: 0,
            stopping: None,
            kill_now: false,
            batch: Vec::new(),
            pids: Vec::new(),
            pids_due: None,
            events: Vec::new(),
            next_seq,
            trace: TraceRef::default(),
            idle_announced: false,
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
        })
    }

    /// Queue an event: it is recorded with the batch it belongs to and given to the
    /// subscribers once that batch is committed.
    pub fn event(&mut self, mut event: Event) -> &mut Event {
        event.seq = self.next_seq;
        self.next_seq += 1;
        if event.trace.is_none() {
            event.trace = Some(self.trace);
        }
        self.events.push(event);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    /// Queue an event about attempt `attempt` of step `i`, placed in its spans.
    pub fn step_event(&mut self, kind: Kind, i: usize, attempt: u32) -> &mut Event {
        let mut trace = self.trace;
        trace.step_span = self.steps[i].span;
        trace.attempt_span = self.steps[i].attempt_span;
        let mut event =
            Event::new(kind, self.task.task_id).step(&self.template.steps[i].name, attempt);
        event.trace = Some(trace);
        self.event(event)
    }

    /// Commit the batch with its events, then tell subscribers: nothing is reported before
    /// it is durable.
    /// Commit what is gathered and wait for it (after the batch in flight, if any), then
    /// emit its events.
    async fn flush(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        self.land_in_flight().await?;
        self.seal();
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            let (task_id, owner) = (self.task.task_id, self.owner.clone());
            writer.call(move |store| store.commit_as(task_id, &owner, &batch))?;
            self.stats.commits += 1;
        }
        for e in self.events.drain(..) {
            self.subscriber.on_event(&e);
        }
        for w in self.warnings.drain(..) {
            self.subscriber.warning(self.task.task_id, &w);
        }
        Ok(())
    }

    /// Hand what is gathered to the writer without waiting, unless a batch is in flight:
    /// its events wait for it to be durable, and so do the steps it starts (`to_spawn`).
    /// Changes gathered meanwhile go together into the next commit.
    ///
    /// Events alone (a step's `before_handle`) and processes not yet due ride with the next
    /// batch that changes state, unless nothing runs or the loop's tick came (`ripe`): a
    /// step costs one commit, not two.
    fn send(
        &mut self,
        writer: &Writer<'_, '_>,
        to_spawn: &mut Vec<usize>,
        ripe: bool,
    ) -> Result<(), StoreError> {
        if self.in_flight.is_some() {
            return Ok(());
        }
        let pids_due = self.pids_due.is_some_and(|due| Instant::now() >= due);
        let urgent = !self.batch.is_empty()
            || !to_spawn.is_empty()
            || pids_due
            || (!self.events.is_empty() && (ripe || self.running == 0));
        if !urgent {
            return Ok(());
        }
        self.seal();
        let landing = Landing {
            commit: InFlight::none(),
            events: std::mem::take(&mut self.events),
            warnings: std::mem::take(&mut self.warnings),
            spawn: std::mem::take(to_spawn),
        };
        let batch = std::mem::take(&mut self.batch);
        if batch.is_empty() {
            self.after_commit(landing);
        } else if self.running == 0 {
            // Nothing runs, so nothing would gather meanwhile: commit here and start the
            // batch's steps at once, sparing the hand-over to the writer.
            let (task_id, owner) = (self.task.task_id, &self.owner);
            writer.call(|store| store.commit_as(task_id, owner, &batch))?;
            self.stats.commits += 1;
            self.after_commit(landing);
        } else {
            self.in_flight = Some(Landing {
                commit: writer.submit(self.task.task_id, self.owner.clone(), batch),
                ..landing
            });
        }
        Ok(())
    }

    /// The batch in flight is durable (or failed): emit what waited for it, start its steps.
    fn landed(&mut self, result: Result<(), StoreError>) -> Result<(), StoreError> {
        let Some(landing) = self.in_flight.take() else {
            return Ok(());
        };
        result?;
        self.stats.commits += 1;
        self.after_commit(landing);
        Ok(())
    }

    /// A batch is durable: emit its events, start its steps.
    fn after_commit(&mut self, landing: Landing) {
        for e in &landing.events {
            self.subscriber.on_event(e);
        }
        for w in &landing.warnings {
            self.subscriber.warning(self.task.task_id, w);
        }
        for i in landing.spawn {
            // Stopped (a signal, a cancel, the deadline) or cancelled while its start was
            // being committed: nothing is run. The attempt is recorded as stopped, as it
            // would have been a moment later, so the store ends up the same. Fail-fast lets
            // what was started run, so it starts.
            let stopped = matches!(
                self.stopping,
                Some(Stop::Signal(_) | Stop::Cancel | Stop::Deadline)
            ) || self.steps[i].cancelling.is_some();
            if stopped {
                let attempt = self.steps[i].state.attempts;
                self.running += 1;
                self.finished(Done {
                    index: i,
                    attempt,
                    outcome: Outcome::failed(handlers::Failure::retryable(
                        FailureClass::Interrupted,
                        "stopped before it started: the run was stopping",
                    )),
                });
            } else {
                self.spawn(i);
            }
        }
    }

    /// Wait for the batch in flight, if any, and take it as landed.
    async fn land_in_flight(&mut self) -> Result<(), StoreError> {
        let result = match &mut self.in_flight {
            Some(f) => (&mut f.commit.landed)
                .await
                .unwrap_or_else(|_| Err(StoreError::Corrupt("the store's writer stopped".into()))),
            None => return Ok(()),
        };
        self.landed(result)
    }

    /// Make the gathered changes a batch: started processes ride with it (or get one of
    /// their own once due), and the events follow.
    fn seal(&mut self) {
        // Started processes ride with the next commit, or get one of their own once due.
        self.take_started();
        let due = self.pids_due.is_some_and(|due| Instant::now() >= due);
        if !self.pids.is_empty() && (!self.batch.is_empty() || !self.events.is_empty() || due) {
            self.batch.append(&mut self.pids);
        }
        if self.pids.is_empty() && self.unrecorded == 0 {
            self.pids_due = None;
        } else if due {
            // Some process has not started yet: look again later.
            self.pids_due = Some(Instant::now() + RECORD_PROCESS_WITHIN);
        }
        for e in &self.events {
            self.batch.push(Change::Event {
                task_id: e.task_id,
                seq: e.seq,
                name: e.name().to_owned(),
                doc: e.to_json(),
            });
        }
    }

    pub fn task_change(&mut self, from: State, to: State, metadata: Json) {
        self.batch.push(Change::Task {
            task_id: self.task.task_id,
            from,
            to,
            actor: Actor::Engine,
            metadata,
        });
        self.task.status = to;
    }

    pub fn step_change(&mut self, i: usize, to: State, metadata: Json) {
        let s = &mut self.steps[i];
        self.batch.push(Change::Step {
            step_id: self.task.steps[i].step_id,
            from: s.status,
            to,
            actor: Actor::Engine,
            metadata,
            state: s.state.clone(),
        });
        s.status = to;
    }

    /// Place this run in the task's trace: a new trace (or a child of `TRACEPARENT`) the
    /// first time, the same trace under the first run's root afterwards.
    fn place_in_trace(&mut self) {
        match self.task.traceparent.as_deref().and_then(parse_traceparent) {
            Some((trace_id, root)) => {
                self.trace = TraceRef {
                    trace_id,
                    task_span: span_id(),
                    task_parent: Some(root),
                    ..TraceRef::default()
                };
            }
            None => {
                let outer = self
                    .options
                    .traceparent
                    .as_deref()
                    .and_then(parse_traceparent);
                let trace_id = outer.map_or_else(|| rand::random_range(1..u128::MAX), |(t, _)| t);
                self.trace = TraceRef {
                    trace_id,
                    task_span: span_id(),
                    task_parent: outer.map(|(_, s)| s),
                    ..TraceRef::default()
                };
                let traceparent = self.trace.traceparent(self.trace.task_span);
                self.batch.push(Change::Trace {
                    task_id: self.task.task_id,
                    traceparent: traceparent.clone(),
                });
                self.task.traceparent = Some(traceparent);
            }
        }
    }

    /// Bring the task to `in_progress` and take over what an earlier runner left.
    async fn take_over(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        let now = now_ms();
        self.place_in_trace();
        let orphan = self.task.status == State::InProgress;
        match self.task.status {
            State::Pending | State::InProgress => {}
            State::Error => self.task_change(State::Error, State::Pending, meta("resume")),
            other => {
                return Err(StoreError::Illegal {
                    entity: "task",
                    id: self.task.task_id,
                    from: other,
                    to: State::InProgress,
                });
            }
        }
        if self.task.status == State::Pending {
            self.task_change(State::Pending, State::InProgress, meta("run"));
            let start = Event::new(Kind::TaskStartRequested, self.task.task_id)
                .states(State::Pending, State::InProgress);
            self.event(start);
        }
        // Attempts in flight when the last runner died were interrupted: they are retried
        // at once and do not count against the limit.
        let mut interrupted = Vec::new();
        for i in 0..self.steps.len() {
            if self.steps[i].status != State::InProgress {
                continue;
            }
            let attempt = self.steps[i].state.attempts;
            // What the dead runner started may still run: it must not run twice at once.
            let step_id = self.task.steps[i].step_id;
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
                        format!("TASKER_TASK_UUID={}", self.task.uuid),
                        format!("TASKER_STEP_NAME={}", self.template.steps[i].name),
                        format!("TASKER_ATTEMPT={attempt}"),
                    ]);
                }
            }
            let error = StepError {
                class: FailureClass::Interrupted,
                message: "the runner stopped before the attempt ended".into(),
            };
            self.batch.push(Change::AttemptFinished {
                step_id,
                attempt,
                end: AttemptEnd {
                    outcome: State::Error,
                    error: Some(error.clone()),
                    ..AttemptEnd::default()
                },
            });
            let s = &mut self.steps[i].state;
            s.error = Some(error);
            s.next_retry_at = Some(now);
            s.finished_at = Some(now);
            self.step_change(
                i,
                State::Error,
                json!({"actor": "tasker", "attempt": attempt, "error_class": "interrupted"}),
            );
            interrupted.push(self.template.steps[i].name.clone());
        }
        if orphan {
            let previous = self.task.owner.clone();
            let e = Event::new(Kind::OrphanRecovered, self.task.task_id)
                .with(
                    "previous_owner_pid",
                    previous.as_ref().map_or(Json::Null, |o| json!(o.pid)),
                )
                .with(
                    "previous_owner_host",
                    previous.as_ref().map_or(Json::Null, |o| json!(o.host)),
                )
                .with("interrupted_steps", json!(interrupted));
            self.event(e);
        }
        // Readiness from the state as it now is.
        for i in 0..self.steps.len() {
            let unfinished = self
                .dag
                .parents(i)
                .filter(|&p| !self.steps[p].status.is_satisfied())
                .count();
            self.steps[i].unfinished_parents = unfinished;
            if unfinished > 0 {
                continue;
            }
            match (self.steps[i].status, self.steps[i].state.next_retry_at) {
                (State::Pending, _) => {
                    self.steps[i].ready_at = Some(now);
                    self.ready.push_back(i);
                }
                (State::Error, Some(at)) => self.backoff.push(Reverse((at, i))),
                _ => {}
            }
        }
        let started = Event::new(Kind::WorkflowTaskStarted, self.task.task_id)
            .with("step_count", self.steps.len())
            .with("ready_steps", self.ready.len());
        self.event(started);
        Ok(())
    }

    async fn drive(&mut self, writer: &Writer<'_, '_>) -> Result<Finish, StoreError> {
        let started = now_ms();
        // Cancel requests made before this run are not for it.
        let task_id = self.task.task_id;
        self.cancel_seen = writer
            .call(move |store| store.annotations(task_id, "cancel_request", 0))?
            .last()
            .map_or(0, |(id, _)| *id);
        self.take_over(writer).await?;
        let deadline = self.template.timeout.map(|t| Instant::now() + t);
        let mut to_spawn = Vec::new();
        let mut busy_since = std::time::Instant::now();
        loop {
            let ticked = Instant::now() >= self.next_tick;
            if ticked {
                self.tick(writer).await?;
            }
            if self.stopping.is_none() {
                self.start_ready(&mut to_spawn);
                // Noop steps end where they start, in this same batch; what they make
                // ready (noops too) starts in it as well. Nothing outside tasker sees any
                // of it before the commit below. A batch stays bounded: past the cap, the
                // rest waits for the next round.
                while self.stopping.is_none()
                    && self.batch.len() + self.events.len() < BATCH_CAP
                    && to_spawn.iter().any(|&i| self.is_noop(i))
                {
                    let (noops, rest): (Vec<usize>, Vec<usize>) =
                        to_spawn.drain(..).partition(|&i| self.is_noop(i));
                    to_spawn = rest;
                    for i in noops {
                        self.spawn(i);
                    }
                    self.start_ready(&mut to_spawn);
                }
            }
            // The batch goes to the writer; its steps start once it is durable.
            self.send(writer, &mut to_spawn, ticked)?;
            let settled = self.in_flight.is_none() && self.batch.is_empty();
            if settled
                && self.running == 0
                && (self.stopping.is_some() || (self.ready.is_empty() && self.backoff.is_empty()))
            {
                break;
            }
            if settled && self.running == 0 && self.ready.is_empty() && !self.idle_announced {
                // Only retries remain, and none is due: say so once, then sleep.
                self.idle_announced = true;
                let waiting: Vec<String> = self
                    .backoff
                    .iter()
                    .map(|Reverse((_, i))| self.template.steps[*i].name.clone())
                    .collect();
                let e = Event::new(Kind::WorkflowNoViableSteps, self.task.task_id)
                    .with("reason", "waiting_for_retry")
                    .with("waiting_steps", json!(waiting));
                self.event(e);
                self.flush(writer).await?;
            }
            self.stats.busy_ms += busy_since.elapsed().as_micros() as u64;
            self.wait(deadline).await?;
            busy_since = std::time::Instant::now();
        }
        self.stats.busy_ms += busy_since.elapsed().as_micros() as u64;
        let mut finish = self.finish(writer, started).await?;
        // Counted in microseconds while running, reported in milliseconds.
        finish.stats.busy_ms /= 1000;
        Ok(finish)
    }

    /// The store failed: nothing more can be recorded. Stop every running step's process
    /// group at once and wait (a little) for them to go, so that none outlives the run; the
    /// task stays as its last commit left it, and a resume runs those attempts again.
    async fn abandon(&mut self) {
        for s in &self.steps {
            if let Some(abort) = &s.abort {
                let _ = abort.send(handlers::Abort::Kill);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.running > 0 {
            match tokio::time::timeout_at(deadline, self.done_rx.recv()).await {
                Ok(Some(_)) => self.running -= 1,
                _ => break,
            }
        }
    }

    fn is_noop(&self, i: usize) -> bool {
        self.template.steps[i].action == crate::templates::Action::Noop
    }

    /// Move due retries back to `pending`, then start ready steps up to the limit.
    fn start_ready(&mut self, to_spawn: &mut Vec<usize>) {
        let now = now_ms();
        while let Some(&Reverse((at, i))) = self.backoff.peek() {
            if at > now {
                break;
            }
            self.backoff.pop();
            // A step cancelled or resolved meanwhile is no longer waiting.
            if self.steps[i].status != State::Error || self.steps[i].state.next_retry_at != Some(at)
            {
                continue;
            }
            let attempt = self.steps[i].state.attempts;
            self.steps[i].state.next_retry_at = None;
            // An interrupted attempt waited for `resume`, not in a queue.
            let interrupted = self.steps[i]
                .state
                .error
                .as_ref()
                .is_some_and(|e| e.class == "interrupted");
            self.steps[i].ready_at = Some(if interrupted { now } else { at });
            self.step_change(
                i,
                State::Pending,
                json!({"actor": "tasker", "reason": "retry", "attempt": attempt + 1}),
            );
            let e = self.step_event(Kind::StepRetryRequested, i, attempt + 1);
            e.fields.insert("from_state".into(), json!("error"));
            e.fields.insert("to_state".into(), json!("pending"));
            e.fields.insert("actor".into(), json!("tasker"));
            e.fields.insert(
                "reason".into(),
                json!(if interrupted { "interrupted" } else { "retry" }),
            );
            self.ready.push_back(i);
        }
        let mut started = Vec::new();
        // Noop steps run nothing, so they take no slot: a level of joins starts, ends and
        // is committed in one round. Order is kept: a noop behind a waiting step waits.
        // Steps whose start is being committed hold their slots already.
        let mut busy =
            self.running + to_spawn.len() + self.in_flight.as_ref().map_or(0, |f| f.spawn.len());
        // About nine changes and events per noop step keep a round under the cap.
        let mut noops =
            (BATCH_CAP.saturating_sub(self.batch.len() + self.events.len()) / 9).max(64);
        while let Some(&i) = self.ready.front() {
            let noop = self.is_noop(i);
            if (!noop && busy >= self.limit) || (noop && noops == 0) {
                break;
            }
            noops -= usize::from(noop);
            self.ready.pop_front();
            if self.steps[i].status != State::Pending {
                continue;
            }
            busy += usize::from(!noop);
            started.push(i);
            to_spawn.push(i);
        }
        if started.is_empty() {
            return;
        }
        self.idle_announced = false;
        let names: Vec<&str> = started
            .iter()
            .map(|&i| self.template.steps[i].name.as_str())
            .collect();
        let e = Event::new(Kind::WorkflowViableStepsDiscovered, self.task.task_id)
            .with("steps", json!(names))
            .with("count", started.len());
        self.event(e);
        for i in started {
            self.start_step(i, now);
        }
    }

    /// Move step `i` to `in_progress` for its next attempt (committed before it is spawned).
    fn start_step(&mut self, i: usize, now: i64) {
        tracing::debug!(task_id = self.task.task_id, step = %self.template.steps[i].name, "starting");
        let s = &mut self.steps[i];
        s.state.attempts += 1;
        s.state.started_at.get_or_insert(now);
        s.state.finished_at = None;
        s.state.next_retry_at = None;
        s.attempt_started_at = now;
        s.span.get_or_insert_with(span_id);
        s.attempt_span = Some(span_id());
        let queue_wait = s.ready_at.take().map_or(0, |r| (now - r).max(0));
        let attempt = s.state.attempts;
        self.step_change(
            i,
            State::InProgress,
            json!({"actor": "tasker", "attempt": attempt}),
        );
        self.batch.push(Change::AttemptStarted {
            step_id: self.task.steps[i].step_id,
            attempt,
        });
        let e = self.step_event(Kind::StepExecutionRequested, i, attempt);
        e.fields.insert("from_state".into(), json!("pending"));
        e.fields.insert("to_state".into(), json!("in_progress"));
        e.fields.insert("queue_wait_ms".into(), json!(queue_wait));
    }

    /// Sleep until an attempt finishes, a retry comes due, the deadline passes, the next
    /// tick, or a signal.
    async fn wait(&mut self, deadline: Option<Instant>) -> Result<(), StoreError> {
        let retry_due =
            self.backoff
                .peek()
                .filter(|_| self.stopping.is_none())
                .map(|Reverse((at, _))| {
                    Instant::now() + Duration::from_millis((at - now_ms()).max(0) as u64)
                });
        let deadline = deadline.filter(|_| self.stopping.is_none());
        let tick = self.next_tick;
        // Work left by a capped round (uncommitted changes, steps that could start) is taken
        // up at once, once signals and finished attempts have been looked at.
        let starting = self.in_flight.as_ref().map_or(0, |f| f.spawn.len());
        let work_now = self.stopping.is_none()
            && self.in_flight.is_none()
            && (!self.batch.is_empty()
                || self
                    .ready
                    .front()
                    .is_some_and(|&i| self.is_noop(i) || self.running + starting < self.limit));
        // Processes due to be recorded wait for the commit in flight (nothing could be sent
        // meanwhile: waking for them would spin).
        let pids_due = self.pids_due.filter(|_| self.in_flight.is_none());
        let landing = self.in_flight.as_mut().map(|f| &mut f.commit.landed);
        let landing = async move {
            match landing {
                Some(rx) => rx.await.unwrap_or_else(|_| {
                    Err(StoreError::Corrupt("the store's writer stopped".into()))
                }),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            result = landing => return self.landed(result),
            changed = self.halt.changed(), if self.halt_open => {
                match changed {
                    Ok(()) => {
                        let halt = *self.halt.borrow_and_update();
                        match halt {
                            Halt::None => {}
                            Halt::Signal(sig) => {
                                let message = if self.running > 0 {
                                    format!(
                                        "stopping: {} running; again to kill at once",
                                        crate::text::count(self.running, "step")
                                    )
                                } else {
                                    "stopping".to_owned()
                                };
                                self.subscriber.stopping(&message);
                                self.stop(Stop::Signal(sig));
                            }
                            Halt::Kill(sig) => {
                                self.subscriber.stopping("killing the running steps now");
                                self.kill_now = true;
                                self.stop(Stop::Signal(sig));
                            }
                        }
                    }
                    Err(_) => self.halt_open = false,
                }
            }
            Some(done) = self.done_rx.recv() => {
                // A process an attempt started is recorded before (or with) how it ended.
                self.take_started();
                self.finished(done);
                while let Ok(more) = self.done_rx.try_recv() {
                    self.finished(more);
                }
            }
            () = std::future::ready(()), if work_now => {}
            () = sleep_until(pids_due), if pids_due.is_some() => {}
            () = sleep_until(retry_due), if retry_due.is_some() => {}
            () = sleep_until(deadline), if deadline.is_some() => self.stop(Stop::Deadline),
            () = tokio::time::sleep_until(tick) => {}
        }
        Ok(())
    }

    /// Take the processes handlers have started into `pids`, so that a later runner can stop
    /// their groups should this runner die.
    fn take_started(&mut self) {
        let started = match self.spawned.lock() {
            Ok(mut slot) if !slot.is_empty() => std::mem::take(&mut *slot),
            _ => return,
        };
        for handlers::Started {
            index: i,
            attempt,
            pid,
            started_at,
        } in started
        {
            if std::mem::take(&mut self.steps[i].unrecorded) {
                self.unrecorded -= 1;
            }
            self.pids.push(Change::AttemptProcess {
                step_id: self.task.steps[i].step_id,
                attempt,
                pid,
                started_at,
            });
        }
    }

    /// The periodic work: cancel requests from other processes, the owner's heartbeat.
    async fn tick(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        let now = Instant::now();
        self.next_tick = now + TICK;
        let beat = now >= self.next_beat;
        if beat {
            self.next_beat = now + HEARTBEAT;
        }
        let (task_id, owner, seen) = (self.task.task_id, self.owner.clone(), self.cancel_seen);
        let requests = writer.call(move |store| {
            store.check_file()?;
            if beat {
                store.heartbeat(task_id, &owner)?;
            }
            store.annotations(task_id, "cancel_request", seen)
        })?;
        for (id, request) in requests {
            self.cancel_seen = id;
            self.cancel(&request);
        }
        Ok(())
    }

    /// Act on `tasker cancel`: the whole task, or the named steps.
    fn cancel(&mut self, request: &Json) {
        let reason = request["reason"].as_str().unwrap_or("cancelled").to_owned();
        let actor = request["actor"].as_str().unwrap_or("operator").to_owned();
        let metadata = json!({"actor": actor, "reason": reason});
        let targets: Vec<usize> = match request["steps"].as_array() {
            Some(names) => names
                .iter()
                .filter_map(|n| n.as_str().and_then(|n| self.index.get(n).copied()))
                .collect(),
            None => {
                self.stop(Stop::Cancel);
                (0..self.steps.len()).collect()
            }
        };
        for i in targets {
            match self.steps[i].status {
                State::InProgress => {
                    self.steps[i].cancelling = Some(metadata.clone());
                    if let Some(abort) = &self.steps[i].abort {
                        let _ = abort.send(handlers::Abort::Stop);
                    }
                }
                State::Pending | State::Error => self.cancel_step(i, &metadata),
                _ => {}
            }
        }
    }

    /// Cancel a step that is not running.
    pub fn cancel_step(&mut self, i: usize, metadata: &Json) {
        let from = self.steps[i].status;
        self.steps[i].state.next_retry_at = None;
        self.step_change(i, State::Cancelled, metadata.clone());
        let attempt = self.steps[i].state.attempts;
        let e = self.step_event(Kind::StepCancelled, i, attempt);
        e.fields.insert("from_state".into(), json!(from));
        e.fields.insert("to_state".into(), json!("cancelled"));
        e.fields.insert("actor".into(), metadata["actor"].clone());
        e.fields.insert("reason".into(), metadata["reason"].clone());
    }

    pub fn stop(&mut self, why: Stop) {
        if self.stopping.is_none() || matches!(why, Stop::Signal(_)) {
            self.stopping = Some(why);
        }
        if !matches!(why, Stop::FailFast) {
            let level = if self.kill_now {
                handlers::Abort::Kill
            } else {
                handlers::Abort::Stop
            };
            for s in &self.steps {
                if let Some(abort) = &s.abort {
                    let _ = abort.send(level);
                }
            }
        }
    }

    /// Decide the task's final state and commit it.
    async fn finish(
        &mut self,
        writer: &Writer<'_, '_>,
        started: i64,
    ) -> Result<Finish, StoreError> {
        if let Some(Stop::Signal(sig)) = self.stopping {
            tracing::info!(
                task_id = self.task.task_id,
                signal = sig,
                "interrupted; the task is resumable"
            );
            // Leave the task resumable: back to pending, owner released.
            self.task_change(
                State::InProgress,
                State::Pending,
                json!({"actor": "tasker", "reason": "interrupted", "signal": sig}),
            );
            self.flush(writer).await?;
            return Ok(Finish {
                state: State::Pending,
                interrupted: Some(sig),
                stats: self.stats,
            });
        }
        let e = Event::new(Kind::WorkflowTaskFinalizationStarted, self.task.task_id);
        self.event(e);
        if self.stopping == Some(Stop::Cancel) {
            // Steps that were running are recorded by now; cancel what never started.
            let metadata = meta("the task was cancelled");
            for i in 0..self.steps.len() {
                if matches!(self.steps[i].status, State::Pending | State::Error) {
                    self.cancel_step(i, &metadata);
                }
            }
        }
        let unfinished: Vec<String> = (0..self.steps.len())
            .filter(|&i| matches!(self.steps[i].status, State::Pending | State::Error))
            .map(|i| self.template.steps[i].name.clone())
            .collect();
        let failed: Vec<String> = (0..self.steps.len())
            .filter(|&i| self.steps[i].status == State::Error)
            .map(|i| self.template.steps[i].name.clone())
            .collect();
        let all_done = self.steps.iter().all(|s| s.status.is_satisfied());
        let any_cancelled = self.steps.iter().any(|s| s.status == State::Cancelled);
        if !all_done && !unfinished.is_empty() {
            let e = Event::new(Kind::WorkflowNoViableSteps, self.task.task_id)
                .with("reason", "blocked")
                .with("waiting_steps", json!(unfinished));
            self.event(e);
        }
        let (to, kind, reason) = if all_done {
            (State::Complete, Kind::TaskCompleted, "all steps complete")
        } else if any_cancelled {
            (
                State::Cancelled,
                Kind::TaskCancelled,
                "a step was cancelled",
            )
        } else if self.stopping == Some(Stop::Deadline) {
            (State::Error, Kind::TaskFailed, "the task timed out")
        } else {
            (State::Error, Kind::TaskFailed, "a step failed")
        };
        self.task_change(State::InProgress, to, meta(reason));
        let took = (now_ms() - started).max(0) as u64;
        let mut end = Event::new(kind, self.task.task_id)
            .states(State::InProgress, to)
            .with("duration_ms", took);
        match kind {
            Kind::TaskFailed => end = end.with("failed_steps", json!(failed)),
            Kind::TaskCancelled => end = end.with("actor", "tasker").with("reason", reason),
            _ => {}
        }
        self.event(end);
        tracing::info!(task_id = self.task.task_id, state = %to, duration_ms = took, "the task ended");
        let done = Event::new(Kind::WorkflowTaskFinalizationCompleted, self.task.task_id)
            .with("to_state", to.as_str())
            .with("duration_ms", took);
        self.event(done);
        self.flush(writer).await?;
        Ok(Finish {
            state: to,
            interrupted: None,
            stats: self.stats,
        })
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_traceparent;

    #[test]
    fn traceparents() {
        assert_eq!(
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some((
                0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
                0x00f0_67aa_0ba9_02b7
            ))
        );
        assert_eq!(
            parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(parse_traceparent("garbage"), None);
    }
}
