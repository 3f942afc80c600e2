//! Seeing the work across tasks: analytics, health and metrics, computed from the store.

pub mod metrics;
pub mod report;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::model::State;
use crate::runner::owner;
use crate::store::{Store, StoreError, Window};
use crate::telemetry::summary::percentile;

/// Nearest-rank percentiles of durations (ms).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Percentiles {
    pub count: usize,
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
}

impl Percentiles {
    pub fn of(mut values: Vec<u64>) -> Percentiles {
        values.sort_unstable();
        Percentiles {
            count: values.len(),
            p50: percentile(&values, 50.0),
            p95: percentile(&values, 95.0),
            p99: percentile(&values, 99.0),
            max: values.last().copied().unwrap_or(0),
        }
    }
}

/// One slow thing: a task, or a step of a task.
#[derive(Debug, Clone, Serialize)]
pub struct Slow {
    pub task_id: i64,
    pub template: String,
    pub step: Option<String>,
    pub duration_ms: u64,
}

/// Durations of one step name or one template.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub namespace: String,
    pub template: String,
    pub step: Option<String>,
    pub durations: Percentiles,
}

/// `tasker analytics`.
#[derive(Debug, Clone, Serialize)]
pub struct Analytics {
    pub tasks: usize,
    pub tasks_by_state: BTreeMap<String, usize>,
    /// Complete (or resolved) among finished tasks.
    pub completion_rate: f64,
    /// In error among finished tasks.
    pub error_rate: f64,
    /// Steps that needed more than one attempt.
    pub retried_steps: usize,
    /// Of those, the ones that ended complete.
    pub retry_success_rate: f64,
    pub slowest_tasks: Vec<Slow>,
    pub slowest_steps: Vec<Slow>,
    pub templates: Vec<Group>,
    pub steps: Vec<Group>,
}

fn rate(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 10_000.0 / whole as f64).round() / 10_000.0
    }
}

/// The ten longest things seen (duration first), longest first, ties by task id; kept as
/// they come, without holding the rest.
#[derive(Debug, Default)]
struct Top(Vec<(u64, i64, Slow)>);

impl Top {
    fn offer(&mut self, duration: u64, task_id: i64, make: impl FnOnce() -> Slow) {
        let rank = |d: u64, t: i64| (d, std::cmp::Reverse(t));
        if self.0.len() == 10
            && self
                .0
                .last()
                .is_some_and(|l| rank(l.0, l.1) >= rank(duration, task_id))
        {
            return;
        }
        let at = self
            .0
            .partition_point(|b| rank(b.0, b.1) > rank(duration, task_id));
        self.0.insert(at, (duration, task_id, make()));
        self.0.truncate(10);
    }

    fn into_vec(self) -> Vec<Slow> {
        self.0.into_iter().map(|(_, _, s)| s).collect()
    }
}

