//! `tasker resolve ID`: mark a step (or a failed task) `resolved_manually`.

use serde_json::{Value, json};

use super::Global;
use crate::clock::now_ms;
use crate::error::{Error, exit};
use crate::events::{Event, What};
use crate::model::{Actor, State};
use crate::store::{Change, StepState};

/// Mark a step resolved by hand (its results feed its dependents), or a failed task
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker resolve 42 --step charge --results '{\"charge_id\": \"ch_manual\"}' --reason 'charged by phone'
  tasker resume 42                       then continue the task past the resolved step
  tasker resolve 42 --reason 'refunded outside tasker'     the whole task, when it is in error")]
pub struct Args {
    /// The task id
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    /// The step to resolve; without it, the task (which must be in error)
    #[arg(long, value_name = "STEP")]
    pub step: Option<String>,
    /// The step's results: JSON, or @FILE holding JSON [default: {}]
    #[arg(long, value_name = "JSON|@FILE", requires = "step")]
    pub results: Option<String>,
    /// Why (required; kept in the transition's metadata)
    #[arg(long, value_name = "R")]
    pub reason: String,
    /// Who [default: $USER]
    #[arg(long, value_name = "A")]
    pub actor: Option<String>,
}

fn results(arg: Option<&str>) -> Result<Value, Error> {
    let Some(arg) = arg else {
        return Ok(json!({}));
    };
    let (text, source) = match arg.strip_prefix('@') {
        Some(file) => {
            let bytes = match crate::limits::read(std::path::Path::new(file), crate::limits::RESULT)
            {
                Ok(crate::limits::Bounded::All(bytes)) => bytes,
                Ok(crate::limits::Bounded::TooBig(_)) => {
                    return Err(Error::Usage(format!(
                        "`{file}` is bigger than {}, the most a step's results may be",
                        crate::limits::size(crate::limits::RESULT)
                    )));
                }
                Err(e) => return Err(Error::Usage(format!("cannot read `{file}`: {e}"))),
            };
            (
                String::from_utf8(bytes)
                    .map_err(|_| Error::Usage(format!("`{file}` is not UTF-8 text")))?,
                format!("in `{file}`"),
            )
        }
        None if arg.len() as u64 > crate::limits::RESULT => {
            return Err(Error::Usage(format!(
                "the results given with --results are bigger than {}, the most a step's results may be",
                crate::limits::size(crate::limits::RESULT)
            )));
        }
        None => (arg.to_owned(), "given with --results".to_owned()),
    };
    serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("the results {source} are not valid JSON: {e}")))
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let results = results(args.results.as_deref())?;
    let mut store = super::existing_store(global, args.id)?;
    let task = super::find_task(&*store, args.id)?;
    super::refuse_if_running(&task)?;
    let actor = super::actor(args.actor.as_deref());
    let metadata = json!({"actor": actor, "reason": args.reason, "operation": "resolve"});
    let Some(name) = &args.step else {
        if task.status != State::Error {
            return Err(Error::Refused(format!(
                "task {} is {}: only a task in error can be resolved as a whole",
                args.id, task.status
            )));
        }
        let event = Event::new(
            What::TaskResolvedManually {
                from_state: State::Error,
                to_state: State::ResolvedManually,
                actor: actor.clone(),
                reason: args.reason.clone(),
            },
            task.task_id,
        );
        let mut changes = vec![Change::Task {
            task_id: task.task_id,
            from: State::Error,
            to: State::ResolvedManually,
            actor: Actor::Operator,
            metadata,
        }];
        changes.extend(super::recorded(&*store, vec![event])?);
        store.commit(&changes)?;
        super::say!("task {} resolved manually", args.id);
        return Ok(exit::OK);
    };
    let i = super::step_position(&task, name)?;
    let step = &task.steps[i];
    if !matches!(step.status, State::Pending | State::Error) {
        let hint = if step.status == State::InProgress {
            format!(
                "\n  hint: the task's runner stopped while it ran: `tasker resume {}` first",
                args.id
            )
        } else {
            String::new()
        };
        return Err(Error::Refused(format!(
            "step `{name}` is {}: only a pending or failed step can be resolved{hint}",
            step.status
        )));
    }
    let event = Event::new(
        What::StepResolvedManually {
            step_name: name.clone(),
            from_state: step.status,
            to_state: State::ResolvedManually,
            actor: actor.clone(),
            reason: args.reason.clone(),
        },
        task.task_id,
    );
    let mut changes = super::recorded(&*store, vec![event])?;
    changes.insert(
        0,
        Change::Step {
            step_id: step.step_id,
            from: step.status,
            to: State::ResolvedManually,
            actor: Actor::Operator,
            metadata: metadata.into(),
            state: StepState {
                results: Some(results),
                finished_at: Some(now_ms()),
                next_retry_at: None,
                error: None,
                ..step.state.clone()
            },
            restates: None,
        },
    );
    store.commit(&changes)?;
    super::say!(
        "step `{name}` of task {} resolved manually; `tasker resume {}` continues the task",
        args.id,
        args.id
    );
    Ok(exit::OK)
}
