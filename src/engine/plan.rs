//! `run --dry-run`: what a run would do, level by level, with every reference that can be
//! resolved before anything runs resolved — and nothing run, nothing written.

use serde::Serialize;
use serde_json::Value as Json;

use crate::secrets;
use crate::templates::interpolate::{self, Ref, Scope};
use crate::templates::shell;
use crate::templates::{Action, Http, HttpBody, Program, Template};

/// One step of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub name: String,
    pub depends_on: Vec<String>,
    /// `command`, `plugin`, `http` or `noop`.
    pub kind: &'static str,
    /// What would run: a shell line as `sh -c` gets it (each value a `${TASKER_REF_n}`),
    /// argv and HTTP fields with their values in place (`<steps.X.results.y>` where a
    /// result is only known once its step has run); secrets masked.
    pub action: String,
    /// The variables a shell line reads its values from.
    pub values: Vec<PlannedValue>,
    pub retry_limit: u32,
    pub timeout_ms: Option<u64>,
    /// The step's `handler_config` (after `environments`), secret-looking keys masked; the
    /// step itself gets the real values.
    #[serde(skip_serializing_if = "Json::is_null")]
    pub handler_config: Json,
    /// A reference with no value: the step would fail when it starts.
    pub problem: Option<String>,
}

/// A value a step's shell text reads from a variable.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedValue {
    pub name: String,
    pub value: String,
}

/// A run's plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub template: String,
    /// The context, secret-looking keys masked as `status` masks them.
    pub context: Json,
    pub levels: Vec<Vec<PlannedStep>>,
    /// What the run should know before it starts (context values too big for the
    /// environment).
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn problems(&self) -> impl Iterator<Item = (&str, &str)> {
        self.levels
            .iter()
            .flatten()
            .filter_map(|s| s.problem.as_deref().map(|p| (s.name.as_str(), p)))
    }
}

/// Resolves what is known before a run: the context, the environment; the rest is shown
/// as a placeholder. A value read through a secret-looking key is shown masked.
struct DryScope<'a> {
    context: &'a Json,
    env: Vec<(String, String)>,
}

/// Whether a reference reads a value through a secret-looking key.
fn secret(r: &Ref) -> bool {
    match r {
        Ref::Context(path) | Ref::Step { path, .. } => path.iter().any(|k| secrets::is_secret(k)),
        Ref::Env(name) => secrets::is_secret(name),
        Ref::Task(_) => false,
    }
}

impl Scope for DryScope<'_> {
    fn lookup(&self, r: &Ref) -> Option<Json> {
        let value = match r {
            Ref::Context(path) => interpolate::walk(self.context, path).cloned(),
            Ref::Env(name) => interpolate::env_value(&self.env, name),
            other => Some(Json::String(format!("<{}>", interpolate::describe(other)))),
        }?;
        Some(if secret(r) {
            Json::String(secrets::FILTERED.into())
        } else {
            secrets::mask(&value)
        })
    }
}

fn program(p: &Program, scope: &dyn Scope) -> Result<(String, Vec<PlannedValue>), String> {
    let (p, vars) = shell::render(p, scope)?;
    let values = vars
        .into_iter()
        .map(|(name, value)| PlannedValue { name, value })
        .collect();
    Ok(match p {
        Program::Shell(line) => (line, values),
        Program::Argv(argv) => (
            argv.iter()
                .map(|a| display_word(a))
                .collect::<Vec<_>>()
                .join(" "),
            values,
        ),
    })
}

