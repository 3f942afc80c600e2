//! `tasker cancel ID`: stop a task (or some of its steps), from any terminal.

use std::time::{Duration, Instant};

use serde_json::json;

use super::Global;
use crate::error::{Error, exit};
use crate::events::{Event, What};
use crate::model::{Actor, State};
use crate::runner::owner;
use crate::store::{AttemptEnd, Change, StepError};

/// Cancel a task, or some of its steps; a running task's runner stops them within a second
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker cancel 42 --reason 'customer withdrew the order'
  tasker cancel 42 --step notify_customer

A running task's runner stops launching steps, kills the running ones' process groups and
ends the task `cancelled` (its `run` exits 3). A cancelled step blocks its dependents.
A complete task can be cancelled (its steps keep their state); a task in error cannot:
retry or resolve it.")]
pub struct Args {
    /// The task id
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    /// Cancel only this step (repeatable)
    #[arg(long = "step", value_name = "STEP")]
    pub steps: Vec<String>,
    /// Why (kept in the transitions' metadata)
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
    /// Who [default: $USER]
    #[arg(long, value_name = "A")]
    pub actor: Option<String>,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let mut store = super::existing_store(global, args.id)?;
    let task = super::find_task(&*store, args.id)?;
    let positions: Vec<usize> = args
        .steps
        .iter()
        .map(|n| super::step_position(&task, n))
        .collect::<Result<_, _>>()?;
    let actor = super::actor(args.actor.as_deref());
    let reason = args.reason.clone().unwrap_or_else(|| "cancelled".into());
    let metadata = json!({"actor": actor, "reason": reason, "operation": "cancel"});

    let running = task.status == State::InProgress
        && task
            .owner
            .as_ref()
            .is_some_and(|o| owner::alive(o, task.heartbeat_at));
    if running {
        let steps = (!args.steps.is_empty()).then(|| args.steps.clone());
        store.annotate(
            args.id,
            "cancel_request",
            &json!({"steps": steps, "reason": reason, "actor": actor}),
        )?;
        // The runner looks for requests four times a second; wait to report what it did.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            let now = super::find_task(&*store, args.id)?;
            let done = if positions.is_empty() {
                now.status != State::InProgress
            } else {
                positions
                    .iter()
                    .all(|&i| !matches!(now.steps[i].status, State::InProgress | State::Pending))
            };
            if done {
                // A step may have ended on its own before the runner got to it.
                let ended: Vec<String> = positions
                    .iter()
                    .filter(|&&i| now.steps[i].status != State::Cancelled)
                    .map(|&i| format!("`{}` ({})", now.steps[i].name, now.steps[i].status))
                    .collect();
                if ended.is_empty() {
                    super::say!(
                        "task {} cancelled by its runner; it is {}",
                        args.id,
                        now.status
                    );
                } else {
                    super::say!(
                        "task {}: {} ended before the runner could cancel it; the task is {}",
                        args.id,
                        ended.join(", "),
                        now.status
                    );
                }
                return Ok(exit::OK);
            }
        }
        super::say!(
            "cancellation of task {} requested; its runner has not acted on it yet",
            args.id
        );
        return Ok(exit::OK);
    }

    // Nobody runs the task: make the transitions here.
    let mut changes = Vec::new();
    let mut events = Vec::new();
    let whole = positions.is_empty();
    let targets: Vec<usize> = if whole {
        (0..task.steps.len()).collect()
    } else {
        positions
    };
    for i in targets {
        let step = &task.steps[i];
        if !matches!(
            step.status,
            State::Pending | State::Error | State::InProgress
        ) {
            if !whole {
                return Err(Error::Refused(format!(
                    "step `{}` is {} and cannot be cancelled",
                    step.name, step.status
                )));
            }
            continue;
        }
        if step.status == State::InProgress {
            // Its runner died: what it left running is stopped, and the attempt ends here.
            if let Some((pid, started)) = store
                .attempts(step.step_id)?
                .into_iter()
                .find(|a| a.attempt == step.state.attempts)
                .and_then(|a| a.process)
            {
                crate::handlers::kill_leftovers(pid, started);
            }
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
                actor: actor.clone(),
                reason: reason.clone(),
            },
            task.task_id,
        ));
        changes.push(Change::Step {
            step_id: step.step_id,
            from: step.status,
            to: State::Cancelled,
            actor: Actor::Operator,
            metadata: metadata.clone(),
            state,
        });
    }
    if whole {
        let why = match task.status {
            State::Cancelled => Some("it is already cancelled"),
            State::Error => Some("a task in `error` is retried or resolved, not cancelled"),
            _ => None,
        };
        if let Some(why) = why {
            return Err(Error::Refused(format!(
                "task {} cannot be cancelled: {why}",
                args.id
            )));
        }
        if matches!(task.status, State::Complete | State::ResolvedManually) {
            // Finished work stays as it was; only the task is marked.
            changes.clear();
            events.clear();
        }
        events.push(Event::new(
            What::TaskCancelled {
                from_state: task.status,
                to_state: State::Cancelled,
                duration_ms: None,
                actor: actor.clone(),
                reason: reason.clone(),
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
    changes.extend(super::recorded(&*store, events)?);
    store.commit(&changes)?;
    if whole {
        super::say!("task {} cancelled", args.id);
    } else {
        super::say!("{} step(s) of task {} cancelled", args.steps.len(), args.id);
    }
    Ok(exit::OK)
}
