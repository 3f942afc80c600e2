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

/// The pid a step wrote to the sandbox's file `name` once it started (`why` when it never
/// does).
fn started_step(sb: &Sandbox, name: &str, why: &str) -> i32 {
    let file = sb.path().join(name);
    // The shell makes the file before it writes the pid into it.
    let written = || std::fs::read_to_string(&file).is_ok_and(|t| t.ends_with('\n'));
    assert!(eventually(20, written), "{why}");
    std::fs::read_to_string(&file)
        .expect("pid")
        .trim()
        .parse()
        .expect("pid")
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
    // Steps claimed together are announced together, each step once.
    let announced: usize = events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["name"] == "workflow.viable_steps_discovered")
        .map(|e| e["count"].as_u64().unwrap_or(0) as usize)
        .sum();
    assert_eq!(announced, 10, "{names:?}");
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
    let step = started_step(&sb, "pid-1", "the gate never started");
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
        "name: long\nsteps:\n  - { name: l1, command: 'echo $$ > pid1; sleep 60' }\n  - { name: l2, command: 'echo $$ > pid2; sleep 60' }\n  - { name: after, command: 'true', depends_on: [l1, l2] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
    // One step on each worker.
    let mut a = worker(&sb, "wa", &["-j", "1", "--kill-grace", "200ms"]);
    let mut b = worker(&sb, "wb", &["-j", "1", "--kill-grace", "200ms"]);
    let steps = [
        started_step(&sb, "pid1", "l1 never started"),
        started_step(&sb, "pid2", "l2 never started"),
    ];
    assert_eq!(claimers(&sb).len(), 2, "each worker runs one");
    let started = std::time::Instant::now();
    let out = sb.run(&["cancel", "1", "--reason", "not needed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        eventually(5, || steps.iter().all(|&p| !alive(p))),
        "a step still runs"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "stopped in {:?}",
        started.elapsed()
    );
    assert_eq!(sb.status(1)["status"], "cancelled");
    for (w, name) in [(&mut a, "wa"), (&mut b, "wb")] {
        assert!(alive(w.id() as i32), "{name} goes on");
        signal(w.id(), "-TERM");
        assert_eq!(w.wait().expect("worker").code(), Some(0), "{name}");
    }
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

/// The parent pid of `pid` (from `/proc/PID/stat`).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`: the comm may hold spaces, so read after its `)`.
    stat[stat.rfind(')')? + 2..].split(' ').nth(1)?.parse().ok()
}

