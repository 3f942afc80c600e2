//! The engine: runs a stored task to its end through the [`Store`] trait.
//!
//! One loop: start what is ready (committing `in_progress` first) → wait for an attempt to
//! finish, a retry to come due, the task deadline or a stop → record the outcomes → repeat.
//! Readiness is incremental: each step counts its unfinished parents.

mod inputs;
pub mod report;
pub mod retry;
pub mod state;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::clock::now_ms;
use crate::events::{Event, Kind, Subscriber};
use crate::graph::Dag;
use crate::handlers::{self, Handler, Outcome, Request};
use crate::store::{
    AttemptEnd, Change, Owner, StepError, StepState, Store, StoreError, TaskRecord,
};
use crate::templates::Action;
use crate::templates::Template;
use crate::templates::interpolate;
use inputs::RunScope;
use retry::{Decision, Failure, GiveUp};
use state::{Actor, State};

/// How a run behaves; the command line fills it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Steps running at once; `None` uses the template's `max_parallel`, else the CPU count.
    pub concurrency: Option<usize>,
    /// Stop starting steps after the first step fails for good.
    pub fail_fast: bool,
    /// Between SIGTERM and SIGKILL when a step is stopped.
    pub kill_grace: Duration,
    /// Bytes of stdout and of stderr kept per attempt.
    pub output_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: None,
            fail_fast: false,
            kill_grace: Duration::from_secs(10),
            output_limit: 1024 * 1024,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finish {
    pub state: State,
    /// The signal that interrupted the run, if one did; the task is then resumable.
    pub interrupted: Option<i32>,
}

/// Why the loop stopped starting steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    FailFast,
    Deadline,
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
    handler: Arc<dyn Handler>,
}

/// Run `task` (created from `template`) until it ends or `stop` carries a signal number.
pub async fn run(
    store: &mut dyn Store,
    task: &TaskRecord,
    template: &Template,
    options: &Options,
    subscriber: &mut dyn Subscriber,
    stop: watch::Receiver<Option<i32>>,
) -> Result<Finish, StoreError> {
    let mut run = Run::new(task, template, options, subscriber, stop)?;
    let result = run.drive(store).await;
    let _ = std::fs::remove_dir_all(&run.scratch);
    result
}

struct Run<'a> {
    task: &'a TaskRecord,
    template: &'a Template,
    options: &'a Options,
    subscriber: &'a mut dyn Subscriber,
    stop: watch::Receiver<Option<i32>>,
    stop_open: bool,
    dag: Dag,
    steps: Vec<StepRun>,
    /// Step index by name, for `{{ steps.NAME.results }}`.
    index: std::collections::HashMap<String, usize>,
    /// Problems worth a word that change nothing (bad `TASKER_EVENTS` lines).
    warnings: Vec<String>,
    ready: VecDeque<usize>,
    backoff: BinaryHeap<Reverse<(i64, usize)>>,
    limit: usize,
    running: usize,
    stopping: Option<Stop>,
    batch: Vec<Change>,
    events: Vec<Event>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    abort_tx: watch::Sender<bool>,
    scratch: PathBuf,
}

fn meta(reason: &str) -> serde_json::Value {
    json!({ "actor": "tasker", "reason": reason })
}

impl<'a> Run<'a> {
    fn new(
        task: &'a TaskRecord,
        template: &'a Template,
        options: &'a Options,
        subscriber: &'a mut dyn Subscriber,
        stop: watch::Receiver<Option<i32>>,
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
        let mut steps: Vec<StepRun> = task
            .steps
            .iter()
            .zip(&template.steps)
            .map(|(rec, step)| StepRun {
                status: rec.status,
                state: rec.state.clone(),
                unfinished_parents: 0,
                attempt_started_at: 0,
                handler: handlers::for_action(&step.action),
            })
            .collect();
        for i in 0..steps.len() {
            steps[i].unfinished_parents = dag
                .parents(i)
                .filter(|&p| !steps[p].status.is_satisfied())
                .count();
        }
        let mut ready = VecDeque::new();
        let mut backoff = BinaryHeap::new();
        for (i, s) in steps.iter().enumerate() {
            if s.unfinished_parents > 0 {
                continue;
            }
            match s.status {
                State::Pending => ready.push_back(i),
                State::Error => {
                    if let Some(at) = s.state.next_retry_at {
                        backoff.push(Reverse((at, i)));
                    }
                }
                _ => {}
            }
        }
        let limit = options
            .concurrency
            .or(template.max_parallel)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let (abort_tx, _) = watch::channel(false);
        let scratch =
            std::env::temp_dir().join(format!("tasker-{}-{}", task.task_id, std::process::id()));
        Ok(Run {
            task,
            template,
            options,
            subscriber,
            stop,
            stop_open: true,
            dag,
            steps,
            index: template
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), i))
                .collect(),
            warnings: Vec::new(),
            ready,
            backoff,
            limit,
            running: 0,
            stopping: None,
            batch: Vec::new(),
            events: Vec::new(),
            done_tx,
            done_rx,
            abort_tx,
            scratch,
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

