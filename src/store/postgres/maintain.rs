//! Upkeep for `tasker db`: the schema version, consistency checks, prune, vacuum.

use super::*;
use crate::store::{Maintenance, Pruned};

impl Maintenance for PgStore {
    fn location(&self) -> String {
        self.shown.clone()
    }

    fn supported_version(&self) -> i64 {
        super::PG_SCHEMA_VERSION
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        self.version(&self.client)
    }

    /// PostgreSQL keeps its own integrity (foreign keys, checksums when enabled); what is
    /// checked here is tasker's: each task's and step's state is its last transition's,
    /// and each task's steps are numbered 0..n.
    fn check(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        for r in self.cache.query(
            &self.client,
            "SELECT t.task_id, t.status, x.to_state FROM tasks t
             JOIN task_transitions x ON x.task_id = t.task_id AND x.most_recent
             WHERE x.to_state <> t.status",
            &[],
        )? {
            let (id, status, last): (i64, String, String) = (col(&r, 0)?, col(&r, 1)?, col(&r, 2)?);
            problems.push(format!(
                "task {id} is `{status}` but its last transition is to `{last}`"
            ));
        }
        for r in self.cache.query(
            &self.client,
            "SELECT s.task_id, s.name, s.status, x.to_state FROM workflow_steps s
             JOIN workflow_step_transitions x ON x.workflow_step_id = s.workflow_step_id AND x.most_recent
             WHERE x.to_state <> s.status",
            &[],
        )? {
            let (id, name, status, last): (i64, String, String, String) =
                (col(&r, 0)?, col(&r, 1)?, col(&r, 2)?, col(&r, 3)?);
            problems.push(format!(
                "task {id}, step `{name}` is `{status}` but its last transition is to `{last}`"
            ));
        }
        for r in self.cache.query(
            &self.client,
            "SELECT task_id FROM workflow_steps GROUP BY task_id
             HAVING MIN(position) <> 0 OR MAX(position) <> COUNT(*) - 1",
            &[],
        )? {
            let id: i64 = col(&r, 0)?;
            problems.push(format!("task {id}: its steps' positions are not 0..n"));
        }
        Ok(problems)
    }

    fn prune(
        &mut self,
        before: i64,
        states: &[State],
        dry_run: bool,
    ) -> Result<Pruned, StoreError> {
        let states: Vec<&str> = states
            .iter()
            .filter(|s| **s != State::InProgress)
            .map(|s| s.as_str())
            .collect();
        let cache = &self.cache;
        let tx = wait(self.client.transaction())?;
        let r = cache.one(
            &tx,
            "WITH doomed AS (SELECT task_id FROM tasks
                              WHERE created_at < $1 AND status = ANY($2::text[]) AND status <> 'in_progress')
             SELECT (SELECT COUNT(*) FROM doomed),
                    (SELECT COUNT(*) FROM workflow_steps WHERE task_id IN (SELECT task_id FROM doomed)),
                    (SELECT COUNT(*) FROM step_attempts WHERE workflow_step_id IN
                        (SELECT workflow_step_id FROM workflow_steps WHERE task_id IN (SELECT task_id FROM doomed))),
                    (SELECT COUNT(*) FROM events WHERE task_id IN (SELECT task_id FROM doomed))",
            &[&before, &states],
        )?;
        let n = |i: usize| -> Result<u64, StoreError> { Ok(col::<i64>(&r, i)?.max(0) as u64) };
        let pruned = Pruned {
            tasks: n(0)?,
            steps: n(1)?,
            attempts: n(2)?,
            events: n(3)?,
        };
        if !dry_run {
            // Foreign keys cascade from tasks to everything that belongs to them.
            cache.exec(
                &tx,
                "DELETE FROM tasks WHERE created_at < $1 AND status = ANY($2::text[]) AND status <> 'in_progress'",
                &[&before, &states],
            )?;
        }
        wait(tx.commit())?;
        Ok(pruned)
    }

    /// `VACUUM`: dead rows' space made reusable (PostgreSQL gives it back to the operating
    /// system only at the tables' ends); the database's size before and after.
    fn vacuum(&mut self) -> Result<(u64, u64), StoreError> {
        let size = |s: &PgStore| -> Result<u64, StoreError> {
            let r = s.cache.one(
                &s.client,
                "SELECT pg_database_size(current_database())",
                &[],
            )?;
            Ok(col::<i64>(&r, 0)?.max(0) as u64)
        };
        let before = size(self)?;
        wait(self.client.batch_execute("VACUUM"))?;
        Ok((before, size(self)?))
    }
}
