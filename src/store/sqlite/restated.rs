//! The events rows restate, read back: a task's `step.execution_requested` and
//! `step.completed` from its steps' transitions (with the `workflow.viable_steps_discovered`
//! before a group of starts), its `step.before_handle` from their attempts. They are merged
//! with the log's pages by number when the log is read.
//!
//! Finding them takes a look at each of the task's steps (no index orders them by number),
//! so the connection keeps the last task's list for as long as the store has not changed:
//! a log read a thousand events at a time scans its rows once.

use std::cell::RefCell;
use std::collections::HashMap;

use super::*;
use crate::model::Event;
use crate::store::restated::{discovery_event, handling_event, transition_event};

/// What one row restates.
#[derive(Debug, Clone, Copy)]
enum Said {
    /// A transition's event: its states, attempt, `ms`, and the attempt's exit code.
    Transition {
        from: State,
        to: State,
        attempt: u32,
        ms: u64,
        exit_code: Option<i32>,
    },
    /// A discovery of the steps whose starts are the next `count` events.
    Discovered {
        count: u32,
    },
    Handling {
        attempt: u32,
        handler: Handler,
    },
}

/// The handlers `step.before_handle` names.
#[derive(Debug, Clone, Copy)]
enum Handler {
    Command,
    Plugin,
    Http,
    Noop,
}

impl Handler {
    fn parse(text: &str) -> Option<Handler> {
        Some(match text {
            "command" => Handler::Command,
            "plugin" => Handler::Plugin,
            "http" => Handler::Http,
            "noop" => Handler::Noop,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Handler::Command => "command",
            Handler::Plugin => "plugin",
            Handler::Http => "http",
            Handler::Noop => "noop",
        }
    }
}

/// An event a row restates: its number, time, step (an index into the names) and what.
#[derive(Debug, Clone, Copy)]
struct Row {
    seq: u64,
    at: i64,
    step: u32,
    said: Said,
}

/// A task's events restated by rows, in order, as the store was at `version`.
#[derive(Debug)]
pub(super) struct Restated {
    task_id: TaskId,
    version: (i64, u64),
    names: Vec<String>,
    rows: Vec<Row>,
}

/// The connection's last such list.
pub(super) type Kept = RefCell<Option<Restated>>;

fn corrupt(task_id: TaskId, seq: u64, what: &str) -> StoreError {
    StoreError::Corrupt(format!("event {seq} of task {task_id}: {what}"))
}

impl SqliteStore {
    /// The store's version as this connection sees it: others' commits and its own writes.
    fn version(&self) -> Result<(i64, u64), StoreError> {
        let others: i64 = self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        Ok((others, self.conn.total_changes()))
    }

    /// Make the kept list task `task_id`'s as the store is now (inside the caller's read
    /// transaction, so that it agrees with the pages read next).
    pub(super) fn restated(
        &self,
        task_id: TaskId,
    ) -> Result<std::cell::Ref<'_, Restated>, StoreError> {
        let version = self.version()?;
        let fresh = self
            .restated
            .borrow()
            .as_ref()
            .is_some_and(|r| r.task_id == task_id && r.version == version);
        if !fresh {
            let list = self.read_restated(task_id, version)?;
            *self.restated.borrow_mut() = Some(list);
        }
        Ok(std::cell::Ref::map(self.restated.borrow(), |r| {
            r.as_ref().expect("just kept")
        }))
    }

