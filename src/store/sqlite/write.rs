//! Writes: a new task's rows, batches of changes (fenced, each transition a compare-and-set),
//! claims, heartbeats, annotations.

use super::*;
use crate::model::What;
use std::fmt::Write as _;

/// What `insert_task` numbered and dated for a new task, kept until the command asks for
/// the task as written ([`Store::take_created`]), with the `data_version` after the commit.
#[derive(Debug)]
pub(super) struct Written {
    task_id: TaskId,
    uuid: String,
    step_ids: Vec<i64>,
    now: i64,
    version: i64,
}

/// The task `written` is, from `new` and `opening`, as a read of it would give it, and the
/// `data_version` after its commit.
pub(super) fn created_record(
    new: &NewTask<'_>,
    opening: &Opening,
    written: Written,
) -> (TaskRecord, i64) {
    let Written {
        task_id,
        uuid,
        step_ids,
        now,
        version,
    } = written;
    let t = new.template;
    let mut task = TaskRecord {
        task_id,
        uuid,
        name: t.name.clone(),
        namespace: t.namespace.clone(),
        version: t.version.clone(),
        status: State::Pending,
        context: new.context.clone(),
        template_source: new.source.to_owned(),
        content_hash: new.content_hash.to_owned(),
        workdir: new.workdir.to_owned(),
        environment: new.environment.map(str::to_owned),
        request: crate::store::Request {
            initiator: new.initiator.map(str::to_owned),
            source_system: new.source_system.map(str::to_owned),
            reason: new.reason.map(str::to_owned),
            tags: new.tags.to_vec(),
            idempotency_key: new.idempotency_key.map(str::to_owned),
        },
        traceparent: None,
        owner: None,
        heartbeat_at: None,
        created_at: now,
        updated_at: now,
        started_at: None,
        finished_at: None,
        sessions: Vec::new(),
        steps: t
            .steps
            .iter()
            .zip(&step_ids)
            .enumerate()
            .map(|(position, (s, &step_id))| {
                let mut parents = s.parents.clone();
                parents.sort_unstable();
                StepRecord {
                    step_id,
                    name: s.name.clone(),
                    position,
                    status: State::Pending,
                    retry_limit: s.retry.limit,
                    retryable: s.retry.retryable,
                    state: StepState::default(),
                    interrupted: 0,
                    parents,
                }
            })
            .collect(),
    };
    for s in &opening.steps {
        if let Some(step) = task.steps.get_mut(s.position) {
            step.status = s.to;
            step.state = s.state.clone();
        }
    }
    (task, version)
}

