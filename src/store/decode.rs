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

/// Each id of a JSON array of ids (`[12,13]`, spaces allowed), as SQLite's `json_group_array`
/// writes it and tasker does: a step's parents. Anything else is an error saying what it is.
pub(super) fn ids_in(list: &str, mut each: impl FnMut(i64)) -> Result<(), String> {
    let inner = list
        .trim()
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .ok_or_else(|| format!("`{list}` is not a JSON array of step ids"))?;
    if inner.trim().is_empty() {
        return Ok(());
    }
    for id in inner.split(',') {
        each(
            id.trim()
                .parse()
                .map_err(|_| format!("`{list}` is not a JSON array of step ids"))?,
        );
    }
    Ok(())
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
