//! Checking the positioned YAML tree and building a [`Template`] from it.
//!
//! Every check records a [`Problem`] and carries on, so one run of `validate` lists them all.

use std::time::Duration;

use super::Problem;
use super::check::{Checker, at};
use super::handlers::Handlers;
use super::model::{CustomEvent, Template};
use super::node::{self, Node, Pos, Value};
use super::retry::RetryPatch;

pub(super) const TOP_KEYS: &[&str] = &[
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
    // Older Tasker spellings, read as the keys they became.
    "class_name",
    "task_name",
];

/// Keys older Tasker templates wrote, and the key each became.
pub(super) const RENAMED: &[(&str, &str)] =
    &[("class_name", "task_handler_class"), ("task_name", "name")];

/// Keys of the design that a later version of tasker runs; refused rather than ignored.
const NOT_YET: &[&str] = &[];

pub(super) const STEP_KEYS: &[&str] = &[
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
pub(super) const HANDLER_KINDS: &[&str] = &["command", "plugin", "http", "handler_class", "noop"];

const DEFAULTS_KEYS: &[&str] = &["retry", "timeout", "env", "cwd"];
/// What a template is read with besides its own text.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadOptions<'a> {
    /// The environment whose overrides are merged into the steps (`--env`, `TASKER_ENV`,
    /// the config file's `env`).
    pub environment: Option<&'a str>,
    /// The environment was asked for by name (`--env`): a template without it is refused.
    /// Otherwise, as in Tasker, a template without that block runs with no overrides.
    pub require_environment: bool,
    /// `handler_class` mappings from the config file; the template's own win.
    pub handlers: Option<&'a Handlers>,
    /// `--strict`: every warning is an error.
    pub strict: bool,
    /// The template is checked, not run (`validate`, `diagram`, `templates`): an unmapped
    /// `handler_class` is a warning rather than an error.
    pub checking: bool,
}

/// Validate template text; `file` names it in messages.
pub fn from_str(text: &str, file: &str) -> Result<Template, Vec<Problem>> {
    from_str_in(text, file, LoadOptions::default())
}

/// Validate template text read with `options`.
pub fn from_str_in(
    text: &str,
    file: &str,
    options: LoadOptions<'_>,
) -> Result<Template, Vec<Problem>> {
    let mut c = Checker::new(file);
    c.checking = options.checking;
    let template = match node::parse(text) {
        Ok(mut root) => {
            if matches!(root.value, Value::Map(_)) {
                c.environments(&mut root, options.environment, options.require_environment);
            }
            c.template(&root, options.handlers)
        }
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
                warning: false,
            });
            None
        }
    };
    if options.strict {
        c.warnings_are_errors();
    }
    match template {
        Some(mut t) if c.problems.is_empty() => {
            t.warnings = c.warnings;
            t.warnings.sort_by_key(|p| (p.pos.line, p.pos.column));
            Ok(t)
        }
        _ => {
            // Warnings beside errors: the user fixes everything in one pass.
            let mut all = c.problems;
            all.extend(c.warnings);
            all.sort_by_key(|p| (p.pos.line, p.pos.column));
            Err(all)
        }
    }
}

/// Template-wide settings every step starts from.
#[derive(Default)]
pub(super) struct Defaults {
    pub(super) retry: RetryPatch,
    pub(super) timeout: Option<Duration>,
    pub(super) env: Vec<(String, String)>,
    pub(super) cwd: Option<String>,
}

