//! The six states shared by tasks and steps, and the transitions allowed between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A task's or a step's state.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum State {
    #[default]
    Pending,
    InProgress,
    Complete,
    Error,
    Cancelled,
    ResolvedManually,
}

/// Whether a transition belongs to a task or to a step (their tables differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Task,
    Step,
}

/// Who asks for a transition: the engine, or an operator's `tasker retry`, which alone may
/// send finished work back to `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Engine,
    Operator,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Pending,
        State::InProgress,
        State::Complete,
        State::Error,
        State::Cancelled,
        State::ResolvedManually,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::InProgress => "in_progress",
            State::Complete => "complete",
            State::Error => "error",
            State::Cancelled => "cancelled",
            State::ResolvedManually => "resolved_manually",
        }
    }

    /// `complete` or `resolved_manually`: what dependents wait for.
    pub fn is_satisfied(self) -> bool {
        matches!(self, State::Complete | State::ResolvedManually)
    }

    /// States a task does not leave without an operator.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Complete | State::Error | State::Cancelled | State::ResolvedManually
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown state `{s}` (states: pending, in_progress, complete, error, cancelled, resolved_manually)"
                )
            })
    }
}

/// Whether `from → to` is allowed for `entity` when `actor` asks (DESIGN §5.1).
pub fn allowed(entity: Entity, from: State, to: State, actor: Actor) -> bool {
    use State::*;
    let engine = match entity {
        Entity::Task => matches!(
            (from, to),
            (Pending, InProgress | Cancelled | Error)
                | (InProgress, Complete | Error | Cancelled | Pending)
                | (Error, Pending | ResolvedManually)
                | (Complete, Cancelled)
                | (ResolvedManually, Cancelled)
        ),
        Entity::Step => matches!(
            (from, to),
            (Pending, InProgress | Error | Cancelled | ResolvedManually)
                | (InProgress, Complete | Error | Cancelled)
                | (Error, Pending | ResolvedManually | Cancelled)
        ),
    };
    engine
        || (actor == Actor::Operator
            && to == Pending
            && match entity {
                Entity::Task => from != Pending,
                Entity::Step => matches!(from, Complete | Error | Cancelled | ResolvedManually),
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    #[test]
    fn tables_match_the_design() {
        let count = |entity, actor| {
            State::ALL
                .iter()
                .flat_map(|&a| State::ALL.iter().map(move |&b| (a, b)))
                .filter(|&(a, b)| allowed(entity, a, b, actor))
                .count()
        };
        assert_eq!(count(Entity::Task, Actor::Engine), 11);
        assert_eq!(count(Entity::Step, Actor::Engine), 10);
        assert!(!allowed(Entity::Step, Complete, Pending, Actor::Engine));
        assert!(allowed(Entity::Step, Complete, Pending, Actor::Operator));
        assert!(!allowed(Entity::Step, Complete, Error, Actor::Operator));
        assert!(allowed(Entity::Task, Complete, Pending, Actor::Operator));
        assert!(!allowed(Entity::Task, Error, Complete, Actor::Engine));
    }

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>(), Ok(s));
        }
        assert!("done".parse::<State>().is_err());
    }
}
