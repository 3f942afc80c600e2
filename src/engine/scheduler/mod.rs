//! The scheduler: the run's state and every decision about it, with no I/O.
//!
//! State in, decisions out. It is told what happened (an attempt ended, a cancel request
//! arrived, the clock moved) and answers with what to do: the steps to start, the running
//! steps to stop, when to wake next, and the changes and events to commit (gathered in
//! [`Scheduler::batch`] and [`Scheduler::events`]). It reads the time from the injected
//! clock and draws jitter from an injected source; the driver (`engine::run`) does the I/O —
//! the store, processes, signals, subscribers — and the tests drive it with a fake clock.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::queue::Queue;
use super::{Clock, Options};
use crate::events::{Event, Kind, TraceRef, Waiting, What};
use crate::graph::Dag;
use crate::handlers::{Abort, Outcome};
use crate::model::{Actor, State};
use crate::store::{Change, Metadata, Restated, StepState, StoreError, TaskRecord};
use crate::templates::{Action, Template};

mod attempt;
mod takeover;
#[cfg(test)]
mod tests;

pub(super) use attempt::Adopted;
pub use takeover::parse_traceparent;

/// Changes and events one commit holds at most when noop steps chain within a round.
pub(super) const BATCH_CAP: usize = 2048;

/// Why the run stopped starting steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    FailFast,
    Deadline,
    Cancel,
    Signal(i32),
}

/// A finished attempt, as its handler reports it.
#[derive(Clone)]
pub(super) struct Done {
    pub index: usize,
    pub attempt: u32,
    pub outcome: Outcome,
}

/// A running step to signal: stop it gracefully, or kill it.
pub(super) type Signal = (usize, Abort);

/// One step as the scheduler sees it.
pub(super) struct Step {
    pub status: State,
    pub state: StepState,
    /// When the current attempt started (ms), for event durations.
    pub attempt_started_at: i64,
    /// When the step last became ready (ms), for the ready → running wait.
    pub ready_at: Option<i64>,
    /// An operator asked to cancel this step while it ran: the transition's metadata.
    pub cancelling: Option<Json>,
    /// Its attempt runs (launched, not yet finished).
    pub running: bool,
    /// This run's span of the step, and of its current attempt.
    pub span: Option<u64>,
    pub attempt_span: Option<u64>,
}

pub(super) struct Scheduler {
    pub task: TaskRecord,
    pub template: Arc<Template>,
    clock: Arc<dyn Clock>,
    /// A sample in `[0, 1)` for backoff jitter.
    random: fn() -> f64,
    fail_fast: bool,
    pub dag: Dag,
    pub steps: Vec<Step>,
    /// Step index by name, for `{{ steps.NAME.results }}` and cancel requests.
    pub index: HashMap<String, usize>,
    /// Readiness and retries due.
    queue: Queue,
    limit: usize,
    /// Attempts launched and not yet finished.
    running: usize,
    /// Steps moved to `in_progress` and not yet launched (their start is being committed).
    starting: usize,
    stopping: Option<Stop>,
    kill_now: bool,
    /// When the task times out (ms), once it has started.
    deadline: Option<i64>,
    /// Announced that nothing can start until a retry is due (once per such wait).
    idle_announced: bool,
    /// Changes to commit with the next batch.
    pub batch: Vec<Change>,
    /// Events to record with the next batch and report once it is durable.
    pub events: Vec<Event>,
    next_seq: u64,
    pub trace: TraceRef,
    /// The store keeps the events a row restates on that row ([`Restated`]): the changes
    /// carry them, and their text is left out of the batch.
    pub restate: bool,
    /// The numbers of the queued events kept on rows, in order.
    pub restated: Vec<u64>,
    /// Handlers' calls to keep on their attempts' rows ([`Change::Handling`]): they ride
    /// with the next batch, as their events do, and need no commit of their own.
    pub handling: Vec<Change>,
}

pub(super) fn meta(reason: &str) -> Json {
    json!({ "actor": "tasker", "reason": reason })
}

/// A new random span id (never zero).
pub(super) fn span_id() -> u64 {
    rand::random_range(1..u64::MAX)
}

/// A string of a transition's metadata (`actor`, `reason`), empty when absent.
pub(super) fn text(value: &Json) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn jitter() -> f64 {
    rand::random_range(0.0..1.0)
}

