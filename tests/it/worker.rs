//! `tasker worker` on a real PostgreSQL: submitted tasks run by several workers, a killed
//! worker's steps taken back and run again, cancel from another CLI, shared-store checks.

use crate::support::{Backend, Sandbox, alive, eventually, signal, stderr, stdout};

/// A sandbox on a fresh PostgreSQL database, or `None` (and a note) without PostgreSQL.
fn on_postgres() -> Option<Sandbox> {
    Backend::postgres().map(|b| Sandbox::on(&b))
}

/// `tasker worker ARGS` in the background, its output in `NAME.out` / `NAME.err`.
fn worker(sb: &Sandbox, name: &str, args: &[&str]) -> std::process::Child {
    sb.spawn_logged(name, &[&["worker", "--id", name][..], args].concat())
}

/// The workers named in the claims of a task's steps (the transitions' metadata).
fn claimers(sb: &Sandbox) -> std::collections::BTreeSet<String> {
    sb.query("SELECT metadata FROM workflow_step_transitions WHERE to_state = 'in_progress'")
        .into_iter()
        .filter_map(|r| r[0].clone())
        .filter_map(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
        .filter_map(|m| m["worker"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn submitted_tasks_are_run_by_workers_sharing_the_store() {
    let Some(sb) = on_postgres() else {
        return;
    };
    let mut yaml = String::from("name: fan\nsteps:\n  - { name: first, command: 'true' }\n");
    for i in 0..8 {
        yaml.push_str(&format!(
            "  - {{ name: s{i}, command: 'sleep 0.3; echo s{i} >> done', depends_on: [first] }}\n"
        ));
    }
    yaml.push_str("  - { name: last, command: 'echo last >> done', depends_on: [s0, s1, s2, s3, s4, s5, s6, s7] }\n");
    sb.write("t.yml", &yaml);
    let out = sb.run(&["run", "t.yml", "--submit"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "task 1\n");
    let doc = sb.status(1);
    assert_eq!(
        doc["status"], "in_progress",
        "submitted: started, for workers"
    );
    let out = sb.run(&["status", "1"]);
    assert!(
        stdout(&out).contains("(run by workers)"),
        "{}",
        stdout(&out)
    );

    let mut a = worker(&sb, "wa", &["-j", "4"]);
    let mut b = worker(&sb, "wb", &["-j", "4"]);
    let out = sb.run(&["wait", "1", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("task 1 complete (10 of 10 steps done)"),
        "{}",
        stderr(&out)
    );
    let lines = sb.lines("done");
    assert_eq!(
        lines.len(),
        9,
        "each step ran once: {lines:?}\n{:?}\n{:?}",
        sb.query("SELECT s.name, x.from_state, x.to_state, x.metadata, x.created_at FROM workflow_step_transitions x JOIN workflow_steps s USING (workflow_step_id) ORDER BY x.created_at"),
        sb.lines("wa.err")
    );
    assert_eq!(lines.last().map(String::as_str), Some("last"));
    assert_eq!(
        claimers(&sb).into_iter().collect::<Vec<_>>(),
        ["wa", "wb"],
        "both workers took steps"
    );
    // Every step: one attempt, complete.
    let attempts = sb
        .query("SELECT COUNT(*), COUNT(*) FILTER (WHERE outcome = 'complete') FROM step_attempts");
    assert_eq!(attempts[0], [Some("10".into()), Some("10".into())]);
    let events = stdout(&sb.run(&["events", "log", "1", "--json"]));
    let names: Vec<String> = events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|e| e["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    let count = |n: &str| names.iter().filter(|x| *x == n).count();
    assert_eq!(count("step.completed"), 10);
    assert_eq!(count("step.execution_requested"), 10);
    assert_eq!(count("task.completed"), 1, "the task ended once: {names:?}");
    assert_eq!(
        names.last().map(String::as_str),
        Some("workflow.task_finalization_completed")
    );
    // SIGTERM drains: each worker exits 0.
    for (w, name) in [(&mut a, "wa"), (&mut b, "wb")] {
        signal(w.id(), "-TERM");
        let status = w.wait().expect("worker");
        assert_eq!(
            status.code(),
            Some(0),
            "{name}: {:?}",
            sb.lines(&format!("{name}.err"))
        );
    }
    assert_eq!(
        sb.value("SELECT COUNT(*) FROM workers").as_deref(),
        Some("0"),
        "they left"
    );
}

#[test]
fn a_killed_workers_steps_are_taken_back_and_run_again() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: gate\nsteps:\n  - { name: a, command: 'true' }\n  - name: gate\n    depends_on: [a]\n    command: |\n      echo $$ > pid-$TASKER_ATTEMPT\n      while [ ! -f open ]; do sleep 0.05; done\n  - { name: c, command: 'true', depends_on: [gate] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
    let mut first = worker(&sb, "w1", &["--grace", "1s"]);
    let pid_file = sb.path().join("pid-1");
    assert!(
        eventually(20, || pid_file.exists()),
        "the gate never started"
    );
    let step: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    // The worker and the process group of its step, killed.
    signal(first.id(), "-KILL");
    let _ = first.wait();
    signal(step as u32, "-KILL");
    assert!(eventually(5, || !alive(step)));
    std::fs::write(sb.path().join("open"), "").expect("open");
    // Another worker takes the step back after the grace period and runs it again.
    let mut second = worker(&sb, "w2", &["--grace", "1s"]);
    let out = sb.run(&["wait", "1", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(1);
    assert_eq!(doc["status"], "complete");
    let classes = sb.query(
        "SELECT a.attempt, a.outcome, a.error_class FROM step_attempts a
           JOIN workflow_steps s USING (workflow_step_id) WHERE s.name = 'gate' ORDER BY a.attempt",
    );
    assert_eq!(
        classes,
        [
            vec![
                Some("1".into()),
                Some("error".into()),
                Some("interrupted".into())
            ],
            vec![Some("2".into()), Some("complete".into()), None],
        ]
    );
    assert_eq!(
        Sandbox::step(&doc, "gate")["attempts"],
        1,
        "the interrupted attempt is not shown"
    );
    assert_eq!(
        Sandbox::step(&doc, "a")["attempts"],
        1,
        "a did not run again"
    );
    let events = stdout(&sb.run(&["events", "log", "1"]));
    assert!(
        events.contains("observability.task.orphan_recovered"),
        "{events}"
    );
    signal(second.id(), "-TERM");
    assert_eq!(second.wait().expect("worker").code(), Some(0));
}

#[test]
fn cancel_from_another_cli_stops_the_steps_workers_run() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: long\nsteps:\n  - name: l\n    command: 'echo $$ > pid; sleep 60'\n  - { name: after, command: 'true', depends_on: [l] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
    let mut w = worker(&sb, "w", &["--kill-grace", "200ms"]);
    let pid_file = sb.path().join("pid");
    assert!(
        eventually(20, || pid_file.exists()),
        "the step never started"
    );
    let step: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    let started = std::time::Instant::now();
    let out = sb.run(&["cancel", "1", "--reason", "not needed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(eventually(5, || !alive(step)), "the step still runs");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "stopped in {:?}",
        started.elapsed()
    );
    assert_eq!(sb.status(1)["status"], "cancelled");
    assert!(alive(w.id() as i32), "the worker goes on");
    signal(w.id(), "-TERM");
    assert_eq!(w.wait().expect("worker").code(), Some(0));
}

#[test]
fn workers_need_a_shared_store() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["worker", "--once"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("workers need a store they can share"),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["run", "t.yml", "--submit"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!sb.db().exists(), "nothing was created");
}

#[test]
fn racing_submits_with_one_idempotency_key_create_one_task() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    assert_eq!(sb.run(&["db", "migrate"]).status.code(), Some(0));
    let runs: Vec<_> = (0..4)
        .map(|_| sb.spawn(&["run", "t.yml", "--submit", "--idempotency-key", "order-7"]))
        .collect();
    let outs: Vec<_> = runs
        .into_iter()
        .map(|c| c.wait_with_output().expect("run"))
        .collect();
    let ids: std::collections::BTreeSet<String> = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "one task: {ids:?}");
    assert_eq!(sb.value("SELECT COUNT(*) FROM tasks").as_deref(), Some("1"));
}
