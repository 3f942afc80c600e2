//! Attempts: launching a started step, and recording how an attempt ended and what it
//! makes ready.

use std::time::Duration;

use serde_json::{Value as Json, json};

use super::{Done, Scheduler, Stop, meta, text};
use crate::engine::retry::{self, Decision, Failure, GiveUp};
use crate::events::What;
use crate::handlers::{self, Outcome};
use crate::model::{FailureClass, State};
use crate::store::{AttemptEnd, Change, Metadata, StepError};
use crate::templates::Action;

impl Scheduler {
    /// Launch step `i`, whose start is durable: whether it runs a process now (the driver
    /// then runs it). A noop ends here; a step stopped or cancelled while its start was
    /// being committed runs nothing and is recorded as stopped, as it would have been a
    /// moment later, so the store ends up the same. Fail-fast lets what was started run.
    pub(in crate::engine) fn launch(&mut self, i: usize) -> bool {
        self.starting -= 1;
        self.running += 1;
        let attempt = self.steps[i].state.attempts;
        let stopped = matches!(
            self.stopping,
            Some(Stop::Signal(_) | Stop::Cancel | Stop::Deadline)
        ) || self.steps[i].cancelling.is_some();
        if stopped {
            self.finished(
                Done {
                    index: i,
                    attempt,
                    outcome: Outcome::failed(handlers::Failure::retryable(
                        FailureClass::Interrupted,
                        "stopped before it started: the run was stopping",
                    )),
                },
                Vec::new(),
            );
            return false;
        }
        let kind = match &self.template.steps[i].action {
            Action::Command(_) => "command",
            Action::Plugin(_) => "plugin",
            Action::Http(_) => "http",
            Action::Noop => "noop",
        };
        let what = What::StepBeforeHandle {
            step_name: self.name(i),
            attempt,
            handler: kind.into(),
        };
        self.step_event(i, what);
        if self.restate
            && let Some(e) = self.events.last()
        {
            // The attempt's row restates it.
            self.handling.push(Change::Handling {
                step_id: self.task.steps[i].step_id,
                attempt,
                seq: e.seq,
                at: e.timestamp,
                handler: kind,
            });
            self.restated.push(e.seq);
        }
        if self.is_noop(i) {
            // No work: done at once, in the batch that started it.
            self.finished(
                Done {
                    index: i,
                    attempt,
                    outcome: handlers::Noop::outcome(),
                },
                Vec::new(),
            );
            return false;
        }
        self.steps[i].running = true;
        true
    }

