//! Hostile conditions: floods of output, store faults, many tasks.

use crate::support::{Sandbox, stderr, stdout, wait_with_peak_rss};

/// A step that writes 1 GiB on stdout and 1 GiB on stderr at once: tasker's memory stays
/// bounded (the kept tail, the reads in flight) and the kept tails are the streams' ends.
#[test]
fn a_flood_of_output_keeps_memory_bounded_and_the_tail_right() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: flood
steps:
  - name: flood
    command: |
      { head -c 1073741824 /dev/zero | tr '\\0' o; echo STDOUT-END; } &
      { head -c 1073741824 /dev/zero | tr '\\0' e; echo STDERR-END; } >&2
      wait
",
    );
    let mut child = sb.spawn(&["run", "t.yml"]);
    // Nothing reads tasker's own pipes here: the run must not depend on it.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let (code, peak) = wait_with_peak_rss(child);
    assert_eq!(code, Some(0));
    eprintln!("flood: tasker's peak RSS {peak:.1} MiB");
    assert!(peak < 100.0, "peak RSS {peak:.1} MiB");

    let limit = 1024 * 1024;
    for (stream, fill, end) in [
        (&[][..], 'o', "STDOUT-END\n"),
        (&["--stderr"][..], 'e', "STDERR-END\n"),
    ] {
        let out = sb.run(&[&["logs", "1", "flood"][..], stream].concat());
        let text = stdout(&out);
        assert_eq!(text.len(), limit, "the kept tail is the output limit");
        assert!(text.ends_with(end), "{}", &text[text.len() - 40..]);
        assert!(text[..limit - end.len()].chars().all(|c| c == fill));
        let dropped = (1u64 << 30) + end.len() as u64 - limit as u64;
        assert!(
            stderr(&out).contains(&format!("the first {dropped} bytes were not kept")),
            "{}",
            stderr(&out)
        );
    }
}

/// Whoever reads tasker's output may go away (`tasker run … | head -1`): the run goes on
/// to its end, and the task completes.
#[test]
fn a_broken_stdout_and_stderr_do_not_stop_a_run() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: quiet\nsteps:\n  - { name: a, command: 'echo hi; echo oops >&2' }\n  - { name: b, command: 'true', depends_on: [a] }\n",
    );
    let mut child = sb.spawn(&["-v", "run", "t.yml", "--follow-output"]);
    drop(child.stdout.take());
    drop(child.stderr.take());
    let (code, _) = wait_with_peak_rss(child);
    assert_eq!(code, Some(0));
    assert_eq!(sb.status(1)["status"], "complete");
}

/// A reader that stops reading (a pager) while `--follow-output` floods tasker's stdout:
/// the run still hears Ctrl-C, stops its step and ends.
#[test]
fn a_stalled_reader_of_follow_output_does_not_deafen_the_run() {
    use crate::support::{eventually, signal};
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: flood\nsteps:\n  - { name: a, command: 'yes flood | head -c 4000000; sleep 30' }\n",
    );
    // Its stdout is a pipe nobody reads: it fills with the step's first 64 KiB.
    let mut child = sb.spawn(&["run", "t.yml", "--follow-output"]);
    assert!(eventually(10, || sb.stored() && {
        let out = sb.run(&["status", "1", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .is_ok_and(|d| Sandbox::step(&d, "a")["status"] == "in_progress")
    }));
    std::thread::sleep(std::time::Duration::from_millis(500));
    signal(child.id(), "-INT");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.and_then(|s| s.code()), Some(130), "Ctrl-C was heard");
}

/// Sixty short steps, two at a time: long enough for a fault to strike mid-run.
fn long_template() -> String {
    let mut yaml = String::from("name: long\nmax_parallel: 2\nsteps:\n");
    for i in 0..60 {
        yaml.push_str(&format!(
            "  - {{ name: s{i}, command: 'sleep 0.05; echo s{i} >> finished', retry: {{ limit: 3, backoff: {{ base: 10ms }} }} }}\n"
        ));
    }
    yaml
}

