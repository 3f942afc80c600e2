//! Durations as tasker counts them: running time only.

/// Milliseconds from `start` to `end` (or to `now` while it runs); `None` before it started.
pub fn span(start: Option<i64>, end: Option<i64>, now: i64) -> Option<u64> {
    start.map(|s| (end.unwrap_or(now) - s).max(0) as u64)
}

/// Milliseconds of `[start, end]` (or to `now`) during which a runner worked on the task:
/// the time it sat interrupted, failed or waiting for `resume` is not counted.
pub fn running(
    start: Option<i64>,
    end: Option<i64>,
    sessions: &[(i64, Option<i64>)],
    now: i64,
) -> Option<u64> {
    let start = start?;
    let end = end.unwrap_or(now);
    if sessions.is_empty() {
        return span(Some(start), Some(end), now);
    }
    let ms: i64 = sessions
        .iter()
        .map(|&(a, b)| (b.unwrap_or(now).min(end) - a.max(start)).max(0))
        .sum();
    Some(ms as u64)
}
