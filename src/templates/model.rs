//! The validated template: what the rest of tasker accepts.

use std::time::Duration;

/// A task template that passed validation: names unique, dependencies known, no cycles.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub namespace: String,
    pub version: String,
    pub description: Option<String>,
    pub max_parallel: Option<usize>,
    pub timeout: Option<Duration>,
    pub env: Vec<(String, String)>,
    pub steps: Vec<Step>,
    /// JSON Schema (draft 2020-12) the task context must satisfy.
    pub schema: Option<serde_json::Value>,
    /// Events steps may publish through `TASKER_EVENTS`.
    pub custom_events: Vec<CustomEvent>,
    /// `on:` — commands run when events happen.
    pub hooks: Vec<Hook>,
    /// Tasker's inert keys (`task_handler_class`, `module_namespace`, `concurrent`, …).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// What the template holds that tasker ignores or guesses at (shown, never fatal).
    pub warnings: Vec<super::Problem>,
}

/// A command run with an event's JSON on stdin when an event matches `pattern`
/// (`task.failed`, `step.*`, `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub pattern: String,
    pub program: Program,
}

impl Template {
    /// The graph of its steps (a validated template has no cycle).
    pub fn dag(&self) -> crate::graph::Dag {
        let parents: Vec<&[usize]> = self.steps.iter().map(|s| s.parents.as_slice()).collect();
        crate::graph::Dag::from_parents(&parents)
    }
}

/// An event a template declares that its steps may publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomEvent {
    pub name: String,
    pub description: Option<String>,
}

/// One step of a template.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub description: Option<String>,
    pub action: Action,
    /// Indices into `Template::steps`, deduplicated, in the order written.
    pub parents: Vec<usize>,
    pub retry: Retry,
    pub timeout: Option<Duration>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<String>,
    pub handler_config: serde_json::Value,
    pub handler_class: Option<String>,
    pub skippable: bool,
    pub dependent_system: Option<String>,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A process; its result is what it writes to `TASKER_OUTPUT`.
    Command(Program),
    /// A process speaking JSON: the input on stdin, `{"result"}` or `{"error"}` on stdout.
    Plugin(Program),
    /// An HTTP request.
    Http(Http),
    /// No work at all: joins, dry runs, benchmarks.
    Noop,
}

/// How to start a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// A command line for `sh -c`; each reference becomes a `TASKER_REF_n` variable.
    Shell(String),
    /// An argument vector, run without a shell.
    Argv(Vec<String>),
}

impl Program {
    /// The strings of the program, for interpolation checks.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Program::Shell(s) => vec![s.as_str()],
            Program::Argv(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// An HTTP step's request. Strings may hold `{{ … }}` references.
#[derive(Debug, Clone, PartialEq)]
pub struct Http {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
    pub timeout: Option<Duration>,
    /// Statuses that count as success; default any 2xx.
    pub expect_status: Option<Vec<u16>>,
}

/// The body of an HTTP step.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpBody {
    None,
    Json(serde_json::Value),
    Text(String),
}

/// Retry rules of a step (DESIGN §5.2); `limit` counts every attempt, the first included.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub limit: u32,
    pub retryable: bool,
    pub backoff: Backoff,
    /// When set, only these exit codes are retried.
    pub retry_on_exit_codes: Option<Vec<i32>>,
    pub permanent_exit_codes: Vec<i32>,
}

/// Exponential backoff between attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub multiplier: f64,
    pub max: Duration,
    pub jitter: f64,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            limit: 3,
            retryable: true,
            backoff: Backoff::default(),
            retry_on_exit_codes: None,
            permanent_exit_codes: vec![126, 127],
        }
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            multiplier: 2.0,
            max: Duration::from_secs(30),
            jitter: 0.1,
        }
    }
}

impl Template {
    /// The index of the step with this name.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }
}
