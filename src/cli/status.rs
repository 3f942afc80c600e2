//! `tasker status ID`: where a task stands.

use super::Global;
use crate::clock::now_ms;
use crate::engine::report::report;
use crate::error::{Error, exit};
use crate::graph::Dag;
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
    /// Also show the graph: levels, what blocks the most, the critical path by duration
    #[arg(long)]
    pub graph: bool,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let not_found = || Error::NotFound(format!("task {} not found", args.id));
    let store = global.open_existing_store()?.ok_or_else(not_found)?;
    let task = store.task(args.id)?.ok_or_else(not_found)?;
    let now = now_ms();
    let doc = report(&task, now);
    let analysis = args.graph.then(|| {
        let parents: Vec<&[usize]> = task.steps.iter().map(|s| s.parents.as_slice()).collect();
        let names: Vec<&str> = task.steps.iter().map(|s| s.name.as_str()).collect();
        let durations: Vec<u64> = task
            .steps
            .iter()
            .map(|s| {
                s.state.started_at.map_or(0, |a| {
                    (s.state.finished_at.unwrap_or(now) - a).max(0) as u64
                })
            })
            .collect();
        let open: Vec<bool> = task
            .steps
            .iter()
            .map(|s| !s.status.is_satisfied())
            .collect();
        Dag::from_parents(&parents).analyze(&names, Some(&durations), Some(&open))
    });
    if args.json {
        let mut value = serde_json::to_value(&doc).unwrap_or_default();
        if let Some(a) = &analysis {
            value["graph"] = serde_json::to_value(a).unwrap_or_default();
        }
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        ));
    } else {
        let on = color::enabled(global.color_choice(), false);
        let mut text = table::status(&doc, on);
        if let Some(a) = &analysis {
            text.push_str(&table::analysis(a));
        }
        super::emit(&text);
    }
    Ok(exit::OK)
}