/// `run` of the long template, once two of its steps have finished.
fn long_run_under_way(sb: &Sandbox) -> std::process::Child {
    sb.write("t.yml", &long_template());
    let child = sb.spawn(&["run", "t.yml"]);
    assert!(
        crate::support::eventually(20, || sb.lines("finished").len() >= 2),
        "the run never got going"
    );
    child
}

/// After a fault: the store is intact, `resume` completes the task, and every step has
/// exactly one completed attempt.
fn resumes_after_the_fault(sb: &Sandbox, db: &std::path::Path) {
    let out = sb
        .cmd()
        .env("TASKER_DB", db)
        .args(["resume", "1"])
        .output()
        .expect("resume");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(db).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    let status: String = conn
        .query_row("SELECT status FROM tasks WHERE task_id = 1", [], |r| {
            r.get(0)
        })
        .expect("task");
    assert_eq!(status, "complete");
    let once: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM (SELECT workflow_step_id FROM step_attempts
             GROUP BY workflow_step_id HAVING SUM(outcome = 'complete') = 1)",
            [],
            |r| r.get(0),
        )
        .expect("attempts");
    assert_eq!(once, 60, "every step completed exactly once");
}

/// The store's file cannot grow (a file-size limit: writes fail as on a full disk): the run
/// stops with exit 6 and a message that says so, and resumes once the limit is gone.
#[test]
fn a_store_that_cannot_grow_stops_the_run_and_it_resumes_later() {
    let has_prlimit = std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_prlimit {
        assert!(
            std::env::var_os("TASKER_REQUIRE_TOOLS").is_none(),
            "prlimit (util-linux) is required"
        );
        crate::support::skip("no prlimit (util-linux)");
        return;
    }
    let sb = Sandbox::new();
    sb.write("t.yml", &long_template());
    let out = std::process::Command::new("sh")
        .current_dir(sb.path())
        .env("TASKER_DB", sb.db())
        .env("XDG_CONFIG_HOME", sb.path().join(".config"))
        .arg("-c")
        // Ignored, SIGXFSZ turns a write past the limit into an error instead of a kill.
        .arg(format!(
            "trap '' XFSZ; exec prlimit --fsize=300000 {} run t.yml",
            assert_cmd::cargo::cargo_bin("tasker").display()
        ))
        .output()
        .expect("run under a file-size limit");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(stdout(&out).starts_with("task 1"), "the task was created");
    assert!(
        err.contains("could not be written") && err.contains("`tasker resume 1`"),
        "{err}"
    );
    assert!(sb.lines("finished").len() < 60, "the run stopped early");
    resumes_after_the_fault(&sb, &sb.db());
}

/// Another process holds the store's write lock past the busy timeout: exit 6, a message
/// naming the lock, and the task resumes once the lock is gone.
#[test]
fn a_store_locked_past_the_busy_timeout_stops_the_run_and_it_resumes_later() {
    let sb = Sandbox::new();
    let child = long_run_under_way(&sb);
    let locker = rusqlite::Connection::open(sb.db()).expect("open");
    locker.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let out = child.wait_with_output().expect("run");
    locker.execute_batch("ROLLBACK").expect("unlock");
    drop(locker);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("locked by another process"), "{err}");
    resumes_after_the_fault(&sb, &sb.db());
}

/// The store's file is removed under a run: the run notices within a tick and stops with
/// exit 6 instead of writing on into a file nobody will read.
#[test]
fn a_store_removed_during_the_run_stops_it() {
    let sb = Sandbox::new();
    let child = long_run_under_way(&sb);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", sb.db().display()));
    }
    let out = child.wait_with_output().expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("removed or replaced"), "{err}");
    assert!(sb.lines("finished").len() < 60, "the run stopped early");
}

