//! The config file: `--config FILE`, else `TASKER_CONFIG`, else the first `tasker.toml` in
//! the working directory or one of its parents (as `git` and `cargo` look), else
//! `$XDG_CONFIG_HOME/tasker/config.toml` (`~/.config/tasker/config.toml`).
//!
//! Its keys mirror the command line's: a flag wins over its `TASKER_*` variable, which wins
//! over the file, which wins over the built-in default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::templates::{Handlers, Hook, Problem, closest, duration, hooks_from_json};

/// Keys the config file may hold.
pub const KEYS: &[&str] = &[
    "db",
    "concurrency",
    "trace",
    "templates",
    "kill_grace",
    "color",
    "log_format",
    "durability",
    "handlers",
    "on",
    "hook_timeout",
    "flush_timeout",
    "secret_keys",
    "strict",
    "env",
];

pub use crate::store::Durability;

/// The configuration file's contents (absent keys are `None`).
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// How that file was chosen (`--config`, `TASKER_CONFIG`, found upwards …).
    pub found_by: Option<&'static str>,
    /// `validate --strict` for every validation.
    pub strict: Option<bool>,
    /// The `environments:` block to use when `--env` and `TASKER_ENV` are not given.
    pub env: Option<String>,
    pub db: Option<PathBuf>,
    pub concurrency: Option<u32>,
    pub trace: Option<String>,
    pub templates: Option<Vec<PathBuf>>,
    pub kill_grace: Option<Duration>,
    pub color: Option<String>,
    pub log_format: Option<String>,
    pub durability: Option<Durability>,
    /// `handler_class` mappings for every template.
    pub handlers: Option<Handlers>,
    /// Hooks for every task (`[on]`).
    pub hooks: Vec<Hook>,
    /// How long a hook may run (default 10s).
    pub hook_timeout: Option<Duration>,
    /// How long the exit waits for spans and metrics to be sent (default 5s).
    pub flush_timeout: Option<Duration>,
    /// Words that mark a key as secret, beside the built-in ones.
    pub secret_keys: Option<Vec<String>>,
}

/// Why the config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file `{path}`: {message}")]
    Unreadable { path: String, message: String },
    #[error("the config file `{path}` is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// The user's config file, `$XDG_CONFIG_HOME/tasker/config.toml`.
pub fn user_file() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|base| base.join("tasker").join("config.toml"))
}

/// The nearest `tasker.toml` from the working directory upwards; shown relative when it is
/// in the working directory itself, as users know it.
fn project_file() -> Option<PathBuf> {
    let here = Path::new("tasker.toml");
    if here.is_file() {
        return Some(here.to_owned());
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .skip(1)
        .map(|dir| dir.join("tasker.toml"))
        .find(|p| p.is_file())
}

/// Reads typed values out of the TOML table, collecting a problem per bad key.
struct Reader<'a> {
    file: &'a str,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, key: &str, message: impl Into<String>, hint: Option<String>) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            pos: Default::default(),
            step: None,
            field: Some(key.to_owned()),
            message: message.into(),
            hint,
            warning: false,
        });
    }

    fn string(&mut self, table: &toml::Table, key: &str) -> Option<String> {
        match table.get(key)? {
            toml::Value::String(s) => Some(s.clone()),
            _ => {
                self.problem(key, "expected a string", None);
                None
            }
        }
    }

    fn choice(&mut self, table: &toml::Table, key: &str, allowed: &[&str]) -> Option<String> {
        let value = self.string(table, key)?;
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            let hint = closest(&value, allowed.iter().copied())
                .map(|c| format!("did you mean `{c}`?"))
                .unwrap_or_else(|| format!("one of: {}", allowed.join(", ")));
            self.problem(key, format!("`{value}` is not allowed"), Some(hint));
            None
        }
    }

    fn duration(&mut self, table: &toml::Table, key: &str) -> Option<Duration> {
        let text = self.string(table, key)?;
        match duration::parse(&text) {
            Ok(d) => Some(d),
            Err(message) => {
                self.problem(key, message, None);
                None
            }
        }
    }
}

