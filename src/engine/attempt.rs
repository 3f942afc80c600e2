//! One attempt's files and what it is given: the input document, the environment, the
//! resolved action; and, when it ends, the events it declared and the files it leaves.
//! Shared by the foreground runner and the worker.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;
use tokio::sync::watch;

use super::Options;
use super::inputs::{self, RunScope};
use super::scheduler::Scheduler;
use crate::handlers::{self, Request};
use crate::model::FailureClass;
use crate::templates::{Action, Template, interpolate};
use crate::text::decimal;

/// Where an attempt's files go: its output, live output and events in `scratch`, its input
/// document in `inputs` (which may be the same directory).
pub(super) struct Place<'a> {
    pub scratch: &'a Path,
    pub inputs: &'a Path,
}

/// Everything attempt `attempt` of step `i` needs: resolved references, its
/// environment, its input document on disk.
pub(super) fn prepare(
    sched: &Scheduler,
    i: usize,
    attempt: u32,
    abort: watch::Receiver<handlers::Abort>,
    options: &Options,
    place: &Place<'_>,
    spawned: Option<handlers::Spawned>,
) -> Result<Request, handlers::Failure> {
    let step = &sched.template.steps[i];
    let task = &sched.task;
    let base = place.scratch.join(file_name(i, attempt, ""));
    let output_path = base.with_extension("json");
    let mut request = Request {
        task_id: task.task_id,
        task_name: task.name.clone(),
        namespace: task.namespace.clone(),
        step_name: step.name.clone(),
        attempt,
        action: Action::Noop,
        input: Arc::default(),
        retry: step.retry.clone(),
        env: Vec::new(),
        cwd: match &step.cwd {
            Some(c) => PathBuf::from(&task.workdir).join(c),
            None => PathBuf::from(&task.workdir),
        },
        timeout: step.timeout,
        kill_grace: options.kill_grace,
        output_limit: options.output_limit,
        output_path: output_path.clone(),
        live_output: Some(base.clone()),
        echo: options.echo.clone(),
        spawned,
        abort,
    };
    let results = |j: usize| sched.steps[j].state.results.as_ref();
    let interpolation = |e: String| handlers::Failure::permanent(FailureClass::Interpolation, e);
    let raw: Vec<(String, String)> = sched
        .template
        .env
        .iter()
        .chain(&step.env)
        .cloned()
        .collect();
    let scope = RunScope {
        task,
        index: &sched.index,
        results: &results,
        env: &raw,
    };
    let mut env = raw
        .iter()
        .map(|(k, v)| Ok((k.clone(), interpolate::render(v, &scope)?)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(interpolation)?;
    let scope = RunScope { env: &env, ..scope };
    let (action, vars) = inputs::resolve_action(&step.action, &scope).map_err(interpolation)?;
    request.action = action;

    let input = inputs::input_document(task, &sched.template, i, attempt, &|j| {
        sched.steps[j].state.results.as_ref()
    });
    let input_path = place.inputs.join(file_name(i, attempt, ".input.json"));
    std::fs::write(&input_path, &input).map_err(|e| {
        handlers::Failure::retryable(
            FailureClass::Spawn,
            format!("cannot write TASKER_INPUT: {e}"),
        )
    })?;
    request.input = Arc::new(input);
    env.extend(inputs::context_vars(&task.context));
    let traceparent = sched.steps[i]
        .attempt_span
        .map(|span| sched.trace.traceparent(span))
        .unwrap_or_default();
    env.extend([
        ("TASKER_TASK_ID".to_owned(), task.task_id.to_string()),
        ("TASKER_TASK_UUID".to_owned(), task.uuid.clone()),
        ("TASKER_TASK_NAME".to_owned(), task.name.clone()),
        ("TASKER_NAMESPACE".to_owned(), task.namespace.clone()),
        ("TASKER_STEP_NAME".to_owned(), step.name.clone()),
        ("TASKER_ATTEMPT".to_owned(), decimal(attempt.into())),
        (
            "TASKER_RETRY_LIMIT".to_owned(),
            decimal(step.retry.limit.into()),
        ),
        ("TASKER_INPUT".to_owned(), text_of(&input_path)),
        ("TASKER_OUTPUT".to_owned(), text_of(&output_path)),
        (
            "TASKER_EVENTS".to_owned(),
            text_of(&base.with_extension("events")),
        ),
        ("TRACEPARENT".to_owned(), traceparent),
    ]);
    env.extend(vars);
    request.env = env;
    Ok(request)
}

/// The name of step `i`'s attempt `attempt`'s file with `suffix`: `I-ATTEMPT` + `suffix`.
fn file_name(i: usize, attempt: u32, suffix: &str) -> String {
    let mut name = decimal(i as u64);
    name.push('-');
    crate::text::push_decimal(&mut name, attempt.into());
    name.push_str(suffix);
    name
}

/// A path as text, as `display()` shows it, without going through `fmt`.
fn text_of(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

impl Place<'_> {
    /// The declared events an attempt appended to `TASKER_EVENTS` (each also enters the
    /// event log); warnings for the rest. `printed`: whether its process wrote anything to
    /// stdout or stderr (a live copy of its output exists only then).
    pub(super) fn collect(
        &self,
        template: &Template,
        i: usize,
        attempt: u32,
        now: i64,
        printed: bool,
    ) -> (Vec<Json>, Vec<String>) {
        let mut warnings_out = Vec::new();
        let path = self.scratch.join(file_name(i, attempt, ".events"));
        let (bytes, cut) = match crate::limits::read(&path, crate::limits::EVENTS) {
            Ok(crate::limits::Bounded::All(bytes)) => (bytes, false),
            Ok(crate::limits::Bounded::TooBig(mut bytes)) => {
                // Only whole lines count.
                let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                bytes.truncate(end);
                (bytes, true)
            }
            Err(e) => {
                // No events file: nothing to remove of it.
                let events = e.kind() != std::io::ErrorKind::NotFound;
                self.clean(i, attempt, printed, events);
                return (Vec::new(), warnings_out);
            }
        };
        let _ = std::fs::remove_file(&path);
        if cut {
            let step = &template.steps[i].name;
            warnings_out.push(format!(
                "step `{step}`: TASKER_EVENTS holds more than {}; the rest was ignored",
                crate::limits::size(crate::limits::EVENTS)
            ));
        }
        let (mut events, warnings) = inputs::custom_events(
            &String::from_utf8_lossy(&bytes),
            &template.custom_events,
            now,
        );
        let step = template.steps[i].name.clone();
        warnings_out.extend(warnings.into_iter().map(|w| format!("step `{step}`: {w}")));
        // Kept and shown: secret-looking keys of a payload are masked.
        for e in &mut events {
            if let Some(payload) = e.get_mut("payload") {
                *payload = crate::secrets::mask(payload);
            }
        }
        self.clean(i, attempt, printed, false);
        (events, warnings_out)
    }

    /// Remove what attempt `attempt` of step `i` left: its input document, its live output
    /// (when it `printed`), its events file (when there may be one). A quiet step's clean-up
    /// is then one `unlink`, not four of which three fail.
    fn clean(&self, i: usize, attempt: u32, printed: bool, events: bool) {
        let _ = std::fs::remove_file(self.inputs.join(file_name(i, attempt, ".input.json")));
        let output: &[&str] = if printed { &["stdout", "stderr"] } else { &[] };
        for ext in output.iter().chain(events.then_some(&"events")) {
            let _ = std::fs::remove_file(self.scratch.join(format!("{i}-{attempt}.{ext}")));
        }
    }
}
