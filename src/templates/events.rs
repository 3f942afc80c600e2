//! Events in a template: `custom_events` (what steps may publish) and `on:` (hooks run when
//! events happen).

use super::Problem;
use super::check::{Checker, at};
use super::model::{CustomEvent, Hook};
use super::node::{Node, Value};
use super::suggest::closest;

const EVENT_KEYS: &[&str] = &["name", "description"];
/// Event name prefixes that belong to tasker's own catalog.
const RESERVED_PREFIXES: &[&str] = &["task", "step", "workflow", "observability"];

/// Read an `on` table from a config file (any event name: it applies to every template).
pub fn hooks_from_json(value: &serde_json::Value, file: &str) -> Result<Vec<Hook>, Vec<Problem>> {
    let mut c = Checker::new(file);
    let hooks = c.hooks(&Node::from_json(value), None);
    c.warnings_are_errors();
    if c.problems.is_empty() {
        Ok(hooks)
    } else {
        Err(c.problems)
    }
}

impl Checker<'_> {
    /// `on: { PATTERN: [command, …] }`: hooks for events. A pattern is an event's name, a
    /// prefix ending in `*` (`step.*`), or `*`.
    pub(super) fn hooks(&mut self, node: &Node, custom: Option<&[CustomEvent]>) -> Vec<Hook> {
        let Value::Map(entries) = &node.value else {
            self.expected(node, at(None, "on"), "a mapping of event names to commands");
            return Vec::new();
        };
        let known: Vec<&str> = crate::model::CATALOG
            .iter()
            .map(|s| s.name)
            .chain(custom.unwrap_or_default().iter().map(|c| c.name.as_str()))
            .collect();
        let mut out = Vec::new();
        for (key, value) in entries {
            let pattern = key.scalar_text().unwrap_or_default();
            let field = format!("on.{pattern}");
            if custom.is_some() && !pattern.ends_with('*') && !known.contains(&pattern.as_str()) {
                let hint = closest(&pattern, known.iter().copied())
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| {
                        "`tasker events list` shows the event names; `step.*` matches a prefix"
                            .into()
                    });
                self.problem(
                    key.pos,
                    at(None, "on"),
                    format!("unknown event `{pattern}`"),
                )
                .hint = Some(hint);
                continue;
            }
            // A list holds commands (each a string for `sh -c`, or an argv list).
            let commands: Vec<&Node> = match &value.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![value],
            };
            for c in commands {
                if let Some(program) = self.command(c, at(None, &field)) {
                    out.push(Hook {
                        pattern: pattern.clone(),
                        program,
                    });
                }
            }
        }
        out
    }

    /// `custom_events`: names (dotted, not a reserved prefix), with optional descriptions.
    pub(super) fn custom_events(&mut self, node: &Node, step: Option<&str>) -> Vec<CustomEvent> {
        let here = at(step, "custom_events");
        let Value::Seq(items) = &node.value else {
            self.expected(node, here, "a list of events");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let (name_node, description) = match &item.value {
                Value::Str(_) => (Some(item), None),
                Value::Map(_) => match self.fields(item, EVENT_KEYS, here) {
                    Some(ef) => (
                        ef.get("name"),
                        ef.get("description").and_then(|d| self.string(d, here)),
                    ),
                    None => continue,
                },
                _ => {
                    self.expected(item, here, "an event name or `{ name, description }`");
                    continue;
                }
            };
            let Some(name_node) = name_node else {
                self.problem(item.pos, here, "missing required key `name`");
                continue;
            };
            let Some(name) = self.string(name_node, here) else {
                continue;
            };
            let valid = name.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
            if !valid {
                self.problem(name_node.pos, here, format!("invalid event name `{name}`"))
                    .hint = Some(
                    "event names are words of letters, digits, `_` and `-` joined by dots, like `order.charged`"
                        .into(),
                );
                continue;
            }
            if !name.contains('.') {
                // Tasker's own examples publish undotted names (`data_extraction_started`).
                let dotted = name.replace('_', ".");
                if let Some(own) = crate::model::CATALOG
                    .iter()
                    .find(|e| e.name == dotted || e.name.replace('.', "_") == name)
                {
                    self.problem(
                        name_node.pos,
                        here,
                        format!("`{name}` collides with tasker's own event `{}`", own.name),
                    )
                    .hint = Some("give the event a name of its own, like `order.charged`".into());
                    continue;
                }
                self.warn(
                    name_node.pos,
                    here,
                    format!("event name `{name}` has no dot"),
                    " (accepted, as Tasker did)",
                )
                .hint = Some(
                    "dotted names (`order.charged`) group events and match patterns like `order.*`"
                        .into(),
                );
            }
            let prefix = name.split('.').next().unwrap_or_default();
            if RESERVED_PREFIXES.contains(&prefix) {
                self.problem(
                    name_node.pos,
                    here,
                    format!("`{name}` uses the reserved prefix `{prefix}.`"),
                )
                .hint = Some(
                    "`task.`, `step.`, `workflow.` and `observability.` are tasker's own events"
                        .into(),
                );
                continue;
            }
            out.push(CustomEvent { name, description });
        }
        out
    }
}
