//! Reads: a task with its steps and sessions, lists, audit trails, attempts, events,
//! annotations.

use super::*;
use crate::model::session_step;
use crate::store::{INTERNAL_ANNOTATIONS, Request, StepRecord, StepState};

impl PgStore {
    pub(super) fn task(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        let c = &self.client;
        let Some(r) = self.cache.opt(
            c,
            "SELECT t.task_id, t.uuid, nt.name, ns.name, nt.version, t.status, t.context, nt.template,
                    nt.content_hash, t.workdir, t.owner_pid, t.owner_host, t.owner_started_at,
                    t.created_at, t.updated_at, t.started_at, t.finished_at, t.environment,
                    t.initiator, t.source_system, t.reason, t.tags, t.idempotency_key, t.heartbeat_at,
                    t.traceparent
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             WHERE t.task_id = $1",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let at = |what: &'static str| {
            move |e: StoreError| match e {
                StoreError::Corrupt(m) => {
                    StoreError::Corrupt(format!("task {id}: its `{what}`: {m}"))
                }
                other => other,
            }
        };
        let tags: String = col(&r, 21)?;
        let request = Request {
            initiator: col(&r, 18)?,
            source_system: col(&r, 19)?,
            reason: col(&r, 20)?,
            tags: serde_json::from_str(&tags).map_err(|e| {
                StoreError::Corrupt(format!(
                    "task {id}: its `tags` are not a JSON list of strings ({e})"
                ))
            })?,
            idempotency_key: col(&r, 22)?,
        };
        let mut sessions: Vec<(i64, Option<i64>)> = Vec::new();
        for x in self.cache.query(
            c,
            "SELECT to_state, created_at FROM task_transitions WHERE task_id = $1 ORDER BY sort_key",
            &[&id],
        )? {
            let to: String = col(&x, 0)?;
            session_step(&mut sessions, to == "in_progress", col(&x, 1)?);
        }
        let mut steps = Vec::new();
        for s in self.cache.query(
            c,
            "SELECT s.workflow_step_id, s.name, s.position, s.status, s.attempts, s.retry_limit, s.retryable,
                    s.flaky, s.results, s.error_class, s.error_message, s.next_retry_at, s.started_at,
                    s.finished_at, s.counted_attempts,
                    CASE WHEN s.attempts > s.counted_attempts THEN
                        (SELECT COUNT(*) FROM step_attempts a
                          WHERE a.workflow_step_id = s.workflow_step_id AND a.error_class = 'interrupted')
                    ELSE 0 END
             FROM workflow_steps s WHERE s.task_id = $1 ORDER BY s.position",
            &[&id],
        )? {
            let name: String = col(&s, 1)?;
            let step_at = |what: &'static str| {
                let name = name.clone();
                move |e: StoreError| match e {
                    StoreError::Corrupt(m) => StoreError::Corrupt(format!(
                        "task {id}, step `{name}`: its `{what}`: {m}"
                    )),
                    other => other,
                }
            };
            let status = state_of(&col::<String>(&s, 3)?).map_err(step_at("status"))?;
            let results = json_of(col(&s, 8)?).map_err(step_at("results"))?;
            let error = error_of(col(&s, 9)?, col(&s, 10)?).map_err(step_at("error_class"))?;
            let position: i64 = col(&s, 2)?;
            steps.push(StepRecord {
                step_id: col(&s, 0)?,
                name,
                position: position.max(0) as usize,
                status,
                retry_limit: u32_of(col(&s, 5)?)?,
                retryable: col(&s, 6)?,
                state: StepState {
                    attempts: u32_of(col(&s, 4)?)?,
                    counted: u32_of(col(&s, 14)?)?,
                    flaky: col(&s, 7)?,
                    results,
                    error,
                    next_retry_at: col(&s, 11)?,
                    started_at: col(&s, 12)?,
                    finished_at: col(&s, 13)?,
                },
                interrupted: u32_of(col(&s, 15)?)?,
                parents: Vec::new(),
            });
        }
        if steps.iter().enumerate().any(|(i, s)| s.position != i) {
            return Err(StoreError::Corrupt(format!(
                "task {id}: its steps' positions are not 0..{}",
                steps.len()
            )));
        }
        let ids: HashMap<i64, usize> = steps.iter().map(|s| (s.step_id, s.position)).collect();
        for e in self.cache.query(
            c,
            "SELECT e.from_step_id, e.to_step_id FROM workflow_step_edges e
             JOIN workflow_steps s ON s.workflow_step_id = e.to_step_id
             WHERE s.task_id = $1",
            &[&id],
        )? {
            let (from, to): (i64, i64) = (col(&e, 0)?, col(&e, 1)?);
            if let (Some(&f), Some(&t)) = (ids.get(&from), ids.get(&to)) {
                steps[t].parents.push(f);
            }
        }
        for s in &mut steps {
            s.parents.sort_unstable();
        }
        let status: String = col(&r, 5)?;
        let context: String = col(&r, 6)?;
        Ok(Some(TaskRecord {
            task_id: col(&r, 0)?,
            uuid: col(&r, 1)?,
            name: col(&r, 2)?,
            namespace: col(&r, 3)?,
            version: col(&r, 4)?,
            status: state_of(&status).map_err(at("status"))?,
            context: serde_json::from_str(&context).map_err(|e| {
                StoreError::Corrupt(format!("task {id}: its `context` is not JSON ({e})"))
            })?,
            template_source: col(&r, 7)?,
            content_hash: col(&r, 8)?,
            workdir: col(&r, 9)?,
            owner: owner_of(col(&r, 10)?, col(&r, 11)?, col(&r, 12)?),
            created_at: col(&r, 13)?,
            updated_at: col(&r, 14)?,
            started_at: col(&r, 15)?,
            finished_at: col(&r, 16)?,
            environment: col(&r, 17)?,
            request,
            heartbeat_at: col(&r, 23)?,
            traceparent: col(&r, 24)?,
            sessions,
            steps,
        }))
    }

    pub(super) fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskSummary>, StoreError> {
        let (kind, value) = match &filter.annotation {
            Some((k, v)) => (Some(k.as_str()), v.as_deref()),
            None => (None, None),
        };
        let rows = self.cache.query(
            &self.client,
            "SELECT t.task_id, nt.name, ns.name, nt.version, t.status, t.created_at, t.started_at, t.finished_at,
                    (SELECT COUNT(*) FROM workflow_steps s WHERE s.task_id = t.task_id),
                    (SELECT COUNT(*) FROM workflow_steps s WHERE s.task_id = t.task_id
                        AND s.status IN ('complete', 'resolved_manually')),
                    (SELECT SUM(COALESCE(x.next_at, $8) - x.created_at)::bigint FROM
                        (SELECT to_state, created_at,
                                LEAD(created_at) OVER (ORDER BY sort_key) AS next_at
                           FROM task_transitions WHERE task_id = t.task_id) x
                      WHERE x.to_state = 'in_progress')
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             WHERE ($1::text IS NULL OR t.status = $1) AND ($2::text IS NULL OR ns.name = $2)
               AND ($3::text IS NULL OR nt.name = $3) AND ($4::bigint IS NULL OR t.created_at >= $4)
               AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM task_annotations a
                     WHERE a.task_id = t.task_id AND a.annotation_type = $6
                       AND ($7::text IS NULL OR a.annotation = $7)))
             ORDER BY t.task_id DESC LIMIT $5",
            &[
                &filter.status.map(State::as_str),
                &filter.namespace,
                &filter.name,
                &filter.since,
                &(filter.limit.min(i64::MAX as usize) as i64),
                &kind,
                &value,
                &crate::clock::now_ms(),
            ],
        )?;
        rows.iter()
            .map(|r| {
                Ok(TaskSummary {
                    task_id: col(r, 0)?,
                    name: col(r, 1)?,
                    namespace: col(r, 2)?,
                    version: col(r, 3)?,
                    status: state_of(&col::<String>(r, 4)?)?,
                    created_at: col(r, 5)?,
                    started_at: col(r, 6)?,
                    finished_at: col(r, 7)?,
                    steps_total: col(r, 8)?,
                    steps_complete: col(r, 9)?,
                    running_ms: col::<Option<i64>>(r, 10)?.map(|ms| ms.max(0) as u64),
                })
            })
            .collect()
    }

    pub(super) fn transitions(&self, id: TaskId) -> Result<Vec<Transition>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT NULL::text, from_state, to_state, sort_key, most_recent, metadata, created_at,
                    task_transition_id, 0
               FROM task_transitions WHERE task_id = $1
             UNION ALL
             SELECT s.name, x.from_state, x.to_state, x.sort_key, x.most_recent, x.metadata, x.created_at,
                    x.workflow_step_transition_id, 1
               FROM workflow_step_transitions x JOIN workflow_steps s ON s.workflow_step_id = x.workflow_step_id
              WHERE s.task_id = $1
             ORDER BY 7, 9, 8",
            &[&id],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Transition {
                    step_name: col(r, 0)?,
                    from_state: col::<Option<String>>(r, 1)?
                        .map(|s| state_of(&s))
                        .transpose()?,
                    to_state: state_of(&col::<String>(r, 2)?)?,
                    sort_key: col(r, 3)?,
                    most_recent: col(r, 4)?,
                    metadata: json_of(col(r, 5)?)?.unwrap_or(Json::Null),
                    created_at: col(r, 6)?,
                })
            })
            .collect()
    }

    pub(super) fn attempts(&self, step_id: StepId) -> Result<Vec<AttemptRecord>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT attempt, started_at, finished_at, outcome, exit_code, error_class, error_message, stdout, stderr,
                    stdout_dropped, stderr_dropped, pid, pid_started_at
             FROM step_attempts WHERE workflow_step_id = $1 ORDER BY attempt",
            &[&step_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRecord {
                    attempt: u32_of(col(r, 0)?)?,
                    started_at: col(r, 1)?,
                    finished_at: col(r, 2)?,
                    outcome: col::<Option<String>>(r, 3)?
                        .map(|s| state_of(&s))
                        .transpose()?,
                    exit_code: col::<Option<i64>>(r, 4)?.and_then(|c| i32::try_from(c).ok()),
                    error: error_of(col(r, 5)?, col(r, 6)?)?,
                    stdout: col::<Option<Vec<u8>>>(r, 7)?.unwrap_or_default(),
                    stderr: col::<Option<Vec<u8>>>(r, 8)?.unwrap_or_default(),
                    stdout_dropped: col::<i64>(r, 9)?.max(0) as u64,
                    stderr_dropped: col::<i64>(r, 10)?.max(0) as u64,
                    process: match (col::<Option<i64>>(r, 11)?, col::<Option<i64>>(r, 12)?) {
                        (Some(pid), started) => u32::try_from(pid)
                            .ok()
                            .map(|pid| (pid, started.unwrap_or(0))),
                        _ => None,
                    },
                })
            })
            .collect()
    }

    pub(super) fn last_event_seq(&self, task_id: TaskId) -> Result<u64, StoreError> {
        let seq: i64 = col(
            &self.cache.one(
                &self.client,
                "SELECT COALESCE(MAX(seq), 0)::bigint FROM events WHERE task_id = $1",
                &[&task_id],
            )?,
            0,
        )?;
        Ok(seq.max(0) as u64)
    }

    pub(super) fn events(
        &self,
        task_id: TaskId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Json>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT payload FROM events WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &[
                &task_id,
                &(after.min(i64::MAX as u64) as i64),
                &(limit.min(i64::MAX as usize) as i64),
            ],
        )?;
        rows.iter()
            .map(|r| Ok(json_of(col(r, 0)?)?.unwrap_or(Json::Null)))
            .collect()
    }

    pub(super) fn user_annotations(&self, task_id: TaskId) -> Result<Vec<Annotation>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT annotation_type, annotation, created_at FROM task_annotations
             WHERE task_id = $1 ORDER BY task_annotation_id",
            &[&task_id],
        )?;
        let mut out = Vec::new();
        for r in &rows {
            let kind: String = col(r, 0)?;
            if INTERNAL_ANNOTATIONS.contains(&kind.as_str()) {
                continue;
            }
            let created_ms: i64 = col(r, 2)?;
            out.push(Annotation {
                kind,
                annotation: json_of(col(r, 1)?)?.unwrap_or(Json::Null),
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
        let rows = self.cache.query(
            &self.client,
            "SELECT task_annotation_id, annotation FROM task_annotations
             WHERE task_id = $1 AND annotation_type = $2 AND task_annotation_id > $3
             ORDER BY task_annotation_id",
            &[&task_id, &kind, &after],
        )?;
        rows.iter()
            .map(|r| Ok((col(r, 0)?, json_of(col(r, 1)?)?.unwrap_or(Json::Null))))
            .collect()
    }
}
