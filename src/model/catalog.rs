//! The event catalog: every event tasker emits, with its category, description and payload
//! fields (Tasker's names).

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The events tasker emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    TaskInitializeRequested,
    TaskStartRequested,
    TaskCompleted,
    TaskFailed,
    TaskRetryRequested,
    TaskCancelled,
    TaskResolvedManually,
    StepInitializeRequested,
    StepExecutionRequested,
    StepBeforeHandle,
    StepCompleted,
    StepFailed,
    StepRetryRequested,
    StepCancelled,
    StepResolvedManually,
    WorkflowTaskStarted,
    WorkflowViableStepsDiscovered,
    WorkflowNoViableSteps,
    WorkflowTaskFinalizationStarted,
    WorkflowTaskFinalizationCompleted,
    StepBackoff,
    StepMaxRetriesReached,
    StepTimeout,
    OrphanRecovered,
}

/// The category an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Task,
    Step,
    Workflow,
    Observability,
    Custom,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Task,
        Category::Step,
        Category::Workflow,
        Category::Observability,
        Category::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Task => "task",
            Category::Step => "step",
            Category::Workflow => "workflow",
            Category::Observability => "observability",
            Category::Custom => "custom",
        }
    }
}

/// The type of a payload field, for documentation and typed examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Integer,
    String,
    Boolean,
    State,
    Timestamp,
    Object,
    Strings,
}

/// One catalog entry.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub kind: Kind,
    pub name: &'static str,
    pub category: Category,
    pub description: &'static str,
    /// Fields beyond the ones every event has (`seq`, `name`, `task_id`, `timestamp`).
    pub fields: &'static [(&'static str, FieldType)],
}

use FieldType as F;

const STEP: (&str, FieldType) = ("step_name", F::String);
const ATTEMPT: (&str, FieldType) = ("attempt", F::Integer);
const FROM: (&str, FieldType) = ("from_state", F::State);
const TO: (&str, FieldType) = ("to_state", F::State);
const DURATION: (&str, FieldType) = ("duration_ms", F::Integer);
const ACTOR: (&str, FieldType) = ("actor", F::String);
const REASON: (&str, FieldType) = ("reason", F::String);