    /// Record how an attempt ended and what it makes ready. `custom` holds the declared
    /// events the attempt wrote (each enters the event log, before the step's own).
    pub(in crate::engine) fn finished(&mut self, done: Done, custom: Vec<Json>) {
        self.running -= 1;
        let Done {
            index: i,
            attempt,
            mut outcome,
        } = done;
        self.steps[i].running = false;
        let now = self.now();
        let mut interrupted = outcome
            .failure
            .as_ref()
            .is_some_and(|f| f.class == "interrupted");
        // Stopped by the task's own deadline: a timeout, counted and final, not an
        // interruption to take up again on resume.
        if interrupted
            && self.stopping == Some(Stop::Deadline)
            && let Some(f) = &mut outcome.failure
        {
            interrupted = false;
            let after = self
                .template
                .timeout
                .map(crate::templates::duration::human)
                .unwrap_or_default();
            f.class = FailureClass::Timeout;
            f.message = format!("the task timed out after {after}");
            f.permanent = true;
        }
        let cancelled = interrupted
            && (self.steps[i].cancelling.is_some() || self.stopping == Some(Stop::Cancel));
        if cancelled && let Some(f) = &mut outcome.failure {
            f.class = FailureClass::Cancelled;
            f.message = "cancelled by an operator".into();
        }
        let error = outcome.failure.as_ref().map(|f| StepError {
            class: f.class,
            message: f.message.clone(),
        });
        for e in &custom {
            let what = What::Custom {
                name: text(&e["name"]),
                step_name: self.name(i),
                attempt,
                payload: e["payload"].clone(),
            };
            self.step_event(i, what);
        }
        self.batch.push(Change::AttemptFinished {
            step_id: self.task.steps[i].step_id,
            attempt,
            end: AttemptEnd {
                custom_events: custom,
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
        let exit_code = outcome.exit_code;
        let Some(failure) = outcome.failure else {
            s.state.results = outcome.result;
            s.state.error = None;
            // Flaky: it failed before it passed; an interrupted attempt is no failure.
            s.state.flaky = s.state.counted > 1;
            let transition = self.batch.len();
            self.step_change(i, State::Complete, Metadata::Attempt(attempt));
            let what = What::StepCompleted {
                step_name: self.name(i),
                attempt,
                from_state: State::InProgress,
                to_state: State::Complete,
                duration_ms: took,
                exit_code,
            };
            self.step_event(i, what);
            self.restate_on(transition);
            // Children made ready together start in the template's order.
            let mut children: Vec<usize> = self.dag.children(i).collect();
            children.sort_unstable();
            for c in children {
                if self.queue.parent_done(c) && self.steps[c].status == State::Pending {
                    self.steps[c].ready_at = Some(now);
                    self.queue.push_ready(c);
                }
            }
            return;
        };
        s.state.error = error;

        if cancelled {
            let mut metadata = s
                .cancelling
                .take()
                .unwrap_or_else(|| meta("the task was cancelled"));
            metadata["attempt"] = json!(attempt);
            s.state.next_retry_at = None;
            self.step_change(i, State::Cancelled, metadata.clone());
            let what = What::StepCancelled {
                step_name: self.name(i),
                attempt,
                from_state: State::InProgress,
                to_state: State::Cancelled,
                actor: text(&metadata["actor"]),
                reason: text(&metadata["reason"]),
            };
            self.step_event(i, what);
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
                (self.random)(),
            )
        };
        let limit = policy.limit;
        let mut metadata =
            json!({"actor": "tasker", "attempt": attempt, "error_class": failure.class});
        let retrying = matches!(decision, Decision::RetryAfter(_));
        match decision {
            Decision::RetryAfter(delay) => {
                let at = now + delay.as_millis() as i64;
                s.state.next_retry_at = Some(at);
                metadata["next_retry_at"] = json!(crate::clock::rfc3339(at));
                self.step_change(i, State::Error, metadata);
                if self.stopping.is_none() {
                    self.queue.retry_at(i, at);
                }
            }
            Decision::GiveUp(_) => {
                s.state.next_retry_at = None;
                metadata["final"] = json!(true);
                self.step_change(i, State::Error, metadata);
            }
        }
        let what = What::StepFailed {
            step_name: self.name(i),
            attempt,
            from_state: State::InProgress,
            to_state: State::Error,
            duration_ms: took,
            error_class: failure.class,
            error_message: failure.message,
            retryable: retrying,
            exit_code,
        };
        self.step_event(i, what);
        if failure.class == FailureClass::Timeout {
            let timeout_ms = self.template.steps[i]
                .timeout
                .or(self.template.timeout)
                .map_or(0, |t| t.as_millis() as u64);
            let what = What::StepTimeout {
                step_name: self.name(i),
                attempt,
                timeout_ms,
            };
            self.step_event(i, what);
        }
        match decision {
            Decision::RetryAfter(delay) if !interrupted => {
                let at = now + delay.as_millis() as i64;
                let what = What::StepBackoff {
                    step_name: self.name(i),
                    attempt,
                    delay_ms: delay.as_millis() as u64,
                    next_retry_at: at,
                };
                self.step_event(i, what);
            }
            Decision::GiveUp(why) => {
                if why == GiveUp::Exhausted {
                    let what = What::StepMaxRetriesReached {
                        step_name: self.name(i),
                        attempt,
                        retry_limit: limit,
                    };
                    self.step_event(i, what);
                }
                if self.fail_fast {
                    self.stop(Stop::FailFast);
                }
            }
            Decision::RetryAfter(_) => {}
        }
    }
}

/// What a worker keeps of an attempt it claimed, to record its end with a scheduler built
/// again from the same snapshot: when it started, its spans, and the events of its start.
#[derive(Debug, Clone)]
pub(in crate::engine) struct Adopted {
    pub started_at: i64,
    pub span: Option<u64>,
    pub attempt_span: Option<u64>,
    pub trace: crate::events::TraceRef,
    pub events: Vec<crate::events::Event>,
}

impl Scheduler {
    /// Take up step `i`, which a worker claimed for its current attempt (the claim moved
    /// it to `in_progress` and recorded its transitions): the events of its start — a retry
    /// asked for, the execution, the handler about to run — wait in [`Scheduler::events`]
    /// and are recorded with the attempt's end. `was` is its state before the claim,
    /// `ready_at` when it became ready.
    pub(in crate::engine) fn adopt(
        &mut self,
        i: usize,
        was: State,
        ready_at: Option<i64>,
    ) -> Adopted {
        let now = self.now();
        let attempt = self.steps[i].state.attempts;
        if was == State::Error {
            let interrupted = self.steps[i]
                .state
                .error
                .as_ref()
                .is_some_and(|e| e.class == FailureClass::Interrupted);
            let what = What::StepRetryRequested {
                step_name: self.name(i),
                attempt,
                from_state: State::Error,
                to_state: State::Pending,
                actor: "tasker".into(),
                reason: Some(if interrupted { "interrupted" } else { "retry" }.into()),
            };
            self.step_event(i, what);
        }
        let s = &mut self.steps[i];
        s.attempt_started_at = now;
        let step_id = self.task.steps[i].step_id;
        s.span = Some(self.trace.step_span_of(step_id));
        s.attempt_span = Some(self.trace.attempt_span_of(step_id, attempt));
        s.running = true;
        self.running += 1;
        let what = What::StepExecutionRequested {
            step_name: self.name(i),
            attempt,
            from_state: State::Pending,
            to_state: State::InProgress,
            queue_wait_ms: ready_at.map_or(0, |r| (now - r).max(0) as u64),
        };
        self.step_event(i, what);
        let kind = match &self.template.steps[i].action {
            Action::Command(_) => "command",
            Action::Plugin(_) => "plugin",
            Action::Http(_) => "http",
            Action::Noop => "noop",
        };
        let what = What::StepBeforeHandle {
            step_name: self.name(i),
            attempt,
            handler: kind.into(),
        };
        self.step_event(i, what);
        Adopted {
            started_at: now,
            span: self.steps[i].span,
            attempt_span: self.steps[i].attempt_span,
            trace: self.trace,
            events: std::mem::take(&mut self.events),
        }
    }

    /// Take up again, in a scheduler built anew from the task, the attempt of step `i`
    /// adopted earlier, so that [`Scheduler::finished`] can record its end (the events of
    /// its start, kept in `adopted`, are the caller's to record with it).
    pub(in crate::engine) fn readopt(&mut self, i: usize, adopted: &Adopted) {
        self.trace = adopted.trace;
        let s = &mut self.steps[i];
        s.attempt_started_at = adopted.started_at;
        s.span = adopted.span;
        s.attempt_span = adopted.attempt_span;
        if !s.running {
            s.running = true;
            self.running += 1;
        }
    }
}
