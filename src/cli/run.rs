//! `tasker run FILE`: create a task from a template and run it to its end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use super::Global;
use crate::clock::now_ms;
use crate::engine::{self, report::report, state::State};
use crate::error::{Error, exit};
use crate::render::{color, progress::Lines, progress::Verbosity};
use crate::store::{Created, NewTask, Store};
use crate::templates::catalog::{Catalog, Lookup};
use crate::templates::{self, LoadOptions, context, duration};

/// Run a template: create a task, run its steps with retries, keep every state change
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker run workflows/order_fulfillment.yml
  tasker run ecommerce/order_fulfillment@1.0.0 --context '{\"order_id\": 42}'
  tasker run pipeline.yml --set date=2026-11-27 --set retries.max=3 --env staging
  tasker run pipeline.yml --idempotency-key nightly-2026-11-27
  tasker run pipeline.yml --concurrency 8 --fail-fast --json | jq .execution

Prints `task <id>` on stdout first; exits 0 when the task completes, 1 when it ends in
error, 3 when cancelled, 130/143 when interrupted (the task can then be resumed).")]
pub struct Args {
    /// A template file, or a template name: NAMESPACE/NAME[@VERSION]
    #[arg(value_name = "FILE|NAME")]
    pub template: String,
    /// The task context: a JSON object, or @FILE holding one
    #[arg(long, value_name = "JSON|@FILE")]
    pub context: Option<String>,
    /// Set one context value (KEY.PATH=VALUE; VALUE is JSON when it parses, else text); repeatable
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Merge the template's `environments.ENV` overrides into its steps
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    #[command(flatten)]
    pub templates: TemplateDirs,
    /// Steps running at once [default: the template's max_parallel, else the CPU count]
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: Option<u32>,
    /// Stop starting steps once one has failed for good
    #[arg(long)]
    pub fail_fast: bool,
    /// Print the final status document as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Time between SIGTERM and SIGKILL when a step is stopped
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub kill_grace: Duration,
    /// A second run with the same template and key returns the first task instead
    #[arg(long, value_name = "KEY", conflicts_with = "dedup")]
    pub idempotency_key: Option<String>,
    /// Derive the idempotency key: `hash` = the template identity and the context
    #[arg(long, value_name = "hash", value_parser = ["hash"])]
    pub dedup: Option<String>,
    /// Skippable steps to mark resolved without running (comma-separated)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub bypass_steps: Vec<String>,
    /// Who or what started the task (stored and shown by `status`)
    #[arg(long, value_name = "S")]
    pub initiator: Option<String>,
    /// The system the task came from (stored and shown by `status`)
    #[arg(long, value_name = "S")]
    pub source_system: Option<String>,
    /// Why the task runs (stored and shown by `status`)
    #[arg(long, value_name = "S")]
    pub reason: Option<String>,
    /// A tag for the task (repeatable)
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

pub fn run(global: &Global, args: Args) -> Result<u8, Error> {
    // Everything that can be refused is checked before the store is touched.
    let config = global.config()?;
    let options = LoadOptions {
        environment: args.environment.as_deref(),
        handlers: config.handlers.as_ref(),
    };
    let file = resolve_template(&args.template, &args.templates, options)?;
    let loaded = templates::load_file(&file, options)?;
    let template = &loaded.template;
    let workdir = template_dir(&file);
    let hash = format!("{:x}", Sha256::digest(loaded.source.as_bytes()));
    let context = build_context(template, args.context.as_deref(), &args.set)?;
    let bypass = bypass_positions(template, &args.bypass_steps)?;
    let dedup_key = args.dedup.as_ref().map(|_| {
        let identity = format!(
            "{}/{}@{}",
            template.namespace, template.name, template.version
        );
        let canonical = canonical(&context).to_string();
        format!(
            "hash:{:x}",
            Sha256::digest(format!("{identity}\n{canonical}").as_bytes())
        )
    });
    let idempotency_key = args.idempotency_key.clone().or(dedup_key);

    let mut store = global.open_store()?;
    let created = store.create_task(&NewTask {
        template,
        source: &loaded.source,
        content_hash: &hash,
        workdir: &workdir.display().to_string(),
        context: &context,
        initiator: args.initiator.as_deref(),
        source_system: args.source_system.as_deref(),
        reason: args.reason.as_deref(),
        tags: &args.tags,
        environment: args.environment.as_deref(),
        idempotency_key: idempotency_key.as_deref(),
        bypass: &bypass,
    })?;
    let task_id = created.task_id();
    let task = store
        .task(task_id)?
        .ok_or_else(|| Error::NotFound(format!("task {task_id} not found")))?;
    if let Created::Existing(id) = created {
        if !task.status.is_final() {
            return Err(Error::Refused(format!(
                "task {id} has the same idempotency key and has not finished (it is `{}`)\n  hint: `tasker status {id}`",
                task.status
            )));
        }
        super::emit(&format!("task {id}\n"));
        if global.verbosity() != Verbosity::Quiet {
            eprintln!(
                "task {id} already exists with this idempotency key; it is {}",
                task.status
            );
        }
        if args.json {
            let doc = report(&task, now_ms());
            super::emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            ));
        }
        return Ok(exit_code(task.status));
    }
    super::emit(&format!("task {task_id}\n"));

    let run_options = engine::Options {
        concurrency: args.concurrency.map(|n| n as usize),
        fail_fast: args.fail_fast,
        kill_grace: args.kill_grace,
        ..engine::Options::default()
    };
    let verbosity = global.verbosity();
    let color_on = color::enabled(global.color_choice(), true);
    let mut lines = Lines {
        verbosity,
        color: color_on,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    let finish = runtime.block_on(async {
        let (stop_tx, stop_rx) = watch::channel(None);
        let mut sigint = signal(SignalKind::interrupt()).ok();
        let mut sigterm = signal(SignalKind::terminate()).ok();
        tokio::spawn(async move {
            let sig = tokio::select! {
                Some(()) = recv(&mut sigint) => libc::SIGINT,
                Some(()) = recv(&mut sigterm) => libc::SIGTERM,
            };
            let _ = stop_tx.send(Some(sig));
        });
        engine::run(
            &mut store,
            &task,
            template,
            &run_options,
            &mut lines,
            stop_rx,
        )
        .await
    })?;
    runtime.shutdown_timeout(Duration::from_millis(100));

    let record = store
        .task(task_id)?
        .ok_or_else(|| Error::NotFound(format!("task {task_id} not found")))?;
    let doc = report(&record, now_ms());
    if verbosity != Verbosity::Quiet {
        let took = doc
            .duration_ms
            .map(|m| duration::human(Duration::from_millis(m)))
            .unwrap_or_default();
        let flaky: Vec<&str> = doc
            .steps
            .iter()
            .filter(|s| s.flaky)
            .map(|s| s.name.as_str())
            .collect();
        let retries: u32 = doc.steps.iter().map(|s| s.attempts.saturating_sub(1)).sum();
        let mut line = format!(
            "task {} {} in {took}: {}/{} steps complete",
            record.task_id,
            color::paint(color_on, record.status, record.status.as_str()),
            doc.execution.completed_steps,
            doc.execution.total_steps,
        );
        if doc.execution.failed_steps > 0 {
            line.push_str(&format!(", {} failed", doc.execution.failed_steps));
        }
        if retries > 0 {
            line.push_str(&format!(", {retries} retries"));
        }
        if !flaky.is_empty() {
            line.push_str(&format!(", flaky: {}", flaky.join(", ")));
        }
        if let Some(sig) = finish.interrupted {
            line = format!(
                "task {} interrupted by signal {sig}; resume it with `tasker resume {}`",
                record.task_id, record.task_id
            );
        }
        eprintln!("{line}");
    }
    if args.json {
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    }
    Ok(match finish.interrupted {
        Some(sig) => 128 + sig as u8,
        None => exit_code(finish.state),
    })
}

