//! `tasker events list|log`: the event catalog, and a task's event history.

use std::io::IsTerminal;
use std::time::Duration;

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::{Value, json};

use super::Global;
use crate::error::{Error, exit};
use crate::events::catalog::{self, CATALOG, Category};
use crate::model::State;
use crate::runner::owner;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The catalog: every event tasker emits, with its payload fields and an example
    #[command(
        after_help = "Examples:\n  tasker events list\n  tasker events list --category step\n  tasker events list --search retry --json"
    )]
    List(ListArgs),
    /// A task's event history, in order
    #[command(
        after_help = "Examples:\n  tasker events log 42\n  tasker events log 42 --json | jq -c 'select(.name == \"step.failed\")'\n  tasker events log 42 --follow"
    )]
    Log(LogArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this category
    #[arg(long, value_parser = ["task", "step", "workflow", "observability", "custom"])]
    pub category: Option<String>,
    /// Only events whose name or description contains this text
    #[arg(long, value_name = "Q")]
    pub search: Option<String>,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// The task id
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    /// Keep printing events as they come, until the task's runner stops
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// One JSON object a line
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, cmd: &Command) -> Result<u8, Error> {
    match cmd {
        Command::List(args) => list(args),
        Command::Log(args) => log(global, args),
    }
}

fn list(args: &ListArgs) -> Result<u8, Error> {
    let needle = args.search.as_deref().map(str::to_lowercase);
    let specs: Vec<_> = CATALOG
        .iter()
        .filter(|s| {
            args.category
                .as_deref()
                .is_none_or(|c| s.category.as_str() == c)
        })
        .filter(|s| {
            needle
                .as_deref()
                .is_none_or(|q| s.name.contains(q) || s.description.to_lowercase().contains(q))
        })
        .collect();
    let custom_shown = args.category.as_deref().is_none_or(|c| c == "custom")
        && needle.as_deref().is_none_or(|q| "custom".contains(q));
    if args.json {
        let mut docs: Vec<Value> = specs
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "category": s.category,
                    "description": s.description,
                    "fields": s.fields.iter().map(|(f, t)| json!({"name": f, "type": t})).collect::<Vec<_>>(),
                    "example": catalog::example(s),
                })
            })
            .collect();
        if custom_shown {
            docs.push(json!({
                "name": "<declared in custom_events>",
                "category": Category::Custom,
                "description": "An event a step published through TASKER_EVENTS, declared by its template",
                "fields": [{"name": "step_name", "type": "string"}, {"name": "attempt", "type": "integer"}, {"name": "payload", "type": "object"}],
                "example": {"seq": 9, "name": "order.charged", "task_id": 42, "timestamp": "2026-11-27T10:00:03.000Z",
                            "step_name": "charge_card", "attempt": 1, "payload": {"amount_cents": 4999}},
            }));
        }
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&docs).unwrap_or_default()
        ));
        return Ok(exit::OK);
    }
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["event", "category", "description", "fields"]);
    // A pipe has no width: the table wraps to 100 columns rather than growing to 260.
    if !std::io::stdout().is_terminal() {
        t.set_width(100);
    }
    for s in &specs {
        let fields: Vec<&str> = s.fields.iter().map(|(f, _)| *f).collect();
        t.add_row([
            s.name,
            s.category.as_str(),
            s.description,
            &fields.join(", "),
        ]);
    }
    if custom_shown {
        t.add_row([
            "(custom)",
            "custom",
            "Declared in a template's `custom_events`, published through TASKER_EVENTS",
            "step_name, attempt, payload",
        ]);
    }
    super::emit(&format!(
        "{t}\nThe catalog. What happened to a task: `tasker events log ID` (`--follow` while it runs).\n"
    ));
    Ok(exit::OK)
}

/// One line of the log as text.
fn text(e: &Value) -> String {
    let mut line = format!(
        "{:>4}  {}  {}",
        e["seq"],
        e["timestamp"].as_str().unwrap_or(""),
        e["name"].as_str().unwrap_or("")
    );
    if let Some(step) = e["step_name"].as_str() {
        line.push_str(&format!("  {step}"));
        if let Some(a) = e["attempt"].as_u64() {
            line.push_str(&format!(" #{a}"));
        }
    }
    if let (Some(from), Some(to)) = (e["from_state"].as_str(), e["to_state"].as_str()) {
        line.push_str(&format!("  {from} → {to}"));
    }
    if let Some(class) = e["error_class"].as_str() {
        line.push_str(&format!(
            "  {class}: {}",
            crate::text::printable(e["error_message"].as_str().unwrap_or(""))
        ));
    }
    if let Some(d) = e["delay_ms"].as_u64() {
        line.push_str(&format!("  in {d}ms"));
    }
    line
}

fn log(global: &Global, args: &LogArgs) -> Result<u8, Error> {
    let store = super::existing_store(global, args.id)?;
    super::find_task(&*store, args.id)?;
    let mut after = 0u64;
    loop {
        let batch = store.events(args.id, after, 1000)?;
        for e in &batch {
            after = e["seq"].as_u64().unwrap_or(after);
            if args.json {
                super::emit(&format!("{e}\n"));
            } else {
                super::emit(&format!("{}\n", text(e)));
            }
        }
        if batch.len() == 1000 {
            continue;
        }
        if !args.follow {
            return Ok(exit::OK);
        }
        // Follow while a live runner owns the task (or until it starts, if it is new).
        let task = super::find_task(&*store, args.id)?;
        let running = task.status == State::InProgress
            && task
                .owner
                .as_ref()
                .is_some_and(|o| owner::alive(o, task.heartbeat_at));
        let starting = task.status == State::Pending && task.started_at.is_none();
        if !running && !starting {
            // One last read: the runner may have written its final events since.
            for e in store.events(args.id, after, usize::MAX >> 1)? {
                if args.json {
                    super::emit(&format!("{e}\n"));
                } else {
                    super::emit(&format!("{}\n", text(&e)));
                }
            }
            return Ok(exit::OK);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
