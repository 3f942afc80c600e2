//! A batch of changes as one call of `tasker_apply` (one round trip, one transaction):
//! the changes written as JSON, applied in order by the database, all or nothing.

use serde_json::json;

use super::*;
use crate::clock::now_ms;

/// How a batch is fenced: by the task's owner (a runner), or by a worker's claim of one
/// step's attempt.
#[derive(Clone)]
pub(crate) enum Fence<'a> {
    Owner(TaskId, &'a Owner),
    Claim {
        step_id: StepId,
        attempt: u32,
        worker: &'a str,
    },
    /// As `Claim`, the claim kept: what the worker records while the attempt runs.
    Hold {
        step_id: StepId,
        attempt: u32,
        worker: &'a str,
    },
}

/// Bytes as hexadecimal text (`decode(…, 'hex')` reads them back).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// One change as `tasker_apply` reads it; none for what this store does not keep (it
/// stores every event as text, so a row's restated event is not kept on the row).
fn change(c: &Change) -> Option<Json> {
    Some(match c {
        Change::Task {
            task_id,
            from,
            to,
            actor: _,
            metadata,
        } => json!({"kind": "task", "task": task_id, "from": from.as_str(), "to": to.as_str(),
                    "metadata": metadata.to_string()}),
        Change::Step {
            step_id,
            from,
            to,
            actor: _,
            metadata,
            state,
            restates: _,
        } => json!({
            "kind": "step", "step": step_id, "from": from.as_str(), "to": to.as_str(),
            "metadata": metadata.to_string(), "attempts": state.attempts, "counted": state.counted,
            "flaky": state.flaky, "results": state.results.as_ref().map(Json::to_string),
            "error_class": state.error.as_ref().map(|e| e.class.as_str()),
            "error_message": state.error.as_ref().map(|e| e.message.as_str()),
            "next_retry_at": state.next_retry_at, "started_at": state.started_at,
            "finished_at": state.finished_at,
        }),
        Change::AttemptStarted { step_id, attempt } => {
            json!({"kind": "attempt_started", "step": step_id, "attempt": attempt})
        }
        Change::AttemptProcess {
            step_id,
            attempt,
            pid,
            started_at,
        } => json!({"kind": "attempt_process", "step": step_id, "attempt": attempt, "pid": pid,
                    "started_at": started_at}),
        Change::AttemptFinished {
            step_id,
            attempt,
            end,
        } => json!({
            "kind": "attempt_finished", "step": step_id, "attempt": attempt,
            "outcome": end.outcome.as_str(), "exit_code": end.exit_code, "signal": end.signal,
            "error_class": end.error.as_ref().map(|e| e.class.as_str()),
            "error_message": end.error.as_ref().map(|e| e.message.as_str()),
            "stdout": hex(&end.stdout), "stderr": hex(&end.stderr),
            "stdout_dropped": end.stdout_dropped, "stderr_dropped": end.stderr_dropped,
            "custom_events": (!end.custom_events.is_empty())
                .then(|| Json::Array(end.custom_events.clone()).to_string()),
        }),
        Change::Event {
            task_id,
            seq,
            name,
            doc,
        } => json!({"kind": "event", "task": task_id, "seq": seq, "name": name,
                    "doc": doc}),
        Change::Trace {
            task_id,
            traceparent,
        } => json!({"kind": "trace", "task": task_id, "traceparent": traceparent}),
        Change::Handling { .. } => return None,
    })
}

impl PgStore {
    /// Apply `changes` in one transaction behind `fence`: `None` when the fence does not
    /// hold (nothing written), else whether a worker's completion left its task with nothing
    /// to run.
    pub(crate) fn apply_fenced(
        &self,
        fence: Option<Fence<'_>>,
        changes: &[Change],
    ) -> Result<Option<bool>, StoreError> {
        let batch = batch(fence, changes);
        let row = self
            .cache
            .one(&self.client, "SELECT tasker_apply($1::jsonb)", &[&batch])?;
        let answer: String = col(&row, 0)?;
        Ok(answer_of(&answer))
    }

    /// Apply several fenced batches in one call, each on its own (one refused writes
    /// nothing of itself only): each answer as [`PgStore::apply_fenced`]'s, `None` also for a
    /// batch whose transition was refused. Batches come in their tasks' order.
    pub(crate) fn apply_many(
        &self,
        batches: &[(Fence<'_>, &[Change])],
    ) -> Result<Vec<Option<bool>>, StoreError> {
        let all = Json::Array(
            batches
                .iter()
                .map(|(fence, changes)| batch(Some(fence.clone()), changes))
                .collect(),
        );
        let row = self
            .cache
            .one(&self.client, "SELECT tasker_apply_many($1::jsonb)", &[&all])?;
        let answers: Vec<String> = col(&row, 0)?;
        Ok(answers.iter().map(|a| answer_of(a)).collect())
    }
}

/// What `tasker_apply` answered: `None` for a fence that did not hold (or a refused
/// transition, from `tasker_apply_many`), else whether the task has nothing left to run.
fn answer_of(answer: &str) -> Option<bool> {
    match answer {
        "ok" => Some(false),
        "settled" => Some(true),
        _ => None,
    }
}

/// A batch as `tasker_apply` reads it.
fn batch(fence: Option<Fence<'_>>, changes: &[Change]) -> Json {
    let fence = match fence {
        None => Json::Null,
        Some(Fence::Owner(task_id, owner)) => json!({"task": task_id, "pid": owner.pid,
            "host": owner.host, "started_at": owner.started_at}),
        Some(Fence::Claim {
            step_id,
            attempt,
            worker,
        }) => json!({"step": step_id, "attempt": attempt, "worker": worker}),
        Some(Fence::Hold {
            step_id,
            attempt,
            worker,
        }) => json!({"step": step_id, "attempt": attempt, "worker": worker, "hold": true}),
    };
    json!({
        "now": now_ms(),
        "fence": fence,
        "changes": changes.iter().filter_map(change).collect::<Vec<_>>(),
    })
}

/// `changes` applied inside the transaction `tx` (no fence): a new task's opening moves.
pub(super) fn apply_in<C: GenericClient>(
    cache: &Cache,
    tx: &C,
    changes: &[Change],
) -> Result<(), StoreError> {
    let batch = json!({
        "now": now_ms(),
        "changes": changes.iter().filter_map(change).collect::<Vec<_>>(),
    });
    cache.one(tx, "SELECT tasker_apply($1::jsonb)", &[&batch])?;
    Ok(())
}