impl Scheduler {
    /// The scheduler of `task`, created from `template`; its events are numbered from
    /// `next_seq`. A task whose steps are not the template's is refused.
    pub(super) fn new(
        task: TaskRecord,
        template: Arc<Template>,
        options: &Options,
        next_seq: u64,
    ) -> Result<Scheduler, StoreError> {
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
        let steps = task
            .steps
            .iter()
            .map(|rec| Step {
                status: rec.status,
                state: rec.state.clone(),
                attempt_started_at: 0,
                ready_at: None,
                cancelling: None,
                running: false,
                span: None,
                attempt_span: None,
            })
            .collect();
        let limit = options
            .concurrency
            .or(template.max_parallel)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let index = template
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let dag = template.dag();
        let queue = Queue::new(template.steps.len());
        Ok(Scheduler {
            task,
            template,
            clock: Arc::clone(&options.clock),
            random: jitter,
            fail_fast: options.fail_fast,
            dag,
            steps,
            index,
            queue,
            limit,
            running: 0,
            starting: 0,
            stopping: None,
            kill_now: false,
            deadline: None,
            idle_announced: false,
            batch: Vec::new(),
            events: Vec::new(),
            next_seq,
            trace: TraceRef::default(),
            restate: false,
            restated: Vec::new(),
            handling: Vec::new(),
        })
    }

    /// The time, as the run's clock says.
    pub(super) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(super) fn is_noop(&self, i: usize) -> bool {
        self.template.steps[i].action == Action::Noop
    }

    /// Attempts running now.
    pub(super) fn running(&self) -> usize {
        self.running
    }

    pub(super) fn stopping(&self) -> Option<Stop> {
        self.stopping
    }

    /// The task's deadline (ms), for a scheduler that did not take the task over (a
    /// worker's: the deadline is the task's `started_at` plus its `timeout`).
    pub(super) fn set_deadline(&mut self, at: Option<i64>) {
        self.deadline = at;
    }

    /// Whether the task has a deadline.
    pub(super) fn has_deadline(&self) -> bool {
        self.deadline.is_some()
    }

    /// Look at the clock: past the task's deadline, the run stops.
    pub(super) fn advance(&mut self) -> Vec<Signal> {
        match self.deadline {
            Some(at) if self.stopping.is_none() && self.now() >= at => self.stop(Stop::Deadline),
            _ => Vec::new(),
        }
    }

    /// Move due retries back to `pending`, start ready steps up to the limit, and run the
    /// noop steps among them (they end where they start, in this same batch, and what they
    /// make ready starts in it as well; past the batch cap the rest waits for the next
    /// round). Returns the steps to launch once the batch is durable.
    pub(super) fn start_ready(&mut self) -> Vec<usize> {
        let mut to_launch = Vec::new();
        if self.stopping.is_some() {
            return to_launch;
        }
        self.pick(&mut to_launch);
        while self.stopping.is_none()
            && self.batch.len() + self.events.len() < BATCH_CAP
            && to_launch.iter().any(|&i| self.is_noop(i))
        {
            let (noops, rest): (Vec<usize>, Vec<usize>) =
                to_launch.drain(..).partition(|&i| self.is_noop(i));
            to_launch = rest;
            for i in noops {
                self.launch(i);
            }
            self.pick(&mut to_launch);
        }
        to_launch
    }

