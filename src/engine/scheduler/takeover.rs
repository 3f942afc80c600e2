//! Taking a task over: its place in the trace, and what an earlier runner left.

use std::collections::HashMap;

use serde_json::json;

use super::{Scheduler, meta, span_id};
use crate::engine::queue::Queue;
use crate::events::{TraceRef, What};
use crate::model::{FailureClass, State};
use crate::store::{AttemptEnd, Change, StepError, StoreError};

impl Scheduler {
    /// Place this run in the task's trace: a new trace (or a child of `outer`, the
    /// `TRACEPARENT` tasker was given) the first time, the same trace under the first
    /// run's root afterwards.
    pub(in crate::engine) fn place_in_trace(&mut self, outer: Option<&str>) {
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
                let outer = outer.and_then(parse_traceparent);
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

    /// The steps an earlier runner left `in_progress`: their processes may still run, and
    /// must be stopped before [`Scheduler::take_over`] runs them again.
    pub(in crate::engine) fn left_running(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        (0..self.steps.len())
            .filter(|&i| self.steps[i].status == State::InProgress)
            .map(|i| (i, self.steps[i].state.attempts))
    }

    /// Bring the task to `in_progress` and take over what an earlier runner left: attempts
    /// in flight when it died were interrupted, and are retried at once without counting
    /// against the limit. Readiness is counted from the state as it then is, and the
    /// task's deadline starts now.
    pub(in crate::engine) fn take_over(&mut self) -> Result<(), StoreError> {
        self.take_over_leaving(&[])
    }

    /// As [`Scheduler::take_over`], leaving the steps at positions `elsewhere` running:
    /// live workers hold them, and their ends are theirs to record.
    pub(in crate::engine) fn take_over_leaving(
        &mut self,
        elsewhere: &[usize],
    ) -> Result<(), StoreError> {
        let now = self.now();
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
            self.emit(What::TaskStartRequested {
                from_state: State::Pending,
                to_state: State::InProgress,
            });
        }
        let left: Vec<(usize, u32)> = self
            .left_running()
            .filter(|(i, _)| !elsewhere.contains(i))
            .collect();
        let mut interrupted = Vec::new();
        for (i, attempt) in left {
            let error = StepError {
                class: FailureClass::Interrupted,
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
            interrupted.push(self.template.steps[i].name.clone());
        }
        if orphan {
            let previous = self.task.owner.clone();
            self.emit(What::OrphanRecovered {
                previous_owner_pid: previous.as_ref().map(|o| o.pid),
                previous_owner_host: previous.map(|o| o.host),
                interrupted_steps: interrupted,
            });
        }
        let states: Vec<(State, Option<i64>)> = self
            .steps
            .iter()
            .map(|s| (s.status, s.state.next_retry_at))
            .collect();
        let (queue, ready) = Queue::resume(&states, |i| self.dag.parents(i));
        self.queue = queue;
        for i in ready {
            self.steps[i].ready_at = Some(now);
        }
        self.emit(What::WorkflowTaskStarted {
            step_count: self.steps.len() as u64,
            ready_steps: self.queue.ready_len() as u64,
        });
        self.deadline = self.template.timeout.map(|t| now + t.as_millis() as i64);
        Ok(())
    }
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
