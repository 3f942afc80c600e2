//! `tasker run FILE`: create a task from a template and run it to its end.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Global;
use super::drive::{DriveArgs, drive, exit_code};
use crate::clock::now_ms;
use crate::engine::report::report;
use crate::error::Error;
use crate::render::progress::Verbosity;
use crate::store::{Created, NewTask, Store};
use crate::templates::catalog::{Catalog, Lookup};
use crate::templates::{self, LoadOptions, context};

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
    #[command(flatten)]
    pub drive: DriveArgs,
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

pub fn run(global: &Global, args: Args) -> Result<u8, Error> {
    // Everything that can be refused is checked before the store is touched.
    let outputs = args.drive.open_outputs()?;
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
        if args.drive.json {
            let doc = report(&task, now_ms());
            super::emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            ));
        }
        return Ok(exit_code(task.status));
    }
    super::emit(&format!("task {task_id}\n"));

    drive(
        global,
        &mut store,
        task_id,
        template,
        &args.drive,
        outputs,
        0,
    )
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

/// The directory steps run in: the template's own, made absolute.
fn template_dir(file: &Path) -> PathBuf {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned())
}
