//! Durable state: the [`Store`] trait the engine talks to, and its SQLite implementation.

mod decode;
pub mod domain;
mod error;
mod postgres;
pub mod restated;
mod sqlite;

use serde::Serialize;
use serde_json::Value as Json;

use crate::model::{Actor, Entity, Event, FailureClass, State};
use crate::templates::Template;

pub use postgres::{ClaimFilter, Claimed, PG_SCHEMA_VERSION, PgStore, PgUrl, Rescued};
pub use sqlite::{Pruned, SCHEMA_VERSION, SqliteStore, default_path};

pub use crate::model::{Owner, StepId, TaskId};
pub use error::{Failure, StoreError};

/// How hard a commit tries to reach the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// A commit survives any crash of tasker (SQLite: `synchronous = NORMAL`).
    #[default]
    Normal,
    /// A commit survives power loss too (SQLite: `synchronous = FULL`).
    Full,
}

/// Everything needed to create a task and its steps in one transaction.
#[derive(Debug)]
pub struct NewTask<'a> {
    pub template: &'a Template,
    /// The template text as read, kept as the task's snapshot.
    pub source: &'a str,
    pub content_hash: &'a str,
    /// The directory steps run in unless they set `cwd` (the template's directory).
    pub workdir: &'a str,
    pub context: &'a Json,
    pub initiator: Option<&'a str>,
    pub source_system: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub tags: &'a [String],
    /// The `--env` whose overrides the template was loaded with (resume needs it).
    pub environment: Option<&'a str>,
    /// With a key, a second task of the same template identity and key is not created.
    pub idempotency_key: Option<&'a str>,
    /// Skippable steps (by position) that start `resolved_manually`, reason `bypassed`.
    pub bypass: &'a [usize],
}

#[cfg(test)]
impl<'a> NewTask<'a> {
    /// A task of `template` as unit tests create it: no snapshot, no request fields.
    pub(crate) fn for_tests(template: &'a Template, context: &'a Json) -> Self {
        NewTask {
            template,
            source: "",
            content_hash: "h",
            workdir: "/tmp",
            context,
            initiator: None,
            source_system: None,
            reason: None,
            tags: &[],
            environment: None,
            idempotency_key: None,
            bypass: &[],
        }
    }
}

/// What `create_task` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new task.
    New(TaskId),
    /// A task with the same identity and idempotency key already exists.
    Existing(TaskId),
}

impl Created {
    pub fn task_id(&self) -> TaskId {
        match self {
            Created::New(id) | Created::Existing(id) => *id,
        }
    }
}

/// A step's mutable state, written whole with each of its transitions.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StepState {
    /// Attempts made (the number of the latest).
    pub attempts: u32,
    /// Attempts that count against the retry limit: interrupted ones do not, and
    /// `tasker retry` starts the count again.
    pub counted: u32,
    pub flaky: bool,
    pub results: Option<Json>,
    pub error: Option<StepError>,
    pub next_retry_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// The last error of a step or an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepError {
    pub class: FailureClass,
    pub message: String,
}

/// How one attempt ended.
#[derive(Debug, Clone, Default)]
pub struct AttemptEnd {
    pub outcome: State,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub error: Option<StepError>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_dropped: u64,
    pub stderr_dropped: u64,
    /// Declared custom events the attempt published through `TASKER_EVENTS`.
    pub custom_events: Vec<Json>,
}

/// A step transition's metadata (its audit row's JSON object).
#[derive(Debug, Clone, PartialEq)]
pub enum Metadata {
    /// `{"actor":"tasker","attempt":N}`, the engine's own at every start and completion,
    /// kept as its number: written as text without a JSON value built and dropped.
    Attempt(u32),
    Json(Json),
}

impl From<Json> for Metadata {
    fn from(value: Json) -> Metadata {
        Metadata::Json(value)
    }
}

