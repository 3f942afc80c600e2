//! The top-level error, which knows its exit code (DESIGN §9.3).

use crate::store::StoreError;
use crate::templates::TemplateError;

/// Exit codes users and scripts depend on.
pub mod exit {
    pub const OK: u8 = 0;
    pub const TASK_ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CANCELLED: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const REFUSED: u8 = 5;
    pub const STORE: u8 = 6;
    pub const IO: u8 = 7;
}

/// Anything that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Refused(String),
    /// Several problems with what was asked (a context against its schema, flags).
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// The system failed tasker outside the store: a file it must write, its scratch
    /// directory, a process it must start.
    #[error("{0}")]
    Io(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Template(_)
            | Error::Usage(_)
            | Error::Invalid(_)
            | Error::Config(_)
            | Error::Store(StoreError::Unsupported(_)) => exit::USAGE,
            Error::Store(e) if e.is_refusal() => exit::REFUSED,
            Error::Store(_) => exit::STORE,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Refused(_) => exit::REFUSED,
            Error::Io(_) => exit::IO,
        }
    }
}
