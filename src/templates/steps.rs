//! The steps of a template: names, dependencies, handlers, retry, and references.

use std::collections::HashMap;
use std::time::Duration;

use super::check::{At, Checker, at};
use super::handlers::HandlerDef;
use super::interpolate::{self, Ref};
use super::load::{Defaults, HANDLER_KINDS, STEP_KEYS};
use super::model::{Action, HttpBody, Step};
use super::node::{Node, Pos, Value};
use super::retry::RetryPatch;
use super::suggest::closest;

impl Checker<'_> {
    /// The steps, and each step's own `custom_events` node.
    /// The steps listed under `key` (`steps` or `step_templates`, as the file says).
    pub(super) fn steps<'n>(
        &mut self,
        key: &str,
        node: &'n Node,
        defaults: &Defaults,
        handlers: &HashMap<String, HandlerDef>,
        default_system: Option<&str>,
    ) -> (Vec<Step>, Vec<(String, &'n Node)>) {
        let mut step_events = Vec::new();
        let Value::Seq(items) = &node.value else {
            self.expected(node, at(None, key), "a list of steps");
            return (Vec::new(), step_events);
        };
        if items.is_empty() {
            self.problem(
                node.pos,
                at(None, "step_templates"),
                "the template has no steps",
            );
            return (Vec::new(), step_events);
        }
        // References to other steps' results, checked once the graph is known:
        // (referring step, referred name, where).
        let mut step_refs: Vec<(usize, String, Pos)> = Vec::new();
        // First pass: names, so dependencies can be checked whatever their order.
        let mut seen: HashMap<String, Pos> = HashMap::with_capacity(items.len());
        let mut names: Vec<Option<String>> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let name = match &item.value {
                Value::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some("name"))
                    .map(|(_, v)| v),
                _ => None,
            };
            // Where a problem is, named only when there is one.
            let label = || format!("{key}[{i}]");
            let name = match name {
                None if matches!(item.value, Value::Map(_)) => {
                    self.problem(item.pos, at(None, &label()), "missing required key `name`");
                    None
                }
                None => None,
                Some(n) => match &n.value {
                    Value::Str(s) => Some(s.clone()),
                    _ => self.string(n, at(None, &format!("{}.name", label()))),
                }
                .filter(|s| {
                    let ok = !s.trim().is_empty()
                        && s.chars().count() <= 128
                        && !s.chars().any(char::is_control);
                    if !ok {
                        self.problem(
                            n.pos,
                            at(None, &format!("{}.name", label())),
                            format!("invalid step name {s:?}"),
                        )
                        .hint = Some(
                            "step names are 1 to 128 characters with no control characters".into(),
                        );
                    }
                    ok
                }),
            };
            if let (Some(n), Some(node)) = (&name, item_name_node(item)) {
                if let Some(first) = seen.get(n) {
                    let line = first.line;
                    self.problem(
                        node.pos,
                        at(Some(n), "name"),
                        format!("duplicate step name (first defined on line {line})"),
                    );
                } else {
                    seen.insert(n.clone(), node.pos);
                }
            }
            names.push(name);
        }
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, n)| n.as_deref().map(|n| (n, i)))
            .collect();
        let known: Vec<&str> = names.iter().flatten().map(String::as_str).collect();

        let mut steps = Vec::with_capacity(items.len());
        let mut parents_of: Vec<Vec<usize>> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let label = if names[i].is_some() {
                String::new()
            } else {
                format!("{key}[{i}]")
            };
            let step_name = names[i].clone();
            let sn = step_name.as_deref();
            let at_step = |field: &'static str| at(sn, field);
            let Some(f) = self.fields(
                item,
                STEP_KEYS,
                if sn.is_some() {
                    at(sn, "")
                } else {
                    at(None, &label)
                },
            ) else {
                parents_of.push(Vec::new());
                continue;
            };

            // Dependencies.
            let mut parents = Vec::new();
            for key in ["depends_on_step", "depends_on_steps", "depends_on"] {
                if let Some(n) = f.get(key) {
                    for (dep, pos) in self.names(n, at_step(key)) {
                        match index.get(dep.as_str()) {
                            Some(&j) if j == i => {
                                self.problem(pos, at_step(key), "a step cannot depend on itself");
                            }
                            Some(&j) => {
                                if !parents.contains(&j) {
                                    parents.push(j);
                                }
                            }
                            None => {
                                let hint = closest(&dep, known.iter().copied())
                                    .map(|k| format!("did you mean `{k}`?"))
                                    .unwrap_or_else(|| format!("steps are: {}", known.join(", ")));
                                self.problem(pos, at_step(key), format!("unknown step `{dep}`"))
                                    .hint = Some(hint);
                            }
                        }
                    }
                }
            }
            parents_of.push(parents.clone());

            // What the step does: exactly one handler.
            let kinds: Vec<&str> = HANDLER_KINDS
                .iter()
                .copied()
                .filter(|k| f.get(k).is_some())
                .collect();
            let mut handler_env = Vec::new();
            let mut handler_cwd = None;
            let mut handler_class = None;
            let action = match kinds.as_slice() {
                [] if f
                    .suggested
                    .iter()
                    .any(|k| HANDLER_KINDS.contains(&k.as_str())) =>
                {
                    None
                }
                [] => {
                    self.problem(item.pos, at(sn, ""), "the step has nothing to run")
                        .hint =
                        Some("give it a `command` (or `handler_class`, or `noop: true`)".into());
                    None
                }
                ["command"] => f
                    .get("command")
                    .and_then(|n| self.command(n, at_step("command")))
                    .map(Action::Command),
                ["plugin"] => f
                    .get("plugin")
                    .and_then(|n| self.plugin(n, at_step("plugin")))
                    .map(Action::Plugin),
                ["http"] => f
                    .get("http")
                    .and_then(|n| self.http(n, at_step("http")))
                    .map(Action::Http),
                ["noop"] => match f.get("noop").map(|n| (n, self.boolean(n, at_step("noop")))) {
                    Some((_, Some(true))) => Some(Action::Noop),
                    Some((n, Some(false))) => {
                        self.problem(n.pos, at_step("noop"), "`noop: false` is not a handler")
                            .hint = Some("give the step a `command` instead".into());
                        None
                    }
                    _ => None,
                },
                ["handler_class"] => {
                    let n = f.get("handler_class");
                    match n.and_then(|n| self.string(n, at_step("handler_class")).map(|c| (n, c))) {
                        Some((n, class)) => match handlers.get(&class) {
                            Some(h) => {
                                handler_env = h.env.clone();
                                handler_cwd = h.cwd.clone();
                                handler_class = Some(class);
                                Some(h.action.clone())
                            }
                            None => {
                                let message = format!("unknown handler class `{class}`");
                                match closest(&class, handlers.keys().map(String::as_str)) {
                                    Some(k) => {
                                        self.problem(n.pos, at_step("handler_class"), message)
                                            .hint = Some(format!("did you mean `{k}`?"));
                                        None
                                    }
                                    None if self.checking => {
                                        // Valid, so templates can be checked before their
                                        // handlers exist; `run` refuses it.
                                        self.warn(
                                            n.pos,
                                            at_step("handler_class"),
                                            message,
                                            ": `tasker run` needs a command for it",
                                        )
                                        .hint = Some(handler_hint(&class));
                                        handler_class = Some(class);
                                        Some(Action::Noop)
                                    }
                                    None => {
                                        self.problem(n.pos, at_step("handler_class"), message)
                                            .hint = Some(handler_hint(&class));
                                        None
                                    }
                                }
                            }
                        },
                        None => None,
                    }
                }
                many => {
                    let list = many
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ");
                    self.problem(
                        item.pos,
                        at(sn, ""),
                        format!("the step has {list}: give exactly one"),
                    );
                    None
                }
            };

            // Retry: built-in < defaults.retry < step default_retry_* < step retry.
            let mut own = RetryPatch::default();
            if let Some(n) = f.get("default_retry_limit") {
                own.limit = self.positive(n, at_step("default_retry_limit"));
            }
            if let Some(n) = f.get("default_retryable") {
                own.retryable = self.boolean(n, at_step("default_retryable"));
            }
            if let Some(r) = f.get("retry") {
                let patch = self.retry(r, sn, "retry");
                if let (Some(a), Some(b)) = (own.limit, patch.limit)
                    && a != b
                {
                    self.problem(
                        r.pos,
                        at_step("retry.limit"),
                        format!("conflicts with `default_retry_limit: {a}`"),
                    );
                }
                if let (Some(a), Some(b)) = (own.retryable, patch.retryable)
                    && a != b
                {
                    self.problem(
                        r.pos,
                        at_step("retry.retryable"),
                        format!("conflicts with `default_retryable: {a}`"),
                    );
                }
                own = patch.over(&own);
            }
            let retry = own.over(&defaults.retry).resolve();
            if retry.backoff.max < retry.backoff.base {
                self.problem(
                    item.pos,
                    at_step("retry.backoff.max"),
                    "is shorter than `retry.backoff.base`",
                );
            }

            let timeout = match f.get("timeout") {
                Some(n) => self.duration(n, at_step("timeout")),
                None => defaults.timeout,
            };
            if timeout == Some(Duration::ZERO) {
                self.problem(item.pos, at_step("timeout"), "must be longer than zero");
            }
            let mut env = defaults.env.clone();
            env.extend(handler_env);
            if let Some(n) = f.get("env") {
                env.extend(self.env(n, at_step("env")));
            }
            let cwd = match f.get("cwd") {
                Some(n) => self.string(n, at_step("cwd")),
                None => handler_cwd.or_else(|| defaults.cwd.clone()),
            };
            let description = f
                .get("description")
                .and_then(|n| self.string(n, at_step("description")));
            let handler_config = f
                .get("handler_config")
                .map(Node::to_json)
                .unwrap_or(serde_json::Value::Null);
            if !matches!(
                handler_config,
                serde_json::Value::Null | serde_json::Value::Object(_)
            ) && let Some(n) = f.get("handler_config")
            {
                self.expected(n, at_step("handler_config"), "a mapping");
            }
            let skippable = f
                .get("skippable")
                .and_then(|n| self.boolean(n, at_step("skippable")))
                .unwrap_or(false);
            let dependent_system = f
                .get("dependent_system")
                .and_then(|n| self.string(n, at_step("dependent_system")))
                .or_else(|| default_system.map(str::to_owned));
            if let (Some(n), Some(name)) = (f.get("custom_events"), sn) {
                step_events.push((name.to_owned(), n));
            }

            // `{{ … }}` references in everything that is interpolated.
            let mut texts: Vec<(String, Pos, &'static str)> = Vec::new();
            let action_pos = kinds
                .first()
                .and_then(|k| f.get(k))
                .map_or(item.pos, |n| n.pos);
            match &action {
                Some(Action::Command(p) | Action::Plugin(p)) => {
                    for t in p.texts() {
                        texts.push((t.to_owned(), action_pos, "command"));
                    }
                }
                Some(Action::Http(h)) => {
                    let mut all = vec![h.url.clone()];
                    all.extend(h.headers.iter().map(|(_, v)| v.clone()));
                    match &h.body {
                        HttpBody::Json(j) => interpolate::strings(j, &mut all),
                        HttpBody::Text(t) => all.push(t.clone()),
                        HttpBody::None => {}
                    }
                    texts.extend(all.into_iter().map(|t| (t, action_pos, "http")));
                }
                Some(Action::Noop) | None => {}
            }
            let env_pos = f.get("env").map_or(item.pos, |n| n.pos);
            texts.extend(env.iter().map(|(_, v)| (v.clone(), env_pos, "env")));
            for (text, pos, field) in texts {
                for name in self.references(&text, pos, at(sn, field)) {
                    step_refs.push((i, name, pos));
                }
            }

            if let (Some(name), Some(action)) = (step_name, action) {
                steps.push(Step {
                    name,
                    description,
                    action,
                    parents,
                    retry,
                    timeout,
                    env,
                    cwd,
                    handler_config,
                    handler_class,
                    skippable,
                    dependent_system,
                });
            }
        }

        let all_names: Vec<String> = names
            .iter()
            .map(|n| n.clone().unwrap_or_default())
            .collect();
        for cycle in crate::graph::find_cycles(&parents_of) {
            let mut path: Vec<&str> = cycle.iter().map(|&i| all_names[i].as_str()).collect();
            path.push(path[0]);
            let pos = item_name_node(&items[cycle[0]])
                .map(|n| n.pos)
                .unwrap_or_default();
            let shown = path
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" → ");
            self.problem(pos, at(None, ""), format!("dependency cycle: {shown}"))
                .hint =
                Some("each step depends on the next; remove one of these dependencies".into());
        }

        // A step may read the results of its ancestors only: they are complete before it runs.
        for (i, name, pos) in step_refs {
            let here = at(names[i].as_deref(), "");
            match index.get(name.as_str()) {
                None => {
                    let hint = closest(&name, known.iter().copied())
                        .map(|k| format!("did you mean `{k}`?"))
                        .unwrap_or_else(|| format!("steps are: {}", known.join(", ")));
                    self.problem(
                        pos,
                        here,
                        format!("`steps.{name}` refers to an unknown step"),
                    )
                    .hint = Some(hint);
                }
                Some(&j) if !is_ancestor(&parents_of, j, i) => {
                    self.problem(pos, here, format!("`steps.{name}` is not an ancestor of this step, so its results may not exist yet"))
                        .hint = Some(format!("add `{name}` to the step's `depends_on`"));
                }
                Some(_) => {}
            }
        }
        (steps, step_events)
    }

    /// Parse the `{{ … }}` references of `text`, reporting bad ones; the step names it reads.
    pub(super) fn references(&mut self, text: &str, pos: Pos, at: At<'_>) -> Vec<String> {
        if !text.contains("{{") {
            return Vec::new();
        }
        match interpolate::refs(text) {
            Ok(refs) => refs
                .into_iter()
                .filter_map(|r| match r {
                    Ref::Step { name, .. } => Some(name),
                    _ => None,
                })
                .collect(),
            Err(message) => {
                self.problem(pos, at, message);
                Vec::new()
            }
        }
    }
}