/// As JSON text.
impl std::fmt::Display for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl Metadata {
    /// As JSON text, without `fmt`.
    pub fn text(&self) -> String {
        match self {
            Metadata::Attempt(n) => {
                let mut text = String::with_capacity(40);
                text.push_str(r#"{"actor":"tasker","attempt":"#);
                crate::text::push_decimal(&mut text, u64::from(*n));
                text.push('}');
                text
            }
            Metadata::Json(value) => decode::json_text(value),
        }
    }
}

/// One durable change. A batch of them is committed in one transaction.
#[derive(Debug, Clone)]
pub enum Change {
    /// A task moves `from → to`; leaving `in_progress` releases its owner.
    Task {
        task_id: TaskId,
        from: State,
        to: State,
        actor: Actor,
        metadata: Json,
    },
    /// A step moves `from → to` and takes `state`.
    Step {
        step_id: StepId,
        from: State,
        to: State,
        actor: Actor,
        metadata: Metadata,
        state: StepState,
        /// The event this transition restates, kept on its row (see [`Restated`]).
        restates: Option<Restated>,
    },
    AttemptStarted {
        step_id: StepId,
        attempt: u32,
    },
    /// The process an attempt started: its pid (= process group) and start time, so that a
    /// later runner can stop what a dead one left running.
    AttemptProcess {
        step_id: StepId,
        attempt: u32,
        pid: u32,
        started_at: i64,
    },
    AttemptFinished {
        step_id: StepId,
        attempt: u32,
        end: AttemptEnd,
    },
    /// The attempt's handler is about to be called: `step.before_handle`, event `seq` at
    /// `at`, kept on the attempt's row by a store that [restates](Store::restates_events)
    /// events (others ignore it: the event comes as text too).
    Handling {
        step_id: StepId,
        attempt: u32,
        seq: u64,
        at: i64,
        handler: &'static str,
    },
    /// An event, in the task's log with its sequence number.
    Event {
        task_id: TaskId,
        seq: u64,
        name: String,
        /// The event as JSON text.
        doc: String,
    },
    /// The task's trace: the W3C `traceparent` of its first run's root span.
    Trace {
        task_id: TaskId,
        traceparent: String,
    },
}

impl Change {
    /// The recording of `event` under its sequence number (0: numbered by the store, after
    /// the task's last, where the backend can).
    pub fn event(event: &Event) -> Change {
        Change::Event {
            task_id: event.task_id,
            seq: event.seq,
            name: event.name().to_owned(),
            doc: event.to_json_text(),
        }
    }
}

/// The event a step's transition restates, kept on the transition's row so that the event
/// need not be stored again as text: `step.execution_requested` (into `in_progress`, with
/// its queue wait) or `step.completed` (into `complete`, with its duration; the exit code
/// is the attempt's). A store that [restates](Store::restates_events) events reads them
/// back from these rows; the others ignore it, and get the event as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restated {
    pub seq: u64,
    /// The event's time (ms).
    pub at: i64,
    pub attempt: u32,
    /// `queue_wait_ms` or `duration_ms`.
    pub ms: u64,
    /// The `workflow.viable_steps_discovered` just before this event (number `seq - 1`, at
    /// the same time) named this step and the next `n - 1` steps started: `n`.
    pub discovered: Option<u32>,
}

/// A task as stored, with its steps.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub task_id: TaskId,
    pub uuid: String,
    pub name: String,
    pub namespace: String,
    pub version: String,
    pub status: State,
    pub context: Json,
    pub template_source: String,
    pub content_hash: String,
    pub workdir: String,
    pub environment: Option<String>,
    pub request: Request,
    /// The W3C `traceparent` of the task's root span, once it has run.
    pub traceparent: Option<String>,
    pub owner: Option<Owner>,
    pub heartbeat_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The times a runner worked on the task (`in_progress`, from its transitions), oldest
    /// first; the last is open while it runs. Durations count these only: not the time the
    /// task sat interrupted, failed or waiting.
    pub sessions: Vec<(i64, Option<i64>)>,
    pub steps: Vec<StepRecord>,
}

