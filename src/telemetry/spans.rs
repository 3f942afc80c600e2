//! Spans from events: a `tasker.task` span per run, a `tasker.step` child per step and a
//! `tasker.step.attempt` child per attempt, each timed around the real work. Spans are built
//! when their work ends, with the ids the engine chose and the times the events carry.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Event as SpanEvent, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags, TraceState,
    Tracer,
};
use opentelemetry::{Context, KeyValue, SpanId, TraceId};
use opentelemetry_sdk::trace::SdkTracer;

use super::ids;
use crate::events::{Event, Subscriber, TraceRef, What};
use crate::store::TaskRecord;

fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

/// A span being collected until its work ends.
#[derive(Debug, Default)]
struct Open {
    start: i64,
    events: Vec<SpanEvent>,
    attempts: u32,
    /// The ids, as the event that opened it carried them.
    trace: TraceRef,
}

/// Builds spans from a task's events.
#[derive(Debug)]
pub struct Spans {
    tracer: SdkTracer,
    task: Vec<KeyValue>,
    trace: Option<TraceRef>,
    run_start: Option<i64>,
    steps: HashMap<String, Open>,
    attempts: HashMap<(String, u32), Open>,
    done: bool,
}

impl Spans {
    pub fn new(tracer: SdkTracer, task: &TaskRecord) -> Spans {
        Spans {
            tracer,
            task: vec![
                KeyValue::new("tasker.task.id", task.task_id),
                KeyValue::new("tasker.task.name", task.name.clone()),
                KeyValue::new("tasker.namespace", task.namespace.clone()),
                KeyValue::new("tasker.version", task.version.clone()),
            ],
            trace: None,
            run_start: None,
            steps: HashMap::new(),
            attempts: HashMap::new(),
            done: false,
        }
    }

    /// Build and end one span.
    #[expect(clippy::too_many_arguments, reason = "a span is all of these")]
    fn emit(
        &self,
        name: &'static str,
        trace: u128,
        id: u64,
        parent: Option<u64>,
        start: i64,
        end: i64,
        attributes: Vec<KeyValue>,
        events: Vec<SpanEvent>,
        error: Option<(String, String)>,
    ) {
        let parent_cx = match parent {
            Some(p) => Context::new().with_remote_span_context(SpanContext::new(
                TraceId::from(trace),
                SpanId::from(p),
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            )),
            None => Context::new(),
        };
        ids::preset(trace, id);
        let mut builder = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .with_start_time(time(start))
            .with_attributes(attributes);
        builder.events = Some(events);
        let mut span = builder.start_with_context(&self.tracer, &parent_cx);
        use opentelemetry::trace::Span as _;
        if let Some((class, message)) = error {
            span.set_attribute(KeyValue::new("error.type", class));
            span.set_status(Status::error(message));
        }
        span.end_with_timestamp(time(end));
    }

    fn step_attrs(&self, step: &str) -> Vec<KeyValue> {
        let mut a = self.task.clone();
        a.push(KeyValue::new("tasker.step.name", step.to_owned()));
        a
    }

    fn end_step(&mut self, e: &Event, step: &str, error: Option<(String, String)>) {
        let (Some(trace), Some(open)) = (e.trace, self.steps.remove(step)) else {
            return;
        };
        let Some(id) = trace.step_span else { return };
        let mut attrs = self.step_attrs(step);
        attrs.push(KeyValue::new("tasker.attempts", i64::from(open.attempts)));
        self.emit(
            "tasker.step",
            trace.trace_id,
            id,
            Some(trace.task_span),
            open.start,
            e.timestamp,
            attrs,
            open.events,
            error,
        );
    }

    /// End whatever is still open at `at`: the attempts and steps of a run that was
    /// interrupted (or taken back from a worker that died), and the task's span unless the
    /// task ended.
    pub fn finish(&mut self, at: i64) {
        let Some(trace) = self.trace else { return };
        for ((step, attempt), open) in std::mem::take(&mut self.attempts) {
            let mut attrs = self.step_attrs(&step);
            attrs.push(KeyValue::new("tasker.attempt", attempt as i64));
            attrs.push(KeyValue::new("tasker.interrupted", true));
            if let Some(id) = open.trace.attempt_span {
                self.emit(
                    "tasker.step.attempt",
                    trace.trace_id,
                    id,
                    open.trace.step_span,
                    open.start,
                    at,
                    attrs,
                    open.events,
                    None,
                );
            }
        }
        for (step, open) in std::mem::take(&mut self.steps) {
            let mut attrs = self.step_attrs(&step);
            attrs.push(KeyValue::new("tasker.interrupted", true));
            if let Some(id) = open.trace.step_span {
                self.emit(
                    "tasker.step",
                    trace.trace_id,
                    id,
                    Some(trace.task_span),
                    open.start,
                    at,
                    attrs,
                    open.events,
                    None,
                );
            }
        }
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let mut attrs = self.task.clone();
        attrs.push(KeyValue::new("tasker.interrupted", true));
        self.emit(
            "tasker.task",
            trace.trace_id,
            trace.task_span,
            trace.task_parent,
            self.run_start.unwrap_or(at),
            at,
            attrs,
            Vec::new(),
            None,
        );
    }
}

