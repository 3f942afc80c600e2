//! Who runs a task: this process, named by pid, host and start time, and whether a recorded
//! owner is still alive.

use crate::model::Owner;

/// Beyond this without a heartbeat, a runner on another host is taken for dead.
pub const STALE_AFTER_MS: i64 = 30_000;

/// This machine's name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The start time of process `pid` in clock ticks since boot (its `stat`'s `starttime`), and
/// whether it is a zombie.
fn start_time(pid: u32) -> Option<(i64, bool)> {
    let stat = procfs::process::Process::new(i32::try_from(pid).ok()?)
        .ok()?
        .stat()
        .ok()?;
    Some((i64::try_from(stat.starttime).ok()?, stat.state == 'Z'))
}

/// This process's effective user id.
pub fn uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Whether process `pid` of this host lives and started at `started_at` (a reused pid
/// does not count).
pub fn alive_here(pid: u32, started_at: i64) -> bool {
    matches!(start_time(pid), Some((start, false)) if start == started_at)
}

/// This process as an owner.
pub fn this_process() -> Owner {
    let pid = std::process::id();
    Owner {
        pid,
        host: hostname(),
        started_at: start_time(pid).map_or(0, |(s, _)| s),
    }
}

/// Whether `owner` still runs: on this host, its pid lives and started when it did (a
/// reused pid does not count); elsewhere, its heartbeat is recent.
pub fn alive(owner: &Owner, heartbeat_at: Option<i64>) -> bool {
    if owner.host == hostname() {
        return alive_here(owner.pid, owner.started_at);
    }
    heartbeat_at.is_some_and(|at| crate::clock::now_ms() - at < STALE_AFTER_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = this_process();
        assert!(me.started_at > 0);
        assert!(alive(&me, None));
        let reused = Owner {
            started_at: me.started_at + 1,
            ..me.clone()
        };
        assert!(!alive(&reused, None));
        let gone = Owner {
            pid: u32::MAX - 1,
            ..me.clone()
        };
        assert!(!alive(&gone, None));
        let remote = Owner {
            host: "elsewhere.invalid".into(),
            ..me
        };
        assert!(alive(&remote, Some(crate::clock::now_ms())));
        assert!(!alive(
            &remote,
            Some(crate::clock::now_ms() - STALE_AFTER_MS - 1)
        ));
        assert!(!alive(&remote, None));
    }
}
