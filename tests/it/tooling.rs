//! The tool around the runner: completions and man pages, `--help`, `--version`, `new`, `db`.

use clap::CommandFactory;
use serde_json::Value;

use crate::support::{Sandbox, stderr, stdout, task_id, tool};

fn root() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn completions_and_man_pages_are_up_to_date() {
    let sb = Sandbox::new();
    let out = sb.run(&["generate-docs", "--completions", "c", "--man", "m"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (fresh, committed) in [("c", "completions"), ("m", "man")] {
        let list = |d: &std::path::Path| {
            let mut names: Vec<String> = std::fs::read_dir(d)
                .expect("dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let names = list(&sb.path().join(fresh));
        assert_eq!(
            names,
            list(&root().join(committed)),
            "{committed}/ lists other files: run `tasker generate-docs`"
        );
        for n in names {
            let a = std::fs::read(sb.path().join(fresh).join(&n)).expect("fresh");
            let b = std::fs::read(root().join(committed).join(&n)).expect("committed");
            assert!(
                a == b,
                "{committed}/{n} is stale: run `cargo run -- generate-docs`"
            );
        }
    }
    assert!(
        std::fs::read_dir(root().join("man")).expect("man").count() > 20,
        "a page per subcommand"
    );
    let printed = sb.run(&["completions", "fish"]);
    assert_eq!(
        printed.stdout,
        std::fs::read(root().join("completions/tasker.fish")).expect("fish")
    );
    assert_eq!(sb.run(&["completions", "tcsh"]).status.code(), Some(2));
}

/// What the generated bash completion offers for the command line `words` (the last word
/// being completed), run by a real bash.
fn bash_completions(words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let (current, previous) = (words[words.len() - 1], words[words.len() - 2]);
    let script = format!(
        "source {}\nCOMP_WORDS=({line})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT={}\n_tasker tasker {current} {previous}\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        root().join("completions/tasker.bash").display(),
        words.len() - 1,
        line.len()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_subcommands() {
    let words = bash_completions(&["tasker", "st"]);
    assert!(words.iter().any(|w| w == "status"), "{words:?}");
    let words = bash_completions(&["tasker", "db", "p"]);
    assert!(
        words.iter().any(|w| w == "prune") && words.iter().any(|w| w == "path"),
        "{words:?}"
    );
}

#[test]
fn the_man_page_renders() {
    let Some(man) = tool("man") else { return };
    let out = std::process::Command::new(man)
        .args(["-l", root().join("man/tasker.1").to_str().expect("utf8")])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .expect("man");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("SYNOPSIS") && text.contains("tasker"),
        "{text}"
    );
    assert!(text.contains("resume"), "the subcommands are listed");
    assert!(
        !text.contains("tasker-help"),
        "no page that does not exist: {text}"
    );
    // Every command is described, groups too.
    for group in ["tasker-events(1)", "tasker-tasks(1)", "tasker-db(1)"] {
        let after = text
            .split_once(group)
            .unwrap_or_else(|| panic!("{group} listed: {text}"))
            .1;
        let described = after.lines().nth(1).unwrap_or_default().trim();
        assert!(
            !described.is_empty() && !described.starts_with("tasker-"),
            "{group} has a description: {text}"
        );
    }
    // Examples are kept as written: a line is neither joined nor broken.
    let out = std::process::Command::new(tool("man").expect("man"))
        .args([
            "-l",
            root().join("man/tasker-run.1").to_str().expect("utf8"),
        ])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .expect("man");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "  tasker run pipeline.yml --set date=2026-11-27 --set retries.max=3 --env staging\n"
        ),
        "{text}"
    );
}

#[test]
fn top_level_help_describes_every_command_and_hides_internals() {
    let sb = Sandbox::new();
    for args in [&["--help"][..], &[][..]] {
        let out = sb.run(args);
        let text = format!("{}{}", stdout(&out), crate::support::stderr(&out));
        assert!(!text.contains("generate-docs"), "{text}");
        let commands = text
            .split_once("Commands:\n")
            .expect("a command list")
            .1
            .split_once("\n\n")
            .expect("its end")
            .0;
        for line in commands
            .lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        {
            let mut words = line.split_whitespace();
            let name = words.next().unwrap_or_default();
            assert!(
                words.next().is_some(),
                "`{name}` has no description: {text}"
            );
        }
    }
}

#[test]
fn every_subcommand_help_has_examples() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            let name = format!("{path} {}", sub.get_name());
            let leaf = sub.get_subcommands().next().is_none();
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            if leaf && !help.contains("Examples:") {
                missing.push(name.clone());
            }
            walk(sub, &name, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&tasker::cli::Cli::command(), "tasker", &mut missing);
    assert!(missing.is_empty(), "no examples in --help of: {missing:?}");
    let help = stdout(&Sandbox::new().run(&["run", "--help"]));
    assert!(
        help.contains("Examples:") && help.contains("--dry-run"),
        "{help}"
    );
}

#[test]
fn version_names_the_revision() {
    let out = Sandbox::new().run(&["--version"]);
    let text = stdout(&out);
    let (name, rest) = text.trim().split_once(' ').expect("name and version");
    assert_eq!(name, "tasker");
    let (version, rev) = rest.split_once(' ').expect("version and revision");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let rev = rev.trim_start_matches('(').trim_end_matches(')');
    assert!(
        rev == "unknown" || (rev.len() == 12 && rev.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}

#[test]
fn new_scaffolds_a_template_that_runs() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "new",
        "sync",
        "--namespace",
        "ops",
        "--steps",
        "pull,merge,push,notify",
        "--dir",
        "flows",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("wrote flows/sync.yml and flows/plugins/sync"));
    let v = sb.run(&["validate", "flows/sync.yml"]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    assert!(
        stdout(&v).contains("longest path  4 steps: pull → merge → push → notify"),
        "{}",
        stdout(&v)
    );
    let run = sb.run(&[
        "run",
        "ops/sync",
        "--templates",
        "flows",
        "--set",
        "greeting=hi",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let doc = sb.status(task_id(&run));
    assert_eq!(
        Sandbox::step(&doc, "merge")["results"]["step"],
        "merge",
        "the plugin ran"
    );
    assert_eq!(Sandbox::step(&doc, "pull")["results"]["items"], 3);
    let again = sb.run(&["new", "sync", "--dir", "flows"]);
    assert_eq!(again.status.code(), Some(5));
    assert!(stderr(&again).contains("exists; tasker new does not overwrite"));
    assert_eq!(sb.run(&["new", "bad name"]).status.code(), Some(2));
    assert_eq!(
        sb.run(&["new", "x", "--steps", "a,a"]).status.code(),
        Some(2)
    );
    let plain = sb.run(&["new", "plain"]);
    assert_eq!(plain.status.code(), Some(0));
    assert_eq!(
        sb.run(&["run", "workflows/plain.yml"]).status.code(),
        Some(0)
    );
}

#[test]
fn db_path_migrate_check_prune_vacuum() {
    let sb = Sandbox::new();
    assert_eq!(
        stdout(&sb.run(&["db", "path"])).trim(),
        sb.db().display().to_string()
    );
    assert_eq!(
        sb.run(&["db", "check"]).status.code(),
        Some(6),
        "no store yet: a store error (exit 6)"
    );
    let out = sb.run(&["db", "migrate"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains(&format!("schema version {}", tasker::store::SCHEMA_VERSION)));
    let check: Value =
        serde_json::from_slice(&sb.run(&["db", "check", "--json"]).stdout).expect("json");
    assert_eq!(check, serde_json::json!({"ok": true, "problems": []}));

    sb.write("ok.yml", "name: ok\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a] }\n");
    sb.write(
        "bad.yml",
        "name: bad\nsteps:\n  - { name: a, command: 'exit 1', retry: 1 }\n",
    );
    for f in ["ok.yml", "ok.yml", "bad.yml", "ok.yml"] {
        sb.run(&["run", f]);
    }
    // Tasks 1-3 are old; one running task is old too and must survive.
    let conn = sb.sqlite();
    conn.execute(
        "UPDATE tasks SET created_at = created_at - 86400000 * 40 WHERE task_id <= 3",
        [],
    )
    .expect("age");
    conn.execute(
        "UPDATE tasks SET status = 'in_progress', created_at = 0 WHERE task_id = 4",
        [],
    )
    .expect("running");
    let dry: Value = serde_json::from_slice(
        &sb.run(&["db", "prune", "--older-than", "30d", "--dry-run", "--json"])
            .stdout,
    )
    .expect("json");
    assert_eq!(
        dry["removed"],
        serde_json::json!({"tasks": 2, "steps": 4, "attempts": 4, "events": dry["removed"]["events"]})
    );
    // The events counted are those the tasks' logs hold (1 and 2 go), in pages or on
    // their steps' rows.
    let logged = |id: &str| {
        stdout(&sb.run(&["events", "log", id, "--json"]))
            .lines()
            .count()
    };
    assert_eq!(
        dry["removed"]["events"].as_u64(),
        Some((logged("1") + logged("2")) as u64)
    );
    assert_eq!(sb.run(&["tasks", "list", "--json"]).status.code(), Some(0));
    let out = sb.run(&["db", "prune", "--older-than", "30d"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("removed 2 tasks, 4 steps, 4 attempts, "),
        "{}",
        stdout(&out)
    );
    let left: Vec<i64> =
        serde_json::from_slice::<Value>(&sb.run(&["tasks", "list", "--json"]).stdout)
            .expect("json")
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["task_id"].as_i64())
            .collect();
    assert_eq!(
        left,
        vec![4, 3],
        "the failed task (not asked for) and the running one stay"
    );
    let out = sb.run(&["db", "prune", "--older-than", "30d", "--status", "error"]);
    assert!(
        stdout(&out).starts_with("removed 1 task, 1 step, 1 attempt, "),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        sb.run(&[
            "db",
            "prune",
            "--older-than",
            "1d",
            "--status",
            "in_progress"
        ])
        .status
        .code(),
        Some(2)
    );
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM workflow_steps WHERE task_id NOT IN (SELECT task_id FROM tasks)",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(orphans, 0, "steps went with their tasks");
    let out = sb.run(&["db", "vacuum"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains(" KiB → "), "{}", stdout(&out));
    assert_eq!(
        stdout(&sb.run(&["db", "check"])).trim(),
        format!("{}: ok", sb.db().display())
    );

    // A broken reference is reported, exit 6.
    conn.execute_batch("UPDATE workflow_steps SET parents = '[9999]' WHERE workflow_step_id = (SELECT MAX(workflow_step_id) FROM workflow_steps);").expect("break");
    let out = sb.run(&["db", "check"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(
        stdout(&out).contains("names 9999, not a step of task"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn every_read_command_speaks_json() {
    let sb = Sandbox::new();
    sb.write(
        "workflows/t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'echo hi' }\n",
    );
    assert_eq!(sb.run(&["run", "workflows/t.yml"]).status.code(), Some(0));
    for args in [
        &["status", "1", "--json"][..],
        &["tasks", "list", "--json"],
        &["validate", "workflows/t.yml", "--json"],
        &["templates", "list", "--json"],
        &["templates", "show", "default/t", "--json"],
        &["events", "list", "--json"],
        &["analytics", "--json"],
        &["health", "--json"],
        &["config", "show", "--json"],
        &["db", "check", "--json"],
        &["logs", "1", "a", "--json"],
        &["diagram", "1", "--format", "json"],
        &["metrics", "--format", "json"],
    ] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&out)));
    }
    let lines = stdout(&sb.run(&["events", "log", "1", "--json"]));
    assert!(
        lines
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
    let logs: Value =
        serde_json::from_slice(&sb.run(&["logs", "1", "a", "--json"]).stdout).expect("json");
    assert_eq!(logs["output"], "hi\n");
}

/// The lines of the first ```sh block after `heading` in the README.
fn readme_block(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let after = readme
        .split_once(heading)
        .unwrap_or_else(|| panic!("no `{heading}` in the README"))
        .1;
    let block = after
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a sh block")
        .0;
    block.lines().map(str::to_owned).collect()
}

/// The README's quick start, verbatim and in order, on a machine with no store yet: each
/// line runs in one shell (so `cd` carries), with the built `tasker` first on PATH.
#[test]
fn the_readme_quick_start_works_as_written() {
    let lines = readme_block("## Quick start");
    assert!(lines.len() >= 6, "{lines:?}");
    let home = tempfile::tempdir().expect("home");
    let bin = assert_cmd::cargo::cargo_bin("tasker");
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Each line, then a marker with its exit code, so a failure names its line.
    let mut script = String::from("set -u\n");
    for (i, line) in lines.iter().enumerate() {
        script.push_str(&format!("{line}\necho \"@@ {i} $?\" >&2\n"));
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(home.path())
        .env("PATH", path)
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("NO_COLOR", "1")
        .env_remove("TASKER_DB")
        .env_remove("TASKER_CONFIG")
        .env_remove("TASKER_ENV")
        .env_remove("TASKER_TEMPLATES")
        .output()
        .expect("sh");
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    for (i, line) in lines.iter().enumerate() {
        assert!(
            err.contains(&format!("@@ {i} 0\n")),
            "`{line}` failed:\nstdout:\n{text}\nstderr:\n{err}"
        );
    }
    // It says what it promises: task 1, its steps, what `fetch` printed, the list.
    assert!(text.contains("task 1\n"), "{text}");
    assert!(text.contains("task 1 default/hello@"), "{text}");
    assert!(text.contains("│ fetch "), "{text}");
    assert!(
        home.path().join("hello/tasker.db").is_file(),
        "the project's own store"
    );
    assert!(
        !home.path().join(".local/share/tasker").exists(),
        "the default store was not touched"
    );
}
