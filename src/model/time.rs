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

/// A task transition at `at` closes the open session; one to `in_progress` opens the next.
pub fn session_step(sessions: &mut Vec<(i64, Option<i64>)>, to_in_progress: bool, at: i64) {
    if let Some(last) = sessions.last_mut()
        && last.1.is_none()
    {
        last.1 = Some(at);
    }
    if to_in_progress {
        sessions.push((at, None));
    }
}