    fn read_restated(&self, task_id: TaskId, version: (i64, u64)) -> Result<Restated, StoreError> {
        let mut names: Vec<String> = Vec::new();
        let mut ids: HashMap<i64, u32> = HashMap::new();
        let mut name_of = |id: i64, name: &str| -> u32 {
            *ids.entry(id).or_insert_with(|| {
                names.push(name.to_owned());
                (names.len() - 1) as u32
            })
        };
        let mut rows = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.workflow_step_id, s.name, t.event_seq, t.event_at, t.from_state, t.to_state,
                    t.event_attempt, t.event_ms, t.discovered, a.exit_code
             FROM workflow_steps s
             JOIN workflow_step_transitions t ON t.workflow_step_id = s.workflow_step_id
             LEFT JOIN step_attempts a ON t.to_state = 'complete'
                AND a.workflow_step_id = t.workflow_step_id AND a.attempt = t.event_attempt
             WHERE s.task_id = ?1 AND t.event_seq IS NOT NULL",
        )?;
        let mut found = stmt.query([task_id])?;
        while let Some(r) = found.next()? {
            let seq: i64 = r.get(2)?;
            let seq = seq as u64;
            let name = r
                .get_ref(1)?
                .as_str()
                .map_err(|e| corrupt(task_id, seq, &e.to_string()))?;
            let step = name_of(r.get(0)?, name);
            let at: i64 = r.get(3)?;
            let from = state_of(
                r.get_ref(4)?
                    .as_str()
                    .map_err(|e| corrupt(task_id, seq, &e.to_string()))?,
            )?;
            let to = state_of(
                r.get_ref(5)?
                    .as_str()
                    .map_err(|e| corrupt(task_id, seq, &e.to_string()))?,
            )?;
            let attempt: Option<u32> = r.get(6)?;
            let ms: Option<i64> = r.get(7)?;
            let said = Said::Transition {
                from,
                to,
                attempt: attempt.ok_or_else(|| corrupt(task_id, seq, "no attempt"))?,
                ms: ms
                    .ok_or_else(|| corrupt(task_id, seq, "no duration"))?
                    .max(0) as u64,
                exit_code: r.get(9)?,
            };
            rows.push(Row {
                seq,
                at,
                step,
                said,
            });
            if let Some(count) = r.get::<_, Option<u32>>(8)? {
                rows.push(Row {
                    seq: seq - 1,
                    at,
                    step,
                    said: Said::Discovered { count },
                });
            }
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.workflow_step_id, s.name, a.handle_seq, a.handle_at, a.attempt, a.handler
             FROM workflow_steps s
             JOIN step_attempts a ON a.workflow_step_id = s.workflow_step_id
             WHERE s.task_id = ?1 AND a.handle_seq IS NOT NULL",
        )?;
        let mut found = stmt.query([task_id])?;
        while let Some(r) = found.next()? {
            let seq: i64 = r.get(2)?;
            let seq = seq as u64;
            let name = r
                .get_ref(1)?
                .as_str()
                .map_err(|e| corrupt(task_id, seq, &e.to_string()))?;
            let step = name_of(r.get(0)?, name);
            let handler = r.get_ref(5)?.as_str().ok().and_then(Handler::parse);
            rows.push(Row {
                seq,
                at: r.get(3)?,
                step,
                said: Said::Handling {
                    attempt: r.get(4)?,
                    handler: handler.ok_or_else(|| corrupt(task_id, seq, "an unknown handler"))?,
                },
            });
        }
        rows.sort_unstable_by_key(|r| r.seq);
        Ok(Restated {
            task_id,
            version,
            names,
            rows,
        })
    }
}

impl Restated {
    /// The position of the first event numbered above `after`.
    pub(super) fn after(&self, after: u64) -> usize {
        self.rows.partition_point(|r| r.seq <= after)
    }

    /// The number of the event at `i`, if there is one.
    pub(super) fn seq(&self, i: usize) -> Option<u64> {
        self.rows.get(i).map(|r| r.seq)
    }

    /// The event at `i`, as JSON.
    pub(super) fn event(&self, i: usize) -> Result<Json, StoreError> {
        let row = self.rows[i];
        let (task_id, seq) = (self.task_id, row.seq);
        let name = &self.names[row.step as usize];
        let what = match row.said {
            Said::Transition {
                from,
                to,
                attempt,
                ms,
                exit_code,
            } => {
                let kept = crate::store::Restated {
                    seq,
                    at: row.at,
                    attempt,
                    ms,
                    discovered: None,
                };
                transition_event(name, from, to, &kept, exit_code)
                    .ok_or_else(|| corrupt(task_id, seq, "a transition that restates no event"))?
            }
            Said::Handling { attempt, handler } => handling_event(name, attempt, handler.as_str()),
            Said::Discovered { count } => {
                let starts = self
                    .rows
                    .get(i + 1..i + 1 + count as usize)
                    .unwrap_or_default();
                let mut steps = Vec::with_capacity(starts.len());
                for (n, start) in starts.iter().enumerate() {
                    match start.said {
                        Said::Transition {
                            to: State::InProgress,
                            ..
                        } if start.seq == seq + 1 + n as u64 => {
                            steps.push(self.names[start.step as usize].clone());
                        }
                        _ => break,
                    }
                }
                if steps.len() != count as usize {
                    return Err(corrupt(
                        task_id,
                        seq,
                        "fewer starts than the steps discovered",
                    ));
                }
                discovery_event(steps)
            }
        };
        Ok(Event {
            seq,
            task_id,
            timestamp: row.at,
            what,
            trace: None,
        }
        .to_json())
    }
}
