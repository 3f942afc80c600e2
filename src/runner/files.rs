//! Where a runner keeps its files: the scratch directory of its attempts, the memory file
//! system its input documents go to, and the sweep of what dead runners left.

use std::path::PathBuf;

use super::owner;
use crate::model::{Owner, TaskId};

/// The name a runner's files go under: the task, and the runner's pid and start time, so a
/// dead runner's files are told from those of a live one that reuses its pid.
fn runner_name(task_id: TaskId, owner: &Owner) -> String {
    format!("tasker-{task_id}-{}-{}", owner.pid, owner.started_at)
}

/// The mark (`TASKER_HOOK_OF`) of what this process runs for task `task_id` outside its
/// steps: hooks, found by it when the runner died without stopping them.
pub fn runner_mark(task_id: TaskId) -> String {
    runner_name(task_id, &owner::this_process())["tasker-".len()..].to_owned()
}

/// Where a runner keeps its attempts' files (live output, `TASKER_OUTPUT`, …).
pub fn scratch_dir(task_id: TaskId, owner: &Owner) -> PathBuf {
    std::env::temp_dir().join(runner_name(task_id, owner))
}

/// The memory file system input documents go to, if there is one to use.
fn memory_dir() -> Option<PathBuf> {
    if std::env::var_os("TMPDIR").is_some_and(|t| !t.is_empty()) {
        return None;
    }
    [
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        Some(PathBuf::from("/dev/shm")),
    ]
    .into_iter()
    .flatten()
    .find(|b| b.is_absolute() && b.is_dir())
}

/// Where a runner writes its steps' input documents: a memory file system when there is one
/// (`$XDG_RUNTIME_DIR`, `/dev/shm`), so that a step's `TASKER_INPUT` costs no disk write;
/// the scratch directory when `TMPDIR` is set or there is none.
pub fn input_dir(task_id: TaskId, owner: &Owner) -> PathBuf {
    match memory_dir() {
        Some(base) => base.join(runner_name(task_id, owner)),
        None => scratch_dir(task_id, owner),
    }
}

/// Remove what runners of this user that died without cleaning up (`kill -9`, power loss)
/// left: their files — input documents holding the unmasked context, live output — and the
/// hooks they had running. Returns how many dead runners were swept.
pub fn sweep_dead_runners() -> usize {
    use std::os::unix::fs::MetadataExt;
    let me = owner::uid();
    let mut bases = vec![std::env::temp_dir()];
    bases.extend(memory_dir());
    bases.dedup();
    let mut swept = std::collections::BTreeSet::new();
    let mut hook_marks = Vec::new();
    for base in bases {
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            // `.hooks`: the mark a runner leaves while its hooks run.
            let Some(name) = name.to_str().and_then(|n| n.strip_prefix("tasker-")) else {
                continue;
            };
            let (mark, hooks) = match name.strip_suffix(".hooks") {
                Some(m) => (m, true),
                None => (name, false),
            };
            let parts: Vec<&str> = mark.split('-').collect();
            let [task, pid, started] = parts.as_slice() else {
                continue;
            };
            let (Ok(_), Ok(pid), Ok(started)) = (
                task.parse::<i64>(),
                pid.parse::<u32>(),
                started.parse::<i64>(),
            ) else {
                continue;
            };
            let mine =
                std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir() && m.uid() == me);
            if !mine || owner::alive_here(pid, started) {
                continue;
            }
            swept.insert(mark.to_owned());
            if hooks {
                hook_marks.push(format!("TASKER_HOOK_OF={mark}"));
            }
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    // One look through the processes, and only when a dead runner had hooks running.
    if !hook_marks.is_empty() {
        crate::handlers::kill_marked_any(&hook_marks);
    }
    swept.len()
}

/// Create the scratch directory `dir`, readable by its owner only. One left by an earlier
/// runner of the same pid is replaced; one owned by someone else is refused.
pub fn make_scratch(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let create = || std::fs::DirBuilder::new().mode(0o700).create(dir);
    match create() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::symlink_metadata(dir)?;
            if !meta.is_dir() || meta.uid() != owner::uid() {
                return Err(std::io::Error::other(
                    "it exists and is not a directory of this user",
                ));
            }
            std::fs::remove_dir_all(dir)?;
            create()
        }
        other => other,
    }
}
