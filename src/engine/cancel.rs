//! What a cancel request asks of a run, decided from the request and the steps' states
//! alone (no I/O): the whole task or some steps; which to cancel at once, which to stop.

use std::collections::HashMap;

use serde_json::{Value as Json, json};

use crate::model::State;

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
