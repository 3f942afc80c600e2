//! The config file: `tasker.toml` in the working directory, else
//! `$XDG_CONFIG_HOME/tasker/config.toml` (`~/.config/tasker/config.toml`).

use std::path::{Path, PathBuf};

use crate::templates::{Handlers, Hook, Problem, closest, duration, hooks_from_json};

/// Keys the config file may hold.
const KEYS: &[&str] = &["handlers", "on", "hook_timeout"];

/// The configuration in effect.
#[derive(Debug, Default)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// `handler_class` mappings for every template.
    pub handlers: Option<Handlers>,
    /// Hooks for every task (`[on]`).
    pub hooks: Vec<Hook>,
    /// How long a hook may run (`hook_timeout`, default 10s).
    pub hook_timeout: Option<std::time::Duration>,
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

/// Where the config file is looked for, in order (the first relative to the working
/// directory, as users know it).
pub fn candidates() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("tasker.toml")];
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(base) = base {
        out.push(base.join("tasker").join("config.toml"));
    }
    out
}

impl Config {
    /// Read the first config file that exists; none at all is an empty configuration.
    pub fn load() -> Result<Config, ConfigError> {
        match candidates().into_iter().find(|p| p.is_file()) {
            Some(path) => Config::read(&path),
            None => Ok(Config::default()),
        }
    }

    /// Read one config file.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: shown.clone(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let mut problems = Vec::new();
        for key in table.keys().filter(|k| !KEYS.contains(&k.as_str())) {
            problems.push(Problem {
                file: shown.clone(),
                pos: Default::default(),
                step: None,
                field: None,
                message: format!("unknown key `{key}`"),
                hint: Some(
                    closest(key, KEYS.iter().copied())
                        .map(|k| format!("did you mean `{k}`?"))
                        .unwrap_or_else(|| format!("known keys: {}", KEYS.join(", "))),
                ),
            });
        }
        let handlers = match table.get("handlers") {
            None => None,
            Some(h) => {
                let json = serde_json::to_value(h).unwrap_or_default();
                match Handlers::from_json(&json, &shown) {
                    Ok(h) => Some(h),
                    Err(ps) => {
                        problems.extend(ps);
                        None
                    }
                }
            }
        };
        let hooks = match table.get("on") {
            None => Vec::new(),
            Some(on) => {
                let json = serde_json::to_value(on).unwrap_or_default();
                hooks_from_json(&json, &shown).unwrap_or_else(|ps| {
                    problems.extend(ps);
                    Vec::new()
                })
            }
        };
        let hook_timeout = match table.get("hook_timeout") {
            None => None,
            Some(toml::Value::String(t)) => match duration::parse(t) {
                Ok(d) => Some(d),
                Err(message) => {
                    problems.push(Problem {
                        file: shown.clone(),
                        pos: Default::default(),
                        step: None,
                        field: Some("hook_timeout".into()),
                        message,
                        hint: None,
                    });
                    None
                }
            },
            Some(_) => {
                problems.push(Problem {
                    file: shown.clone(),
                    pos: Default::default(),
                    step: None,
                    field: Some("hook_timeout".into()),
                    message: "expected a duration such as \"10s\"".into(),
                    hint: None,
                });
                None
            }
        };
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        Ok(Config {
            path: Some(path.to_owned()),
            handlers,
            hooks,
            hook_timeout,
        })
    }
}