/// A small tmpfs mounted for one test, unmounted when dropped; `None` where this process
/// may not mount (not root, or a container without the right).
struct Mount(std::path::PathBuf);

impl Mount {
    fn tmpfs(at: &std::path::Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).expect("mount point");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_owned()))
    }

    fn remount(&self, options: &str) {
        let ok = std::process::Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "remount {options}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// On a real file system that fills up under a running task, then is read-only when the
/// task is resumed: each time the command stops with exit 6 and a message saying why, and
/// the task completes once the file system is writable again with room to spare. (Linux
/// refuses to make a file system read-only while a file on it is open for writing, so the
/// read-only fault meets the store between runs.)
#[test]
fn a_store_on_a_file_system_that_fills_up_or_turns_read_only() {
    let sb = Sandbox::new();
    let Some(fs) = Mount::tmpfs(&sb.path().join("fs"), "600k") else {
        crate::support::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    sb.write("t.yml", &long_template());
    let db = sb.path().join("fs").join("store.db");
    let run = |args: &[&str]| {
        sb.cmd()
            .env("TASKER_DB", &db)
            .args(args)
            .output()
            .expect("tasker")
    };
    let out = run(&["run", "t.yml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        stdout(&out).starts_with("task 1"),
        "the task was created: {err}"
    );
    assert!(err.contains("the disk is full"), "{err}");
    assert!(err.contains("`tasker resume 1`"), "{err}");
    assert!(sb.lines("finished").len() < 60, "the run stopped early");

    fs.remount("size=64m,ro");
    let out = run(&["resume", "1"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("read-only") || err.contains("cannot be opened"),
        "{err}"
    );

    fs.remount("rw");
    resumes_after_the_fault(&sb, &db);
}

/// A store holding 10,000 finished tasks (written by `scripts/seed-store` as runs leave
/// them): a new run, `status`, `tasks list` and `health` work on it as on an empty one.
#[test]
fn ten_thousand_finished_tasks_leave_every_command_working() {
    let sb = Sandbox::new();
    let seeded = std::process::Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/seed-store"))
        .arg(sb.db())
        .arg("10000")
        .env("TASKER", assert_cmd::cargo::cargo_bin("tasker"))
        .output()
        .expect("python3 runs scripts/seed-store");
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    sb.write(
        "t.yml",
        "name: after\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a] }\n",
    );
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        crate::support::task_id(&out),
        10_002,
        "after the seed's 10,001 tasks"
    );

    let list: serde_json::Value =
        serde_json::from_str(&stdout(&sb.run(&["tasks", "list", "--json"]))).expect("json");
    let tasks = list.as_array().expect("a list");
    assert!(
        !tasks.is_empty() && tasks.len() <= 100,
        "one page: {}",
        tasks.len()
    );
    assert_eq!(tasks[0]["task_id"], 10_002, "newest first");
    let errors: serde_json::Value = serde_json::from_str(&stdout(
        &sb.run(&["tasks", "list", "--status", "error", "--json"]),
    ))
    .expect("json");
    let errors = errors.as_array().expect("a list");
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|t| t["status"] == "error"));
    assert_eq!(sb.status(5000)["task_id"], 5000);
    // `health` exits 1 when errors are many, as the seed's 7 % are.
    let health = sb.run(&["health", "--json"]);
    assert!(
        matches!(health.status.code(), Some(0 | 1)),
        "{}",
        stderr(&health)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&health)).expect("json");
    assert!(doc.is_object(), "{doc}");
}

