//! Checking the positioned YAML tree and building a [`Template`] from it.
//!
//! Every check records a [`Problem`] and carries on, so one run of `validate` lists them all.

use std::collections::HashMap;
use std::time::Duration;

use super::Problem;
use super::duration;
use super::model::{Action, Backoff, Retry, Step, Template};
use super::node::{self, Node, Pos, Value};
use super::suggest::closest;

const TOP_KEYS: &[&str] = &[
    "name",
    "namespace_name",
    "namespace",
    "version",
    "description",
    "max_parallel",
    "timeout",
    "env",
    "defaults",
    "step_templates",
    "steps",
    "handlers",
    "schema",
    "environments",
    "custom_events",
    "on",
    "task_handler_class",
    "module_namespace",
    "concurrent",
    "default_dependent_system",
    "named_steps",
];

/// Keys of the design that a later version of tasker runs; refused rather than ignored.
const NOT_YET: &[&str] = &["schema", "environments", "custom_events", "on"];

const STEP_KEYS: &[&str] = &[
    "name",
    "description",
    "command",
    "plugin",
    "http",
    "handler_class",
    "noop",
    "depends_on_step",
    "depends_on_steps",
    "depends_on",
    "default_retryable",
    "default_retry_limit",
    "retry",
    "timeout",
    "env",
    "cwd",
    "handler_config",
    "skippable",
    "dependent_system",
    "custom_events",
];

/// The keys that say what a step does; a step has exactly one.
const HANDLER_KINDS: &[&str] = &["command", "plugin", "http", "handler_class", "noop"];

const DEFAULTS_KEYS: &[&str] = &["retry", "timeout", "env", "cwd"];
const RETRY_KEYS: &[&str] = &[
    "limit",
    "retryable",
    "backoff",
    "retry_on_exit_codes",
    "permanent_exit_codes",
];
const BACKOFF_KEYS: &[&str] = &["base", "multiplier", "max", "jitter"];
const HANDLER_KEYS: &[&str] = &["command", "env", "cwd"];

/// Validate template text; `file` names it in messages.
pub fn from_str(text: &str, file: &str) -> Result<Template, Vec<Problem>> {
    let mut c = Checker {
        file,
        problems: Vec::new(),
    };
    let template = match node::parse(text) {
        Ok(root) => c.template(&root),
        Err(message) => {
            c.problems.push(Problem {
                file: file.to_owned(),
                pos: Pos::default(),
                step: None,
                field: None,
                message: format!(
                    "YAML syntax error: {}",
                    message
                        .trim_end()
                        .trim_start_matches("error: ")
                        .replace("<input>", file)
                ),
                hint: None,
            });
            None
        }
    };
    match template {
        Some(t) if c.problems.is_empty() => Ok(t),
        _ => Err(c.problems),
    }
}

struct Checker<'f> {
    file: &'f str,
    problems: Vec<Problem>,
}

/// Where a value sits, for messages: the step (if any) and the dotted field path.
#[derive(Clone, Copy)]
struct At<'a> {
    step: Option<&'a str>,
    field: &'a str,
}

fn at<'a>(step: Option<&'a str>, field: &'a str) -> At<'a> {
    At { step, field }
}

/// The known keys of one mapping, looked up by name.
struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node)>,
    /// Known keys suggested for unknown ones (a typo of `command` is not a missing command).
    suggested: Vec<String>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

/// Retry settings as written at one level (defaults, step); unset fields inherit.
#[derive(Default, Clone)]
struct RetryPatch {
    limit: Option<u32>,
    retryable: Option<bool>,
    base: Option<Duration>,
    multiplier: Option<f64>,
    max: Option<Duration>,
    jitter: Option<f64>,
    retry_on_exit_codes: Option<Vec<i32>>,
    permanent_exit_codes: Option<Vec<i32>>,
}

impl RetryPatch {
    fn over(&self, base: &RetryPatch) -> RetryPatch {
        RetryPatch {
            limit: self.limit.or(base.limit),
            retryable: self.retryable.or(base.retryable),
            base: self.base.or(base.base),
            multiplier: self.multiplier.or(base.multiplier),
            max: self.max.or(base.max),
            jitter: self.jitter.or(base.jitter),
            retry_on_exit_codes: self
                .retry_on_exit_codes
                .clone()
                .or_else(|| base.retry_on_exit_codes.clone()),
            permanent_exit_codes: self
                .permanent_exit_codes
                .clone()
                .or_else(|| base.permanent_exit_codes.clone()),
        }
    }

