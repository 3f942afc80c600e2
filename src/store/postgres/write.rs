//! Writes: a new task's rows (a few statements, whatever its size), batches of changes
//! (fenced, each transition a compare-and-set), claims, heartbeats, annotations.

use super::*;
use crate::clock::now_ms;

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
                                source_system, reason, tags, idempotency_key, created_at, updated_at,
                                timeout_ms)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
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
                &t.timeout.map(|d| d.as_millis() as i64),
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
        let parents: Vec<i64> = t.steps.iter().map(|s| s.parents.len() as i64).collect();
        let mut step_ids = vec![0i64; t.steps.len()];
        for r in cache.query(
            &tx,
            "INSERT INTO workflow_steps (task_id, named_step_id, name, position, retry_limit, retryable,
                                         skippable, unfinished_parents, created_at, updated_at)
             SELECT $1, s, n, p, l, r, k, u, $7, $7
             FROM UNNEST($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::boolean[], $8::boolean[],
                         $9::bigint[])
                  AS u (s, n, p, l, r, k, u)
             RETURNING workflow_step_id, position",
            &[&task_id, &named_ids, &names, &positions, &limits, &retryable, &now, &skippable, &parents],
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
        let moves: Vec<Change> = opening
            .steps
            .iter()
            .filter_map(|s| {
                Some(Change::Step {
                    step_id: *step_ids.get(s.position)?,
                    from: s.from,
                    to: s.to,
                    actor: crate::model::Actor::Operator,
                    metadata: s.metadata.clone().into(),
                    state: s.state.clone(),
                    restates: None,
                })
            })
            .collect();
        if !moves.is_empty() {
            super::apply::apply_in(cache, &tx, &moves)?;
        }
        let (mut seqs, mut event_names, mut payloads) = (Vec::new(), Vec::new(), Vec::new());
        for (n, e) in opening.events.iter().enumerate() {
            let mut e = e.clone();
            e.task_id = task_id;
            e.seq = n as u64 + 1;
            seqs.push(e.seq as i64);
            event_names.push(e.name().to_owned());
            payloads.push(e.to_json_text());
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
        let held = self.apply_fenced(
            fence.map(|(task_id, owner)| super::apply::Fence::Owner(task_id, owner)),
            changes,
        )?;
        let held = held.is_some();
        match fence {
            Some((task_id, _)) if !held => Err(StoreError::Fenced {
                task_id,
                by: owner_now(&self.cache, &self.client, task_id)?,
            }),
            Some(_) => Ok(()),
            None if held => Ok(()),
            None => Err(StoreError::Corrupt(
                "the database refused an unfenced batch as fenced".into(),
            )),
        }
    }

    pub(super) fn claim(
        &mut self,
        task_id: TaskId,
        owner: &Owner,
        alive: &dyn Fn(&Owner, Option<i64>) -> bool,
    ) -> Result<i64, StoreError> {
        let cache = &self.cache;
        let now = now_ms();
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
                &now,
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
        Ok(now)
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
