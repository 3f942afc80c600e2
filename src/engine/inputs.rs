//! What a step is given when it starts: its action with `{{ … }}` resolved, the input
//! document, `TASKER_CONTEXT_*` variables — and what it hands back through `TASKER_EVENTS`.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};

use crate::store::TaskRecord;
use crate::templates::interpolate::{self, Ref, Scope};
use crate::templates::shell;
use crate::templates::{Action, CustomEvent, Http, HttpBody, Template};

/// Resolves references against a running task: its context, its record, the results of
/// finished steps and the environment.
pub(super) struct RunScope<'a> {
    pub task: &'a TaskRecord,
    pub index: &'a HashMap<String, usize>,
    pub results: &'a dyn Fn(usize) -> Option<&'a Json>,
    /// The template's and the step's `env`, later entries winning; then tasker's own.
    pub env: &'a [(String, String)],
}

impl Scope for RunScope<'_> {
    fn lookup(&self, r: &Ref) -> Option<Json> {
        match r {
            Ref::Context(path) => interpolate::walk(&self.task.context, path).cloned(),
            Ref::Step { name, path } => {
                let i = *self.index.get(name)?;
                interpolate::walk((self.results)(i)?, path).cloned()
            }
            Ref::Task(field) => Some(match field.as_str() {
                "id" => json!(self.task.task_id),
                "uuid" => json!(self.task.uuid),
                "name" => json!(self.task.name),
                "namespace" => json!(self.task.namespace),
                "version" => json!(self.task.version),
                _ => return None,
            }),
            Ref::Env(name) => interpolate::env_value(self.env, name),
        }
    }
}

/// The action with every reference resolved, and the variables (`TASKER_REF_n`) that hold
/// the values its shell text reads.
pub(super) fn resolve_action(
    action: &Action,
    scope: &dyn Scope,
) -> Result<(Action, Vec<(String, String)>), String> {
    Ok(match action {
        Action::Command(p) => {
            let (p, vars) = shell::render(p, scope)?;
            (Action::Command(p), vars)
        }
        Action::Plugin(p) => {
            let (p, vars) = shell::render(p, scope)?;
            (Action::Plugin(p), vars)
        }
        Action::Http(h) => (Action::Http(http(h, scope)?), Vec::new()),
        Action::Noop => (Action::Noop, Vec::new()),
    })
}

fn http(h: &Http, scope: &dyn Scope) -> Result<Http, String> {
    Ok(Http {
        method: h.method.clone(),
        url: interpolate::render_url(&h.url, scope)?,
        headers: h
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), interpolate::render(v, scope)?)))
            .collect::<Result<_, String>>()?,
        body: match &h.body {
            HttpBody::None => HttpBody::None,
            HttpBody::Text(t) => HttpBody::Text(interpolate::render(t, scope)?),
            HttpBody::Json(j) => HttpBody::Json(interpolate::render_json(j, scope)?),
        },
        timeout: h.timeout,
        expect_status: h.expect_status.clone(),
    })
}

/// The most the `TASKER_CONTEXT_*` variables of one step hold together, so that with
/// the rest of the environment they stay well inside the kernel's limit for a new program.
const CONTEXT_ENV_BUDGET: usize = 1024 * 1024;

/// `TASKER_CONTEXT_<KEY>` for each top-level scalar of the context that fits the
/// environment: at most 128 KiB a variable (the kernel's limit for one string) and 1 MiB
/// for all of them, in the context's order. The rest are read from `TASKER_INPUT`.
pub(super) fn context_vars(context: &Json) -> Vec<(String, String)> {
    placed(context).0
}

/// Why a context value gets no `TASKER_CONTEXT_*` variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unplaced {
    /// It is this many bytes, too big for the environment.
    TooBig(usize),
    /// It holds a NUL byte, which no variable can.
    Nul,
}

/// The context's top-level scalars that get no `TASKER_CONTEXT_*` variable, and why.
pub(crate) fn unplaced_context(context: &Json) -> Vec<(String, Unplaced)> {
    placed(context).1
}

/// Variables placed in the environment, and the keys left out with their sizes.
type Placement = (Vec<(String, String)>, Vec<(String, Unplaced)>);

fn placed(context: &Json) -> Placement {
    let Json::Object(map) = context else {
        return (Vec::new(), Vec::new());
    };
    let mut used = 0;
    let mut vars = Vec::new();
    let mut left = Vec::new();
    for (k, v) in map {
        if !matches!(v, Json::String(_) | Json::Number(_) | Json::Bool(_)) {
            continue;
        }
        let key: String = k
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let name = format!("TASKER_CONTEXT_{key}");
        let value = interpolate::text_of(v);
        // `NAME=VALUE` and its NUL.
        let size = name.len() + value.len() + 2;
        if value.contains('\0') {
            left.push((k.clone(), Unplaced::Nul));
            continue;
        }
        if size > shell::MAX_ARG || used + size > CONTEXT_ENV_BUDGET {
            left.push((k.clone(), Unplaced::TooBig(value.len())));
            continue;
        }
        used += size;
        vars.push((name, value));
    }
    (vars, left)
}