/// The store's files are made read-only while a task runs (the immutable attribute: unlike
/// a permission, it stops writes through files already open, even root's): the run stops
/// with exit 6, and the task resumes once they are writable again.
#[test]
fn a_store_made_read_only_during_the_run_stops_it_and_it_resumes_later() {
    let sb = Sandbox::new();
    // Not the `-shm` index: SQLite maps it into memory, where a refused write is a SIGBUS
    // no program can report.
    let files: Vec<String> = ["", "-wal"]
        .iter()
        .map(|ext| format!("{}{ext}", sb.db().display()))
        .collect();
    let chattr = |flag: &str| {
        std::process::Command::new("chattr")
            .arg(flag)
            .args(files.iter().filter(|f| std::path::Path::new(f).exists()))
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let child = long_run_under_way(&sb);
    if !chattr("+i") {
        let _ = child.wait_with_output();
        crate::support::skip("this file system (or user) has no immutable attribute");
        return;
    }
    let out = child.wait_with_output().expect("run");
    chattr("-i");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("read-only") && err.contains("`tasker resume 1`"),
        "{err}"
    );
    assert!(sb.lines("finished").len() < 60, "the run stopped early");
    resumes_after_the_fault(&sb, &sb.db());
}

/// A store file that is not a store, or a store cut short: every command says so, with
/// exit 6, and touches nothing.
#[test]
fn a_store_that_is_not_one_or_is_damaged_is_refused() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let seeded = Sandbox::new();
    let _ = long_run_under_way(&seeded).wait_with_output();
    let whole = std::fs::read(seeded.db()).expect("a store");
    let notes = b"shopping list: eggs, flour\n".to_vec();
    for (what, bytes) in [
        ("not a store", notes),
        ("cut short", whole[..whole.len().min(20_000)].to_vec()),
    ] {
        std::fs::write(sb.db(), &bytes).expect("write");
        for args in [
            &["run", "t.yml"][..],
            &["status", "1"],
            &["tasks", "list"],
            &["resume", "1"],
        ] {
            let out = sb.run(args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(6), "{what}, {args:?}: {err}");
            assert!(
                err.contains("is not a tasker store, or it is damaged"),
                "{what}, {args:?}: {err}"
            );
            assert_eq!(
                std::fs::read(sb.db()).expect("read"),
                bytes,
                "{what}: untouched"
            );
        }
    }
}

/// When the store fails under a run, the steps it was running go with it — their whole
/// process groups — instead of running on unrecorded.
#[test]
fn a_run_that_loses_its_store_stops_its_steps() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: slow, command: 'sleep 60 & echo $! > bg.pid; wait' }\n",
    );
    let child = sb.spawn(&["run", "t.yml"]);
    assert!(
        crate::support::eventually(20, || !sb.lines("bg.pid").is_empty()),
        "the step never started"
    );
    let bg: i32 = sb.lines("bg.pid")[0].parse().expect("a pid");
    assert!(crate::support::alive(bg));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", sb.db().display()));
    }
    let out = child.wait_with_output().expect("run");
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(
        crate::support::eventually(5, || !crate::support::alive(bg)),
        "the step's background process outlived the run"
    );
}