/// Every event, in catalog order.
pub const CATALOG: &[Spec] = &[
    Spec {
        kind: Kind::TaskInitializeRequested,
        name: "task.initialize_requested",
        category: Category::Task,
        description: "A task was created from a template, with its context",
        fields: &[
            ("task_name", F::String),
            ("namespace", F::String),
            ("version", F::String),
            ("step_count", F::Integer),
            ("context", F::Object),
        ],
    },
    Spec {
        kind: Kind::TaskStartRequested,
        name: "task.start_requested",
        category: Category::Task,
        description: "A runner started the task (pending → in_progress)",
        fields: &[FROM, TO],
    },
    Spec {
        kind: Kind::TaskCompleted,
        name: "task.completed",
        category: Category::Task,
        description: "Every step is complete or resolved: the task is complete",
        fields: &[FROM, TO, DURATION],
    },
    Spec {
        kind: Kind::TaskFailed,
        name: "task.failed",
        category: Category::Task,
        description: "A step failed for good and nothing else can run: the task is in error",
        fields: &[FROM, TO, DURATION, ("failed_steps", F::Strings)],
    },
    Spec {
        kind: Kind::TaskRetryRequested,
        name: "task.retry_requested",
        category: Category::Task,
        description: "An operator asked to run the task again (`tasker retry`)",
        fields: &[FROM, TO, ACTOR, REASON, ("steps", F::Strings)],
    },
    Spec {
        kind: Kind::TaskCancelled,
        name: "task.cancelled",
        category: Category::Task,
        description: "The task was cancelled",
        fields: &[FROM, TO, ACTOR, REASON],
    },
    Spec {
        kind: Kind::TaskResolvedManually,
        name: "task.resolved_manually",
        category: Category::Task,
        description: "An operator resolved the failed task by hand",
        fields: &[FROM, TO, ACTOR, REASON],
    },
    Spec {
        kind: Kind::StepInitializeRequested,
        name: "step.initialize_requested",
        category: Category::Step,
        description: "A step was created with its task",
        fields: &[STEP],
    },
    Spec {
        kind: Kind::StepExecutionRequested,
        name: "step.execution_requested",
        category: Category::Step,
        description: "A ready step is started for an attempt (pending → in_progress)",
        fields: &[STEP, ATTEMPT, FROM, TO, ("queue_wait_ms", F::Integer)],
    },
    Spec {
        kind: Kind::StepBeforeHandle,
        name: "step.before_handle",
        category: Category::Step,
        description: "The step's handler is about to run (a process, a plugin, an HTTP call)",
        fields: &[STEP, ATTEMPT, ("handler", F::String)],
    },
    Spec {
        kind: Kind::StepCompleted,
        name: "step.completed",
        category: Category::Step,
        description: "An attempt succeeded: the step is complete",
        fields: &[STEP, ATTEMPT, FROM, TO, DURATION, ("exit_code", F::Integer)],
    },
    Spec {
        kind: Kind::StepFailed,
        name: "step.failed",
        category: Category::Step,
        description: "An attempt failed; `retryable` says whether another will follow",
        fields: &[
            STEP,
            ATTEMPT,
            FROM,
            TO,
            DURATION,
            ("error_class", F::String),
            ("error_message", F::String),
            ("retryable", F::Boolean),
            ("exit_code", F::Integer),
        ],
    },
    Spec {
        kind: Kind::StepRetryRequested,
        name: "step.retry_requested",
        category: Category::Step,
        description: "A failed step goes back to pending for another attempt (error → pending); `reason` is `retry`, or `interrupted` when the run stopped it",
        fields: &[STEP, ATTEMPT, FROM, TO, ACTOR, REASON],
    },
    Spec {
        kind: Kind::StepCancelled,
        name: "step.cancelled",
        category: Category::Step,
        description: "The step was cancelled",
        fields: &[STEP, ATTEMPT, FROM, TO, ACTOR, REASON],
    },
    Spec {
        kind: Kind::StepResolvedManually,
        name: "step.resolved_manually",
        category: Category::Step,
        description: "An operator resolved the step by hand (or it was bypassed); its results feed its dependents",
        fields: &[STEP, FROM, TO, ACTOR, REASON],
    },
    Spec {
        kind: Kind::WorkflowTaskStarted,
        name: "workflow.task_started",
        category: Category::Workflow,
        description: "The runner began orchestrating the task's steps",
        fields: &[("step_count", F::Integer), ("ready_steps", F::Integer)],
    },
    Spec {
        kind: Kind::WorkflowViableStepsDiscovered,
        name: "workflow.viable_steps_discovered",
        category: Category::Workflow,
        description: "Ready steps were found and are being started",
        fields: &[("steps", F::Strings), ("count", F::Integer)],
    },
    Spec {
        kind: Kind::WorkflowNoViableSteps,
        name: "workflow.no_viable_steps",
        category: Category::Workflow,
        description: "Nothing can start now: steps wait for a retry, or are blocked by failures",
        fields: &[(REASON.0, F::String), ("waiting_steps", F::Strings)],
    },
    Spec {
        kind: Kind::WorkflowTaskFinalizationStarted,
        name: "workflow.task_finalization_started",
        category: Category::Workflow,
        description: "Nothing runs or waits: the runner decides the task's final state",
        fields: &[],
    },
    Spec {
        kind: Kind::WorkflowTaskFinalizationCompleted,
        name: "workflow.task_finalization_completed",
        category: Category::Workflow,
        description: "The task's final state is recorded",
        fields: &[TO, DURATION],
    },
    Spec {
        kind: Kind::StepBackoff,
        name: "observability.step.backoff",
        category: Category::Observability,
        description: "A failed step waits before its next attempt",
        fields: &[
            STEP,
            ATTEMPT,
            ("delay_ms", F::Integer),
            ("next_retry_at", F::Timestamp),
        ],
    },
    Spec {
        kind: Kind::StepMaxRetriesReached,
        name: "observability.step.max_retries_reached",
        category: Category::Observability,
        description: "A step used all its attempts and failed for good",
        fields: &[STEP, ATTEMPT, ("retry_limit", F::Integer)],
    },
    Spec {
        kind: Kind::StepTimeout,
        name: "observability.step.timeout",
        category: Category::Observability,
        description: "An attempt ran past its timeout and was stopped",
        fields: &[STEP, ATTEMPT, ("timeout_ms", F::Integer)],
    },
    Spec {
        kind: Kind::OrphanRecovered,
        name: "observability.task.orphan_recovered",
        category: Category::Observability,
        description: "A runner took over a task whose runner had died",
        fields: &[
            ("previous_owner_pid", F::Integer),
            ("previous_owner_host", F::String),
            ("interrupted_steps", F::Strings),
        ],
    },
];