    fn step_change(&mut self, i: usize, to: State, metadata: serde_json::Value) {
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

    async fn drive(&mut self, store: &mut dyn Store) -> Result<Finish, StoreError> {
        std::fs::create_dir_all(&self.scratch).map_err(|e| StoreError::Open {
            path: self.scratch.display().to_string(),
            message: format!("cannot create the scratch directory: {e}"),
        })?;
        let started = now_ms();
        if self.task.status == State::Pending {
            self.batch.push(Change::Task {
                task_id: self.task.task_id,
                from: State::Pending,
                to: State::InProgress,
                actor: Actor::Engine,
                metadata: meta("run"),
                owner: Some(Owner {
                    pid: std::process::id(),
                    host: hostname(),
                    started_at: started,
                }),
            });
            let start = Event::new(Kind::TaskStartRequested, self.task.task_id)
                .states(State::Pending, State::InProgress);
            self.event(start);
        }
        let deadline = self.template.timeout.map(|t| Instant::now() + t);
        let mut to_spawn = Vec::new();
        loop {
            if self.stopping.is_none() {
                let now = now_ms();
                while let Some(&Reverse((at, i))) = self.backoff.peek() {
                    if at > now {
                        break;
                    }
                    self.backoff.pop();
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
                    self.start(i, now);
                    to_spawn.push(i);
                }
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

    /// Move step `i` to `in_progress` for its next attempt (committed before it is spawned).
    fn start(&mut self, i: usize, now: i64) {
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
        let request = match self.prepare(i, attempt) {
            Ok(request) => request,
            Err(failure) => {
                // Nothing ran: report the attempt as failed through the usual path.
                let _ = self.done_tx.send(Done {
                    index: i,
                    attempt,
                    outcome: Outcome::failed(failure),
                });
                self.running += 1;
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
        self.running += 1;
    }

    /// Everything attempt `attempt` of step `i` needs: resolved references, its
    /// environment, its input document on disk.
    fn prepare(&self, i: usize, attempt: u32) -> Result<Request, handlers::Failure> {
        let step = &self.template.steps[i];
        let task = self.task;
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
            abort: self.abort_tx.subscribe(),
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

    /// Sleep until an attempt finishes, a retry comes due, the deadline passes or a stop.
    async fn wait(&mut self, deadline: Option<Instant>) {
        let retry_due =
            self.backoff
                .peek()
                .filter(|_| self.stopping.is_none())
                .map(|Reverse((at, _))| {
                    Instant::now() + Duration::from_millis((at - now_ms()).max(0) as u64)
                });
        let deadline = deadline.filter(|_| self.stopping.is_none());
        tokio::select! {
            biased;
            changed = self.stop.changed(), if self.stop_open => {
                match changed {
                    Ok(()) => {
                        let sig = *self.stop.borrow_and_update();
                        if let Some(sig) = sig {
                            self.halt(Stop::Signal(sig));
                        }
                    }
                    Err(_) => self.stop_open = false,
                }
            }
            Some(done) = self.done_rx.recv() => {
                self.finished(done);
                while let Ok(more) = self.done_rx.try_recv() {
                    self.finished(more);
                }
            }
            () = sleep_until(retry_due), if retry_due.is_some() => {}
            () = sleep_until(deadline), if deadline.is_some() => self.halt(Stop::Deadline),
        }
    }

    fn halt(&mut self, why: Stop) {
        if self.stopping.is_none() || matches!(why, Stop::Signal(_)) {
            self.stopping = Some(why);
        }
        if matches!(why, Stop::Deadline | Stop::Signal(_)) {
            let _ = self.abort_tx.send(true);
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
        let now = now_ms();
        if let Some(f) = &mut outcome.failure
            && f.class == "interrupted"
            && self.stopping == Some(Stop::Deadline)
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
        let error = outcome.failure.as_ref().map(|f| StepError {
            class: f.class.to_owned(),
            message: f.message.clone(),
        });
        let events_path = self.scratch.join(format!("{i}-{attempt}.events"));
        let custom_events = match std::fs::read(&events_path) {
            Ok(bytes) => {
                let _ = std::fs::remove_file(&events_path);
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
            Err(_) => Vec::new(),
        };
        let _ = std::fs::remove_file(self.scratch.join(format!("{i}-{attempt}.input.json")));
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

        let policy = &self.template.steps[i].retry;
        let kind = if failure.permanent {
            Failure::Permanent
        } else {
            Failure::Retryable
        };
        let decision = if self.stopping.is_some_and(|s| matches!(s, Stop::Signal(_))) {
            // Interrupted attempts are retried on resume, whatever the policy says.
            Decision::RetryAfter(Duration::ZERO)
        } else {
            retry::decide(
                policy,
                attempt,
                kind,
                failure.retry_after,
                rand::random_range(0.0..1.0),
            )
        };
        s.state.error = error.clone();
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
                let backoff = Event::new(Kind::StepBackoff, self.task.task_id)
                    .step(&self.template.steps[i].name, attempt);
                self.event(backoff).delay_ms = Some(delay.as_millis() as u64);
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
                    self.halt(Stop::FailFast);
                }
            }
        }
    }

    /// Decide the task's final state and commit it.
    fn finish(&mut self, store: &mut dyn Store, started: i64) -> Result<Finish, StoreError> {
        if let Some(Stop::Signal(sig)) = self.stopping {
            // Leave the task resumable: back to pending, owner released.
            self.batch.push(Change::Task {
                task_id: self.task.task_id,
                from: State::InProgress,
                to: State::Pending,
                actor: Actor::Engine,
                metadata: json!({"actor": "tasker", "reason": "interrupted", "signal": sig}),
                owner: None,
            });
            self.flush(store)?;
            return Ok(Finish {
                state: State::Pending,
                interrupted: Some(sig),
            });
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
        self.batch.push(Change::Task {
            task_id: self.task.task_id,
            from: State::InProgress,
            to,
            actor: Actor::Engine,
            metadata: meta(reason),
            owner: None,
        });
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

/// This machine's name, for the owner record.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
