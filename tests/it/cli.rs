//! The command line as a tool: flags of DESIGN §9.1, the config file and its precedence.

use serde_json::Value;

use crate::support::{Sandbox, eventually, stderr, stdout, task_id};

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "\
name: plan
schema: { type: object, properties: { who: { type: string, default: world } } }
steps:
  - { name: hello, command: 'echo hello {{ context.who }} > out' }
  - { name: call, http: { method: POST, url: 'http://127.0.0.1:9/{{ context.who }}', json: { id: '{{ steps.hello.results.id }}' } }, depends_on: [hello] }
  - { name: later, noop: true, depends_on: [call] }
",
    );
    let out = sb.run(&["run", "t.yml", "--dry-run", "--set", "who=it's me"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "plan of default/plan@0.1.0 (3 steps, 3 levels); nothing was run or written\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "level 1\n  hello: command echo hello \"${TASKER_REF_1}\" > out\n      TASKER_REF_1=it's me\n"
        ),
        "the line as it would run, and the value it reads: {text}"
    );
    assert!(text.contains("  call: http POST http://127.0.0.1:9/it%27s%20me json {\"id\":\"<steps.hello.results.id>\"}"), "{text}");
    assert!(text.contains("level 3\n  later: noop (nothing)"), "{text}");
    assert!(!sb.db().exists(), "nothing written");
    assert!(!sb.path().join("out").exists(), "nothing run");

    let json: Value =
        serde_json::from_slice(&sb.run(&["run", "t.yml", "--dry-run", "--json"]).stdout)
            .expect("json");
    assert_eq!(json["context"]["who"], "world", "schema defaults applied");
    assert_eq!(json["levels"][1][0]["kind"], "http");

    sb.write(
        "bad.yml",
        "name: bad\nsteps:\n  - { name: a, command: 'echo {{ context.missing }}' }\n",
    );
    let out = sb.run(&["run", "bad.yml", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("step `a`: `{{ context.missing }}` has no value"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.db().exists());
}

#[test]
fn follow_output_streams_with_step_prefixes() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'echo one; echo two >&2; printf partial' }\n  - { name: b, command: 'echo three', depends_on: [a] }\n",
    );
    let out = sb.run(&["run", "t.yml", "--follow-output"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "task 1\n[a] one\n[a] partial\n[b] three\n");
    assert!(stderr(&out).contains("[a] two\n"), "{}", stderr(&out));
    // Without it, nothing of the steps' output is shown.
    let quiet = sb.run(&["run", "t.yml"]);
    assert_eq!(stdout(&quiet), "task 2\n");
}

#[test]
fn detach_returns_at_once_and_the_task_runs_on() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: bg\nsteps:\n  - { name: wait, command: 'while [ ! -f open ]; do sleep 0.05; done; echo done > finished' }\n",
    );
    let started = std::time::Instant::now();
    let out = sb.run(&["run", "t.yml", "--detach"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(stdout(&out), "task 1\n");
    assert!(
        eventually(20, || sb.state_now(1).as_deref() == Some("in_progress")),
        "the background runner took it"
    );
    assert_eq!(sb.status(1)["orphaned"], false);
    std::fs::write(sb.path().join("open"), "").expect("open");
    assert!(eventually(20, || sb.state_now(1).as_deref() == Some("complete")));
    assert!(sb.path().join("finished").exists());
    // Detached tasks can be cancelled like any other.
    let out = sb.run(&["run", "t.yml", "--detach"]);
    let id = task_id(&out).to_string();
    std::fs::remove_file(sb.path().join("open")).expect("rm");
    assert!(eventually(20, || sb.state_now(2).as_deref() == Some("in_progress")));
    let cancel = sb.run(&["cancel", &id]);
    assert_eq!(cancel.status.code(), Some(0), "{}", stderr(&cancel));
    assert!(eventually(20, || sb.state_now(2).as_deref() == Some("cancelled")));
}

#[test]
fn status_watch_follows_until_the_end() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: w\nsteps:\n  - { name: a, command: 'while [ ! -f open ]; do sleep 0.05; done' }\n  - { name: b, command: 'true', depends_on: [a] }\n",
    );
    let run = sb.spawn(&["run", "t.yml"]);
    // The store may exist before the task does: asked until it is there and running.
    assert!(eventually(20, || {
        let out = sb.run(&["status", "1", "--json"]);
        serde_json::from_slice::<Value>(&out.stdout).is_ok_and(|doc| doc["status"] == "in_progress")
    }));
    let mut watch = sb.spawn_logged("watch", &["status", "1", "--watch", "--json"]);
    // The watcher has shown the task running before the step is let go.
    assert!(eventually(20, || sb.holds("watch.out", "\"in_progress\"")));
    std::fs::write(sb.path().join("open"), "").expect("open");
    assert_eq!(watch.wait().expect("watch").code(), Some(0));
    let docs: Vec<Value> = std::fs::read_to_string(sb.path().join("watch.out"))
        .expect("watch output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(docs.len() >= 2, "{docs:?}");
    assert_eq!(docs[0]["status"], "in_progress");
    assert_eq!(
        docs.last().map(|d| d["status"].clone()),
        Some(Value::from("complete"))
    );
    assert_eq!(run.wait_with_output().expect("run").status.code(), Some(0));
    // On a finished task it prints once and ends.
    let once = sb.run(&["status", "1", "--watch"]);
    assert_eq!(once.status.code(), Some(0));
    assert!(stdout(&once).contains("complete"));
}

