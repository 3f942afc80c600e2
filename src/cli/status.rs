//! `tasker status ID`: where a task stands.

use super::Global;
use crate::clock::now_ms;
use crate::engine::report::report;
use crate::error::{Error, exit};
use crate::render::{color, table};
use crate::store::Store;

/// Show a task's state, its steps and Tasker's execution summary
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tasker status 42\n  tasker status 42 --json | jq '.steps[] | select(.status == \"error\")'"
)]
pub struct Args {
    /// The task id (printed by `tasker run`)
    pub id: i64,
    /// Print the status document as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let not_found = || Error::NotFound(format!("task {} not found", args.id));
    let store = global.open_existing_store()?.ok_or_else(not_found)?;
    let task = store.task(args.id)?.ok_or_else(not_found)?;
    let doc = report(&task, now_ms());
    if args.json {
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    } else {
        let on = color::enabled(global.color_choice(), false);
        super::emit(&table::status(&doc, on));
    }
    Ok(exit::OK)
}
