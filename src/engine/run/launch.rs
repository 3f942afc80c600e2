//! Launching an attempt's process: what it is given (resolved references, its
//! environment, its input document on disk), and reading back what it wrote when it ends.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value as Json;
use tokio::sync::watch;

use super::{Done, RECORD_PROCESS_WITHIN, Run};
use crate::engine::inputs::{self, RunScope};
use crate::handlers::{self, Outcome, Request};
use crate::model::FailureClass;
use crate::templates::{Action, interpolate};

impl Run<'_> {
    /// Run the process (or request) of step `i`, which the scheduler launched.
    pub(super) fn spawn(&mut self, i: usize) {
        let attempt = self.sched.steps[i].state.attempts;
        let (abort_tx, abort_rx) = watch::channel(handlers::Abort::None);
        self.procs[i].abort = Some(abort_tx);
        let request = match self.prepare(i, attempt, abort_rx) {
            Ok(request) => request,
            Err(failure) => {
                // Nothing ran: report the attempt as failed through the usual path.
                let _ = self.done_tx.send(Done {
                    index: i,
                    attempt,
                    outcome: Outcome::failed(failure),
                });
                return;
            }
        };
        if self.is_process(i) {
            // Its process is recorded with the next commit, or within a bound.
            self.procs[i].unrecorded = true;
            self.unrecorded += 1;
            self.pids_due
                .get_or_insert_with(|| tokio::time::Instant::now() + RECORD_PROCESS_WITHIN);
        }
        let handler = Arc::clone(&self.procs[i].handler);
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let outcome = handler.execute(request).await;
            let _ = tx.send(Done {
                index: i,
                attempt,
                outcome,
            });
        });
    }

    /// Step `i` runs a process (a command or a plugin): only processes are given files
    /// (input, live output, events).
    fn is_process(&self, i: usize) -> bool {
        matches!(
            self.sched.template.steps[i].action,
            Action::Command(_) | Action::Plugin(_)
        )
    }

    /// Everything attempt `attempt` of step `i` needs: resolved references, its
    /// environment, its input document on disk.
    fn prepare(
        &self,
        i: usize,
        attempt: u32,
        abort: watch::Receiver<handlers::Abort>,
    ) -> Result<Request, handlers::Failure> {
        let step = &self.sched.template.steps[i];
        let task = &self.sched.task;
        let base = self.scratch.join(format!("{i}-{attempt}"));
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
            kill_grace: self.options.kill_grace,
            output_limit: self.options.output_limit,
            output_path: output_path.clone(),
            live_output: Some(base.clone()),
            echo: self.options.echo.clone(),
            spawned: Some(handlers::Spawned {
                slot: Arc::clone(&self.spawned),
                index: i,
                attempt,
            }),
            abort,
        };
        let results = |j: usize| self.sched.steps[j].state.results.as_ref();
        let interpolation =
            |e: String| handlers::Failure::permanent(FailureClass::Interpolation, e);
        let raw: Vec<(String, String)> = self
            .sched
            .template
            .env
            .iter()
            .chain(&step.env)
            .cloned()
            .collect();
        let scope = RunScope {
            task,
            index: &self.sched.index,
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

        let input = inputs::input_document(task, self.sched.template, i, attempt, &|j| {
            self.sched.steps[j].state.results.clone()
        });
        let input = serde_json::to_vec(&input).unwrap_or_default();
        let input_path = self.inputs.join(format!("{i}-{attempt}.input.json"));
        std::fs::write(&input_path, &input).map_err(|e| {
            handlers::Failure::retryable(
                FailureClass::Spawn,
                format!("cannot write TASKER_INPUT: {e}"),
            )
        })?;
        request.input = Arc::new(input);
        env.extend(inputs::context_vars(&task.context));
        let traceparent = self.sched.steps[i]
            .attempt_span
            .map(|span| self.sched.trace.traceparent(span))
            .unwrap_or_default();
        env.extend([
            ("TASKER_TASK_ID".to_owned(), task.task_id.to_string()),
            ("TASKER_TASK_UUID".to_owned(), task.uuid.clone()),
            ("TASKER_TASK_NAME".to_owned(), task.name.clone()),
            ("TASKER_NAMESPACE".to_owned(), task.namespace.clone()),
            ("TASKER_STEP_NAME".to_owned(), step.name.clone()),
            ("TASKER_ATTEMPT".to_owned(), attempt.to_string()),
            (
                "TASKER_RETRY_LIMIT".to_owned(),
                step.retry.limit.to_string(),
            ),
            ("TASKER_INPUT".to_owned(), input_path.display().to_string()),
            (
                "TASKER_OUTPUT".to_owned(),
                output_path.display().to_string(),
            ),
            (
                "TASKER_EVENTS".to_owned(),
                base.with_extension("events").display().to_string(),
            ),
            ("TRACEPARENT".to_owned(), traceparent),
        ]);
        env.extend(vars);
        request.env = env;
        Ok(request)
    }

    /// An attempt ended: read what its process left (declared events, files to remove),
    /// then let the scheduler record it.
    pub(super) fn finished(&mut self, done: Done) {
        let (i, attempt) = (done.index, done.attempt);
        if std::mem::take(&mut self.procs[i].unrecorded) {
            // Its process never started: there is nothing to record.
            self.unrecorded -= 1;
        }
        self.procs[i].abort = None;
        let custom = if self.is_process(i) {
            let events = self.collect_events(i, attempt);
            let _ = std::fs::remove_file(self.inputs.join(format!("{i}-{attempt}.input.json")));
            for ext in ["stdout", "stderr"] {
                let _ = std::fs::remove_file(self.scratch.join(format!("{i}-{attempt}.{ext}")));
            }
            events
        } else {
            Vec::new()
        };
        self.sched.finished(done, custom);
    }

    /// The declared events an attempt appended to `TASKER_EVENTS` (each also enters the
    /// event log); warnings for the rest.
    fn collect_events(&mut self, i: usize, attempt: u32) -> Vec<Json> {
        let now = self.sched.now();
        let path = self.scratch.join(format!("{i}-{attempt}.events"));
        let (bytes, cut) = match crate::limits::read(&path, crate::limits::EVENTS) {
            Ok(crate::limits::Bounded::All(bytes)) => (bytes, false),
            Ok(crate::limits::Bounded::TooBig(mut bytes)) => {
                // Only whole lines count.
                let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                bytes.truncate(end);
                (bytes, true)
            }
            Err(_) => return Vec::new(),
        };
        let _ = std::fs::remove_file(&path);
        if cut {
            let step = &self.sched.template.steps[i].name;
            self.warnings.push(format!(
                "step `{step}`: TASKER_EVENTS holds more than {}; the rest was ignored",
                crate::limits::size(crate::limits::EVENTS)
            ));
        }
        let (mut events, warnings) = inputs::custom_events(
            &String::from_utf8_lossy(&bytes),
            &self.sched.template.custom_events,
            now,
        );
        let step = self.sched.template.steps[i].name.clone();
        self.warnings
            .extend(warnings.into_iter().map(|w| format!("step `{step}`: {w}")));
        // Kept and shown: secret-looking keys of a payload are masked.
        for e in &mut events {
            if let Some(payload) = e.get_mut("payload") {
                *payload = crate::secrets::mask(payload);
            }
        }
        events
    }
}
