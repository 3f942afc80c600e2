//! `tasker run`: ordering, parallelism, retries, failures, timeouts, results, audit rows.

use std::collections::HashMap;

use serde_json::Value;
use tasker::model::{Actor, Entity, State, allowed};

use crate::support::{
    Backend, Sandbox, alive, eventually, on_both_stores, stderr, stdout, task_id,
};

/// Run a template written into the sandbox; return (exit code, task id).
fn run(sb: &Sandbox, yaml: &str, extra: &[&str]) -> (i32, i64, String) {
    sb.write("t.yml", yaml);
    let out = sb.run(&[&["run", "t.yml"][..], extra].concat());
    let id = task_id(&out);
    (out.status.code().unwrap_or(-1), id, stderr(&out))
}

/// Lines `EVENT NAME NANOS` appended by steps to `log`.
fn read_log(sb: &Sandbox) -> Vec<(String, String, u128)> {
    std::fs::read_to_string(sb.path().join("log"))
        .expect("log")
        .lines()
        .map(|l| {
            let mut parts = l.split_whitespace();
            let ev = parts.next().unwrap_or_default().to_owned();
            let name = parts.next().unwrap_or_default().to_owned();
            let at = parts.next().and_then(|t| t.parse().ok()).unwrap_or(0);
            (ev, name, at)
        })
        .collect()
}

fn dependents_never_start_before_their_parents_finish(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let step = |name: &str, deps: &str, work: &str| {
        format!(
            "  - name: {name}\n    depends_on: [{deps}]\n    command: echo start {name} $(date +%s%N) >> log; touch started.{name}; {work}; echo end {name} $(date +%s%N) >> log\n"
        )
    };
    // b ends only once c has started (it waits for it, 20 s at most): fan-out steps run side
    // by side however slow the machine, with no fixed nap standing in for it.
    let yaml = format!(
        "name: order\nmax_parallel: 4\nsteps:\n{}{}{}{}{}{}",
        step("a", "", "sleep 0.2"),
        step(
            "b",
            "a",
            "n=0; while [ ! -f started.c ] && [ $n -lt 2000 ]; do sleep 0.01; n=$((n+1)); done"
        ),
        step("c", "a", "sleep 0.3"),
        step("d", "a", "true"),
        step("e", "b, c", "sleep 0.1"),
        step("f", "e, d", "true"),
    );
    let (code, _, err) = run(&sb, &yaml, &[]);
    assert_eq!(code, 0, "{err}");
    let log = read_log(&sb);
    assert_eq!(log.len(), 12);
    let at: HashMap<(String, String), u128> = log
        .into_iter()
        .map(|(ev, name, t)| ((ev, name), t))
        .collect();
    let edges = [
        ("a", "b"),
        ("a", "c"),
        ("a", "d"),
        ("b", "e"),
        ("c", "e"),
        ("e", "f"),
        ("d", "f"),
    ];
    for (parent, child) in edges {
        let end = at[&("end".to_owned(), parent.to_owned())];
        let start = at[&("start".to_owned(), child.to_owned())];
        assert!(end < start, "{child} started before {parent} ended");
    }
    // b, c and d ran side by side.
    let c_start = at[&("start".to_owned(), "c".to_owned())];
    let b_end = at[&("end".to_owned(), "b".to_owned())];
    assert!(c_start < b_end, "fan-out steps ran in parallel");
}

/// The most steps that were between their `in` and `out` lines at once.
fn max_overlap(sb: &Sandbox) -> usize {
    let mut now = 0usize;
    let mut max = 0usize;
    for (ev, _, _) in read_log(sb) {
        if ev == "in" {
            now += 1;
            max = max.max(now);
        } else {
            now -= 1;
        }
    }
    max
}

fn wide(n: usize, extra: &str) -> String {
    let mut yaml = format!("name: wide\n{extra}steps:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  - name: s{i}\n    command: echo in s{i} >> log; sleep 0.3; echo out s{i} >> log\n"
        ));
    }
    yaml
}

