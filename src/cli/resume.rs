//! `tasker resume ID`: continue an interrupted, orphaned or unblocked task.

use super::Global;
use super::drive::{DriveArgs, drive};
use crate::error::Error;
use crate::model::State;

/// Continue a task from the store, with the template snapshot it was created from
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker resume 42                 after Ctrl-C, or after the runner's machine died
  tasker resolve 42 --step charge --reason 'charged by hand' && tasker resume 42

A task that was interrupted (pending), whose runner died (in_progress, shown as orphaned),
or that ended in error (to go on after steps were resolved) can be resumed. Steps that were
running when the runner stopped are retried; completed steps never run again.")]
pub struct Args {
    /// The task id
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    #[command(flatten)]
    pub drive: DriveArgs,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let outputs = args.drive.open_outputs(global)?;
    let mut store = super::existing_store(global, args.id)?;
    let task = super::find_task(&*store, args.id)?;
    match task.status {
        State::Pending | State::Error | State::InProgress => {}
        other => {
            return Err(Error::Refused(format!(
                "task {} is {other}: there is nothing to resume\n  hint: `tasker retry {} --step STEP` runs steps again",
                args.id, args.id
            )));
        }
    }
    super::refuse_if_running(&task)?;
    let template = super::snapshot(global, &task)?;
    let replay_after = store.last_event_seq(args.id)?;
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
