//! What `tasker worker` asks of the database: its row and heartbeat, claiming ready steps,
//! completing a claimed attempt behind its fence, taking back the steps of silent workers,
//! and being woken when steps become ready.

use super::apply::Fence;
use super::*;
use crate::clock::now_ms;

/// A step a worker claimed: its attempt is now `in_progress` under the worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub step_id: StepId,
    pub task_id: TaskId,
    pub position: usize,
    pub attempt: u32,
    /// Its state before the claim: `pending`, or `error` for a retry.
    pub was: State,
    /// When it became ready (ms), for the ready → running wait.
    pub ready_at: Option<i64>,
}

/// An attempt taken back from a worker that went silent.
#[derive(Debug, Clone)]
pub struct Rescued {
    pub step_id: StepId,
    pub task_id: TaskId,
    pub attempt: u32,
    pub worker: String,
    pub host: Option<String>,
    pub pid: Option<u32>,
}

/// Which tasks' steps a worker takes.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    pub namespaces: Option<Vec<String>>,
    pub names: Option<Vec<String>>,
    pub task: Option<TaskId>,
}

impl PgStore {
    /// A connection that listens for steps becoming ready: `wake` is called on each
    /// notification. Kept open as long as the returned store lives.
    pub fn listen(url: &PgUrl, wake: Box<dyn Fn() + Send>) -> Result<PgStore, StoreError> {
        let client = connect::connect(url, Some(wake))?;
        let store = PgStore {
            client,
            shown: url.shown.clone(),
            cache: Cache::default(),
        };
        wait(store.client.batch_execute("LISTEN tasker_ready"))?;
        Ok(store)
    }

    /// Record this worker (again, if its row is there), with a fresh heartbeat; silent for
    /// longer than `grace_ms`, it is taken for dead.
    pub fn register_worker(
        &mut self,
        id: &str,
        host: &str,
        pid: u32,
        grace_ms: i64,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.cache.exec(
            &self.client,
            "INSERT INTO workers (worker_id, host, pid, started_at, heartbeat_at, grace_ms)
             VALUES ($1, $2, $3, $4, $4, $5)
             ON CONFLICT (worker_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
                heartbeat_at = EXCLUDED.heartbeat_at, draining = false, grace_ms = EXCLUDED.grace_ms",
            &[&id, &host, &i64::from(pid), &now, &grace_ms],
        )?;
        Ok(())
    }

    /// Close task `task_id` to claims: no step of it is claimed any more (its runner stops
    /// it under `--fail-fast`), and it counts as settled once nothing of it runs.
    pub fn close_claims(&mut self, task_id: TaskId) -> Result<(), StoreError> {
        self.cache.exec(
            &self.client,
            "UPDATE tasks SET claims_closed = true WHERE task_id = $1",
            &[&task_id],
        )?;
        Ok(())
    }

    /// Of task `task_id`'s steps in progress, those a live worker holds (its heartbeat
    /// within its grace period): a runner taking the task over leaves them to it.
    pub fn live_claims(&self, task_id: TaskId) -> Result<Vec<StepId>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT s.workflow_step_id FROM workflow_steps s JOIN workers w ON w.worker_id = s.claimed_by
              WHERE s.task_id = $1 AND s.status = 'in_progress' AND w.heartbeat_at >= $2 - w.grace_ms",
            &[&task_id, &now_ms()],
        )?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    /// The worker's heartbeat: `false` when its row is gone (it was taken for dead).
    pub fn worker_heartbeat(&mut self, id: &str, draining: bool) -> Result<bool, StoreError> {
        let n = self.cache.exec(
            &self.client,
            "UPDATE workers SET heartbeat_at = $2, draining = $3 WHERE worker_id = $1",
            &[&id, &now_ms(), &draining],
        )?;
        Ok(n == 1)
    }

    /// The worker leaves: its row goes.
    pub fn unregister_worker(&mut self, id: &str) -> Result<(), StoreError> {
        self.cache.exec(
            &self.client,
            "DELETE FROM workers WHERE worker_id = $1",
            &[&id],
        )?;
        Ok(())
    }