/// Who asked for a task, and why (`--initiator`, `--source-system`, `--reason`, `--tag`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Request {
    pub initiator: Option<String>,
    pub source_system: Option<String>,
    pub reason: Option<String>,
    pub tags: Vec<String>,
    pub idempotency_key: Option<String>,
}

/// A step as stored.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub step_id: StepId,
    pub name: String,
    pub position: usize,
    pub status: State,
    pub retry_limit: u32,
    pub retryable: bool,
    pub state: StepState,
    /// Attempts that were interrupted (Ctrl-C, a dead runner): not shown in `attempts N/M`.
    pub interrupted: u32,
    /// Positions of the steps this one depends on.
    pub parents: Vec<usize>,
}

impl StepRecord {
    /// The attempts shown as `N` in `attempts N/M`: those made, but not the interrupted.
    pub fn attempts_shown(&self) -> u32 {
        self.state.attempts.saturating_sub(self.interrupted)
    }
}

/// A row of `tasks list`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskSummary {
    pub task_id: TaskId,
    pub name: String,
    pub namespace: String,
    pub version: String,
    pub status: State,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub steps_total: i64,
    pub steps_complete: i64,
    /// The time runners worked on it (not the time it sat interrupted or waiting).
    pub running_ms: Option<u64>,
}

/// Annotation types tasker writes for itself (`tasker cancel`'s requests): never shown as
/// annotations, never written by `tasker annotate`.
pub const INTERNAL_ANNOTATIONS: &[&str] = &["cancel_request"];

/// A note an operator attached to a task (`tasker annotate`), Tasker's `task_annotations`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotation {
    #[serde(rename = "type")]
    pub kind: String,
    pub annotation: Json,
    /// Milliseconds since the epoch.
    #[serde(skip)]
    pub created_ms: i64,
    pub created_at: String,
}

/// Filters of `tasks list`.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// An annotation of this type, with this value when one is given (its JSON text).
    pub annotation: Option<(String, Option<String>)>,
    pub status: Option<State>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub since: Option<i64>,
    pub limit: usize,
}

/// Which tasks a question is about: created since, in a namespace, of a template name.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub since: Option<i64>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// A task, for analytics.
#[derive(Debug, Clone)]
pub struct TaskFact {
    pub task_id: TaskId,
    pub namespace: std::sync::Arc<str>,
    pub name: std::sync::Arc<str>,
    pub status: State,
    pub duration_ms: Option<u64>,
}

/// A step of a task, for analytics.
#[derive(Debug, Clone)]
pub struct StepFact {
    pub task_id: TaskId,
    pub namespace: std::sync::Arc<str>,
    pub template: std::sync::Arc<str>,
    pub step: std::sync::Arc<str>,
    pub status: State,
    pub attempts: u32,
    /// From its first attempt's start to its end, when it has ended.
    pub duration_ms: Option<u64>,
    /// Failed and waiting for another attempt.
    pub retry_pending: bool,
}

/// Counts over the whole store, for `health`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub tasks_by_state: std::collections::BTreeMap<String, u64>,
    pub steps_by_state: std::collections::BTreeMap<String, u64>,
    /// Steps in error with an attempt still to come (waiting out a backoff).
    pub retryable_errors: u64,
    /// Steps in error with no attempt left.
    pub exhausted_errors: u64,
}

/// A task being run, with its owner.
#[derive(Debug, Clone)]
pub struct RunningTask {
    pub task_id: TaskId,
    pub owner: Option<Owner>,
    pub heartbeat_at: Option<i64>,
}

/// One audit row of a task or a step.
#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    /// `None` for task transitions.
    pub step_name: Option<String>,
    pub from_state: Option<State>,
    pub to_state: State,
    pub sort_key: i64,
    pub most_recent: bool,
    pub metadata: Json,
    pub created_at: i64,
}

