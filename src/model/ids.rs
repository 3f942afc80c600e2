//! What names a task, a step, and the runner that owns a task.

use serde::Serialize;

/// A task's id in the store.
pub type TaskId = i64;
/// A step's id in the store.
pub type StepId = i64;

/// The runner that owns a task while it runs: a process, named so that a reused pid is
/// not mistaken for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub pid: u32,
    pub host: String,
    /// The process's start time (clock ticks since boot, from `/proc/PID/stat`).
    pub started_at: i64,
}
