//! `tasker run FILE`: create a task from a template and run it to its end.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Global;
use super::drive::{DriveArgs, drive, exit_code};
use crate::clock::now_ms;
use crate::error::Error;
use crate::insights::report::report;
use crate::limits;
use crate::render::progress::Verbosity;
use crate::store::{Created, NewTask};
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

Prints `task <id>` on stdout first (with --json on stderr: stdout is then exactly one JSON
document, the final status, whose task_id is the id); exits 0 when the task completes, 1
when it ends in error, 3 when cancelled, 130/143 when interrupted (the task can then be
resumed).")]
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
    /// Merge the template's `environments.ENV` overrides into its steps [env: TASKER_ENV; config: env]
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
    /// Check everything and print the plan by level; run nothing, write nothing
    #[arg(long, conflicts_with = "detach")]
    pub dry_run: bool,
    /// Run in the background: print `task <id>` and return at once
    #[arg(long)]
    pub detach: bool,
    /// Only create the task, for `tasker worker`s to run (a PostgreSQL store): print
    /// `task <id>` and exit 0; `tasker wait ID` follows it
    #[arg(long, conflicts_with_all = ["detach", "dry_run"])]
    pub submit: bool,
}

pub fn run(global: &Global, args: Args) -> Result<u8, Error> {
    // Everything that can be refused is checked before the store is touched.
    let config = global.config()?;
    let environment = global.environment(args.environment.as_deref());
    let options = LoadOptions {
        environment: environment.as_deref(),
        require_environment: args.environment.is_some(),
        handlers: config.handlers.as_ref(),
        strict: false,
        checking: false,
    };
    let file = resolve_template(&args.template, &args.templates.resolve(config), options)?;
    let templates::Loaded { template, source } = templates::load_file(&file, options)?;
    // Shared with the engine, not copied: a big template is most of a run's memory.
    let template = std::sync::Arc::new(template);
    if global.verbosity() != Verbosity::Quiet {
        for w in &template.warnings {
            super::say!("warning: {w}");
        }
    }
    let workdir = template_dir(&file);
    let hash = format!("{:x}", Sha256::digest(source.as_bytes()));
    let context = build_context(&template, args.context.as_deref(), &args.set)?;
    let bypass = bypass_positions(&template, &args.bypass_steps)?;
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

    if args.dry_run {
        return dry_run(&template, &context, args.drive.json);
    }
    if args.submit && !matches!(global.location()?.0, crate::store::Location::Postgres(_)) {
        return Err(Error::Usage(
            "--submit leaves the task to `tasker worker`s, which need a store they can share: a SQLite file belongs to one machine\n  hint: --db postgres://USER@HOST/DATABASE, or run it here without --submit".into(),
        ));
    }
    let outputs = args.drive.open_outputs(global)?;
    let mut store = global.open_store()?;
    let new = NewTask {
        template: &template,
        source: &source,
        content_hash: &hash,
        workdir: &workdir.display().to_string(),
        context: &context,
        initiator: args.initiator.as_deref(),
        source_system: args.source_system.as_deref(),
        reason: args.reason.as_deref(),
        tags: &args.tags,
        environment: environment.as_deref(),
        idempotency_key: idempotency_key.as_deref(),
        bypass: &bypass,
    };
    // As `Store::create_task`, keeping the first events: the run tells them as recorded.
    let opening = crate::store::domain::opening(&new)?;
    let created = store.insert_task(&new, &opening)?;
    let task_id = created.task_id();
    // The task as written, for the run to start from without reading it back.
    let written = match created {
        Created::New(_) => store.take_created(&new, &opening),
        Created::Existing(_) => None,
    };
    if let (Created::Existing(id), true) = (&created, args.submit) {
        // Submitting again is asking for the same task: its id, as the first time.
        super::announce(global, *id, args.drive.json);
        return Ok(crate::error::exit::OK);
    }
    if let Created::Existing(id) = created {
        // Loaded only here: a new task is loaded by the run itself.
        let task = store
            .task(task_id)?
            .ok_or_else(|| Error::NotFound(format!("task {task_id} not found")))?;
        if !task.status.is_final() {
            return Err(Error::Refused(format!(
                "task {id} has the same idempotency key and has not finished (it is `{}`)\n  hint: `tasker status {id}`",
                task.status
            )));
        }
        super::announce(global, id, args.drive.json);
        if global.verbosity() != Verbosity::Quiet {
            super::say!(
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
    super::announce(global, task_id, args.drive.json);
    if args.submit {
        let options = crate::engine::Options {
            traceparent: std::env::var("TRACEPARENT").ok().filter(|v| !v.is_empty()),
            ..crate::engine::Options::default()
        };
        crate::engine::submit(&mut *store, task_id, &template, &options).map_err(|e| match e {
            crate::engine::RunError::Store(s) => Error::Store(s),
            other => Error::Io(other.to_string()),
        })?;
        return Ok(crate::error::exit::OK);
    }
    if args.detach {
        return detach(global, task_id, &args.drive);
    }
    // A new task: its first events, numbered as the store numbered them.
    let recorded: Vec<crate::model::Event> = opening
        .events
        .into_iter()
        .zip(1..)
        .map(|(mut e, seq)| {
            e.task_id = task_id;
            e.seq = seq;
            e
        })
        .collect();
    drive(
        global,
        &mut *store,
        task_id,
        template,
        &args.drive,
        outputs,
        super::drive::Replay::Created {
            events: recorded,
            task: written.map(Box::new),
        },
    )
}

/// Print what a run would do, level by level; exit 2 when a step would fail on a missing
/// value.
fn dry_run(
    template: &templates::Template,
    context: &serde_json::Value,
    json: bool,
) -> Result<u8, Error> {
    let plan = crate::engine::plan::plan(template, context);
    if json {
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        ));
    } else {
        let steps: usize = plan.levels.iter().map(Vec::len).sum();
        let mut out = format!(
            "plan of {} ({}, {}); nothing was run or written\n",
            plan.template,
            crate::render::count(steps, "step"),
            crate::render::count(plan.levels.len(), "level")
        );
        for (i, level) in plan.levels.iter().enumerate() {
            out.push_str(&format!("level {}\n", i + 1));
            for s in level {
                let action = match &s.problem {
                    Some(p) => format!("would fail: {p}"),
                    // A multi-line command stays readable: its lines line up under the first.
                    None => format!(
                        "{} {}",
                        s.kind,
                        s.action.trim_end().replace('\n', "\n      ")
                    ),
                };
                out.push_str(&format!("  {}: {action}\n", s.name));
                for v in &s.values {
                    out.push_str(&format!(
                        "      {}={}\n",
                        v.name,
                        crate::text::printable(&v.value)
                    ));
                }
                if !s.handler_config.is_null() {
                    out.push_str(&format!(
                        "      handler_config {}\n",
                        crate::text::printable(&s.handler_config.to_string())
                    ));
                }
            }
        }
        super::emit(&out);
    }
    for w in &plan.warnings {
        super::say!("warning: {w}");
    }
    let problems: Vec<String> = plan
        .problems()
        .map(|(step, p)| format!("step `{step}`: {p}"))
        .collect();
    if problems.is_empty() {
        Ok(crate::error::exit::OK)
    } else {
        Err(Error::Invalid(problems))
    }
}

/// Hand the run to a `tasker resume` in a session of its own and return.
fn detach(global: &Global, task_id: i64, drive: &DriveArgs) -> Result<u8, Error> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Io(format!("cannot find the tasker binary to detach: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    match global.db_file() {
        Some(db) => {
            cmd.arg("--db").arg(db);
        }
        // A URL may hold a password: it goes in the environment, never on a command line
        // other users can read.
        None => {
            if let Some(given) = global.db.as_ref().or(global.config.db.as_ref()) {
                cmd.env("TASKER_DB", given);
            }
        }
    }
    cmd.arg("-q").arg("resume").arg(task_id.to_string());
    if let Some(n) = drive.concurrency {
        cmd.arg("--concurrency").arg(n.to_string());
    }
    if drive.fail_fast {
        cmd.arg("--fail-fast");
    }
    if let Some(g) = drive.kill_grace {
        cmd.arg("--kill-grace").arg(format!("{}ms", g.as_millis()));
    }
    if let Some(t) = drive.trace {
        cmd.arg("--trace").arg(format!("{t:?}").to_lowercase());
    }
    for (flag, path) in [
        ("--summary-json", &drive.summary_json),
        ("--events-out", &drive.events_out),
    ] {
        if let Some(p) = path {
            cmd.arg(flag)
                .arg(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
        }
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    crate::handlers::detach_session(&mut cmd);
    cmd.spawn()
        .map_err(|e| Error::Io(format!("cannot start the background runner: {e}")))?;
    if global.verbosity() != Verbosity::Quiet {
        super::say!(
            "task {task_id} runs in the background: `tasker status {task_id}`, `tasker events log {task_id} --follow`"
        );
    }
    if drive.json {
        super::emit(&format!(
            "{}\n",
            serde_json::json!({"task_id": task_id, "status": "pending"})
        ));
    }
    Ok(crate::error::exit::OK)
}

/// Where the template directories are.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateDirs {
    /// Directories holding templates by name [env: TASKER_TEMPLATES, `:`-separated; default: ./workflows]
    #[arg(long = "templates", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

impl TemplateDirs {
    /// `--templates`, else `TASKER_TEMPLATES`, else the config file's, else `./workflows`.
    pub fn resolve(&self, config: &crate::config::Config) -> Vec<PathBuf> {
        if !self.dirs.is_empty() {
            return self.dirs.clone();
        }
        match std::env::var("TASKER_TEMPLATES") {
            Ok(v) if !v.is_empty() => std::env::split_paths(&v).collect(),
            _ => config
                .templates
                .clone()
                .unwrap_or_else(|| vec![PathBuf::from("workflows")]),
        }
    }
}

/// A file path as it is; otherwise a template name looked up in the template directories.
fn resolve_template(
    spec: &str,
    dirs: &[PathBuf],
    options: LoadOptions<'_>,
) -> Result<PathBuf, Error> {
    let path = PathBuf::from(spec);
    let looks_like_file = path.exists()
        || spec.ends_with(".yml")
        || spec.ends_with(".yaml")
        || spec.ends_with(".json")
        || spec.starts_with('.')
        || spec.starts_with('/');
    if looks_like_file {
        return Ok(path);
    }
    // Found by name as `templates list` lists it; loading it for the run then says what is
    // wrong with it (an unmapped handler class, with the block to add).
    let catalog = Catalog::scan(
        dirs,
        LoadOptions {
            checking: true,
            ..options
        },
    );
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
                let too_big = || {
                    Error::Usage(format!(
                        "the context file `{file}` is bigger than {}, the most a context may be\n  hint: a task's context is for parameters; put data in files and pass their paths",
                        limits::size(limits::CONTEXT)
                    ))
                };
                let bytes = match limits::read(std::path::Path::new(file), limits::CONTEXT) {
                    Ok(limits::Bounded::All(bytes)) => bytes,
                    Ok(limits::Bounded::TooBig(_)) => return Err(too_big()),
                    Err(e) => {
                        return Err(Error::Usage(format!(
                            "cannot read the context file `{file}`: {e}"
                        )));
                    }
                };
                let text = String::from_utf8(bytes).map_err(|_| {
                    Error::Usage(format!("the context file `{file}` is not UTF-8 text"))
                })?;
                context::parse_context(&text, &format!("in `{file}`")).map_err(Error::Usage)?
            }
            None if arg.len() as u64 > limits::CONTEXT => {
                return Err(Error::Usage(format!(
                    "the context given with --context is bigger than {}, the most a context may be",
                    limits::size(limits::CONTEXT)
                )));
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
