//! The summary printed at exit.

use std::fmt::Write as _;
use std::time::Duration;

use super::color::paint;
use crate::telemetry::summary::Summary;
use crate::templates::duration::human;

fn ms(v: u64) -> String {
    human(Duration::from_millis(v))
}

/// The summary as a few aligned lines for stderr.
pub fn text(s: &Summary, color: bool) -> String {
    let mut out = String::new();
    let outcome = if s.interrupted {
        "interrupted".to_owned()
    } else {
        paint(color, s.outcome, s.outcome.as_str())
    };
    let _ = writeln!(out, "task {} {outcome} in {}", s.task_id, ms(s.wall_ms));
    let states: Vec<String> = s
        .steps_by_state
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    let _ = writeln!(
        out,
        "  steps      {} (of {})",
        states.join(", "),
        s.steps_total
    );
    let mut attempts = format!("  attempts   {}", s.attempts);
    if s.retries > 0 {
        let noun = if s.retries == 1 { "retry" } else { "retries" };
        let _ = write!(attempts, " ({} {noun})", s.retries);
    }
    if !s.flaky_steps.is_empty() {
        let _ = write!(attempts, "; flaky: {}", s.flaky_steps.join(", "));
    }
    let _ = writeln!(out, "{attempts}");
    if s.attempts > 0 {
        let d = &s.step_duration_ms;
        let _ = writeln!(
            out,
            "  durations  p50 {}  p95 {}  max {} per attempt",
            ms(d.p50),
            ms(d.p95),
            ms(d.max)
        );
        let q = &s.queue_wait_ms;
        let _ = writeln!(out, "  queue wait p50 {}  p99 {}", ms(q.p50), ms(q.p99));
        let slowest: Vec<String> = s
            .slowest_steps
            .iter()
            .map(|t| format!("{} {}", t.name, ms(t.duration_ms)))
            .collect();
        let _ = writeln!(out, "  slowest    {}", slowest.join(", "));
        let _ = writeln!(
            out,
            "  critical   {} ({}, {})",
            s.critical_path.join(" → "),
            super::count(s.critical_path.len(), "step"),
            ms(s.critical_path_ms)
        );
        let _ = writeln!(out, "  parallel   {} at most", s.parallelism);
    }
    out
}
