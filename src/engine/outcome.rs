//! How a task ends, decided from its steps' states and why the run stopped (no I/O).

use crate::model::{Kind, State};

/// The task's last transition: its state, the event that says so, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ending {
    pub state: State,
    pub kind: Kind,
    pub reason: &'static str,
}

/// Every step done (`complete` or `resolved_manually`) → complete; else a cancelled step →
/// cancelled (it blocked its dependents); else the deadline passed → error, timed out; else
/// error, a step failed.
pub(super) fn ending(states: &[State], timed_out: bool) -> Ending {
    let (state, kind, reason) = if states.iter().all(|s| s.is_satisfied()) {
        (State::Complete, Kind::TaskCompleted, "all steps complete")
    } else if states.contains(&State::Cancelled) {
        (
            State::Cancelled,
            Kind::TaskCancelled,
            "a step was cancelled",
        )
    } else if timed_out {
        (State::Error, Kind::TaskFailed, "the task timed out")
    } else {
        (State::Error, Kind::TaskFailed, "a step failed")
    };
    Ending {
        state,
        kind,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    #[test]
    fn the_end_follows_the_steps() {
        assert_eq!(ending(&[Complete, ResolvedManually], false).state, Complete);
        assert_eq!(
            ending(&[Complete, ResolvedManually], true).state,
            Complete,
            "done in time"
        );
        let cancelled = ending(&[Complete, Cancelled, Pending], true);
        assert_eq!(
            (cancelled.state, cancelled.kind),
            (Cancelled, Kind::TaskCancelled)
        );
        let timed_out = ending(&[Complete, Error, Pending], true);
        assert_eq!(
            (timed_out.state, timed_out.reason),
            (Error, "the task timed out")
        );
        let failed = ending(&[Error, Pending], false);
        assert_eq!((failed.state, failed.reason), (Error, "a step failed"));
    }
}
