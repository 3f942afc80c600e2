//! `environments:` — per-environment overrides merged into steps by name before checking,
//! with Tasker's semantics: `--env test` merges `environments.test.step_templates[*]` into
//! the step of the same name, mapping into mapping, anything else replaced.

use super::check::{Checker, at};
use super::load::STEP_KEYS;
use super::node::{Node, Value};
use super::steps::item_name_node;
use super::suggest::closest;

const ENV_KEYS: &[&str] = &["step_templates", "steps"];

/// The entry of `key` in a mapping node.
fn entry<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn entry_mut<'n>(node: &'n mut Node, key: &str) -> Option<&'n mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Merge `over` into `base`: mappings key by key, anything else replaced.
fn merge(base: &mut Node, over: &Node) {
    match (&mut base.value, &over.value) {
        (Value::Map(b), Value::Map(o)) => {
            for (ok, ov) in o {
                match b.iter_mut().find(|(bk, _)| bk.value == ok.value) {
                    Some((_, bv)) => merge(bv, ov),
                    None => b.push((ok.clone(), ov.clone())),
                }
            }
        }
        _ => *base = over.clone(),
    }
}

impl Checker<'_> {
    /// Check every environment and apply `selected` to `root`.
    pub(super) fn environments(&mut self, root: &mut Node, selected: Option<&str>, required: bool) {
        let steps_key = if entry(root, "step_templates").is_some() {
            "step_templates"
        } else {
            "steps"
        };
        let step_names: Vec<String> = match entry(root, steps_key).map(|n| &n.value) {
            Some(Value::Seq(items)) => items
                .iter()
                .filter_map(|i| item_name_node(i).and_then(Node::as_str).map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let envs = entry(root, "environments").cloned();
        let mut overrides: Vec<Node> = Vec::new();
        let mut known: Vec<String> = Vec::new();
        if let Some(envs) = &envs {
            let Value::Map(entries) = &envs.value else {
                self.expected(
                    envs,
                    at(None, "environments"),
                    "a mapping of environment names",
                );
                return;
            };
            for (name_node, env) in entries {
                let name = name_node.scalar_text().unwrap_or_default();
                known.push(name.clone());
                let field = format!("environments.{name}");
                let Some(ef) = self.fields(env, ENV_KEYS, at(None, &field)) else {
                    continue;
                };
                let Some(list) = ef.get("step_templates").or_else(|| ef.get("steps")) else {
                    continue;
                };
                let Value::Seq(items) = &list.value else {
                    self.expected(list, at(None, &field), "a list of step overrides");
                    continue;
                };
                for item in items {
                    match item_name_node(item).and_then(Node::as_str) {
                        Some(step) if step_names.iter().any(|s| s == step) => {
                            if selected == Some(name.as_str()) {
                                // Checked with the step it is merged into.
                                overrides.push(item.clone());
                            } else {
                                // Checked here, so every environment's keys are.
                                self.fields(item, STEP_KEYS, at(Some(step), ""));
                            }
                        }
                        Some(step) => {
                            let hint = closest(step, step_names.iter().map(String::as_str))
                                .map(|s| format!("did you mean `{s}`?"));
                            self.problem(
                                item.pos,
                                at(None, &field),
                                format!("overrides unknown step `{step}`"),
                            )
                            .hint = hint;
                        }
                        None => {
                            self.problem(
                                item.pos,
                                at(None, &field),
                                "each override needs the `name` of the step it changes",
                            );
                        }
                    }
                }
            }
        }
        if let Some(selected) = selected
            && !known.iter().any(|k| k == selected)
        {
            if !required {
                return;
            }
            let hint = if known.is_empty() {
                "the template defines no `environments`".to_owned()
            } else {
                format!("environments: {}", known.join(", "))
            };
            self.problem(
                root.pos,
                at(None, "environments"),
                format!("unknown environment `{selected}`"),
            )
            .hint = Some(hint);
            return;
        }
        let Some(Node {
            value: Value::Seq(steps),
            ..
        }) = entry_mut(root, steps_key)
        else {
            return;
        };
        for over in overrides {
            let name = item_name_node(&over)
                .and_then(Node::as_str)
                .map(str::to_owned);
            if let Some(step) = steps
                .iter_mut()
                .find(|s| item_name_node(s).and_then(Node::as_str) == name.as_deref())
            {
                merge(step, &over);
            }
        }
    }
}
