//! The checker: records problems with their position and carries on, and reads the
//! primitive values of a template (strings, durations, exit codes, `env` maps, names).

use std::time::Duration;

use super::Problem;
use super::duration;
use super::node::{Node, Pos, Value};
use super::suggest::closest;

/// Keys other tools use, and ours for the same thing: suggested when the other is written.
const ALIASES: &[(&str, &str)] = &[
    ("context_schema", "schema"),
    ("depends", "depends_on"),
    ("dependencies", "depends_on"),
    ("needs", "depends_on"),
    ("run", "command"),
    ("cmd", "command"),
    ("retries", "retry"),
    ("parallelism", "max_parallel"),
    ("concurrency", "max_parallel"),
];

/// Keys of each level, to say where a key written at the wrong level belongs.
const LEVELS: &[(&str, &[&str])] = &[
    ("a step", super::load::STEP_KEYS),
    ("the template's top level", super::load::TOP_KEYS),
];

pub(super) struct Checker<'f> {
    pub(super) file: &'f str,
    pub(super) problems: Vec<Problem>,
    /// What is ignored or guessed, as Tasker did; errors under `--strict`.
    pub(super) warnings: Vec<Problem>,
    /// Each warning's message as an error says it (without "…, as Tasker did").
    strict_messages: Vec<String>,
    /// Checked, not run: an unmapped `handler_class` is a warning.
    pub(super) checking: bool,
}

impl<'f> Checker<'f> {
    pub(super) fn new(file: &'f str) -> Checker<'f> {
        Checker {
            file,
            problems: Vec::new(),
            warnings: Vec::new(),
            strict_messages: Vec::new(),
            checking: false,
        }
    }
}

/// Where a value sits, for messages: the step (if any) and the dotted field path.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    pub(super) step: Option<&'a str>,
    pub(super) field: &'a str,
}

pub(super) fn at<'a>(step: Option<&'a str>, field: &'a str) -> At<'a> {
    At { step, field }
}

/// The known keys of one mapping, looked up by name.
pub(super) struct Fields<'n> {
    pub(super) entries: Vec<(&'n str, &'n Node)>,
    /// Known keys suggested for unknown ones (a typo of `command` is not a missing command).
    pub(super) suggested: Vec<String>,
}