/// Three workers on a 300-step graph (ten pipelines: a root, a fan-out of eight, a join and
/// a chain of twenty; steps of 20–200 ms that log their start and end); one worker is
/// killed with its steps' process groups while it holds running steps. The task completes;
/// every step has exactly one successful attempt; the killed worker's attempts end
/// `interrupted` and run once more elsewhere; no step started before its parents ended.
#[test]
fn three_workers_one_killed() {
    let Some(sb) = on_postgres() else {
        return;
    };
    let mut yaml = String::from("name: mesh\nsteps:\n");
    let step = |yaml: &mut String, name: &str, parents: &[String], n: usize| {
        let ms = 20 + (n * 37) % 181;
        let deps = if parents.is_empty() {
            String::new()
        } else {
            format!(", depends_on: [{}]", parents.join(", "))
        };
        yaml.push_str(&format!(
            "  - {{ name: {name}, command: 'echo start {name} $(date +%s%N) >> log; sleep 0.{ms:03}; echo end {name} $(date +%s%N) >> log'{deps} }}\n"
        ));
    };
    let mut parents_of: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut n = 0;
    for p in 0..10 {
        let root = format!("p{p}_root");
        step(&mut yaml, &root, &[], n);
        n += 1;
        let fan: Vec<String> = (0..8).map(|f| format!("p{p}_f{f}")).collect();
        for f in &fan {
            step(&mut yaml, f, std::slice::from_ref(&root), n);
            parents_of.insert(f.clone(), vec![root.clone()]);
            n += 1;
        }
        let join = format!("p{p}_join");
        step(&mut yaml, &join, &fan, n);
        parents_of.insert(join.clone(), fan.clone());
        n += 1;
        let mut prev = join;
        for c in 0..20 {
            let name = format!("p{p}_c{c}");
            step(&mut yaml, &name, std::slice::from_ref(&prev), n);
            parents_of.insert(name.clone(), vec![prev.clone()]);
            prev = name;
            n += 1;
        }
    }
    assert_eq!(n, 300);
    sb.write("t.yml", &yaml);
    assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
    let uuid = sb
        .value("SELECT uuid FROM tasks WHERE task_id = 1")
        .expect("uuid");
    let mut workers: Vec<_> = ["w1", "w2", "w3"]
        .iter()
        .map(|w| worker(&sb, w, &["-j", "4", "--grace", "2s", "-q"]))
        .collect();
    // Once w2 holds running steps, it and its steps' processes die at once.
    assert!(
        eventually(30, || {
            sb
            .value("SELECT COUNT(*) FROM workflow_steps WHERE claimed_by = 'w2' AND status = 'in_progress'")
            .is_some_and(|c| c != "0")
        }),
        "w2 never held a step"
    );
    let w2 = workers[1].id() as i32;
    let mark = format!("TASKER_TASK_UUID={uuid}");
    let marked = |p: i32| {
        std::fs::read(format!("/proc/{p}/environ"))
            .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == mark.as_bytes()))
    };
    // w2's steps and what they started: the task's marked processes below w2.
    let all = crate::support::processes_with_env(&mark);
    let mut steps_of_w2: Vec<i32> = all
        .iter()
        .copied()
        .filter(|&p| parent_of(p) == Some(w2))
        .collect();
    let below: Vec<i32> = all
        .iter()
        .copied()
        .filter(|&p| parent_of(p).is_some_and(|pp| steps_of_w2.contains(&pp)))
        .collect();
    steps_of_w2.extend(below);
    signal(w2 as u32, "-KILL");
    let _ = workers[1].wait();
    // Each by its pid, and only while it still carries this task's mark: a process that
    // ended meanwhile may have had its pid given to another (pid_max is small here).
    for &p in &steps_of_w2 {
        if marked(p) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &p.to_string()])
                .status();
        }
    }
    assert!(
        eventually(5, || steps_of_w2.iter().all(|&p| !alive(p) || !marked(p))),
        "w2's steps still run: {steps_of_w2:?}"
    );

    let out = sb.run(&["wait", "1", "--timeout", "120s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Exactly one successful attempt a step.
    let wrong = sb.query(
        "SELECT s.name, COUNT(a.*) FILTER (WHERE a.outcome = 'complete') FROM workflow_steps s
           LEFT JOIN step_attempts a USING (workflow_step_id)
          GROUP BY s.name HAVING COUNT(a.*) FILTER (WHERE a.outcome = 'complete') <> 1",
    );
    assert!(wrong.is_empty(), "{wrong:?}");
    // The killed worker's attempts ended interrupted, and ran once more after them.
    let interrupted = sb.query(
        "SELECT s.name, a.attempt FROM step_attempts a JOIN workflow_steps s USING (workflow_step_id)
          WHERE a.error_class = 'interrupted'",
    );
    assert!(!interrupted.is_empty(), "w2's attempts were taken back");
    for row in &interrupted {
        let (name, attempt) = (
            row[0].clone().unwrap_or_default(),
            row[1].clone().unwrap_or_default(),
        );
        let next = sb.value(&format!(
            "SELECT a.outcome FROM step_attempts a JOIN workflow_steps s USING (workflow_step_id)
              WHERE s.name = '{name}' AND a.attempt = {attempt} + 1"
        ));
        assert_eq!(
            next.as_deref(),
            Some("complete"),
            "{name} after attempt {attempt}"
        );
    }
    let failed_otherwise = sb.value(
        "SELECT COUNT(*) FROM step_attempts WHERE outcome = 'error' AND error_class <> 'interrupted'",
    );
    assert_eq!(failed_otherwise.as_deref(), Some("0"));
    // No step started (the run that completed) before its parents ended.
    let mut last_start = std::collections::HashMap::new();
    let mut last_end = std::collections::HashMap::new();
    for line in sb.lines("log") {
        let parts: Vec<&str> = line.split(' ').collect();
        let [what, name, at] = parts[..] else {
            panic!("a log line: {line}")
        };
        let at: u128 = at.parse().expect("time");
        match what {
            "start" => last_start.insert(name.to_owned(), at),
            _ => last_end.insert(name.to_owned(), at),
        };
    }
    assert_eq!(last_end.len(), 300, "every step ended");
    for (child, parents) in &parents_of {
        for p in parents {
            assert!(
                last_start[child] >= last_end[p],
                "{child} started before {p} ended"
            );
        }
    }
    for (i, w) in workers.iter_mut().enumerate() {
        if i == 1 {
            continue;
        }
        signal(w.id(), "-TERM");
        assert_eq!(w.wait().expect("worker").code(), Some(0));
    }
}

/// A worker whose claim was taken back records nothing: its completion is fenced.
#[test]
fn a_stale_workers_completion_changes_nothing() {
    let Some(Backend::Postgres(url)) = Backend::postgres() else {
        return;
    };
    let sb = Sandbox::on(&Backend::Postgres(url.clone()));
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
    let tasker::store::Location::Postgres(pg) =
        tasker::store::Location::parse(std::path::Path::new(&url)).expect("url")
    else {
        panic!("a PostgreSQL URL")
    };
    let mut store = tasker::store::PgStore::open(&pg).expect("open");
    store
        .register_worker("old", "host-a", 1, 10)
        .expect("register");
    let claimed = store
        .claim_steps("old", 1, &tasker::store::ClaimFilter::default())
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Silent past its grace of 10 ms: taken back.
    let rescued = store.rescue().expect("rescue");
    assert_eq!(rescued.len(), 1);
    let late = [tasker::store::Change::Event {
        task_id: 1,
        seq: 0,
        name: "step.completed".into(),
        doc: serde_json::json!({"seq": 0, "name": "step.completed"}).to_string(),
    }];
    let written = store
        .complete_step("old", claimed[0].step_id, claimed[0].attempt, &late)
        .expect("complete");
    assert_eq!(written, None, "fenced");
    assert_eq!(
        sb.value("SELECT COUNT(*) FROM events WHERE name = 'step.completed'")
            .as_deref(),
        Some("0"),
        "nothing was written"
    );
    assert_eq!(
        sb.value("SELECT status FROM workflow_steps").as_deref(),
        Some("error"),
        "taken back: waiting to run again"
    );
}

/// A worker that dies at each point of an attempt's life — right after its claim is
/// committed, right after the step's process starts, right before and right after its end
/// is committed — is recovered by another: the task completes, each step with exactly one
/// successful attempt, and only an attempt the dead worker held ends `interrupted`.
#[test]
fn a_worker_dying_at_each_crash_point_is_recovered() {
    for point in [
        "after-claim",
        "after-spawn",
        "before-complete",
        "after-complete",
    ] {
        let Some(sb) = on_postgres() else {
            return;
        };
        sb.write(
            "t.yml",
            "name: chain\nsteps:\n  - { name: a, command: 'echo a >> log; sleep 0.2' }\n  - { name: b, command: 'echo b >> log', depends_on: [a] }\n  - { name: c, command: 'echo c >> log', depends_on: [b] }\n",
        );
        assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
        let mut dying = sb
            .cmd_std()
            .env("TASKER_TEST_CRASH", point)
            .args(["worker", "--id", "dying", "-j", "1", "--grace", "1s", "-q"])
            .spawn()
            .expect("worker");
        let died = dying.wait().expect("worker");
        assert_eq!(died.code(), None, "{point}: the worker aborted");
        let mut rescuer = worker(&sb, "rescuer", &["--grace", "1s", "-q"]);
        let out = sb.run(&["wait", "1", "--timeout", "60s"]);
        assert_eq!(out.status.code(), Some(0), "{point}: {}", stderr(&out));
        let wrong = sb.query(
            "SELECT s.name FROM workflow_steps s LEFT JOIN step_attempts a USING (workflow_step_id)
              GROUP BY s.name HAVING COUNT(a.*) FILTER (WHERE a.outcome = 'complete') <> 1",
        );
        assert!(wrong.is_empty(), "{point}: {wrong:?}");
        let interrupted =
            sb.value("SELECT COUNT(*) FROM step_attempts WHERE error_class = 'interrupted'");
        let expected = if point == "after-complete" { "0" } else { "1" };
        assert_eq!(interrupted.as_deref(), Some(expected), "{point}");
        let other = sb.value(
            "SELECT COUNT(*) FROM step_attempts WHERE outcome IS NULL OR (outcome = 'error' AND error_class <> 'interrupted')",
        );
        assert_eq!(
            other.as_deref(),
            Some("0"),
            "{point}: no attempt left open or failed"
        );
        signal(rescuer.id(), "-TERM");
        assert_eq!(rescuer.wait().expect("worker").code(), Some(0), "{point}");
    }
}

/// The task's `timeout` holds under workers: past it, the running step is stopped and its
/// attempt ends as a final timeout, nothing more starts, and the task ends in error.
#[test]
fn a_task_deadline_holds_under_workers() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: slow\ntimeout: 1s\nsteps:\n  - { name: long, command: 'sleep 30' }\n  - { name: after, command: 'true', depends_on: [long] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
    let started = std::time::Instant::now();
    let mut w = worker(&sb, "w", &["--kill-grace", "200ms"]);
    let out = sb.run(&["wait", "1", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "ended after {:?}",
        started.elapsed()
    );
    let doc = sb.status(1);
    assert_eq!(doc["status"], "error");
    let long = Sandbox::step(&doc, "long");
    assert_eq!(long["status"], "error");
    assert_eq!(long["error"]["class"], "timeout", "{long}");
    assert_eq!(Sandbox::step(&doc, "after")["status"], "pending");
    let events = stdout(&sb.run(&["events", "log", "1", "--json"]));
    assert!(
        events.contains("\"the task timed out\"") || events.contains("task.failed"),
        "{events}"
    );
    signal(w.id(), "-TERM");
    assert_eq!(w.wait().expect("worker").code(), Some(0));
}

/// `--once` runs until nothing is ready, then exits 0; `--drain` with nothing held exits 0 at
/// once; a worker's first Ctrl-C drains (what runs finishes), a second stops the running
/// steps at once — their attempts end `interrupted`, to run again on another worker.
#[test]
fn once_drain_and_ctrl_c() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write("quick.yml", "name: quick\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a] }\n");
    assert_eq!(
        sb.run(&["run", "quick.yml", "--submit"]).status.code(),
        Some(0)
    );
    let out = sb.run(&["worker", "--once", "--id", "once"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 attempts recorded"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sb.status(1)["status"], "complete");
    let out = sb.run(&["worker", "--drain", "--id", "drain"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    sb.write(
        "long.yml",
        "name: long\nsteps:\n  - name: l\n    command: 'echo $$ > pid; trap \"\" INT TERM; sleep 30'\n",
    );
    assert_eq!(
        sb.run(&["run", "long.yml", "--submit"]).status.code(),
        Some(0)
    );
    let mut w = worker(&sb, "w", &["--kill-grace", "30s"]);
    let step = started_step(&sb, "pid", "the step never started");
    signal(w.id(), "-INT");
    assert!(
        eventually(5, || sb
            .lines("w.err")
            .iter()
            .any(|l| l.contains("draining"))),
        "{:?}",
        sb.lines("w.err")
    );
    assert!(alive(step), "the first Ctrl-C lets the step run");
    signal(w.id(), "-INT");
    let status = w.wait().expect("worker");
    assert_eq!(status.code(), Some(0), "{:?}", sb.lines("w.err"));
    assert!(
        eventually(5, || !alive(step)),
        "the second Ctrl-C stops the step"
    );
    let attempt = sb.query(
        "SELECT a.outcome, a.error_class FROM step_attempts a JOIN workflow_steps s USING (workflow_step_id)
          JOIN tasks t ON t.task_id = s.task_id WHERE t.task_id = 2",
    );
    assert_eq!(
        attempt,
        [vec![Some("error".into()), Some("interrupted".into())]]
    );
    assert_eq!(
        sb.status(2)["status"],
        "in_progress",
        "left for another worker"
    );
}

/// A worker without a command for a step's `handler_class` (its own `tasker.toml` maps
/// none) records the attempt as failed and retryable, and goes on; a worker that has one
/// runs the step.
#[test]
fn a_worker_without_the_handler_leaves_the_step_to_one_with_it() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: pay\nsteps:\n  - name: charge\n    handler_class: Payments::Charge\n    retry: { limit: 20, backoff: { base: 100ms, max: 100ms } }\n",
    );
    sb.write(
        "mapped.toml",
        "[handlers.\"Payments::Charge\"]\ncommand = \"echo charged >> charged\"\n",
    );
    let out = sb.run(&["--config", "mapped.toml", "run", "t.yml", "--submit"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = sb.run(&["worker", "--once", "--id", "bare"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("this worker cannot run task 1"),
        "{}",
        stderr(&out)
    );
    let step = Sandbox::step(&sb.status(1), "charge").clone();
    assert_eq!(step["status"], "error", "{step}");
    assert_eq!(step["error"]["class"], "spawn", "{step}");
    assert!(!sb.path().join("charged").exists());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = sb.run(&[
        "--config",
        "mapped.toml",
        "worker",
        "--once",
        "--id",
        "mapped",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.status(1)["status"], "complete");
    assert_eq!(sb.lines("charged"), ["charged"]);
}

/// `tasker wait` on any store: a task already ended answers at once with its exit code, an
/// unknown task is not found (4), and `--timeout` passing first is exit 7.
#[test]
fn wait_answers_with_runs_exit_codes() {
    let sb = Sandbox::new();
    sb.write(
        "ok.yml",
        "name: ok\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    sb.write(
        "bad.yml",
        "name: bad\nsteps:\n  - { name: a, command: 'exit 127' }\n",
    );
    sb.write(
        "long.yml",
        "name: long\nsteps:\n  - { name: a, command: 'sleep 30' }\n",
    );
    assert_eq!(sb.run(&["run", "ok.yml"]).status.code(), Some(0));
    assert_eq!(sb.run(&["run", "bad.yml"]).status.code(), Some(1));
    assert_eq!(sb.run(&["wait", "1"]).status.code(), Some(0));
    assert_eq!(sb.run(&["wait", "2"]).status.code(), Some(1));
    assert_eq!(sb.run(&["wait", "9"]).status.code(), Some(4));
    let out = sb.run(&["run", "long.yml", "--detach"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = sb.run(&["wait", "3", "--timeout", "300ms"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`tasker wait 3` again"),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["cancel", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.run(&["wait", "3"]).status.code(), Some(3));
}

/// The spans of one trace hang together: one task span; each step span its child; each
/// attempt span a child of its step's span; each step's process given its attempt's span.
fn one_connected_trace(
    spans: &[opentelemetry_proto::tonic::trace::v1::Span],
    steps: usize,
    sb: &Sandbox,
    traceparents: &[&str],
) {
    use crate::telemetry::hex;
    let named = |n: &str| spans.iter().filter(|s| s.name == n).collect::<Vec<_>>();
    let tasks = named("tasker.task");
    assert_eq!(tasks.len(), 1, "one task span");
    let task = tasks[0];
    let step_spans = named("tasker.step");
    let attempts = named("tasker.step.attempt");
    assert_eq!(step_spans.len(), steps, "a span per step");
    assert_eq!(attempts.len(), steps, "a span per attempt");
    for s in spans {
        assert_eq!(s.trace_id, task.trace_id, "one trace");
    }
    for s in &step_spans {
        assert_eq!(
            s.parent_span_id, task.span_id,
            "a step span is the task's child"
        );
    }
    let step_ids: std::collections::HashSet<&Vec<u8>> =
        step_spans.iter().map(|s| &s.span_id).collect();
    for a in &attempts {
        assert!(
            step_ids.contains(&a.parent_span_id),
            "an attempt span's parent is its step's span"
        );
    }
    let attempt_ids: std::collections::HashSet<String> =
        attempts.iter().map(|a| hex(&a.span_id)).collect();
    for file in traceparents {
        let tp = std::fs::read_to_string(sb.path().join(file)).expect("traceparent");
        let parts: Vec<&str> = tp.trim().split('-').collect();
        assert_eq!(parts.len(), 4, "{tp}");
        assert_eq!(parts[1], hex(&task.trace_id), "{file}: the task's trace");
        assert!(
            attempt_ids.contains(parts[2]),
            "{file}: the process's parent is its attempt's span ({tp})"
        );
    }
}

#[test]
fn a_foreground_run_on_postgres_is_helped_by_workers() {
    let Some(sb) = on_postgres() else {
        return;
    };
    let server = crate::server::Server::start(vec![crate::server::Reply::new(200, "")]);
    let mut yaml = String::from(
        "name: fan\ncustom_events: [order.charged]\nsteps:\n  - { name: first, command: 'echo $TRACEPARENT > tp.first' }\n",
    );
    let mut names = vec!["first".to_owned()];
    for i in 0..12 {
        yaml.push_str(&format!(
            "  - {{ name: s{i}, command: 'echo $TRACEPARENT > tp.s{i}; echo {{\\\"name\\\": \\\"order.charged\\\"}} >> $TASKER_EVENTS; sleep 0.3; echo s{i} >> done', depends_on: [first] }}\n"
        ));
        names.push(format!("s{i}"));
    }
    yaml.push_str("  - { name: last, command: 'echo $TRACEPARENT > tp.last; echo last >> done', depends_on: [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11] }\n");
    names.push("last".into());
    sb.write("t.yml", &yaml);
    let mut w = worker(&sb, "wa", &["-j", "4"]);
    let out = sb
        .cmd()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", server.url(""))
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .env_remove("TRACEPARENT")
        .args([
            "run",
            "t.yml",
            "-j",
            "2",
            "--trace",
            "otlp",
            "--events-out",
            "e.jsonl",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("task 1 complete"), "{}", stderr(&out));
    assert!(stderr(&out).contains("14 complete"), "{}", stderr(&out));

    // Each step ran once, the last after the others; both the run and the worker ran some.
    let lines = sb.lines("done");
    assert_eq!(lines.len(), 13, "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some("last"));
    let who = claimers(&sb);
    assert!(who.contains("wa"), "the worker helped: {who:?}");
    assert!(
        who.iter().any(|c| c.starts_with("run:")),
        "the run ran steps itself: {who:?}"
    );
    // What each attempt wrote (its custom event) reached the log, whoever ran it, and every
    // process started is recorded.
    let events: Vec<serde_json::Value> = sb
        .lines("e.jsonl")
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1, "the whole log, in order, once");
    }
    let count = |n: &str| events.iter().filter(|e| e["name"] == n).count();
    assert_eq!(count("order.charged"), 12);
    assert_eq!(count("step.completed"), 14);
    assert_eq!(count("task.completed"), 1);
    let pids = sb.value("SELECT COUNT(*) FROM step_attempts WHERE pid IS NOT NULL");
    assert!(
        pids.as_deref().and_then(|p| p.parse::<u32>().ok()) >= Some(12),
        "{pids:?}"
    );
    // One trace, whoever ran the steps.
    let spans: Vec<_> = crate::telemetry::spans(&server)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let files: Vec<String> = names.iter().map(|n| format!("tp.{n}")).collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    one_connected_trace(&spans, 14, &sb, &files);

    signal(w.id(), "-TERM");
    assert_eq!(w.wait().expect("worker").code(), Some(0));
}

#[test]
fn a_worker_exports_the_spans_and_metrics_of_the_tasks_it_ends() {
    let Some(sb) = on_postgres() else {
        return;
    };
    let server = crate::server::Server::start(vec![crate::server::Reply::new(200, "")]);
    sb.write(
        "t.yml",
        "name: three\nsteps:\n  - { name: a, command: 'echo $TRACEPARENT > tp.a' }\n  - { name: b, command: 'echo $TRACEPARENT > tp.b', depends_on: [a] }\n  - { name: c, command: 'echo $TRACEPARENT > tp.c', depends_on: [a] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
    let out = sb
        .cmd()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", server.url(""))
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .args(["worker", "--once", "--trace", "otlp"])
        .output()
        .expect("worker");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.status(1)["status"], "complete");
    let spans: Vec<_> = crate::telemetry::spans(&server)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    one_connected_trace(&spans, 3, &sb, &["tp.a", "tp.b", "tp.c"]);
    let metrics = crate::telemetry::metric_names(&server);
    assert!(
        metrics.iter().any(|m| m.starts_with("tasker.")),
        "{metrics:?}"
    );
}

/// A foreground run that loses its store stops (exit 6); what it held is taken back by a
/// worker after the grace period, and the workers finish the task its dead runner owned.
#[test]
fn a_run_that_lost_its_store_leaves_its_task_to_the_workers() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - name: gate\n    depends_on: [a]\n    command: 'echo $$ > gate.pid; while [ ! -f open ]; do sleep 0.05; done; echo gate >> done'\n  - { name: c, command: 'echo c >> done', depends_on: [gate] }\n",
    );
    let child = sb.spawn(&["run", "t.yml", "--kill-grace", "200ms"]);
    let first = started_step(&sb, "gate.pid", "the gate never started");
    sb.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'tasker' AND datname = current_database() AND pid <> pg_backend_pid()",
    );
    let out = child.wait_with_output().expect("run");
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(eventually(5, || !alive(first)), "the run stopped its step");
    std::fs::remove_file(sb.path().join("gate.pid")).expect("pid file");
    std::fs::write(sb.path().join("open"), "").expect("open");
    let mut w = worker(&sb, "w", &["--grace", "1s"]);
    let out = sb.run(&["wait", "1", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.lines("done"), ["gate", "c"]);
    let doc = sb.status(1);
    assert_eq!(doc["status"], "complete");
    assert_eq!(
        Sandbox::step(&doc, "a")["attempts"],
        1,
        "a did not run again"
    );
    let errors = sb.query(
        "SELECT a.error_class FROM step_attempts a JOIN workflow_steps s USING (workflow_step_id)
          WHERE s.name = 'gate' ORDER BY a.attempt",
    );
    assert_eq!(
        errors,
        [vec![Some("interrupted".to_owned())], vec![None]],
        "the run's attempt was taken back, then run once"
    );
    signal(w.id(), "-TERM");
    assert_eq!(w.wait().expect("worker").code(), Some(0));
}

/// Ctrl-C on a foreground run that a worker helps stops the run's own step (recorded
/// `interrupted`) and leaves the task `pending`, as on SQLite; the worker's step finishes
/// and is recorded, nothing more starts, and `resume` finishes the task.
#[test]
fn ctrl_c_on_a_helped_run_leaves_the_task_for_resume() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: g1, command: 'echo $$ > g1.pid; while [ ! -f open ]; do sleep 0.05; done; echo g1 >> done', depends_on: [a] }\n  - { name: g2, command: 'echo $$ > g2.pid; while [ ! -f open ]; do sleep 0.05; done; echo g2 >> done', depends_on: [a] }\n  - { name: z, command: 'echo z >> done', depends_on: [g1, g2] }\n",
    );
    let mut w = worker(&sb, "wa", &["-j", "1"]);
    let run = sb.spawn(&["run", "t.yml", "-j", "1", "--kill-grace", "200ms"]);
    started_step(&sb, "g1.pid", "g1 never started");
    started_step(&sb, "g2.pid", "g2 never started");
    let holder = |step: &str| {
        sb.value(&format!(
            "SELECT claimed_by FROM workflow_steps WHERE name = '{step}'"
        ))
        .unwrap_or_default()
    };
    let (h1, h2) = (holder("g1"), holder("g2"));
    let (mine, theirs) = if h1 == "wa" {
        ("g2", "g1")
    } else {
        ("g1", "g2")
    };
    assert!(
        holder(mine).starts_with("run:") && holder(theirs) == "wa",
        "one each: {h1} {h2}"
    );
    signal(run.id(), "-INT");
    let out = run.wait_with_output().expect("run");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("tasker resume 1"), "{}", stderr(&out));
    let doc = sb.status(1);
    assert_eq!(doc["status"], "pending");
    assert_eq!(Sandbox::step(&doc, mine)["status"], "error");
    assert_eq!(Sandbox::step(&doc, theirs)["status"], "in_progress");
    std::fs::write(sb.path().join("open"), "").expect("open");
    assert!(
        eventually(10, || Sandbox::step(&sb.status(1), theirs)["status"]
            == "complete"),
        "the worker's step finished and was recorded"
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let doc = sb.status(1);
    assert_eq!(doc["status"], "pending", "nothing more ran");
    assert_eq!(Sandbox::step(&doc, "z")["status"], "pending");
    assert_eq!(
        Sandbox::step(&doc, mine)["status"],
        "error",
        "not claimed meanwhile"
    );

    let out = sb.run(&["resume", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(1);
    assert_eq!(doc["status"], "complete");
    let attempts = |step: &str| {
        sb.query(&format!(
            "SELECT a.error_class FROM step_attempts a JOIN workflow_steps s USING (workflow_step_id)
              WHERE s.name = '{step}' ORDER BY a.attempt"
        ))
    };
    assert_eq!(
        attempts(mine),
        [vec![Some("interrupted".to_owned())], vec![None]],
        "interrupted, then run again"
    );
    assert_eq!(attempts(theirs), [vec![None]], "the worker's ran once");
    assert_eq!(sb.lines("done").last().map(String::as_str), Some("z"));
    signal(w.id(), "-TERM");
    assert_eq!(w.wait().expect("worker").code(), Some(0));
}

/// A task's `timeout` counts from the start of its current run: a task retried after its
/// first run's deadline has passed runs again, as on SQLite.
#[test]
fn a_retried_task_gets_its_timeout_again_on_postgres() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: t\ntimeout: 2s\nsteps:\n  - { name: a, command: '[ -f fixed ]', retry: 1 }\n  - { name: b, command: 'true', depends_on: [a] }\n",
    );
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    std::thread::sleep(std::time::Duration::from_millis(2300));
    std::fs::write(sb.path().join("fixed"), "").expect("fix");
    let out = sb.run(&["retry", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.status(1)["status"], "complete");
}

/// `--fail-fast` with a worker helping: once a step has failed for good, neither the run
/// nor the worker starts another step of the task; what runs finishes, and the task ends
/// in error with the rest left pending.
#[test]
fn fail_fast_closes_the_task_to_workers_too() {
    let Some(sb) = on_postgres() else {
        return;
    };
    let mut yaml = String::from(
        "name: t\nsteps:\n  - { name: bad, command: 'sleep 0.3; exit 1', retry: 1 }\n",
    );
    for i in 0..8 {
        yaml.push_str(&format!(
            "  - {{ name: s{i}, command: 'sleep 0.6; echo s{i} >> done' }}\n"
        ));
    }
    sb.write("t.yml", &yaml);
    let mut w = worker(&sb, "wa", &["-j", "2"]);
    let out = sb.run(&["run", "t.yml", "-j", "1", "--fail-fast"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = sb.status(1);
    assert_eq!(doc["status"], "error");
    let ran = sb.lines("done").len();
    assert!(ran < 8, "steps kept starting after the failure: {ran}");
    let running = sb.value("SELECT COUNT(*) FROM workflow_steps WHERE status = 'in_progress'");
    assert_eq!(running.as_deref(), Some("0"), "what ran was recorded");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(
        sb.lines("done").len(),
        ran,
        "the worker started nothing more"
    );
    signal(w.id(), "-TERM");
    assert_eq!(w.wait().expect("worker").code(), Some(0));
}

/// A worker waiting on an HTTP call does not spin: an attempt costs a few round trips to
/// the store, however long the call takes.
#[test]
fn a_worker_waiting_on_an_http_call_does_not_spin() {
    let Some(sb) = on_postgres() else {
        return;
    };
    let server = crate::server::Server::start(vec![
        crate::server::Reply::new(200, "{}").delay(std::time::Duration::from_millis(1500)),
    ]);
    sb.write(
        "t.yml",
        &format!(
            "name: web\nsteps:\n  - name: call\n    http: {{ url: '{}' }}\n",
            server.url("/slow")
        ),
    );
    assert_eq!(sb.run(&["run", "t.yml", "--submit"]).status.code(), Some(0));
    let out = sb.run(&["worker", "--once"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.status(1)["status"], "complete");
    let err = stderr(&out);
    let trips: u64 = err
        .split("; ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    // About 45: preparing each statement once, registering, claiming, a few heartbeats and
    // claim checks, recording; a loop woken every 10 ms would make hundreds.
    assert!(trips < 80, "{trips} round trips for one 1.5 s call: {err}");
}

/// `resume` while a worker still runs one of the task's steps leaves that step to the
/// worker: it is neither stopped nor run again.
#[test]
fn resuming_while_a_worker_runs_a_step_leaves_it_to_the_worker() {
    let Some(sb) = on_postgres() else {
        return;
    };
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: g1, command: 'echo $$ > g1.pid; while [ ! -f open ]; do sleep 0.05; done', depends_on: [a] }\n  - { name: g2, command: 'echo $$ > g2.pid; while [ ! -f open ]; do sleep 0.05; done', depends_on: [a] }\n",
    );
    let mut w = worker(&sb, "wa", &["-j", "1"]);
    let run = sb.spawn(&["run", "t.yml", "-j", "1", "--kill-grace", "200ms"]);
    started_step(&sb, "g1.pid", "g1 never started");
    started_step(&sb, "g2.pid", "g2 never started");
    let worker_runs = |step: &str| {
        sb.value(&format!(
            "SELECT claimed_by FROM workflow_steps WHERE name = '{step}'"
        ))
        .is_some_and(|c| c == "wa")
    };
    let (mine, theirs) = if worker_runs("g1") {
        ("g2", "g1")
    } else {
        ("g1", "g2")
    };
    assert!(worker_runs(theirs));
    let theirs_pid = started_step(&sb, &format!("{theirs}.pid"), "pid");
    signal(run.id(), "-INT");
    assert_eq!(
        run.wait_with_output().expect("run").status.code(),
        Some(130)
    );
    std::fs::remove_file(sb.path().join(format!("{mine}.pid"))).expect("pid file");
    let resume = sb.spawn(&["resume", "1"]);
    started_step(
        &sb,
        &format!("{mine}.pid"),
        "the resumed run never ran its step again",
    );
    assert!(alive(theirs_pid), "the worker's step was left running");
    assert!(worker_runs(theirs), "and still the worker's");
    std::fs::write(sb.path().join("open"), "").expect("open");
    let out = resume.wait_with_output().expect("resume");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let attempts = sb.query(&format!(
        "SELECT a.error_class FROM step_attempts a JOIN workflow_steps s USING (workflow_step_id)
          WHERE s.name = '{theirs}' ORDER BY a.attempt"
    ));
    assert_eq!(attempts, [vec![None]], "run once, by the worker");
    signal(w.id(), "-TERM");
    assert_eq!(w.wait().expect("worker").code(), Some(0));
}
