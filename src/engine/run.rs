//! The run loop.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::inputs::{self, RunScope};
use super::retry::{self, Decision, Failure, GiveUp};
use super::state::{Actor, State};
use super::{Finish, Halt, Options, owner};
use crate::clock::now_ms;
use crate::events::{Event, Kind, Subscriber};
use crate::graph::Dag;
use crate::handlers::{self, Handler, Outcome, Request};
use crate::store::{
    AttemptEnd, Change, Owner, StepError, StepState, Store, StoreError, TaskId, TaskRecord,
};
use crate::templates::{Action, Template, interpolate};

/// How often the loop looks for cancel requests.
const TICK: Duration = Duration::from_millis(250);
/// How often the owner's heartbeat is written.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Why the loop stopped starting steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    FailFast,
    Deadline,
    Cancel,
    Signal(i32),
}

/// A finished attempt, sent back from its handler task.
struct Done {
    index: usize,
    attempt: u32,
    outcome: Outcome,
}

struct StepRun {
    status: State,
    state: StepState,
    unfinished_parents: usize,
    /// When the current attempt started (ms), for event durations.
    attempt_started_at: i64,
    /// Stops the running attempt: 1 gracefully, 2 at once.
    abort: Option<watch::Sender<u8>>,
    /// An operator asked to cancel this step while it ran: the transition's metadata.
    cancelling: Option<Json>,
    handler: Arc<dyn Handler>,
}

pub(super) struct Run<'a> {
    task: TaskRecord,
    template: &'a Template,
    options: &'a Options,
    subscriber: &'a mut dyn Subscriber,
    halt: watch::Receiver<Halt>,
    halt_open: bool,
    owner: Owner,
    dag: Dag,
    steps: Vec<StepRun>,
    /// Step index by name, for `{{ steps.NAME.results }}` and cancel requests.
    index: HashMap<String, usize>,
    /// Problems worth a word that change nothing (bad `TASKER_EVENTS` lines).
    warnings: Vec<String>,
    ready: VecDeque<usize>,
    backoff: BinaryHeap<Reverse<(i64, usize)>>,
    limit: usize,
    running: usize,
    stopping: Option<Stop>,
    kill_now: bool,
    batch: Vec<Change>,
    events: Vec<Event>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    /// (step, attempt, pid) of each process as soon as it is started.
    spawned_tx: mpsc::UnboundedSender<(usize, u32, u32)>,
    spawned_rx: mpsc::UnboundedReceiver<(usize, u32, u32)>,
    scratch: PathBuf,
    /// The last cancel request seen.
    cancel_seen: i64,
    next_tick: Instant,
    next_beat: Instant,
}

fn meta(reason: &str) -> Json {
    json!({ "actor": "tasker", "reason": reason })
}

/// Where a runner keeps its attempts' files (`TASKER_INPUT`, live output, …).
pub fn scratch_dir(task_id: TaskId, pid: u32) -> PathBuf {
    std::env::temp_dir().join(format!("tasker-{task_id}-{pid}"))
}

impl<'a> Run<'a> {
    pub(super) async fn start(
        store: &mut dyn Store,
        task_id: TaskId,
        template: &'a Template,
        options: &'a Options,
        subscriber: &'a mut dyn Subscriber,
        halt: watch::Receiver<Halt>,
    ) -> Result<Finish, StoreError> {
        let owner = owner::this_process();
        store.claim(task_id, &owner, &owner::alive)?;
        let task = store.task(task_id)?.ok_or_else(|| {
            StoreError::Corrupt(format!("task {task_id} vanished while it was claimed"))
        })?;
        let mut run = Run::new(task, template, options, subscriber, halt, owner)?;
        std::fs::create_dir_all(&run.scratch).map_err(|e| StoreError::Open {
            path: run.scratch.display().to_string(),
            message: format!("cannot create the scratch directory: {e}"),
        })?;
        let result = run.drive(store).await;
        let _ = std::fs::remove_dir_all(&run.scratch);
        result
    }