#[test]
fn the_parallelism_bound_holds() {
    let sb = Sandbox::new();
    let (code, _, err) = run(&sb, &wide(9, ""), &["--concurrency", "3"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(max_overlap(&sb), 3);

    let sb = Sandbox::new();
    let (code, _, err) = run(&sb, &wide(6, "max_parallel: 2\n"), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        max_overlap(&sb),
        2,
        "max_parallel applies without --concurrency"
    );

    let sb = Sandbox::new();
    let (code, _, err) = run(&sb, &wide(4, "max_parallel: 1\n"), &["-j", "4"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(max_overlap(&sb), 4, "--concurrency overrides max_parallel");
}

const FLAKY: &str = "\
name: flaky
steps:
  - name: extract
    command: 'true'
  - name: transform
    depends_on: [extract]
    command: |
      if [ \"$TASKER_ATTEMPT\" -lt 3 ]; then echo \"not yet $TASKER_ATTEMPT\" >&2; exit 75; fi
      echo '{\"rows\": 3}' > \"$TASKER_OUTPUT\"
    retry: { limit: 3, backoff: { base: 50ms, max: 200ms } }
  - name: load
    depends_on: [transform]
    command: 'true'
";

fn retry_then_success_marks_the_step_flaky(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let (code, id, err) = run(&sb, FLAKY, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("flaky: transform"), "{err}");
    assert!(
        err.contains("transform attempt 1: exit_code: exited with code 75: not yet 1"),
        "{err}"
    );
    let doc = sb.status(id);
    assert_eq!(doc["status"], "complete");
    let t = Sandbox::step(&doc, "transform");
    assert_eq!(t["attempts"], 3);
    assert_eq!(t["flaky"], true);
    assert_eq!(t["results"], serde_json::json!({"rows": 3}));
    assert_eq!(t["error"], Value::Null);
    assert_eq!(Sandbox::step(&doc, "load")["flaky"], false);
    // Each attempt is kept, with its exit code and output.
    let rows = sb.query(
        "SELECT a.attempt, a.exit_code, a.error_class FROM step_attempts a
         JOIN workflow_steps s USING (workflow_step_id) WHERE s.name = 'transform' ORDER BY a.attempt",
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][1].as_deref(), Some("75"));
    assert_eq!(rows[0][2].as_deref(), Some("exit_code"));
    assert_eq!(rows[2][1].as_deref(), Some("0"));
    assert_eq!(rows[2][2], None);
    let out = sb.run(&["logs", "1", "transform", "--attempt", "2", "--stderr"]);
    assert_eq!(stdout(&out), "not yet 2\n", "{}", stderr(&out));
}

fn exhausted_retries_fail_the_task_but_independent_branches_finish(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let yaml = "\
name: branches
steps:
  - name: doomed
    command: echo boom >&2; exit 1
    retry: { limit: 2, backoff: { base: 10ms } }
  - name: after_doomed
    depends_on: [doomed]
    command: touch after_doomed
  - name: independent
    command: sleep 0.3; touch independent
  - name: after_independent
    depends_on: [independent]
    command: touch after_independent
";
    let (code, id, err) = run(&sb, yaml, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(sb.path().join("independent").exists());
    assert!(sb.path().join("after_independent").exists());
    assert!(!sb.path().join("after_doomed").exists());
    let doc = sb.status(id);
    assert_eq!(doc["status"], "error");
    let doomed = Sandbox::step(&doc, "doomed");
    assert_eq!(doomed["status"], "error");
    assert_eq!(doomed["attempts"], 2);
    assert_eq!(doomed["error"]["class"], "exit_code");
    assert_eq!(doomed["error"]["message"], "exited with code 1: boom");
    assert_eq!(doomed["next_retry_at"], Value::Null);
    assert_eq!(Sandbox::step(&doc, "after_doomed")["status"], "pending");
    assert_eq!(
        Sandbox::step(&doc, "after_independent")["status"],
        "complete"
    );
    assert_eq!(doc["execution"]["execution_status"], "blocked_by_failures");
    assert_eq!(doc["execution"]["recommended_action"], "handle_failures");
    assert_eq!(doc["execution"]["health_status"], "blocked");
    assert_eq!(doc["execution"]["completed_steps"], 2);
    assert_eq!(doc["execution"]["failed_steps"], 1);
    assert_eq!(doc["execution"]["completion_percentage"], 50.0);
    assert!(err.contains("gave up  doomed after 2 attempts"), "{err}");
}

#[test]
fn fail_fast_stops_starting_steps() {
    let sb = Sandbox::new();
    let yaml = "\
name: ff
max_parallel: 1
steps:
  - { name: first, command: 'exit 4', retry: { limit: 1 } }
  - { name: second, command: touch second }
  - { name: third, command: touch third }
";
    let (code, id, err) = run(&sb, yaml, &["--fail-fast"]);
    assert_eq!(code, 1, "{err}");
    assert!(!sb.path().join("second").exists());
    let doc = sb.status(id);
    assert_eq!(Sandbox::step(&doc, "second")["status"], "pending");
    // Without it, the others run.
    let sb = Sandbox::new();
    let (code, _, _) = run(&sb, yaml, &[]);
    assert_eq!(code, 1);
    assert!(sb.path().join("second").exists() && sb.path().join("third").exists());
}

#[test]
fn permanent_exit_codes_fail_at_once() {
    let sb = Sandbox::new();
    let yaml = "\
name: permanent
defaults:
  retry: { limit: 5, backoff: { base: 10ms } }
steps:
  - { name: missing_binary, command: no-such-command-anywhere }
  - { name: declared, command: 'exit 2', retry: { permanent_exit_codes: [2] } }
  - { name: not_listed, command: 'exit 9', retry: { retry_on_exit_codes: [75] } }
  - { name: listed, command: 'if [ $TASKER_ATTEMPT -lt 2 ]; then exit 75; fi' , retry: { retry_on_exit_codes: [75] } }
  - { name: not_retryable, command: 'exit 1', default_retryable: false }
  - { name: argv_missing, command: [/no/such/program, arg] }
";
    let (code, id, err) = run(&sb, yaml, &[]);
    assert_eq!(code, 1, "{err}");
    let doc = sb.status(id);
    for name in [
        "missing_binary",
        "declared",
        "not_listed",
        "not_retryable",
        "argv_missing",
    ] {
        let s = Sandbox::step(&doc, name);
        assert_eq!(s["status"], "error", "{name}");
        assert_eq!(s["attempts"], 1, "{name} was not retried");
    }
    assert!(
        Sandbox::step(&doc, "missing_binary")["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("exited with code 127 (command not found)")
    );
    assert_eq!(
        Sandbox::step(&doc, "argv_missing")["error"]["class"],
        "spawn"
    );
    let listed = Sandbox::step(&doc, "listed");
    assert_eq!(listed["status"], "complete");
    assert_eq!(listed["attempts"], 2);
}

#[test]
fn a_timeout_kills_the_whole_process_group() {
    let sb = Sandbox::new();
    // The step starts a background grandchild, records its pid, ignores SIGTERM itself.
    let yaml = "\
name: slow
steps:
  - name: hang
    timeout: 300ms
    retry: { limit: 2, backoff: { base: 10ms } }
    command: |
      sleep 300 &
      echo $! >> pids
      trap '' TERM
      while true; do sleep 0.05; done
";
    let started = std::time::Instant::now();
    let (code, id, err) = run(&sb, yaml, &["--kill-grace", "200ms"]);
    assert_eq!(code, 1, "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let doc = sb.status(id);
    let hang = Sandbox::step(&doc, "hang");
    assert_eq!(hang["attempts"], 2, "a timeout is retryable");
    assert_eq!(hang["error"]["class"], "timeout");
    assert_eq!(hang["error"]["message"], "timed out after 300ms");
    let pids = std::fs::read_to_string(sb.path().join("pids")).expect("pids");
    assert_eq!(pids.lines().count(), 2);
    for pid in pids.lines() {
        let pid: i32 = pid.trim().parse().expect("pid");
        assert!(!alive(pid), "grandchild {pid} was left behind");
    }
}

#[test]
fn background_children_do_not_outlive_their_step() {
    let sb = Sandbox::new();
    let yaml = "\
name: leaky
steps:
  - name: daemonish
    command: sleep 300 & echo $! > pid
";
    let started = std::time::Instant::now();
    let (code, _, err) = run(&sb, yaml, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "tasker did not wait for the sleeper"
    );
    let pid: i32 = std::fs::read_to_string(sb.path().join("pid"))
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    assert!(!alive(pid));
}

fn a_task_timeout_stops_everything(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let yaml = "\
name: deadline
timeout: 400ms
steps:
  - { name: quick, command: 'true' }
  - { name: slow, command: sleep 30 }
  - { name: later, command: 'true', depends_on: [slow] }
";
    let (code, id, err) = run(&sb, yaml, &["--kill-grace", "100ms"]);
    assert_eq!(code, 1, "{err}");
    let doc = sb.status(id);
    let slow = Sandbox::step(&doc, "slow");
    assert_eq!(slow["status"], "error");
    assert_eq!(slow["attempts"], 1);
    assert_eq!(slow["error"]["class"], "timeout");
    assert_eq!(slow["error"]["message"], "the task timed out after 400ms");
    assert_eq!(Sandbox::step(&doc, "quick")["status"], "complete");
    assert_eq!(Sandbox::step(&doc, "later")["status"], "pending");
    // Final, as the docs say: no retry is planned, none is shown, resume runs nothing.
    assert_eq!(slow["next_retry_at"], serde_json::Value::Null, "{slow}");
    let table = crate::support::stdout(&sb.run(&["status", &id.to_string()]));
    assert!(!table.contains("retry at"), "{table}");
    let out = sb.run(&["resume", &id.to_string()]);
    let doc = sb.status(id);
    assert_eq!(
        Sandbox::step(&doc, "slow")["attempts"],
        1,
        "resume ran it again: {}",
        crate::support::stderr(&out)
    );
}

fn results_and_environment_reach_status(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let yaml = "\
name: results
namespace: shop
env: { GREETING: hello, SHARED: template }
steps:
  - name: produce
    env: { SHARED: step }
    command: |
      printf '{\"task\": %s, \"name\": \"%s\", \"ns\": \"%s\", \"step\": \"%s\", \"attempt\": %s, \"limit\": %s, \"greeting\": \"%s\", \"shared\": \"%s\", \"cwd\": \"%s\"}' \\
        \"$TASKER_TASK_ID\" \"$TASKER_TASK_NAME\" \"$TASKER_NAMESPACE\" \"$TASKER_STEP_NAME\" \\
        \"$TASKER_ATTEMPT\" \"$TASKER_RETRY_LIMIT\" \"$GREETING\" \"$SHARED\" \"$(pwd)\" > \"$TASKER_OUTPUT\"
  - name: plain
    command: echo just text
  - name: in_subdir
    cwd: sub
    command: [sh, -c, 'pwd']
";
    std::fs::create_dir(sb.path().join("sub")).expect("mkdir");
    let (code, id, err) = run(&sb, yaml, &["--json"]);
    assert_eq!(code, 0, "{err}");
    let doc = sb.status(id);
    let produced = &Sandbox::step(&doc, "produce")["results"];
    let here = std::fs::canonicalize(sb.path()).expect("canonical");
    assert_eq!(
        *produced,
        serde_json::json!({"task": id, "name": "results", "ns": "shop", "step": "produce", "attempt": 1,
            "limit": 3, "greeting": "hello", "shared": "step", "cwd": here.display().to_string()})
    );
    assert_eq!(
        Sandbox::step(&doc, "plain")["results"],
        serde_json::json!({"exit_code": 0, "stdout_tail": "just text\n"})
    );
    assert_eq!(
        Sandbox::step(&doc, "in_subdir")["results"]["stdout_tail"],
        format!("{}\n", here.join("sub").display())
    );
}

#[test]
fn run_json_prints_exactly_one_json_document() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["run", "t.yml", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    // stdout is one document (`tasker run … --json | jq .execution` works); the id line is
    // on stderr.
    let text = stdout(&out);
    assert!(text.starts_with('{'), "{text}");
    assert!(stderr(&out).starts_with("task 1\n"), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&text).expect("status JSON");
    assert_eq!(doc["task_id"], 1);
    assert_eq!(doc["status"], "complete");
    for key in [
        "uuid",
        "name",
        "namespace",
        "version",
        "created_at",
        "updated_at",
        "duration_ms",
        "context",
        "steps",
        "execution",
    ] {
        assert!(doc.get(key).is_some(), "missing {key}");
    }
    assert_eq!(doc["execution"]["execution_status"], "all_complete");
    assert_eq!(doc["execution"]["health_status"], "healthy");
    // The same for every way a run can end, and for the verbs that run.
    for args in [
        vec!["run", "t.yml", "--json", "--idempotency-key", "k"],
        vec!["run", "t.yml", "--json", "--idempotency-key", "k"],
        vec!["retry", "1", "--step", "a", "--json"],
        vec!["-q", "run", "t.yml", "--json"],
    ] {
        let out = sb.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&out)));
        assert!(doc["task_id"].is_i64(), "{args:?}");
        assert_eq!(
            stderr(&out).starts_with("task "),
            args[0] != "-q",
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = sb.run(&["run", "t.yml", "--json", "--detach"]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("detach JSON");
    assert_eq!(doc["status"], "pending");
    let id = doc["task_id"].as_i64().expect("id");
    assert!(crate::support::eventually(10, || sb
        .state_now(id)
        .as_deref()
        == Some("complete")));
}

#[test]
fn invalid_output_json_is_a_permanent_step_error() {
    let sb = Sandbox::new();
    let yaml = "name: t\nsteps:\n  - { name: a, command: 'echo nope > $TASKER_OUTPUT' }\n";
    let (code, id, _) = run(&sb, yaml, &[]);
    assert_eq!(code, 1);
    let doc = sb.status(id);
    let a = Sandbox::step(&doc, "a");
    assert_eq!(a["attempts"], 1);
    assert_eq!(a["error"]["class"], "output");
    assert!(
        a["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("TASKER_OUTPUT is not valid JSON")
    );
}

#[test]
fn output_is_bounded_and_keeps_the_tail() {
    let sb = Sandbox::new();
    // 3 MiB of numbered lines: only the last MiB is kept.
    let yaml = "name: t\nsteps:\n  - { name: loud, command: 'seq 1 400000; echo LAST' }\n";
    let (code, _, err) = run(&sb, yaml, &[]);
    assert_eq!(code, 0, "{err}");
    let (kept, dropped): (Vec<u8>, i64) = sb
        .sqlite()
        .query_row(
            "SELECT stdout, stdout_dropped FROM step_attempts",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("attempt");
    assert_eq!(kept.len(), 1024 * 1024);
    assert!(kept.ends_with(b"399999\n400000\nLAST\n"));
    let total: i64 = (1..=400_000)
        .map(|n: i64| n.to_string().len() as i64 + 1)
        .sum::<i64>()
        + 5;
    assert_eq!(dropped + kept.len() as i64, total);
}

fn transition_audit_rows_obey_the_state_tables(backend: &Backend) {
    let sb = Sandbox::on(backend);
    let yaml = "\
name: audit
steps:
  - { name: ok, command: 'true' }
  - name: flaky
    command: '[ $TASKER_ATTEMPT -ge 2 ]'
    retry: { limit: 3, backoff: { base: 10ms } }
  - { name: dead, command: 'exit 127', depends_on: [ok] }
  - { name: blocked, command: 'true', depends_on: [dead] }
  - { name: tired, command: 'exit 1', retry: { limit: 2, backoff: { base: 10ms } } }
";
    let (code, id, err) = run(&sb, yaml, &[]);
    assert_eq!(code, 1, "{err}");
    let check = |sql: &str, entity: Entity| {
        let rows: Vec<(i64, Option<String>, String, i64, bool, String)> = sb
            .query(&sql.replace("?1", &id.to_string()))
            .into_iter()
            .map(|r| {
                let text = |i: usize| r[i].clone().unwrap_or_default();
                (
                    text(0).parse().expect("id"),
                    r[1].clone(),
                    text(2),
                    text(3).parse().expect("sort key"),
                    matches!(text(4).as_str(), "1" | "t"),
                    text(5),
                )
            })
            .collect();
        assert!(!rows.is_empty(), "no rows for {entity:?}");
        let mut by_owner: HashMap<i64, Vec<_>> = HashMap::new();
        for row in rows {
            by_owner.entry(row.0).or_default().push(row);
        }
        for (owner, rows) in &by_owner {
            let mut last: Option<State> = Some(State::Pending);
            for (i, (_, from, to, sort_key, most_recent, status)) in rows.iter().enumerate() {
                let from: State = from.as_deref().expect("from_state").parse().expect("state");
                let to: State = to.parse().expect("state");
                assert_eq!(Some(from), last, "{entity:?} {owner}: rows chain");
                assert!(
                    allowed(entity, from, to, Actor::Engine),
                    "{entity:?} {owner}: {from} → {to}"
                );
                assert_eq!(*sort_key, i as i64 + 1);
                assert_eq!(*most_recent, i + 1 == rows.len());
                if i + 1 == rows.len() {
                    assert_eq!(
                        to.as_str(),
                        status,
                        "the status column follows the last row"
                    );
                }
                last = Some(to);
            }
        }
        by_owner
    };
    let steps = check(
        "SELECT x.workflow_step_id, x.from_state, x.to_state, x.sort_key, x.most_recent, s.status
         FROM workflow_step_transitions x JOIN workflow_steps s USING (workflow_step_id)
         WHERE s.task_id = ?1 ORDER BY x.workflow_step_id, x.sort_key",
        Entity::Step,
    );
    let tasks = check(
        "SELECT t.task_id, x.from_state, x.to_state, x.sort_key, x.most_recent, t.status
         FROM task_transitions x JOIN tasks t USING (task_id) WHERE t.task_id = ?1 ORDER BY x.sort_key",
        Entity::Task,
    );
    assert_eq!(tasks[&id].len(), 2, "pending → in_progress → error");
    // ok: 2 rows; flaky: 5 (start, error, retry, start, complete); dead: 2; blocked: none;
    // tired: 5 (start, error, retry, start, error).
    let mut counts: Vec<usize> = steps.values().map(Vec::len).collect();
    counts.sort_unstable();
    assert_eq!(counts, vec![2, 2, 5, 5]);
}

#[test]
fn status_shows_a_table_from_another_process() {
    let sb = Sandbox::new();
    let (code, id, _) = run(&sb, FLAKY, &[]);
    assert_eq!(code, 0);
    let out = sb.run(&["status", &id.to_string()]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "task {id} default/flaky@0.1.0: complete (100% complete, all_complete)"
        )),
        "{text}"
    );
    let transform = text.lines().find(|l| l.contains("transform")).expect("row");
    assert!(
        transform.contains("complete") && transform.contains("3/3") && transform.contains("flaky"),
        "{transform}"
    );
}

#[test]
fn the_examples_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, steps) in [("order_fulfillment.yml", 6), ("data_pipeline.yml", 5)] {
        let sb = Sandbox::new();
        let out = sb
            .cmd()
            .args([
                "run",
                root.join("workflows").join(file).to_str().expect("utf8"),
                "--json",
            ])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        let doc = sb.status(task_id(&out));
        assert_eq!(doc["execution"]["completed_steps"], steps, "{file}");
    }
}

fn sigint_stops_the_steps_and_leaves_the_task_resumable(backend: &Backend) {
    for (n, (signal, code)) in [("-INT", 130), ("-TERM", 143)].into_iter().enumerate() {
        // One store for both rounds: the second round's task is task 2.
        let sb = Sandbox::on(backend);
        let id = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres(_) => n as i64 + 1,
        };
        sb.write(
            "t.yml",
            "name: long\nsteps:\n  - name: sleeper\n    command: sleep 300 & echo $! > pid; trap '' TERM; while true; do sleep 0.05; done\n  - { name: after, command: 'true', depends_on: [sleeper] }\n",
        );
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tasker"))
            .current_dir(sb.path())
            .env("TASKER_DB", sb.store())
            .args(["run", "t.yml", "--kill-grace", "300ms"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let pid_file = sb.path().join("pid");
        assert!(
            eventually(20, || pid_file.exists()),
            "the step never started"
        );
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("resume it with `tasker resume {id}`")),
            "{}",
            stderr(&out)
        );
        let grandchild: i32 = std::fs::read_to_string(&pid_file)
            .expect("pid")
            .trim()
            .parse()
            .expect("pid");
        assert!(
            eventually(5, || !alive(grandchild)),
            "grandchild {grandchild} survived"
        );
        let doc = sb.status(id);
        assert_eq!(doc["status"], "pending", "the task is resumable");
        let sleeper = Sandbox::step(&doc, "sleeper");
        assert_eq!(sleeper["status"], "error");
        assert_eq!(sleeper["error"]["class"], "interrupted");
        assert_eq!(Sandbox::step(&doc, "after")["status"], "pending");
    }
}

#[test]
fn two_runners_and_a_reader_share_one_store() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        &wide(40, "max_parallel: 4\n").replace("sleep 0.3", "sleep 0.01"),
    );
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("tasker"))
            .current_dir(sb.path())
            .env("TASKER_DB", sb.db())
            .args(["-q", "run", "t.yml"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    // Create the store first so both runners open an existing file.
    assert_eq!(sb.run(&["-q", "run", "t.yml"]).status.code(), Some(0));
    let (a, b) = (spawn(), spawn());
    for _ in 0..20 {
        let out = sb.run(&["tasks", "list", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let rows: Value =
        serde_json::from_slice(&sb.run(&["tasks", "list", "--json"]).stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(3));
    assert!(
        rows.as_array()
            .expect("rows")
            .iter()
            .all(|r| r["status"] == "complete" && r["steps_complete"] == 40)
    );
}

/// A shell command with no shell syntax is run directly, without `sh`; each command here
/// runs once as it is (directly) and once with a trailing `;` (through `sh -c`), and the two
/// must be indistinguishable: exit code, error class and message, retries, stdout, stderr,
/// environment, working directory, result.
#[test]
fn plain_commands_run_directly_behave_as_through_the_shell() {
    let sb = Sandbox::new();
    sb.write(
        "bin/hello",
        "#!/bin/sh\necho \"hello $*\"\necho \"to stderr\" >&2\n",
    );
    sb.write("bin/notexec", "#!/bin/sh\necho never\n");
    sb.write(
        "bin/fail",
        "#!/bin/sh\necho \"failing $TASKER_ATTEMPT\" >&2\nexit 3\n",
    );
    sb.write(
        "bin/result",
        "#!/bin/sh\necho '{\"n\": 1}' > \"$TASKER_OUTPUT\"\n",
    );
    for f in ["hello", "fail", "result"] {
        let p = sb.path().join("bin").join(f);
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    std::fs::create_dir_all(sb.path().join("sub")).expect("mkdir");
    let commands = [
        "./bin/hello a b",
        "printenv TASKER_STEP_NAME TASKER_ATTEMPT",
        "printenv PWD",
        "/bin/pwd",
        "ls no-such-file",
        "no-such-program --flag",
        "./bin/notexec",
        "./bin/fail",
        "./bin/result",
        "sleep 5",
        "true",
        "false",
    ];
    let mut yaml = String::from("name: direct\nsteps:\n");
    for (i, c) in commands.iter().enumerate() {
        for (form, line) in [("direct", c.to_string()), ("shell", format!("{c} ;"))] {
            yaml.push_str(&format!(
                "  - name: {form}_{i}\n    command: \"{line}\"\n    cwd: sub/..\n    timeout: 300ms\n    retry: {{ limit: 2, backoff: {{ base: 10ms }} }}\n"
            ));
        }
    }
    let (code, id, err) = run(&sb, &yaml, &["--kill-grace", "100ms"]);
    assert_eq!(code, 1, "{err}");
    let doc = sb.status(id);
    let logs = |step: &str, stream: &[&str]| {
        let out = sb.run(&[&["logs", &id.to_string(), step][..], stream].concat());
        stdout(&out).replace(step, "STEP")
    };
    for (i, c) in commands.iter().enumerate() {
        let (d, s) = (format!("direct_{i}"), format!("shell_{i}"));
        let (dj, sj) = (Sandbox::step(&doc, &d), Sandbox::step(&doc, &s));
        for key in ["status", "attempts", "results"] {
            assert_eq!(
                dj[key].to_string().replace(&d, "STEP"),
                sj[key].to_string().replace(&s, "STEP"),
                "`{c}`: {key}"
            );
        }
        assert_eq!(
            dj["error"]["class"], sj["error"]["class"],
            "`{c}`: error class"
        );
        assert_eq!(
            dj["error"]["message"]
                .as_str()
                .map(|m| m.replace(';', "").replace("  ", " ")),
            sj["error"]["message"]
                .as_str()
                .map(|m| m.replace(';', "").replace("  ", " ")),
            "`{c}`: error message"
        );
        assert_eq!(logs(&d, &[]), logs(&s, &[]), "`{c}`: stdout");
        assert_eq!(
            logs(&d, &["--stderr"]).replace(" ;", ""),
            logs(&s, &["--stderr"]).replace(" ;", ""),
            "`{c}`: stderr"
        );
    }
    // The commands did what they say, whichever way they ran.
    let dir = std::fs::canonicalize(sb.path()).expect("canonical");
    assert_eq!(logs("direct_0", &[]), "hello a b\n");
    assert_eq!(logs("direct_1", &[]), "STEP\n1\n");
    assert_eq!(logs("direct_3", &[]), format!("{}\n", dir.display()));
    assert_eq!(Sandbox::step(&doc, "direct_5")["status"], "error");
    assert_eq!(Sandbox::step(&doc, "direct_7")["attempts"], 2);
    assert_eq!(
        Sandbox::step(&doc, "direct_8")["results"],
        serde_json::json!({"n": 1})
    );
    assert_eq!(Sandbox::step(&doc, "direct_9")["error"]["class"], "timeout");
}

/// A program named without a `/` is found on the step's own `PATH` as exec would find it
/// (the first directory with an executable file of that name), keeps the `argv[0]` it was
/// given, and a step whose `PATH` changes finds the program of the new `PATH`.
#[test]
fn programs_are_found_on_the_steps_path() {
    let sb = Sandbox::new();
    let chmod = |name: &str, mode: u32| {
        let p = sb.path().join(name);
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .expect("chmod");
    };
    sb.write("first/tool", "#!/bin/sh\necho first $*\n");
    sb.write("second/tool", "#!/bin/sh\necho second $*\n");
    sb.write("third/tool", "#!/bin/sh\necho third $*\n");
    chmod("first/tool", 0o644);
    chmod("second/tool", 0o755);
    chmod("third/tool", 0o755);
    let dir = sb.path().display();
    let yaml = format!(
        "name: lookup
steps:
  - name: plain
    command: tool a b
    env: {{ PATH: \"{dir}/first:{dir}/second:/usr/bin:/bin\" }}
  - name: argv
    command: [tool, c]
    env: {{ PATH: \"{dir}/first:{dir}/second:/usr/bin:/bin\" }}
  - name: other_path
    command: tool d
    env: {{ PATH: \"{dir}/third:/usr/bin:/bin\" }}
  - name: arg0
    command: cat /proc/self/cmdline
  - name: missing
    command: no-such-tool-anywhere x
    env: {{ PATH: \"{dir}/first:/usr/bin:/bin\" }}
"
    );
    let (code, id, err) = run(&sb, &yaml, &[]);
    assert_eq!(code, 1, "{err}");
    let logs = |step: &str| stdout(&sb.run(&["logs", &id.to_string(), step]));
    assert_eq!(logs("plain"), "second a b\n");
    assert_eq!(logs("argv"), "second c\n");
    assert_eq!(logs("other_path"), "third d\n");
    assert_eq!(logs("arg0"), "cat\0/proc/self/cmdline\0");
    let doc = sb.status(id);
    let missing = Sandbox::step(&doc, "missing");
    assert_eq!(missing["status"], "error", "{missing}");
    assert_eq!(missing["error"]["class"], "exit_code", "{missing}");
    assert!(
        missing["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("127")),
        "{missing}"
    );
}

/// What a started program is given: no blocked signals and SIGPIPE not ignored (tasker
/// ignores it, the program must not), stdin from `/dev/null`, no descriptor but the standard three, a
/// process group of its own, tasker's environment with the step's variables over it, and a
/// relative `PATH` directory taken from the step's directory, as exec takes it.
#[test]
fn started_programs_get_a_clean_process() {
    let sb = Sandbox::new();
    sb.write("work/bin/here", "#!/bin/sh\necho here $*\n");
    std::fs::set_permissions(
        sb.path().join("work/bin/here"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let yaml = format!(
        "name: clean
steps:
  - name: signals
    command: grep -E '^Sig(Blk|Ign)' /proc/self/status
  - name: fds
    command: [ls, /proc/self/fd]
  - name: stdin
    command: readlink /proc/self/fd/0
  - name: group
    command: 'test \"$(ps -o pgid= -p $$ | tr -d \" \")\" = \"$$\" && echo own'
  - name: env
    command: 'echo \"$KEPT $CHANGED\"'
    env: {{ CHANGED: step }}
  - name: relative
    command: here x
    env: {{ PATH: \"bin:/usr/bin:/bin\" }}
    cwd: \"{}/work\"
",
        sb.path().display()
    );
    sb.write("t.yml", &yaml);
    let out = sb
        .cmd_std()
        .args(["run", "t.yml"])
        .env("KEPT", "kept")
        .env("CHANGED", "parent")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let id = task_id(&out).to_string();
    let logs = |step: &str| stdout(&sb.run(&["logs", &id, step]));
    // Signals ignored where tasker was started (`nohup`) stay ignored, as a shell leaves
    // them; SIGPIPE, which tasker itself ignores, is the child's again.
    let signals = logs("signals");
    let mask = |name: &str| {
        let line = signals.lines().find(|l| l.starts_with(name)).expect(name);
        u64::from_str_radix(line.rsplit('\t').next().unwrap_or_default(), 16).expect("hex")
    };
    assert_eq!(mask("SigBlk"), 0, "{signals}");
    assert_eq!(mask("SigIgn") & (1 << (libc::SIGPIPE - 1)), 0, "{signals}");
    // `ls` reads the directory through a descriptor of its own: 3. Descriptors handed down
    // to this test (and so to tasker) without close-on-exec go on down; none of tasker's own.
    let mut expected: Vec<i32> = vec![0, 1, 2, 3];
    for entry in std::fs::read_dir("/proc/self/fd").expect("fds").flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // `flags:` in octal; 02000000 is close-on-exec.
        let inheritable = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))
            .ok()
            .and_then(|info| {
                let flags = info.lines().find_map(|l| l.strip_prefix("flags:"))?;
                u32::from_str_radix(flags.trim(), 8).ok()
            })
            .is_some_and(|flags| flags & 0o2000000 == 0);
        if fd > 3 && inheritable {
            expected.push(fd);
        }
    }
    let mut fds: Vec<i32> = logs("fds").lines().filter_map(|l| l.parse().ok()).collect();
    fds.sort_unstable();
    expected.sort_unstable();
    assert_eq!(fds, expected);
    assert_eq!(logs("stdin"), "/dev/null\n");
    assert_eq!(logs("group"), "own\n");
    assert_eq!(logs("env"), "kept step\n");
    assert_eq!(logs("relative"), "here x\n");
}

/// A step's input document is written in a directory only its owner can read, and removed
/// with it when the run ends.
#[test]
fn input_documents_are_private_and_removed() {
    let sb = Sandbox::new();
    let yaml = "name: private
steps:
  - name: look
    command: 'stat -c \"%a %U\" \"$(dirname \"$TASKER_INPUT\")\"; echo \"$TASKER_INPUT\"'
";
    let (code, id, err) = run(&sb, yaml, &[]);
    assert_eq!(code, 0, "{err}");
    let out = stdout(&sb.run(&["logs", &id.to_string(), "look"]));
    let mut lines = out.lines();
    let mode = lines.next().unwrap_or_default();
    assert!(mode.starts_with("700 "), "{out}");
    let input = std::path::PathBuf::from(lines.next().unwrap_or_default());
    assert!(input.is_absolute(), "{out}");
    assert!(!input.exists(), "{} was left behind", input.display());
    assert!(
        !input.parent().expect("a directory").exists(),
        "{out}: its directory was left behind"
    );
}

/// Noop steps run nothing, so they take no concurrency slot: with `-j 1` and a slow step
/// holding the only slot, independent joins still finish, before it does.
#[test]
fn noop_steps_take_no_slot() {
    let sb = Sandbox::new();
    let (code, id, err) = run(
        &sb,
        "name: joins\nsteps:\n  - { name: slow, command: 'sleep 0.5' }\n  - { name: j1, noop: true }\n  - { name: j2, noop: true }\n  - { name: j3, noop: true, depends_on: [j1, j2] }\n",
        &["-j", "1"],
    );
    assert_eq!(code, 0, "{err}");
    let doc = sb.status(id);
    let slow_end = Sandbox::step(&doc, "slow")["finished_at"]
        .as_str()
        .expect("end")
        .to_owned();
    for j in ["j1", "j2", "j3"] {
        let end = Sandbox::step(&doc, j)["finished_at"]
            .as_str()
            .expect("end")
            .to_owned();
        assert!(
            end < slow_end,
            "{j} ended at {end}, after slow at {slow_end}"
        );
    }
}

/// More noop steps than one commit holds: the run goes on over several capped rounds and
/// every step ends complete with one attempt and its full audit trail.
#[test]
fn long_noop_chains_span_several_commits() {
    let sb = Sandbox::new();
    let mut yaml = String::from("name: joins\nsteps:\n  - { name: s0, noop: true }\n");
    for i in 1..600 {
        yaml.push_str(&format!(
            "  - {{ name: s{i}, noop: true, depends_on: [s{}] }}\n",
            i - 1
        ));
    }
    let (code, id, err) = run(&sb, &yaml, &[]);
    assert_eq!(code, 0, "{err}");
    let doc = sb.status(id);
    assert_eq!(doc["execution"]["completed_steps"], 600);
    let db = sb.sqlite();
    let transitions: i64 = db
        .query_row("SELECT COUNT(*) FROM workflow_step_transitions", [], |r| {
            r.get(0)
        })
        .expect("count");
    let attempts: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM step_attempts WHERE outcome = 'complete'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(attempts, 600);
    // Each step: pending → in_progress, then in_progress → complete.
    assert_eq!(transitions, 1200);
}

/// Group commit keeps the promise: a step starts only once its parents' completions are in
/// the store (a child reads them there), and its own start is recorded before it runs.
#[test]
fn a_step_starts_only_after_its_parents_are_durable() {
    let Some(python) = crate::support::tool("python3") else {
        return;
    };
    let sb = Sandbox::new();
    sb.write(
        "check.py",
        "import os, sqlite3\n\
         c = sqlite3.connect(os.environ['STORE'])\n\
         status = lambda n: c.execute('SELECT status FROM workflow_steps WHERE name = ?', (n,)).fetchone()[0]\n\
         me = os.environ['TASKER_STEP_NAME']\n\
         print(me, *[status(p) for p in ('p1', 'p2', 'p3')], status(me), file=open('seen', 'a'))\n",
    );
    let mut yaml =
        String::from("name: durable\nmax_parallel: 4\nenv: { STORE: tasker.db }\nsteps:\n");
    for p in ["p1", "p2", "p3"] {
        yaml.push_str(&format!("  - {{ name: {p}, command: 'true' }}\n"));
    }
    for c in ["c1", "c2", "c3", "c4"] {
        yaml.push_str(&format!(
            "  - {{ name: {c}, depends_on: [p1, p2, p3], command: '{} check.py' }}\n",
            python.display()
        ));
    }
    let (code, _, err) = run(&sb, &yaml, &[]);
    assert_eq!(code, 0, "{err}");
    let seen = sb.lines("seen");
    assert_eq!(seen.len(), 4, "{seen:?}");
    for line in &seen {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            &words[1..],
            ["complete", "complete", "complete", "in_progress"],
            "each child saw its parents complete and itself started, in the store: {line}"
        );
    }
}

on_both_stores!(
    dependents_never_start_before_their_parents_finish,
    exhausted_retries_fail_the_task_but_independent_branches_finish,
    results_and_environment_reach_status,
    a_task_timeout_stops_everything,
    retry_then_success_marks_the_step_flaky,
    transition_audit_rows_obey_the_state_tables,
    sigint_stops_the_steps_and_leaves_the_task_resumable,
);
