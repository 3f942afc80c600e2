//! `run --dry-run`: what a run would do, level by level, with every reference that can be
//! resolved before anything runs resolved — and nothing run, nothing written.

use serde::Serialize;
use serde_json::Value as Json;

use crate::graph::Dag;
use crate::templates::interpolate::{self, Ref, Scope};
use crate::templates::{Action, Http, HttpBody, Program, Template};

/// One step of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub name: String,
    pub depends_on: Vec<String>,
    /// `command`, `plugin`, `http` or `noop`.
    pub kind: &'static str,
    /// What would run, with references resolved (`<steps.X.results.y>` where a result is
    /// only known once its step has run).
    pub action: String,
    pub retry_limit: u32,
    pub timeout_ms: Option<u64>,
    /// A reference with no value: the step would fail when it starts.
    pub problem: Option<String>,
}

/// A run's plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub template: String,
    pub context: Json,
    pub levels: Vec<Vec<PlannedStep>>,
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
/// as a placeholder.
struct DryScope<'a> {
    context: &'a Json,
    env: Vec<(String, String)>,
}

impl Scope for DryScope<'_> {
    fn lookup(&self, r: &Ref) -> Option<Json> {
        match r {
            Ref::Context(path) => interpolate::walk(self.context, path).cloned(),
            Ref::Env(name) => interpolate::env_value(&self.env, name),
            other => Some(Json::String(format!("<{}>", interpolate::describe(other)))),
        }
    }
}

fn program(p: &Program, scope: &dyn Scope) -> Result<String, String> {
    Ok(match p {
        // The line as `sh -c` would get it, values quoted.
        Program::Shell(line) => interpolate::render(line, scope, true)?,
        Program::Argv(argv) => argv
            .iter()
            .map(|a| interpolate::render(a, scope, false))
            .collect::<Result<Vec<_>, _>>()?
            .join(" "),
    })
}

fn http(h: &Http, scope: &dyn Scope) -> Result<String, String> {
    let mut out = format!(
        "{} {}",
        h.method,
        interpolate::render(&h.url, scope, false)?
    );
    match &h.body {
        HttpBody::Json(j) => {
            out.push_str(&format!(" json {}", interpolate::render_json(j, scope)?))
        }
        HttpBody::Text(t) => {
            out.push_str(&format!(" body {}", interpolate::render(t, scope, false)?))
        }
        HttpBody::None => {}
    }
    Ok(out)
}

/// The plan of running `template` with `context`.
pub fn plan(template: &Template, context: &Json) -> Plan {
    let dag = Dag::new(template);
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
                        Action::Http(h) => ("http", http(h, &scope)),
                        Action::Noop => ("noop", Ok("(nothing)".to_owned())),
                    };
                    let (action, problem) = match rendered {
                        Ok(a) => (a, None),
                        Err(e) => (String::new(), Some(e)),
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
                        retry_limit: step.retry.limit,
                        timeout_ms: step.timeout.map(|t| t.as_millis() as u64),
                        problem,
                    }
                })
                .collect()
        })
        .collect();
    Plan {
        template: format!(
            "{}/{}@{}",
            template.namespace, template.name, template.version
        ),
        context: context.clone(),
        levels,
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
        assert_eq!(p.levels[0][0].action, "echo 'hi there'");
        assert_eq!(p.levels[1][0].action, "echo <steps.a.results.id>");
        assert!(
            p.levels[0][1]
                .problem
                .as_deref()
                .is_some_and(|m| m.contains("has no value"))
        );
    }
}
