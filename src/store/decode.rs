//! Reading stored values back, the same for every backend: a state, a JSON text, a step
//! error, and the running time of a task from its sessions. A value that does not read is
//! an error naming what it is, never a silent default.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::{StepError, StoreError, TaskId};
use crate::model::State;

pub(super) fn state_of(text: &str) -> Result<State, StoreError> {
    text.parse::<State>().map_err(StoreError::Corrupt)
}

pub(super) fn json_of(text: Option<String>) -> Result<Option<Json>, StoreError> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

pub(super) fn error_of(
    class: Option<String>,
    message: Option<String>,
) -> Result<Option<StepError>, StoreError> {
    class
        .map(|class| {
            Ok(StepError {
                class: class.parse().map_err(StoreError::Corrupt)?,
                message: message.unwrap_or_default(),
            })
        })
        .transpose()
}

/// The sessions (runs) of every task, by task.
pub(super) type Resumed = HashMap<TaskId, Vec<(i64, Option<i64>)>>;

/// The running time of `[start, end]` of a task: the time its runners worked on it.
pub(super) fn running(
    resumed: &Resumed,
    task: TaskId,
    start: Option<i64>,
    end: i64,
) -> Option<u64> {
    match resumed.get(&task) {
        Some(sessions) => crate::model::running(start, Some(end), sessions, end),
        None => start.map(|s| (end - s).max(0) as u64),
    }
}

/// `value` as JSON text, as its `Display` writes it, without going through `fmt`: a
/// transition's metadata and a step's results are written this way at every commit.
pub(super) fn json_text(value: &Json) -> String {
    // Serialising a `Value` cannot fail: its map keys are strings.
    serde_json::to_string(value).unwrap_or_default()
}
