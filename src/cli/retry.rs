//! `tasker retry ID`: give failed (or chosen) steps fresh attempts, then run the task.

use std::collections::VecDeque;

use serde_json::json;

use super::Global;
use super::drive::{DriveArgs, drive};
use crate::error::Error;
use crate::events::{Event, What};
use crate::model::{Actor, State};
use crate::store::{Change, StepState};

/// Run failed steps again with fresh attempts (or the steps named), then continue the task
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker retry 42                                  every step in error, with fresh attempts
  tasker retry 42 --step load --downstream         `load` and everything after it
  tasker retry 42 --step charge --reason 'gateway fixed'")]
pub struct Args {
    /// The task id
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    /// A step to run again, even if complete (repeatable); default: every step in error
    #[arg(long = "step", value_name = "STEP")]
    pub steps: Vec<String>,
    /// Also run again every step that depends on them
    #[arg(long)]
    pub downstream: bool,
    /// Why (kept in the transitions' metadata)
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
    /// Who [default: $USER]
    #[arg(long, value_name = "A")]
    pub actor: Option<String>,
    #[command(flatten)]
    pub drive: DriveArgs,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let outputs = args.drive.open_outputs(global)?;
    let mut store = super::existing_store(global, args.id)?;
    let task = super::find_task(&*store, args.id)?;
    super::refuse_if_running(&task)?;
    if task.status == State::InProgress {
        return Err(Error::Refused(format!(
            "task {} was running when its runner stopped\n  hint: `tasker resume {}` continues it",
            args.id, args.id
        )));
    }
    let template = super::snapshot(global, &task)?;
    let mut targets: Vec<usize> = if args.steps.is_empty() {
        let failed: Vec<usize> = (0..task.steps.len())
            .filter(|&i| task.steps[i].status == State::Error)
            .collect();
        if failed.is_empty() {
            return Err(Error::Refused(format!(
                "task {} has no step in error\n  hint: name steps to run again with `--step`",
                args.id
            )));
        }
        failed
    } else {
        args.steps
            .iter()
            .map(|name| super::step_position(&task, name))
            .collect::<Result<_, _>>()?
    };
    if args.downstream {
        let dag = template.dag();
        let mut queue: VecDeque<usize> = targets.iter().copied().collect();
        while let Some(i) = queue.pop_front() {
            for c in dag.children(i) {
                if !targets.contains(&c) {
                    targets.push(c);
                    queue.push_back(c);
                }
            }
        }
    }
    targets.sort_unstable();

    let actor = super::actor(args.actor.as_deref());
    let metadata = json!({"actor": actor, "reason": args.reason.as_deref().unwrap_or("retry"), "operation": "retry"});
    let mut changes = Vec::new();
    let mut events = Vec::new();
    let mut reset = Vec::new();
    for &i in &targets {
        let step = &task.steps[i];
        if matches!(step.status, State::Pending | State::InProgress) {
            continue;
        }
        reset.push(step.name.clone());
        events.push(Event::new(
            What::StepRetryRequested {
                step_name: step.name.clone(),
                attempt: step.state.attempts + 1,
                from_state: step.status,
                to_state: State::Pending,
                actor: actor.clone(),
                reason: None,
            },
            task.task_id,
        ));
        changes.push(Change::Step {
            step_id: step.step_id,
            from: step.status,
            to: State::Pending,
            actor: Actor::Operator,
            metadata: metadata.clone().into(),
            state: StepState {
                attempts: step.state.attempts,
                started_at: step.state.started_at,
                ..StepState::default()
            },
            restates: None,
        });
    }
    if task.status != State::Pending {
        changes.push(Change::Task {
            task_id: task.task_id,
            from: task.status,
            to: State::Pending,
            actor: Actor::Operator,
            metadata: metadata.clone(),
        });
    }
    events.insert(
        0,
        Event::new(
            What::TaskRetryRequested {
                from_state: task.status,
                to_state: State::Pending,
                actor,
                reason: args.reason.as_deref().unwrap_or("retry").to_owned(),
                steps: reset,
            },
            task.task_id,
        ),
    );
    let replay_after = store.last_event_seq(args.id)?;
    changes.extend(super::recorded(&*store, events)?);
    store.commit(&changes)?;
    super::announce(global, args.id, args.drive.json);
    drive(
        global,
        &mut *store,
        args.id,
        std::sync::Arc::new(template),
        &args.drive,
        outputs,
        super::drive::Replay::After(replay_after),
    )
}
