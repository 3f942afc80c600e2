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
    /// Every event of the task numbered up to here was recorded when the list was read:
    /// those rows restate are in it. A row's event never changes once written, and a
    /// task's events are recorded in order, so a newer one is numbered above.
    last: u64,
    /// The highest transition and attempt rows there were: newer rows are above them,
    /// unless these were removed since (their ids may then be taken again).
    transitions_seen: Mark,
    attempts_seen: Mark,
    /// The task's attempts from this row id on may still get a handler's call.
    attempts_open: i64,
    ids: HashMap<i64, u32>,
    names: Vec<String>,
    rows: Vec<Row>,
}

/// The connection's last such list.
pub(super) type Kept = RefCell<Option<Restated>>;

/// A row by its id, and what it is: its step, its number among the step's transitions or
/// attempts, its time. A row removed and its id taken again by another is told apart.
type Mark = (i64, [i64; 3]);

fn corrupt(task_id: TaskId, seq: u64, what: &str) -> StoreError {
    StoreError::Corrupt(format!("event {seq} of task {task_id}: {what}"))
}

/// A step transition that restates an event, as read: the step's id and name, the
/// transition's event columns, its attempt's exit code.
const TRANSITION_COLUMNS: &str =
    "s.workflow_step_id, s.name, t.event_seq, t.event_at, t.from_state, t.to_state,
    t.event_attempt, t.event_ms, t.discovered, a.exit_code";

/// An attempt, as read: its row id, its step's id and name, its handler's call (if made).
const ATTEMPT_COLUMNS: &str = "a.step_attempt_id, s.workflow_step_id, s.name, a.handle_seq, a.handle_at, a.attempt, a.handler";

impl SqliteStore {
    /// The store's version as this connection sees it: others' commits and its own writes.
    fn version(&self) -> Result<(i64, u64), StoreError> {
        let others: i64 = self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        Ok((others, self.conn.total_changes()))
    }

    /// Make the kept list task `task_id`'s, holding at least its events in `after + 1 ..=
    /// after + limit` (inside the caller's read transaction, so that it agrees with the
    /// pages read next). A list of the store as it is, or one that already knows that far,
    /// is kept; else what was written since is read (the rows above those seen, the
    /// attempts still open), or, should rows have been removed since, all of it again.
    pub(super) fn restated(
        &self,
        task_id: TaskId,
        after: u64,
        limit: usize,
    ) -> Result<std::cell::Ref<'_, Restated>, StoreError> {
        let version = self.version()?;
        let needed = after.saturating_add(limit as u64);
        let mut kept = self.restated.borrow_mut();
        match kept.as_mut() {
            Some(r) if r.task_id == task_id && (r.version == version || needed <= r.last) => {}
            Some(r) if r.task_id == task_id && !self.rows_removed(r)? => {
                self.read_new(r)?;
                r.version = version;
            }
            _ => {
                let mut r = Restated {
                    task_id,
                    version,
                    last: 0,
                    transitions_seen: (0, [0; 3]),
                    attempts_seen: (0, [0; 3]),
                    attempts_open: 0,
                    ids: HashMap::new(),
                    names: Vec::new(),
                    rows: Vec::new(),
                };
                self.read_all(&mut r)?;
                *kept = Some(r);
            }
        }
        drop(kept);
        Ok(std::cell::Ref::map(self.restated.borrow(), |r| {
            r.as_ref().expect("just kept")
        }))
    }

    /// The highest transition and attempt rows now.
    fn highest(&self) -> Result<(Mark, Mark), StoreError> {
        Ok((
            self.mark(
                "SELECT workflow_step_transition_id, workflow_step_id, sort_key, created_at
                 FROM workflow_step_transitions ORDER BY workflow_step_transition_id DESC LIMIT 1",
                [],
            )?,
            self.mark(
                "SELECT step_attempt_id, workflow_step_id, attempt, started_at
                 FROM step_attempts ORDER BY step_attempt_id DESC LIMIT 1",
                [],
            )?,
        ))
    }

    /// The row `sql` finds, as a [`Mark`] (id 0: none).
    fn mark(&self, sql: &str, id: impl rusqlite::Params) -> Result<Mark, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(id, |r| Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?])))
            .optional()?
            .unwrap_or((0, [0; 3])))
    }

    /// Whether the highest rows `r` saw were removed since (`db prune`): new rows may then
    /// have taken ids at or below them.
    fn rows_removed(&self, r: &Restated) -> Result<bool, StoreError> {
        let now = (
            self.mark(
                "SELECT workflow_step_transition_id, workflow_step_id, sort_key, created_at
                 FROM workflow_step_transitions WHERE workflow_step_transition_id = ?1",
                [r.transitions_seen.0],
            )?,
            self.mark(
                "SELECT step_attempt_id, workflow_step_id, attempt, started_at
                 FROM step_attempts WHERE step_attempt_id = ?1",
                [r.attempts_seen.0],
            )?,
        );
        Ok(now != (r.transitions_seen, r.attempts_seen))
    }

    /// All of the task's rows that restate events, a look at each of its steps.
    fn read_all(&self, r: &mut Restated) -> Result<(), StoreError> {
        self.read(
            r,
            "FROM workflow_steps s
             JOIN workflow_step_transitions t ON t.workflow_step_id = s.workflow_step_id",
            "s.task_id = ?1 AND ?2 = 0",
            "FROM workflow_steps s
             JOIN step_attempts a ON a.workflow_step_id = s.workflow_step_id
             WHERE s.task_id = ?1 AND ?2 = 0",
            (0, 0),
        )
    }

    /// The task's rows written since `r` was read: the transitions above those it saw, the
    /// attempts from the first still open on.
    fn read_new(&self, r: &mut Restated) -> Result<(), StoreError> {
        let since = (r.transitions_seen.0, r.attempts_open);
        self.read(
            r,
            "FROM workflow_step_transitions t
             JOIN workflow_steps s ON s.workflow_step_id = t.workflow_step_id",
            "t.workflow_step_transition_id > ?2 AND s.task_id = ?1",
            "FROM step_attempts a
             JOIN workflow_steps s ON s.workflow_step_id = a.workflow_step_id
             WHERE a.step_attempt_id >= ?2 AND s.task_id = ?1",
            since,
        )
    }

    /// Add to `r` the transitions (`transitions_from` and `where_transition`, with
    /// `since.0`) and attempts (`attempts_from_where`, with `since.1`) read so.
    fn read(
        &self,
        r: &mut Restated,
        transitions_from: &str,
        where_transition: &str,
        attempts_from_where: &str,
        since: (i64, i64),
    ) -> Result<(), StoreError> {
        let (transitions, attempts) = self.highest()?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TRANSITION_COLUMNS}
             {transitions_from}
             LEFT JOIN step_attempts a ON t.to_state = 'complete'
                AND a.workflow_step_id = t.workflow_step_id AND a.attempt = t.event_attempt
             WHERE {where_transition} AND t.event_seq IS NOT NULL"
        ))?;
        r.add_transitions(stmt.query(params![r.task_id, since.0])?)?;
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {ATTEMPT_COLUMNS} {attempts_from_where}"))?;
        r.add_attempts(stmt.query(params![r.task_id, since.1])?, attempts.0)?;
        r.transitions_seen = transitions;
        r.attempts_seen = attempts;
        r.finish(SqliteStore::last_page_seq_in(&self.conn, r.task_id)?);
        Ok(())
    }
}