#[test]
fn the_config_file_mirrors_the_flags_with_precedence() {
    let sb = Sandbox::new();
    sb.write("flows/t.yml", "name: conf\nsteps:\n  - { name: a, command: 'sleep 0.2' }\n  - { name: b, command: 'sleep 0.2' }\n  - { name: c, command: 'sleep 0.2' }\n");
    sb.write(
        "tasker.toml",
        "db = \"from-file.db\"\nconcurrency = 1\ntemplates = [\"flows\"]\ncolor = \"never\"\nkill_grace = \"2s\"\ndurability = \"full\"\n",
    );
    // The file's db, templates and concurrency apply (TASKER_DB is removed for this).
    let out = sb
        .cmd()
        .env_remove("TASKER_DB")
        .args(["run", "default/conf", "--summary-json", "s.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(sb.path().join("from-file.db").exists());
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join("s.json")).expect("summary"))
            .expect("json");
    assert_eq!(s["parallelism"], 1, "concurrency = 1 from the file");
    // The variable beats the file, the flag beats the variable.
    let out = sb
        .cmd()
        .env_remove("TASKER_DB")
        .env("TASKER_CONCURRENCY", "3")
        .args(["run", "default/conf", "--summary-json", "s.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join("s.json")).expect("summary"))
            .expect("json");
    assert_eq!(s["parallelism"], 3);
    let out = sb
        .cmd()
        .env_remove("TASKER_DB")
        .env("TASKER_CONCURRENCY", "3")
        .args(["run", "default/conf", "-j", "2", "--summary-json", "s.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join("s.json")).expect("summary"))
            .expect("json");
    assert_eq!(s["parallelism"], 2);

    let shown = sb
        .cmd()
        .env_remove("TASKER_DB")
        .env("TASKER_CONCURRENCY", "3")
        .args(["--color", "always", "config", "show", "--json"])
        .output()
        .expect("show");
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let c: Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!(c["file"], "tasker.toml");
    assert_eq!(
        c["settings"]["db"],
        serde_json::json!({"value": "from-file.db", "source": "file tasker.toml"})
    );
    assert_eq!(
        c["settings"]["concurrency"],
        serde_json::json!({"value": "3", "source": "env TASKER_CONCURRENCY"})
    );
    assert_eq!(
        c["settings"]["color"],
        serde_json::json!({"value": "always", "source": "flag"})
    );
    assert_eq!(c["settings"]["durability"]["value"], "full");
    assert_eq!(
        c["settings"]["log_format"],
        serde_json::json!({"value": "text", "source": "default"})
    );
    let text = stdout(
        &sb.cmd()
            .env_remove("TASKER_DB")
            .args(["config", "show"])
            .output()
            .expect("show"),
    );
    assert!(text.contains("kill_grace    2.0s"), "{text}");
    let sync: i64 = rusqlite::Connection::open(sb.path().join("from-file.db"))
        .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
        .expect("db");
    assert_eq!(sync, tasker::store::SCHEMA_VERSION);
}

#[test]
fn relative_paths_in_the_user_config_are_relative_to_it() {
    let sb = Sandbox::new();
    sb.write(
        "xdg/tasker/config.toml",
        "db = \"state/t.db\"\ntemplates = \"flows\"\n",
    );
    sb.write(
        "xdg/tasker/flows/t.yml",
        "name: anchored\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    std::fs::create_dir_all(sb.path().join("xdg/tasker/state")).expect("mkdir");
    std::fs::create_dir_all(sb.path().join("elsewhere")).expect("mkdir");
    let out = sb
        .cmd()
        .current_dir(sb.path().join("elsewhere"))
        .env_remove("TASKER_DB")
        .env("XDG_CONFIG_HOME", sb.path().join("xdg"))
        .args(["run", "anchored"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(sb.path().join("xdg/tasker/state/t.db").is_file());
}

#[test]
fn a_bad_config_value_names_the_file_and_key() {
    let sb = Sandbox::new();
    sb.write(
        "tasker.toml",
        "concurrency = 0\ntrace = \"zipkin\"\ncolour = \"never\"\nkill_grace = \"soon\"\n",
    );
    let out = sb.run(&["tasks", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("tasker.toml: `concurrency`: expected an integer from 1 to 100000"),
        "{err}"
    );
    assert!(
        err.contains("tasker.toml: `trace`: `zipkin` is not allowed"),
        "{err}"
    );
    assert!(
        err.contains("tasker.toml: unknown key `colour`\n  hint: did you mean `color`?"),
        "{err}"
    );
    assert!(
        err.contains("tasker.toml: `kill_grace`: invalid duration `soon`"),
        "{err}"
    );
}

#[test]
fn tasks_list_since_filters_by_age() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    sb.sqlite()
        .execute("UPDATE tasks SET created_at = created_at - 7200000", [])
        .expect("age it");
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    let ids = |since: &str| -> Vec<i64> {
        let v: Value = serde_json::from_slice(
            &sb.run(&["tasks", "list", "--since", since, "--json"])
                .stdout,
        )
        .expect("json");
        v.as_array()
            .expect("array")
            .iter()
            .filter_map(|r| r["task_id"].as_i64())
            .collect()
    };
    assert_eq!(ids("1h"), vec![2]);
    assert_eq!(ids("3h"), vec![2, 1]);
    assert_eq!(
        sb.run(&["tasks", "list", "--since", "yesterday"])
            .status
            .code(),
        Some(2)
    );
}

/// An output file that cannot be written fails the command after the run, which stays
/// recorded; it is never a silent success.
#[test]
fn an_output_that_cannot_be_written_is_an_error() {
    if !std::path::Path::new("/dev/full").exists() {
        crate::support::skip("no /dev/full");
        return;
    }
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    for (n, flag) in ["--events-out", "--summary-json"].iter().enumerate() {
        let out = sb.run(&["run", "t.yml", flag, "/dev/full"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(7), "{flag}: {err}");
        let id = n as i64 + 1;
        assert!(
            err.contains(&format!(
                "`{flag}`: cannot write `/dev/full`: No space left on device"
            )) && err.contains(&format!("task {id} is `complete` all the same")),
            "{err}"
        );
        assert_eq!(sb.status(id)["status"], "complete");
    }
}

/// A `TASKER_*` variable is checked as its config key is: refused with exit 2, never
/// silently ignored, and before anything is written.
#[test]
fn tasker_variables_are_checked_like_their_file_keys() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    for (var, value, message) in [
        (
            "TASKER_DURABILITY",
            "paranoid",
            "TASKER_DURABILITY: `paranoid` is not allowed\n  hint: one of: normal, full",
        ),
        (
            "TASKER_DURABILITY",
            "fulll",
            "TASKER_DURABILITY: `fulll` is not allowed\n  hint: did you mean `full`?",
        ),
        (
            "TASKER_FLUSH_TIMEOUT",
            "soon",
            "TASKER_FLUSH_TIMEOUT: invalid duration `soon`",
        ),
        ("TASKER_LOG", "=[", "TASKER_LOG: `=[` is not a log filter"),
        ("TASKER_CONCURRENCY", "0", "invalid value '0'"),
        ("TASKER_KILL_GRACE", "later", "invalid value 'later'"),
    ] {
        let out = sb
            .cmd()
            .env(var, value)
            .args(["run", "t.yml"])
            .output()
            .expect("run");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {err}");
        assert!(err.contains(message), "{var}={value}: {err}");
        assert!(!sb.db().exists(), "{var}={value}: the store was written");
    }
    // The config file refuses the same value with the same words.
    sb.write(".config/tasker/config.toml", "durability = \"paranoid\"\n");
    let err = stderr(&sb.run(&["run", "t.yml"]));
    assert!(
        err.contains("`durability`: `paranoid` is not allowed"),
        "{err}"
    );
}

/// Where a user is stuck, the next step is named: after a failed run, on an unknown task,
/// under the event catalog (which a pipe gets at a readable width).
#[test]
fn hints_where_the_user_is_stuck() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: bad, command: 'echo oops >&2; exit 3', retry: 1 }\n",
    );
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("gave up  bad after 1 attempt\n"), "{err}");
    assert!(
        err.contains("next: `tasker logs 1 bad --stderr` shows what it said; once the cause is fixed, `tasker retry 1` runs the failed steps again"),
        "{err}"
    );
    let logs = sb.run(&["logs", "1", "bad", "--stderr"]);
    assert_eq!(stdout(&logs), "oops\n", "the hint's command works");
    let out = sb.run(&["status", "2"]);
    assert!(stderr(&out).contains("hint: `tasker tasks list`"));
    let out = sb.run(&["events", "list"]);
    let text = stdout(&out);
    assert!(
        text.lines().all(|l| l.chars().count() <= 100),
        "wrapped to 100 columns in a pipe: {text}"
    );
    assert!(text.contains("`tasker events log ID`"), "{text}");
}

/// The runner's scratch directory failing is named as such, with how to move it (exit 7, an
/// I/O failure, not a store error); the task is left to resume.
#[test]
fn a_scratch_directory_that_cannot_be_made_names_itself() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb
        .cmd()
        .env("TMPDIR", sb.path().join("no/such/dir"))
        .args(["run", "t.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot create the runner's scratch directory `")
            && err.contains("no/such/dir/tasker-1-")
            && err.contains("point TMPDIR at a writable directory")
            && err.contains("`tasker resume 1` runs it"),
        "{err}"
    );
    assert!(!err.contains("cannot open the store"), "{err}");
    assert_eq!(sb.status(1)["status"], "pending", "nothing was claimed");
    let out = sb.run(&["resume", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