impl SqliteStore {
    pub(super) fn insert_task(
        &mut self,
        new: &NewTask<'_>,
        opening: &Opening,
    ) -> Result<Created, StoreError> {
        self.created = None;
        // The task's rows are dated as its first events: a step's creation event is read
        // back from its row.
        let now = opening.events.first().map_or_else(now_ms, |e| e.timestamp);
        let t = new.template;
        // Every reference among a new task's rows is to a row written just before it in the
        // same transaction, so checking each against its parent (two look-ups an edge, two
        // a step) proves nothing; `tasker db check` still checks them all.
        let _unchecked = Unchecked::new(&self.conn)?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO task_namespaces (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![t.namespace, now],
        )?;
        let namespace_id: i64 = tx.query_row(
            "SELECT task_namespace_id FROM task_namespaces WHERE name = ?1",
            [&t.namespace],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO named_tasks (task_namespace_id, name, version, description, content_hash, template, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (task_namespace_id, name, version, content_hash) DO NOTHING",
            params![namespace_id, t.name, t.version, t.description, new.content_hash, new.source, now],
        )?;
        let named_task_id: i64 = tx.query_row(
            "SELECT named_task_id FROM named_tasks
             WHERE task_namespace_id = ?1 AND name = ?2 AND version = ?3 AND content_hash = ?4",
            params![namespace_id, t.name, t.version, new.content_hash],
            |r| r.get(0),
        )?;
        let identity = format!("{}/{}@{}", t.namespace, t.name, t.version);
        if let Some(key) = new.idempotency_key {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT task_id FROM tasks WHERE identity = ?1 AND idempotency_key = ?2",
                    params![identity, key],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = existing {
                return Ok(Created::Existing(id));
            }
        }
        let uuid = uuid::Uuid::new_v4().to_string();
        tx.execute(
            "INSERT INTO tasks (uuid, named_task_id, identity, environment, status, context, workdir, initiator,
                                source_system, reason, tags, idempotency_key, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
            params![
                uuid,
                named_task_id,
                identity,
                new.environment,
                new.context.to_string(),
                new.workdir,
                new.initiator,
                new.source_system,
                new.reason,
                serde_json::to_string(new.tags).unwrap_or_else(|_| "[]".into()),
                new.idempotency_key,
                now
            ],
        )?;
        let task_id = tx.last_insert_rowid();
        let step_ids = Self::insert_steps(&tx, task_id, t, now)?;
        for s in &opening.steps {
            let Some(&step_id) = step_ids.get(s.position) else {
                continue;
            };
            Self::step_transition(
                &tx,
                step_id,
                (s.from, s.to),
                &json_text(&s.metadata),
                &s.state,
                None,
                now,
            )?;
        }
        // A new task: nothing else wrote its log.
        let mut pages = Pages::new(now, false);
        for (n, e) in opening.events.iter().enumerate() {
            let seq = n as u64 + 1;
            // A step's creation event restates its row, and is read back from it.
            if let What::StepInitializeRequested { step_name } = &e.what
                && let Some(k) = n.checked_sub(1)
                && t.steps.get(k).is_some_and(|s| &s.name == step_name)
                && e.timestamp == now
            {
                pages.push_step_created(&tx, task_id, seq, step_ids[k])?;
                continue;
            }
            let mut e = e.clone();
            e.task_id = task_id;
            e.seq = seq;
            pages.push(&tx, task_id, seq, &e.to_json_text())?;
        }
        pages.flush(&tx)?;
        tx.commit()?;
        drop(_unchecked);
        // Kept for the run, which starts from the task as written, unread.
        let version = self.data_version()?.unwrap_or_default();
        self.created = Some(Written {
            task_id,
            uuid,
            step_ids,
            now,
            version,
        });
        Ok(Created::New(task_id))
    }

    pub(super) fn apply(
        &mut self,
        fence: Option<(TaskId, &Owner)>,
        changes: &[Change],
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let tx = Batch::begin(&self.conn)?;
        // Nothing was written to the store since this connection's last batch fenced by the
        // same owner: that batch's proofs stand, and the task's owner and log need no look.
        let quiet = self.quiet.take();
        let version = match fence {
            Some(_) => Some(Self::data_version_in(&tx)?),
            None => None,
        };
        let proven = match (fence, &quiet, version) {
            (Some((task_id, owner)), Some(q), Some(version)) => {
                q.holds(task_id, owner, version, self.conn.total_changes())
            }
            _ => None,
        };
        if let Some((task_id, owner)) = fence
            && proven.is_none()
        {
            let holder = Self::owner_of(&tx, task_id)?;
            if holder.as_ref() != Some(owner) {
                return Err(StoreError::Fenced {
                    task_id,
                    by: holder,
                });
            }
        }
        // Only a task's owner writes events rows restate: a batch it fences need not count
        // them to know where the log ends.
        let mut pages = Pages::new(now, fence.is_none());
        if let (Some((task_id, _)), Some(last)) = (fence, proven) {
            pages.floors.push((task_id, last));
        }
        // A handler's call is written with its attempt's process or end when the batch has
        // either (one update of the row, not two).
        let mut calls: Vec<Call<'_>> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Handling {
                    step_id,
                    attempt,
                    seq,
                    at,
                    handler,
                } => Some(Call {
                    step_id: *step_id,
                    attempt: *attempt,
                    seq: *seq as i64,
                    at: *at,
                    handler,
                    written: false,
                }),
                _ => None,
            })
            .collect();
        calls.sort_by_key(|c| (c.step_id, c.attempt));
        let task_of = |tx: &Connection, step_id: StepId| match fence {
            Some((task_id, _)) => Ok(task_id),
            None => Self::task_of_step(tx, step_id),
        };
        for change in changes {
            match change {
                Change::Task {
                    task_id,
                    from,
                    to,
                    actor: _,
                    metadata,
                } => {
                    Self::task_transition(&tx, *task_id, *from, *to, metadata, now)?;
                }
                Change::Step {
                    step_id,
                    from,
                    to,
                    actor: _,
                    metadata,
                    state,
                    restates,
                } => {
                    if let Some(r) = restates {
                        let task_id = task_of(&tx, *step_id)?;
                        pages.check(&tx, task_id, r.seq - u64::from(r.discovered.is_some()))?;
                    }
                    Self::step_transition(
                        &tx,
                        *step_id,
                        (*from, *to),
                        &metadata.text(),
                        state,
                        restates.as_ref(),
                        now,
                    )?;
                }
                Change::Handling {
                    step_id, attempt, ..
                } => {
                    let Some(c) = Call::take(&mut calls, *step_id, *attempt) else {
                        // Written with the attempt's process or end.
                        continue;
                    };
                    pages.check(&tx, task_of(&tx, *step_id)?, c.seq as u64)?;
                    let kept = tx
                        .prepare_cached(
                            "UPDATE step_attempts SET handle_seq = ?3, handle_at = ?4, handler = ?5
                             WHERE workflow_step_id = ?1 AND attempt = ?2",
                        )?
                        .execute(params![step_id, attempt, c.seq, c.at, c.handler])?;
                    if kept == 0 {
                        return Err(StoreError::Corrupt(format!(
                            "attempt {attempt} of step {step_id} has no row to keep its event {}",
                            c.seq
                        )));
                    }
                }
                Change::AttemptStarted { step_id, attempt } => {
                    tx.prepare_cached(
                        "INSERT INTO step_attempts (workflow_step_id, attempt, started_at) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![step_id, attempt, now])?;
                }
                Change::Event {
                    task_id, seq, doc, ..
                } => pages.push(&tx, *task_id, *seq, doc)?,
                Change::Trace {
                    task_id,
                    traceparent,
                } => {
                    tx.prepare_cached("UPDATE tasks SET traceparent = ?2 WHERE task_id = ?1")?
                        .execute(params![task_id, traceparent])?;
                }
                Change::AttemptProcess {
                    step_id,
                    attempt,
                    pid,
                    started_at,
                } => {
                    let call = Call::take(&mut calls, *step_id, *attempt);
                    if let Some(c) = call {
                        pages.check(&tx, task_of(&tx, *step_id)?, c.seq as u64)?;
                    }
                    tx.prepare_cached(
                        "UPDATE step_attempts SET pid = ?3, pid_started_at = ?4,
                            handle_seq = COALESCE(?5, handle_seq), handle_at = COALESCE(?6, handle_at),
                            handler = COALESCE(?7, handler)
                         WHERE workflow_step_id = ?1 AND attempt = ?2",
                    )?
                    .execute(params![
                        step_id,
                        attempt,
                        pid,
                        started_at,
                        call.map(|c| c.seq),
                        call.map(|c| c.at),
                        call.map(|c| c.handler)
                    ])?;
                }
                Change::AttemptFinished {
                    step_id,
                    attempt,
                    end,
                } => {
                    let call = Call::take(&mut calls, *step_id, *attempt);
                    if let Some(c) = call {
                        pages.check(&tx, task_of(&tx, *step_id)?, c.seq as u64)?;
                    }
                    tx.prepare_cached(
                        "UPDATE step_attempts SET finished_at = ?3, outcome = ?4, exit_code = ?5, signal = ?6,
                            error_class = ?7, error_message = ?8, stdout = ?9, stderr = ?10,
                            stdout_dropped = ?11, stderr_dropped = ?12, custom_events = ?13,
                            handle_seq = COALESCE(?14, handle_seq), handle_at = COALESCE(?15, handle_at),
                            handler = COALESCE(?16, handler)
                         WHERE workflow_step_id = ?1 AND attempt = ?2",
                    )?
                    .execute(params![
                        step_id,
                        attempt,
                        now,
                        end.outcome.as_str(),
                        end.exit_code,
                        end.signal,
                        end.error.as_ref().map(|e| e.class.as_str()),
                        end.error.as_ref().map(|e| e.message.as_str()),
                        end.stdout,
                        end.stderr,
                        end.stdout_dropped as i64,
                        end.stderr_dropped as i64,
                        (!end.custom_events.is_empty())
                            .then(|| Json::Array(end.custom_events.clone()).to_string()),
                        call.map(|c| c.seq),
                        call.map(|c| c.at),
                        call.map(|c| c.handler),
                    ])?;
                }
            }
        }
        pages.flush(&tx)?;
        tx.commit()?;
        // What this batch proved holds until anything else is written: the owner, and where
        // the task's log ends. Not after a task's transition, which may release the owner.
        if let (Some((task_id, owner)), Some(version)) = (fence, version)
            && !changes.iter().any(|c| matches!(c, Change::Task { .. }))
            && let Some(last_page) = pages.last_of(task_id)
        {
            self.quiet = Some(Quiet {
                version,
                changes: self.conn.total_changes(),
                task_id,
                owner: owner.clone(),
                last_page,
            });
        }
        Ok(())
    }

    /// The `data_version` of `conn` (changed by other connections' commits), inside a
    /// transaction or not.
    pub(super) fn data_version_in(conn: &Connection) -> Result<i64, StoreError> {
        Ok(conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }

    pub(super) fn claim(
        &mut self,
        task_id: TaskId,
        owner: &Owner,
        alive: &dyn Fn(&Owner, Option<i64>) -> bool,
    ) -> Result<i64, StoreError> {
        let now = now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        type OwnerRow = (Option<u32>, Option<String>, Option<i64>, Option<i64>);
        let current: Option<OwnerRow> = tx
            .query_row(
                "SELECT owner_pid, owner_host, owner_started_at, heartbeat_at FROM tasks WHERE task_id = ?1",
                [task_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((Some(pid), Some(host), Some(started_at), heartbeat_at)) = current.clone() {
            let holder = Owner {
                pid,
                host,
                started_at,
            };
            if holder != *owner && alive(&holder, heartbeat_at) {
                return Err(StoreError::Owned {
                    task_id,
                    owner: holder,
                    heartbeat_at,
                });
            }
        }
        // Compare-and-set on what was read: a claimant that raced ahead changes the row,
        // and this one then takes nothing.
        let (pid, host, started, beat) = current.unwrap_or_default();
        let taken = tx.execute(
            "UPDATE tasks SET owner_pid = ?2, owner_host = ?3, owner_started_at = ?4, heartbeat_at = ?5
             WHERE task_id = ?1 AND owner_pid IS ?6 AND owner_host IS ?7 AND owner_started_at IS ?8
               AND heartbeat_at IS ?9",
            params![
                task_id,
                owner.pid,
                owner.host,
                owner.started_at,
                now,
                pid,
                host,
                started,
                beat
            ],
        )?;
        if taken == 0 {
            let holder = Self::owner_of(&tx, task_id)?;
            return Err(match holder {
                Some(owner) => StoreError::Owned {
                    task_id,
                    owner,
                    heartbeat_at: None,
                },
                None => StoreError::Conflict {
                    entity: "task",
                    id: task_id,
                    expected: State::Pending,
                },
            });
        }
        tx.commit()?;
        Ok(now)
    }

    pub(super) fn heartbeat(&mut self, task_id: TaskId, owner: &Owner) -> Result<(), StoreError> {
        let kept = self
            .conn
            .prepare_cached(
                "UPDATE tasks SET heartbeat_at = ?5
                 WHERE task_id = ?1 AND owner_pid = ?2 AND owner_host = ?3 AND owner_started_at = ?4",
            )?
            .execute(params![
                task_id,
                owner.pid,
                owner.host,
                owner.started_at,
                now_ms()
            ])?;
        if kept == 0 {
            return Err(StoreError::Fenced {
                task_id,
                by: Self::owner_of(&self.conn, task_id)?,
            });
        }
        Ok(())
    }

    pub(super) fn annotate(
        &mut self,
        task_id: TaskId,
        kind: &str,
        note: &Json,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO task_annotations (task_id, annotation_type, annotation, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![task_id, kind, note.to_string(), now_ms()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }
}

impl SqliteStore {
    /// The steps of new task `task_id`, a hundred rows to a statement (one statement a row
    /// spent more on opening and closing its cursors than on the row): their names in
    /// `named_steps` first, then their rows, both numbered from the highest id there is on.
    /// Returns their ids, in the template's order.
    fn insert_steps(
        tx: &Connection,
        task_id: TaskId,
        t: &crate::templates::Template,
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        fn system(s: &crate::templates::Step) -> &str {
            s.dependent_system.as_deref().unwrap_or("")
        }
        // Names: inserted where new, numbered from the highest id there is on (this
        // transaction writes alone); a hundred that were all new need no look-up.
        let mut next: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(named_step_id), 0) + 1 FROM named_steps")?
            .query_row([], |r| r.get(0))?;
        let mut named_ids: Vec<Option<i64>> = vec![None; t.steps.len()];
        for (c, chunk) in t.steps.chunks(MANY_ROWS).enumerate() {
            let mut insert = tx.prepare_cached(&many_sql(
                "INSERT INTO named_steps (named_step_id, dependent_system, name, description, created_at) VALUES",
                "(?, ?, ?, ?, ?)",
                chunk.len(),
                " ON CONFLICT (dependent_system, name) DO NOTHING",
            ))?;
            for (k, s) in chunk.iter().enumerate() {
                insert.raw_bind_parameter(5 * k + 1, next + k as i64)?;
                insert.raw_bind_parameter(5 * k + 2, system(s))?;
                insert.raw_bind_parameter(5 * k + 3, &s.name)?;
                insert.raw_bind_parameter(5 * k + 4, &s.description)?;
                insert.raw_bind_parameter(5 * k + 5, now)?;
            }
            if insert.raw_execute()? == chunk.len() {
                for k in 0..chunk.len() {
                    named_ids[c * MANY_ROWS + k] = Some(next + k as i64);
                }
            }
            next += chunk.len() as i64;
        }
        // The others, among them names known before: looked up, their description made the
        // latest given (none given keeps the one there).
        let mut known = tx.prepare_cached(
            "SELECT named_step_id, description FROM named_steps WHERE dependent_system = ?1 AND name = ?2",
        )?;
        let mut describe =
            tx.prepare_cached("UPDATE named_steps SET description = ?2 WHERE named_step_id = ?1")?;
        let mut named = Vec::with_capacity(t.steps.len());
        for (s, id) in t.steps.iter().zip(named_ids) {
            let id = match id {
                Some(id) => id,
                None => {
                    let (id, described): (i64, Option<String>) = known
                        .query_row(params![system(s), s.name], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    if s.description.is_some() && s.description != described {
                        describe.execute(params![id, s.description])?;
                    }
                    id
                }
            };
            named.push(id);
        }
        // The rows, numbered from the highest id there is on (this transaction writes alone).
        let first: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(workflow_step_id), 0) + 1 FROM workflow_steps")?
            .query_row([], |r| r.get(0))?;
        let ids: Vec<i64> = (0..t.steps.len() as i64).map(|i| first + i).collect();
        // A step's parents, as their ids in a JSON array (ascending: the ids follow the
        // positions), all in one text: where each step's list ends.
        let mut lists = String::new();
        let mut ends = Vec::with_capacity(t.steps.len());
        for s in &t.steps {
            let mut parents = s.parents.clone();
            parents.sort_unstable();
            for (n, &p) in parents.iter().enumerate() {
                lists.push(if n == 0 { '[' } else { ',' });
                let _ = write!(lists, "{}", ids[p]);
            }
            if !parents.is_empty() {
                lists.push(']');
            }
            ends.push(lists.len());
        }
        for (c, chunk) in t.steps.chunks(MANY_ROWS).enumerate() {
            let mut insert = tx.prepare_cached(&many_sql(
                "INSERT INTO workflow_steps (workflow_step_id, task_id, named_step_id, name, position,
                    retry_limit, retryable, skippable, created_at, updated_at, parents) VALUES",
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                chunk.len(),
                "",
            ))?;
            for (k, s) in chunk.iter().enumerate() {
                let i = c * MANY_ROWS + k;
                let at = 11 * k;
                insert.raw_bind_parameter(at + 1, ids[i])?;
                insert.raw_bind_parameter(at + 2, task_id)?;
                insert.raw_bind_parameter(at + 3, named[i])?;
                insert.raw_bind_parameter(at + 4, &s.name)?;
                insert.raw_bind_parameter(at + 5, i as i64)?;
                insert.raw_bind_parameter(at + 6, s.retry.limit)?;
                insert.raw_bind_parameter(at + 7, s.retry.retryable)?;
                insert.raw_bind_parameter(at + 8, s.skippable)?;
                insert.raw_bind_parameter(at + 9, now)?;
                insert.raw_bind_parameter(at + 10, now)?;
                let list = &lists[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
                insert.raw_bind_parameter(at + 11, (!list.is_empty()).then_some(list))?;
            }
            insert.raw_execute()?;
        }
        Ok(ids)
    }

    /// The task step `step_id` belongs to.
    fn task_of_step(conn: &Connection, step_id: i64) -> Result<TaskId, StoreError> {
        conn.prepare_cached("SELECT task_id FROM workflow_steps WHERE workflow_step_id = ?1")?
            .query_row([step_id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::Corrupt(format!("step {step_id} has no row")))
    }

    /// The runner that owns task `task_id` now, if any.
    fn owner_of(conn: &Connection, task_id: TaskId) -> Result<Option<Owner>, StoreError> {
        let row: Option<(Option<u32>, Option<String>, Option<i64>)> = conn
            .prepare_cached(
                "SELECT owner_pid, owner_host, owner_started_at FROM tasks WHERE task_id = ?1",
            )?
            .query_row([task_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        Ok(match row {
            Some((Some(pid), Some(host), Some(started_at))) => Some(Owner {
                pid,
                host,
                started_at,
            }),
            _ => None,
        })
    }
}

/// A run's batch of changes as one transaction, begun and committed by statements prepared
/// once (a run commits hundreds of times a second; `BEGIN` and `COMMIT` parsed each time
/// cost as much as a row); rolled back if dropped uncommitted, as rusqlite's transactions.
struct Batch<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Batch<'c> {
    fn begin(conn: &'c Connection) -> Result<Batch<'c>, StoreError> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(Batch { conn, open: true })
    }

    fn commit(mut self) -> Result<(), StoreError> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for Batch<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if self.open
            && !self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::error!("cannot roll back a failed batch: {e}");
        }
    }
}

/// Foreign keys unchecked while it lives (set outside a transaction, where SQLite honours
/// it), and checked again after, whatever happened.
struct Unchecked<'c>(&'c Connection);

impl<'c> Unchecked<'c> {
    fn new(conn: &'c Connection) -> Result<Unchecked<'c>, StoreError> {
        conn.pragma_update(None, "foreign_keys", false)?;
        Ok(Unchecked(conn))
    }
}

impl Drop for Unchecked<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.pragma_update(None, "foreign_keys", true) {
            tracing::error!("cannot turn foreign key checks back on: {e}");
        }
    }
}

/// A handler's call ([`Change::Handling`]) of a batch, and whether it was written yet.
#[derive(Clone, Copy)]
struct Call<'c> {
    step_id: StepId,
    attempt: u32,
    seq: i64,
    at: i64,
    handler: &'c str,
    written: bool,
}

