//! Events the engine emits as work happens; renderers and logs subscribe to them.

use serde::Serialize;

use crate::engine::state::State;
use crate::store::StepError;

/// The events the engine emits, by their catalog names (Tasker's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    #[serde(rename = "task.start_requested")]
    TaskStartRequested,
    #[serde(rename = "task.completed")]
    TaskCompleted,
    #[serde(rename = "task.failed")]
    TaskFailed,
    #[serde(rename = "task.cancelled")]
    TaskCancelled,
    #[serde(rename = "step.execution_requested")]
    StepExecutionRequested,
    #[serde(rename = "step.completed")]
    StepCompleted,
    #[serde(rename = "step.failed")]
    StepFailed,
    #[serde(rename = "step.retry_requested")]
    StepRetryRequested,
    #[serde(rename = "observability.step.backoff")]
    StepBackoff,
    #[serde(rename = "observability.step.max_retries_reached")]
    StepMaxRetriesReached,
    #[serde(rename = "step.cancelled")]
    StepCancelled,
    #[serde(rename = "observability.task.orphan_recovered")]
    OrphanRecovered,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::TaskStartRequested => "task.start_requested",
            Kind::TaskCompleted => "task.completed",
            Kind::TaskFailed => "task.failed",
            Kind::TaskCancelled => "task.cancelled",
            Kind::StepExecutionRequested => "step.execution_requested",
            Kind::StepCompleted => "step.completed",
            Kind::StepFailed => "step.failed",
            Kind::StepRetryRequested => "step.retry_requested",
            Kind::StepBackoff => "observability.step.backoff",
            Kind::StepMaxRetriesReached => "observability.step.max_retries_reached",
            Kind::StepCancelled => "step.cancelled",
            Kind::OrphanRecovered => "observability.task.orphan_recovered",
        }
    }
}

/// One event, with the fields that apply to it.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub name: Kind,
    pub task_id: i64,
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_state: Option<State>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_state: Option<State>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
}

impl Event {
    pub fn new(name: Kind, task_id: i64) -> Event {
        Event {
            name,
            task_id,
            timestamp: crate::clock::now_ms(),
            step_name: None,
            attempt: None,
            from_state: None,
            to_state: None,
            duration_ms: None,
            delay_ms: None,
            error: None,
        }
    }

    pub fn step(mut self, name: &str, attempt: u32) -> Event {
        self.step_name = Some(name.to_owned());
        self.attempt = Some(attempt);
        self
    }

    pub fn states(mut self, from: State, to: State) -> Event {
        self.from_state = Some(from);
        self.to_state = Some(to);
        self
    }
}

/// Receives every event, in order, after the change it describes is committed.
pub trait Subscriber {
    fn on_event(&mut self, event: &Event);
    /// Something worth a word that changes nothing (a malformed `TASKER_EVENTS` line).
    fn warning(&mut self, _task_id: i64, _message: &str) {}
}

/// A subscriber that ignores everything.
#[derive(Debug, Default)]
pub struct Ignore;

impl Subscriber for Ignore {
    fn on_event(&mut self, _event: &Event) {}
}