    fn resolve(&self) -> Retry {
        let d = Retry::default();
        Retry {
            limit: self.limit.unwrap_or(d.limit),
            retryable: self.retryable.unwrap_or(d.retryable),
            backoff: Backoff {
                base: self.base.unwrap_or(d.backoff.base),
                multiplier: self.multiplier.unwrap_or(d.backoff.multiplier),
                max: self.max.unwrap_or(d.backoff.max),
                jitter: self.jitter.unwrap_or(d.backoff.jitter),
            },
            retry_on_exit_codes: self.retry_on_exit_codes.clone(),
            permanent_exit_codes: self
                .permanent_exit_codes
                .clone()
                .unwrap_or(d.permanent_exit_codes),
        }
    }
}

/// Template-wide settings every step starts from.
#[derive(Default)]
struct Defaults {
    retry: RetryPatch,
    timeout: Option<Duration>,
    env: Vec<(String, String)>,
    cwd: Option<String>,
}

/// How a `handler_class` runs, from the `handlers:` map.
struct HandlerDef {
    action: Action,
    env: Vec<(String, String)>,
    cwd: Option<String>,
}

impl Checker<'_> {
    fn problem(&mut self, pos: Pos, at: At<'_>, message: impl Into<String>) -> &mut Problem {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            pos,
            step: at.step.map(str::to_owned),
            field: (!at.field.is_empty()).then(|| at.field.to_owned()),
            message: message.into(),
            hint: None,
        });
        let last = self.problems.len() - 1;
        &mut self.problems[last]
    }

    fn expected(&mut self, node: &Node, at: At<'_>, what: &str) {
        let found = node.kind();
        self.problem(node.pos, at, format!("expected {what}, found {found}"));
    }

    /// The entries of a mapping, reporting unknown keys with a did-you-mean hint.
    fn fields<'n>(&mut self, node: &'n Node, known: &[&str], at: At<'_>) -> Option<Fields<'n>> {
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
            let close = closest(&shown, known.iter().copied());
            fields.suggested.extend(close.map(str::to_owned));
            let hint = close
                .map(|k| format!("did you mean `{k}`?"))
                .unwrap_or_else(|| format!("known keys: {}", known.join(", ")));
            self.problem(key.pos, at, format!("unknown key `{shown}`"))
                .hint = Some(hint);
        }
        Some(fields)
    }

    fn string(&mut self, node: &Node, at: At<'_>) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.expected(node, at, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, at: At<'_>) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.expected(node, at, "`true` or `false`");
                None
            }
        }
    }

    fn positive(&mut self, node: &Node, at: At<'_>) -> Option<u32> {
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

    fn number(&mut self, node: &Node, at: At<'_>) -> Option<f64> {
        match node.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) if f.is_finite() => Some(f),
            _ => {
                self.expected(node, at, "a number");
                None
            }
        }
    }

    fn duration(&mut self, node: &Node, at: At<'_>) -> Option<Duration> {
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

    fn exit_codes(&mut self, node: &Node, at: At<'_>) -> Option<Vec<i32>> {
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
    fn env(&mut self, node: &Node, at: At<'_>) -> Vec<(String, String)> {
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
    fn names(&mut self, node: &Node, at: At<'_>) -> Vec<(String, Pos)> {
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

    fn template(&mut self, root: &Node) -> Option<Template> {
        let none = at(None, "");
        if matches!(root.value, Value::Null) {
            self.problem(root.pos, none, "the template is empty").hint =
                Some("a template needs at least `name` and `step_templates`".into());
            return None;
        }
        let Value::Map(_) = root.value else {
            let kind = root.kind();
            self.problem(
                root.pos,
                none,
                format!("a template must be a mapping of keys, found {kind}"),
            );
            return None;
        };
        let f = self.fields(root, TOP_KEYS, none)?;
        for key in NOT_YET {
            if let Some(node) = f.get(key) {
                self.problem(
                    node.pos,
                    at(None, key),
                    "is part of the template format but not supported by this version of tasker",
                );
            }
        }

        let name = match f.get("name") {
            Some(n) => self.string(n, at(None, "name")).filter(|name| {
                let ok = valid_task_name(name);
                if !ok {
                    self.problem(n.pos, at(None, "name"), format!("invalid name `{name}`"))
                        .hint = Some(
                        "use letters, digits, `_`, `.`, `/` and `-`, at most 64 characters".into(),
                    );
                }
                ok
            }),
            None => {
                self.problem(root.pos, none, "missing required key `name`");
                None
            }
        };
        let namespace = match (f.get("namespace_name"), f.get("namespace")) {
            (Some(a), Some(b)) if a.value != b.value => {
                self.problem(
                    b.pos,
                    at(None, "namespace"),
                    "conflicts with `namespace_name`",
                )
                .hint = Some("give only one of `namespace_name` and `namespace`".into());
                None
            }
            (Some(n), _) => self.string(n, at(None, "namespace_name")),
            (None, Some(n)) => self.string(n, at(None, "namespace")),
            (None, None) => Some("default".to_owned()),
        };
        if let Some(ns) = &namespace
            && !valid_task_name(ns)
        {
            self.problem(
                root.pos,
                at(None, "namespace_name"),
                format!("invalid namespace `{ns}`"),
            );
        }
        let version = match f.get("version") {
            None => Some("0.1.0".to_owned()),
            Some(v) => {
                let text = v.scalar_text();
                match text {
                    Some(t) if is_semver(&t) => Some(t),
                    Some(t) => {
                        self.problem(
                            v.pos,
                            at(None, "version"),
                            format!("invalid version `{t}`"),
                        )
                        .hint = Some(
                            "use semantic versioning, such as `1.0.0` (quote it in YAML)".into(),
                        );
                        None
                    }
                    None => {
                        self.expected(v, at(None, "version"), "a version such as `1.0.0`");
                        None
                    }
                }
            }
        };
        let description = f
            .get("description")
            .and_then(|n| self.string(n, at(None, "description")));
        let max_parallel = f
            .get("max_parallel")
            .and_then(|n| self.positive(n, at(None, "max_parallel")))
            .map(|n| n as usize);
        let timeout = f
            .get("timeout")
            .and_then(|n| self.duration(n, at(None, "timeout")));
        let env = f
            .get("env")
            .map(|n| self.env(n, at(None, "env")))
            .unwrap_or_default();

        let mut defaults = Defaults::default();
        if let Some(d) = f.get("defaults")
            && let Some(df) = self.fields(d, DEFAULTS_KEYS, at(None, "defaults"))
        {
            if let Some(r) = df.get("retry") {
                defaults.retry = self.retry(r, None, "defaults.retry");
            }
            defaults.timeout = df
                .get("timeout")
                .and_then(|n| self.duration(n, at(None, "defaults.timeout")));
            defaults.env = df
                .get("env")
                .map(|n| self.env(n, at(None, "defaults.env")))
                .unwrap_or_default();
            defaults.cwd = df
                .get("cwd")
                .and_then(|n| self.string(n, at(None, "defaults.cwd")));
        }

        let handlers = f
            .get("handlers")
            .map(|h| self.handlers(h))
            .unwrap_or_default();

        let mut metadata = serde_json::Map::new();
        for key in ["task_handler_class", "module_namespace"] {
            if let Some(n) = f.get(key)
                && let Some(s) = self.string(n, at(None, key))
            {
                metadata.insert(key.to_owned(), s.into());
            }
        }
        if let Some(n) = f.get("concurrent")
            && let Some(b) = self.boolean(n, at(None, "concurrent"))
        {
            metadata.insert("concurrent".into(), b.into());
        }
        let default_system = f
            .get("default_dependent_system")
            .and_then(|n| self.string(n, at(None, "default_dependent_system")));
        if let Some(s) = &default_system {
            metadata.insert("default_dependent_system".into(), s.clone().into());
        }
        let named_steps = f
            .get("named_steps")
            .map(|n| self.names(n, at(None, "named_steps")));

        let steps_node = match (f.get("step_templates"), f.get("steps")) {
            (Some(_), Some(b)) => {
                self.problem(b.pos, at(None, "steps"), "conflicts with `step_templates`")
                    .hint = Some("`steps` is an alias of `step_templates`: keep one".into());
                None
            }
            (Some(s), None) | (None, Some(s)) => Some(s),
            (None, None)
                if f.suggested
                    .iter()
                    .any(|k| k == "step_templates" || k == "steps") =>
            {
                None
            }
            (None, None) => {
                self.problem(root.pos, none, "missing required key `step_templates`")
                    .hint =
                    Some("list the steps under `step_templates:` (or its alias `steps:`)".into());
                None
            }
        };
        let steps = steps_node
            .map(|n| self.steps(n, &defaults, &handlers, default_system.as_deref()))
            .unwrap_or_default();

        if let Some(named) = &named_steps {
            for step in &steps {
                if !named.iter().any(|(n, _)| *n == step.name) {
                    let pos = f.get("named_steps").map(|n| n.pos).unwrap_or_default();
                    self.problem(
                        pos,
                        at(Some(&step.name), ""),
                        "is not listed in `named_steps`",
                    )
                    .hint = Some(
                        "Tasker requires every step template to be one of the `named_steps`".into(),
                    );
                }
            }
        }

        Some(Template {
            name: name?,
            namespace: namespace?,
            version: version?,
            description,
            max_parallel,
            timeout,
            env,
            steps,
            metadata,
        })
    }

    fn handlers(&mut self, node: &Node) -> HashMap<String, HandlerDef> {
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
            let Some(cmd) = hf.get("command") else {
                self.problem(
                    value.pos,
                    at(None, &field),
                    "missing required key `command`",
                );
                continue;
            };
            let Some(action) = self.command(cmd, at(None, &format!("{field}.command"))) else {
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

    fn command(&mut self, node: &Node, at: At<'_>) -> Option<Action> {
        match &node.value {
            Value::Str(s) if s.trim().is_empty() => {
                self.problem(node.pos, at, "the command is empty");
                None
            }
            Value::Str(s) => Some(Action::Shell(s.clone())),
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
                Some(Action::Argv(argv))
            }
            _ => {
                self.expected(node, at, "a command string or a list of arguments");
                None
            }
        }
    }

    fn retry(&mut self, node: &Node, step: Option<&str>, field: &str) -> RetryPatch {
        let mut patch = RetryPatch::default();
        if let Value::Int(_) = node.value {
            patch.limit = self.positive(node, at(step, &join(field, "limit")));
            return patch;
        }
        let Some(rf) = self.fields(node, RETRY_KEYS, at(step, field)) else {
            return patch;
        };
        if let Some(n) = rf.get("limit") {
            patch.limit = self.positive(n, at(step, &join(field, "limit")));
        }
        if let Some(n) = rf.get("retryable") {
            patch.retryable = self.boolean(n, at(step, &join(field, "retryable")));
        }
        if let Some(n) = rf.get("retry_on_exit_codes") {
            patch.retry_on_exit_codes =
                self.exit_codes(n, at(step, &join(field, "retry_on_exit_codes")));
        }
        if let Some(n) = rf.get("permanent_exit_codes") {
            patch.permanent_exit_codes =
                self.exit_codes(n, at(step, &join(field, "permanent_exit_codes")));
        }
        if let Some(b) = rf.get("backoff") {
            let bfield = join(field, "backoff");
            if let Some(bf) = self.fields(b, BACKOFF_KEYS, at(step, &bfield)) {
                if let Some(n) = bf.get("base") {
                    patch.base = self.duration(n, at(step, &join(&bfield, "base")));
                }
                if let Some(n) = bf.get("max") {
                    patch.max = self.duration(n, at(step, &join(&bfield, "max")));
                }
                if let Some(n) = bf.get("multiplier") {
                    let f = join(&bfield, "multiplier");
                    patch.multiplier = self.number(n, at(step, &f)).filter(|m| {
                        let ok = *m >= 1.0 && *m <= 100.0;
                        if !ok {
                            self.problem(
                                n.pos,
                                at(step, &f),
                                format!("must be between 1 and 100, found {m}"),
                            );
                        }
                        ok
                    });
                }
                if let Some(n) = bf.get("jitter") {
                    let f = join(&bfield, "jitter");
                    patch.jitter = self.number(n, at(step, &f)).filter(|j| {
                        let ok = (0.0..=1.0).contains(j);
                        if !ok {
                            self.problem(
                                n.pos,
                                at(step, &f),
                                format!("must be between 0 and 1, found {j}"),
                            );
                        }
                        ok
                    });
                }
            }
        }
        patch
    }

    fn steps(
        &mut self,
        node: &Node,
        defaults: &Defaults,
        handlers: &HashMap<String, HandlerDef>,
        default_system: Option<&str>,
    ) -> Vec<Step> {
        let Value::Seq(items) = &node.value else {
            self.expected(node, at(None, "step_templates"), "a list of steps");
            return Vec::new();
        };
        if items.is_empty() {
            self.problem(
                node.pos,
                at(None, "step_templates"),
                "the template has no steps",
            );
            return Vec::new();
        }
        // First pass: names, so dependencies can be checked whatever their order.
        let mut seen: HashMap<String, Pos> = HashMap::new();
        let mut names: Vec<Option<String>> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let name = match &item.value {
                Value::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some("name"))
                    .map(|(_, v)| v),
                _ => None,
            };
            let label = format!("step_templates[{i}]");
            let name = match name {
                None if matches!(item.value, Value::Map(_)) => {
                    self.problem(item.pos, at(None, &label), "missing required key `name`");
                    None
                }
                None => None,
                Some(n) => self
                    .string(n, at(None, &format!("{label}.name")))
                    .filter(|s| {
                        let ok = !s.trim().is_empty()
                            && s.chars().count() <= 128
                            && !s.chars().any(char::is_control);
                        if !ok {
                            self.problem(
                                n.pos,
                                at(None, &format!("{label}.name")),
                                format!("invalid step name {s:?}"),
                            )
                            .hint = Some(
                                "step names are 1 to 128 characters with no control characters"
                                    .into(),
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
            let label = format!("step_templates[{i}]");
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
                    .and_then(|n| self.command(n, at_step("command"))),
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
                                let hint = closest(&class, handlers.keys().map(String::as_str))
                                    .map(|k| format!("did you mean `{k}`?"))
                                    .unwrap_or_else(|| format!("map it to a command under `handlers:`, e.g. `handlers: {{ {class}: {{ command: ./bin/run }} }}`"));
                                self.problem(
                                    n.pos,
                                    at_step("handler_class"),
                                    format!("unknown handler class `{class}`"),
                                )
                                .hint = Some(hint);
                                None
                            }
                        },
                        None => None,
                    }
                }
                [kind] => {
                    let pos = f.get(kind).map(|n| n.pos).unwrap_or(item.pos);
                    self.problem(pos, at(sn, kind), "steps of this kind are part of the template format but not supported by this version of tasker");
                    None
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
            if let Some(n) = f.get("custom_events") {
                self.problem(
                    n.pos,
                    at_step("custom_events"),
                    "is part of the template format but not supported by this version of tasker",
                );
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
        steps
    }
}

fn item_name_node(item: &Node) -> Option<&Node> {
    match &item.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some("name"))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_task_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
}

/// `MAJOR.MINOR.PATCH` with optional `-prerelease` and `+build`, as semver.org writes it.
pub(crate) fn is_semver(s: &str) -> bool {
    let (core, _build) = s.split_once('+').unwrap_or((s, ""));
    let (core, pre) = match core.split_once('-') {
        Some((_, "")) => return false,
        Some(split) => split,
        None => (core, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &str| {
        !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    parts.len() == 3
        && parts.iter().all(|p| numeric(p))
        && (pre.is_empty()
            || pre
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')))
        && (!s.contains('+') || !_build.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<String> {
        match from_str(yaml, "t.yml") {
            Ok(_) => Vec::new(),
            Err(ps) => ps.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_minimal_template_loads_with_tasker_defaults() {
        let t = from_str(
            "name: t\nsteps:\n  - name: a\n    command: 'true'\n",
            "t.yml",
        )
        .expect("valid");
        assert_eq!(t.namespace, "default");
        assert_eq!(t.version, "0.1.0");
        assert_eq!(t.steps[0].retry, Retry::default());
        assert_eq!(t.steps[0].action, Action::Shell("true".into()));
    }

    #[test]
    fn retry_merges_from_defaults_to_step() {
        let yaml = "name: t\ndefaults:\n  retry: { limit: 5, backoff: { base: 2s, max: 1m } }\nsteps:\n  - name: a\n    command: x\n    retry: { backoff: { base: 3s } }\n  - name: b\n    command: x\n    default_retry_limit: 1\n";
        let t = from_str(yaml, "t.yml").expect("valid");
        assert_eq!(t.steps[0].retry.limit, 5);
        assert_eq!(t.steps[0].retry.backoff.base, Duration::from_secs(3));
        assert_eq!(t.steps[0].retry.backoff.max, Duration::from_secs(60));
        assert_eq!(t.steps[1].retry.limit, 1);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let yaml = "name: t\nversion: 1.0\nsteps:\n  - name: a\n    comand: x\n  - name: b\n    command: x\n    depends_on: [c]\n    retry: { limit: 0, backoff: { jitter: 2 } }\n";
        let ps = problems(yaml);
        assert_eq!(ps.len(), 5, "{ps:#?}");
        assert!(ps[0].contains("invalid version `1.0`"));
        assert!(ps.iter().any(|p| p.contains("did you mean `command`?")));
        assert!(ps.iter().any(|p| p.contains("unknown step `c`")));
        assert!(ps.iter().any(|p| p.contains("must be at least 1, found 0")));
        assert!(ps.iter().any(|p| p.contains("between 0 and 1")));
    }

    #[test]
    fn semver() {
        for ok in ["0.1.0", "1.2.3-alpha.1", "1.0.0+build.5", "10.20.30"] {
            assert!(is_semver(ok), "{ok}");
        }
        for bad in ["1.0", "01.0.0", "1.0.0-", "v1.0.0", "1.0.0+", "a.b.c"] {
            assert!(!is_semver(bad), "{bad}");
        }
    }
}
