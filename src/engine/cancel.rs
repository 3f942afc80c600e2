//! What a cancel request asks of a run, decided from the request and the steps' states
//! alone (no I/O): the whole task or some steps; which to cancel at once, which to stop.

use std::collections::HashMap;

use serde_json::{Value as Json, json};

use crate::events::{Event, What};
use crate::model::{Actor, State};
use crate::store::{AttemptEnd, Change, StepError, TaskRecord};

/// A cancel request, read.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Cancel {
    /// The whole task: the run stops starting steps.
    pub whole: bool,
    /// Steps not running: cancelled now.
    pub now: Vec<usize>,
    /// Steps running: stopped, then cancelled when their attempt ends.
    pub stop: Vec<usize>,
    /// Who asked and why, for the transitions' metadata.
    pub metadata: Json,
}

/// Read `request` (`{"steps": [names]?, "reason", "actor"}`) against the steps' `states`;
/// names it does not know are ignored.
pub(super) fn decide(request: &Json, index: &HashMap<String, usize>, states: &[State]) -> Cancel {
    let reason = request["reason"].as_str().unwrap_or("cancelled");
    let actor = request["actor"].as_str().unwrap_or("operator");
    let (whole, targets): (bool, Vec<usize>) = match request["steps"].as_array() {
        Some(names) => (
            false,
            names
                .iter()
                .filter_map(|n| n.as_str().and_then(|n| index.get(n).copied()))
                .collect(),
        ),
        None => (true, (0..states.len()).collect()),
    };
    let mut cancel = Cancel {
        whole,
        now: Vec::new(),
        stop: Vec::new(),
        metadata: json!({"actor": actor, "reason": reason}),
    };
    for i in targets {
        match states[i] {
            State::InProgress => cancel.stop.push(i),
            State::Pending | State::Error => cancel.now.push(i),
            _ => {}
        }
    }
    cancel
}

/// Cancel, in the store directly, task `task`'s steps `positions` (all of them and the
/// task itself when empty): steps waiting end `cancelled`, and running ones too, their
/// attempts ended `cancelled` — whoever runs them sees the claim gone and stops. The
/// changes, with the events numbered by the store; `Err` says why it cannot be done.
/// `ran_for` is how long the task ran, when its runner cancels it.
pub fn cancel_now(
    task: &TaskRecord,
    positions: &[usize],
    actor: &str,
    reason: &str,
    ran_for: Option<u64>,
) -> Result<(Vec<Change>, Vec<Event>), String> {
    let metadata = json!({"actor": actor, "reason": reason, "operation": "cancel"});
    let mut changes = Vec::new();
    let mut events = Vec::new();
    let whole = positions.is_empty();
    let targets: Vec<usize> = if whole {
        (0..task.steps.len()).collect()
    } else {
        positions.to_vec()
    };
    for i in targets {
        let step = &task.steps[i];
        if !matches!(
            step.status,
            State::Pending | State::Error | State::InProgress
        ) {
            if !whole {
                return Err(format!(
                    "step `{}` is {} and cannot be cancelled",
                    step.name, step.status
                ));
            }
            continue;
        }
        if step.status == State::InProgress {
            changes.push(Change::AttemptFinished {
                step_id: step.step_id,
                attempt: step.state.attempts,
                end: AttemptEnd {
                    outcome: State::Cancelled,
                    error: Some(StepError {
                        class: crate::model::FailureClass::Cancelled,
                        message: "cancelled by an operator".into(),
                    }),
                    ..AttemptEnd::default()
                },
            });
        }
        let mut state = step.state.clone();
        state.next_retry_at = None;
        events.push(Event::new(
            What::StepCancelled {
                step_name: step.name.clone(),
                attempt: step.state.attempts,
                from_state: step.status,
                to_state: State::Cancelled,
                actor: actor.to_owned(),
                reason: reason.to_owned(),
            },
            task.task_id,
        ));
        changes.push(Change::Step {
            step_id: step.step_id,
            from: step.status,
            to: State::Cancelled,
            actor: Actor::Operator,
            metadata: metadata.clone().into(),
            state,
            restates: None,
        });
    }
    if whole {
        let why = match task.status {
            State::Cancelled => Some("it is already cancelled"),
            State::Error => Some("a task in `error` is retried or resolved, not cancelled"),
            _ => None,
        };
        if let Some(why) = why {
            return Err(format!("task {} cannot be cancelled: {why}", task.task_id));
        }
        if matches!(task.status, State::Complete | State::ResolvedManually) {
            changes.clear();
            events.clear();
        }
        events.push(Event::new(
            What::TaskCancelled {
                from_state: task.status,
                to_state: State::Cancelled,
                duration_ms: ran_for,
                actor: actor.to_owned(),
                reason: reason.to_owned(),
            },
            task.task_id,
        ));
        changes.push(Change::Task {
            task_id: task.task_id,
            from: task.status,
            to: State::Cancelled,
            actor: Actor::Operator,
            metadata,
        });
    }
    Ok((changes, events))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> HashMap<String, usize> {
        ["a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, n)| ((*n).to_owned(), i))
            .collect()
    }

    const STATES: [State; 4] = [
        State::Complete,
        State::InProgress,
        State::Pending,
        State::Error,
    ];

    #[test]
    fn the_whole_task_stops_what_runs_and_cancels_what_waits() {
        let c = decide(
            &json!({"reason": "no longer needed", "actor": "ada"}),
            &index(),
            &STATES,
        );
        assert!(c.whole);
        assert_eq!(c.stop, vec![1], "b runs: stopped");
        assert_eq!(
            c.now,
            vec![2, 3],
            "c waits, d waits out a backoff: cancelled now"
        );
        assert_eq!(
            c.metadata,
            json!({"actor": "ada", "reason": "no longer needed"})
        );
    }

    #[test]
    fn named_steps_only_and_unknown_names_ignored() {
        let c = decide(&json!({"steps": ["d", "zz", "a"]}), &index(), &STATES);
        assert!(!c.whole);
        assert!(c.stop.is_empty());
        assert_eq!(c.now, vec![3], "a is complete: nothing to cancel");
        assert_eq!(
            c.metadata,
            json!({"actor": "operator", "reason": "cancelled"})
        );
    }
}