/// Analytics of the tasks in `window`, read a row at a time: what is held is a count a
/// state, the ten slowest, and the durations of each template and step name.
pub fn analytics(store: &dyn Store, window: &Window) -> Result<Analytics, StoreError> {
    let mut tasks = 0;
    let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
    let (mut finished, mut completed, mut failed) = (0, 0, 0);
    let mut template_durations: BTreeMap<(Arc<str>, Arc<str>), Vec<u64>> = BTreeMap::new();
    let mut slowest_tasks = Top::default();
    store.task_facts(window, &mut |t| {
        tasks += 1;
        *by_state.entry(t.status.as_str().to_owned()).or_default() += 1;
        if matches!(
            t.status,
            State::Complete | State::Error | State::Cancelled | State::ResolvedManually
        ) {
            finished += 1;
        }
        if t.status.is_satisfied() {
            completed += 1;
        }
        if t.status == State::Error {
            failed += 1;
        }
        if let Some(d) = t.duration_ms {
            slowest_tasks.offer(d, t.task_id, || Slow {
                task_id: t.task_id,
                template: crate::templates::qualified(&t.namespace, &t.name),
                step: None,
                duration_ms: d,
            });
            template_durations
                .entry((t.namespace, t.name))
                .or_default()
                .push(d);
        }
    })?;
    type StepKey = (Arc<str>, Arc<str>, Arc<str>);
    let mut step_durations: BTreeMap<StepKey, Vec<u64>> = BTreeMap::new();
    let mut slowest_steps = Top::default();
    let (mut retried, mut retried_ok) = (0, 0);
    store.step_facts(window, &mut |s| {
        if s.attempts > 1 {
            retried += 1;
            if s.status == State::Complete {
                retried_ok += 1;
            }
        }
        if let Some(d) = s.duration_ms {
            slowest_steps.offer(d, s.task_id, || Slow {
                task_id: s.task_id,
                template: crate::templates::qualified(&s.namespace, &s.template),
                step: Some(s.step.to_string()),
                duration_ms: d,
            });
            step_durations
                .entry((s.namespace, s.template, s.step))
                .or_default()
                .push(d);
        }
    })?;
    Ok(Analytics {
        tasks,
        tasks_by_state: by_state,
        completion_rate: rate(completed, finished),
        error_rate: rate(failed, finished),
        retried_steps: retried,
        retry_success_rate: rate(retried_ok, retried),
        slowest_tasks: slowest_tasks.into_vec(),
        slowest_steps: slowest_steps.into_vec(),
        templates: template_durations
            .into_iter()
            .map(|((namespace, template), d)| Group {
                namespace: namespace.to_string(),
                template: template.to_string(),
                step: None,
                durations: Percentiles::of(d),
            })
            .collect(),
        steps: step_durations
            .into_iter()
            .map(|((namespace, template, step), d)| Group {
                namespace: namespace.to_string(),
                template: template.to_string(),
                step: Some(step.to_string()),
                durations: Percentiles::of(d),
            })
            .collect(),
    })
}

/// When the store counts as unhealthy.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Thresholds {
    /// Orphaned tasks allowed (runner gone, not resumed).
    pub max_orphaned: u64,
    /// Tasks that may have failed within `window_ms`.
    pub max_failed: u64,
    /// Steps that may wait out a backoff at once.
    pub max_backoff: Option<u64>,
    pub window_ms: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_orphaned: 0,
            max_failed: 0,
            max_backoff: None,
            window_ms: 3_600_000,
        }
    }
}

/// `tasker health`.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub healthy: bool,
    pub reasons: Vec<String>,
    #[serde(flatten)]
    pub counts: crate::store::Counts,
    pub steps_in_backoff: u64,
    pub running_tasks: usize,
    pub orphaned_tasks: Vec<i64>,
    pub failed_recently: u64,
    pub thresholds: Thresholds,
}

/// The store's health against `limits`.
pub fn health(store: &dyn Store, limits: Thresholds, now: i64) -> Result<Health, StoreError> {
    let counts = store.counts()?;
    let running = store.running()?;
    let orphaned: Vec<i64> = running
        .iter()
        .filter(|r| {
            r.owner
                .as_ref()
                .is_some_and(|o| !owner::alive(o, r.heartbeat_at))
        })
        .map(|r| r.task_id)
        .collect();
    let failed = store.failed_since(now - limits.window_ms)?;
    let backoff = counts.retryable_errors;
    let mut reasons = Vec::new();
    if orphaned.len() as u64 > limits.max_orphaned {
        let ids: Vec<String> = orphaned.iter().map(ToString::to_string).collect();
        reasons.push(format!(
            "{} whose runner is gone: {} (`tasker resume ID`)",
            if orphaned.len() == 1 {
                "1 orphaned task".to_owned()
            } else {
                format!("{} orphaned tasks", orphaned.len())
            },
            ids.join(", ")
        ));
    }
    if failed > limits.max_failed {
        reasons.push(format!(
            "{} in the last {} (allowed: {})",
            if failed == 1 {
                "1 task failed".to_owned()
            } else {
                format!("{failed} tasks failed")
            },
            crate::templates::duration::human(std::time::Duration::from_millis(
                limits.window_ms.max(0) as u64
            )),
            limits.max_failed
        ));
    }
    if let Some(max) = limits.max_backoff
        && backoff > max
    {
        reasons.push(format!(
            "{backoff} step(s) waiting out a backoff (allowed: {max})"
        ));
    }
    Ok(Health {
        healthy: reasons.is_empty(),
        reasons,
        steps_in_backoff: backoff,
        running_tasks: running.len(),
        orphaned_tasks: orphaned,
        failed_recently: failed,
        counts,
        thresholds: limits,
    })
}
