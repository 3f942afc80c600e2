//! How a store fails, in kinds every backend maps its own errors to.

use super::{Owner, TaskId};
use crate::model::State;

/// Errors of the store; all map to exit code 6 except refused transitions (5).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store `{path}`: {message}")]
    Open { path: String, message: String },
    #[error("the store `{path}` failed during the run: {message}")]
    Failed { path: String, message: String },
    #[error(
        "the store `{path}` has schema version {found}, newer than this tasker supports ({supported})\n  hint: upgrade tasker, or point `--db` at another file"
    )]
    NewerSchema {
        path: String,
        found: i64,
        supported: i64,
    },
    /// The backend failed; `kind` says how, in terms of what the user can do, `message` in
    /// its words and the backend's.
    #[error("store error: {message}")]
    Backend { kind: Failure, message: String },
    #[error("the store holds data this tasker cannot read: {0}")]
    Corrupt(String),
    /// The user named a kind of store this tasker does not have.
    #[error("{0}")]
    Unsupported(String),
    #[error("{entity} {id}: transition `{from}` → `{to}` is not allowed")]
    Illegal {
        entity: &'static str,
        id: i64,
        from: State,
        to: State,
    },
    #[error("{entity} {id} is no longer `{expected}`: another process changed it")]
    Conflict {
        entity: &'static str,
        id: i64,
        expected: State,
    },
    /// This runner's lease on the task was taken over: it may write nothing more.
    #[error(
        "task {task_id} was taken over by {}: this runner's lease had lapsed, so it stopped its steps and wrote nothing more\n  hint: `tasker status {task_id}` shows who runs it now",
        by.as_ref().map_or_else(|| "no runner".to_owned(), |o| format!("pid {} on {}", o.pid, o.host))
    )]
    Fenced { task_id: TaskId, by: Option<Owner> },
    #[error(
        "task {task_id} is being run by pid {} on {} (heartbeat {})\n  hint: wait for it, or `tasker cancel {task_id}`",
        owner.pid, owner.host, heartbeat_at.map(crate::clock::rfc3339).unwrap_or_else(|| "never".into())
    )]
    Owned {
        task_id: TaskId,
        owner: Owner,
        heartbeat_at: Option<i64>,
    },
}

/// How a store failed, whatever the backend: each backend maps its own errors to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Held by another writer past the busy timeout.
    Busy,
    /// No room left (a full disk, a size limit).
    Full,
    /// The store may be read but not written.
    ReadOnly,
    /// Not a store, or a damaged one.
    Corrupt,
    /// Reading or writing failed below the store (a device, a vanished file).
    Io,
    /// Anything else the backend reports.
    Other,
}

impl StoreError {
    /// Whether this error is a refused transition rather than a failing store.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StoreError::Illegal { .. }
                | StoreError::Conflict { .. }
                | StoreError::Owned { .. }
                | StoreError::Fenced { .. }
        )
    }
}
