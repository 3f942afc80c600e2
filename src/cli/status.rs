//! `tasker status ID`: where a task stands.

use std::io::IsTerminal;

use super::Global;
use crate::clock::now_ms;
use crate::error::{Error, exit};
use crate::graph::Dag;
use crate::insights::report::report;
use crate::render::{color, table};

/// Show a task's state, its steps and Tasker's execution summary
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tasker status 42\n  tasker status 42 --json | jq '.steps[] | select(.status == \"error\")'"
)]
pub struct Args {
    /// The task id (printed by `tasker run`)
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    /// Print the status document as JSON
    #[arg(long)]
    pub json: bool,
    /// Also show the graph: levels, what blocks the most, the critical path by duration
    #[arg(long)]
    pub graph: bool,
    /// Keep showing the status as it changes, until the task ends
    #[arg(long, short = 'w')]
    pub watch: bool,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let not_found = || super::no_task(args.id);
    let store = global.open_existing_store()?.ok_or_else(not_found)?;
    if !args.watch {
        let task = store.task(args.id)?.ok_or_else(not_found)?;
        let notes = store.user_annotations(args.id)?;
        show(global, args, &task, notes, false);
        return Ok(exit::OK);
    }
    // Redraw on a terminal, print each change elsewhere; stop once the task has ended.
    let terminal = std::io::stdout().is_terminal();
    let mut last = None;
    loop {
        let task = store.task(args.id)?.ok_or_else(not_found)?;
        let stamp = (
            task.updated_at,
            task.steps.iter().map(|s| s.state.attempts).sum::<u32>(),
        );
        let notes = store.user_annotations(args.id)?;
        let stamp = (stamp, notes.len());
        if last != Some(stamp) {
            last = Some(stamp);
            show(global, args, &task, notes, terminal);
        }
        let running = task.status == crate::model::State::InProgress
            && task
                .owner
                .as_ref()
                .is_some_and(|o| crate::runner::owner::alive(o, task.heartbeat_at));
        let waiting = task.status == crate::model::State::Pending && task.started_at.is_none();
        if !running && !waiting {
            return Ok(exit::OK);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// Print the status of `task` once (clearing the screen first when redrawing).
fn show(
    global: &Global,
    args: &Args,
    task: &crate::store::TaskRecord,
    notes: Vec<crate::store::Annotation>,
    redraw: bool,
) {
    if redraw && !args.json {
        super::emit("\x1b[2J\x1b[H");
    }
    let now = now_ms();
    let mut doc = report(task, now);
    // Masked as the context is: an annotation is shown, never handed to a step.
    doc.annotations = notes
        .into_iter()
        .map(|mut a| {
            a.annotation = crate::secrets::mask_under(&a.kind, &a.annotation);
            a
        })
        .collect();
    let analysis = args.graph.then(|| {
        let parents: Vec<&[usize]> = task.steps.iter().map(|s| s.parents.as_slice()).collect();
        let names: Vec<&str> = task.steps.iter().map(|s| s.name.as_str()).collect();
        let durations: Vec<u64> = task
            .steps
            .iter()
            .map(|s| {
                crate::model::running(s.state.started_at, s.state.finished_at, &task.sessions, now)
                    .unwrap_or(0)
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
        let text = if args.watch {
            serde_json::to_string(&value).unwrap_or_default()
        } else {
            serde_json::to_string_pretty(&value).unwrap_or_default()
        };
        super::emit(&format!("{text}\n"));
    } else {
        let on = color::enabled(global.color_choice(), false);
        let mut text = table::status(&doc, on);
        if let Some(a) = &analysis {
            text.push_str(&table::analysis(a));
        }
        super::emit(&text);
    }
}