impl<'c> Call<'c> {
    /// The call of `step_id`'s attempt `attempt` not written yet, now to be written
    /// (`calls` in order of step and attempt).
    fn take(calls: &mut [Call<'c>], step_id: StepId, attempt: u32) -> Option<Call<'c>> {
        let from = calls.partition_point(|c| (c.step_id, c.attempt) < (step_id, attempt));
        let call = calls[from..]
            .iter_mut()
            .take_while(|c| c.step_id == step_id && c.attempt == attempt)
            .find(|c| !c.written)?;
        call.written = true;
        Some(*call)
    }
}

/// The most events one row of the log holds. Readers look this far back for the row holding
/// an event, so it may shrink but never grow.
pub(super) const PAGE_EVENTS: u64 = 64;

/// A row of the log is closed once its text passes this many bytes.
const PAGE_BYTES: usize = 32 * 1024;

/// What a committed batch fenced by a task's owner proved: the task was the owner's, and
/// its log's last page ended at `last_page`. Both hold for the next batch so fenced as long
/// as nothing at all was written to the store since: no other connection committed (its
/// `data_version` is `version`) and this one wrote nothing else (its `total_changes` is
/// `changes`). Then that batch skips the two look-ups (a spawned step's commit spares ~6 k
/// instructions).
#[derive(Debug, Clone)]
pub(super) struct Quiet {
    version: i64,
    changes: u64,
    task_id: TaskId,
    owner: Owner,
    last_page: u64,
}

impl Quiet {
    /// The log's last page of `task_id`, if what was proved holds for a batch fenced by
    /// `owner` that sees `version` and `changes`.
    fn holds(&self, task_id: TaskId, owner: &Owner, version: i64, changes: u64) -> Option<u64> {
        (self.task_id == task_id
            && &self.owner == owner
            && self.version == version
            && self.changes == changes)
            .then_some(self.last_page)
    }
}

/// The events of one commit, written a row per run of consecutive events of a task (at most
/// [`PAGE_EVENTS`]), one JSON text per line: a step's few events cost one row between them,
/// not a row each. A run of steps' creation events is written as where to read them: the
/// first step's id ([`STEPS_CREATED`]); their step rows hold all they say.
struct Pages {
    now: i64,
    /// The open page: its task, first and last sequence numbers, and the id of its first
    /// step when it holds steps' creation events (else its text).
    open: Option<(TaskId, u64, u64, Option<i64>)>,
    text: String,
    /// Per task this transaction records events of: its last event recorded before. Every
    /// event of this transaction must come after it: two writers numbering the same events
    /// conflict.
    floors: Vec<(TaskId, u64)>,
    /// Whether a floor counts the events rows restate, or the log's pages only (enough when
    /// the task's owner, which alone writes those, fences the transaction).
    full: bool,
    /// Per task, the last event of the pages this transaction wrote.
    written: Vec<(TaskId, u64)>,
}

/// The first line of a page of steps' creation events, before the first step's id.
pub(super) const STEPS_CREATED: &str =
    "{\"derived\":\"step.initialize_requested\",\"first_step_id\":";

impl Pages {
    fn new(now: i64, full: bool) -> Pages {
        Pages {
            now,
            open: None,
            text: String::new(),
            floors: Vec::new(),
            full,
            written: Vec::new(),
        }
    }

    /// Where task `task_id`'s log of pages ends with this transaction, when known: its
    /// floor (if it was looked up) or the last page written.
    fn last_of(&self, task_id: TaskId) -> Option<u64> {
        let floor = self.floors.iter().find(|(t, _)| *t == task_id).map(|f| f.1);
        let written = self
            .written
            .iter()
            .find(|(t, _)| *t == task_id)
            .map(|w| w.1);
        floor.max(written)
    }

    /// Fail unless event `seq` of task `task_id` comes after the task's last recorded
    /// before this transaction.
    fn check(&mut self, tx: &Connection, task_id: TaskId, seq: u64) -> Result<(), StoreError> {
        let floor = match self.floors.iter().find(|(t, _)| *t == task_id) {
            Some(&(_, floor)) => floor,
            None => {
                let floor = if self.full {
                    SqliteStore::last_event_seq_in(tx, task_id)?
                } else {
                    SqliteStore::last_page_seq_in(tx, task_id)?
                };
                self.floors.push((task_id, floor));
                floor
            }
        };
        if seq <= floor {
            return Err(StoreError::Backend {
                kind: Failure::Other,
                message: format!(
                    "event {seq} of task {task_id} is already recorded (another process wrote the task's log meanwhile)"
                ),
            });
        }
        Ok(())
    }

    fn push(
        &mut self,
        tx: &Connection,
        task_id: TaskId,
        seq: u64,
        doc: &str,
    ) -> Result<(), StoreError> {
        debug_assert!(!doc.contains('\n'), "an event's JSON text is one line");
        match &mut self.open {
            Some((task, first, last, None))
                if *task == task_id
                    && seq == *last + 1
                    && seq - *first < PAGE_EVENTS
                    && self.text.len() < PAGE_BYTES =>
            {
                *last = seq;
                self.text.push('\n');
            }
            _ => {
                self.flush(tx)?;
                self.open = Some((task_id, seq, seq, None));
            }
        }
        self.text.push_str(doc);
        Ok(())
    }

    /// Event `seq` is step `step_id`'s creation (`step.initialize_requested`), dated as its
    /// row.
    fn push_step_created(
        &mut self,
        tx: &Connection,
        task_id: TaskId,
        seq: u64,
        step_id: i64,
    ) -> Result<(), StoreError> {
        match &mut self.open {
            Some((task, first, last, Some(first_step)))
                if *task == task_id
                    && seq == *last + 1
                    && seq - *first < PAGE_EVENTS
                    && step_id == *first_step + (seq - *first) as i64 =>
            {
                *last = seq;
            }
            _ => {
                self.flush(tx)?;
                self.open = Some((task_id, seq, seq, Some(step_id)));
            }
        }
        Ok(())
    }

    /// Write the open page, if any ([`Pages::check`]ed).
    fn flush(&mut self, tx: &Connection) -> Result<(), StoreError> {
        let Some((task_id, first, last, first_step)) = self.open.take() else {
            return Ok(());
        };
        self.check(tx, task_id, first)?;
        if let Some(step) = first_step {
            self.text = format!("{STEPS_CREATED}{step}}}");
        }
        tx.prepare_cached(
            "INSERT INTO events (task_id, seq, last_seq, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![task_id, first as i64, last as i64, self.text, self.now])?;
        self.text.clear();
        match self.written.iter_mut().find(|(t, _)| *t == task_id) {
            Some(w) => w.1 = w.1.max(last),
            None => self.written.push((task_id, last)),
        }
        Ok(())
    }
}

/// How many rows one statement of a new task's inserts writes.
const MANY_ROWS: usize = 100;

/// `PREFIX ROW, ROW, … SUFFIX` with `rows` rows (a statement for rows of a new task).
fn many_sql(prefix: &str, row: &str, rows: usize, suffix: &str) -> String {
    let mut sql = String::with_capacity(prefix.len() + (row.len() + 2) * rows + suffix.len() + 1);
    sql.push_str(prefix);
    sql.push(' ');
    for n in 0..rows {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(row);
    }
    sql.push_str(suffix);
    sql
}