    /// Claim up to `n` ready steps for `worker` (one call).
    pub fn claim_steps(
        &mut self,
        worker: &str,
        n: usize,
        filter: &ClaimFilter,
    ) -> Result<Vec<Claimed>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT step_id, task_id, step_position, attempt, was, ready_at
               FROM tasker_claim($1, $2, $3, $4, $5, $6)",
            &[
                &worker,
                &(n as i64),
                &now_ms(),
                &filter.namespaces,
                &filter.names,
                &filter.task,
            ],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    step_id: col(r, 0)?,
                    task_id: col(r, 1)?,
                    position: col::<i64>(r, 2)?.max(0) as usize,
                    attempt: u32_of(col(r, 3)?)?,
                    was: state_of(&col::<String>(r, 4)?)?,
                    ready_at: col(r, 5)?,
                })
            })
            .collect()
    }

    /// Record how a claimed attempt ended (its changes and events, one call): `None` when
    /// the claim no longer holds (the step was taken back or cancelled) and nothing was
    /// written, else whether its task has nothing left to run (its end is due).
    pub fn complete_step(
        &mut self,
        worker: &str,
        step_id: StepId,
        attempt: u32,
        changes: &[Change],
    ) -> Result<Option<bool>, StoreError> {
        self.apply_fenced(
            Some(Fence::Claim {
                step_id,
                attempt,
                worker,
            }),
            changes,
        )
    }

    /// Record how several claimed attempts ended, in one call (as
    /// [`PgStore::complete_step`] each, in order; a claim that no longer holds, or a
    /// transition refused, writes nothing of its own attempt only). `ends` come in their
    /// tasks' order.
    pub fn complete_steps(
        &mut self,
        worker: &str,
        ends: &[(StepId, u32, &[Change])],
    ) -> Result<Vec<Option<bool>>, StoreError> {
        if let [(step_id, attempt, changes)] = ends {
            return Ok(vec![
                self.complete_step(worker, *step_id, *attempt, changes)?,
            ]);
        }
        let batches: Vec<(Fence<'_>, &[Change])> = ends
            .iter()
            .map(|(step_id, attempt, changes)| {
                (
                    Fence::Claim {
                        step_id: *step_id,
                        attempt: *attempt,
                        worker,
                    },
                    *changes,
                )
            })
            .collect();
        self.apply_many(&batches)
    }

    /// Record, for each attempt `worker` still holds, what it says while it runs (its start's
    /// events, its process), all in one call; each batch written only while its claim
    /// holds (`false`: taken back, nothing of it written), the claim kept.
    pub fn record_running(
        &mut self,
        worker: &str,
        batches: &[(StepId, u32, &[Change])],
    ) -> Result<Vec<bool>, StoreError> {
        let batches: Vec<(Fence<'_>, &[Change])> = batches
            .iter()
            .map(|(step_id, attempt, changes)| {
                (
                    Fence::Hold {
                        step_id: *step_id,
                        attempt: *attempt,
                        worker,
                    },
                    *changes,
                )
            })
            .collect();
        Ok(self
            .apply_many(&batches)?
            .into_iter()
            .map(|a| a.is_some())
            .collect())
    }

    /// Take back the steps of workers silent for longer than their grace period.
    pub fn rescue(&mut self) -> Result<Vec<Rescued>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT step_id, task_id, attempt, worker, host, pid FROM tasker_rescue($1)",
            &[&now_ms()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Rescued {
                    step_id: col(r, 0)?,
                    task_id: col(r, 1)?,
                    attempt: u32_of(col(r, 2)?)?,
                    worker: col(r, 3)?,
                    host: col(r, 4)?,
                    pid: col::<Option<i64>>(r, 5)?.and_then(|p| u32::try_from(p).ok()),
                })
            })
            .collect()
    }

    /// Of the steps `held` (claimed by `worker`), those whose claim no longer holds: taken
    /// back, cancelled by an operator, or finished by someone else.
    pub fn lost_claims(&self, worker: &str, held: &[StepId]) -> Result<Vec<StepId>, StoreError> {
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.cache.query(
            &self.client,
            "SELECT h FROM UNNEST($2::bigint[]) AS h
              WHERE NOT EXISTS (SELECT 1 FROM workflow_steps s WHERE s.workflow_step_id = h
                                   AND s.claimed_by = $1 AND s.status = 'in_progress')",
            &[&worker, &held],
        )?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    /// Give up the claims of `worker` on steps other than `held` (claims whose answer was
    /// lost with a connection): they are marked for the next rescue, which takes them back.
    pub fn disown(&mut self, worker: &str, held: &[StepId]) -> Result<u64, StoreError> {
        self.cache.exec(
            &self.client,
            "UPDATE workflow_steps SET claimed_by = claimed_by || ' (disowned)'
              WHERE claimed_by = $1 AND status = 'in_progress' AND NOT (workflow_step_id = ANY ($2))",
            &[&worker, &held],
        )
    }

    /// The tasks in progress with nothing left to run: their ends are due (a task a live
    /// runner owns is left to it).
    pub fn settled_tasks(&self) -> Result<Vec<TaskId>, StoreError> {
        let rows = self.cache.query(
            &self.client,
            "SELECT t.task_id FROM tasks t
              WHERE t.status = 'in_progress' AND NOT tasker_busy(t.task_id)",
            &[],
        )?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    /// Whether anything of task `task_id` runs, is ready, or waits for a retry.
    pub fn task_busy(&self, task_id: TaskId) -> Result<bool, StoreError> {
        let row = self
            .cache
            .one(&self.client, "SELECT tasker_busy($1)", &[&task_id])?;
        col(&row, 0)
    }

    /// When the earliest retry of a task in progress is due, if one waits.
    pub fn next_retry(&self) -> Result<Option<i64>, StoreError> {
        let row = self.cache.one(
            &self.client,
            "SELECT MIN(s.next_retry_at) FROM workflow_steps s JOIN tasks t ON t.task_id = s.task_id
              WHERE s.status = 'error' AND s.next_retry_at IS NOT NULL
                AND t.status = 'in_progress'",
            &[],
        )?;
        col(&row, 0)
    }
}
