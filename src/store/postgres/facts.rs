//! Facts for analytics, health and metrics: tasks and steps with their running time,
//! counts by state.

use std::sync::Arc;

use super::*;
use crate::model::session_step;
use crate::store::decode::{Resumed, running};

/// Shares the text of names that repeat across many rows.
#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, text: String) -> Arc<str> {
        if let Some(shared) = self.0.get(&text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = text.as_str().into();
        self.0.insert(text, Arc::clone(&shared));
        shared
    }
}

impl PgStore {
    /// The sessions of every task of the window: a task interrupted, then cancelled, or
    /// failed and resolved later, is charged its runs only.
    fn resumed_sessions(&self, w: &Window) -> Result<Resumed, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT x.task_id, x.to_state, x.created_at FROM task_transitions x
             WHERE $1::bigint IS NULL OR x.task_id IN (SELECT task_id FROM tasks WHERE created_at >= $1)
             ORDER BY x.task_id, x.sort_key",
            &[&w.since],
        )?;
        let mut out = Resumed::new();
        for r in &rows {
            let to: String = col(r, 1)?;
            session_step(
                out.entry(col(r, 0)?).or_default(),
                to == "in_progress",
                col(r, 2)?,
            );
        }
        Ok(out)
    }

    pub(super) fn task_facts(
        &self,
        w: &Window,
        each: &mut dyn FnMut(TaskFact),
    ) -> Result<(), StoreError> {
        let resumed = self.resumed_sessions(w)?;
        let rows = self.cache.query(
            &self.client,
            "SELECT t.task_id, ns.name, nt.name, t.status, t.started_at, t.finished_at
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             WHERE ($1::bigint IS NULL OR t.created_at >= $1) AND ($2::text IS NULL OR ns.name = $2)
               AND ($3::text IS NULL OR nt.name = $3)",
            &[&w.since, &w.namespace, &w.name],
        )?;
        let mut names = Interner::default();
        for r in &rows {
            let (start, end): (Option<i64>, Option<i64>) = (col(r, 4)?, col(r, 5)?);
            let task_id: TaskId = col(r, 0)?;
            each(TaskFact {
                task_id,
                namespace: names.get(col(r, 1)?),
                name: names.get(col(r, 2)?),
                status: state_of(&col::<String>(r, 3)?)?,
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
        let rows = self.cache.query(
            &self.client,
            "SELECT t.task_id, ns.name, nt.name, s.name, s.status, s.counted_attempts, s.started_at,
                    s.finished_at, s.next_retry_at IS NOT NULL
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             JOIN workflow_steps s ON s.task_id = t.task_id
             WHERE ($1::bigint IS NULL OR t.created_at >= $1) AND ($2::text IS NULL OR ns.name = $2)
               AND ($3::text IS NULL OR nt.name = $3)",
            &[&w.since, &w.namespace, &w.name],
        )?;
        let mut names = Interner::default();
        for r in &rows {
            let status = state_of(&col::<String>(r, 4)?)?;
            let (start, end): (Option<i64>, Option<i64>) = (col(r, 6)?, col(r, 7)?);
            let ended = !matches!(status, State::Pending | State::InProgress);
            let task_id: TaskId = col(r, 0)?;
            each(StepFact {
                task_id,
                namespace: names.get(col(r, 1)?),
                template: names.get(col(r, 2)?),
                step: names.get(col(r, 3)?),
                status,
                attempts: u32_of(col(r, 5)?)?,
                duration_ms: end
                    .filter(|_| ended)
                    .and_then(|end| running(&resumed, task_id, start, end)),
                retry_pending: col(r, 8)?,
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
            for r in self.cache.query(&self.client, sql, &[])? {
                target.insert(col(&r, 0)?, col::<i64>(&r, 1)?.max(0) as u64);
            }
        }
        let r = self.cache.one(
            &self.client,
            "SELECT COUNT(next_retry_at), COUNT(*) - COUNT(next_retry_at)
             FROM workflow_steps WHERE status = 'error'",
            &[],
        )?;
        counts.retryable_errors = col::<i64>(&r, 0)?.max(0) as u64;
        counts.exhausted_errors = col::<i64>(&r, 1)?.max(0) as u64;
        Ok(counts)
    }

    pub(super) fn running(&self) -> Result<Vec<RunningTask>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT task_id, owner_pid, owner_host, owner_started_at, heartbeat_at
             FROM tasks WHERE status = 'in_progress'",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(RunningTask {
                    task_id: col(r, 0)?,
                    owner: owner_of(col(r, 1)?, col(r, 2)?, col(r, 3)?),
                    heartbeat_at: col(r, 4)?,
                })
            })
            .collect()
    }

    pub(super) fn failed_since(&self, since: i64) -> Result<u64, StoreError> {
        let n: i64 = col(
            &self.cache.one(
                &self.client,
                "SELECT COUNT(*) FROM tasks WHERE status = 'error' AND finished_at >= $1",
                &[&since],
            )?,
            0,
        )?;
        Ok(n.max(0) as u64)
    }
}
