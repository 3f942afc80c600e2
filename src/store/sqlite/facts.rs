//! Facts for analytics, health and metrics: tasks and steps streamed with their running
//! time, counts by state.

use super::*;
use crate::store::decode::{Resumed, running};

impl SqliteStore {
    pub(super) fn task_facts(
        &self,
        w: &Window,
        each: &mut dyn FnMut(TaskFact),
    ) -> Result<(), StoreError> {
        let resumed = self.resumed_sessions(w)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.task_id, ns.name, nt.name, t.status, t.started_at, t.finished_at
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             WHERE (?1 IS NULL OR t.created_at >= ?1) AND (?2 IS NULL OR ns.name = ?2)
               AND (?3 IS NULL OR nt.name = ?3)",
        )?;
        let mut rows = stmt.query(params![w.since, w.namespace, w.name])?;
        let mut names = Interner::default();
        while let Some(r) = rows.next()? {
            let (start, end): (Option<i64>, Option<i64>) = (r.get(4)?, r.get(5)?);
            let task_id: TaskId = r.get(0)?;
            each(TaskFact {
                task_id,
                namespace: names.get(r, 1)?,
                name: names.get(r, 2)?,
                status: state_of(&r.get::<_, String>(3)?)?,
                duration_ms: end.and_then(|end| running(&resumed, task_id, start, end)),
            });
        }
        Ok(())
    }

    pub(super) fn step_facts(
        &self,
        w: &Window,
        each: &mut dyn FnMut(StepFact),
    ) -> Result<(), StoreError> {
        let resumed = self.resumed_sessions(w)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.task_id, ns.name, nt.name, s.name, s.status, s.counted_attempts, s.started_at, s.finished_at,
                    s.next_retry_at IS NOT NULL
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             JOIN workflow_steps s ON s.task_id = t.task_id
             WHERE (?1 IS NULL OR t.created_at >= ?1) AND (?2 IS NULL OR ns.name = ?2)
               AND (?3 IS NULL OR nt.name = ?3)",
        )?;
        let mut rows = stmt.query(params![w.since, w.namespace, w.name])?;
        let mut names = Interner::default();
        while let Some(r) = rows.next()? {
            let status = state_of(
                r.get_ref(4)?
                    .as_str()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )?;
            let (start, end): (Option<i64>, Option<i64>) = (r.get(6)?, r.get(7)?);
            let ended = !matches!(status, State::Pending | State::InProgress);
            let task_id: TaskId = r.get(0)?;
            each(StepFact {
                task_id,
                namespace: names.get(r, 1)?,
                template: names.get(r, 2)?,
                step: names.get(r, 3)?,
                status,
                attempts: r.get(5)?,
                duration_ms: end
                    .filter(|_| ended)
                    .and_then(|end| running(&resumed, task_id, start, end)),
                retry_pending: r.get(8)?,
            });
        }
        Ok(())
    }

    pub(super) fn counts(&self) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        for (sql, target) in [
            (
                "SELECT status, COUNT(*) FROM tasks GROUP BY status",
                &mut counts.tasks_by_state,
            ),
            (
                "SELECT status, COUNT(*) FROM workflow_steps GROUP BY status",
                &mut counts.steps_by_state,
            ),
        ] {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                target.insert(r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64);
            }
        }
        let (retryable, exhausted): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(next_retry_at), COUNT(*) - COUNT(next_retry_at)
                 FROM workflow_steps WHERE status = 'error'",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        counts.retryable_errors = retryable.max(0) as u64;
        counts.exhausted_errors = exhausted.max(0) as u64;
        Ok(counts)
    }

    pub(super) fn running(&self) -> Result<Vec<RunningTask>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT task_id, owner_pid, owner_host, owner_started_at, heartbeat_at
             FROM tasks WHERE status = 'in_progress'",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let owner = match (
                r.get::<_, Option<u32>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ) {
                (Some(pid), Some(host), Some(started_at)) => Some(Owner {
                    pid,
                    host,
                    started_at,
                }),
                _ => None,
            };
            out.push(RunningTask {
                task_id: r.get(0)?,
                owner,
                heartbeat_at: r.get(4)?,
            });
        }
        Ok(out)
    }

    pub(super) fn failed_since(&self, since: i64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM tasks WHERE status = 'error' AND finished_at >= ?1",
            )?
            .query_row([since], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }
}

impl SqliteStore {
    /// The sessions of every task of the window (one ordered pass over the transitions' index): a task
    /// interrupted, then cancelled, or failed and resolved later, is charged its runs only.
    fn resumed_sessions(&self, w: &Window) -> Result<Resumed, StoreError> {
        // Only the tasks of the window: a question about the last hour reads no more.
        let mut stmt = self.conn.prepare_cached(
            "SELECT x.task_id, x.to_state, x.created_at FROM task_transitions x
             WHERE ?1 IS NULL OR x.task_id IN (SELECT task_id FROM tasks WHERE created_at >= ?1)
             ORDER BY x.task_id, x.sort_key",
        )?;
        let mut rows = stmt.query([w.since])?;
        let mut out: Resumed = Resumed::new();
        while let Some(r) = rows.next()? {
            let started = r.get_ref(1)?.as_str().ok() == Some("in_progress");
            crate::model::session_step(out.entry(r.get(0)?).or_default(), started, r.get(2)?);
        }
        Ok(out)
    }
}