impl Restated {
    /// The index of step `id`'s name, kept once.
    fn step(&mut self, id: i64, name: &str) -> u32 {
        let names = &mut self.names;
        *self.ids.entry(id).or_insert_with(|| {
            names.push(name.to_owned());
            (names.len() - 1) as u32
        })
    }

    /// Transitions read with [`TRANSITION_COLUMNS`]; those already known are skipped.
    fn add_transitions(&mut self, mut found: rusqlite::Rows<'_>) -> Result<(), StoreError> {
        let task_id = self.task_id;
        while let Some(r) = found.next()? {
            let seq: i64 = r.get(2)?;
            let seq = seq as u64;
            if seq <= self.last {
                continue;
            }
            let text = |i: usize| {
                r.get_ref(i)?
                    .as_str()
                    .map_err(|e| corrupt(task_id, seq, &e.to_string()))
            };
            let step = self.step(r.get(0)?, text(1)?);
            let at: i64 = r.get(3)?;
            let (from, to) = (state_of(text(4)?)?, state_of(text(5)?)?);
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
            self.rows.push(Row {
                seq,
                at,
                step,
                said,
            });
            if let Some(count) = r.get::<_, Option<u32>>(8)? {
                self.rows.push(Row {
                    seq: seq - 1,
                    at,
                    step,
                    said: Said::Discovered { count },
                });
            }
        }
        Ok(())
    }

    /// Attempts read with [`ATTEMPT_COLUMNS`]: the calls not yet known, and from which
    /// attempt on calls may still come (`highest` + 1 when none is open).
    fn add_attempts(
        &mut self,
        mut found: rusqlite::Rows<'_>,
        highest: i64,
    ) -> Result<(), StoreError> {
        let task_id = self.task_id;
        let mut open = highest + 1;
        while let Some(r) = found.next()? {
            let row_id: i64 = r.get(0)?;
            let Some(seq) = r.get::<_, Option<i64>>(3)? else {
                open = open.min(row_id);
                continue;
            };
            let seq = seq as u64;
            if seq <= self.last {
                continue;
            }
            let name = r
                .get_ref(2)?
                .as_str()
                .map_err(|e| corrupt(task_id, seq, &e.to_string()))?;
            let step = self.step(r.get(1)?, name);
            let handler = r.get_ref(6)?.as_str().ok().and_then(Handler::parse);
            self.rows.push(Row {
                seq,
                at: r.get(4)?,
                step,
                said: Said::Handling {
                    attempt: r.get(5)?,
                    handler: handler.ok_or_else(|| corrupt(task_id, seq, "an unknown handler"))?,
                },
            });
        }
        self.attempts_open = open;
        Ok(())
    }

    /// Put the rows in order, and know the task's events up to the highest of them and of
    /// its last page (`last_page`).
    fn finish(&mut self, last_page: u64) {
        // What was known stays in place: only the rows added since are sorted.
        let known = self.rows.partition_point(|r| r.seq <= self.last);
        self.rows[known..].sort_unstable_by_key(|r| r.seq);
        let last_row = self.rows.last().map_or(0, |r| r.seq);
        self.last = self.last.max(last_row).max(last_page);
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
