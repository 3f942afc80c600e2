//! Operator verbs and crash safety: resume, retry, cancel, resolve, logs, signals, orphans.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Backend, Sandbox, alive, eventually, on_both_stores, signal, stderr, stdout};

/// Each step appends its name to `done` when it finishes; `gate` steps wait for a file.
const GATED: &str = "\
name: gated
max_parallel: 2
steps:
  - { name: a, command: echo a >> done }
  - { name: b, command: echo b >> done, depends_on: [a] }
  - name: gate
    depends_on: [b]
    command: while [ ! -f open ]; do sleep 0.05; done; echo gate >> done
  - { name: c, command: echo c >> done, depends_on: [gate] }
";

/// Start `run t.yml`, wait until the gate step runs, then return the child.
fn run_to_gate(sb: &Sandbox, extra: &[&str]) -> std::process::Child {
    sb.write("t.yml", GATED);
    let child = sb.spawn(&[&["run", "t.yml"][..], extra].concat());
    assert!(
        eventually(20, || {
            sb.stored()
                && sb
                    .value(
                        "SELECT s.status FROM workflow_steps s JOIN step_attempts a USING (workflow_step_id)
                         WHERE s.name = 'gate' AND a.pid IS NOT NULL",
                    )
                    .is_some_and(|s| s == "in_progress")
        }),
        "the gate step never started (or its process was never recorded)"
    );
    child
}