/// One attempt as stored.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempt: u32,
    /// The attempt's process (and process group) and its start time, once it started.
    pub process: Option<(u32, i64)>,
    pub stdout_dropped: u64,
    pub stderr_dropped: u64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub outcome: Option<State>,
    pub exit_code: Option<i32>,
    pub error: Option<StepError>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Where a store is, as the user named it: `--db PATH`, `sqlite:PATH`, or a PostgreSQL URL
/// (`postgres://…`, `postgresql://…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(Box<PgUrl>),
}

impl Location {
    /// Read what the user gave. A URL of another kind is refused, naming the kinds there are.
    pub fn parse(given: &std::path::Path) -> Result<Location, StoreError> {
        let text = given.to_string_lossy();
        if let Some(path) = text.strip_prefix("sqlite:") {
            return Ok(Location::Sqlite(path.trim_start_matches("//").into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return postgres::parse_url(&text)
                .map(|url| Location::Postgres(Box::new(url)))
                .map_err(StoreError::Unsupported);
        }
        match text.split_once("://") {
            Some((scheme, _))
                if scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                Err(StoreError::Unsupported(format!(
                    "`{scheme}://` stores are not supported by this tasker\n  hint: give a file path (`--db PATH` or `sqlite:PATH`) or a PostgreSQL URL (`postgres://USER@HOST/DATABASE`)"
                )))
            }
            _ => Ok(Location::Sqlite(given.to_owned())),
        }
    }
}

/// A store as the commands use it: the state of tasks, and its upkeep.
pub trait Backend: Store + Maintenance {}

impl<T: Store + Maintenance> Backend for T {}

/// Open (creating it if needed) the store at `location`; `create_dirs` when it is the default
/// one, whose directories tasker may make.
pub fn open(
    location: &Location,
    create_dirs: bool,
    durability: Durability,
) -> Result<Box<dyn Backend>, StoreError> {
    match location {
        Location::Sqlite(path) => {
            let store = SqliteStore::open(path, create_dirs)?;
            store.set_durability(durability)?;
            Ok(Box::new(store))
        }
        // PostgreSQL commits synchronously either way (its own default): a commit survives
        // a crash of the server as well as of tasker.
        Location::Postgres(url) => Ok(Box::new(PgStore::open(url)?)),
    }
}

/// Open the store at `location` if it exists, never creating or writing it.
pub fn open_existing(
    location: &Location,
    durability: Durability,
) -> Result<Option<Box<dyn Backend>>, StoreError> {
    match location {
        Location::Sqlite(path) => match SqliteStore::open_existing(path)? {
            Some(store) => {
                store.set_durability(durability)?;
                Ok(Some(Box::new(store)))
            }
            None => Ok(None),
        },
        Location::Postgres(url) => {
            Ok(PgStore::open_existing(url)?.map(|store| Box::new(store) as Box<dyn Backend>))
        }
    }
}

/// What `tasker db` does to a store, whatever the backend.
pub trait Maintenance {
    /// Where the store is, as messages name it (a path, a URL without its password).
    fn location(&self) -> String;
    /// The schema version the store has.
    fn schema_version(&self) -> Result<i64, StoreError>;
    /// The schema version this tasker writes for this kind of store.
    fn supported_version(&self) -> i64;
    /// The backend's own consistency checks: the problems found, if any.
    fn check(&self) -> Result<Vec<String>, StoreError>;
    /// Delete tasks created before `before` whose state is one of `states` (never one that
    /// is running), with everything that belongs to them; with `dry_run`, only count.
    fn prune(&mut self, before: i64, states: &[State], dry_run: bool)
    -> Result<Pruned, StoreError>;
    /// Give freed space back; the store's size before and after, in bytes.
    fn vacuum(&mut self) -> Result<(u64, u64), StoreError>;
}

/// The durable state of tasks. The engine and the commands use nothing else to reach it.
pub trait Store: Send {
    /// Create a task and its steps, all `pending`, with the first events and the steps
    /// bypassed at creation. The domain decides those (`domain::opening`); a backend only
    /// writes them, through [`Store::insert_task`].
    fn create_task(&mut self, new: &NewTask<'_>) -> Result<Created, StoreError> {
        let opening = domain::opening(new)?;
        self.insert_task(new, &opening)
    }
    /// Write a new task's rows, then `opening` (its events get the task's id and sequence
    /// numbers 1, 2, …; its step changes are applied by position), in one transaction; or
    /// return the task that already has `new`'s idempotency key. Persists only: decides
    /// nothing.
    fn insert_task(&mut self, new: &NewTask<'_>, opening: &Opening) -> Result<Created, StoreError>;
    /// Apply changes atomically: every transition checked against the state tables
    /// (and against the stored state) and audited in the same transaction.
    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        domain::check_changes(changes)?;
        self.apply(None, changes)
    }
    /// As [`Store::commit`], fenced: written only while `owner` still owns task `task_id`
    /// (else `Fenced`, and nothing is written). A runner commits this way, so one whose task
    /// was taken over changes nothing.
    fn commit_as(
        &mut self,
        task_id: TaskId,
        owner: &Owner,
        changes: &[Change],
    ) -> Result<(), StoreError> {
        domain::check_changes(changes)?;
        self.apply(Some((task_id, owner)), changes)
    }
    /// Write `changes` in one transaction — only while `fence`'s owner owns its task, when
    /// one is given — each transition only if the stored state is still its `from` (else
    /// `Conflict`, and nothing is written). Persists only: whether a transition is allowed
    /// was decided by [`Store::commit`].
    fn apply(
        &mut self,
        fence: Option<(TaskId, &Owner)>,
        changes: &[Change],
    ) -> Result<(), StoreError>;
    /// A task and its steps, or `None`.
    fn task(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError>;
    /// Tasks, newest first.
    fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskSummary>, StoreError>;
    /// The audit trail of a task and its steps, in order.
    fn transitions(&self, id: TaskId) -> Result<Vec<Transition>, StoreError>;
    /// The attempts of one step, in order.
    fn attempts(&self, step_id: StepId) -> Result<Vec<AttemptRecord>, StoreError>;
    /// Make `owner` the task's runner, unless a runner that `alive` says is alive owns it: a
    /// compare-and-set on the owner and its heartbeat as read, so of two claimants racing
    /// one wins and the other is told who owns the task. Returns the heartbeat it wrote.
    fn claim(
        &mut self,
        task_id: TaskId,
        owner: &Owner,
        alive: &dyn Fn(&Owner, Option<i64>) -> bool,
    ) -> Result<i64, StoreError>;
    /// A number that changes whenever another connection commits to the store (SQLite's
    /// `data_version`); `None` where the store cannot tell. What this connection read while
    /// it kept its value is still what the store holds, but for this connection's writes.
    fn data_version(&self) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
    /// Task `id` without its steps (`steps` is empty): its row and its sessions, for who
    /// knows the steps already. Backends that cannot read less read the whole task.
    fn task_head(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        self.task(id)
    }
    /// The task this connection's last [`insert_task`](Store::insert_task) created from `new`
    /// and `opening` (a new task, not an existing one), as [`task`](Store::task) would read it
    /// then, with the [`data_version`](Store::data_version) just after its commit; given
    /// once, and only where the store can tell (SQLite).
    fn take_created(&mut self, new: &NewTask<'_>, opening: &Opening) -> Option<(TaskRecord, i64)> {
        let _ = (new, opening);
        None
    }
    /// Whether the store keeps the events a row restates ([`Restated`], [`Change::Handling`])
    /// on that row, and reads them back from it: the engine then leaves their text out of
    /// the batch. Their numbers must be the engine's own (not numbered by the store).
    fn restates_events(&self) -> bool {
        false
    }
    /// Record that `owner` still runs the task, keeping its lease; `Fenced` when another
    /// runner has taken the task over.
    fn heartbeat(&mut self, task_id: TaskId, owner: &Owner) -> Result<(), StoreError>;
    /// Fail if the store's file was removed or replaced since it was opened: writes would
    /// go to a file nobody will read again.
    fn check_file(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Each task in `window`, one at a time, for analytics and metrics.
    fn task_facts(&self, window: &Window, each: &mut dyn FnMut(TaskFact))
    -> Result<(), StoreError>;
    /// Each step of the tasks in `window`, one at a time, for analytics and metrics.
    fn step_facts(&self, window: &Window, each: &mut dyn FnMut(StepFact))
    -> Result<(), StoreError>;
    /// Tasks and steps by state, and failed steps by whether they will be retried.
    fn counts(&self) -> Result<Counts, StoreError>;
    /// Tasks in `in_progress`, with their owners.
    fn running(&self) -> Result<Vec<RunningTask>, StoreError>;
    /// Tasks in `error` that finished since `since`.
    fn failed_since(&self, since: i64) -> Result<u64, StoreError>;
    /// The highest event sequence number of a task (0 when it has none).
    fn last_event_seq(&self, task_id: TaskId) -> Result<u64, StoreError>;
    /// A task's events with a sequence number above `after`, in order, at most `limit`.
    fn events(&self, task_id: TaskId, after: u64, limit: usize) -> Result<Vec<Json>, StoreError>;
    /// Attach a note to a task (`cancel_request`, …); returns its id.
    fn annotate(&mut self, task_id: TaskId, kind: &str, note: &Json) -> Result<i64, StoreError>;
    /// A task's annotations that users wrote (not tasker's own), oldest first.
    fn user_annotations(&self, task_id: TaskId) -> Result<Vec<Annotation>, StoreError>;
    /// A task's notes of one kind with an id above `after`, in order.
    fn annotations(
        &self,
        task_id: TaskId,
        kind: &str,
        after: i64,
    ) -> Result<Vec<(i64, Json)>, StoreError>;
}

/// What a new task starts with besides its rows: decided by the domain, written by a backend.
#[derive(Debug, Clone, Default)]
pub struct Opening {
    /// The first events, in order; the backend sets their task id and sequence numbers.
    pub events: Vec<Event>,
    /// Step transitions made at creation (bypassed steps), by the step's position.
    pub steps: Vec<OpeningStep>,
}

/// A step transition made as a task is created.
#[derive(Debug, Clone)]
pub struct OpeningStep {
    pub position: usize,
    pub from: State,
    pub to: State,
    pub metadata: Json,
    pub state: StepState,
}

/// Check a transition against the tables before writing it.
pub(crate) fn check(
    entity: Entity,
    id: i64,
    from: State,
    to: State,
    actor: Actor,
) -> Result<(), StoreError> {
    if crate::model::allowed(entity, from, to, actor) {
        Ok(())
    } else {
        Err(StoreError::Illegal {
            entity: match entity {
                Entity::Task => "task",
                Entity::Step => "step",
            },
            id,
            from,
            to,
        })
    }
}

#[cfg(test)]
mod metadata {
    use super::Metadata;

    /// The engine's metadata kept as a number is written as the JSON it stands for.
    #[test]
    fn an_attempt_is_written_as_its_json() {
        for n in [0, 1, 12, u32::MAX] {
            let kept = Metadata::Attempt(n);
            let value = serde_json::json!({"actor": "tasker", "attempt": n});
            assert_eq!(kept.text(), serde_json::to_string(&value).unwrap());
            assert_eq!(kept.to_string(), value.to_string());
            let parsed: serde_json::Value = serde_json::from_str(&kept.text()).unwrap();
            assert_eq!(parsed, value);
        }
        let other = Metadata::from(serde_json::json!({"actor": "ops", "reason": "a \"quote\""}));
        assert_eq!(other.text(), r#"{"actor":"ops","reason":"a \"quote\""}"#);
    }
}