impl Subscriber for Spans {
    fn on_event(&mut self, e: &Event) {
        let Some(trace) = e.trace else { return };
        if self.trace.is_none() {
            self.trace = Some(trace);
            self.run_start = Some(e.timestamp);
        }
        let (step, attempt) = e
            .step()
            .map_or((String::new(), 0), |(s, a)| (s.to_owned(), a));
        match &e.what {
            What::StepExecutionRequested { .. } => {
                let open = self.steps.entry(step.clone()).or_insert_with(|| Open {
                    start: e.timestamp,
                    trace,
                    ..Open::default()
                });
                open.attempts += 1;
                self.attempts.insert(
                    (step, attempt),
                    Open {
                        start: e.timestamp,
                        trace,
                        ..Open::default()
                    },
                );
            }
            What::StepCompleted { exit_code, .. } | What::StepFailed { exit_code, .. } => {
                let (error, last) = match &e.what {
                    What::StepFailed {
                        error_class,
                        error_message,
                        retryable,
                        ..
                    } => (
                        Some((error_class.as_str().to_owned(), error_message.clone())),
                        !retryable,
                    ),
                    _ => (None, true),
                };
                if let (Some(open), Some(id)) = (
                    self.attempts.remove(&(step.clone(), attempt)),
                    trace.attempt_span,
                ) {
                    let mut attrs = self.step_attrs(&step);
                    attrs.push(KeyValue::new("tasker.attempt", i64::from(attempt)));
                    if let Some(code) = exit_code {
                        attrs.push(KeyValue::new("process.exit.code", i64::from(*code)));
                    }
                    self.emit(
                        "tasker.step.attempt",
                        trace.trace_id,
                        id,
                        trace.step_span,
                        open.start,
                        e.timestamp,
                        attrs,
                        open.events,
                        error.clone(),
                    );
                }
                if last {
                    self.end_step(e, &step, error);
                }
            }
            What::StepCancelled { .. } => {
                self.attempts.remove(&(step.clone(), attempt));
                self.end_step(e, &step, Some(("cancelled".into(), "cancelled".into())));
            }
            What::StepRetryRequested { .. } | What::StepBackoff { .. } => {
                if let Some(open) = self.steps.get_mut(&step) {
                    let mut attrs = vec![KeyValue::new("tasker.attempt", i64::from(attempt))];
                    if let What::StepBackoff { delay_ms, .. } = &e.what {
                        attrs.push(KeyValue::new("tasker.backoff.delay_ms", *delay_ms as i64));
                    }
                    open.events.push(SpanEvent::new(
                        e.name().to_owned(),
                        time(e.timestamp),
                        attrs,
                        0,
                    ));
                }
            }
            What::TaskCompleted { to_state, .. }
            | What::TaskFailed { to_state, .. }
            | What::TaskCancelled { to_state, .. } => {
                self.done = true;
                let error = (!matches!(e.what, What::TaskCompleted { .. })).then(|| {
                    let to = to_state.as_str().to_owned();
                    (to.clone(), format!("the task ended {to}"))
                });
                self.emit(
                    "tasker.task",
                    trace.trace_id,
                    trace.task_span,
                    trace.task_parent,
                    self.run_start.unwrap_or(e.timestamp),
                    e.timestamp,
                    self.task.clone(),
                    Vec::new(),
                    error,
                );
            }
            What::Custom { payload, .. } => {
                // A custom event: a span event on its attempt, payload masked.
                if let Some(open) = self.attempts.get_mut(&(step, attempt)) {
                    let payload = crate::secrets::mask(payload).to_string();
                    open.events.push(SpanEvent::new(
                        e.name().to_owned(),
                        time(e.timestamp),
                        vec![KeyValue::new("tasker.event.payload", payload)],
                        0,
                    ));
                }
            }
            _ => {}
        }
    }
}