impl Config {
    /// Read the config file: `explicit` (`--config`), else `TASKER_CONFIG`, else the nearest
    /// `tasker.toml` upwards, else the user's; none at all is an empty configuration. A file
    /// named on purpose must exist.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let named = |path: PathBuf, by: &'static str| -> Result<Config, ConfigError> {
            if !path.exists() {
                return Err(ConfigError::Unreadable {
                    path: path.display().to_string(),
                    message: format!("no such file (named by {by})"),
                });
            }
            let mut c = Config::read(&path)?;
            c.found_by = Some(by);
            Ok(c)
        };
        if let Some(path) = explicit {
            return named(path.to_owned(), "--config");
        }
        if let Some(v) = std::env::var_os("TASKER_CONFIG").filter(|v| !v.is_empty()) {
            return named(PathBuf::from(v), "TASKER_CONFIG");
        }
        if let Some(path) = project_file() {
            let by = if path.is_relative() {
                "the working directory"
            } else {
                "a parent of the working directory"
            };
            let mut c = Config::read(&path)?;
            c.found_by = Some(by);
            return Ok(c);
        }
        match user_file().filter(|p| p.is_file()) {
            Some(path) => {
                let mut c = Config::read(&path)?;
                c.found_by = Some("the user's config directory");
                Ok(c)
            }
            None => Ok(Config::default()),
        }
    }

    /// Read one config file.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let unreadable = |message: String| ConfigError::Unreadable {
            path: shown.clone(),
            message,
        };
        let bytes = match crate::limits::read(path, crate::limits::CONFIG) {
            Ok(crate::limits::Bounded::All(bytes)) => bytes,
            Ok(crate::limits::Bounded::TooBig(_)) => {
                return Err(unreadable(format!(
                    "it is bigger than {}, the most a config file may be",
                    crate::limits::size(crate::limits::CONFIG)
                )));
            }
            Err(e) => return Err(unreadable(e.to_string())),
        };
        let text =
            String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8 text".into()))?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: shown.clone(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let mut r = Reader {
            file: &shown,
            problems: Vec::new(),
        };
        for key in table.keys().filter(|k| !KEYS.contains(&k.as_str())) {
            let hint = closest(key, KEYS.iter().copied())
                .map(|k| format!("did you mean `{k}`?"))
                .unwrap_or_else(|| format!("known keys: {}", KEYS.join(", ")));
            r.problems.push(Problem {
                file: shown.clone(),
                pos: Default::default(),
                step: None,
                field: None,
                message: format!("unknown key `{key}`"),
                hint: Some(hint),
                warning: false,
            });
        }
        // Relative paths in the file mean the same thing from any working directory.
        let base = path.parent().unwrap_or(Path::new("."));
        let anchored = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        let mut config = Config {
            path: Some(path.to_owned()),
            // A store named by URL stays as written; `sqlite:PATH` anchors its path.
            db: r
                .string(&table, "db")
                .map(|s| match s.strip_prefix("sqlite:") {
                    Some(rest) if !rest.starts_with("//") => {
                        PathBuf::from(format!("sqlite:{}", anchored(rest).display()))
                    }
                    _ if s.contains("://") => PathBuf::from(s),
                    _ => anchored(&s),
                }),
            trace: r.choice(&table, "trace", &["none", "stdout", "otlp"]),
            kill_grace: r.duration(&table, "kill_grace"),
            color: r.choice(&table, "color", &["auto", "always", "never"]),
            log_format: r.choice(&table, "log_format", &["text", "json"]),
            durability: r
                .choice(&table, "durability", &["normal", "full"])
                .map(|d| {
                    if d == "full" {
                        Durability::Full
                    } else {
                        Durability::Normal
                    }
                }),
            hook_timeout: r.duration(&table, "hook_timeout"),
            env: r.string(&table, "env"),
            flush_timeout: r.duration(&table, "flush_timeout"),
            ..Config::default()
        };
        match table.get("strict") {
            None => {}
            Some(toml::Value::Boolean(b)) => config.strict = Some(*b),
            Some(_) => r.problem("strict", "expected `true` or `false`", None),
        }
        match table.get("concurrency") {
            None => {}
            Some(toml::Value::Integer(n)) if (1..=100_000).contains(n) => {
                config.concurrency = Some(*n as u32);
            }
            Some(_) => r.problem("concurrency", "expected an integer from 1 to 100000", None),
        }
        match table.get("templates") {
            None => {}
            Some(toml::Value::String(s)) => config.templates = Some(vec![anchored(s)]),
            Some(toml::Value::Array(items)) => {
                let dirs: Option<Vec<PathBuf>> =
                    items.iter().map(|i| i.as_str().map(anchored)).collect();
                match dirs {
                    Some(d) => config.templates = Some(d),
                    None => r.problem("templates", "expected a list of directories", None),
                }
            }
            Some(_) => r.problem("templates", "expected a directory or a list of them", None),
        }
        match table.get("secret_keys") {
            None => {}
            Some(toml::Value::Array(items)) => {
                match items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect()
                {
                    Some(words) => config.secret_keys = Some(words),
                    None => r.problem("secret_keys", "expected a list of words", None),
                }
            }
            Some(_) => r.problem("secret_keys", "expected a list of words", None),
        }
        let mut problems = r.problems;
        if let Some(h) = table.get("handlers") {
            let json = serde_json::to_value(h).unwrap_or_default();
            match Handlers::from_json(&json, &shown) {
                Ok(h) => config.handlers = Some(h),
                Err(ps) => problems.extend(ps),
            }
        }
        if let Some(on) = table.get("on") {
            let json = serde_json::to_value(on).unwrap_or_default();
            match hooks_from_json(&json, &shown) {
                Ok(h) => config.hooks = h,
                Err(ps) => problems.extend(ps),
            }
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}
