//! Taking a task over: its place in the trace, and what an earlier runner left.

use super::*;

impl Run<'_> {
    /// Place this run in the task's trace: a new trace (or a child of `TRACEPARENT`) the
    /// first time, the same trace under the first run's root afterwards.
    pub(super) fn place_in_trace(&mut self) {
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
    pub(super) async fn take_over(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        let now = self.now();
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
        let states: Vec<(State, Option<i64>)> = self
            .steps
            .iter()
            .map(|s| (s.status, s.state.next_retry_at))
            .collect();
        let (queue, ready) = super::super::queue::Queue::resume(&states, |i| self.dag.parents(i));
        self.queue = queue;
        for i in ready {
            self.steps[i].ready_at = Some(now);
        }
        let started = Event::new(Kind::WorkflowTaskStarted, self.task.task_id)
            .with("step_count", self.steps.len())
            .with("ready_steps", self.queue.ready_len());
        self.event(started);
        Ok(())
    }
}