    fn new(
        task: TaskRecord,
        template: &'a Template,
        options: &'a Options,
        subscriber: &'a mut dyn Subscriber,
        halt: watch::Receiver<Halt>,
        owner: Owner,
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
        let dag = Dag::new(template);
        let steps: Vec<StepRun> = task
            .steps
            .iter()
            .zip(&template.steps)
            .map(|(rec, step)| StepRun {
                status: rec.status,
                state: rec.state.clone(),
                unfinished_parents: 0,
                attempt_started_at: 0,
                abort: None,
                cancelling: None,
                handler: handlers::for_action(&step.action),
            })
            .collect();
        let limit = options
            .concurrency
            .or(template.max_parallel)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let (spawned_tx, spawned_rx) = mpsc::unbounded_channel();
        let scratch = scratch_dir(task.task_id, owner.pid);
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
            events: Vec::new(),
            done_tx,
            done_rx,
            spawned_tx,
            spawned_rx,
            scratch,
            cancel_seen: 0,
            next_tick: now,
            next_beat: now + HEARTBEAT,
        })
    }

    /// Queue an event; it is emitted after the batch it belongs to is committed.
    fn event(&mut self, event: Event) -> &mut Event {
        self.events.push(event);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    /// Queue an event about attempt `attempt` of step `i`, with its transition.
    fn step_event(
        &mut self,
        kind: Kind,
        i: usize,
        attempt: u32,
        from: State,
        to: State,
    ) -> &mut Event {
        let event = Event::new(kind, self.task.task_id)
            .step(&self.template.steps[i].name, attempt)
            .states(from, to);
        self.event(event)
    }

    /// Commit the batch, then tell subscribers: nothing is reported before it is durable.
    fn flush(&mut self, store: &mut dyn Store) -> Result<(), StoreError> {
        store.commit(&self.batch)?;
        self.batch.clear();
        for e in self.events.drain(..) {
            self.subscriber.on_event(&e);
        }
        for w in self.warnings.drain(..) {
            self.subscriber.warning(self.task.task_id, &w);
        }
        Ok(())
    }

    fn task_change(&mut self, from: State, to: State, metadata: Json) {
        self.batch.push(Change::Task {
            task_id: self.task.task_id,
            from,
            to,
            actor: Actor::Engine,
            metadata,
        });
        self.task.status = to;
    }

    fn step_change(&mut self, i: usize, to: State, metadata: Json) {
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

    /// Bring the task to `in_progress` and take over what an earlier runner left.
    fn take_over(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        let now = now_ms();
        match self.task.status {
            State::Pending => {}
            State::Error => self.task_change(State::Error, State::Pending, meta("resume")),
            State::InProgress => {
                let e = Event::new(Kind::OrphanRecovered, self.task.task_id);
                self.event(e);
            }
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
        for i in 0..self.steps.len() {
            if self.steps[i].status != State::InProgress {
                continue;
            }
            let attempt = self.steps[i].state.attempts;
            // What the dead runner started may still run: it must not run twice at once.
            let step_id = self.task.steps[i].step_id;
            if let Some((pid, started)) = store
                .attempts(step_id)?
                .into_iter()
                .find(|a| a.attempt == attempt)
                .and_then(|a| a.process)
            {
                handlers::kill_leftovers(pid, started);
            }
            let error = StepError {
                class: "interrupted".into(),
                message: "the runner stopped before the attempt ended".into(),
            };
            self.batch.push(Change::AttemptFinished {
                step_id: self.task.steps[i].step_id,
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
                (State::Pending, _) => self.ready.push_back(i),
                (State::Error, Some(at)) => self.backoff.push(Reverse((at, i))),
                _ => {}
            }
        }
        Ok(())
    }

    async fn drive(&mut self, store: &mut dyn Store) -> Result<Finish, StoreError> {
        let started = now_ms();
        // Cancel requests made before this run are not for it.
        self.cancel_seen = store
            .annotations(self.task.task_id, "cancel_request", 0)?
            .last()
            .map_or(0, |(id, _)| *id);
        self.take_over(store)?;
        let deadline = self.template.timeout.map(|t| Instant::now() + t);
        let mut to_spawn = Vec::new();
        loop {
            if Instant::now() >= self.next_tick {
                self.tick(store)?;
            }
            if self.stopping.is_none() {
                self.start_ready(&mut to_spawn);
            }
            self.flush(store)?;
            for i in to_spawn.drain(..) {
                self.spawn(i);
            }
            if self.running == 0
                && (self.stopping.is_some() || (self.ready.is_empty() && self.backoff.is_empty()))
            {
                break;
            }
            self.wait(deadline).await;
        }
        self.finish(store, started)
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
            self.step_change(
                i,
                State::Pending,
                json!({"actor": "tasker", "reason": "retry", "attempt": attempt + 1}),
            );
            self.step_event(
                Kind::StepRetryRequested,
                i,
                attempt + 1,
                State::Error,
                State::Pending,
            );
            self.ready.push_back(i);
        }
        while self.running + to_spawn.len() < self.limit {
            let Some(i) = self.ready.pop_front() else {
                break;
            };
            if self.steps[i].status != State::Pending {
                continue;
            }
            self.start_step(i, now);
            to_spawn.push(i);
        }
    }

    /// Move step `i` to `in_progress` for its next attempt (committed before it is spawned).
    fn start_step(&mut self, i: usize, now: i64) {
        let s = &mut self.steps[i];
        s.state.attempts += 1;
        s.state.started_at.get_or_insert(now);
        s.state.finished_at = None;
        s.state.next_retry_at = None;
        s.attempt_started_at = now;
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
        self.step_event(
            Kind::StepExecutionRequested,
            i,
            attempt,
            State::Pending,
            State::InProgress,
        );
    }

    fn spawn(&mut self, i: usize) {
        let attempt = self.steps[i].state.attempts;
        let (abort_tx, abort_rx) = watch::channel(0u8);
        self.steps[i].abort = Some(abort_tx);
        self.running += 1;
        let request = match self.prepare(i, attempt, abort_rx) {
            Ok(request) => request,
            Err(failure) => {
                // Nothing ran: report the attempt as failed through the usual path.
                let _ = self.done_tx.send(Done {
                    index: i,
                    attempt,
                    outcome: Outcome::failed(failure),
                });
                return;
            }
        };
        let handler = Arc::clone(&self.steps[i].handler);
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let outcome = handler.execute(request).await;
            let _ = tx.send(Done {
                index: i,
                attempt,
                outcome,
            });
        });
    }

    /// Everything attempt `attempt` of step `i` needs: resolved references, its
    /// environment, its input document on disk.
    fn prepare(
        &self,
        i: usize,
        attempt: u32,
        abort: watch::Receiver<u8>,
    ) -> Result<Request, handlers::Failure> {
        let step = &self.template.steps[i];
        let task = &self.task;
        let base = self.scratch.join(format!("{i}-{attempt}"));
        let output_path = base.with_extension("json");
        let mut request = Request {
            task_id: task.task_id,
            task_name: task.name.clone(),
            namespace: task.namespace.clone(),
            step_name: step.name.clone(),
            attempt,
            action: Action::Noop,
            input: Arc::default(),
            retry: step.retry.clone(),
            env: Vec::new(),
            cwd: match &step.cwd {
                Some(c) => PathBuf::from(&task.workdir).join(c),
                None => PathBuf::from(&task.workdir),
            },
            timeout: step.timeout,
            kill_grace: self.options.kill_grace,
            output_limit: self.options.output_limit,
            output_path: output_path.clone(),
            live_output: Some(base.clone()),
            spawned: Some(handlers::Spawned {
                tx: self.spawned_tx.clone(),
                index: i,
                attempt,
            }),
            abort,
        };
        if step.action == Action::Noop {
            return Ok(request);
        }

        let results = |j: usize| self.steps[j].state.results.as_ref();
        let interpolation = |e: String| handlers::Failure::permanent("interpolation", e);
        let raw: Vec<(String, String)> =
            self.template.env.iter().chain(&step.env).cloned().collect();
        let scope = RunScope {
            task,
            index: &self.index,
            results: &results,
            env: &raw,
        };
        let mut env = raw
            .iter()
            .map(|(k, v)| Ok((k.clone(), interpolate::render(v, &scope, false)?)))
            .collect::<Result<Vec<_>, String>>()
            .map_err(interpolation)?;
        let scope = RunScope { env: &env, ..scope };
        request.action = inputs::resolve_action(&step.action, &scope).map_err(interpolation)?;

        let input = inputs::input_document(task, self.template, i, attempt, &|j| {
            self.steps[j].state.results.clone()
        });
        let input = serde_json::to_vec(&input).unwrap_or_default();
        let input_path = base.with_extension("input.json");
        std::fs::write(&input_path, &input).map_err(|e| {
            handlers::Failure::retryable("spawn", format!("cannot write TASKER_INPUT: {e}"))
        })?;
        request.input = Arc::new(input);
        env.extend(inputs::context_vars(&task.context));
        env.extend([
            ("TASKER_TASK_ID".to_owned(), task.task_id.to_string()),
            ("TASKER_TASK_NAME".to_owned(), task.name.clone()),
            ("TASKER_NAMESPACE".to_owned(), task.namespace.clone()),
            ("TASKER_STEP_NAME".to_owned(), step.name.clone()),
            ("TASKER_ATTEMPT".to_owned(), attempt.to_string()),
            (
                "TASKER_RETRY_LIMIT".to_owned(),
                step.retry.limit.to_string(),
            ),
            ("TASKER_INPUT".to_owned(), input_path.display().to_string()),
            (
                "TASKER_OUTPUT".to_owned(),
                output_path.display().to_string(),
            ),
            (
                "TASKER_EVENTS".to_owned(),
                base.with_extension("events").display().to_string(),
            ),
        ]);
        request.env = env;
        Ok(request)
    }

    /// Sleep until an attempt finishes, a retry comes due, the deadline passes, the next
    /// tick, or a signal.
    async fn wait(&mut self, deadline: Option<Instant>) {
        let retry_due =
            self.backoff
                .peek()
                .filter(|_| self.stopping.is_none())
                .map(|Reverse((at, _))| {
                    Instant::now() + Duration::from_millis((at - now_ms()).max(0) as u64)
                });
        let deadline = deadline.filter(|_| self.stopping.is_none());
        let tick = self.next_tick;
        tokio::select! {
            biased;
            changed = self.halt.changed(), if self.halt_open => {
                match changed {
                    Ok(()) => {
                        let halt = *self.halt.borrow_and_update();
                        match halt {
                            Halt::None => {}
                            Halt::Signal(sig) => self.stop(Stop::Signal(sig)),
                            Halt::Kill(sig) => {
                                self.kill_now = true;
                                self.stop(Stop::Signal(sig));
                            }
                        }
                    }
                    Err(_) => self.halt_open = false,
                }
            }
            Some((i, attempt, pid)) = self.spawned_rx.recv() => {
                // Recorded at the next commit, so that a later runner can stop the process
                // group should this runner die.
                self.batch.push(Change::AttemptProcess {
                    step_id: self.task.steps[i].step_id,
                    attempt,
                    pid,
                    started_at: handlers::start_time(pid).unwrap_or(0),
                });
                while let Ok((i, attempt, pid)) = self.spawned_rx.try_recv() {
                    self.batch.push(Change::AttemptProcess {
                        step_id: self.task.steps[i].step_id,
                        attempt,
                        pid,
                        started_at: handlers::start_time(pid).unwrap_or(0),
                    });
                }
            }
            Some(done) = self.done_rx.recv() => {
                self.finished(done);
                while let Ok(more) = self.done_rx.try_recv() {
                    self.finished(more);
                }
            }
            () = sleep_until(retry_due), if retry_due.is_some() => {}
            () = sleep_until(deadline), if deadline.is_some() => self.stop(Stop::Deadline),
            () = tokio::time::sleep_until(tick) => {}
        }
    }

    /// The periodic work: cancel requests from other processes, the owner's heartbeat.
    fn tick(&mut self, store: &mut dyn Store) -> Result<(), StoreError> {
        let now = Instant::now();
        self.next_tick = now + TICK;
        for (id, request) in
            store.annotations(self.task.task_id, "cancel_request", self.cancel_seen)?
        {
            self.cancel_seen = id;
            self.cancel(&request);
        }
        if now >= self.next_beat {
            self.next_beat = now + HEARTBEAT;
            store.heartbeat(self.task.task_id, &self.owner)?;
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
                        let _ = abort.send(1);
                    }
                }
                from @ (State::Pending | State::Error) => {
                    self.steps[i].state.next_retry_at = None;
                    self.step_change(i, State::Cancelled, metadata.clone());
                    let attempt = self.steps[i].state.attempts;
                    self.step_event(Kind::StepCancelled, i, attempt, from, State::Cancelled);
                }
                _ => {}
            }
        }
    }

    fn stop(&mut self, why: Stop) {
        if self.stopping.is_none() || matches!(why, Stop::Signal(_)) {
            self.stopping = Some(why);
        }
        if !matches!(why, Stop::FailFast) {
            let level = if self.kill_now { 2 } else { 1 };
            for s in &self.steps {
                if let Some(abort) = &s.abort {
                    let _ = abort.send(level);
                }
            }
        }
    }

    /// Record how an attempt ended and what it makes ready.
    fn finished(&mut self, done: Done) {
        self.running -= 1;
        let Done {
            index: i,
            attempt,
            mut outcome,
        } = done;
        self.steps[i].abort = None;
        let now = now_ms();
        let interrupted = outcome
            .failure
            .as_ref()
            .is_some_and(|f| f.class == "interrupted");
        if interrupted
            && self.stopping == Some(Stop::Deadline)
            && let Some(f) = &mut outcome.failure
        {
            let after = self
                .template
                .timeout
                .map(crate::templates::duration::human)
                .unwrap_or_default();
            f.class = "timeout";
            f.message = format!("the task timed out after {after}");
            f.permanent = true;
        }
        let cancelled = interrupted
            && (self.steps[i].cancelling.is_some() || self.stopping == Some(Stop::Cancel));
        if cancelled && let Some(f) = &mut outcome.failure {
            f.class = "cancelled";
            f.message = "cancelled by an operator".into();
        }
        let error = outcome.failure.as_ref().map(|f| StepError {
            class: f.class.to_owned(),
            message: f.message.clone(),
        });
        let custom_events = self.collect_events(i, attempt, now);
        for ext in ["input.json", "stdout", "stderr"] {
            let _ = std::fs::remove_file(self.scratch.join(format!("{i}-{attempt}.{ext}")));
        }
        self.batch.push(Change::AttemptFinished {
            step_id: self.task.steps[i].step_id,
            attempt,
            end: AttemptEnd {
                custom_events,
                outcome: if error.is_some() {
                    State::Error
                } else {
                    State::Complete
                },
                exit_code: outcome.exit_code,
                signal: outcome.signal,
                error: error.clone(),
                stdout: std::mem::take(&mut outcome.stdout.bytes),
                stderr: std::mem::take(&mut outcome.stderr.bytes),
                stdout_dropped: outcome.stdout.dropped,
                stderr_dropped: outcome.stderr.dropped,
            },
        });
        let s = &mut self.steps[i];
        let took = (now - s.attempt_started_at).max(0) as u64;
        s.state.finished_at = Some(now);
        if !interrupted {
            s.state.counted += 1;
        }
        let Some(failure) = outcome.failure else {
            s.state.results = outcome.result;
            s.state.error = None;
            s.state.flaky = attempt > 1;
            self.step_change(
                i,
                State::Complete,
                json!({"actor": "tasker", "attempt": attempt}),
            );
            self.step_event(
                Kind::StepCompleted,
                i,
                attempt,
                State::InProgress,
                State::Complete,
            )
            .duration_ms = Some(took);
            let children: Vec<usize> = self.dag.children(i).collect();
            for c in children {
                let child = &mut self.steps[c];
                child.unfinished_parents -= 1;
                if child.unfinished_parents == 0 && child.status == State::Pending {
                    self.ready.push_back(c);
                }
            }
            return;
        };
        s.state.error = error.clone();

        if cancelled {
            let mut metadata = s
                .cancelling
                .take()
                .unwrap_or_else(|| meta("the task was cancelled"));
            metadata["attempt"] = json!(attempt);
            s.state.next_retry_at = None;
            self.step_change(i, State::Cancelled, metadata);
            self.step_event(
                Kind::StepCancelled,
                i,
                attempt,
                State::InProgress,
                State::Cancelled,
            );
            return;
        }

        let policy = &self.template.steps[i].retry;
        let kind = if failure.permanent {
            Failure::Permanent
        } else {
            Failure::Retryable
        };
        let decision = if interrupted {
            // Interrupted attempts are retried on resume, whatever the policy says.
            Decision::RetryAfter(Duration::ZERO)
        } else {
            retry::decide(
                policy,
                s.state.counted,
                kind,
                failure.retry_after,
                rand::random_range(0.0..1.0),
            )
        };
        let mut metadata =
            json!({"actor": "tasker", "attempt": attempt, "error_class": failure.class});
        match decision {
            Decision::RetryAfter(delay) => {
                let at = now + delay.as_millis() as i64;
                s.state.next_retry_at = Some(at);
                metadata["next_retry_at"] = json!(crate::clock::rfc3339(at));
                self.step_change(i, State::Error, metadata);
                if self.stopping.is_none() {
                    self.backoff.push(Reverse((at, i)));
                }
                let e = self.step_event(
                    Kind::StepFailed,
                    i,
                    attempt,
                    State::InProgress,
                    State::Error,
                );
                e.error = error;
                e.duration_ms = Some(took);
                if !interrupted {
                    let backoff = Event::new(Kind::StepBackoff, self.task.task_id)
                        .step(&self.template.steps[i].name, attempt);
                    self.event(backoff).delay_ms = Some(delay.as_millis() as u64);
                }
            }
            Decision::GiveUp(why) => {
                s.state.next_retry_at = None;
                metadata["final"] = json!(true);
                self.step_change(i, State::Error, metadata);
                let e = self.step_event(
                    Kind::StepFailed,
                    i,
                    attempt,
                    State::InProgress,
                    State::Error,
                );
                e.error = error;
                e.duration_ms = Some(took);
                if why == GiveUp::Exhausted {
                    let exhausted = Event::new(Kind::StepMaxRetriesReached, self.task.task_id)
                        .step(&self.template.steps[i].name, attempt);
                    self.event(exhausted);
                }
                if self.options.fail_fast {
                    self.stop(Stop::FailFast);
                }
            }
        }
    }

    /// The declared events an attempt appended to `TASKER_EVENTS`; warnings for the rest.
    fn collect_events(&mut self, i: usize, attempt: u32, now: i64) -> Vec<Json> {
        let path = self.scratch.join(format!("{i}-{attempt}.events"));
        let Ok(bytes) = std::fs::read(&path) else {
            return Vec::new();
        };
        let _ = std::fs::remove_file(&path);
        let (events, warnings) = inputs::custom_events(
            &String::from_utf8_lossy(&bytes),
            &self.template.custom_events,
            now,
        );
        let step = &self.template.steps[i].name;
        self.warnings
            .extend(warnings.into_iter().map(|w| format!("step `{step}`: {w}")));
        events
    }

    /// Decide the task's final state and commit it.
    fn finish(&mut self, store: &mut dyn Store, started: i64) -> Result<Finish, StoreError> {
        if let Some(Stop::Signal(sig)) = self.stopping {
            // Leave the task resumable: back to pending, owner released.
            self.task_change(
                State::InProgress,
                State::Pending,
                json!({"actor": "tasker", "reason": "interrupted", "signal": sig}),
            );
            self.flush(store)?;
            return Ok(Finish {
                state: State::Pending,
                interrupted: Some(sig),
            });
        }
        if self.stopping == Some(Stop::Cancel) {
            // Steps that were running are recorded by now; cancel what never started.
            for i in 0..self.steps.len() {
                if let from @ (State::Pending | State::Error) = self.steps[i].status {
                    self.steps[i].state.next_retry_at = None;
                    self.step_change(i, State::Cancelled, meta("the task was cancelled"));
                    let attempt = self.steps[i].state.attempts;
                    self.step_event(Kind::StepCancelled, i, attempt, from, State::Cancelled);
                }
            }
        }
        let all_done = self.steps.iter().all(|s| s.status.is_satisfied());
        let any_cancelled = self.steps.iter().any(|s| s.status == State::Cancelled);
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
        let end = Event::new(kind, self.task.task_id).states(State::InProgress, to);
        self.event(end).duration_ms = Some((now_ms() - started).max(0) as u64);
        self.flush(store)?;
        Ok(Finish {
            state: to,
            interrupted: None,
        })
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