fn resume_continues_an_interrupted_task_without_rerunning_steps(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let child = run_to_gate(&sb, &["--kill-grace", "200ms"]);
    signal(child.id(), "-INT");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(sb.status(1)["status"], "pending");

    // The template file changes and then vanishes: the snapshot is what resumes.
    sb.write(
        "t.yml",
        "name: gated\nsteps:\n  - { name: other, command: 'exit 1' }\n",
    );
    std::fs::remove_file(sb.path().join("t.yml")).expect("rm");
    // The time it sits interrupted is no running time.
    std::thread::sleep(Duration::from_millis(1500));
    let pending = sb.status(1)["duration_ms"].as_u64().expect("duration");
    std::fs::write(sb.path().join("open"), "").expect("open gate");
    let out = sb.run(&["resume", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "task 1\n");
    let summary = stderr(&out);
    assert!(
        !summary.contains("retry") && !summary.contains("flaky"),
        "taking up an interrupted attempt is no retry: {summary}"
    );
    assert_eq!(
        sb.lines("done"),
        vec!["a", "b", "gate", "c"],
        "a and b ran once"
    );
    let doc = sb.status(1);
    assert_eq!(doc["status"], "complete");
    let gate = Sandbox::step(&doc, "gate");
    assert_eq!(gate["attempts"], 1, "the interrupted attempt is not shown");
    assert_eq!(gate["flaky"], false);
    let times = sb.query("SELECT started_at, finished_at FROM tasks WHERE task_id = 1");
    let time = |i: usize| -> i64 {
        times[0][i]
            .as_deref()
            .and_then(|t| t.parse().ok())
            .expect("a time")
    };
    let (created, finished) = (time(0), time(1));
    let wall = (finished - created) as u64;
    let running = doc["duration_ms"].as_u64().expect("duration");
    assert!(
        running + 1400 <= wall,
        "the 1.5 s interrupted are not counted: {running} ms of {wall} ms"
    );
    assert!(
        pending < 1400,
        "a pending task's duration does not grow while nothing runs: {pending} ms"
    );
    let gate_ms = gate["duration_ms"].as_u64().expect("gate duration");
    assert!(gate_ms + 1400 <= wall, "{gate_ms} ms of {wall} ms");
    // The same in the list and in analytics, where it is no retried step.
    let list: serde_json::Value =
        serde_json::from_slice(&sb.run(&["tasks", "list", "--json"]).stdout).expect("json");
    assert_eq!(list[0]["duration_ms"], doc["duration_ms"]);
    let analytics: serde_json::Value =
        serde_json::from_slice(&sb.run(&["analytics", "--json"]).stdout).expect("json");
    assert_eq!(analytics["retried_steps"], 0, "{analytics:#}");
    assert_eq!(
        analytics["slowest_tasks"][0]["duration_ms"],
        doc["duration_ms"]
    );

    // Nothing is left to resume.
    let out = sb.run(&["resume", "1"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains("task 1 is complete: there is nothing to resume"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sb.run(&["resume", "99"]).status.code(), Some(4));
}

#[test]
fn interrupted_attempts_do_not_count_against_the_limit() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: once\nsteps:\n  - name: slow\n    retry: { limit: 1 }\n    command: if [ ! -f open ]; then touch started; sleep 30; fi\n",
    );
    let child = sb.spawn(&["run", "t.yml", "--kill-grace", "200ms"]);
    assert!(eventually(20, || sb.path().join("started").exists()));
    signal(child.id(), "-TERM");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    let doc = sb.status(1);
    assert_eq!(Sandbox::step(&doc, "slow")["error"]["class"], "interrupted");
    std::fs::write(sb.path().join("open"), "").expect("open");
    let out = sb.run(&["resume", "1"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "limit 1 still allows a real attempt: {}",
        stderr(&out)
    );
    let slow = Sandbox::step(&sb.status(1), "slow").clone();
    assert_eq!(slow["attempts"], 1, "the interrupted attempt is not shown");
    assert_eq!(slow["flaky"], false);
    // Both attempts are kept, for `logs --attempt`.
    let kept: i64 = sb
        .sqlite()
        .query_row("SELECT COUNT(*) FROM step_attempts", [], |r| r.get(0))
        .expect("count");
    assert_eq!(kept, 2);
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: stubborn\nsteps:\n  - name: s\n    command: trap '' TERM INT; sleep 300 & echo $! > pid; while true; do sleep 0.05; done\n",
    );
    let mut child = sb.spawn_logged("run", &["run", "t.yml", "--kill-grace", "60s"]);
    assert!(eventually(20, || sb.path().join("pid").exists()));
    let started = Instant::now();
    signal(child.id(), "-INT");
    // The first signal was taken (the run says it is stopping) before the second comes.
    assert!(eventually(20, || sb.holds("run.err", "stopping:")));
    signal(child.id(), "-INT");
    let code = child.wait().expect("wait").code();
    assert_eq!(
        code,
        Some(130),
        "{:?}",
        std::fs::read_to_string(sb.path().join("run.err"))
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "did not wait for the 60s grace"
    );
    let pid: i32 = std::fs::read_to_string(sb.path().join("pid"))
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    assert!(eventually(5, || !alive(pid)));
}

fn a_killed_runner_leaves_an_orphan_that_resume_takes_over(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let old = kill_the_runner_at_the_gate(&sb);
    let doc = sb.status(1);
    assert_eq!(doc["status"], "in_progress");
    assert_eq!(doc["orphaned"], true);
    let table = stdout(&sb.run(&["status", "1"]));
    assert!(table.contains("(orphaned: runner pid"), "{table}");
    // The dead runner's step still runs; resume stops it before running the step again.
    resume_stops_the_leftover(&sb, old);
    let doc = sb.status(1);
    assert_eq!(doc["status"], "complete");
    assert_eq!(doc["orphaned"], false);
    let classes: Vec<Option<String>> = sb
        .query(
            "SELECT a.error_class FROM step_attempts a JOIN workflow_steps s USING (workflow_step_id)
             WHERE s.name = 'gate' ORDER BY a.attempt",
        )
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect();
    assert_eq!(classes, vec![Some("interrupted".to_owned()), None]);
    assert_eq!(sb.lines("done"), vec!["a", "b", "gate", "c"]);
}

/// A runner records a started process with its next commit; one that dies before then
/// leaves a process the next runner finds by the marks in its environment, and stops.
#[test]
fn a_process_started_but_not_yet_recorded_is_found_and_stopped() {
    let sb = Sandbox::new();
    let old = kill_the_runner_at_the_gate(&sb);
    // As if the runner had died before the commit that records it.
    sb.sqlite()
        .execute(
            "UPDATE step_attempts SET pid = NULL, pid_started_at = NULL WHERE finished_at IS NULL",
            [],
        )
        .expect("forget the pid");
    assert!(alive(old));
    let environ = std::fs::read(format!("/proc/{old}/environ")).expect("environ");
    assert!(
        environ
            .split(|b| *b == 0)
            .any(|v| v.starts_with(b"TASKER_TASK_UUID=")),
        "the step carries its task's uuid"
    );
    resume_stops_the_leftover(&sb, old);
    assert_eq!(sb.status(1)["status"], "complete");
    assert_eq!(sb.lines("done"), vec!["a", "b", "gate", "c"]);
}

/// Run to the gate and kill -9 the runner; the pid of the step it leaves running.
fn kill_the_runner_at_the_gate(sb: &Sandbox) -> i32 {
    let mut child = run_to_gate(sb, &[]);
    signal(child.id(), "-KILL");
    let _ = child.wait();
    let old: i32 = sb
        .value("SELECT pid FROM step_attempts WHERE attempt = 1 AND finished_at IS NULL")
        .and_then(|p| p.parse().ok())
        .expect("the orphaned attempt's pid");
    assert!(alive(old));
    old
}

/// `resume` kills the leftover step `old` before anything runs again, then completes.
fn resume_stops_the_leftover(sb: &Sandbox, old: i32) {
    let resume = sb.spawn(&["resume", "1"]);
    assert!(
        eventually(20, || !alive(old)),
        "the leftover step was killed"
    );
    std::fs::write(sb.path().join("open"), "").expect("open");
    let out = resume.wait_with_output().expect("resume");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn resume_is_refused_while_the_owner_lives_and_racing_resumes_run_once(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let mut child = run_to_gate(&sb, &[]);
    let out = sb.run(&["resume", "1"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains(&format!("task 1 is being run by pid {}", child.id())),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["retry", "1"]);
    assert_eq!(out.status.code(), Some(5));
    signal(child.id(), "-KILL");
    let _ = child.wait();

    let first = sb.spawn(&["resume", "1"]);
    let second = sb.spawn(&["resume", "1"]);
    // Once one of them runs the gate again (attempt 2), let it through.
    assert!(eventually(20, || sb
        .value("SELECT COUNT(*) FROM step_attempts WHERE attempt = 2")
        .is_some_and(|n| n == "1")));
    std::fs::write(sb.path().join("open"), "").expect("open");
    let a = first.wait_with_output().expect("wait");
    let b = second.wait_with_output().expect("wait");
    let mut codes = [a.status.code(), b.status.code()];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(5)], "{} / {}", stderr(&a), stderr(&b));
    assert_eq!(
        sb.lines("done"),
        vec!["a", "b", "gate", "c"],
        "every step ran once"
    );
}

const RETRY: &str = "\
name: retry
steps:
  - { name: extract, command: echo extract >> done }
  - name: transform
    depends_on: [extract]
    retry: { limit: 2, backoff: { base: 10ms } }
    command: if [ -f fixed ]; then echo transform >> done; else exit 3; fi
  - { name: load, command: echo load >> done, depends_on: [transform] }
  - { name: side, command: echo side >> done }
";

fn retry_gives_failed_steps_fresh_attempts(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write("t.yml", RETRY);
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(1));
    std::fs::write(sb.path().join("fixed"), "").expect("fix");
    let out = sb
        .cmd()
        .env("USER", "alice")
        .args(["retry", "1", "--reason", "upstream fixed"])
        .output()
        .expect("retry");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "task 1\n");
    let mut done = sb.lines("done");
    done.sort();
    assert_eq!(
        done,
        vec!["extract", "load", "side", "transform"],
        "only the failed branch ran again"
    );
    let doc = sb.status(1);
    assert_eq!(Sandbox::step(&doc, "transform")["attempts"], 3);
    // The audit trail: the operator's step and task transitions, then the engine's.
    let rows: Vec<Vec<String>> = sb
        .query(
            "SELECT from_state, to_state, metadata FROM task_transitions WHERE task_id = 1 ORDER BY sort_key",
        )
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect();
    let path: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        path,
        vec![
            ("pending", "in_progress"),
            ("in_progress", "error"),
            ("error", "pending"),
            ("pending", "in_progress"),
            ("in_progress", "complete")
        ]
    );
    let meta: serde_json::Value = serde_json::from_str(&rows[2][2]).expect("json");
    assert_eq!(meta["actor"], "alice");
    assert_eq!(meta["reason"], "upstream fixed");
}