/// The document a step reads from `TASKER_INPUT` (and a plugin from stdin), as JSON text.
/// Written from the task, the template and the parents' results as they are, none of them
/// copied first.
pub(super) fn input_document<'a>(
    task: &'a TaskRecord,
    template: &'a Template,
    i: usize,
    attempt: u32,
    results: &'a dyn Fn(usize) -> Option<&'a Json>,
) -> Vec<u8> {
    static EMPTY: std::sync::OnceLock<Json> = std::sync::OnceLock::new();
    let step = &template.steps[i];
    let document = InputDocument {
        task_id: task.task_id,
        task_uuid: &task.uuid,
        task_name: &task.name,
        namespace: &task.namespace,
        version: &task.version,
        context: &task.context,
        step_name: &step.name,
        attempt,
        retry_limit: step.retry.limit,
        config: if step.handler_config.is_null() {
            EMPTY.get_or_init(|| Json::Object(Map::new()))
        } else {
            &step.handler_config
        },
        steps: Parents {
            template,
            parents: &step.parents,
            results,
        },
    };
    serde_json::to_vec(&document).unwrap_or_default()
}

#[derive(serde::Serialize)]
struct InputDocument<'a> {
    task_id: i64,
    task_uuid: &'a str,
    task_name: &'a str,
    namespace: &'a str,
    version: &'a str,
    context: &'a Json,
    step_name: &'a str,
    attempt: u32,
    retry_limit: u32,
    config: &'a Json,
    steps: Parents<'a>,
}

/// `{"PARENT": {"results": …}, …}`, in the order the step names its parents.
struct Parents<'a> {
    template: &'a Template,
    parents: &'a [usize],
    results: &'a dyn Fn(usize) -> Option<&'a Json>,
}

impl serde::Serialize for Parents<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(serde::Serialize)]
        struct Results<'a> {
            results: &'a Json,
        }
        let mut map = s.serialize_map(Some(self.parents.len()))?;
        for &p in self.parents {
            map.serialize_entry(
                &self.template.steps[p].name,
                &Results {
                    results: (self.results)(p).unwrap_or(&Json::Null),
                },
            )?;
        }
        map.end()
    }
}

/// At most this many custom events are kept per attempt.
const MAX_EVENTS: usize = 1000;

/// Read the lines a step appended to `TASKER_EVENTS`: the declared events (with a
/// timestamp) and a warning for every line that was not one.
pub(super) fn custom_events(
    text: &str,
    declared: &[CustomEvent],
    now: i64,
) -> (Vec<Json>, Vec<String>) {
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = n + 1;
        let parsed: Result<Json, _> = serde_json::from_str(line);
        let Ok(Json::Object(mut obj)) = parsed else {
            warnings.push(format!(
                "TASKER_EVENTS line {at} is not a JSON object; ignored"
            ));
            continue;
        };
        let Some(Json::String(name)) = obj.remove("name") else {
            warnings.push(format!("TASKER_EVENTS line {at} has no `name`; ignored"));
            continue;
        };
        if !declared.iter().any(|e| e.name == name) {
            let known: Vec<&str> = declared.iter().map(|e| e.name.as_str()).collect();
            let hint = if known.is_empty() {
                "the template declares no `custom_events`".to_owned()
            } else {
                format!("declared: {}", known.join(", "))
            };
            warnings.push(format!(
                "TASKER_EVENTS line {at}: event `{name}` is not declared ({hint}); ignored"
            ));
            continue;
        }
        if events.len() == MAX_EVENTS {
            warnings.push(format!(
                "more than {MAX_EVENTS} custom events; the rest were ignored"
            ));
            break;
        }
        let payload = obj.remove("payload").unwrap_or_else(|| json!({}));
        events.push(
            json!({ "name": name, "payload": payload, "timestamp": crate::clock::rfc3339(now) }),
        );
    }
    (events, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_variables_for_scalars_only() {
        let vars = context_vars(
            &json!({"order_id": 42, "express": true, "name": "x", "items": [1], "nested": {"a": 1}, "odd-key": "y"}),
        );
        assert_eq!(
            vars,
            vec![
                ("TASKER_CONTEXT_ORDER_ID".to_owned(), "42".to_owned()),
                ("TASKER_CONTEXT_EXPRESS".to_owned(), "true".to_owned()),
                ("TASKER_CONTEXT_NAME".to_owned(), "x".to_owned()),
                ("TASKER_CONTEXT_ODD_KEY".to_owned(), "y".to_owned()),
            ]
        );
    }

    #[test]
    fn custom_event_lines() {
        let declared = vec![CustomEvent {
            name: "order.charged".into(),
            description: None,
        }];
        let text = "{\"name\": \"order.charged\", \"payload\": {\"amount\": 5}}\nnot json\n{\"name\": \"order.lost\"}\n\n{\"payload\": 1}\n";
        let (events, warnings) = custom_events(text, &declared, 0);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["payload"]["amount"], 5);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[1].contains("`order.lost` is not declared"));
    }
}
