//! The metrics of DESIGN §8 from events: counters of tasks, steps, attempts and retries,
//! histograms of step duration, ready → running wait and task duration.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};

use crate::events::{Event, Subscriber, What};
use crate::store::TaskRecord;

/// Records metrics from a task's events.
#[derive(Debug)]
pub struct Metrics {
    base: Vec<KeyValue>,
    tasks: Counter<u64>,
    steps: Counter<u64>,
    attempts: Counter<u64>,
    retries: Counter<u64>,
    step_duration: Histogram<f64>,
    queue_wait: Histogram<f64>,
    task_duration: Histogram<f64>,
}

impl Metrics {
    pub fn new(meter: &Meter, task: &TaskRecord) -> Metrics {
        Metrics {
            base: vec![
                KeyValue::new("tasker.task.name", task.name.clone()),
                KeyValue::new("tasker.namespace", task.namespace.clone()),
            ],
            tasks: meter
                .u64_counter("tasker.tasks")
                .with_description("Tasks finished, by outcome")
                .build(),
            steps: meter
                .u64_counter("tasker.steps")
                .with_description("Steps finished, by outcome")
                .build(),
            attempts: meter
                .u64_counter("tasker.step.attempts")
                .with_description("Step attempts started")
                .build(),
            retries: meter
                .u64_counter("tasker.step.retries")
                .with_description("Steps sent back to pending for another attempt")
                .build(),
            step_duration: meter
                .f64_histogram("tasker.step.duration")
                .with_unit("ms")
                .with_description("Duration of step attempts")
                .build(),
            queue_wait: meter
                .f64_histogram("tasker.step.queue_wait")
                .with_unit("ms")
                .with_description("Time from ready to running")
                .build(),
            task_duration: meter
                .f64_histogram("tasker.task.duration")
                .with_unit("ms")
                .with_description("Duration of task runs")
                .build(),
        }
    }

    fn with(&self, extra: &[KeyValue]) -> Vec<KeyValue> {
        let mut a = self.base.clone();
        a.extend_from_slice(extra);
        a
    }
}

impl Subscriber for Metrics {
    fn on_event(&mut self, e: &Event) {
        let step = KeyValue::new(
            "tasker.step.name",
            e.step().map_or("", |(s, _)| s).to_owned(),
        );
        let ms = |ms: u64| ms as f64;
        match &e.what {
            What::StepExecutionRequested { queue_wait_ms, .. } => {
                self.attempts
                    .add(1, &self.with(std::slice::from_ref(&step)));
                self.queue_wait
                    .record(ms(*queue_wait_ms), &self.with(&[step]));
            }
            What::StepRetryRequested { .. } => self.retries.add(1, &self.with(&[step])),
            What::StepCompleted { duration_ms, .. } => {
                let attrs = self.with(&[step, KeyValue::new("outcome", "complete")]);
                self.step_duration.record(ms(*duration_ms), &attrs);
                self.steps.add(1, &attrs);
            }
            What::StepFailed {
                duration_ms,
                retryable,
                ..
            } => {
                let attrs = self.with(&[step, KeyValue::new("outcome", "error")]);
                self.step_duration.record(ms(*duration_ms), &attrs);
                if !retryable {
                    self.steps.add(1, &attrs);
                }
            }
            What::StepCancelled { .. } => {
                self.steps.add(
                    1,
                    &self.with(&[step, KeyValue::new("outcome", "cancelled")]),
                );
            }
            What::TaskCompleted {
                to_state,
                duration_ms,
                ..
            }
            | What::TaskFailed {
                to_state,
                duration_ms,
                ..
            }
            | What::TaskCancelled {
                to_state,
                duration_ms: Some(duration_ms),
                ..
            } => {
                let attrs = self.with(&[KeyValue::new("outcome", to_state.as_str())]);
                self.tasks.add(1, &attrs);
                self.task_duration.record(ms(*duration_ms), &attrs);
            }
            What::TaskCancelled { to_state, .. } => {
                let attrs = self.with(&[KeyValue::new("outcome", to_state.as_str())]);
                self.tasks.add(1, &attrs);
                self.task_duration.record(0.0, &attrs);
            }
            _ => {}
        }
    }
}