impl Kind {
    pub fn spec(self) -> &'static Spec {
        // Every kind has exactly one entry: a unit test checks it.
        CATALOG
            .iter()
            .find(|s| s.kind == self)
            .unwrap_or(&CATALOG[0])
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn category(self) -> Category {
        self.spec().category
    }
}

/// An example value of a field, of the right type.
fn example_value(field: &str, ty: FieldType) -> Value {
    match (field, ty) {
        ("from_state", _) => json!("pending"),
        ("to_state", _) => json!("in_progress"),
        (
            "step_name" | "steps" | "waiting_steps" | "failed_steps" | "interrupted_steps",
            F::String,
        ) => {
            json!("charge_card")
        }
        (_, F::Strings) => json!(["charge_card", "ship_order"]),
        ("error_class", _) => json!("exit_code"),
        ("error_message", _) => json!("exited with code 1: card declined"),
        ("handler", _) => json!("command"),
        ("actor", _) => json!("alice"),
        ("reason", _) => json!("gateway fixed"),
        ("namespace", _) => json!("ecommerce"),
        ("task_name", _) => json!("order_fulfillment"),
        ("version", _) => json!("1.0.0"),
        ("previous_owner_host", _) => json!("worker-1"),
        (_, F::Integer) => json!(match field {
            "attempt" => 2,
            "duration_ms" => 1520,
            "delay_ms" => 2000,
            "queue_wait_ms" => 1,
            "retry_limit" => 3,
            "exit_code" => 1,
            "timeout_ms" => 30_000,
            "previous_owner_pid" => 4242,
            _ => 3,
        }),
        (_, F::Boolean) => json!(true),
        (_, F::Timestamp) => json!("2026-11-27T10:00:02.000Z"),
        (_, F::Object) => json!({"order_id": 42}),
        (_, F::String | F::State) => json!("text"),
    }
}

/// A correctly typed example of `spec`'s JSON form.
pub fn example(spec: &Spec) -> Value {
    let mut doc = Map::new();
    doc.insert("seq".into(), json!(7));
    doc.insert("name".into(), json!(spec.name));
    doc.insert("task_id".into(), json!(42));
    doc.insert("timestamp".into(), json!("2026-11-27T10:00:00.000Z"));
    for (field, ty) in spec.fields {
        doc.insert((*field).into(), example_value(field, *ty));
    }
    if spec.kind == Kind::WorkflowNoViableSteps {
        doc.insert("reason".into(), json!("waiting_for_retry"));
    }
    Value::Object(doc)
}

/// Whether `name` is one of tasker's own events (custom events may not use these prefixes).
pub fn is_reserved(name: &str) -> bool {
    matches!(
        name.split('.').next(),
        Some("task" | "step" | "workflow" | "observability")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_entry_with_its_category_prefix() {
        for (i, spec) in CATALOG.iter().enumerate() {
            assert_eq!(spec.kind.name(), spec.name);
            assert_eq!(
                CATALOG.iter().filter(|s| s.kind == spec.kind).count(),
                1,
                "{}",
                spec.name
            );
            assert!(
                spec.name.starts_with(spec.category.as_str()),
                "{}",
                spec.name
            );
            assert!(is_reserved(spec.name));
            assert!(CATALOG[..i].iter().all(|s| s.name != spec.name));
        }
        assert_eq!(CATALOG.len(), 24);
    }

    #[test]
    fn examples_are_typed() {
        let e = example(Kind::StepFailed.spec());
        assert!(e["task_id"].is_u64());
        assert!(e["duration_ms"].is_u64());
        assert!(e["retryable"].is_boolean());
        assert!(e["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
