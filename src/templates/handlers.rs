//! Handlers: `handler_class` mapped to a command or a plugin (in the template's `handlers:`
//! or the config file's `[handlers]`), and the programs steps and hooks run.

use std::collections::HashMap;

use super::Problem;
use super::check::{At, Checker, at};
use super::model::{Action, Program};
use super::node::{Node, Value};
use super::shell;

const HANDLER_KEYS: &[&str] = &["command", "plugin", "env", "cwd"];
pub(super) const PLUGIN_KEYS: &[&str] = &["command"];

/// `handler_class` → how to run it, read from a config file.
#[derive(Debug, Default, Clone)]
pub struct Handlers(pub(super) HashMap<String, HandlerDef>);

impl Handlers {
    /// How many handler classes are mapped.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Read a `handlers` table (`{ Class: { command | plugin, env, cwd } }`); `file` names it.
    pub fn from_json(value: &serde_json::Value, file: &str) -> Result<Handlers, Vec<Problem>> {
        let mut c = Checker::new(file);
        let map = c.handlers(&Node::from_json(value));
        c.warnings_are_errors();
        if c.problems.is_empty() {
            Ok(Handlers(map))
        } else {
            Err(c.problems)
        }
    }
}

/// How a `handler_class` runs, from the `handlers:` map.
#[derive(Debug, Clone)]
pub(super) struct HandlerDef {
    pub(super) action: Action,
    pub(super) env: Vec<(String, String)>,
    pub(super) cwd: Option<String>,
}

impl Checker<'_> {
    pub(super) fn handlers(&mut self, node: &Node) -> HashMap<String, HandlerDef> {
        let mut out = HashMap::new();
        let Value::Map(entries) = &node.value else {
            self.expected(node, at(None, "handlers"), "a mapping of handler classes");
            return out;
        };
        for (key, value) in entries {
            let class = key.scalar_text().unwrap_or_default();
            let field = format!("handlers.{class}");
            let Some(hf) = self.fields(value, HANDLER_KEYS, at(None, &field)) else {
                continue;
            };
            let action = match (hf.get("command"), hf.get("plugin")) {
                (Some(cmd), None) => self
                    .command(cmd, at(None, &format!("{field}.command")))
                    .map(Action::Command),
                (None, Some(plugin)) => self
                    .plugin(plugin, at(None, &format!("{field}.plugin")))
                    .map(Action::Plugin),
                (Some(_), Some(_)) => {
                    self.problem(
                        value.pos,
                        at(None, &field),
                        "give `command` or `plugin`, not both",
                    );
                    None
                }
                (None, None) if hf.suggested.iter().any(|k| k == "command" || k == "plugin") => {
                    None
                }
                (None, None) => {
                    self.problem(value.pos, at(None, &field), "missing `command` or `plugin`");
                    None
                }
            };
            let Some(action) = action else {
                continue;
            };
            let env = hf
                .get("env")
                .map(|n| self.env(n, at(None, &field)))
                .unwrap_or_default();
            let cwd = hf.get("cwd").and_then(|n| self.string(n, at(None, &field)));
            out.insert(class, HandlerDef { action, env, cwd });
        }
        out
    }

    /// `plugin: { command: … }`.
    pub(super) fn plugin(&mut self, node: &Node, at_: At<'_>) -> Option<Program> {
        let pf = self.fields(node, PLUGIN_KEYS, at_)?;
        match pf.get("command") {
            Some(cmd) => self.command(cmd, at_),
            None => {
                self.problem(node.pos, at_, "missing required key `command`");
                None
            }
        }
    }

    /// A command line (`sh -c`) or an argument vector.
    pub(super) fn command(&mut self, node: &Node, at: At<'_>) -> Option<Program> {
        match &node.value {
            Value::Str(s) if s.trim().is_empty() => {
                self.problem(node.pos, at, "the command is empty");
                None
            }
            Value::Str(s) => self.program(node, at, Program::Shell(s.clone())),
            Value::Seq(items) if items.is_empty() => {
                self.problem(node.pos, at, "the argument list is empty");
                None
            }
            Value::Seq(items) => {
                let mut argv = Vec::with_capacity(items.len());
                for item in items {
                    match item.scalar_text() {
                        Some(s) => argv.push(s),
                        None => {
                            self.expected(item, at, "a string argument");
                            return None;
                        }
                    }
                }
                self.program(node, at, Program::Argv(argv))
            }
            _ => {
                self.expected(node, at, "a command string or a list of arguments");
                None
            }
        }
    }

    /// `program`, its problems reported: a NUL byte, or a reference whose value the shell
    /// or another interpreter would read as code.
    fn program(&mut self, node: &Node, at: At<'_>, program: Program) -> Option<Program> {
        if program.texts().iter().any(|t| t.contains('\0')) {
            self.problem(
                node.pos,
                at,
                "the command holds a NUL byte, which no program can be given",
            )
            .hint = Some("remove it; a value with one is read from $TASKER_INPUT".into());
        }
        let multiline = program.texts().iter().any(|t| t.contains('\n'));
        for (arg, refused) in shell::check(&program) {
            let mut message = refused.message(multiline);
            if let Some(j) = arg {
                message = format!("argument {}: {message}", j + 1);
            }
            self.problem(node.pos, at, message).hint = Some(refused.hint);
        }
        Some(program)
    }
}
