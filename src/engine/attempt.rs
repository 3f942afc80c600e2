//! One attempt of one step: what it is given, starting it, and recording how it ended.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value as Json, json};
use tokio::sync::watch;

use super::inputs::{self, RunScope};
use super::retry::{self, Decision, Failure, GiveUp};
use super::run::{Done, Run, Stop, meta};
use crate::events::{Event, Kind};
use crate::handlers::{self, Outcome, Request};
use crate::model::FailureClass;
use crate::model::State;
use crate::store::{AttemptEnd, Change, StepError};
use crate::templates::{Action, interpolate};

impl Run<'_> {
    pub(super) fn spawn(&mut self, i: usize) {
        let attempt = self.steps[i].state.attempts;
        self.running += 1;
        let handler_kind = match &self.template.steps[i].action {
            Action::Command(_) => "command",
            Action::Plugin(_) => "plugin",
            Action::Http(_) => "http",
            Action::Noop => "noop",
        };
        self.step_event(Kind::StepBeforeHandle, i, attempt)
            .fields
            .insert("handler".into(), json!(handler_kind));
        if self.template.steps[i].action == Action::Noop {
            // No work: done at once, in the batch that started it.
            self.finished(Done {
                index: i,
                attempt,
                outcome: handlers::Noop::outcome(),
            });
            return;
        }
        let (abort_tx, abort_rx) = watch::channel(handlers::Abort::None);
        self.steps[i].abort = Some(abort_tx);
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
        if matches!(
            self.template.steps[i].action,
            Action::Command(_) | Action::Plugin(_)
        ) {
            // Its process is recorded with the next commit, or within a bound.
            self.steps[i].unrecorded = true;
            self.unrecorded += 1;
            self.pids_due.get_or_insert_with(|| {
                tokio::time::Instant::now() + super::run::RECORD_PROCESS_WITHIN
            });
        }
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
        abort: watch::Receiver<handlers::Abort>,
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
            echo: self.options.echo.clone(),
            spawned: Some(handlers::Spawned {
                slot: Arc::clone(&self.spawned),
                index: i,
                attempt,
            }),
            abort,
        };
        let results = |j: usize| self.steps[j].state.results.as_ref();
        let interpolation =
            |e: String| handlers::Failure::permanent(FailureClass::Interpolation, e);
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
            .map(|(k, v)| Ok((k.clone(), interpolate::render(v, &scope)?)))
            .collect::<Result<Vec<_>, String>>()
            .map_err(interpolation)?;
        let scope = RunScope { env: &env, ..scope };
        let (action, vars) = inputs::resolve_action(&step.action, &scope).map_err(interpolation)?;
        request.action = action;

        let input = inputs::input_document(task, self.template, i, attempt, &|j| {
            self.steps[j].state.results.clone()
        });
        let input = serde_json::to_vec(&input).unwrap_or_default();
        let input_path = self.inputs.join(format!("{i}-{attempt}.input.json"));
        std::fs::write(&input_path, &input).map_err(|e| {
            handlers::Failure::retryable(
                FailureClass::Spawn,
                format!("cannot write TASKER_INPUT: {e}"),
            )
        })?;
        request.input = Arc::new(input);
        env.extend(inputs::context_vars(&task.context));
        let traceparent = self.steps[i]
            .attempt_span
            .map(|span| self.trace.traceparent(span))
            .unwrap_or_default();
        env.extend([
            ("TASKER_TASK_ID".to_owned(), task.task_id.to_string()),
            ("TASKER_TASK_UUID".to_owned(), task.uuid.clone()),
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
            ("TRACEPARENT".to_owned(), traceparent),
        ]);
        env.extend(vars);
        request.env = env;
        Ok(request)
    }

    /// Record how an attempt ended and what it makes ready.
    pub(super) fn finished(&mut self, done: Done) {
        self.running -= 1;
        let Done {
            index: i,
            attempt,
            mut outcome,
        } = done;
        if std::mem::take(&mut self.steps[i].unrecorded) {
            // Its process never started: there is nothing to record.
            self.unrecorded -= 1;
        }
        self.steps[i].abort = None;
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
        // Only processes are given files (input, live output, events).
        let process = matches!(
            self.template.steps[i].action,
            Action::Command(_) | Action::Plugin(_)
        );
        let custom_events = if process {
            let events = self.collect_events(i, attempt, now);
            let _ = std::fs::remove_file(self.inputs.join(format!("{i}-{attempt}.input.json")));
            for ext in ["stdout", "stderr"] {
                let _ = std::fs::remove_file(self.scratch.join(format!("{i}-{attempt}.{ext}")));
            }
            events
        } else {
            Vec::new()
        };
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
        let exit_code = outcome.exit_code.map_or(Json::Null, |c| json!(c));
        let Some(failure) = outcome.failure else {
            s.state.results = outcome.result;
            s.state.error = None;
            // Flaky: it failed before it passed; an interrupted attempt is no failure.
            s.state.flaky = s.state.counted > 1;
            self.step_change(
                i,
                State::Complete,
                json!({"actor": "tasker", "attempt": attempt}),
            );
            let e = self.step_event(Kind::StepCompleted, i, attempt);
            e.fields.insert("from_state".into(), json!("in_progress"));
            e.fields.insert("to_state".into(), json!("complete"));
            e.fields.insert("duration_ms".into(), json!(took));
            e.fields.insert("exit_code".into(), exit_code);
            let children: Vec<usize> = self.dag.children(i).collect();
            for c in children {
                if self.queue.parent_done(c) && self.steps[c].status == State::Pending {
                    self.steps[c].ready_at = Some(now);
                    self.queue.push_ready(c);
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
            self.step_change(i, State::Cancelled, metadata.clone());
            let e = self.step_event(Kind::StepCancelled, i, attempt);
            e.fields.insert("from_state".into(), json!("in_progress"));
            e.fields.insert("to_state".into(), json!("cancelled"));
            e.fields.insert("actor".into(), metadata["actor"].clone());
            e.fields.insert("reason".into(), metadata["reason"].clone());
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
        let e = self.step_event(Kind::StepFailed, i, attempt);
        e.fields.insert("from_state".into(), json!("in_progress"));
        e.fields.insert("to_state".into(), json!("error"));
        e.fields.insert("duration_ms".into(), json!(took));
        e.fields.insert("error_class".into(), json!(failure.class));
        e.fields
            .insert("error_message".into(), json!(failure.message));
        e.fields.insert("retryable".into(), json!(retrying));
        e.fields.insert("exit_code".into(), exit_code);
        if failure.class == "timeout" {
            let timeout = self.template.steps[i]
                .timeout
                .or(self.template.timeout)
                .map_or(0, |t| t.as_millis() as u64);
            self.step_event(Kind::StepTimeout, i, attempt)
                .fields
                .insert("timeout_ms".into(), json!(timeout));
        }
        match decision {
            Decision::RetryAfter(delay) if !interrupted => {
                let at = now + delay.as_millis() as i64;
                let e = self.step_event(Kind::StepBackoff, i, attempt);
                e.fields
                    .insert("delay_ms".into(), json!(delay.as_millis() as u64));
                e.fields
                    .insert("next_retry_at".into(), json!(crate::clock::rfc3339(at)));
            }
            Decision::GiveUp(why) => {
                if why == GiveUp::Exhausted {
                    self.step_event(Kind::StepMaxRetriesReached, i, attempt)
                        .fields
                        .insert("retry_limit".into(), json!(limit));
                }
                if self.options.fail_fast {
                    self.stop(Stop::FailFast);
                }
            }
            Decision::RetryAfter(_) => {}
        }
    }

    /// The declared events an attempt appended to `TASKER_EVENTS` (each also enters the
    /// event log); warnings for the rest.
    fn collect_events(&mut self, i: usize, attempt: u32, now: i64) -> Vec<Json> {
        let path = self.scratch.join(format!("{i}-{attempt}.events"));
        let (bytes, cut) = match crate::limits::read(&path, crate::limits::EVENTS) {
            Ok(crate::limits::Bounded::All(bytes)) => (bytes, false),
            Ok(crate::limits::Bounded::TooBig(mut bytes)) => {
                // Only whole lines count.
                let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                bytes.truncate(end);
                (bytes, true)
            }
            Err(_) => return Vec::new(),
        };
        let _ = std::fs::remove_file(&path);
        if cut {
            let step = &self.template.steps[i].name;
            self.warnings.push(format!(
                "step `{step}`: TASKER_EVENTS holds more than {}; the rest was ignored",
                crate::limits::size(crate::limits::EVENTS)
            ));
        }
        let (mut events, warnings) = inputs::custom_events(
            &String::from_utf8_lossy(&bytes),
            &self.template.custom_events,
            now,
        );
        let step = self.template.steps[i].name.clone();
        self.warnings
            .extend(warnings.into_iter().map(|w| format!("step `{step}`: {w}")));
        // Kept and shown: secret-looking keys of a payload are masked.
        for e in &mut events {
            if let Some(payload) = e.get_mut("payload") {
                *payload = crate::secrets::mask(payload);
            }
        }
        for e in &events {
            let mut trace = self.trace;
            trace.step_span = self.steps[i].span;
            trace.attempt_span = self.steps[i].attempt_span;
            let mut event =
                Event::custom(e["name"].as_str().unwrap_or_default(), self.task.task_id)
                    .step(&step, attempt)
                    .with("payload", e["payload"].clone());
            event.trace = Some(trace);
            self.event(event);
        }
        events
    }
}