impl Checker<'_> {
    fn template(&mut self, root: &Node, configured: Option<&Handlers>) -> Option<Template> {
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

        let name_node = self.renamed(&f, "name");
        let name = match name_node {
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
        if let Some(n) = f.get("env") {
            for (_, value) in &env {
                if !self.references(value, n.pos, at(None, "env")).is_empty() {
                    self.problem(
                        n.pos,
                        at(None, "env"),
                        "the template's `env` cannot refer to steps' results",
                    )
                    .hint =
                        Some("move the variable into the `env` of the step that needs it".into());
                }
            }
        }

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

        let mut handlers = configured.map(|h| h.0.clone()).unwrap_or_default();
        if let Some(own) = f.get("handlers") {
            handlers.extend(self.handlers(own));
        }

        let mut metadata = serde_json::Map::new();
        for key in ["task_handler_class", "module_namespace"] {
            if let Some(n) = self.renamed(&f, key)
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
        let (steps, step_events) = steps_node
            .map(|n| {
                let key = if f.get("steps").is_some() {
                    "steps"
                } else {
                    "step_templates"
                };
                self.steps(key, n, &defaults, &handlers, default_system.as_deref())
            })
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

        let schema = f.get("schema").and_then(|n| self.schema(n));
        let mut custom_events = f
            .get("custom_events")
            .map(|n| self.custom_events(n, None))
            .unwrap_or_default();
        for (name, n) in &step_events {
            for e in self.custom_events(n, Some(name)) {
                if !custom_events.iter().any(|c: &CustomEvent| c.name == e.name) {
                    custom_events.push(e);
                }
            }
        }

        let hooks = f
            .get("on")
            .map(|n| self.hooks(n, Some(&custom_events)))
            .unwrap_or_default();

        Some(Template {
            name: name?,
            namespace: namespace?,
            version: version?,
            description,
            max_parallel,
            timeout,
            env,
            steps,
            schema,
            custom_events,
            hooks,
            metadata,
            warnings: Vec::new(),
        })
    }

    /// The node of `key`, or of the older key that became it; both given differently is a
    /// conflict.
    fn renamed<'n>(&mut self, f: &super::check::Fields<'n>, key: &str) -> Option<&'n Node> {
        let new = f.get(key);
        let Some((old_key, _)) = RENAMED.iter().find(|(_, k)| *k == key) else {
            return new;
        };
        match (new, f.get(old_key)) {
            (Some(a), Some(b)) if a.value != b.value => {
                self.problem(b.pos, at(None, old_key), format!("conflicts with `{key}`"))
                    .hint = Some(format!(
                    "`{old_key}` is Tasker's older name for `{key}`: keep one"
                ));
                Some(a)
            }
            (Some(a), _) => Some(a),
            (None, old) => old,
        }
    }

    /// A JSON Schema for the task context, checked against its meta-schema.
    fn schema(&mut self, node: &Node) -> Option<serde_json::Value> {
        if !matches!(node.value, Value::Map(_) | Value::Bool(_)) {
            self.expected(node, at(None, "schema"), "a JSON Schema (a mapping)");
            return None;
        }
        let schema = node.to_json();
        if super::context::validator(&schema).is_ok()
            && let Err(e) = jsonschema::options()
                .should_validate_formats(true)
                .should_ignore_unknown_formats(false)
                .build(&schema)
        {
            let message = e.to_string();
            let message = match message
                .strip_prefix("Unknown format: '")
                .and_then(|rest| rest.split_once('\''))
            {
                Some((name, _)) => format!("unknown format `{name}`"),
                None => message,
            };
            self.warn(node.pos, at(None, "schema"), message, " (not checked)")
            .hint = Some(
                "known formats include email, date, date-time, time, uri, uuid, ipv4, ipv6, hostname, regex"
                    .into(),
            );
        }
        match super::context::validator(&schema) {
            Ok(_) => Some(schema),
            Err(e) => {
                let path = e.instance_path().to_string();
                let place = if path.is_empty() {
                    String::new()
                } else {
                    format!(" at `{path}`")
                };
                self.problem(
                    node.pos,
                    at(None, "schema"),
                    format!("invalid JSON Schema{place}: {e}"),
                );
                None
            }
        }
    }
}

fn valid_task_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
}

/// `MAJOR.MINOR.PATCH` with optional `-prerelease` and `+build`, as semver.org writes it.
pub(crate) fn is_semver(s: &str) -> bool {
    semver::Version::parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::{Action, Program, Retry};
    use std::time::Duration;

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
        assert_eq!(
            t.steps[0].action,
            Action::Command(Program::Shell("true".into()))
        );
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
