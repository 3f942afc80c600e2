//! `tasker config show`: the configuration in effect, and where each value came from.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::Global;
use crate::error::{Error, exit};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the effective configuration and the source of each value
    #[command(
        after_help = "Examples:\n  tasker config show\n  TASKER_CONCURRENCY=8 tasker config show --json\n\nPrecedence: a flag, then its TASKER_* variable, then the config file (tasker.toml in the\nworking directory or the nearest parent holding one, else $XDG_CONFIG_HOME/tasker/config.toml;\n--config FILE or TASKER_CONFIG name one), then the default."
    )]
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

/// One setting: its value and where it came from.
struct Setting {
    key: &'static str,
    value: Value,
    source: String,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub fn run(global: &Global, cmd: &Command) -> Result<u8, Error> {
    let Command::Show(args) = cmd;
    let c = &global.config;
    let file = c
        .path
        .as_ref()
        .map_or_else(|| "file".to_owned(), |p| format!("file {}", p.display()));
    let pick = |key: &'static str, var: &str, file_value: Option<Value>, default: Value| {
        let flag = global.from_flags.contains(&key);
        let (value, source) = if let (true, Some(v)) = (flag, flag_value(global, key)) {
            (v, "flag".to_owned())
        } else if let Some(v) = env(var) {
            (json!(v), format!("env {var}"))
        } else if let Some(v) = file_value {
            (v, file.clone())
        } else {
            (default, "default".to_owned())
        };
        Setting { key, value, source }
    };
    let (default_db, _) = {
        let g = Global {
            db: None,
            config: crate::config::Config::default(),
            ..clone_flags(global)
        };
        g.db_path()
    };
    let settings = vec![
        pick(
            "db",
            "TASKER_DB",
            c.db.as_ref().map(|p| json!(p)),
            json!(default_db),
        ),
        pick(
            "concurrency",
            "TASKER_CONCURRENCY",
            c.concurrency.map(|n| json!(n)),
            json!("the template's max_parallel, else the CPU count"),
        ),
        pick(
            "trace",
            "TASKER_TRACE",
            c.trace.as_ref().map(|t| json!(t)),
            json!(env("OTEL_TRACES_EXPORTER").unwrap_or_else(|| "none".into())),
        ),
        pick(
            "templates",
            "TASKER_TEMPLATES",
            c.templates.as_ref().map(|t| json!(t)),
            json!([PathBuf::from("workflows")]),
        ),
        pick(
            "kill_grace",
            "TASKER_KILL_GRACE",
            c.kill_grace
                .map(|d| json!(crate::templates::duration::human(d))),
            json!("10s"),
        ),
        pick(
            "color",
            "TASKER_COLOR",
            c.color.as_ref().map(|v| json!(v)),
            json!("auto"),
        ),
        pick(
            "log_format",
            "TASKER_LOG_FORMAT",
            c.log_format.as_ref().map(|v| json!(v)),
            json!("text"),
        ),
        pick(
            "durability",
            "TASKER_DURABILITY",
            c.durability.map(|d| {
                json!(if d == crate::config::Durability::Full {
                    "full"
                } else {
                    "normal"
                })
            }),
            json!("normal"),
        ),
        pick(
            "hook_timeout",
            "",
            c.hook_timeout
                .map(|d| json!(crate::templates::duration::human(d))),
            json!("10s"),
        ),
        pick(
            "flush_timeout",
            "TASKER_FLUSH_TIMEOUT",
            c.flush_timeout
                .map(|d| json!(crate::templates::duration::human(d))),
            json!("5s"),
        ),
        pick(
            "env",
            "TASKER_ENV",
            c.env.as_ref().map(|e| json!(e)),
            json!("none"),
        ),
        pick("strict", "", c.strict.map(|b| json!(b)), json!(false)),
        pick(
            "secret_keys",
            "TASKER_SECRET_KEYS",
            c.secret_keys.as_ref().map(|w| json!(w)),
            json!([]),
        ),
        Setting {
            key: "handlers",
            value: json!(
                c.handlers
                    .as_ref()
                    .map_or(0, crate::templates::Handlers::len)
            ),
            source: if c.handlers.is_some() {
                file.clone()
            } else {
                "default".into()
            },
        },
        Setting {
            key: "on",
            value: json!(c.hooks.len()),
            source: if c.hooks.is_empty() {
                "default".into()
            } else {
                file.clone()
            },
        },
    ];
    if args.json {
        let doc: serde_json::Map<String, Value> = settings
            .iter()
            .map(|s| {
                (
                    s.key.to_owned(),
                    json!({"value": s.value, "source": s.source}),
                )
            })
            .collect();
        let doc = json!({"file": c.path, "found_by": c.found_by, "settings": doc});
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
        return Ok(exit::OK);
    }
    let mut out = match &c.path {
        Some(p) => format!(
            "config file: {} (from {})\n",
            p.display(),
            c.found_by.unwrap_or("the search")
        ),
        None => "config file: none (--config FILE, TASKER_CONFIG, tasker.toml here or in a parent directory, or $XDG_CONFIG_HOME/tasker/config.toml)\n".to_owned(),
    };
    for s in &settings {
        let value = match &s.value {
            Value::String(v) => v.clone(),
            other => other.to_string(),
        };
        out.push_str(&format!("{:<13} {:<40} ({})\n", s.key, value, s.source));
    }
    super::emit(&out);
    Ok(exit::OK)
}

/// The value of a global flag given on the command line.
fn flag_value(global: &Global, key: &str) -> Option<Value> {
    match key {
        "db" => global.db.as_ref().map(|p| json!(p)),
        "color" => global.color.map(|c| json!(format!("{c:?}").to_lowercase())),
        "log_format" => global
            .log_format
            .map(|f| json!(format!("{f:?}").to_lowercase())),
        _ => None,
    }
}

fn clone_flags(g: &Global) -> Global {
    Global {
        db: g.db.clone(),
        color: g.color,
        verbose: g.verbose,
        quiet: g.quiet,
        log_format: g.log_format,
        config: crate::config::Config::default(),
        config_file: g.config_file.clone(),
        from_flags: Vec::new(),
    }
}