/// `logs --follow` on a flooding step: the live copy stops at its 64 MiB cap, and when the
/// attempt ends the follower says how much it could not show, then prints the kept tail.
#[test]
fn following_a_flood_shows_the_capped_live_copy_then_the_tail() {
    use std::io::Read;
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: flood
steps:
  - name: flood
    command: |
      head -c 104857600 /dev/zero | tr '\\0' o; echo STDOUT-END
      while [ ! -e go ]; do sleep 0.05; done
",
    );
    let run = sb.spawn(&["run", "t.yml"]);
    assert!(
        crate::support::eventually(20, || {
            sb.db().exists()
                && sb
                    .sqlite()
                    .query_row("SELECT status FROM workflow_steps", [], |r| {
                        r.get::<_, String>(0)
                    })
                    .is_ok_and(|s| s == "in_progress")
        }),
        "the step never started"
    );
    let mut follow = sb.spawn(&["logs", "1", "flood", "--follow"]);
    let mut stdout_pipe = follow.stdout.take().expect("stdout");
    let cap = 64 * 1024 * 1024;
    let mut live = vec![0u8; cap];
    stdout_pipe
        .read_exact(&mut live)
        .expect("the live copy, up to its cap");
    assert!(live.iter().all(|b| *b == b'o'));
    std::fs::write(sb.path().join("go"), "").expect("go");
    let mut rest = Vec::new();
    stdout_pipe.read_to_end(&mut rest).expect("the rest");
    let out = follow.wait_with_output().expect("follow");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let limit = 1024 * 1024;
    assert_eq!(rest.len(), limit, "after the cap, the kept tail");
    assert!(rest.ends_with(b"STDOUT-END\n"));
    let dropped = 104_857_600 + 11 - limit;
    assert!(
        stderr(&out).contains(&format!(
            "[{} bytes after the first {cap} were not kept",
            dropped - cap
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(run.wait_with_output().expect("run").status.code(), Some(0));
}

/// A runner killed with SIGKILL leaves its scratch files (input documents holding the
/// unmasked context, live output); the next runner removes them. `logs --follow` on the
/// attempt it left returns with a note instead of waiting forever.
#[test]
fn a_dead_runners_files_are_removed_and_following_its_logs_ends() {
    use crate::support::{eventually, signal};
    let sb = Sandbox::new();
    let tmp = sb.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'if [ -e started ]; then exit 0; fi; echo started; touch started; sleep 30' }\n",
    );
    let mut child = sb
        .cmd_std()
        .env("TMPDIR", &tmp)
        .args(["run", "t.yml", "--set", "password=S3"])
        .spawn()
        .expect("spawn");
    assert!(eventually(10, || sb.path().join("started").exists()));
    let left = || -> Vec<String> {
        std::fs::read_dir(&tmp)
            .expect("tmp")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("tasker-"))
            .collect()
    };
    assert_eq!(left().len(), 1, "{:?}", left());
    signal(child.id(), "-KILL");
    let _ = child.wait();
    assert_eq!(
        left().len(),
        1,
        "the dead runner's files stay: {:?}",
        left()
    );

    let follow = sb
        .cmd()
        .env("TMPDIR", &tmp)
        .args(["logs", "1", "a", "--follow"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("logs");
    assert_eq!(follow.status.code(), Some(0), "{}", stderr(&follow));
    assert!(
        stderr(&follow).contains("the runner of task 1 stopped before this attempt ended; `tasker resume 1` takes the task over"),
        "{}",
        stderr(&follow)
    );

    sb.write(
        "plain.yml",
        "name: plain\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb
        .cmd()
        .env("TMPDIR", &tmp)
        .args(["run", "plain.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(left().is_empty(), "{:?}", left());
    // The leftover step is the resume's to stop.
    let out = sb
        .cmd()
        .env("TMPDIR", &tmp)
        .args(["resume", "1", "--kill-grace", "100ms"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("resume");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A result bigger than 4 MiB — written to `TASKER_OUTPUT`, printed by a plugin, or sent as
/// an HTTP body — fails its step for good (`result_too_large`) and keeps tasker's memory
/// bounded; `status` after it stays small too.
#[test]
fn results_have_a_size_limit_and_memory_stays_bounded() {
    use crate::server::{Reply, Server};
    let big = "x".repeat(5 * 1024 * 1024);
    let server = Server::start(vec![Reply::new(200, &big)]);
    let sb = Sandbox::new();
    sb.write(
        "plugin.sh",
        "printf '{\"result\": \"'; head -c 5000000 /dev/zero | tr '\\0' x; printf '\"}'\n",
    );
    sb.write(
        "t.yml",
        &format!(
            r#"name: big
steps:
  - {{ name: output, command: 'head -c 52428800 /dev/zero | tr "\0" " " > "$TASKER_OUTPUT"' }}
  - {{ name: plugin, plugin: {{ command: [sh, plugin.sh] }} }}
  - {{ name: http, http: {{ url: '{}' }} }}
  - {{ name: fine, command: 'echo "{{\"ok\": true}}" > "$TASKER_OUTPUT"' }}
"#,
            server.url("/big")
        ),
    );
    let child = sb.spawn(&["run", "t.yml"]);
    let (code, peak) = wait_with_peak_rss(child);
    eprintln!("results: tasker's peak RSS {peak:.1} MiB");
    assert_eq!(code, Some(1));
    assert!(peak < 100.0, "peak RSS {peak:.1} MiB");
    let doc = sb.status(1);
    for step in ["output", "plugin", "http"] {
        let s = Sandbox::step(&doc, step);
        assert_eq!(s["error"]["class"], "result_too_large", "{s}");
        assert_eq!(s["attempts"], 1, "not retried: {s}");
        assert!(
            s["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("more than 4 MiB")),
            "{s}"
        );
    }
    assert_eq!(Sandbox::step(&doc, "fine")["results"]["ok"], true);
    let status = sb
        .cmd_std()
        .args(["status", "1", "--json"])
        .spawn()
        .expect("status");
    let (code, peak) = wait_with_peak_rss(status);
    assert_eq!(code, Some(0));
    assert!(peak < 60.0, "status peak RSS {peak:.1} MiB");
}

/// `metrics` and `analytics` on one task of 20,000 steps, each its own series: memory
/// follows the series, not every row and label set at once.
#[test]
fn metrics_and_analytics_on_a_wide_task_stay_small() {
    let sb = Sandbox::new();
    let mut t = String::from("name: wide\nsteps:\n");
    for i in 0..20_000 {
        t.push_str(&format!("  - {{ name: s{i}, noop: true }}\n"));
    }
    sb.write("t.yml", &t);
    let out = sb.run(&["-q", "run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for args in [
        &["metrics"][..],
        &["metrics", "--format", "json"],
        &["metrics", "--format", "csv"],
        &["analytics"],
        &["analytics", "--json"],
    ] {
        let mut cmd = sb.cmd_std();
        cmd.args(args).stdout(std::process::Stdio::null());
        let (code, peak) = wait_with_peak_rss(cmd.spawn().expect("spawn"));
        eprintln!("{args:?}: peak RSS {peak:.1} MiB");
        assert_eq!(code, Some(0), "{args:?}");
        assert!(peak < 60.0, "{args:?}: peak RSS {peak:.1} MiB");
    }
    let text = stdout(&sb.run(&["analytics"]));
    assert!(
        text.contains("the 50 slowest step names by p95; 19950 more with `--json`"),
        "{text}"
    );
}

/// A step that leaves a daemon holding its stdout and stderr (`setsid … &`): the run waits
/// for the pipes one grace (2 s) for both streams, not one each, and keeps what the step
/// wrote before.
#[test]
fn a_daemon_holding_the_pipes_costs_one_grace_and_keeps_the_output() {
    use std::time::Duration;
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: daemon\nsteps:\n  - name: a\n    command: |\n      echo before-out\n      echo before-err >&2\n      setsid sh -c 'echo $$ > daemon.pid; exec sleep 30' &\n      sleep 0.2\n",
    );
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The attempt as tasker timed it: the step's 0.2 s, then one grace for the pipes.
    let took = Duration::from_millis(
        Sandbox::step(&sb.status(1), "a")["duration_ms"]
            .as_u64()
            .expect("a duration"),
    );
    let daemon: i32 = std::fs::read_to_string(sb.path().join("daemon.pid"))
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    crate::support::signal(daemon as u32, "-KILL");
    assert!(
        took < Duration::from_millis(3500),
        "one grace for both streams: {took:?}"
    );
    assert_eq!(stdout(&sb.run(&["logs", "1", "a"])), "before-out\n");
    assert_eq!(
        stdout(&sb.run(&["logs", "1", "a", "--stderr"])),
        "before-err\n"
    );
}
