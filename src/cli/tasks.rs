//! `tasker tasks list`: the tasks in the store, newest first.

use serde_json::json;

use super::Global;
use crate::clock::{now_ms, rfc3339};
use crate::error::{Error, exit};
use crate::model::State;
use crate::render::{color, table};
use crate::store::TaskFilter;
use crate::templates::duration;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List tasks, newest first
    #[command(
        after_help = "Examples:\n  tasker tasks list\n  tasker tasks list --status error --since 1h\n  tasker tasks list --namespace ecommerce --json\n  tasker tasks list --annotation ticket=OPS-1234"
    )]
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only tasks in this state
    #[arg(long, value_parser = parse_state)]
    pub status: Option<State>,
    /// Only tasks of this namespace
    #[arg(long)]
    pub namespace: Option<String>,
    /// Only tasks of this template name
    #[arg(long)]
    pub name: Option<String>,
    /// Only tasks created within this duration (e.g. `1h`, `7d`)
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub since: Option<std::time::Duration>,
    /// Only tasks annotated with TYPE (with this VALUE: JSON when it parses, else text)
    #[arg(long, value_name = "TYPE[=VALUE]", value_parser = parse_annotation)]
    pub annotation: Option<(String, Option<String>)>,
    /// At most this many tasks
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_annotation(s: &str) -> Result<(String, Option<String>), String> {
    let (kind, value) = match s.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (s, None),
    };
    let kind = super::annotate::annotation_type(kind)?;
    // Compared as stored: the value's compact JSON text.
    Ok((
        kind,
        value.map(|v| super::annotate::annotation_value(v).to_string()),
    ))
}

fn parse_state(s: &str) -> Result<State, String> {
    s.parse()
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    duration::parse(s)
}

pub fn run(global: &Global, cmd: &Command) -> Result<u8, Error> {
    let Command::List(args) = cmd;
    let now = now_ms();
    let rows = match global.open_existing_store()? {
        None => Vec::new(),
        Some(store) => store.list_tasks(&TaskFilter {
            status: args.status,
            namespace: args.namespace.clone(),
            name: args.name.clone(),
            since: args.since.map(|d| now - d.as_millis() as i64),
            annotation: args.annotation.clone(),
            limit: args.limit,
        })?,
    };
    if args.json {
        let docs: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "task_id": r.task_id,
                    "name": r.name,
                    "namespace": r.namespace,
                    "version": r.version,
                    "status": r.status,
                    "created_at": rfc3339(r.created_at),
                    "duration_ms": r.running_ms.filter(|_| r.started_at.is_some()),
                    "steps_total": r.steps_total,
                    "steps_complete": r.steps_complete,
                })
            })
            .collect();
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&docs).unwrap_or_default()
        ));
    } else if rows.is_empty() {
        super::say!("no tasks");
    } else {
        super::emit(&table::tasks(
            &rows,
            color::enabled(global.color_choice(), false),
        ));
    }
    Ok(exit::OK)
}
