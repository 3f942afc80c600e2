//! The status document of a task (DESIGN §9.2), with Tasker's execution fields.

use serde::Serialize;
use serde_json::Value as Json;

use crate::clock::rfc3339;
use crate::model::{State, running};
use crate::store::{Owner, StepError, TaskRecord};

/// `status --json`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    pub task_id: i64,
    pub uuid: String,
    pub name: String,
    pub namespace: String,
    pub version: String,
    pub status: State,
    /// `in_progress`, but the runner that owned it is gone: `tasker resume` takes it over.
    pub orphaned: bool,
    /// The runner that owns the task while it runs.
    pub owner: Option<Owner>,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub context: Json,
    /// The `--env` the task was created with.
    pub environment: Option<String>,
    pub initiator: Option<String>,
    pub source_system: Option<String>,
    pub reason: Option<String>,
    pub tags: Vec<String>,
    pub idempotency_key: Option<String>,
    /// What operators attached with `tasker annotate`, oldest first (filled by `status`).
    pub annotations: Vec<crate::store::Annotation>,
    pub steps: Vec<StepReport>,
    pub execution: Execution,
}

/// One step of `status --json`.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub name: String,
    pub status: State,
    pub attempts: u32,
    pub retry_limit: u32,
    pub flaky: bool,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub depends_on: Vec<String>,
    pub results: Option<Json>,
    pub error: Option<StepError>,
    pub next_retry_at: Option<String>,
}

/// Tasker's task execution context: counts, status, recommended action, health.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Execution {
    pub total_steps: usize,
    pub pending_steps: usize,
    pub in_progress_steps: usize,
    pub completed_steps: usize,
    pub failed_steps: usize,
    pub ready_steps: usize,
    pub execution_status: &'static str,
    pub recommended_action: &'static str,
    pub completion_percentage: f64,
    pub health_status: &'static str,
}

/// Build the report of `task` as of `now` (ms).
pub fn report(task: &TaskRecord, now: i64) -> TaskReport {
    let steps = &task.steps;
    let satisfied = |i: usize| steps[i].status.is_satisfied();
    let mut exec = Execution {
        total_steps: steps.len(),
        pending_steps: 0,
        in_progress_steps: 0,
        completed_steps: 0,
        failed_steps: 0,
        ready_steps: 0,
        execution_status: "",
        recommended_action: "",
        completion_percentage: 0.0,
        health_status: "",
    };
    let mut blocked = 0;
    for s in steps {
        let parents_done = s.parents.iter().all(|&p| satisfied(p));
        match s.status {
            State::Pending => {
                exec.pending_steps += 1;
                if parents_done {
                    exec.ready_steps += 1;
                }
            }
            State::InProgress => exec.in_progress_steps += 1,
            State::Complete | State::ResolvedManually => exec.completed_steps += 1,
            State::Error => {
                exec.failed_steps += 1;
                // The engine clears `next_retry_at` when a step fails for good.
                match s.state.next_retry_at {
                    Some(at) if at <= now && parents_done => exec.ready_steps += 1,
                    Some(_) => {}
                    None => blocked += 1,
                }
            }
            State::Cancelled => blocked += 1,
        }
    }
    // A finished task recommends nothing more than its state says.
    let task_final = task.status.is_final();
    if task_final && task.status != State::Complete {
        exec.ready_steps = 0;
    }
    (exec.execution_status, exec.recommended_action) = if exec.ready_steps > 0 {
        ("has_ready_steps", "execute_ready_steps")
    } else if exec.in_progress_steps > 0 {
        ("processing", "wait_for_completion")
    } else if blocked > 0 || (task_final && exec.completed_steps < exec.total_steps) {
        ("blocked_by_failures", "handle_failures")
    } else if exec.completed_steps == exec.total_steps {
        ("all_complete", "finalize_task")
    } else {
        ("waiting_for_dependencies", "wait_for_dependencies")
    };
    exec.health_status = if exec.failed_steps == 0 && blocked == 0 {
        "healthy"
    } else if exec.execution_status == "blocked_by_failures" {
        "blocked"
    } else {
        "recovering"
    };
    exec.completion_percentage = if steps.is_empty() {
        100.0
    } else {
        (exec.completed_steps as f64 * 10000.0 / steps.len() as f64).round() / 100.0
    };

    TaskReport {
        task_id: task.task_id,
        uuid: task.uuid.clone(),
        name: task.name.clone(),
        namespace: task.namespace.clone(),
        version: task.version.clone(),
        status: task.status,
        // In progress with no runner owning it: run by workers (a shared store), not
        // orphaned; a runner that owns it and is gone left an orphan.
        orphaned: task.status == State::InProgress
            && task
                .owner
                .as_ref()
                .is_some_and(|o| !crate::runner::alive(o, task.heartbeat_at)),
        owner: task.owner.clone(),
        created_at: rfc3339(task.created_at),
        updated_at: rfc3339(task.updated_at),
        started_at: task.started_at.map(rfc3339),
        finished_at: task.finished_at.map(rfc3339),
        duration_ms: running(task.started_at, task.finished_at, &task.sessions, now),
        // What tasker shows masks secret-looking keys; steps get the real values.
        context: crate::secrets::mask(&task.context),
        environment: task.environment.clone(),
        initiator: task.request.initiator.clone(),
        source_system: task.request.source_system.clone(),
        reason: task.request.reason.clone(),
        tags: task.request.tags.clone(),
        idempotency_key: task.request.idempotency_key.clone(),
        annotations: Vec::new(),
        steps: steps
            .iter()
            .map(|s| StepReport {
                name: s.name.clone(),
                status: s.status,
                attempts: s.attempts_shown(),
                retry_limit: s.retry_limit,
                flaky: s.state.flaky,
                started_at: s.state.started_at.map(rfc3339),
                finished_at: s.state.finished_at.map(rfc3339),
                duration_ms: running(s.state.started_at, s.state.finished_at, &task.sessions, now),
                depends_on: s.parents.iter().map(|&p| steps[p].name.clone()).collect(),
                results: s.state.results.as_ref().map(crate::secrets::mask),
                error: s.state.error.clone(),
                next_retry_at: s.state.next_retry_at.map(rfc3339),
            })
            .collect(),
        execution: exec,
    }
}
