//! The command line: one module per subcommand, each with its `Args` and `run()`.

/// `eprintln!` that never panics: a closed or broken stderr must not stop a run.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
pub(crate) use say;

/// `eprint!` that never panics.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr().lock(), $($arg)*);
    }};
}
pub(crate) use say_raw;

pub mod annotate;
pub mod cancel;
pub mod completions;
pub mod config;
pub mod db;
pub mod diagram;
pub mod drive;
pub mod events;
pub mod insights;
pub mod logs;
pub mod new;
mod outputs;
pub mod resolve;
pub mod resume;
pub mod retry;
pub mod run;
pub mod status;
pub mod tasks;
pub mod templates;
pub mod validate;
pub mod wait;
pub mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::Error;
use crate::model::State;
use crate::render::color::ColorChoice;
use crate::render::progress::Verbosity;
use crate::runner::owner;
use crate::store::TaskRecord;
use crate::store::{self, Backend, Location, default_path};
use crate::templates::TemplateError;
use crate::templates::{LoadOptions, Template};

const EXAMPLES: &str = "\
Examples:
  tasker run workflows/order_fulfillment.yml     run a template, keeping every state change
  tasker validate workflows/*.yml                check templates and print their graphs
  tasker status 42                               see where task 42 stands
  tasker tasks list --status error               tasks that need an operator

Exit codes: 0 complete, 1 task error, 2 usage or invalid template, 3 cancelled,
4 not found, 5 refused, 6 store error, 7 I/O failure, 130/143 interrupted.";

/// A single-binary workflow runner: YAML templates, durable SQLite state, retries.
#[derive(Debug, Parser)]
#[command(
    name = "tasker",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("TASKER_GIT_REV"), ")"),
    about,
    after_help = EXAMPLES,
    override_usage = "tasker [OPTIONS] <COMMAND>",
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// Without one, the help is printed (clap's "requires a subcommand" would list the
    /// hidden ones too).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every subcommand takes.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// The config file [default: $TASKER_CONFIG, else the nearest tasker.toml upwards, else $XDG_CONFIG_HOME/tasker/config.toml]
    #[arg(long = "config", global = true, value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// The store: a SQLite file (PATH, sqlite:PATH) or a PostgreSQL URL (postgres://USER@HOST/DATABASE) [default: $XDG_DATA_HOME/tasker/tasker.db]
    #[arg(
        long,
        global = true,
        env = "TASKER_DB",
        hide_env_values = true,
        value_name = "PATH|URL"
    )]
    pub db: Option<PathBuf>,
    /// Colour in tables and progress lines, honouring NO_COLOR and CLICOLOR_FORCE [default: auto]
    #[arg(
        long,
        global = true,
        value_enum,
        env = "TASKER_COLOR",
        value_name = "WHEN"
    )]
    pub color: Option<Color>,
    /// Print more: every step start and completion
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing on stderr but errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Diagnostic log lines on stderr as text or as JSON objects; TASKER_LOG sets the filter [default: text]
    #[arg(
        long,
        global = true,
        value_enum,
        env = "TASKER_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub log_format: Option<LogFormat>,
    /// The config file's contents (loaded once, before the command runs).
    #[arg(skip)]
    pub config: crate::config::Config,
    /// Global options given on the command line (not by a variable), for `config show`.
    #[arg(skip)]
    pub from_flags: Vec<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Diagnostics (`tracing`) to stderr: warnings by default, more with `-v`, errors only with
/// `-q`; `TASKER_LOG` takes a filter such as `tasker=debug`.
fn init_logs(global: &Global) {
    use tracing_subscriber::EnvFilter;
    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter = std::env::var("TASKER_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // Colours only where they are wanted; a broken stderr is not worth a panic.
        .with_ansi(crate::render::color::enabled(global.color_choice(), true))
        .log_internal_errors(false);
    let _ = match global.log_format() {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Run(Box<run::Args>),
    Validate(validate::Args),
    Status(status::Args),
    Resume(resume::Args),
    Retry(retry::Args),
    Cancel(cancel::Args),
    Resolve(resolve::Args),
    Annotate(annotate::Args),
    Logs(logs::Args),
    Worker(worker::Args),
    Wait(wait::Args),
    /// The event catalog (`events list`), and a task's event history (`events log ID`)
    #[command(subcommand)]
    Events(events::Command),
    Diagram(diagram::Args),
    Analytics(insights::AnalyticsArgs),
    Health(insights::HealthArgs),
    Metrics(insights::MetricsArgs),
    /// The tasks in the store (`tasks list`), newest first, filtered by state, name, annotation
    #[command(subcommand)]
    Tasks(tasks::Command),
    /// The templates in the template directories, by name and version (`templates list|show`)
    #[command(subcommand)]
    Templates(templates::Command),
    /// The configuration in effect and where each value came from (`config show`)
    #[command(subcommand)]
    Config(config::Command),
    /// Find, upgrade, check, trim and compact the store (`db path|migrate|check|prune|vacuum`)
    #[command(subcommand)]
    Db(db::Command),
    New(new::Args),
    Completions(completions::Args),
    /// Write the completion scripts and man pages (for packaging and the repository)
    #[command(hide = true)]
    GenerateDocs(completions::DocsArgs),
}

impl Global {
    pub fn color_choice(&self) -> ColorChoice {
        let from_file = self.config.color.as_deref().map(|c| match c {
            "always" => Color::Always,
            "never" => Color::Never,
            _ => Color::Auto,
        });
        match self.color.or(from_file).unwrap_or(Color::Auto) {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        }
    }

    /// `--log-format`, else the config file's, else text.
    pub fn log_format(&self) -> LogFormat {
        self.log_format
            .unwrap_or(match self.config.log_format.as_deref() {
                Some("json") => LogFormat::Json,
                _ => LogFormat::Text,
            })
    }

    pub fn verbosity(&self) -> Verbosity {
        if self.quiet {
            Verbosity::Quiet
        } else if self.verbose > 0 {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        }
    }

    /// The store's file, and whether it is the default (whose directories we may create);
    /// none for a store that is not a file (PostgreSQL).
    pub fn db_file(&self) -> Option<PathBuf> {
        match self.location() {
            Ok((Location::Postgres(_), _)) => None,
            _ => Some(self.db_path().0),
        }
    }

    /// The store path, and whether it is the default (whose directories we may create). A
    /// PostgreSQL store is shown by its URL, without the password.
    pub fn db_path(&self) -> (PathBuf, bool) {
        match self.location() {
            Ok((Location::Sqlite(path), is_default)) => (path, is_default),
            Ok((Location::Postgres(url), _)) => (PathBuf::from(&url.shown), false),
            // Refused when opened; as given until then.
            Err(_) => (
                self.db
                    .clone()
                    .or_else(|| self.config.db.clone())
                    .unwrap_or_else(default_path),
                false,
            ),
        }
    }

    /// The `environments:` block to use: `--env`, else `TASKER_ENV`, else the config file's
    /// `env`, else none.
    pub fn environment(&self, flag: Option<&str>) -> Option<String> {
        flag.map(str::to_owned)
            .or_else(|| std::env::var("TASKER_ENV").ok().filter(|v| !v.is_empty()))
            .or_else(|| self.config.env.clone())
    }

    /// `validate --strict`, else the config file's `strict`.
    pub fn strict(&self, flag: bool) -> bool {
        flag || self.config.strict.unwrap_or(false)
    }

    /// `TASKER_DURABILITY`, else the config file's, else normal.
    pub fn durability(&self) -> crate::config::Durability {
        match std::env::var("TASKER_DURABILITY").ok().as_deref() {
            Some("full") => crate::config::Durability::Full,
            Some("normal") => crate::config::Durability::Normal,
            _ => self.config.durability.unwrap_or_default(),
        }
    }

    /// Where the store is: `--db`, `TASKER_DB` or the config's `db` (a path or a URL), else
    /// the default file (whose directories tasker may create).
    pub fn location(&self) -> Result<(Location, bool), Error> {
        match self.db.as_ref().or(self.config.db.as_ref()) {
            Some(given) => Ok((Location::parse(given)?, false)),
            None => Ok((Location::Sqlite(default_path()), true)),
        }
    }

    /// Open the store for writing, creating it if needed.
    pub fn open_store(&self) -> Result<Box<dyn Backend>, Error> {
        let (location, is_default) = self.location()?;
        Ok(store::open(&location, is_default, self.durability())?)
    }

    /// The config file in effect (`tasker.toml`, else the XDG one).
    pub fn config(&self) -> Result<&crate::config::Config, Error> {
        Ok(&self.config)
    }

    /// Open the store for reading; `None` when it does not exist yet.
    pub fn open_existing_store(&self) -> Result<Option<Box<dyn Backend>>, Error> {
        let (location, _) = self.location()?;
        Ok(store::open_existing(&location, self.durability())?)
    }
}

/// The `TASKER_*` variables clap does not read, checked as their config keys are: a value
/// that would be refused in the file is refused here, not ignored. (Those that mirror a
/// flag — `TASKER_DB`, `TASKER_CONCURRENCY`, … — are checked by the flag's parser.)
fn check_environment() -> Result<(), Error> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut problems = Vec::new();
    if let Some(v) = set("TASKER_DURABILITY")
        && !["normal", "full"].contains(&v.as_str())
    {
        let hint = crate::templates::closest(&v, ["normal", "full"])
            .map(|c| format!("did you mean `{c}`?"))
            .unwrap_or_else(|| "one of: normal, full".into());
        problems.push(format!(
            "TASKER_DURABILITY: `{v}` is not allowed\n  hint: {hint}"
        ));
    }
    if let Some(v) = set("TASKER_FLUSH_TIMEOUT")
        && let Err(e) = crate::templates::duration::parse(&v)
    {
        problems.push(format!("TASKER_FLUSH_TIMEOUT: {e}"));
    }
    if let Some(v) = set("TASKER_LOG")
        && let Err(e) = tracing_subscriber::EnvFilter::try_new(&v)
    {
        problems.push(format!(
            "TASKER_LOG: `{v}` is not a log filter: {e}\n  hint: a level (`debug`) or `target=level` pairs"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(problems.join("\nerror: ")))
    }
}

/// Run the parsed command line; the result is the process exit code.
pub fn run(mut cli: Cli) -> Result<u8, Error> {
    let Some(command) = cli.command else {
        use clap::CommandFactory as _;
        let help = Cli::command().render_help();
        say!("{help}");
        return Ok(crate::error::exit::USAGE);
    };
    cli.global.config = crate::config::Config::load(cli.global.config_file.as_deref())?;
    check_environment()?;
    // Secret-looking keys: the built-in words, the file's, and `TASKER_SECRET_KEYS`.
    let mut words = cli.global.config.secret_keys.clone().unwrap_or_default();
    if let Ok(more) = std::env::var("TASKER_SECRET_KEYS") {
        words.extend(more.split(',').map(str::to_owned));
    }
    crate::secrets::add_words(&words);
    init_logs(&cli.global);
    match command {
        Command::Run(args) => run::run(&cli.global, *args),
        Command::Validate(args) => validate::run(&cli.global, &args),
        Command::Status(args) => status::run(&cli.global, &args),
        Command::Resume(args) => resume::run(&cli.global, &args),
        Command::Retry(args) => retry::run(&cli.global, &args),
        Command::Cancel(args) => cancel::run(&cli.global, &args),
        Command::Resolve(args) => resolve::run(&cli.global, &args),
        Command::Annotate(args) => annotate::run(&cli.global, &args),
        Command::Worker(args) => worker::run(&cli.global, &args),
        Command::Wait(args) => wait::run(&cli.global, &args),
        Command::Logs(args) => logs::run(&cli.global, &args),
        Command::Events(cmd) => events::run(&cli.global, &cmd),
        Command::Diagram(args) => diagram::run(&cli.global, &args),
        Command::Analytics(args) => insights::analytics(&cli.global, &args),
        Command::Health(args) => insights::health(&cli.global, &args),
        Command::Metrics(args) => insights::metrics(&cli.global, &args),
        Command::Tasks(cmd) => tasks::run(&cli.global, &cmd),
        Command::Templates(cmd) => templates::run(&cli.global, &cmd),
        Command::Config(cmd) => config::run(&cli.global, &cmd),
        Command::Db(cmd) => db::run(&cli.global, &cmd),
        Command::New(args) => new::run(&cli.global, &args),
        Command::Completions(args) => completions::run(&cli.global, &args),
        Command::GenerateDocs(args) => completions::generate_docs(&cli.global, &args),
    }
}

/// `task <id>`, first thing: on stdout, or on stderr with `--json` (whose stdout is exactly
/// one JSON document, holding the id).
pub(crate) fn announce(global: &Global, task_id: i64, json: bool) {
    if !json {
        emit(&format!("task {task_id}\n"));
    } else if global.verbosity() != crate::render::progress::Verbosity::Quiet {
        say!("task {task_id}");
    }
}

/// The store of a command about task `id`; a store that does not exist has no such task.
/// A task id on the command line: a positive whole number.
pub(crate) fn task_id(s: &str) -> Result<i64, String> {
    s.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        "task ids are positive whole numbers, as `tasker run` printed (see `tasker tasks list`)"
            .to_owned()
    })
}

/// Task `id` is not in the store: with where to look.
pub(crate) fn no_task(id: i64) -> Error {
    Error::NotFound(format!(
        "task {id} not found\n  hint: `tasker tasks list` lists the tasks in this store (`tasker db path` names it)"
    ))
}

pub(crate) fn existing_store(global: &Global, id: i64) -> Result<Box<dyn Backend>, Error> {
    global.open_existing_store()?.ok_or_else(|| no_task(id))
}

/// Task `id`, or not found.
pub(crate) fn find_task(store: &dyn Backend, id: i64) -> Result<TaskRecord, Error> {
    store.task(id)?.ok_or_else(|| no_task(id))
}

/// The position of step `name` in `task`, or not found with the list of steps.
pub(crate) fn step_position(task: &TaskRecord, name: &str) -> Result<usize, Error> {
    task.steps
        .iter()
        .position(|s| s.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = task.steps.iter().map(|s| s.name.as_str()).collect();
            let hint = crate::templates::closest(name, names.iter().copied())
                .map(|c| format!("did you mean `{c}`?"))
                .unwrap_or_else(|| format!("steps: {}", names.join(", ")));
            Error::NotFound(format!(
                "task {} has no step `{name}`\n  hint: {hint}",
                task.task_id
            ))
        })
}

/// Refuse while a live runner owns the task.
pub(crate) fn refuse_if_running(task: &TaskRecord) -> Result<(), Error> {
    match &task.owner {
        Some(o) if task.status == State::InProgress && owner::alive(o, task.heartbeat_at) => {
            Err(Error::Store(crate::store::StoreError::Owned {
                task_id: task.task_id,
                owner: o.clone(),
                heartbeat_at: task.heartbeat_at,
            }))
        }
        _ => Ok(()),
    }
}

/// The template a task was created from, as stored with it.
pub(crate) fn snapshot(global: &Global, task: &TaskRecord) -> Result<Template, Error> {
    let config = global.config()?;
    let options = LoadOptions {
        environment: task.environment.as_deref(),
        require_environment: false,
        handlers: config.handlers.as_ref(),
        strict: false,
        checking: false,
    };
    let label = format!("the template snapshot of task {}", task.task_id);
    crate::templates::from_str_in(&task.template_source, &label, options)
        .map_err(|ps| Error::Template(TemplateError::Invalid(ps)))
}

/// `events` as changes recorded after the task's last event (for verbs that act while no
/// runner owns the task).
pub(crate) fn recorded(
    store: &dyn Backend,
    events: Vec<crate::events::Event>,
) -> Result<Vec<crate::store::Change>, Error> {
    let mut out = Vec::with_capacity(events.len());
    let mut next = std::collections::HashMap::new();
    for mut e in events {
        let seq = match next.get(&e.task_id) {
            Some(&s) => s,
            None => store.last_event_seq(e.task_id)? + 1,
        };
        next.insert(e.task_id, seq + 1);
        e.seq = seq;
        out.push(crate::store::Change::event(&e));
    }
    Ok(out)
}

/// `--actor`, else `$USER`, else `operator`.
pub(crate) fn actor(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "operator".into())
}

/// Write to stdout; a closed pipe (`| head`) ends output quietly instead of panicking.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Print an error the way every command does: `error: …` lines on stderr.
pub fn print_error(err: &Error) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    match err {
        Error::Template(TemplateError::Invalid(problems)) => {
            for p in problems {
                let severity = if p.warning { "warning" } else { "error" };
                let _ = writeln!(stderr, "{severity}: {p}");
            }
            let n = problems.iter().filter(|p| !p.warning).count();
            let s = if n == 1 { "" } else { "s" };
            let _ = writeln!(stderr, "{n} problem{s} found; nothing was run");
        }
        Error::Config(crate::config::ConfigError::Invalid(problems)) => {
            for p in problems {
                let _ = writeln!(stderr, "error: {p}");
            }
        }
        Error::Invalid(problems) => {
            for p in problems {
                let _ = writeln!(stderr, "error: {p}");
            }
            let n = problems.len();
            let s = if n == 1 { "" } else { "s" };
            let _ = writeln!(stderr, "{n} problem{s} found; nothing was run");
        }
        other => {
            let _ = writeln!(stderr, "error: {other}");
        }
    }
}