fn retry_named_steps_and_their_dependents(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write("t.yml", RETRY);
    std::fs::write(sb.path().join("fixed"), "").expect("fix");
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    std::fs::remove_file(sb.path().join("done")).expect("rm");
    let out = sb.run(&["retry", "1", "--step", "extract", "--downstream"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.lines("done"), vec!["extract", "transform", "load"]);
    std::fs::remove_file(sb.path().join("done")).expect("rm");
    assert_eq!(
        sb.run(&["retry", "1", "--step", "side"]).status.code(),
        Some(0)
    );
    assert_eq!(sb.lines("done"), vec!["side"]);

    let out = sb.run(&["retry", "1", "--step", "trnsform"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("task 1 has no step `trnsform`\n  hint: did you mean `transform`?"),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["retry", "1"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains("has no step in error"),
        "{}",
        stderr(&out)
    );
}

fn cancel_from_another_terminal_stops_the_runner(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write(
        "t.yml",
        "name: long\nsteps:\n  - name: sleeper\n    command: sleep 300 & echo $! > pid; wait\n  - { name: after, command: 'true', depends_on: [sleeper] }\n  - { name: other, command: 'sleep 300' }\n",
    );
    let child = sb.spawn(&["run", "t.yml", "--kill-grace", "1s"]);
    assert!(eventually(20, || sb.path().join("pid").exists()));
    let started = Instant::now();
    let out = sb.run(&["cancel", "1", "--reason", "no longer needed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("task 1 cancelled by its runner; it is cancelled"),
        "{}",
        stderr(&out)
    );
    let run = child.wait_with_output().expect("wait");
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert!(started.elapsed() < Duration::from_secs(10));
    let pid: i32 = std::fs::read_to_string(sb.path().join("pid"))
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    assert!(
        eventually(5, || !alive(pid)),
        "the step's process group was killed"
    );
    let doc = sb.status(1);
    assert_eq!(doc["status"], "cancelled");
    for name in ["sleeper", "after", "other"] {
        assert_eq!(Sandbox::step(&doc, name)["status"], "cancelled", "{name}");
    }
    let meta = sb
        .value(
            "SELECT x.metadata FROM workflow_step_transitions x JOIN workflow_steps s USING (workflow_step_id)
             WHERE s.name = 'after' AND x.to_state = 'cancelled'",
        )
        .expect("row");
    assert!(meta.contains("no longer needed"), "{meta}");
    // The request went through the annotations table, and stays tasker's own.
    let requests =
        sb.value("SELECT COUNT(*) FROM task_annotations WHERE annotation_type = 'cancel_request'");
    assert_eq!(requests.as_deref(), Some("1"));
    assert_eq!(doc["annotations"], json!([]));
    let out = sb.run(&["annotate", "1", "cancel_request"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`cancel_request` is tasker's own"));
    let out = sb.run(&["tasks", "list", "--annotation", "cancel_request"]);
    assert_eq!(out.status.code(), Some(2));
}

fn annotations_are_kept_shown_and_filtered(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    for _ in 0..3 {
        assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    }
    for (id, kind, value) in [
        ("1", "ticket", Some("OPS-1234")),
        ("2", "ticket", Some("OPS-99")),
        (
            "2",
            "incident",
            Some(r#"{"url": "https://status.example.com/i/9", "severity": 2, "token": "abc"}"#),
        ),
        ("3", "reviewed", None),
    ] {
        let mut args = vec!["annotate", id, kind];
        args.extend(value);
        let out = sb.run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert!(
        stderr(&sb.run(&["annotate", "1", "reason", "replayed by hand"]))
            .contains("task 1: annotated reason replayed by hand")
    );
    // A value holding escape codes is shown as text, never as terminal control.
    assert_eq!(
        sb.run(&["annotate", "3", "note", "\u{1b}[2Jwiped"])
            .status
            .code(),
        Some(0)
    );
    let shown = stdout(&sb.run(&["status", "3"]));
    assert!(shown.contains("note      \\x1b[2Jwiped"), "{shown}");
    assert!(!shown.contains('\u{1b}'), "{shown}");
    let doc = sb.status(2);
    let notes = doc["annotations"].as_array().expect("annotations");
    assert_eq!(notes.len(), 2, "{doc:#}");
    assert_eq!(notes[0]["type"], "ticket");
    assert_eq!(notes[0]["annotation"], "OPS-99");
    assert!(
        notes[0]["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(notes[1]["type"], "incident");
    assert_eq!(notes[1]["annotation"]["severity"], 2);
    assert_eq!(
        notes[1]["annotation"]["token"], "[FILTERED]",
        "shown masked"
    );
    let text = stdout(&sb.run(&["status", "2"]));
    assert!(
        text.contains("annotations\n  ticket    OPS-99  ("),
        "{text}"
    );
    assert!(
        text.contains("  incident  {\"url\":\"https://status.example.com/i/9\",\"severity\":2,\"token\":\"[FILTERED]\"}  ("),
        "{text}"
    );
    assert!(!text.contains("abc"), "{text}");

    // Filters: by type, by type and value (text or JSON, as `--set` reads it).
    let ids = |filter: &str| -> Vec<i64> {
        let out = sb.run(&["tasks", "list", "--json", "--annotation", filter]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        docs.as_array()
            .expect("list")
            .iter()
            .map(|d| d["task_id"].as_i64().expect("id"))
            .collect()
    };
    assert_eq!(ids("ticket"), vec![2, 1]);
    assert_eq!(ids("ticket=OPS-1234"), vec![1]);
    assert_eq!(ids("ticket=OPS-0"), Vec::<i64>::new());
    assert_eq!(ids("reviewed"), vec![3]);
    assert_eq!(ids("reviewed=null"), vec![3]);
    assert_eq!(ids("incident"), vec![2]);

    // Refusals: an unknown task, a type that is not a word, a value too big.
    let out = sb.run(&["annotate", "9", "ticket", "x"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("task 9 not found"));
    let out = sb.run(&["annotate", "1", "two words", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("an annotation type is a word"));
    let big = "x".repeat(70 * 1024);
    let out = sb.run(&["annotate", "1", "blob", &big]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the most one may be"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        sb.status(1)["annotations"].as_array().map(Vec::len),
        Some(2)
    );
}

fn cancelling_one_step_blocks_its_dependents_only(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write(
        "t.yml",
        "name: part\nsteps:\n  - { name: slow, command: 'touch started; sleep 300' }\n  - { name: after, command: 'true', depends_on: [slow] }\n  - { name: quick, command: 'while [ ! -f open ]; do sleep 0.05; done' }\n",
    );
    let child = sb.spawn(&["run", "t.yml", "--kill-grace", "1s"]);
    assert!(eventually(20, || sb.path().join("started").exists()));
    let out = sb.run(&["cancel", "1", "--step", "slow"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::write(sb.path().join("open"), "").expect("open");
    let run = child.wait_with_output().expect("wait");
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let doc = sb.status(1);
    assert_eq!(Sandbox::step(&doc, "slow")["status"], "cancelled");
    assert_eq!(Sandbox::step(&doc, "after")["status"], "pending");
    assert_eq!(Sandbox::step(&doc, "quick")["status"], "complete");
    assert_eq!(doc["status"], "cancelled");
}

#[test]
fn cancelling_finished_tasks_follows_the_state_tables() {
    let sb = Sandbox::new();
    sb.write(
        "ok.yml",
        "name: ok\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    sb.write(
        "bad.yml",
        "name: bad\nsteps:\n  - { name: a, command: 'exit 1', retry: 1 }\n",
    );
    assert_eq!(sb.run(&["run", "ok.yml"]).status.code(), Some(0));
    assert_eq!(sb.run(&["run", "bad.yml"]).status.code(), Some(1));
    assert_eq!(sb.run(&["cancel", "1"]).status.code(), Some(0));
    let doc = sb.status(1);
    assert_eq!(doc["status"], "cancelled");
    assert_eq!(
        Sandbox::step(&doc, "a")["status"],
        "complete",
        "finished work keeps its state"
    );
    let out = sb.run(&["cancel", "1"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(stderr(&out).contains("it is already cancelled"));
    let out = sb.run(&["cancel", "2"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains("a task in `error` is retried or resolved, not cancelled"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sb.run(&["cancel", "7"]).status.code(), Some(4));
}

fn resolving_the_blocking_step_lets_resume_finish_the_task(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write(
        "t.yml",
        "name: pay\nsteps:\n  - { name: charge, command: 'exit 1', retry: 1 }\n  - { name: receipt, command: 'echo {{ steps.charge.results.charge_id }} > receipt', depends_on: [charge] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(1));
    let out = sb.run(&[
        "resolve",
        "1",
        "--step",
        "charge",
        "--results",
        r#"{"charge_id": "ch_manual"}"#,
    ]);
    assert_eq!(out.status.code(), Some(2), "--reason is required");
    let out = sb.run(&[
        "resolve",
        "1",
        "--step",
        "charge",
        "--results",
        "{nope",
        "--reason",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the results given with --results are not valid JSON"));
    let out = sb.run(&[
        "resolve",
        "1",
        "--step",
        "charge",
        "--results",
        r#"{"charge_id": "ch_manual"}"#,
        "--reason",
        "charged by phone",
        "--actor",
        "bob",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(1);
    assert_eq!(Sandbox::step(&doc, "charge")["status"], "resolved_manually");
    assert_eq!(
        Sandbox::step(&doc, "charge")["results"],
        json!({"charge_id": "ch_manual"})
    );
    let out = sb.run(&["resume", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(sb.path().join("receipt")).expect("receipt"),
        "ch_manual\n"
    );
    assert_eq!(sb.status(1)["status"], "complete");
    let out = sb.run(&["resolve", "1", "--step", "receipt", "--reason", "x"]);
    assert_eq!(
        out.status.code(),
        Some(5),
        "a complete step is not resolved"
    );
}

fn resolving_a_failed_task_as_a_whole(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'exit 1', retry: 1 }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(1));
    let out = sb.run(&["resolve", "1", "--reason", "refunded by hand"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.status(1)["status"], "resolved_manually");
    let out = sb.run(&["resolve", "1", "--reason", "again"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        sb.run(&["resolve", "9", "--reason", "x"]).status.code(),
        Some(4)
    );
}

fn logs_of_any_attempt(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - name: s\n    retry: { limit: 2, backoff: { base: 10ms } }\n    command: echo out $TASKER_ATTEMPT; echo err $TASKER_ATTEMPT >&2; [ $TASKER_ATTEMPT = 2 ]\n",
    );
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    assert_eq!(stdout(&sb.run(&["logs", "1", "s"])), "out 2\n");
    assert_eq!(
        stdout(&sb.run(&["logs", "1", "s", "--attempt", "1"])),
        "out 1\n"
    );
    assert_eq!(
        stdout(&sb.run(&["logs", "1", "s", "--attempt", "1", "--stderr"])),
        "err 1\n"
    );
    let out = sb.run(&["logs", "1", "s", "--attempt", "3"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("step `s` has no attempt 3 (it has 2)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sb.run(&["logs", "1", "nope"]).status.code(), Some(4));
    assert_eq!(sb.run(&["logs", "5", "s"]).status.code(), Some(4));
}

#[test]
fn logs_follow_a_running_step() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - name: s\n    command: for i in 1 2 3; do echo line $i; sleep 0.2; done; while [ ! -f open ]; do sleep 0.05; done; echo last\n",
    );
    let child = sb.spawn(&["run", "t.yml"]);
    assert!(eventually(20, || sb.db().exists()
        && sb
            .sqlite()
            .query_row("SELECT COUNT(*) FROM step_attempts", [], |r| r
                .get::<_, i64>(0))
            .is_ok_and(|n| n == 1)));
    let mut follower = sb.spawn_logged("follow", &["logs", "1", "s", "--follow"]);
    // The live lines arrive while the step runs, before it is let go.
    assert!(eventually(20, || sb.holds("follow.out", "line 3\n")));
    std::fs::write(sb.path().join("open"), "").expect("open");
    assert_eq!(follower.wait().expect("wait").code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(sb.path().join("follow.out")).expect("output"),
        "line 1\nline 2\nline 3\nlast\n"
    );
    assert_eq!(
        child.wait_with_output().expect("run").status.code(),
        Some(0)
    );
}

#[test]
fn four_runs_share_one_store_with_readers_beside_them() {
    let sb = Sandbox::new();
    let mut yaml = String::from("name: shared\nmax_parallel: 4\nsteps:\n");
    for i in 0..50 {
        yaml.push_str(&format!("  - {{ name: s{i}, command: 'true' }}\n"));
    }
    sb.write("t.yml", &yaml);
    assert_eq!(sb.run(&["-q", "run", "t.yml"]).status.code(), Some(0));
    let runners: Vec<_> = (0..4).map(|_| sb.spawn(&["-q", "run", "t.yml"])).collect();
    let mut reads = 0;
    while reads < 40 {
        for args in [&["tasks", "list", "--json"][..], &["status", "1", "--json"]] {
            let out = sb.run(args);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            reads += 1;
        }
    }
    for r in runners {
        let out = r.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!stderr(&out).contains("locked"));
    }
    let rows: serde_json::Value =
        serde_json::from_slice(&sb.run(&["tasks", "list", "--json"]).stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(5));
    assert!(
        rows.as_array()
            .expect("rows")
            .iter()
            .all(|r| r["status"] == "complete" && r["steps_complete"] == 50)
    );
}

/// A `steps`-step template: chains and fan-outs, some steps sleeping; each step appends
/// its name to `finished` as its last act. With `gate`, step s0 — which every other step
/// waits for — fails until `open` exists.
fn crash_template(steps: usize, gate: bool) -> String {
    let mut yaml = String::from("name: crash\nmax_parallel: 2\nsteps:\n");
    for i in 0..steps {
        let deps = match i % 10 {
            0 if i > 0 => format!("[s{}]", i - 1),
            0 => "[]".into(),
            k => format!("[s{}]", i - k),
        };
        let nap = if i % 3 == 0 { "sleep 0.03; " } else { "" };
        let check = if gate && i == 0 {
            "test -e open && "
        } else {
            ""
        };
        yaml.push_str(&format!(
            "  - {{ name: s{i}, depends_on: {deps}, command: '{nap}{check}echo s{i} >> finished', retry: {{ limit: 3, backoff: {{ base: 10ms }} }} }}\n"
        ));
    }
    yaml
}

/// Start `first` (then `resume 1`) and kill -9 it after a random 20–100 ms, again and
/// again, `most` times at most; then let a run complete the task. The number of kills.
fn kill_until_complete(sb: &Sandbox, first: &[&str], most: usize) -> usize {
    let mut kills = 0;
    let mut args: Vec<&str> = first.to_vec();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    loop {
        let mut child = sb.spawn(&args);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(20 + seed % 80);
        let deadline = if kills < most {
            Instant::now() + delay
        } else {
            Instant::now() + Duration::from_secs(120)
        };
        let mut exited = None;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("wait") {
                exited = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        match exited {
            Some(status) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                assert_eq!(status.code(), Some(0), "the last run completes: {err}");
                let _ = child.wait();
                return kills;
            }
            None => {
                signal(child.id(), "-KILL");
                let _ = child.wait();
                kills += 1;
                let status: Option<String> = sb
                    .db()
                    .exists()
                    .then(|| {
                        sb.sqlite()
                            .query_row("SELECT status FROM tasks WHERE task_id = 1", [], |r| {
                                r.get(0)
                            })
                            .ok()
                    })
                    .flatten();
                match status.as_deref() {
                    // Killed before the task was created: nothing happened, start again.
                    None => continue,
                    // The kill may land after the last commit: nothing is left to resume.
                    Some("complete") => return kills,
                    Some(_) => {}
                }
            }
        }
        args = vec!["resume", "1"];
        assert!(kills < 2000, "no progress");
    }
}

/// After any number of kills: complete, every step finished at least once and completed
/// exactly once in the store, no completion run twice, results kept, the file intact.
fn consistent_after_kills(sb: &Sandbox, steps: usize) {
    let doc = sb.status(1);
    assert_eq!(doc["status"], "complete");
    let finished = sb.lines("finished");
    let conn = sb.sqlite();
    for i in 0..steps {
        let name = format!("s{i}");
        let times = finished.iter().filter(|l| **l == name).count();
        assert!(times >= 1, "{name} never finished");
        let (attempts, completes): (i64, i64) = conn
            .query_row(
                "SELECT COUNT(*), SUM(a.outcome = 'complete') FROM step_attempts a
                 JOIN workflow_steps s USING (workflow_step_id) WHERE s.name = ?1",
                [&name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("attempts");
        assert_eq!(completes, 1, "{name}: exactly one attempt completed");
        // A step's process may finish and the runner die before it records that: the
        // attempt is then interrupted and runs again; a recorded completion never does.
        assert!(
            times as i64 <= attempts,
            "{name} finished {times} times in {attempts} attempts"
        );
        assert!(
            Sandbox::step(&doc, &name)["results"].is_object(),
            "{name} has its result"
        );
    }
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    // The event log, kept in pages and on the steps' rows, is whole: numbered from 1
    // without a gap or a repeat, each step completed once in it, each attempt started once.
    let log = stdout(&sb.run(&["events", "log", "1", "--json"]));
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1, "{e}");
    }
    let mut started = std::collections::HashSet::new();
    let mut completed = std::collections::HashMap::new();
    for e in &events {
        let step = e["step_name"].as_str().unwrap_or("").to_owned();
        match e["name"].as_str() {
            Some("step.execution_requested") => {
                let attempt = e["attempt"].as_u64();
                assert!(started.insert((step, attempt)), "started twice: {e}");
            }
            Some("step.completed") => *completed.entry(step).or_insert(0) += 1,
            _ => {}
        }
    }
    for i in 0..steps {
        assert_eq!(completed.get(&format!("s{i}")), Some(&1), "s{i} in the log");
    }
}

#[test]
fn the_crash_test_kill_nine_and_resume_until_complete() {
    let sb = Sandbox::new();
    sb.write("t.yml", &crash_template(500, false));
    let kills = kill_until_complete(&sb, &["run", "t.yml"], 50);
    assert!(
        kills == 50,
        "only {kills} kills: the test did not test much"
    );
    consistent_after_kills(&sb, 500);
    eprintln!("crash test: {kills} kills over 500 steps");
}

/// `retry` killed again and again: the same guarantees as a first run.
#[test]
fn kills_during_retry_lose_nothing() {
    let sb = Sandbox::new();
    sb.write("t.yml", &crash_template(120, true));
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(1), "s0 fails until `open` exists");
    std::fs::write(sb.path().join("open"), "").expect("open");
    let kills = kill_until_complete(&sb, &["retry", "1"], 20);
    assert!(kills >= 5, "only {kills} kills");
    consistent_after_kills(&sb, 120);
}

/// `resolve` killed at any moment: the step is resolved or not, never half; the task's
/// audit trail says which, and a later resolve and resume finish the task.
const RESOLVE: [&str; 8] = [
    "resolve",
    "1",
    "--step",
    "s0",
    "--results",
    r#"{"by": "hand"}"#,
    "--reason",
    "done by hand",
];

#[test]
fn kills_during_resolve_leave_the_step_resolved_or_not() {
    let sb = Sandbox::new();
    sb.write("t.yml", &crash_template(30, true));
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(1), "s0 fails until `open` exists");
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20 {
        let mut child = sb.spawn(&RESOLVE);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 8000));
        let _ = child.kill();
        let _ = child.wait();
        let doc = sb.status(1);
        let step = Sandbox::step(&doc, "s0");
        let transitions: i64 = sb
            .sqlite()
            .query_row(
                "SELECT COUNT(*) FROM workflow_step_transitions t JOIN workflow_steps s USING (workflow_step_id)
                 WHERE s.name = 's0' AND t.to_state = 'resolved_manually'",
                [],
                |r| r.get(0),
            )
            .expect("transitions");
        match step["status"].as_str() {
            Some("resolved_manually") => {
                assert_eq!(transitions, 1, "one audited transition");
                assert_eq!(step["results"], serde_json::json!({"by": "hand"}));
                break;
            }
            Some("error") => assert_eq!(transitions, 0, "no half-made resolution"),
            other => panic!("s0 is {other:?}"),
        }
    }
    let out = sb.run(&RESOLVE);
    // Either this resolves it, or an earlier (killed) one already had.
    assert!(matches!(out.status.code(), Some(0 | 5)), "{}", stderr(&out));
    let out = sb.run(&["resume", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.status(1)["status"], "complete");
    let check: String = sb
        .sqlite()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
}

#[test]
fn every_verb_on_an_unknown_task_is_not_found() {
    let sb = Sandbox::new();
    let verbs: &[&[&str]] = &[
        &["status", "9"],
        &["resume", "9"],
        &["retry", "9"],
        &["cancel", "9"],
        &["resolve", "9", "--reason", "x"],
        &["logs", "9", "s"],
    ];
    for args in verbs {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(4), "{args:?} without a store");
        assert_eq!(
            stderr(&out),
            "error: task 9 not found\n  hint: `tasker tasks list` lists the tasks in this store (`tasker db path` names it)\n",
            "{args:?}"
        );
    }
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    for args in verbs {
        assert_eq!(sb.run(args).status.code(), Some(4), "{args:?} with a store");
    }
    assert!(!sb.path().join("tasker.db-journal").exists());
}

/// A runner whose task was taken over (its lease lapsed and another runner claimed it) is
/// fenced: at its next heartbeat it stops its steps, writes nothing more and says so.
#[test]
fn a_runner_that_lost_its_lease_stops() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: fenced\nsteps:\n  - name: long\n    command: echo $$ > pid; sleep 60\n",
    );
    let child = sb.spawn(&["run", "t.yml", "--kill-grace", "500ms"]);
    assert!(eventually(20, || sb.path().join("pid").exists()));
    // Another runner, elsewhere, took the task over.
    sb.sqlite()
        .execute(
            "UPDATE tasks SET owner_pid = 4242, owner_host = 'elsewhere', owner_started_at = 7, heartbeat_at = ?1",
            [tasker::clock::now_ms()],
        )
        .expect("take over");
    let started = Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stopped at its heartbeat"
    );
    let err = stderr(&out);
    assert!(
        err.contains("task 1 was taken over by pid 4242 on elsewhere"),
        "{err}"
    );
    let pid: i32 = std::fs::read_to_string(sb.path().join("pid"))
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    assert!(eventually(5, || !alive(pid)), "its step was stopped");
    // It wrote nothing after it lost the lease: the step is still `in_progress` as the new
    // owner found it.
    let doc = sb.status(1);
    assert_eq!(Sandbox::step(&doc, "long")["status"], "in_progress");
    assert_eq!(doc["owner"]["host"], "elsewhere");
}

/// A step cancelled while its start is still being committed (the store held by another
/// writer) never runs: the runner records it cancelled instead of starting it, and its
/// handler is never called.
#[test]
fn a_step_cancelled_while_its_start_commits_never_runs() {
    let Some(python) = crate::support::tool("python3") else {
        return;
    };
    let sb = Sandbox::new();
    // c ends only once the store is held, so that the commit held is c's end with b's start,
    // however long Python takes to start on a loaded machine.
    sb.write(
        "t.yml",
        "name: held\nsteps:\n  - { name: long, command: 'sleep 3' }\n  - { name: c, command: 'touch c.started; while [ ! -e locked ]; do sleep 0.01; done; sleep 0.2' }\n  - { name: b, command: 'touch b_ran', depends_on: [c] }\n",
    );
    let child = sb.spawn(&["run", "t.yml"]);
    // The store held from c's start until well after c ends, and b's cancel asked for
    // inside that hold.
    sb.hold_store(
        &python,
        r#"INSERT INTO task_annotations (task_id, annotation_type, annotation, created_at)
           VALUES (1, 'cancel_request', '{"steps": ["b"], "reason": "held", "actor": "test"}', 0)"#,
        2.0,
    );
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!sb.path().join("b_ran").exists(), "b never ran");
    let doc = sb.status(1);
    assert_eq!(Sandbox::step(&doc, "b")["status"], "cancelled");
    assert_eq!(Sandbox::step(&doc, "long")["status"], "complete");
    let log = stdout(&sb.run(&["events", "log", "1"]));
    assert!(
        !log.lines()
            .any(|l| l.contains("step.before_handle") && l.ends_with(" b #1")),
        "b's handler was never called:\n{log}"
    );
}

on_both_stores!(
    resolving_the_blocking_step_lets_resume_finish_the_task,
    resolving_a_failed_task_as_a_whole,
    annotations_are_kept_shown_and_filtered,
    logs_of_any_attempt,
    cancelling_one_step_blocks_its_dependents_only,
    retry_named_steps_and_their_dependents,
    resume_continues_an_interrupted_task_without_rerunning_steps,
    a_killed_runner_leaves_an_orphan_that_resume_takes_over,
    retry_gives_failed_steps_fresh_attempts,
    cancel_from_another_terminal_stops_the_runner,
    resume_is_refused_while_the_owner_lives_and_racing_resumes_run_once,
);
