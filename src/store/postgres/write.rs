//! Writes: a new task's rows (a few statements, whatever its size), batches of changes
//! (fenced, each transition a compare-and-set), claims, heartbeats, annotations.

use tokio_postgres::Transaction;

use super::*;
use crate::clock::now_ms;
use crate::store::StepState;

impl PgStore {
    pub(super) fn insert_task(
        &mut self,
        new: &NewTask<'_>,
        opening: &Opening,
    ) -> Result<Created, StoreError> {
        let now = now_ms();
        let t = new.template;
        let cache = &self.cache;
        let tx = wait(self.client.transaction())?;
        cache.exec(
            &tx,
            "INSERT INTO task_namespaces (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&t.namespace, &now],
        )?;
        let namespace_id: i64 = col(
            &cache.one(
                &tx,
                "SELECT task_namespace_id FROM task_namespaces WHERE name = $1",
                &[&t.namespace],
            )?,
            0,
        )?;
        cache.exec(
            &tx,
            "INSERT INTO named_tasks (task_namespace_id, name, version, description, content_hash, template, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (task_namespace_id, name, version, content_hash) DO NOTHING",
            &[&namespace_id, &t.name, &t.version, &t.description, &new.content_hash, &new.source, &now],
        )?;
        let named_task_id: i64 = col(
            &cache.one(
                &tx,
                "SELECT named_task_id FROM named_tasks
                 WHERE task_namespace_id = $1 AND name = $2 AND version = $3 AND content_hash = $4",
                &[&namespace_id, &t.name, &t.version, &new.content_hash],
            )?,
            0,
        )?;
        let identity = format!("{}/{}@{}", t.namespace, t.name, t.version);
        let uuid = uuid::Uuid::new_v4().to_string();
        let tags = serde_json::to_string(new.tags).unwrap_or_else(|_| "[]".into());
        let context = new.context.to_string();
        // Two creations with one idempotency key race to the unique index: the loser
        // inserts nothing and finds the winner's task.
        let inserted = cache.opt(
            &tx,
            "INSERT INTO tasks (uuid, named_task_id, identity, environment, status, context, workdir, initiator,
                                source_system, reason, tags, idempotency_key, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $12)
             ON CONFLICT (identity, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING task_id",
            &[
                &uuid,
                &named_task_id,
                &identity,
                &new.environment,
                &context,
                &new.workdir,
                &new.initiator,
                &new.source_system,
                &new.reason,
                &tags,
                &new.idempotency_key,
                &now,
            ],
        )?;
        let Some(inserted) = inserted else {
            let existing: i64 = col(
                &cache.one(
                    &tx,
                    "SELECT task_id FROM tasks WHERE identity = $1 AND idempotency_key = $2",
                    &[&identity, &new.idempotency_key],
                )?,
                0,
            )?;
            wait(tx.rollback())?;
            return Ok(Created::Existing(existing));
        };
        let task_id: i64 = col(&inserted, 0)?;

        // Names of steps, their rows and their edges: one statement each.
        let systems: Vec<&str> = t
            .steps
            .iter()
            .map(|s| s.dependent_system.as_deref().unwrap_or(""))
            .collect();
        let names: Vec<&str> = t.steps.iter().map(|s| s.name.as_str()).collect();
        let descriptions: Vec<Option<&str>> =
            t.steps.iter().map(|s| s.description.as_deref()).collect();
        let mut named = HashMap::with_capacity(t.steps.len());
        for r in cache.query(
            &tx,
            "INSERT INTO named_steps (dependent_system, name, description, created_at)
             SELECT d, n, x, $4 FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u (d, n, x)
             ON CONFLICT (dependent_system, name)
                DO UPDATE SET description = COALESCE(EXCLUDED.description, named_steps.description)
             RETURNING named_step_id, dependent_system, name",
            &[&systems, &names, &descriptions, &now],
        )? {
            let (id, system, name): (i64, String, String) = (col(&r, 0)?, col(&r, 1)?, col(&r, 2)?);
            named.insert((system, name), id);
        }
        let named_ids: Vec<i64> = systems
            .iter()
            .zip(&names)
            .map(|(d, n)| {
                named
                    .get(&((*d).to_owned(), (*n).to_owned()))
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("named step `{n}` was not made")))
            })
            .collect::<Result<_, _>>()?;
        let positions: Vec<i64> = (0..t.steps.len() as i64).collect();
        let limits: Vec<i64> = t.steps.iter().map(|s| i64::from(s.retry.limit)).collect();
        let retryable: Vec<bool> = t.steps.iter().map(|s| s.retry.retryable).collect();
        let skippable: Vec<bool> = t.steps.iter().map(|s| s.skippable).collect();
        let mut step_ids = vec![0i64; t.steps.len()];
        for r in cache.query(
            &tx,
            "INSERT INTO workflow_steps (task_id, named_step_id, name, position, retry_limit, retryable,
                                         skippable, created_at, updated_at)
             SELECT $1, s, n, p, l, r, k, $7, $7
             FROM UNNEST($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::boolean[], $8::boolean[])
                  AS u (s, n, p, l, r, k)
             RETURNING workflow_step_id, position",
            &[&task_id, &named_ids, &names, &positions, &limits, &retryable, &now, &skippable],
        )? {
            let (id, position): (i64, i64) = (col(&r, 0)?, col(&r, 1)?);
            if let Some(slot) = step_ids.get_mut(position as usize) {
                *slot = id;
            }
        }
        let (mut from, mut to) = (Vec::new(), Vec::new());
        for (i, s) in t.steps.iter().enumerate() {
            for &p in &s.parents {
                from.push(step_ids[p]);
                to.push(step_ids[i]);
            }
        }
        if !from.is_empty() {
            cache.exec(
                &tx,
                "INSERT INTO workflow_step_edges (from_step_id, to_step_id)
                 SELECT f, t FROM UNNEST($1::bigint[], $2::bigint[]) AS u (f, t)",
                &[&from, &to],
            )?;
        }
        for s in &opening.steps {
            let Some(&step_id) = step_ids.get(s.position) else {
                continue;
            };
            step_transition(
                cache,
                &tx,
                step_id,
                s.from,
                s.to,
                &s.metadata,
                &s.state,
                now,
            )?;
        }
        let (mut seqs, mut event_names, mut payloads) = (Vec::new(), Vec::new(), Vec::new());
        for (n, e) in opening.events.iter().enumerate() {
            let mut e = e.clone();
            e.task_id = task_id;
            e.seq = n as u64 + 1;
            seqs.push(e.seq as i64);
            event_names.push(e.name().to_owned());
            payloads.push(e.to_json().to_string());
        }
        cache.exec(
            &tx,
            "INSERT INTO events (task_id, seq, name, payload, created_at)
             SELECT $1, s, n, p, $5 FROM UNNEST($2::bigint[], $3::text[], $4::text[]) AS u (s, n, p)",
            &[&task_id, &seqs, &event_names, &payloads, &now],
        )?;
        wait(tx.commit())?;
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
        let cache = &self.cache;
        let tx = wait(self.client.transaction())?;
        if let Some((task_id, owner)) = fence {
            // The task's row stays locked until this commit: a claim waits for it, and
            // then finds what it wrote.
            let holder = owner_locked(cache, &tx, task_id)?;
            if holder.as_ref() != Some(owner) {
                return Err(StoreError::Fenced {
                    task_id,
                    by: holder,
                });
            }
        }
        for change in changes {
            match change {
                Change::Task {
                    task_id,
                    from,
                    to,
                    actor: _,
                    metadata,
                } => task_transition(cache, &tx, *task_id, *from, *to, metadata, now)?,
                Change::Step {
                    step_id,
                    from,
                    to,
                    actor: _,
                    metadata,
                    state,
                } => step_transition(cache, &tx, *step_id, *from, *to, metadata, state, now)?,
                Change::AttemptStarted { step_id, attempt } => {
                    cache.exec(
                        &tx,
                        "INSERT INTO step_attempts (workflow_step_id, attempt, started_at) VALUES ($1, $2, $3)",
                        &[step_id, &i64::from(*attempt), &now],
                    )?;
                }
                Change::Event {
                    task_id,
                    seq,
                    name,
                    doc,
                } => {
                    cache.exec(
                        &tx,
                        "INSERT INTO events (task_id, seq, name, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
                        &[task_id, &(*seq as i64), name, &doc.to_string(), &now],
                    )?;
                }
                Change::Trace {
                    task_id,
                    traceparent,
                } => {
                    cache.exec(
                        &tx,
                        "UPDATE tasks SET traceparent = $2 WHERE task_id = $1",
                        &[task_id, traceparent],
                    )?;
                }
                Change::AttemptProcess {
                    step_id,
                    attempt,
                    pid,
                    started_at,
                } => {
                    cache.exec(
                        &tx,
                        "UPDATE step_attempts SET pid = $3, pid_started_at = $4
                         WHERE workflow_step_id = $1 AND attempt = $2",
                        &[step_id, &i64::from(*attempt), &i64::from(*pid), started_at],
                    )?;
                }
                Change::AttemptFinished {
                    step_id,
                    attempt,
                    end,
                } => {
                    let custom = (!end.custom_events.is_empty())
                        .then(|| Json::Array(end.custom_events.clone()).to_string());
                    cache.exec(
                        &tx,
                        "UPDATE step_attempts SET finished_at = $3, outcome = $4, exit_code = $5, signal = $6,
                            error_class = $7, error_message = $8, stdout = $9, stderr = $10,
                            stdout_dropped = $11, stderr_dropped = $12, custom_events = $13
                         WHERE workflow_step_id = $1 AND attempt = $2",
                        &[
                            step_id,
                            &i64::from(*attempt),
                            &now,
                            &end.outcome.as_str(),
                            &end.exit_code.map(i64::from),
                            &end.signal.map(i64::from),
                            &end.error.as_ref().map(|e| e.class.as_str()),
                            &end.error.as_ref().map(|e| e.message.as_str()),
                            &end.stdout,
                            &end.stderr,
                            &(end.stdout_dropped as i64),
                            &(end.stderr_dropped as i64),
                            &custom,
                        ],
                    )?;
                }
            }
        }
        wait(tx.commit())?;
        Ok(())
    }

    pub(super) fn claim(
        &mut self,
        task_id: TaskId,
        owner: &Owner,
        alive: &dyn Fn(&Owner, Option<i64>) -> bool,
    ) -> Result<(), StoreError> {
        let cache = &self.cache;
        let tx = wait(self.client.transaction())?;
        let current = cache.opt(
            &tx,
            "SELECT owner_pid, owner_host, owner_started_at, heartbeat_at FROM tasks WHERE task_id = $1",
            &[&task_id],
        )?;
        let (pid, host, started, beat): (Option<i64>, Option<String>, Option<i64>, Option<i64>) =
            match &current {
                Some(r) => (col(r, 0)?, col(r, 1)?, col(r, 2)?, col(r, 3)?),
                None => (None, None, None, None),
            };
        if let Some(holder) = owner_of(pid, host.clone(), started)
            && holder != *owner
            && alive(&holder, beat)
        {
            return Err(StoreError::Owned {
                task_id,
                owner: holder,
                heartbeat_at: beat,
            });
        }
        // Compare-and-set on what was read: a claimant that raced ahead changed the row
        // (this update then waits for it, reads its version and matches nothing).
        let taken = cache.exec(
            &tx,
            "UPDATE tasks SET owner_pid = $2, owner_host = $3, owner_started_at = $4, heartbeat_at = $5
             WHERE task_id = $1 AND owner_pid IS NOT DISTINCT FROM $6
               AND owner_host IS NOT DISTINCT FROM $7 AND owner_started_at IS NOT DISTINCT FROM $8
               AND heartbeat_at IS NOT DISTINCT FROM $9",
            &[
                &task_id,
                &i64::from(owner.pid),
                &owner.host,
                &owner.started_at,
                &now_ms(),
                &pid,
                &host,
                &started,
                &beat,
            ],
        )?;
        if taken == 0 {
            let holder = owner_now(cache, &tx, task_id)?;
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
        wait(tx.commit())?;
        Ok(())
    }

    pub(super) fn heartbeat(&mut self, task_id: TaskId, owner: &Owner) -> Result<(), StoreError> {
        let kept = self.cache.exec(
            &self.client,
            "UPDATE tasks SET heartbeat_at = $5
             WHERE task_id = $1 AND owner_pid = $2 AND owner_host = $3 AND owner_started_at = $4",
            &[
                &task_id,
                &i64::from(owner.pid),
                &owner.host,
                &owner.started_at,
                &now_ms(),
            ],
        )?;
        if kept == 0 {
            return Err(StoreError::Fenced {
                task_id,
                by: owner_now(&self.cache, &self.client, task_id)?,
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
        let row = self.cache.one(
            &self.client,
            "INSERT INTO task_annotations (task_id, annotation_type, annotation, created_at)
             VALUES ($1, $2, $3, $4) RETURNING task_annotation_id",
            &[&task_id, &kind, &note.to_string(), &now_ms()],
        )?;
        col(&row, 0)
    }
}

/// The runner that owns task `task_id` now, if any.
fn owner_now<C: GenericClient>(
    cache: &Cache,
    c: &C,
    task_id: TaskId,
) -> Result<Option<Owner>, StoreError> {
    let row = cache.opt(
        c,
        "SELECT owner_pid, owner_host, owner_started_at FROM tasks WHERE task_id = $1",
        &[&task_id],
    )?;
    Ok(match row {
        Some(r) => owner_of(col(&r, 0)?, col(&r, 1)?, col(&r, 2)?),
        None => None,
    })
}

/// The owner of task `task_id`, its row locked until the transaction ends.
fn owner_locked(
    cache: &Cache,
    tx: &Transaction<'_>,
    task_id: TaskId,
) -> Result<Option<Owner>, StoreError> {
    let row = cache.opt(
        tx,
        "SELECT owner_pid, owner_host, owner_started_at FROM tasks WHERE task_id = $1 FOR UPDATE",
        &[&task_id],
    )?;
    Ok(match row {
        Some(r) => owner_of(col(&r, 0)?, col(&r, 1)?, col(&r, 2)?),
        None => None,
    })
}

fn task_transition(
    cache: &Cache,
    tx: &Transaction<'_>,
    task_id: TaskId,
    from: State,
    to: State,
    metadata: &Json,
    now: i64,
) -> Result<(), StoreError> {
    let finished = matches!(
        to,
        State::Complete | State::Error | State::Cancelled | State::ResolvedManually
    );
    let running = to == State::InProgress;
    // Leaving `in_progress` releases the owner; a claimed task moving on its way to
    // running (`error → pending` as a resume takes it over) keeps it.
    let releasing = from == State::InProgress && !running;
    let changed = cache.exec(
        tx,
        "UPDATE tasks SET status = $2, updated_at = $3,
            started_at = CASE WHEN $4 THEN COALESCE(started_at, $3) ELSE started_at END,
            finished_at = CASE WHEN $5 THEN $3 ELSE NULL END,
            owner_pid = CASE WHEN $7 THEN NULL ELSE owner_pid END,
            owner_host = CASE WHEN $7 THEN NULL ELSE owner_host END,
            owner_started_at = CASE WHEN $7 THEN NULL ELSE owner_started_at END,
            heartbeat_at = CASE WHEN $7 THEN NULL ELSE heartbeat_at END
         WHERE task_id = $1 AND status = $6",
        &[
            &task_id,
            &to.as_str(),
            &now,
            &running,
            &finished,
            &from.as_str(),
            &releasing,
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::Conflict {
            entity: "task",
            id: task_id,
            expected: from,
        });
    }
    cache.exec(
        tx,
        "UPDATE task_transitions SET most_recent = false WHERE task_id = $1 AND most_recent",
        &[&task_id],
    )?;
    cache.exec(
        tx,
        "INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM task_transitions WHERE task_id = $1),
                 true, $4, $5)",
        &[&task_id, &from.as_str(), &to.as_str(), &metadata.to_string(), &now],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn step_transition(
    cache: &Cache,
    tx: &Transaction<'_>,
    step_id: StepId,
    from: State,
    to: State,
    metadata: &Json,
    state: &StepState,
    now: i64,
) -> Result<(), StoreError> {
    let changed = cache.exec(
        tx,
        "UPDATE workflow_steps SET status = $2, attempts = $3, flaky = $4, results = $5,
            error_class = $6, error_message = $7, next_retry_at = $8, started_at = $9,
            finished_at = $10, updated_at = $11, counted_attempts = $13
         WHERE workflow_step_id = $1 AND status = $12",
        &[
            &step_id,
            &to.as_str(),
            &i64::from(state.attempts),
            &state.flaky,
            &state.results.as_ref().map(Json::to_string),
            &state.error.as_ref().map(|e| e.class.as_str()),
            &state.error.as_ref().map(|e| e.message.as_str()),
            &state.next_retry_at,
            &state.started_at,
            &state.finished_at,
            &now,
            &from.as_str(),
            &i64::from(state.counted),
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::Conflict {
            entity: "step",
            id: step_id,
            expected: from,
        });
    }
    cache.exec(
        tx,
        "UPDATE workflow_step_transitions SET most_recent = false WHERE workflow_step_id = $1 AND most_recent",
        &[&step_id],
    )?;
    cache.exec(
        tx,
        "INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM workflow_step_transitions WHERE workflow_step_id = $1),
                 true, $4, $5)",
        &[&step_id, &from.as_str(), &to.as_str(), &metadata.to_string(), &now],
    )?;
    Ok(())
}
