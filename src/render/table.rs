//! Human tables for `status`, `tasks list` and `validate`.

use std::fmt::Write as _;
use std::time::Duration;

use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};

use super::color::paint;
use crate::clock::rfc3339;
use crate::graph::Summary;
use crate::insights::report::TaskReport;
use crate::store::TaskSummary;
use crate::templates::duration::human;

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// A state in its colour, as a cell the table measures by its visible width (colour codes
/// added as it prints, never counted in column widths).
fn state_cell(t: &mut Table, on: bool, state: crate::model::State) -> Cell {
    use crate::model::State;
    let cell = Cell::new(state.as_str());
    if !on {
        return cell;
    }
    t.enforce_styling();
    match state {
        State::Pending => cell.add_attribute(Attribute::Dim),
        State::InProgress => cell.fg(Color::Cyan),
        State::Complete => cell.fg(Color::Green),
        State::Error => cell.fg(Color::Red),
        State::Cancelled => cell.fg(Color::Yellow),
        State::ResolvedManually => cell.fg(Color::Magenta),
    }
}

fn ms(v: Option<u64>) -> String {
    v.map(|m| human(Duration::from_millis(m)))
        .unwrap_or_else(|| "-".into())
}

/// The status of one task: a header and a step table.
pub fn status(r: &TaskReport, color: bool) -> String {
    let mut out = String::new();
    let state = if r.orphaned {
        let who = r
            .owner
            .as_ref()
            .map(|o| format!("runner pid {} on {} is gone", o.pid, o.host))
            .unwrap_or_else(|| "no runner".into());
        format!(
            "{} (orphaned: {who}; `tasker resume {}` takes it over)",
            paint(color, r.status, r.status.as_str()),
            r.task_id
        )
    } else if r.status == crate::model::State::InProgress && r.owner.is_none() {
        format!(
            "{} (run by workers)",
            paint(color, r.status, r.status.as_str())
        )
    } else {
        paint(color, r.status, r.status.as_str())
    };
    let _ = writeln!(
        out,
        "task {} {}: {} ({:.0}% complete, {})",
        r.task_id,
        crate::templates::identity(&r.namespace, &r.name, &r.version),
        state,
        r.execution.completion_percentage,
        r.execution.execution_status,
    );
    // What to do next means nothing once the task is done.
    let next = if r.status.is_final() && r.status != crate::model::State::Error {
        String::new()
    } else {
        format!("  next: {}", r.execution.recommended_action)
    };
    let _ = writeln!(
        out,
        "created {}  duration {}  health {}{next}",
        r.created_at,
        ms(r.duration_ms),
        r.execution.health_status,
    );
    let mut asked = Vec::new();
    if let Some(i) = &r.initiator {
        asked.push(format!("by {i}"));
    }
    if let Some(s) = &r.source_system {
        asked.push(format!("from {s}"));
    }
    if let Some(e) = &r.environment {
        asked.push(format!("env {e}"));
    }
    if let Some(why) = &r.reason {
        asked.push(format!("reason: {why}"));
    }
    if !r.tags.is_empty() {
        asked.push(format!("tags: {}", r.tags.join(", ")));
    }
    if !asked.is_empty() {
        let _ = writeln!(out, "requested {}", asked.join("; "));
    }
    if !r.annotations.is_empty() {
        let width = r
            .annotations
            .iter()
            .map(|a| a.kind.len())
            .max()
            .unwrap_or(0);
        let _ = writeln!(out, "annotations");
        for a in &r.annotations {
            let _ = writeln!(
                out,
                "  {:<width$}  {}  ({})",
                a.kind,
                crate::text::printable(&annotation_text(&a.annotation)),
                a.created_at
            );
        }
    }
    let mut t = table();
    t.set_header(["step", "state", "attempts", "duration", "flaky", "error"]);
    for s in &r.steps {
        let error = match (&s.error, &s.next_retry_at) {
            (Some(e), _) if e.class == "interrupted" && s.status == crate::model::State::Error => {
                "interrupted (not counted); `tasker resume` runs it again".to_owned()
            }
            (Some(e), Some(at)) => format!(
                "{}: {} (retry at {at})",
                e.class,
                crate::text::printable(&e.message)
            ),
            (Some(e), None) => format!("{}: {}", e.class, crate::text::printable(&e.message)),
            _ => String::new(),
        };
        let state = state_cell(&mut t, color, s.status);
        t.add_row([
            Cell::new(&s.name),
            state,
            Cell::new(format!("{}/{}", s.attempts, s.retry_limit)),
            Cell::new(ms(s.duration_ms)),
            Cell::new(if s.flaky { "flaky" } else { "" }),
            Cell::new(error),
        ]);
    }
    let _ = writeln!(out, "{t}");
    out
}

/// An annotation's value on a line: text as it is, nothing for none, other JSON as JSON.
pub fn annotation_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `tasks list`.
pub fn tasks(rows: &[TaskSummary], color: bool) -> String {
    let mut t = table();
    t.set_header([
        "id",
        "namespace",
        "name",
        "version",
        "state",
        "steps",
        "created",
        "duration",
    ]);
    for r in rows {
        let duration = r.running_ms.filter(|_| r.started_at.is_some());
        let state = state_cell(&mut t, color, r.status);
        t.add_row([
            Cell::new(r.task_id),
            Cell::new(&r.namespace),
            Cell::new(&r.name),
            Cell::new(&r.version),
            state,
            Cell::new(format!("{}/{}", r.steps_complete, r.steps_total)),
            Cell::new(rfc3339(r.created_at)),
            Cell::new(ms(duration)),
        ]);
    }
    format!("{t}\n")
}

/// The graph summary `validate` prints for a valid template.
pub fn summary(file: &str, name: &str, s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{file}: `{name}` is valid");
    let _ = writeln!(out, "  steps         {}", s.steps);
    let _ = writeln!(out, "  edges         {}", s.edges);
    let _ = writeln!(out, "  roots         {}", list(&s.roots));
    let _ = writeln!(out, "  leaves        {}", list(&s.leaves));
    let _ = writeln!(out, "  levels        {}", s.levels);
    let _ = writeln!(
        out,
        "  widest level  {} (level {})",
        super::count(s.widest_level_width, "step"),
        s.widest_level
    );
    let _ = writeln!(
        out,
        "  longest path  {}: {}",
        super::count(s.longest_path.len(), "step"),
        s.longest_path.join(" → ")
    );
    out
}

/// At most ten names, then a count of the rest.
fn list(names: &[String]) -> String {
    if names.len() <= 10 {
        names.join(", ")
    } else {
        format!("{}, … ({} more)", names[..10].join(", "), names.len() - 10)
    }
}

/// The levels, blocking steps and critical path of `--graph`.
pub fn analysis(a: &crate::graph::Analysis) -> String {
    let mut out = String::new();
    for (i, level) in a.level_steps.iter().enumerate() {
        let _ = writeln!(out, "  level {:<4}  {}", i + 1, list(level));
    }
    if !a.blocking.is_empty() {
        let b: Vec<String> = a
            .blocking
            .iter()
            .map(|b| format!("{} ({})", b.step, b.dependents))
            .collect();
        let _ = writeln!(out, "  blocking    {}", b.join(", "));
    }
    if let (Some(path), Some(ms)) = (&a.critical_path, a.critical_path_ms) {
        let _ = writeln!(
            out,
            "  critical    {} ({})",
            path.join(" → "),
            human(Duration::from_millis(ms))
        );
    }
    out
}
