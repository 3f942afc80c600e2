//! `tasker cancel ID`: stop a task (or some of its steps), from any terminal.

use std::time::{Duration, Instant};

use serde_json::json;

use super::Global;
use crate::error::{Error, exit};
use crate::model::State;
use crate::runner::owner;

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

/// The steps `positions` names, or all of them.
fn positions_or_all(task: &crate::store::TaskRecord, positions: &[usize]) -> Vec<usize> {
    if positions.is_empty() {
        (0..task.steps.len()).collect()
    } else {
        positions.to_vec()
    }
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
    let whole = positions.is_empty();
    // Processes a dead runner left running a step: stopped once the cancel is recorded. On
    // a shared store a recorded pid may be another machine's: only a dead runner of this
    // machine's are (a live worker stops its own when it sees its claim gone).
    let shared = matches!(global.location()?.0, crate::store::Location::Postgres(_));
    let here = !shared
        || task
            .owner
            .as_ref()
            .is_some_and(|o| o.host == owner::hostname());
    let mut leftovers = Vec::new();
    if here {
        for &i in &positions_or_all(&task, &positions) {
            let step = &task.steps[i];
            if step.status == State::InProgress
                && let Some(process) = store
                    .attempts(step.step_id)?
                    .into_iter()
                    .find(|a| a.attempt == step.state.attempts)
                    .and_then(|a| a.process)
            {
                leftovers.push(process);
            }
        }
    }
    // A step that moves meanwhile (a worker ends it) makes the cancel conflict: the task is
    // read again and the cancel decided again.
    let mut task = task;
    let mut tries = 0;
    loop {
        let (mut changes, events) =
            crate::engine::cancel_now(&task, &positions, &actor, &reason, None)
                .map_err(Error::Refused)?;
        changes.extend(super::recorded(&*store, events)?);
        match store.commit(&changes) {
            Err(crate::store::StoreError::Conflict { .. }) if shared && tries < 5 => {
                tries += 1;
                task = super::find_task(&*store, args.id)?;
            }
            other => break other?,
        }
    }
    for (pid, started) in leftovers {
        crate::handlers::kill_leftovers(pid, started);
    }
    if whole {
        super::say!("task {} cancelled", args.id);
    } else {
        super::say!("{} step(s) of task {} cancelled", args.steps.len(), args.id);
    }
    Ok(exit::OK)
}
