//! The summary at exit: outcome, wall time, steps by state, attempts and retries, flaky
//! steps, the slowest steps, step duration and queue wait percentiles, the critical path and
//! the parallelism reached.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::events::{Event, Subscriber, What};
use crate::model::State;
use crate::store::TaskRecord;
use crate::templates::Template;

/// What the run's events say, gathered as they come.
#[derive(Debug, Default)]
pub struct Collector {
    attempts: u64,
    retries: u64,
    durations: Vec<u64>,
    queue_waits: Vec<u64>,
    running: u64,
    max_running: u64,
}

impl Subscriber for Collector {
    fn on_event(&mut self, e: &Event) {
        match &e.what {
            What::StepExecutionRequested { queue_wait_ms, .. } => {
                self.attempts += 1;
                self.queue_waits.push(*queue_wait_ms);
                self.running += 1;
                self.max_running = self.max_running.max(self.running);
            }
            What::StepCompleted { duration_ms, .. } | What::StepFailed { duration_ms, .. } => {
                self.durations.push(*duration_ms);
                self.running = self.running.saturating_sub(1);
            }
            What::StepCancelled {
                from_state: State::InProgress,
                ..
            } => {
                self.running = self.running.saturating_sub(1);
            }
            // Taking up an interrupted attempt again is no retry.
            What::StepRetryRequested { reason, .. } if reason.as_deref() != Some("interrupted") => {
                self.retries += 1;
            }
            _ => {}
        }
    }
}

/// A step and how long it took.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Timed {
    pub name: String,
    pub duration_ms: u64,
}

/// Nearest-rank percentiles of durations (ms).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Spread {
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
}

/// The `--summary-json` document.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub task_id: i64,
    pub outcome: State,
    pub interrupted: bool,
    pub wall_ms: u64,
    pub steps_total: usize,
    pub steps_by_state: BTreeMap<String, usize>,
    pub attempts: u64,
    pub retries: u64,
    pub flaky_steps: Vec<String>,
    pub slowest_steps: Vec<Timed>,
    pub step_duration_ms: Spread,
    pub queue_wait_ms: Spread,
    pub critical_path: Vec<String>,
    pub critical_path_ms: u64,
    pub parallelism: u64,
    /// Commits written and the engine's busy time (not waiting).
    pub engine: EngineStats,
}

/// The engine's own cost of a run.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct EngineStats {
    pub commits: u64,
    pub busy_ms: u64,
    /// CPU time (user and system, ms) of tasker's own process for the whole command — its
    /// steps' not counted; at the clock tick's granularity (10 ms).
    pub cpu_ms: u64,
}

/// The CPU time (user and system, ms) this process has used, its children's not counted.
pub fn own_cpu_ms() -> u64 {
    procfs::process::Process::myself()
        .and_then(|p| p.stat())
        .map_or(0, |s| {
            (s.utime + s.stime) * 1000 / procfs::ticks_per_second().max(1)
        })
}

/// The `p`th percentile by nearest rank (`values` sorted).
pub fn percentile(values: &[u64], p: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

fn spread(values: &mut [u64]) -> Spread {
    values.sort_unstable();
    Spread {
        p50: percentile(values, 50.0),
        p95: percentile(values, 95.0),
        p99: percentile(values, 99.0),
        max: values.last().copied().unwrap_or(0),
    }
}

impl Collector {
    /// The summary of a run that took `wall_ms`, from its events and the task as it ended.
    pub fn summary(
        mut self,
        task: &TaskRecord,
        template: &Template,
        wall_ms: u64,
        interrupted: bool,
        engine: EngineStats,
    ) -> Summary {
        let mut by_state = BTreeMap::new();
        for s in &task.steps {
            *by_state.entry(s.status.as_str().to_owned()).or_insert(0) += 1;
        }
        let step_ms: Vec<u64> = task
            .steps
            .iter()
            .map(|s| match (s.state.started_at, s.state.finished_at) {
                (Some(a), Some(b)) => {
                    crate::model::running(Some(a), Some(b), &task.sessions, b).unwrap_or(0)
                }
                _ => 0,
            })
            .collect();
        let mut slowest: Vec<Timed> = task
            .steps
            .iter()
            .zip(&step_ms)
            .filter(|(s, _)| s.state.attempts > 0)
            .map(|(s, ms)| Timed {
                name: s.name.clone(),
                duration_ms: *ms,
            })
            .collect();
        slowest.sort_by(|a, b| b.duration_ms.cmp(&a.duration_ms).then(a.name.cmp(&b.name)));
        slowest.truncate(5);
        // Steps that never ran weigh nothing: the critical path is made of measured work.
        let ran: Vec<bool> = task.steps.iter().map(|s| s.state.attempts > 0).collect();
        let path = template
            .dag()
            .longest_path(|i| if ran[i] { step_ms[i].max(1) } else { 0 });
        Summary {
            task_id: task.task_id,
            outcome: task.status,
            interrupted,
            wall_ms,
            steps_total: task.steps.len(),
            steps_by_state: by_state,
            attempts: self.attempts,
            retries: self.retries,
            flaky_steps: task
                .steps
                .iter()
                .filter(|s| s.state.flaky)
                .map(|s| s.name.clone())
                .collect(),
            slowest_steps: slowest,
            step_duration_ms: spread(&mut self.durations),
            queue_wait_ms: spread(&mut self.queue_waits),
            critical_path_ms: path.iter().map(|&i| step_ms[i]).sum(),
            critical_path: path.iter().map(|&i| task.steps[i].name.clone()).collect(),
            parallelism: self.max_running,
            engine,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 95.0), 95);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
