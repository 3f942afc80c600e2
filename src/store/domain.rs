//! The rules a store keeps whatever the backend: which transitions are allowed, what a new
//! task's first events are, how a bypassed step is resolved. Decided here once; a backend
//! only persists what this hands it.

use serde_json::json;

use super::{Change, NewTask, Opening, OpeningStep, StepState, StoreError, check};
use crate::clock::now_ms;
use crate::model::{Actor, Entity, Event, State, What};

/// Every transition in `changes` checked against the state tables.
pub fn check_changes(changes: &[Change]) -> Result<(), StoreError> {
    for change in changes {
        match change {
            Change::Task {
                task_id,
                from,
                to,
                actor,
                ..
            } => check(Entity::Task, *task_id, *from, *to, *actor)?,
            Change::Step {
                step_id,
                from,
                to,
                actor,
                ..
            } => check(Entity::Step, *step_id, *from, *to, *actor)?,
            _ => {}
        }
    }
    Ok(())
}

/// What `new` starts with: its creation event and each step's, and the steps it bypasses
/// resolved by the initiator (their `resolved_manually` event after them). All happen at
/// one time, the task's creation.
pub fn opening(new: &NewTask<'_>) -> Result<Opening, StoreError> {
    let t = new.template;
    let now = now_ms();
    let at = |what: What| Event {
        timestamp: now,
        ..Event::new(what, 0)
    };
    // Task ids are filled in by the backend, which alone knows them.
    let mut events = vec![at(What::TaskInitializeRequested {
        task_name: t.name.clone(),
        namespace: t.namespace.clone(),
        version: t.version.clone(),
        step_count: t.steps.len() as u64,
        context: crate::secrets::mask(new.context),
    })];
    events.extend(t.steps.iter().map(|s| {
        at(What::StepInitializeRequested {
            step_name: s.name.clone(),
        })
    }));
    let actor = new.initiator.unwrap_or("tasker");
    let mut steps = Vec::new();
    for &i in new.bypass {
        let Some(step) = t.steps.get(i) else {
            continue;
        };
        check(
            Entity::Step,
            i as i64,
            State::Pending,
            State::ResolvedManually,
            Actor::Operator,
        )?;
        steps.push(OpeningStep {
            position: i,
            from: State::Pending,
            to: State::ResolvedManually,
            metadata: json!({"actor": actor, "reason": "bypassed"}),
            state: StepState {
                results: Some(json!({})),
                finished_at: Some(now),
                ..StepState::default()
            },
        });
        events.push(at(What::StepResolvedManually {
            step_name: step.name.clone(),
            from_state: State::Pending,
            to_state: State::ResolvedManually,
            actor: actor.to_owned(),
            reason: "bypassed".into(),
        }));
    }
    Ok(Opening { events, steps })
}
