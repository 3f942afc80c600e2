//! The metrics of DESIGN §8 from events: counters of tasks, steps, attempts and retries,
//! histograms of step duration, ready → running wait and task duration.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};

use crate::events::{Event, Kind, Subscriber};
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
            e.str("step_name").unwrap_or("").to_owned(),
        );
        let ms = |key| e.u64(key).unwrap_or(0) as f64;
        match e.kind() {
            Some(Kind::StepExecutionRequested) => {
                self.attempts
                    .add(1, &self.with(std::slice::from_ref(&step)));
                self.queue_wait
                    .record(ms("queue_wait_ms"), &self.with(&[step]));
            }
            Some(Kind::StepRetryRequested) => self.retries.add(1, &self.with(&[step])),
            Some(Kind::StepCompleted) => {
                let attrs = self.with(&[step, KeyValue::new("outcome", "complete")]);
                self.step_duration.record(ms("duration_ms"), &attrs);
                self.steps.add(1, &attrs);
            }
            Some(Kind::StepFailed) => {
                let attrs = self.with(&[step, KeyValue::new("outcome", "error")]);
                self.step_duration.record(ms("duration_ms"), &attrs);
                if e.get("retryable") == Some(&serde_json::Value::Bool(false)) {
                    self.steps.add(1, &attrs);
                }
            }
            Some(Kind::StepCancelled) => {
                self.steps.add(
                    1,
                    &self.with(&[step, KeyValue::new("outcome", "cancelled")]),
                );
            }
            Some(Kind::TaskCompleted | Kind::TaskFailed | Kind::TaskCancelled) => {
                let outcome = e.str("to_state").unwrap_or("error").to_owned();
                let attrs = self.with(&[KeyValue::new("outcome", outcome)]);
                self.tasks.add(1, &attrs);
                self.task_duration.record(ms("duration_ms"), &attrs);
            }
            _ => {}
        }
    }
}