/// The exit code a task's final state means.
fn exit_code(state: State) -> u8 {
    match state {
        State::Complete | State::ResolvedManually => exit::OK,
        State::Cancelled => exit::CANCELLED,
        _ => exit::TASK_ERROR,
    }
}

/// Where the template directories are.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateDirs {
    /// Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]
    #[arg(long = "templates", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

impl TemplateDirs {
    pub fn resolve(&self) -> Vec<PathBuf> {
        if !self.dirs.is_empty() {
            return self.dirs.clone();
        }
        match std::env::var("TASKER_TEMPLATES") {
            Ok(v) if !v.is_empty() => std::env::split_paths(&v).collect(),
            _ => vec![PathBuf::from("workflows")],
        }
    }
}

/// A file path as it is; otherwise a template name looked up in the template directories.
fn resolve_template(
    spec: &str,
    dirs: &TemplateDirs,
    options: LoadOptions<'_>,
) -> Result<PathBuf, Error> {
    let path = PathBuf::from(spec);
    let looks_like_file = path.exists()
        || spec.ends_with(".yml")
        || spec.ends_with(".yaml")
        || spec.starts_with('.')
        || spec.starts_with('/');
    if looks_like_file {
        return Ok(path);
    }
    let catalog = Catalog::scan(&dirs.resolve(), options);
    match catalog.find(spec) {
        Ok(entry) => Ok(entry.path.clone()),
        Err(Lookup::NotFound(message)) => Err(Error::NotFound(message)),
        Err(Lookup::Ambiguous(message)) => Err(Error::Usage(message)),
    }
}

/// The context from `--context` and `--set`, completed and checked against the schema.
fn build_context(
    template: &templates::Template,
    context: Option<&str>,
    sets: &[String],
) -> Result<serde_json::Value, Error> {
    let mut value = match context {
        None => serde_json::json!({}),
        Some(arg) => match arg.strip_prefix('@') {
            Some(file) => {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    Error::Usage(format!("cannot read the context file `{file}`: {e}"))
                })?;
                context::parse_context(&text, &format!("in `{file}`")).map_err(Error::Usage)?
            }
            None => context::parse_context(arg, "given with --context").map_err(Error::Usage)?,
        },
    };
    for s in sets {
        context::set(&mut value, s).map_err(Error::Usage)?;
    }
    context::prepare(template, value).map_err(Error::Invalid)
}

/// Positions of the `--bypass-steps`, each of which must exist and be `skippable`.
fn bypass_positions(template: &templates::Template, names: &[String]) -> Result<Vec<usize>, Error> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for name in names.iter().filter(|n| !n.is_empty()) {
        match template.step_index(name) {
            None => {
                let known: Vec<&str> = template.steps.iter().map(|s| s.name.as_str()).collect();
                let hint = templates::closest(name, known.iter().copied())
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| format!("steps: {}", known.join(", ")));
                problems.push(format!("--bypass-steps: unknown step `{name}`\n  hint: {hint}"));
            }
            Some(i) if !template.steps[i].skippable => problems.push(format!(
                "--bypass-steps: step `{name}` is not `skippable`\n  hint: mark it `skippable: true` in the template to allow bypassing it"
            )),
            Some(i) => out.push(i),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(problems))
    }
}

/// JSON with object keys sorted, so equal contexts hash equally.
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            serde_json::Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(canonical).collect())
        }
        other => other.clone(),
    }
}

async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// The directory steps run in: the template's own, made absolute.
fn template_dir(file: &Path) -> PathBuf {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned())
}
