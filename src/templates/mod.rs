//! Task templates: YAML → positioned tree → validated [`Template`], every problem collected.

pub mod catalog;
mod check;
pub mod context;
pub mod duration;
mod environments;
mod events;
mod handlers;
mod http;
pub mod interpolate;
mod lines;
mod load;
mod model;
pub mod node;
mod quick;
mod retry;
pub mod shell;
mod steps;
mod suggest;

use std::fmt;
use std::path::Path;

pub use events::hooks_from_json;
pub use handlers::Handlers;
pub use load::{LoadOptions, from_str, from_str_in};
pub use model::{
    Action, Backoff, CustomEvent, Hook, Http, HttpBody, Program, Retry, Step, Template,
};
pub use node::Pos;
pub use suggest::closest;

/// One problem found in a template, located as precisely as it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub pos: Pos,
    pub step: Option<String>,
    pub field: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// A warning: the template is valid (unless `--strict` makes warnings errors).
    pub warning: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.pos.line > 0 {
            write!(f, ":{}:{}", self.pos.line, self.pos.column)?;
        }
        f.write_str(": ")?;
        if let Some(step) = &self.step {
            write!(f, "step `{step}`: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "`{field}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Why a template could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{path}: cannot read the file: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
}

impl TemplateError {
    /// The error as a list of problems (an unreadable file is one problem).
    pub fn into_problems(self) -> Vec<Problem> {
        match self {
            TemplateError::Invalid(ps) => ps,
            TemplateError::Unreadable { path, source } => vec![Problem {
                file: path,
                pos: Pos::default(),
                step: None,
                field: None,
                message: format!("cannot read the file: {source}"),
                hint: None,
                warning: false,
            }],
        }
    }
}

fn render_problems(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&p.to_string());
    }
    out
}

/// `namespace/name`, once-qualified: a name that already starts with its namespace
/// (Tasker's `ecommerce/process_order` in namespace `ecommerce`) is shown as it is.
pub fn qualified(namespace: &str, name: &str) -> String {
    match name.strip_prefix(namespace) {
        Some(rest) if rest.starts_with('/') => name.to_owned(),
        _ => format!("{namespace}/{name}"),
    }
}

/// `namespace/name@version`, once-qualified (see [`qualified`]).
pub fn identity(namespace: &str, name: &str, version: &str) -> String {
    format!("{}@{version}", qualified(namespace, name))
}

/// A template together with the text it was read from (stored as the task's snapshot).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub template: Template,
    pub source: String,
}

/// Read and validate a template file.
pub fn load_file(path: &Path, options: LoadOptions<'_>) -> Result<Loaded, TemplateError> {
    let label = path.display().to_string();
    let bytes = match crate::limits::read(path, crate::limits::TEMPLATE) {
        Ok(crate::limits::Bounded::All(bytes)) => bytes,
        Ok(crate::limits::Bounded::TooBig(_)) => {
            return Err(TemplateError::Invalid(vec![Problem {
                file: label,
                pos: Pos::default(),
                step: None,
                field: None,
                message: format!(
                    "the file is bigger than {}, the most a template may be",
                    crate::limits::size(crate::limits::TEMPLATE)
                ),
                hint: None,
                warning: false,
            }]));
        }
        Err(source) => {
            return Err(TemplateError::Unreadable {
                path: label,
                source,
            });
        }
    };
    let source = String::from_utf8(bytes).map_err(|_| {
        TemplateError::Invalid(vec![Problem {
            file: label.clone(),
            pos: Pos::default(),
            step: None,
            field: None,
            message: "the file is not valid UTF-8 text".into(),
            hint: None,
            warning: false,
        }])
    })?;
    let template = from_str_in(&source, &label, options).map_err(TemplateError::Invalid)?;
    Ok(Loaded { template, source })
}