impl<'n> Fields<'n> {
    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

impl Checker<'_> {
    pub(super) fn problem(
        &mut self,
        pos: Pos,
        at: At<'_>,
        message: impl Into<String>,
    ) -> &mut Problem {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            pos,
            step: at.step.map(str::to_owned),
            field: (!at.field.is_empty()).then(|| at.field.to_owned()),
            message: message.into(),
            hint: None,
            warning: false,
        });
        let last = self.problems.len() - 1;
        &mut self.problems[last]
    }

    /// Turn every warning into an error (`--strict`, and the config file, which is ours).
    pub(super) fn warnings_are_errors(&mut self) {
        for (mut w, message) in self.warnings.drain(..).zip(self.strict_messages.drain(..)) {
            w.warning = false;
            w.message = message;
            self.problems.push(w);
        }
    }

    /// Record a warning: the template stays valid unless warnings are errors. `lenient`
    /// ends the message while it is a warning (", ignored as Tasker did").
    pub(super) fn warn(
        &mut self,
        pos: Pos,
        at: At<'_>,
        message: impl Into<String>,
        lenient: &str,
    ) -> &mut Problem {
        let message = message.into();
        self.strict_messages.push(message.clone());
        self.warnings.push(Problem {
            file: self.file.to_owned(),
            pos,
            step: at.step.map(str::to_owned),
            field: (!at.field.is_empty()).then(|| at.field.to_owned()),
            message: format!("{message}{lenient}"),
            hint: None,
            warning: true,
        });
        let last = self.warnings.len() - 1;
        &mut self.warnings[last]
    }

    pub(super) fn expected(&mut self, node: &Node, at: At<'_>, what: &str) {
        let found = node.kind();
        self.problem(node.pos, at, format!("expected {what}, found {found}"));
    }

    /// The entries of a mapping. An unknown key is an error when it looks like a typo of a
    /// known one (or is another tool's name for one), a warning otherwise ("ignored, as
    /// Tasker did"); keys starting with `x-` are extensions and pass in silence.
    pub(super) fn fields<'n>(
        &mut self,
        node: &'n Node,
        known: &[&str],
        at: At<'_>,
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.expected(node, at, "a mapping");
            return None;
        };
        let mut fields = Fields {
            entries: Vec::new(),
            suggested: Vec::new(),
        };
        for (key, value) in entries {
            let name = key.as_str().unwrap_or("");
            if known.contains(&name) {
                fields.entries.push((name, value));
                continue;
            }
            let shown = key.scalar_text().unwrap_or_default();
            if shown.starts_with("x-") {
                continue;
            }
            // Names other tools use for the same thing, then the closest spelling.
            let alias = ALIASES
                .iter()
                .find(|(other, ours)| *other == shown && known.contains(ours))
                .map(|(_, ours)| *ours);
            match alias.or_else(|| closest(&shown, known.iter().copied())) {
                Some(close) => {
                    fields.suggested.push(close.to_owned());
                    self.problem(key.pos, at, format!("unknown key `{shown}`"))
                        .hint = Some(format!("did you mean `{close}`?"));
                }
                None => {
                    let elsewhere = LEVELS
                        .iter()
                        .find(|(_, keys)| keys.contains(&shown.as_str()) && *keys != known)
                        .map(|(level, _)| {
                            format!("`{shown}` is a key of {level}, not of this mapping; ")
                        })
                        .unwrap_or_default();
                    self.warn(
                        key.pos,
                        at,
                        format!("unknown key `{shown}`"),
                        " (ignored, as Tasker did)",
                    )
                    .hint = Some(format!(
                        "{elsewhere}name an extension `x-{shown}` to silence this"
                    ));
                }
            }
        }
        Some(fields)
    }

    pub(super) fn string(&mut self, node: &Node, at: At<'_>) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.expected(node, at, "a string");
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, node: &Node, at: At<'_>) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.expected(node, at, "`true` or `false`");
                None
            }
        }
    }

    pub(super) fn positive(&mut self, node: &Node, at: At<'_>) -> Option<u32> {
        match node.value {
            Value::Int(i) if i >= 1 && i <= i64::from(u32::MAX) => u32::try_from(i).ok(),
            Value::Int(i) => {
                self.problem(node.pos, at, format!("must be at least 1, found {i}"));
                None
            }
            _ => {
                self.expected(node, at, "a positive integer");
                None
            }
        }
    }

    pub(super) fn number(&mut self, node: &Node, at: At<'_>) -> Option<f64> {
        match node.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) if f.is_finite() => Some(f),
            _ => {
                self.expected(node, at, "a number");
                None
            }
        }
    }

    pub(super) fn duration(&mut self, node: &Node, at: At<'_>) -> Option<Duration> {
        let text = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Int(i) if *i >= 0 => i.to_string(),
            _ => {
                self.expected(node, at, "a duration such as `30s`");
                return None;
            }
        };
        match duration::parse(&text) {
            Ok(d) => Some(d),
            Err(message) => {
                self.problem(node.pos, at, message);
                None
            }
        }
    }

    pub(super) fn exit_codes(&mut self, node: &Node, at: At<'_>) -> Option<Vec<i32>> {
        let Value::Seq(items) = &node.value else {
            self.expected(node, at, "a list of exit codes");
            return None;
        };
        let mut codes = Vec::new();
        for item in items {
            match item.value {
                Value::Int(i) if (0..=255).contains(&i) => codes.push(i as i32),
                _ => {
                    self.problem(item.pos, at, "exit codes are integers from 0 to 255");
                    return None;
                }
            }
        }
        Some(codes)
    }

    /// `KEY: value` pairs; scalar values are taken as text.
    pub(super) fn env(&mut self, node: &Node, at: At<'_>) -> Vec<(String, String)> {
        let Value::Map(entries) = &node.value else {
            self.expected(node, at, "a mapping of variable names to values");
            return Vec::new();
        };
        let mut vars = Vec::new();
        for (key, value) in entries {
            let name = key.scalar_text().unwrap_or_default();
            if !is_env_name(&name) {
                self.problem(
                    key.pos,
                    at,
                    format!("`{name}` is not a valid environment variable name"),
                )
                .hint = Some("use letters, digits and `_`, not starting with a digit".into());
                continue;
            }
            match value.scalar_text() {
                Some(v) => vars.push((name, v)),
                None if matches!(value.value, Value::Null) => vars.push((name, String::new())),
                None => self.expected(value, at, "a string value"),
            }
        }
        vars
    }

    /// A step name or a list of them (`depends_on*`).
    pub(super) fn names(&mut self, node: &Node, at: At<'_>) -> Vec<(String, Pos)> {
        match &node.value {
            Value::Str(s) => vec![(s.clone(), node.pos)],
            Value::Null => Vec::new(),
            Value::Seq(items) => items
                .iter()
                .filter_map(|item| match &item.value {
                    Value::Str(s) => Some((s.clone(), item.pos)),
                    _ => {
                        self.expected(item, at, "a step name");
                        None
                    }
                })
                .collect(),
            _ => {
                self.expected(node, at, "a step name or a list of step names");
                Vec::new()
            }
        }
    }
}

pub(super) fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
