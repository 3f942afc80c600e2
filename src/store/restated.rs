//! Events that rows restate: what a step's transition or attempt row says, read back as
//! the event the engine emitted with it. The engine checks (in debug builds) that a row
//! restates its event exactly; a store that keeps such events on their rows reads them
//! back with these, and stores no text for them.

use super::Restated;
use crate::model::{State, What};

/// The event step `step_name`'s transition `from → to` restates, with `r` kept on its row
/// (`exit_code` is its attempt's): none for a transition that restates none.
pub fn transition_event(
    step_name: &str,
    from: State,
    to: State,
    r: &Restated,
    exit_code: Option<i32>,
) -> Option<What> {
    match (from, to) {
        (State::Pending, State::InProgress) => Some(What::StepExecutionRequested {
            step_name: step_name.to_owned(),
            attempt: r.attempt,
            from_state: from,
            to_state: to,
            queue_wait_ms: r.ms,
        }),
        (State::InProgress, State::Complete) => Some(What::StepCompleted {
            step_name: step_name.to_owned(),
            attempt: r.attempt,
            from_state: from,
            to_state: to,
            duration_ms: r.ms,
            exit_code,
        }),
        _ => None,
    }
}

/// `step.before_handle` of an attempt, from its row.
pub fn handling_event(step_name: &str, attempt: u32, handler: &str) -> What {
    What::StepBeforeHandle {
        step_name: step_name.to_owned(),
        attempt,
        handler: handler.to_owned(),
    }
}

/// `workflow.viable_steps_discovered` of the steps whose starts follow it.
pub fn discovery_event(steps: Vec<String>) -> What {
    What::WorkflowViableStepsDiscovered {
        count: steps.len() as u64,
        steps,
    }
}