/// Whether `a` is reachable from `b` by following parents.
fn is_ancestor(parents_of: &[Vec<usize>], a: usize, b: usize) -> bool {
    let mut seen = vec![false; parents_of.len()];
    let mut stack = vec![b];
    while let Some(x) = stack.pop() {
        for &p in parents_of.get(x).map(Vec::as_slice).unwrap_or_default() {
            if p == a {
                return true;
            }
            if !std::mem::replace(&mut seen[p], true) {
                stack.push(p);
            }
        }
    }
    false
}

/// How to map an unknown `handler_class`: the `tasker.toml` block to add, then the
/// template's own `handlers:`.
pub(crate) fn handler_hint(class: &str) -> String {
    let key = toml::Value::String(class.to_owned()).to_string();
    format!(
        "add it to `tasker.toml` (`tasker config show` names the file in use):\n\n    [handlers.{key}]\n    command = \"{}\"\n\n  or map it in the template: `handlers: {{ \"{class}\": {{ command: … }} }}`",
        suggested_command(class)
    )
}

/// `Payments::ChargeHandler` → `./handlers/payments/charge_handler`.
fn suggested_command(class: &str) -> String {
    let mut path = String::from("./handlers");
    for part in class.split("::").filter(|p| !p.is_empty()) {
        path.push('/');
        let mut prev_lower = false;
        for c in part.chars() {
            if c.is_ascii_uppercase() {
                if prev_lower {
                    path.push('_');
                }
                path.push(c.to_ascii_lowercase());
                prev_lower = false;
            } else if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                path.push(c);
                prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            } else {
                path.push('_');
                prev_lower = false;
            }
        }
    }
    path
}

pub(super) fn item_name_node(item: &Node) -> Option<&Node> {
    match &item.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some("name"))
            .map(|(_, v)| v),
        _ => None,
    }
}