    /// Due retries back to `pending`; ready steps to `in_progress` under the limit.
    fn pick(&mut self, to_launch: &mut Vec<usize>) {
        let now = self.now();
        while let Some((at, i)) = self.queue.take_due(now) {
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
            let what = What::StepRetryRequested {
                step_name: self.name(i),
                attempt: attempt + 1,
                from_state: State::Error,
                to_state: State::Pending,
                actor: "tasker".into(),
                reason: Some(if interrupted { "interrupted" } else { "retry" }.into()),
            };
            self.step_event(i, what);
            self.queue.push_ready(i);
        }
        // Noop steps run nothing, so they take no slot: a level of joins starts, ends and
        // is committed in one round. Order is kept: a noop behind a waiting step waits.
        // Steps whose start is being committed hold their slots already.
        let busy = self.running + self.starting;
        // About nine changes and events per noop step keep a round under the cap.
        let noops = (BATCH_CAP.saturating_sub(self.batch.len() + self.events.len()) / 9).max(64);
        let (steps, template) = (&self.steps, &*self.template);
        let started = self.queue.pick(
            busy,
            self.limit,
            noops,
            |i| template.steps[i].action == Action::Noop,
            |i| steps[i].status == State::Pending,
        );
        if started.is_empty() {
            return;
        }
        self.idle_announced = false;
        let steps = started.iter().map(|&i| self.name(i)).collect();
        // The discovery and the starts share one time (read after the retries' events, so
        // that times never go back): the first start's row can then restate the discovery.
        let now = self.now();
        let discovery = Event::new(
            What::WorkflowViableStepsDiscovered {
                steps,
                count: started.len() as u64,
            },
            self.task.task_id,
        );
        self.event(discovery, Some(now));
        let discovered = self.next_seq - 1;
        let first = self.batch.len();
        for &i in &started {
            self.start_step(i, now);
        }
        // Kept on the first start's row when every start is kept on its own, right after.
        let k = started.len();
        let starts_kept = self.restated.len() >= k
            && self.restated[self.restated.len() - k..]
                .iter()
                .copied()
                .eq(discovered + 1..=discovered + k as u64);
        if self.restate
            && starts_kept
            && let Some(Change::Step {
                restates: Some(r), ..
            }) = self.batch.get_mut(first)
            && r.seq == discovered + 1
        {
            r.discovered = Some(k as u32);
            let at = self.restated.len() - k;
            self.restated.insert(at, discovered);
        }
        to_launch.extend(started);
    }

    /// Move step `i` to `in_progress` for its next attempt (committed before it is launched).
    fn start_step(&mut self, i: usize, now: i64) {
        tracing::debug!(task_id = self.task.task_id, step = %self.template.steps[i].name, "starting");
        self.starting += 1;
        let s = &mut self.steps[i];
        s.state.attempts += 1;
        s.state.started_at.get_or_insert(now);
        s.state.finished_at = None;
        s.state.next_retry_at = None;
        s.attempt_started_at = now;
        let step_id = self.task.steps[i].step_id;
        s.span = Some(self.trace.step_span_of(step_id));
        s.attempt_span = Some(self.trace.attempt_span_of(step_id, s.state.attempts));
        let queue_wait = s.ready_at.take().map_or(0, |r| (now - r).max(0));
        let attempt = s.state.attempts;
        let from = s.status;
        let transition = self.batch.len();
        self.step_change(i, State::InProgress, Metadata::Attempt(attempt));
        self.batch.push(Change::AttemptStarted {
            step_id: self.task.steps[i].step_id,
            attempt,
        });
        let what = What::StepExecutionRequested {
            step_name: self.name(i),
            attempt,
            from_state: State::Pending,
            to_state: State::InProgress,
            queue_wait_ms: queue_wait as u64,
        };
        self.step_event_at(i, what, Some(now));
        if from == State::Pending {
            self.restate_on(transition);
        }
    }

    /// Keep the event queued last on the row of the step transition `batch[at]`, which
    /// restates it, when the store does so: its text then stays out of the batch.
    pub(super) fn restate_on(&mut self, at: usize) {
        if !self.restate {
            return;
        }
        let Some(e) = self.events.last() else { return };
        let (attempt, ms) = match &e.what {
            What::StepExecutionRequested {
                attempt,
                queue_wait_ms,
                ..
            } => (*attempt, *queue_wait_ms),
            What::StepCompleted {
                attempt,
                duration_ms,
                ..
            } => (*attempt, *duration_ms),
            _ => return,
        };
        let restated = Restated {
            seq: e.seq,
            at: e.timestamp,
            attempt,
            ms,
            discovered: None,
        };
        let Some(Change::Step {
            from, to, restates, ..
        }) = self.batch.get_mut(at)
        else {
            return;
        };
        debug_assert_eq!(
            crate::store::restated::transition_event(
                e.what.step().map_or("", |(n, _)| n),
                *from,
                *to,
                &restated,
                match &e.what {
                    What::StepCompleted { exit_code, .. } => *exit_code,
                    _ => None,
                },
            )
            .as_ref(),
            Some(&e.what),
            "a transition's row restates its event exactly"
        );
        *restates = Some(restated);
        self.restated.push(e.seq);
    }

