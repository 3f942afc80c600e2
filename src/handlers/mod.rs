//! Step handlers: what runs a step's work and reports how it ended.

pub mod child;
mod http;
mod plugin;
pub mod process;
mod shell;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::sync::watch;

use crate::model::FailureClass;
use crate::templates::{Action, Retry};

/// Receives a step's output line by line: the step's name, whether it is stderr, the line.
pub type Echo = std::sync::Arc<dyn Fn(&str, bool, &[u8]) + Send + Sync>;

pub use process::{
    Captured, Spawned, Started, detach_session, kill_leftovers, kill_marked, kill_marked_any,
    signal_group, start_time,
};

/// Everything a handler needs to run one attempt of one step.
#[derive(Clone)]
pub struct Request {
    pub task_id: i64,
    pub task_name: String,
    pub namespace: String,
    pub step_name: String,
    pub attempt: u32,
    /// The step's action with every `{{ … }}` already resolved.
    pub action: Action,
    /// The input document (`TASKER_INPUT`), serialized; plugins read it on stdin.
    pub input: Arc<Vec<u8>>,
    pub retry: Retry,
    /// Template `env`, then step `env`, then tasker's own `TASKER_*` variables.
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Option<Duration>,
    pub kill_grace: Duration,
    /// Bytes of stdout and of stderr kept (the tail).
    pub output_limit: usize,
    /// Where the step may write its result JSON (`TASKER_OUTPUT`).
    pub output_path: PathBuf,
    /// When set, stdout and stderr are also written as they come to `BASE.stdout` and
    /// `BASE.stderr`, for `tasker logs --follow`.
    pub live_output: Option<PathBuf>,
    /// Where to report the process the attempt starts.
    pub spawned: Option<Spawned>,
    /// Given each line of output as it comes (`--follow-output`).
    pub echo: Option<Echo>,
    /// Rises when the attempt must end: 1 = stop gracefully (SIGTERM, then SIGKILL after
    /// the grace period), 2 = kill at once.
    pub abort: watch::Receiver<Abort>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("task_id", &self.task_id)
            .field("step_name", &self.step_name)
            .field("attempt", &self.attempt)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// What the runner asks of a running attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Abort {
    /// Run on.
    #[default]
    None,
    /// Stop: SIGTERM to its process group, SIGKILL after the grace period.
    Stop,
    /// Stop now: SIGKILL at once (a second Ctrl-C, a store that failed).
    Kill,
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub class: FailureClass,
    pub message: String,
    pub permanent: bool,
    /// A delay the step asked for before its next attempt.
    pub retry_after: Option<Duration>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub result: Option<Json>,
    pub failure: Option<Failure>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// A boxed future, so handlers can sit behind `dyn`.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Runs one attempt of a step.
pub trait Handler: Send + Sync {
    fn execute(&self, request: Request) -> BoxFuture<Outcome>;
}

/// A step that does nothing and succeeds at once.
#[derive(Debug)]
pub struct Noop;

impl Noop {
    /// A noop attempt's outcome: success with an empty result.
    pub fn outcome() -> Outcome {
        Outcome {
            result: Some(Json::Object(serde_json::Map::new())),
            ..Outcome::default()
        }
    }
}

impl Handler for Noop {
    fn execute(&self, _request: Request) -> BoxFuture<Outcome> {
        Box::pin(async { Noop::outcome() })
    }
}

/// The handler for a step's action.
pub fn for_action(action: &Action) -> Arc<dyn Handler> {
    match action {
        Action::Noop => Arc::new(Noop),
        Action::Command(_) => Arc::new(shell::Shell),
        Action::Plugin(_) => Arc::new(plugin::Plugin),
        Action::Http(_) => Arc::new(http::HttpStep),
    }
}

impl Failure {
    /// A failure that retrying cannot fix.
    pub fn permanent(class: FailureClass, message: impl Into<String>) -> Failure {
        Failure {
            class,
            message: message.into(),
            permanent: true,
            retry_after: None,
        }
    }

    /// A failure that may pass on another attempt.
    pub fn retryable(class: FailureClass, message: impl Into<String>) -> Failure {
        Failure {
            class,
            message: message.into(),
            permanent: false,
            retry_after: None,
        }
    }
}

impl Outcome {
    /// An attempt that failed before anything ran.
    pub fn failed(failure: Failure) -> Outcome {
        Outcome {
            failure: Some(failure),
            ..Outcome::default()
        }
    }
}
