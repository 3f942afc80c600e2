//! Events: the catalog, emission order and counts, the log, `--events-out`, hooks, the
//! summary, live progress, diagnostics.

use std::collections::HashMap;

use serde_json::Value;

use crate::support::{Backend, Sandbox, eventually, on_both_stores, stderr, stdout};

/// Steps with retries and backoff, a permanent failure, and a timeout.
const MIXED: &str = "\
name: mixed
custom_events: [order.charged]
steps:
  - { name: ok, command: 'true' }
  - name: flaky
    depends_on: [ok]
    retry: { limit: 3, backoff: { base: 10ms } }
    command: |
      echo '{\"name\": \"order.charged\"}' >> $TASKER_EVENTS
      [ $TASKER_ATTEMPT -ge 3 ]
  - { name: permanent, command: 'exit 127' }
  - { name: slow, command: 'sleep 5', timeout: 200ms, retry: { limit: 2, backoff: { base: 10ms } } }
";

fn events(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("events file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn each_event_once_in_order(backend: &Backend) {
    let sb = Sandbox::on(backend);
    sb.write("t.yml", MIXED);
    // A context of every kind of value: the first events are told as they were recorded,
    // and must read back from the log the same.
    let out = sb.run(&[
        "run",
        "t.yml",
        "--events-out",
        "events.jsonl",
        "--kill-grace",
        "100ms",
        "--context",
        r#"{"amount": 12.5, "big": 18446744073709551615, "api_token": "s3cr3t", "note": "é\n\"x\"", "list": [1, null, true], "floats": [0.30000000000000004, 2.2250738585072014e-308, 1.7976931348623157e308, 5e-324, 0.1234567890123456789]}"#,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let evs = events(&sb.path().join("events.jsonl"));
    assert_eq!(evs[0]["context"]["amount"], 12.5, "{}", evs[0]);
    assert_ne!(evs[0]["context"]["api_token"], "s3cr3t", "{}", evs[0]);
    let names: Vec<&str> = evs
        .iter()
        .map(|e| e["name"].as_str().unwrap_or(""))
        .collect();

    // Sequence numbers count up from 1 without a gap, and the log holds the same stream.
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1);
        assert_eq!(e["task_id"], 1);
        assert!(e["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
    let log: Vec<Value> = stdout(&sb.run(&["events", "log", "1", "--json"]))
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(log, evs);

    // Creation, then the run: task.start_requested first, task.failed last.
    let first_run = names
        .iter()
        .position(|n| !n.ends_with("initialize_requested"))
        .expect("run events");
    assert_eq!(
        names[..first_run]
            .iter()
            .filter(|n| **n == "task.initialize_requested")
            .count(),
        1
    );
    assert_eq!(
        names[..first_run]
            .iter()
            .filter(|n| **n == "step.initialize_requested")
            .count(),
        4
    );
    assert_eq!(names[first_run], "task.start_requested");
    assert_eq!(evs[first_run]["from_state"], "pending");
    assert_eq!(evs[first_run]["to_state"], "in_progress");
    let task_end = names
        .iter()
        .position(|n| *n == "task.failed")
        .expect("task.failed");
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("task.") && !n.ends_with("initialize_requested"))
            .count(),
        2
    );
    assert_eq!(
        &names[task_end + 1..],
        &["workflow.task_finalization_completed"]
    );
    assert_eq!(
        evs[task_end]["failed_steps"],
        serde_json::json!(["permanent", "slow"])
    );

    // Per step and attempt: execution_requested before before_handle before its outcome.
    let mut seen: HashMap<(String, u64), Vec<&str>> = HashMap::new();
    for e in &evs {
        if let (Some(step), Some(attempt)) = (e["step_name"].as_str(), e["attempt"].as_u64()) {
            seen.entry((step.to_owned(), attempt))
                .or_default()
                .push(e["name"].as_str().unwrap_or(""));
        }
    }
    for ((step, attempt), list) in &seen {
        let pos = |n: &str| list.iter().position(|x| *x == n);
        if let Some(done) = pos("step.completed").or(pos("step.failed")) {
            assert!(
                pos("step.execution_requested") < pos("step.before_handle"),
                "{step} #{attempt}: {list:?}"
            );
            assert!(
                pos("step.before_handle") < Some(done),
                "{step} #{attempt}: {list:?}"
            );
        }
    }
    let count = |n: &str| names.iter().filter(|x| **x == n).count();
    // flaky: 3 attempts, 2 retries; slow: 2 attempts (timeouts), 1 retry.
    assert_eq!(count("step.execution_requested"), 1 + 3 + 1 + 2);
    assert_eq!(count("step.retry_requested"), 3);
    assert_eq!(count("observability.step.backoff"), 3);
    assert_eq!(count("step.completed"), 2);
    assert_eq!(count("step.failed"), 2 + 1 + 2);
    assert_eq!(count("observability.step.timeout"), 2);
    assert_eq!(
        count("observability.step.max_retries_reached"),
        1,
        "slow ran out; permanent never retried"
    );
    assert_eq!(count("order.charged"), 3, "custom events enter the log");
    assert_eq!(count("workflow.task_started"), 1);
    // A retry_requested per retry, each after the failure it follows.
    let failed_flaky: Vec<u64> = evs
        .iter()
        .filter(|e| e["name"] == "step.failed" && e["step_name"] == "flaky")
        .map(|e| e["seq"].as_u64().unwrap_or(0))
        .collect();
    let retries_flaky: Vec<u64> = evs
        .iter()
        .filter(|e| e["name"] == "step.retry_requested" && e["step_name"] == "flaky")
        .map(|e| e["seq"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(failed_flaky.len(), 2);
    assert!(failed_flaky[0] < retries_flaky[0] && failed_flaky[1] < retries_flaky[1]);
    let permanent = evs
        .iter()
        .find(|e| e["name"] == "step.failed" && e["step_name"] == "permanent")
        .expect("permanent");
    assert_eq!(permanent["retryable"], false);
    assert_eq!(permanent["error_class"], "exit_code");
    assert_eq!(permanent["exit_code"], 127);
}

#[test]
fn the_catalog_lists_typed_examples() {
    let sb = Sandbox::new();
    let out = sb.run(&["events", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let docs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(docs.len(), 25, "24 catalog events and the custom kind");
    for d in &docs {
        let ex = &d["example"];
        assert!(ex["seq"].is_u64() && ex["task_id"].is_u64(), "{d}");
        assert!(
            ex["timestamp"]
                .as_str()
                .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
        );
        for f in d["fields"].as_array().expect("fields") {
            let name = f["name"].as_str().expect("name");
            let value = &ex[name];
            match f["type"].as_str() {
                Some("integer") => assert!(value.is_u64(), "{name} in {d}"),
                Some("boolean") => assert!(value.is_boolean(), "{name}"),
                Some("strings") => assert!(value.is_array(), "{name}"),
                Some("object") => assert!(value.is_object(), "{name}"),
                Some("timestamp") => assert!(
                    value
                        .as_str()
                        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
                ),
                _ => assert!(value.is_string(), "{name}"),
            }
        }
    }
    let steps: Vec<Value> = serde_json::from_slice(
        &sb.run(&["events", "list", "--category", "step", "--json"])
            .stdout,
    )
    .expect("json");
    assert_eq!(steps.len(), 8);
    let found: Vec<Value> = serde_json::from_slice(
        &sb.run(&["events", "list", "--search", "backoff", "--json"])
            .stdout,
    )
    .expect("json");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "observability.step.backoff");
    let table = stdout(&sb.run(&["events", "list"]));
    assert!(table.contains("step.before_handle") && table.contains("workflow.no_viable_steps"));
    assert_eq!(
        sb.run(&["events", "list", "--category", "nope"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(sb.run(&["events", "log", "3"]).status.code(), Some(4));
}

#[test]
fn events_log_follows_a_running_task() {
    let sb = Sandbox::new();
    sb.write("t.yml", "name: t\nsteps:\n  - { name: a, command: 'while [ ! -f open ]; do sleep 0.05; done' }\n  - { name: b, command: 'true', depends_on: [a] }\n");
    let run = sb.spawn(&["run", "t.yml"]);
    assert!(eventually(20, || sb.db().exists()
        && sb
            .sqlite()
            .query_row(
                "SELECT COUNT(*) FROM step_attempts WHERE handle_seq IS NOT NULL",
                [],
                |r| r.get::<_, i64>(0)
            )
            .is_ok_and(|n| n == 1)));
    let mut follower = sb.spawn_logged("follow", &["events", "log", "1", "--follow"]);
    // It follows: what happened so far is printed before the step is let go.
    assert!(eventually(20, || sb.holds("follow.out", "step.before_handle")));
    std::fs::write(sb.path().join("open"), "").expect("open");
    assert_eq!(follower.wait().expect("wait").code(), Some(0));
    let text = std::fs::read_to_string(sb.path().join("follow.out")).expect("follow output");
    assert!(text.contains("step.before_handle  a #1"), "{text}");
    assert!(
        text.contains("step.completed  b #1  in_progress → complete"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("workflow.task_finalization_completed"),
        "{text}"
    );
    assert_eq!(run.wait_with_output().expect("run").status.code(), Some(0));
}

#[test]
fn hooks_run_with_the_event_on_stdin_and_never_change_the_outcome() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "\
name: hooked
on:
  task.completed: ['cat > completed.json']
  step.*: ['cat >> steps.jsonl; echo >> steps.jsonl', [sh, -c, 'echo $TASKER_EVENT_NAME >> names']]
  step.failed: ['exit 9']
  step.completed: ['sleep 30']
steps:
  - { name: a, command: 'true' }
  - { name: b, command: 'exit 1', retry: 2, depends_on: [a] }
  - { name: c, command: 'true' }
",
    );
    sb.write("tasker.toml", "hook_timeout = \"300ms\"\n[on]\n\"task.*\" = [\"echo $TASKER_TASK_ID $TASKER_EVENT_NAME >> config_hook\"]\n");
    let started = std::time::Instant::now();
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the task's own outcome: {}",
        stderr(&out)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "hooks are bounded by their timeout"
    );
    let err = stderr(&out);
    assert!(err.contains("hook failed"), "{err}");
    assert!(
        err.contains("hook timed out after 300ms and was killed"),
        "{err}"
    );
    let steps: Vec<Value> = std::fs::read_to_string(sb.path().join("steps.jsonl"))
        .unwrap_or_else(|e| panic!("steps.jsonl: {e}\n{err}"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(
        steps
            .iter()
            .all(|e| e["name"].as_str().is_some_and(|n| n.starts_with("step.")))
    );
    assert!(
        steps
            .iter()
            .any(|e| e["name"] == "step.failed" && e["step_name"] == "b")
    );
    let names = sb.lines("names");
    assert_eq!(names.len(), steps.len(), "every step event, once per hook");
    assert!(
        !sb.path().join("completed.json").exists(),
        "the task failed: no task.completed"
    );
    let config = sb.lines("config_hook");
    assert!(
        config.contains(&"1 task.start_requested".to_owned()),
        "{config:?}"
    );
    assert!(config.contains(&"1 task.failed".to_owned()), "{config:?}");
}

#[test]
fn hooks_are_checked_with_the_template() {
    let sb = Sandbox::new();
    sb.write("t.yml", "name: t\non:\n  task.faild: ['true']\n  order.shipped: ['true']\nsteps:\n  - { name: a, command: 'true' }\n");
    let out = sb.run(&["validate", "t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("unknown event `task.faild`\n  hint: did you mean `task.failed`?"),
        "{err}"
    );
    assert!(err.contains("unknown event `order.shipped`"), "{err}");
}

#[test]
fn the_summary_at_exit() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: sum\nsteps:\n  - { name: a, command: 'sleep 0.2' }\n  - { name: b, command: 'true' }\n  - { name: c, command: 'sleep 0.1', depends_on: [a, b] }\n  - name: d\n    retry: { limit: 2, backoff: { base: 10ms } }\n    command: '[ $TASKER_ATTEMPT = 2 ]'\n",
    );
    let out = sb.run(&["run", "t.yml", "-j", "4", "--summary-json", "summary.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("task 1 complete in"), "{err}");
    assert!(err.contains("steps      4 complete (of 4)"), "{err}");
    assert!(err.contains("attempts   5 (1 retry); flaky: d"), "{err}");
    assert!(err.contains("critical   a → c (2 steps,"), "{err}");
    let s: Value = serde_json::from_str(
        &std::fs::read_to_string(sb.path().join("summary.json")).expect("summary"),
    )
    .expect("json");
    assert_eq!(s["outcome"], "complete");
    assert_eq!(s["attempts"], 5);
    assert_eq!(s["retries"], 1);
    assert_eq!(s["flaky_steps"], serde_json::json!(["d"]));
    assert_eq!(s["critical_path"], serde_json::json!(["a", "c"]));
    assert!(s["critical_path_ms"].as_u64().is_some_and(|ms| ms >= 300));
    assert_eq!(s["slowest_steps"][0]["name"], "a");
    assert!(
        s["parallelism"].as_u64().is_some_and(|p| p >= 3),
        "a, b and d ran together: {s}"
    );
    assert!(
        s["step_duration_ms"]["max"]
            .as_u64()
            .is_some_and(|m| m >= 200)
    );
    for k in ["p50", "p95", "p99", "max"] {
        assert!(s["queue_wait_ms"][k].is_u64());
    }
    assert!(s["wall_ms"].as_u64().is_some_and(|w| w >= 300));
    // tasker's own CPU, its steps' not counted: a few milliseconds, far below the wall time.
    let cpu = s["engine"]["cpu_ms"].as_u64().expect("engine.cpu_ms");
    assert!(cpu < s["wall_ms"].as_u64().unwrap_or(0), "{s}");

    let quiet = sb.run(&["-q", "run", "t.yml"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(stderr(&quiet), "", "--quiet prints nothing but errors");
    let bad = sb.run(&["run", "t.yml", "--summary-json", "no/such/dir/s.json"]);
    assert_eq!(
        bad.status.code(),
        Some(7),
        "a file that cannot be made is an I/O failure"
    );
    assert_eq!(stdout(&bad), "", "refused before a task was created");
}

#[test]
fn plain_lines_off_a_terminal_and_a_live_bar_on_one() {
    let sb = Sandbox::new();
    sb.write("t.yml", "name: t\nsteps:\n  - { name: a, command: 'sleep 0.3' }\n  - name: b\n    retry: { limit: 2, backoff: { base: 10ms } }\n    command: '[ $TASKER_ATTEMPT = 2 ]'\n");
    let out = sb.run(&["run", "t.yml"]);
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("fail   b attempt 1"))
        .expect("a failure line");
    assert!(
        line.chars().nth(2) == Some(':') && line.chars().nth(8) == Some('.'),
        "timestamped: {line}"
    );
    assert!(!err.contains('\r'), "no terminal redraws off a terminal");

    // Under a pseudo-terminal: the bar draws and redraws with carriage returns.
    let bin = assert_cmd::cargo::cargo_bin("tasker");
    let cmd = format!("{} run t.yml", bin.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(sb.path())
        .env("TASKER_DB", sb.db())
        .env("XDG_CONFIG_HOME", sb.path().join(".config"))
        .env("TERM", "xterm")
        .output()
        .expect("script");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        raw.contains('\r') || raw.contains("\u{1b}["),
        "a live display: {raw:?}"
    );
    let screen = strip_ansi(&raw);
    assert!(screen.contains("steps"), "{screen}");
    assert!(
        screen.contains("b attempt 1: exit_code"),
        "failures are printed above the bar: {screen}"
    );
    assert!(screen.contains("task 2 complete"), "{screen}");
}

/// Ctrl-C under a terminal: the bar goes at once, so what the stop prints is not left below
/// a frozen bar; the retry counter moves with the `retry` line.
#[test]
fn ctrl_c_clears_the_live_bar_before_it_speaks() {
    if crate::support::tool("script").is_none() {
        return;
    }
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - name: flaky\n    retry: { limit: 3, backoff: { base: 10ms } }\n    command: '[ $TASKER_ATTEMPT = 2 ]'\n  - { name: slow, command: 'echo $PPID > runner; sleep 30', depends_on: [flaky] }\n",
    );
    let bin = assert_cmd::cargo::cargo_bin("tasker");
    let child = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{} run t.yml --kill-grace 1s", bin.display()),
            "/dev/null",
        ])
        .current_dir(sb.path())
        .env("TASKER_DB", sb.db())
        .env("XDG_CONFIG_HOME", sb.path().join(".config"))
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script");
    let runner = sb.path().join("runner");
    assert!(crate::support::eventually(20, || std::fs::read_to_string(
        &runner
    )
    .is_ok_and(|s| s.ends_with('\n'))));
    // The bar was redrawn (with the retry counted) as `slow` started, before it wrote its
    // runner's pid.
    let pid: u32 = std::fs::read_to_string(&runner)
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    crate::support::signal(pid, "-INT");
    let out = child.wait_with_output().expect("script");
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let screen = strip_ansi(&raw);
    let stop = screen
        .find("stopping: 1 step running; again to kill at once")
        .unwrap_or_else(|| panic!("the stop is said: {screen}"));
    assert!(
        !screen[stop..].contains("/2 steps"),
        "no bar is drawn after the stop: {:?}",
        &screen[stop..]
    );
    assert!(screen[stop..].contains("interrupted"), "{screen}");
    // The counter says 1 retry from the `retry` line on.
    let retry_line = screen.find("retry  flaky in").expect("a retry line");
    assert!(screen[retry_line..].contains("retries: 1"), "{screen}");
}

/// Text without ANSI escape sequences.
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[test]
fn json_logs_carry_the_task_id() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["-v", "--log-format", "json", "run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0));
    let logs: Vec<Value> = stderr(&out)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    assert!(logs.len() >= 2, "{}", stderr(&out));
    for l in &logs {
        assert_eq!(l["fields"]["task_id"], 1, "{l}");
    }
    let text = sb.run(&["-v", "run", "t.yml"]);
    assert!(
        stderr(&text).contains("claimed the task task_id=2"),
        "{}",
        stderr(&text)
    );
}

/// Hooks that never end: the exit waits for them once (the hook timeout), a signal cuts that wait short with its exit code, and a runner killed with
/// SIGKILL takes its hooks with it — what they started is stopped by the next runner.
#[test]
fn hooks_never_hold_the_exit() {
    use crate::support::{processes_with_env, signal};
    use std::time::{Duration, Instant};
    let sb = Sandbox::new();
    // `true` after the sleep keeps `sh` from exec'ing it: the sleep is the hook's child.
    sb.write(
        "t.yml",
        "name: hooky\non: { \"*\": [\"echo $$ >> hook-pids; sleep 100; true\"] }\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let mark = |run: &str| format!("HOOK_TEST={}-{run}", std::process::id());
    let hooks_of = |run: &str| processes_with_env(&mark(run));

    sb.write(".config/tasker/config.toml", "hook_timeout = \"1s\"\n");
    let started = Instant::now();
    let out = sb
        .cmd()
        .env("HOOK_TEST", format!("{}-timeout", std::process::id()))
        .args(["run", "t.yml"])
        .output()
        .expect("run");
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        took < Duration::from_secs(8),
        "one deadline at exit, not one a hook: {took:?}"
    );
    // One hook: its events one at a time, the rest never run once the deadline comes. The
    // running hook is stopped by the exit's deadline — or, the two 1 s deadlines racing, by
    // its own timeout a moment before.
    assert!(
        err.contains("hooks at exit: 1 stopped, ")
            || (err.contains("hooks at exit: 0 stopped, ") && err.contains("hook timed out")),
        "{err}"
    );
    assert!(err.contains("never run"), "{err}");
    assert!(
        eventually(5, || hooks_of("timeout").is_empty()),
        "hooks left running: {:?}",
        hooks_of("timeout")
    );
    std::fs::remove_file(sb.path().join(".config/tasker/config.toml")).expect("rm");

    // The default deadline is 10 s; SIGINT and SIGTERM end the wait at once.
    for (sig, code) in [("-INT", 130), ("-TERM", 143)] {
        let run = &sig[1..];
        let _ = std::fs::remove_file(sb.path().join("hook-pids"));
        let mut child = sb
            .cmd_std()
            .env("HOOK_TEST", format!("{}-{run}", std::process::id()))
            .args(["run", "t.yml"])
            .spawn()
            .expect("spawn");
        assert!(eventually(10, || !sb.lines("hook-pids").is_empty()));
        let sent = Instant::now();
        signal(child.id(), sig);
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(code), "{sig}: {status:?}");
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "{:?}",
            sent.elapsed()
        );
        assert!(
            eventually(5, || hooks_of(run).is_empty()),
            "{sig}: hooks left running: {:?}",
            hooks_of(run)
        );
    }

    // SIGKILL: the hooks' shells die with the runner; what they started is stopped by the
    // next runner, which finds the dead runner's mark.
    let _ = std::fs::remove_file(sb.path().join("hook-pids"));
    let mut child = sb
        .cmd_std()
        .env("HOOK_TEST", format!("{}-KILL", std::process::id()))
        .args(["run", "t.yml"])
        .spawn()
        .expect("spawn");
    // The hooks' sleeps have started (their shells wrote their pids first).
    assert!(eventually(10, || !sb.lines("hook-pids").is_empty()
        && !hooks_of("KILL").is_empty()));
    signal(child.id(), "-KILL");
    let _ = child.wait();
    let shells: Vec<i32> = sb
        .lines("hook-pids")
        .iter()
        .filter_map(|l| l.parse().ok())
        .collect();
    assert!(
        eventually(5, || shells.iter().all(|p| !crate::support::alive(*p))),
        "the hooks' shells outlived the runner"
    );
    assert!(!hooks_of("KILL").is_empty(), "the hooks' sleeps are left");
    sb.write(
        "plain.yml",
        "name: plain\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["run", "plain.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        eventually(5, || hooks_of("KILL").is_empty()),
        "the next run did not stop them: {:?}",
        hooks_of("KILL")
    );
}

/// A hook that never reads its stdin, handed a 1 MiB event, is killed at its timeout like
/// any other, and the events after it still reach it.
#[test]
fn a_hook_that_ignores_a_big_event_is_killed_at_its_timeout() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        // The step outlasts the stuck hook's timeout, so the events queued behind it run
        // before the exit's own deadline.
        "name: big\non:\n  '*': ['if [ \"$TASKER_EVENT_NAME\" = task.initialize_requested ]; then sleep 60; else echo $TASKER_EVENT_NAME >> seen; fi']\nsteps:\n  - { name: a, command: 'sleep 2' }\n",
    );
    sb.write("tasker.toml", "hook_timeout = \"1s\"\n");
    let big = format!("{{\"blob\": \"{}\"}}", "x".repeat(1024 * 1024));
    sb.write("context.json", &big);
    let started = std::time::Instant::now();
    let out = sb.run(&["run", "t.yml", "--context", "@context.json"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hook timed out after 1.0s and was killed"),
        "{}",
        stderr(&out)
    );
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    let seen = sb.lines("seen");
    assert!(
        seen.iter().any(|l| l == "task.completed"),
        "the later events reached the hook: {seen:?}"
    );
}

/// A step that runs once costs three rows (two transitions and its attempt): its events —
/// its start with the discovery before it, its handler's call, its end — are kept on those
/// rows, and the log's own rows hold the task's events only, however many steps run. The
/// log reads back exactly as the run told it, chained, wide and with noops between.
#[test]
fn a_step_costs_three_rows_and_its_events_read_back_as_told() {
    let sb = Sandbox::new();
    let chain: String = (0..40)
        .map(|i| match i {
            0 => "  - { name: s0, command: 'true' }\n".to_owned(),
            _ => format!(
                "  - {{ name: s{i}, command: 'true', depends_on: [s{}] }}\n",
                i - 1
            ),
        })
        .collect();
    let mut wide: String = (0..40)
        .map(|i| format!("  - {{ name: w{i}, command: 'echo {{\"n\": {i}}}' }}\n"))
        .collect();
    wide.push_str("  - { name: join, noop: true, depends_on: [w0, w39] }\n");
    wide.push_str("  - { name: last, command: 'true', depends_on: [join] }\n");
    sb.write("chain.yml", &format!("name: chain\nsteps:\n{chain}"));
    sb.write("wide.yml", &format!("name: wide\nsteps:\n{wide}"));
    for (id, file, jobs, steps) in [
        (1, "chain.yml", "4", 40),
        (2, "wide.yml", "4", 42),
        (3, "wide.yml", "1", 42),
    ] {
        let out_file = format!("events-{id}.jsonl");
        let out = sb.run(&["run", file, "-j", jobs, "--events-out", &out_file]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let told = events(&sb.path().join(&out_file));
        let log: Vec<Value> = stdout(&sb.run(&["events", "log", &id.to_string(), "--json"]))
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(log, told, "task {id}");
        let count = |what: &str| -> i64 {
            let conn = sb.sqlite();
            conn.query_row(what, [id], |r| r.get(0)).expect(what)
        };
        let step_rows = count(
            "SELECT (SELECT COUNT(*) FROM workflow_step_transitions t JOIN workflow_steps s USING (workflow_step_id) WHERE s.task_id = ?1)
                  + (SELECT COUNT(*) FROM step_attempts a JOIN workflow_steps s USING (workflow_step_id) WHERE s.task_id = ?1)",
        );
        assert_eq!(
            step_rows,
            3 * steps,
            "task {id}: two transitions and an attempt a step"
        );
        // The task's creation (2), its start (1) and its end (1): none of the steps'.
        let pages = count("SELECT COUNT(*) FROM events WHERE task_id = ?1");
        assert!(pages <= 4, "task {id}: {pages} rows of the log");
        let names: Vec<&str> = told
            .iter()
            .map(|e| e["name"].as_str().unwrap_or(""))
            .collect();
        for kind in [
            "step.execution_requested",
            "step.before_handle",
            "step.completed",
        ] {
            assert_eq!(
                names.iter().filter(|n| **n == kind).count() as i64,
                steps,
                "task {id}: {kind}"
            );
        }
    }
}

/// The JSON shape of every kind of event — its name, its keys in order, each value's type —
/// as the run, `retry`, `resolve`, `resume`, `cancel` and task creation record them, pinned
/// in a snapshot: the event log users read does not change shape unnoticed.
fn every_event_shape_is_pinned(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let ok = |out: &std::process::Output, code: i32| {
        assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
    };
    // 1: a permanent failure blocks its dependent; retried by an operator; resolved.
    sb.write(
        "blocked.yml",
        "name: blocked\nsteps:\n  - { name: a, command: 'exit 127' }\n  - { name: b, command: 'true', depends_on: [a] }\n",
    );
    ok(&sb.run(&["run", "blocked.yml"]), 1);
    ok(&sb.run(&["retry", "1"]), 1);
    ok(&sb.run(&["resolve", "1", "--reason", "fixed by hand"]), 0);
    // 2: a flaky step alone (so the run waits for its retry), with a custom event; a noop;
    // a bypassed step.
    sb.write(
        "flaky.yml",
        "name: flaky\ncustom_events: [order.charged]\nsteps:\n  - name: f\n    retry: { limit: 3, backoff: { base: 10ms } }\n    command: |\n      echo '{\"name\": \"order.charged\", \"payload\": {\"n\": 1}}' >> $TASKER_EVENTS\n      [ $TASKER_ATTEMPT -ge 2 ]\n  - { name: n, noop: true, depends_on: [f] }\n  - { name: s, command: 'exit 1', skippable: true }\n",
    );
    ok(&sb.run(&["run", "flaky.yml", "--bypass-steps", "s"]), 0);
    // 3: a timeout that uses up the retries; the step resolved and the task resumed.
    sb.write(
        "slow.yml",
        "name: slow\nsteps:\n  - { name: slow, command: 'sleep 5', timeout: 100ms, retry: { limit: 1 } }\n",
    );
    ok(&sb.run(&["run", "slow.yml", "--kill-grace", "100ms"]), 1);
    ok(
        &sb.run(&[
            "resolve",
            "3",
            "--step",
            "slow",
            "--reason",
            "done elsewhere",
        ]),
        0,
    );
    ok(&sb.run(&["resume", "3"]), 0);
    // 4, 5, 6: a step that runs until stopped: cancelled while it runs; interrupted and
    // then cancelled; its runner killed and the task resumed by another.
    sb.write(
        "long.yml",
        "name: long\nsteps:\n  - name: l\n    command: |\n      [ -e resumed ] && exit 0\n      touch started-$TASKER_TASK_ID\n      sleep 30\n",
    );
    let started = |id: i64| {
        let path = sb.path().join(format!("started-{id}"));
        assert!(eventually(20, || path.exists()), "task {id} did not start");
    };
    let mut runner = sb.spawn(&["run", "long.yml"]);
    started(4);
    ok(&sb.run(&["cancel", "4", "--reason", "not needed"]), 0);
    runner.wait().expect("runner");
    let mut runner = sb.spawn(&["run", "long.yml", "--kill-grace", "100ms"]);
    started(5);
    crate::support::signal(runner.id(), "-INT");
    runner.wait().expect("runner");
    ok(&sb.run(&["cancel", "5", "--reason", "given up"]), 0);
    let mut runner = sb.spawn(&["run", "long.yml"]);
    started(6);
    crate::support::signal(runner.id(), "-KILL");
    runner.wait().expect("runner");
    sb.write("resumed", "");
    ok(&sb.run(&["resume", "6"]), 0);

    let mut shapes = std::collections::BTreeSet::new();
    for id in 1..=6 {
        let log = stdout(&sb.run(&["events", "log", &id.to_string(), "--json"]));
        for line in log.lines() {
            let doc: Value = serde_json::from_str(line).expect("json");
            let Value::Object(map) = &doc else {
                panic!("not an object: {line}")
            };
            let keys: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let ty = match v {
                        Value::Null => "null",
                        Value::Bool(_) => "bool",
                        Value::Number(_) => "number",
                        Value::String(_) => "string",
                        Value::Array(_) => "array",
                        Value::Object(_) => "object",
                    };
                    format!("{k}: {ty}")
                })
                .collect();
            shapes.insert(format!(
                "{} {{ {} }}",
                map["name"].as_str().unwrap_or("?"),
                keys.join(", ")
            ));
        }
    }
    let text = shapes.into_iter().collect::<Vec<_>>().join("\n");
    match backend {
        Backend::Sqlite => insta::assert_snapshot!("every_event_shape_is_pinned", text),
        // The same snapshot: the shapes do not depend on the store.
        Backend::Postgres(_) => {
            let snap = include_str!("snapshots/it__events__every_event_shape_is_pinned.snap");
            let expected = snap.splitn(3, "---\n").nth(2).expect("a snapshot body");
            assert_eq!(text, expected.trim_end());
        }
    }
}

on_both_stores!(each_event_once_in_order, every_event_shape_is_pinned,);