    /// When the scheduler next needs to look, if nothing else happens first: the earliest
    /// retry due or the task's deadline (neither once the run is stopping).
    pub(super) fn wake(&self) -> Option<i64> {
        if self.stopping.is_some() {
            return None;
        }
        match (self.queue.next_retry(), self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A step could start at once: one is ready and it is a noop or a slot is free.
    pub(super) fn can_start(&self) -> bool {
        self.stopping.is_none()
            && self
                .queue
                .front()
                .is_some_and(|i| self.is_noop(i) || self.running + self.starting < self.limit)
    }

    /// Nothing runs or starts, and nothing more will: stopping, or nothing left to wait for.
    pub(super) fn is_over(&self) -> bool {
        self.running == 0 && self.starting == 0 && (self.stopping.is_some() || self.queue.is_idle())
    }

    /// Nothing runs and only retries not yet due remain: say so once per such wait. Whether
    /// it was said now.
    pub(super) fn announce_idle(&mut self) -> bool {
        if self.running > 0
            || self.starting > 0
            || self.queue.ready_len() > 0
            || self.idle_announced
            || self.is_over()
        {
            return false;
        }
        self.idle_announced = true;
        let waiting_steps = self.queue.waiting().map(|i| self.name(i)).collect();
        self.emit(What::WorkflowNoViableSteps {
            reason: Waiting::WaitingForRetry,
            waiting_steps,
        });
        true
    }

    /// Act on `tasker cancel`: the whole task, or the named steps. Running steps targeted
    /// are signalled, and cancelled when their attempt ends.
    pub(super) fn cancel(&mut self, request: &Json) -> Vec<Signal> {
        let states: Vec<State> = self.steps.iter().map(|s| s.status).collect();
        let decided = super::cancel::decide(request, &self.index, &states);
        let mut signals = if decided.whole {
            self.stop(Stop::Cancel)
        } else {
            Vec::new()
        };
        for i in decided.stop {
            self.steps[i].cancelling = Some(decided.metadata.clone());
            if self.steps[i].running && !signals.iter().any(|(s, _)| *s == i) {
                signals.push((i, Abort::Stop));
            }
        }
        for i in decided.now {
            self.cancel_step(i, &decided.metadata);
        }
        signals
    }

    /// Cancel a step that is not running.
    fn cancel_step(&mut self, i: usize, metadata: &Json) {
        let from = self.steps[i].status;
        self.steps[i].state.next_retry_at = None;
        self.step_change(i, State::Cancelled, metadata.clone());
        let what = What::StepCancelled {
            step_name: self.name(i),
            attempt: self.steps[i].state.attempts,
            from_state: from,
            to_state: State::Cancelled,
            actor: text(&metadata["actor"]),
            reason: text(&metadata["reason"]),
        };
        self.step_event(i, what);
    }

    /// Stop starting steps; unless only fail-fast asks, stop the running ones too.
    pub(super) fn stop(&mut self, why: Stop) -> Vec<Signal> {
        if self.stopping.is_none() || matches!(why, Stop::Signal(_)) {
            self.stopping = Some(why);
        }
        if matches!(why, Stop::FailFast) {
            return Vec::new();
        }
        let level = if self.kill_now {
            Abort::Kill
        } else {
            Abort::Stop
        };
        (0..self.steps.len())
            .filter(|&i| self.steps[i].running)
            .map(|i| (i, level))
            .collect()
    }

    /// A second signal: kill the running steps at once.
    pub(super) fn kill(&mut self, signal: i32) -> Vec<Signal> {
        self.kill_now = true;
        self.stop(Stop::Signal(signal))
    }

    /// The run is over: decide the task's final state and gather its last changes and
    /// events. A run stopped by a signal leaves the task resumable (`pending`) instead;
    /// the signal is returned with the state.
    /// The task's steps as this run left them: what it read at its start, with each step's
    /// state as it committed it. `None` when a step has attempts not counted (interrupted
    /// ones), whose number only a read can tell.
    pub(super) fn steps_as_left(&mut self) -> Option<Vec<crate::store::StepRecord>> {
        if self
            .steps
            .iter()
            .any(|s| s.state.attempts != s.state.counted)
        {
            return None;
        }
        let mut steps = std::mem::take(&mut self.task.steps);
        for (record, step) in steps.iter_mut().zip(&mut self.steps) {
            record.status = step.status;
            record.state = std::mem::take(&mut step.state);
            record.interrupted = 0;
        }
        Some(steps)
    }

    pub(super) fn finish(&mut self, started: i64) -> (State, Option<i32>) {
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
            return (State::Pending, Some(sig));
        }
        self.emit(What::WorkflowTaskFinalizationStarted {});
        if self.stopping == Some(Stop::Cancel) {
            // Steps that were running are recorded by now; cancel what never started.
            let metadata = meta("the task was cancelled");
            for i in 0..self.steps.len() {
                if matches!(self.steps[i].status, State::Pending | State::Error) {
                    self.cancel_step(i, &metadata);
                }
            }
        }
        let names = |pick: &dyn Fn(State) -> bool| -> Vec<String> {
            (0..self.steps.len())
                .filter(|&i| pick(self.steps[i].status))
                .map(|i| self.template.steps[i].name.clone())
                .collect()
        };
        let unfinished = names(&|s| matches!(s, State::Pending | State::Error));
        let failed = names(&|s| s == State::Error);
        let states: Vec<State> = self.steps.iter().map(|s| s.status).collect();
        let ending = super::outcome::ending(&states, self.stopping == Some(Stop::Deadline));
        if ending.state != State::Complete && !unfinished.is_empty() {
            self.emit(What::WorkflowNoViableSteps {
                reason: Waiting::Blocked,
                waiting_steps: unfinished,
            });
        }
        let (to, kind, reason) = (ending.state, ending.kind, ending.reason);
        self.task_change(State::InProgress, to, meta(reason));
        let took = (self.now() - started).max(0) as u64;
        let (from_state, to_state, duration_ms) = (State::InProgress, to, took);
        self.emit(match kind {
            Kind::TaskFailed => What::TaskFailed {
                from_state,
                to_state,
                duration_ms,
                failed_steps: failed,
            },
            Kind::TaskCancelled => What::TaskCancelled {
                from_state,
                to_state,
                duration_ms: Some(duration_ms),
                actor: "tasker".into(),
                reason: reason.into(),
            },
            _ => What::TaskCompleted {
                from_state,
                to_state,
                duration_ms,
            },
        });
        tracing::info!(task_id = self.task.task_id, state = %to, duration_ms = took, "the task ended");
        self.emit(What::WorkflowTaskFinalizationCompleted {
            to_state: to,
            duration_ms: took,
        });
        (to, None)
    }

    pub(super) fn task_change(&mut self, from: State, to: State, metadata: Json) {
        self.batch.push(Change::Task {
            task_id: self.task.task_id,
            from,
            to,
            actor: Actor::Engine,
            metadata,
        });
        self.task.status = to;
    }

    pub(super) fn step_change(&mut self, i: usize, to: State, metadata: impl Into<Metadata>) {
        let metadata = metadata.into();
        let s = &mut self.steps[i];
        self.batch.push(Change::Step {
            step_id: self.task.steps[i].step_id,
            from: s.status,
            to,
            actor: Actor::Engine,
            metadata,
            state: s.state.clone(),
            restates: None,
        });
        s.status = to;
    }

    /// Queue an event, at the clock's time: it is recorded with the batch it belongs to
    /// and given to the subscribers once that batch is committed.
    fn event(&mut self, mut event: Event, at: Option<i64>) {
        event.seq = self.next_seq;
        self.next_seq += 1;
        event.timestamp = at.unwrap_or_else(|| self.now());
        if event.trace.is_none() {
            event.trace = Some(self.trace);
        }
        self.events.push(event);
    }

    /// Queue an event about the task.
    pub(super) fn emit(&mut self, what: What) {
        self.event(Event::new(what, self.task.task_id), None);
    }

    /// Queue an event about step `i`, placed in the spans of the step and its current
    /// attempt.
    pub(super) fn step_event(&mut self, i: usize, what: What) {
        self.step_event_at(i, what, None);
    }

    /// [`Scheduler::step_event`], at time `at` when given (else the clock's).
    pub(super) fn step_event_at(&mut self, i: usize, what: What, at: Option<i64>) {
        let mut trace = self.trace;
        trace.step_span = self.steps[i].span;
        trace.attempt_span = self.steps[i].attempt_span;
        let mut event = Event::new(what, self.task.task_id);
        event.trace = Some(trace);
        self.event(event, at);
    }

    /// Step `i`'s name.
    pub(super) fn name(&self, i: usize) -> String {
        self.template.steps[i].name.clone()
    }
}
