//! Upkeep for `tasker db`: the schema version, integrity checks, prune, vacuum.

use super::*;

/// What `prune` removed (or would remove).
#[derive(Debug, Clone, Copy, Default, serde::Serialize, PartialEq, Eq)]
pub struct Pruned {
    pub tasks: u64,
    pub steps: u64,
    pub attempts: u64,
    pub events: u64,
}

impl Maintenance for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn supported_version(&self) -> i64 {
        super::SCHEMA_VERSION
    }

    /// The schema version of the open store.
    fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check` and `PRAGMA foreign_key_check`: the problems found, if any.
    fn check(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let line: String = r.get(0)?;
            if line != "ok" {
                problems.push(format!("integrity: {line}"));
            }
        }
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (table, rowid, parent): (String, Option<i64>, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?);
            problems.push(format!(
                "foreign key: {table} row {} refers to a missing {parent} row",
                rowid.map_or_else(|| "?".into(), |i| i.to_string())
            ));
        }
        // A step's parents are ids in a text, not foreign keys: each must be a step of the
        // same task.
        let mut stmt = self.conn.prepare(
            "SELECT workflow_step_id, task_id, parents FROM workflow_steps WHERE parents IS NOT NULL",
        )?;
        let mut task_of = self
            .conn
            .prepare("SELECT task_id FROM workflow_steps WHERE workflow_step_id = ?1")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (step, task): (i64, TaskId) = (r.get(0)?, r.get(1)?);
            let Ok(list) = r.get_ref(2)?.as_str() else {
                problems.push(format!("parents: workflow_steps row {step}: not a text"));
                continue;
            };
            let mut named = Vec::new();
            if let Err(e) = ids_in(list, |id| named.push(id)) {
                problems.push(format!("parents: workflow_steps row {step}: {e}"));
            }
            for parent in named {
                let of: Option<TaskId> = task_of.query_row([parent], |r| r.get(0)).optional()?;
                if of != Some(task) {
                    problems.push(format!(
                        "parents: workflow_steps row {step} names {parent}, not a step of task {task}"
                    ));
                }
            }
        }
        Ok(problems)
    }

    /// Delete tasks created before `before` whose state is one of `states` (never one that
    /// is running), with everything that belongs to them; with `dry_run`, only count.
    fn prune(
        &mut self,
        before: i64,
        states: &[State],
        dry_run: bool,
    ) -> Result<Pruned, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS doomed (task_id INTEGER PRIMARY KEY); DELETE FROM doomed;")?;
        {
            let mut pick = tx.prepare(
                "INSERT INTO doomed SELECT task_id FROM tasks WHERE created_at < ?1 AND status = ?2 AND status <> 'in_progress'",
            )?;
            for st in states.iter().filter(|s| **s != State::InProgress) {
                pick.execute(params![before, st.as_str()])?;
            }
        }
        let count = |sql: &str| -> Result<u64, StoreError> {
            let n: i64 = tx.query_row(sql, [], |r| r.get(0))?;
            Ok(n.max(0) as u64)
        };
        let pruned = Pruned {
            tasks: count("SELECT COUNT(*) FROM doomed")?,
            steps: count("SELECT COUNT(*) FROM workflow_steps WHERE task_id IN (SELECT task_id FROM doomed)")?,
            attempts: count(
                "SELECT COUNT(*) FROM step_attempts WHERE workflow_step_id IN
                   (SELECT workflow_step_id FROM workflow_steps WHERE task_id IN (SELECT task_id FROM doomed))",
            )?,
            // The log's pages, and the events the steps' rows restate.
            events: count("SELECT COALESCE(SUM(last_seq - seq + 1), 0) FROM events WHERE task_id IN (SELECT task_id FROM doomed)")?
                + count(
                    "SELECT COUNT(t.event_seq) + COUNT(t.discovered) FROM workflow_step_transitions t
                     JOIN workflow_steps s ON s.workflow_step_id = t.workflow_step_id
                     WHERE s.task_id IN (SELECT task_id FROM doomed)",
                )?
                + count(
                    "SELECT COUNT(a.handle_seq) FROM step_attempts a
                     JOIN workflow_steps s ON s.workflow_step_id = a.workflow_step_id
                     WHERE s.task_id IN (SELECT task_id FROM doomed)",
                )?,
        };
        if !dry_run {
            // Foreign keys cascade from tasks to everything that belongs to them.
            tx.execute(
                "DELETE FROM tasks WHERE task_id IN (SELECT task_id FROM doomed)",
                [],
            )?;
        }
        tx.execute_batch("DROP TABLE doomed;")?;
        tx.commit()?;
        Ok(pruned)
    }

    /// Rebuild the file to give freed pages back; its size before and after.
    fn vacuum(&mut self) -> Result<(u64, u64), StoreError> {
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let before = size(&self.path);
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
        Ok((before, size(&self.path)))
    }
}
