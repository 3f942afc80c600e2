//! Reads: a task with its steps and sessions, lists, audit trails, attempts, events,
//! annotations.

use super::*;
use crate::model::session_step;

impl SqliteStore {
    pub(super) fn task(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        let Some(mut task) = self.task_head(id)? else {
            return Ok(None);
        };
        task.steps = self.steps_of(id)?;
        Ok(Some(task))
    }

    /// Task `id` but its steps: its row and its sessions.
    pub(super) fn task_head(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT t.task_id, t.uuid, nt.name, ns.name, nt.version, t.status, t.context, nt.template,
                        nt.content_hash, t.workdir, t.owner_pid, t.owner_host, t.owner_started_at,
                        t.created_at, t.updated_at, t.started_at, t.finished_at, t.environment,
                        t.initiator, t.source_system, t.reason, t.tags, t.idempotency_key, t.heartbeat_at,
                        t.traceparent
                 FROM tasks t
                 JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
                 JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
                 WHERE t.task_id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                    ),
                    (
                        r.get::<_, String>(9)?,
                        r.get::<_, Option<u32>>(10)?,
                        r.get::<_, Option<String>>(11)?,
                        r.get::<_, Option<i64>>(12)?,
                        r.get::<_, i64>(13)?,
                        r.get::<_, i64>(14)?,
                        r.get::<_, Option<i64>>(15)?,
                        r.get::<_, Option<i64>>(16)?,
                    ),
                    (
                        r.get::<_, Option<String>>(17)?,
                        Request {
                            initiator: r.get(18)?,
                            source_system: r.get(19)?,
                            reason: r.get(20)?,
                            tags: Vec::new(),
                            idempotency_key: r.get(22)?,
                        },
                        r.get::<_, Option<i64>>(23)?,
                        r.get::<_, Option<String>>(24)?,
                        r.get::<_, String>(21)?,
                    ),
                ))
            })
            .optional()?;
        let Some((
            (
                task_id,
                uuid,
                name,
                namespace,
                version,
                status,
                context,
                template_source,
                content_hash,
            ),
            (workdir, pid, host, owner_started, created_at, updated_at, started_at, finished_at),
            (environment, mut request, heartbeat_at, traceparent, tags),
        )) = row
        else {
            return Ok(None);
        };

        request.tags = serde_json::from_str(&tags).map_err(|e| {
            StoreError::Corrupt(format!(
                "task {id}: its `tags` are not a JSON list of strings ({e})"
            ))
        })?;
        let mut sessions: Vec<(i64, Option<i64>)> = Vec::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT to_state, created_at FROM task_transitions WHERE task_id = ?1 ORDER BY sort_key",
            )?;
            let mut rows = stmt.query([id])?;
            while let Some(r) = rows.next()? {
                let started = r.get_ref(0)?.as_str().ok() == Some("in_progress");
                session_step(&mut sessions, started, r.get(1)?);
            }
        }
        let owner = match (pid, host, owner_started) {
            (Some(pid), Some(host), Some(started_at)) => Some(Owner {
                pid,
                host,
                started_at,
            }),
            _ => None,
        };
        Ok(Some(TaskRecord {
            task_id,
            uuid,
            name,
            namespace,
            version,
            status: status
                .parse::<State>()
                .map_err(|m| StoreError::Corrupt(format!("task {id}: its `status`: {m}")))?,
            context: serde_json::from_str(&context).map_err(|e| {
                StoreError::Corrupt(format!("task {id}: its `context` is not JSON ({e})"))
            })?,
            template_source,
            content_hash,
            workdir,
            environment,
            request,
            traceparent,
            owner,
            heartbeat_at,
            created_at,
            updated_at,
            started_at,
            finished_at,
            sessions,
            steps: Vec::new(),
        }))
    }

    /// The steps of task `id`, in order, with their parents.
    fn steps_of(&self, id: TaskId) -> Result<Vec<StepRecord>, StoreError> {
        // Counted first (from the index): a big task's steps are the run's biggest record,
        // and a vector grown by doubling would hold up to twice them. A task's steps are
        // written together, so their ids usually span exactly their count: then its steps,
        // their parents with them, are read as a range of ids in one pass, not found step
        // by step.
        let (count, low, high): (i64, Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*), MIN(workflow_step_id), MAX(workflow_step_id) FROM workflow_steps
                 WHERE task_id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let span = match (low, high) {
            (Some(low), Some(high)) if high - low + 1 == count => Some((low, high)),
            _ => None,
        };
        let count = usize::try_from(count).unwrap_or(0);
        let mut steps = Vec::with_capacity(count);
        let mut ids = std::collections::HashMap::new();
        // Each step's parents as their ids: (the step's position, a parent's id).
        let mut named: Vec<(usize, i64)> = Vec::new();
        {
            macro_rules! steps_where {
                ($cond:literal) => {
                    concat!(
                        "SELECT workflow_step_id, name, position, status, attempts, retry_limit,
                            retryable, flaky, results, error_class, error_message, next_retry_at,
                            started_at, finished_at, counted_attempts, parents
                         FROM workflow_steps WHERE ",
                        $cond
                    )
                };
            }
            let mut stmt;
            // Sorted here: SQLite's sorter costs five times the scan on a big task.
            let mut rows = match span {
                Some((low, high)) => {
                    stmt = self.conn.prepare_cached(steps_where!(
                        "workflow_step_id BETWEEN ?2 AND ?3 AND task_id = ?1"
                    ))?;
                    stmt.query(params![id, low, high])?
                }
                None => {
                    stmt = self.conn.prepare_cached(steps_where!("task_id = ?1"))?;
                    stmt.query([id])?
                }
            };
            while let Some(r) = rows.next()? {
                let step_id: i64 = r.get(0)?;
                let position: i64 = r.get(2)?;
                let name: String = r.get(1)?;
                // Named only when something is wrong: a big task has many steps to read.
                let at = |what: &str, e: StoreError| match e {
                    StoreError::Corrupt(m) => {
                        StoreError::Corrupt(format!("task {id}, step `{name}`: its `{what}`: {m}"))
                    }
                    other => other,
                };
                let status = r
                    .get_ref(3)?
                    .as_str()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
                    .and_then(state_of)
                    .map_err(|e| at("status", e))?;
                let results = json_of(r.get(8)?).map_err(|e| at("results", e))?;
                let error = error_of(r.get(9)?, r.get(10)?).map_err(|e| at("error_class", e))?;
                if let Some(list) = r
                    .get_ref(15)?
                    .as_str_or_null()
                    .map_err(|e| at("parents", StoreError::Corrupt(e.to_string())))?
                {
                    ids_in(list, |parent| named.push((position as usize, parent)))
                        .map_err(|m| at("parents", StoreError::Corrupt(m)))?;
                }
                steps.push(StepRecord {
                    step_id,
                    name,
                    position: position as usize,
                    status,
                    retry_limit: r.get(5)?,
                    retryable: r.get(6)?,
                    state: StepState {
                        attempts: r.get(4)?,
                        counted: r.get(14)?,
                        flaky: r.get(7)?,
                        results,
                        error,
                        next_retry_at: r.get(11)?,
                        started_at: r.get(12)?,
                        finished_at: r.get(13)?,
                    },
                    interrupted: 0,
                    parents: Vec::new(),
                });
            }
        }
        steps.sort_unstable_by_key(|s| s.position);
        // Only a step with uncounted attempts can have interrupted ones: few, if any.
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT COUNT(*) FROM step_attempts WHERE workflow_step_id = ?1 AND error_class = 'interrupted'",
            )?;
            for s in steps
                .iter_mut()
                .filter(|s| s.state.attempts > s.state.counted)
            {
                s.interrupted = stmt.query_row([s.step_id], |r| r.get(0))?;
            }
        }
        if steps.iter().enumerate().any(|(i, s)| s.position != i) {
            return Err(StoreError::Corrupt(format!(
                "task {id}: its steps' positions are not 0..{}",
                steps.len()
            )));
        }
        // A task's steps are written in order in one transaction, so their ids are usually
        // consecutive: a step's position is then its id less the first's, no map needed.
        let first = steps.first().map_or(0, |s| s.step_id);
        let consecutive = steps
            .iter()
            .enumerate()
            .all(|(i, s)| s.step_id == first + i as i64);
        if !consecutive {
            ids.extend(steps.iter().map(|s| (s.step_id, s.position)));
        }
        let len = steps.len();
        let position_of = |id: i64| -> Option<usize> {
            if consecutive {
                id.checked_sub(first)
                    .and_then(|p| usize::try_from(p).ok())
                    .filter(|&p| p < len)
            } else {
                ids.get(&id).copied()
            }
        };
        // Positions are 0..len (checked above), so each step is `steps[t]`.
        for (t, parent) in named {
            let Some(f) = position_of(parent) else {
                return Err(StoreError::Corrupt(format!(
                    "task {id}, step `{}`: its `parents`: {parent} is not one of the task's steps",
                    steps[t].name
                )));
            };
            steps[t].parents.push(f);
        }
        for s in &mut steps {
            s.parents.sort_unstable();
        }
        Ok(steps)
    }

    pub(super) fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.task_id, nt.name, ns.name, nt.version, t.status, t.created_at, t.started_at, t.finished_at,
                    (SELECT COUNT(*) FROM workflow_steps s WHERE s.task_id = t.task_id),
                    (SELECT COUNT(*) FROM workflow_steps s WHERE s.task_id = t.task_id
                        AND s.status IN ('complete', 'resolved_manually')),
                    (SELECT SUM(COALESCE(x.next_at, ?8) - x.created_at) FROM
                        (SELECT to_state, created_at,
                                LEAD(created_at) OVER (ORDER BY sort_key) AS next_at
                           FROM task_transitions WHERE task_id = t.task_id) x
                      WHERE x.to_state = 'in_progress') 
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             WHERE (?1 IS NULL OR t.status = ?1) AND (?2 IS NULL OR ns.name = ?2)
               AND (?3 IS NULL OR nt.name = ?3) AND (?4 IS NULL OR t.created_at >= ?4)
               AND (?6 IS NULL OR EXISTS (SELECT 1 FROM task_annotations a
                     WHERE a.task_id = t.task_id AND a.annotation_type = ?6
                       AND (?7 IS NULL OR a.annotation = ?7)))
             ORDER BY t.task_id DESC LIMIT ?5",
        )?;
        let (kind, value) = match &filter.annotation {
            Some((k, v)) => (Some(k.as_str()), v.as_deref()),
            None => (None, None),
        };
        let mut rows = stmt.query(params![
            filter.status.map(State::as_str),
            filter.namespace,
            filter.name,
            filter.since,
            filter.limit as i64,
            kind,
            value,
            now_ms()
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(TaskSummary {
                task_id: r.get(0)?,
                name: r.get(1)?,
                namespace: r.get(2)?,
                version: r.get(3)?,
                status: state_of(&r.get::<_, String>(4)?)?,
                created_at: r.get(5)?,
                started_at: r.get(6)?,
                finished_at: r.get(7)?,
                steps_total: r.get(8)?,
                steps_complete: r.get(9)?,
                running_ms: r.get::<_, Option<i64>>(10)?.map(|ms| ms.max(0) as u64),
            });
        }
        Ok(out)
    }

    pub(super) fn transitions(&self, id: TaskId) -> Result<Vec<Transition>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT NULL, from_state, to_state, sort_key, most_recent, metadata, created_at, task_transition_id, 0
               FROM task_transitions WHERE task_id = ?1
             UNION ALL
             SELECT s.name, x.from_state, x.to_state, x.sort_key, x.most_recent, x.metadata, x.created_at,
                    x.workflow_step_transition_id, 1
               FROM workflow_step_transitions x JOIN workflow_steps s ON s.workflow_step_id = x.workflow_step_id
              WHERE s.task_id = ?1
             ORDER BY 7, 9, 8",
        )?;
        let mut rows = stmt.query([id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Transition {
                step_name: r.get(0)?,
                from_state: r
                    .get::<_, Option<String>>(1)?
                    .map(|s| state_of(&s))
                    .transpose()?,
                to_state: state_of(&r.get::<_, String>(2)?)?,
                sort_key: r.get(3)?,
                most_recent: r.get(4)?,
                metadata: json_of(r.get(5)?)?.unwrap_or(Json::Null),
                created_at: r.get(6)?,
            });
        }
        Ok(out)
    }

    pub(super) fn attempts(&self, step_id: StepId) -> Result<Vec<AttemptRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT attempt, started_at, finished_at, outcome, exit_code, error_class, error_message, stdout, stderr,
                    stdout_dropped, stderr_dropped, pid, pid_started_at
             FROM step_attempts WHERE workflow_step_id = ?1 ORDER BY attempt",
        )?;
        let mut rows = stmt.query([step_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(AttemptRecord {
                attempt: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                outcome: r
                    .get::<_, Option<String>>(3)?
                    .map(|s| state_of(&s))
                    .transpose()?,
                exit_code: r.get(4)?,
                error: error_of(r.get(5)?, r.get(6)?)?,
                stdout: r.get::<_, Option<Vec<u8>>>(7)?.unwrap_or_default(),
                stderr: r.get::<_, Option<Vec<u8>>>(8)?.unwrap_or_default(),
                stdout_dropped: r.get::<_, i64>(9)?.max(0) as u64,
                stderr_dropped: r.get::<_, i64>(10)?.max(0) as u64,
                process: match (r.get::<_, Option<u32>>(11)?, r.get::<_, Option<i64>>(12)?) {
                    (Some(pid), started) => Some((pid, started.unwrap_or(0))),
                    _ => None,
                },
            });
        }
        Ok(out)
    }

    pub(super) fn check_file(&self) -> Result<(), StoreError> {
        if self.file.is_some() && file_id(&self.path) != self.file {
            return Err(StoreError::Failed {
                path: self.path.display().to_string(),
                message: "its file was removed or replaced while the run used it; the run stopped, and what it did since is lost with the old file".into(),
            });
        }
        Ok(())
    }

    pub(super) fn last_event_seq(&self, task_id: TaskId) -> Result<u64, StoreError> {
        Self::last_event_seq_in(&self.conn, task_id)
    }

    /// The last recorded event's number: the highest of the task's last page and of the
    /// events its rows restate (a look at each of its steps).
    pub(super) fn last_event_seq_in(conn: &Connection, task_id: TaskId) -> Result<u64, StoreError> {
        let seq: Option<i64> = conn
            .prepare_cached(
                "SELECT MAX(
                    COALESCE((SELECT last_seq FROM events WHERE task_id = ?1 ORDER BY seq DESC LIMIT 1), 0),
                    COALESCE((SELECT MAX(t.event_seq) FROM workflow_steps s
                        JOIN workflow_step_transitions t ON t.workflow_step_id = s.workflow_step_id
                        WHERE s.task_id = ?1), 0),
                    COALESCE((SELECT MAX(a.handle_seq) FROM workflow_steps s
                        JOIN step_attempts a ON a.workflow_step_id = s.workflow_step_id
                        WHERE s.task_id = ?1), 0))",
            )?
            .query_row([task_id], |r| r.get(0))?;
        Ok(seq.unwrap_or(0).max(0) as u64)
    }

    /// The last event of the task's last page (events rows restate not counted).
    pub(super) fn last_page_seq_in(conn: &Connection, task_id: TaskId) -> Result<u64, StoreError> {
        let seq: Option<i64> = conn
            .prepare_cached(
                "SELECT last_seq FROM events WHERE task_id = ?1 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([task_id], |r| r.get(0))
            .optional()?;
        Ok(seq.unwrap_or(0).max(0) as u64)
    }

    /// A task's events above `after`, at most `limit`: the log's pages and the events rows
    /// restate, merged by number, as one snapshot of the store.
    pub(super) fn events(
        &self,
        task_id: TaskId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Json>, StoreError> {
        let snapshot = self.conn.unchecked_transaction()?;
        let restated = self.restated(task_id, after, limit)?;
        let mut next = restated.after(after);
        let mut out = Vec::new();
        // Each event the rows restate numbered below `seq`, in order, up to the limit.
        let mut restated_before = |out: &mut Vec<Json>, seq: u64| -> Result<(), StoreError> {
            while out.len() < limit
                && let Some(s) = restated.seq(next)
                && s < seq
            {
                out.push(restated.event(next)?);
                next += 1;
            }
            Ok(())
        };
        // The page holding event `after + 1` starts at most `PAGE_EVENTS - 1` before it.
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, payload, last_seq FROM events
             WHERE task_id = ?1 AND seq > ?2 - ?3 AND last_seq > ?2 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![
            task_id,
            after as i64,
            super::write::PAGE_EVENTS as i64
        ])?;
        while out.len() < limit {
            let Some(r) = rows.next()? else { break };
            let first: i64 = r.get(0)?;
            let text = r.get_ref(1)?.as_str().map_err(|e| {
                StoreError::Corrupt(format!("event {first} of task {task_id}: {e}"))
            })?;
            if let Some(rest) = text.strip_prefix(super::write::STEPS_CREATED) {
                let last: i64 = r.get(2)?;
                let step: i64 = rest.trim_end_matches('}').parse().map_err(|e| {
                    StoreError::Corrupt(format!("event {first} of task {task_id}: {e}"))
                })?;
                let skip = (after as i64 + 1 - first).max(0);
                for e in
                    self.steps_created(task_id, first + skip, step + skip, last - first - skip + 1)?
                {
                    restated_before(&mut out, e.seq)?;
                    if out.len() == limit {
                        break;
                    }
                    out.push(e.to_json());
                }
                continue;
            }
            for (n, line) in text.split('\n').enumerate() {
                let seq = first + n as i64;
                if seq <= after as i64 {
                    continue;
                }
                restated_before(&mut out, seq as u64)?;
                if out.len() == limit {
                    break;
                }
                out.push(
                    serde_json::from_str(line).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                );
            }
        }
        restated_before(&mut out, u64::MAX)?;
        drop(rows);
        drop(stmt);
        snapshot.finish()?;
        Ok(out)
    }

    /// The creation events (`step.initialize_requested`) numbered from `seq` of `count`
    /// steps from `step_id` on, read back from their rows.
    fn steps_created(
        &self,
        task_id: TaskId,
        seq: i64,
        step_id: i64,
        count: i64,
    ) -> Result<Vec<crate::model::Event>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, created_at FROM workflow_steps
             WHERE workflow_step_id BETWEEN ?1 AND ?2 AND task_id = ?3 ORDER BY workflow_step_id",
        )?;
        let mut rows = stmt.query(params![step_id, step_id + count - 1, task_id])?;
        let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        while let Some(r) = rows.next()? {
            out.push(crate::model::Event {
                seq: (seq + out.len() as i64) as u64,
                task_id,
                timestamp: r.get(1)?,
                what: crate::model::What::StepInitializeRequested {
                    step_name: r.get(0)?,
                },
                trace: None,
            });
        }
        if out.len() as i64 != count {
            return Err(StoreError::Corrupt(format!(
                "events {seq}.. of task {task_id}: {count} steps from id {step_id} were expected, {} are there",
                out.len()
            )));
        }
        Ok(out)
    }

    pub(super) fn user_annotations(&self, task_id: TaskId) -> Result<Vec<Annotation>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT annotation_type, annotation, created_at FROM task_annotations
             WHERE task_id = ?1 ORDER BY task_annotation_id",
        )?;
        let mut rows = stmt.query([task_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let kind: String = r.get(0)?;
            if INTERNAL_ANNOTATIONS.contains(&kind.as_str()) {
                continue;
            }
            let created_ms: i64 = r.get(2)?;
            out.push(Annotation {
                kind,
                annotation: json_of(r.get(1)?)?.unwrap_or(Json::Null),
                created_ms,
                created_at: crate::clock::rfc3339(created_ms),
            });
        }
        Ok(out)
    }

    pub(super) fn annotations(
        &self,
        task_id: TaskId,
        kind: &str,
        after: i64,
    ) -> Result<Vec<(i64, Json)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT task_annotation_id, annotation FROM task_annotations
             WHERE task_id = ?1 AND annotation_type = ?2 AND task_annotation_id > ?3
             ORDER BY task_annotation_id",
        )?;
        let mut rows = stmt.query(params![task_id, kind, after])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            out.push((id, json_of(r.get(1)?)?.unwrap_or(Json::Null)));
        }
        Ok(out)
    }
}