/// An argument as a shell would have to be given it, for display: as it is when it is
/// plain, else in single quotes.
fn display_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,<>".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn http(h: &Http, scope: &dyn Scope) -> Result<String, String> {
    // A value known only once a step has run is shown as its placeholder, as it is.
    let url = interpolate::render_with(&h.url, scope, &mut |out, r, v| match r {
        Ref::Step { .. } | Ref::Task(_) => {
            out.push_str(&interpolate::text_of(&v));
            Ok(())
        }
        _ => interpolate::put_url_value(out, r, &interpolate::text_of(&v)),
    })?;
    let mut out = format!("{} {url}", h.method);
    for (name, value) in &h.headers {
        let value = if secrets::is_secret(name) {
            secrets::FILTERED.to_owned()
        } else {
            interpolate::render(value, scope)?
        };
        out.push_str(&format!(" header {name}: {value}"));
    }
    match &h.body {
        HttpBody::Json(j) => out.push_str(&format!(
            " json {}",
            secrets::mask(&interpolate::render_json(j, scope)?)
        )),
        HttpBody::Text(t) => out.push_str(&format!(" body {}", interpolate::render(t, scope)?)),
        HttpBody::None => {}
    }
    Ok(out)
}

/// The plan of running `template` with `context`.
pub fn plan(template: &Template, context: &Json) -> Plan {
    let dag = template.dag();
    let levels = dag
        .levels()
        .into_iter()
        .map(|level| {
            level
                .into_iter()
                .map(|i| {
                    let step = &template.steps[i];
                    let env = template.env.iter().chain(&step.env).cloned().collect();
                    let scope = DryScope { context, env };
                    let (kind, rendered) = match &step.action {
                        Action::Command(p) => ("command", program(p, &scope)),
                        Action::Plugin(p) => ("plugin", program(p, &scope)),
                        Action::Http(h) => ("http", http(h, &scope).map(|a| (a, Vec::new()))),
                        Action::Noop => ("noop", Ok(("(nothing)".to_owned(), Vec::new()))),
                    };
                    let (action, values, problem) = match rendered {
                        Ok((a, v)) => (a, v, None),
                        Err(e) => (String::new(), Vec::new(), Some(e)),
                    };
                    PlannedStep {
                        name: step.name.clone(),
                        depends_on: step
                            .parents
                            .iter()
                            .map(|&p| template.steps[p].name.clone())
                            .collect(),
                        kind,
                        action,
                        values,
                        retry_limit: step.retry.limit,
                        timeout_ms: step.timeout.map(|t| t.as_millis() as u64),
                        handler_config: secrets::mask(&step.handler_config),
                        problem,
                    }
                })
                .collect()
        })
        .collect();
    Plan {
        template: crate::templates::identity(
            &template.namespace,
            &template.name,
            &template.version,
        ),
        context: secrets::mask(context),
        levels,
        warnings: super::inputs::unplaced_context(context)
            .into_iter()
            .map(|(key, why)| {
                let why = match why {
                    super::inputs::Unplaced::TooBig(len) => {
                        format!("({len} bytes) is too big for the environment")
                    }
                    super::inputs::Unplaced::Nul => {
                        "holds a NUL byte, which no environment variable can".to_owned()
                    }
                };
                format!("context value `{key}` {why}: steps get no TASKER_CONTEXT_ variable for it and read it from $TASKER_INPUT")
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_what_it_can() {
        let t = crate::templates::from_str(
            "name: t\nsteps:\n  - { name: a, command: 'echo {{ context.x }}' }\n  - { name: b, command: [echo, '{{ steps.a.results.id }}'], depends_on: [a] }\n  - { name: c, command: 'echo {{ context.missing }}' }\n",
            "t.yml",
        )
        .expect("valid");
        let p = plan(&t, &json!({"x": "hi there"}));
        assert_eq!(p.levels.len(), 2);
        assert_eq!(p.levels[0][0].action, "echo \"${TASKER_REF_1}\"");
        assert_eq!(p.levels[0][0].values[0].value, "hi there");
        assert_eq!(p.levels[1][0].action, "echo <steps.a.results.id>");
        assert!(
            p.levels[0][1]
                .problem
                .as_deref()
                .is_some_and(|m| m.contains("has no value"))
        );
    }
}
