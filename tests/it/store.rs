//! The store: where it lives, how it is created, what it refuses.

use std::os::unix::fs::PermissionsExt;

use crate::support::{Sandbox, stderr, stdout, task_id};

const OK: &str = "name: t\nsteps:\n  - name: a\n    command: 'true'\n";

#[test]
fn status_of_an_unknown_task_is_not_found() {
    let sb = Sandbox::new();
    let out = sb.run(&["status", "7"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).starts_with("error: task 7 not found\n  hint: `tasker tasks list`"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.db().exists(), "reading does not create a store");
    sb.write("t.yml", OK);
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    let out = sb.run(&["status", "99", "--json"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_store_file_is_private_and_in_wal_mode() {
    let sb = Sandbox::new();
    sb.write("t.yml", OK);
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    let mode = std::fs::metadata(sb.db()).expect("db").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let conn = sb.sqlite();
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(journal, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(version, tasker::store::SCHEMA_VERSION);
}

#[test]
fn the_default_store_lives_under_xdg_data_home() {
    let sb = Sandbox::new();
    sb.write("t.yml", OK);
    let data = sb.path().join("data");
    let out = sb
        .cmd()
        .env_remove("TASKER_DB")
        .env("XDG_DATA_HOME", &data)
        .args(["run", "t.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let db = data.join("tasker/tasker.db");
    assert!(db.exists());
    let dir_mode = std::fs::metadata(data.join("tasker"))
        .expect("dir")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
}

#[test]
fn the_db_flag_wins_over_the_environment() {
    let sb = Sandbox::new();
    sb.write("t.yml", OK);
    let other = sb.path().join("other.db");
    let out = sb.run(&["--db", other.to_str().expect("utf8"), "run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(other.exists());
    assert!(!sb.db().exists());
}

#[test]
fn a_store_in_a_missing_directory_is_a_store_error() {
    let sb = Sandbox::new();
    sb.write("t.yml", OK);
    let out = sb.run(&["--db", "no/such/dir/t.db", "run", "t.yml"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the directory `no/such/dir` does not exist"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty(), "no task was created");
}

#[test]
fn a_store_in_an_unwritable_place_is_a_store_error() {
    let sb = Sandbox::new();
    sb.write("t.yml", OK);
    sb.write("plain-file", "");
    // A path under a regular file, and /proc, refuse everyone, root included.
    for db in ["plain-file/t.db", "/proc/tasker-test.db"] {
        let out = sb.run(&["--db", db, "run", "t.yml"]);
        assert_eq!(out.status.code(), Some(6), "{db}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: cannot open the store"),
            "{}",
            stderr(&out)
        );
    }
    // A read-only directory refuses anyone but root.
    let ro = sb.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).expect("chmod");
    let probe = std::fs::File::create(ro.join("probe")).is_ok();
    if !probe {
        let out = sb.run(&["--db", "ro/t.db", "run", "t.yml"]);
        assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    }
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let sb = Sandbox::new();
    sb.write("t.yml", OK);
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    sb.sqlite()
        .pragma_update(None, "user_version", 99)
        .expect("bump");
    for args in [&["run", "t.yml"][..], &["status", "1"], &["tasks", "list"]] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(6), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("has schema version 99, newer than this tasker supports"),
            "{err}"
        );
        assert!(err.contains("hint: upgrade tasker"), "{err}");
    }
    let conn = sb.sqlite();
    let tasks: i64 = conn
        .query_row("SELECT COUNT(*) FROM tasks", [], |r| r.get(0))
        .expect("count");
    assert_eq!(tasks, 1, "nothing was written");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(version, 99);
}

/// A store written before the log was paged (a row per event, schema version 1) is migrated
/// on open, through the pages (2) to the events rows restate (3): the same events in the
/// same order, and the log goes on from its last one, partly on rows.
#[test]
fn a_store_with_an_event_per_row_is_migrated() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'test -f ok', depends_on: [a] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(1));
    let before = stdout(&sb.run(&["events", "log", "1", "--json"]));
    let count = |conn: &rusqlite::Connection, sql: &str| -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).expect(sql)
    };
    let events = before.lines().count() as i64;
    assert!(events > 10, "{before}");
    {
        let conn = sb.sqlite();
        assert!(
            count(&conn, "SELECT COUNT(*) FROM events") < events,
            "the log is paged"
        );
        // Back to version 1's table: a row per event, with its name.
        conn.execute_batch(
            "CREATE TABLE old (event_id INTEGER PRIMARY KEY,
                task_id INTEGER NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
                seq INTEGER NOT NULL, name TEXT NOT NULL, payload TEXT NOT NULL,
                created_at INTEGER NOT NULL, UNIQUE (task_id, seq));",
        )
        .expect("old table");
        for (n, line) in before.lines().enumerate() {
            let doc: serde_json::Value = serde_json::from_str(line).expect("event");
            conn.execute(
                "INSERT INTO old (task_id, seq, name, payload, created_at) VALUES (1, ?1, ?2, ?3, 0)",
                rusqlite::params![n as i64 + 1, doc["name"].as_str(), line],
            )
            .expect("insert");
        }
        conn.execute_batch(
            "DROP TABLE events; ALTER TABLE old RENAME TO events; PRAGMA user_version = 1;",
        )
        .expect("downgrade");
        edges_as_rows(&conn);
        // And without the columns that keep the events rows restate.
        for (table, column) in [
            ("workflow_step_transitions", "event_seq"),
            ("workflow_step_transitions", "event_at"),
            ("workflow_step_transitions", "event_attempt"),
            ("workflow_step_transitions", "event_ms"),
            ("workflow_step_transitions", "discovered"),
            ("step_attempts", "handle_seq"),
            ("step_attempts", "handle_at"),
            ("step_attempts", "handler"),
        ] {
            conn.execute_batch(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                .expect("drop column");
        }
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM events"), events);
    }
    let after = stdout(&sb.run(&["events", "log", "1", "--json"]));
    assert_eq!(after, before, "the same events, in order");
    let conn = sb.sqlite();
    assert_eq!(
        count(&conn, "PRAGMA user_version"),
        tasker::store::SCHEMA_VERSION
    );
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM events WHERE seq = last_seq"),
        events
    );
    drop(conn);
    // The log goes on after the migrated events, numbered from the last.
    sb.write("ok", "");
    assert_eq!(sb.run(&["retry", "1"]).status.code(), Some(0));
    let retried = stdout(&sb.run(&["events", "log", "1", "--json"]));
    let seqs: Vec<u64> = retried
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("event")["seq"]
                .as_u64()
                .expect("seq")
        })
        .collect();
    assert!(seqs.len() as i64 > events, "{retried}");
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert!(retried.starts_with(&before), "{retried}");
    let conn = sb.sqlite();
    assert!(
        count(
            &conn,
            "SELECT COUNT(*) FROM workflow_step_transitions WHERE event_seq IS NOT NULL"
        ) > 0,
        "the retry's step events are kept on their rows"
    );
}

/// Back to edges as rows of their own, as before schema 4: the steps' `parents` column
/// gone, `workflow_step_edges` a table again with the same edges.
fn edges_as_rows(conn: &rusqlite::Connection) {
    conn.execute_batch(
        "CREATE TABLE old_edges (
            from_step_id INTEGER NOT NULL REFERENCES workflow_steps (workflow_step_id) ON DELETE CASCADE,
            to_step_id   INTEGER NOT NULL REFERENCES workflow_steps (workflow_step_id) ON DELETE CASCADE,
            name         TEXT NOT NULL DEFAULT 'provides',
            PRIMARY KEY (from_step_id, to_step_id)
         ) WITHOUT ROWID;
         INSERT INTO old_edges (from_step_id, to_step_id) SELECT from_step_id, to_step_id FROM workflow_step_edges;
         DROP VIEW workflow_step_edges;
         ALTER TABLE old_edges RENAME TO workflow_step_edges;
         CREATE INDEX workflow_step_edges_to ON workflow_step_edges (to_step_id);
         ALTER TABLE workflow_steps DROP COLUMN parents;",
    )
    .expect("edges as rows");
}

/// The schema as SQLite records it, spaces folded.
fn schema_of(conn: &rusqlite::Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .expect("schema");
    stmt.query_map([], |r| {
        let sql: String = r.get(1)?;
        Ok((
            r.get(0)?,
            sql.split_whitespace().collect::<Vec<_>>().join(" "),
        ))
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("collect")
}

/// A store whose edges were rows of their own (schema 3) is migrated: every step keeps its
/// parents, `workflow_step_edges` reads the same, the schema is the canonical one, and the
/// task goes on from where it stopped in the order of its edges.
#[test]
fn a_store_with_a_row_an_edge_is_migrated() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true' }\n  - { name: c, command: 'test -f ok', depends_on: [b, a] }\n  - { name: d, command: 'true', depends_on: [c, a] }\n  - { name: e, command: 'true', depends_on: [d] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(1));
    let edges = |conn: &rusqlite::Connection| -> Vec<(i64, i64)> {
        let mut stmt = conn
            .prepare("SELECT from_step_id, to_step_id FROM workflow_step_edges ORDER BY to_step_id, from_step_id")
            .expect("edges");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("collect")
    };
    let drawn = stdout(&sb.run(&["diagram", "1", "--format", "json"]));
    let before = edges(&sb.sqlite());
    assert_eq!(before, vec![(1, 3), (2, 3), (1, 4), (3, 4), (4, 5)]);
    {
        let conn = sb.sqlite();
        edges_as_rows(&conn);
        conn.execute_batch("PRAGMA user_version = 3;")
            .expect("version");
        let table: String = conn
            .query_row(
                "SELECT type FROM sqlite_master WHERE name = 'workflow_step_edges'",
                [],
                |r| r.get(0),
            )
            .expect("edges");
        assert_eq!(table, "table");
        assert_eq!(edges(&conn), before);
    }
    assert_eq!(
        stdout(&sb.run(&["diagram", "1", "--format", "json"])),
        drawn
    );
    let conn = sb.sqlite();
    assert_eq!(edges(&conn), before);
    let canonical = rusqlite::Connection::open_in_memory().expect("memory");
    canonical
        .execute_batch(include_str!("../../schema.sql"))
        .expect("schema.sql");
    assert_eq!(schema_of(&conn), schema_of(&canonical));
    let parents: Vec<Option<String>> = conn
        .prepare("SELECT parents FROM workflow_steps ORDER BY position")
        .expect("parents")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("collect");
    assert_eq!(
        parents,
        vec![
            None,
            None,
            Some("[1,2]".into()),
            Some("[1,3]".into()),
            Some("[4]".into())
        ]
    );
    drop(conn);
    assert_eq!(
        stdout(&sb.run(&["db", "check"])).trim(),
        format!("{}: ok", sb.db().display())
    );
    // The task goes on in its edges' order: c, then d, then e.
    sb.write("ok", "");
    assert_eq!(sb.run(&["retry", "1"]).status.code(), Some(0));
    let log = stdout(&sb.run(&["events", "log", "1", "--json"]));
    let at = |name: &str, step: &str| -> usize {
        log.lines()
            .collect::<Vec<_>>()
            .iter()
            .rposition(|l| {
                let e: serde_json::Value = serde_json::from_str(l).expect("event");
                e["name"] == name && e["step_name"] == step
            })
            .unwrap_or_else(|| panic!("{name} of {step} in {log}"))
    };
    assert!(
        at("step.completed", "c") < at("step.execution_requested", "d"),
        "{log}"
    );
    assert!(
        at("step.completed", "d") < at("step.execution_requested", "e"),
        "{log}"
    );
}

/// A step's name is kept once per dependent system in `named_steps`, shared by every task
/// that has it; the latest description given wins, and a template giving none keeps it.
#[test]
fn named_steps_are_shared_and_keep_the_latest_description() {
    let sb = Sandbox::new();
    let run = |steps: &str| {
        sb.write("t.yml", &format!("name: t\nsteps:\n{steps}"));
        assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
    };
    run("  - { name: a, command: 'true' }\n");
    run("  - { name: a, command: 'true', description: first }\n");
    run(
        "  - { name: a, command: 'true' }\n  - { name: a2, noop: true, dependent_system: billing }\n",
    );
    let rows = || -> Vec<(String, String, Option<String>)> {
        let conn = sb.sqlite();
        let mut stmt = conn
            .prepare("SELECT dependent_system, name, description FROM named_steps ORDER BY named_step_id")
            .expect("query");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("collect")
    };
    assert_eq!(
        rows(),
        vec![
            ("".into(), "a".into(), Some("first".into())),
            ("billing".into(), "a2".into(), None),
        ]
    );
    run(
        "  - { name: a, command: 'true', description: second }\n  - { name: a2, noop: true, dependent_system: billing, description: bill }\n",
    );
    assert_eq!(
        rows(),
        vec![
            ("".into(), "a".into(), Some("second".into())),
            ("billing".into(), "a2".into(), Some("bill".into())),
        ]
    );
    let shared: i64 = sb
        .sqlite()
        .query_row(
            "SELECT COUNT(DISTINCT named_step_id) FROM workflow_steps WHERE name = 'a'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(shared, 1, "four tasks, one named step");
    // The same name in another dependent system is another named step, and its step
    // refers to that one.
    run("  - { name: a, noop: true, dependent_system: billing, description: other }\n");
    assert_eq!(
        rows(),
        vec![
            ("".into(), "a".into(), Some("second".into())),
            ("billing".into(), "a2".into(), Some("bill".into())),
            ("billing".into(), "a".into(), Some("other".into())),
        ]
    );
    let named: String = sb
        .sqlite()
        .query_row(
            "SELECT n.dependent_system FROM workflow_steps s JOIN named_steps n USING (named_step_id)
             WHERE s.task_id = 5",
            [],
            |r| r.get(0),
        )
        .expect("named step");
    assert_eq!(named, "billing");
}

#[test]
fn tasks_list_filters_and_json() {
    let sb = Sandbox::new();
    sb.write(
        "ok.yml",
        "name: good\nnamespace: shop\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    sb.write(
        "bad.yml",
        "name: bad\nsteps:\n  - { name: a, command: 'exit 3', retry: { limit: 1 } }\n  - { name: b, command: 'true' }\n",
    );
    let first = task_id(&sb.run(&["run", "ok.yml"]));
    let second = task_id(&sb.run(&["run", "bad.yml"]));
    let out = sb.run(&["tasks", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows[0]["task_id"], second);
    assert_eq!(rows[0]["status"], "error");
    assert_eq!(rows[0]["steps_total"], 2);
    assert_eq!(rows[0]["steps_complete"], 1);
    assert_eq!(rows[1]["task_id"], first);
    assert_eq!(rows[1]["namespace"], "shop");
    let only = |args: &[&str]| -> Vec<i64> {
        let out = sb.run(&[&["tasks", "list", "--json"][..], args].concat());
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        rows.as_array()
            .expect("array")
            .iter()
            .filter_map(|r| r["task_id"].as_i64())
            .collect()
    };
    assert_eq!(only(&["--status", "error"]), vec![second]);
    assert_eq!(only(&["--namespace", "shop"]), vec![first]);
    assert_eq!(only(&["--name", "bad"]), vec![second]);
    assert_eq!(only(&["--limit", "1"]), vec![second]);
    assert_eq!(only(&["--since", "1h"]).len(), 2);
    let table = crate::support::stdout(&sb.run(&["tasks", "list"]));
    assert!(table.contains("good") && table.contains("error"), "{table}");
}

/// Ten runs making one new store at once all succeed, every time.
#[test]
fn ten_runs_creating_one_store_at_once_all_succeed() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    for round in 0..20 {
        let db = sb.path().join(format!("new-{round}.db"));
        let children: Vec<_> = (0..10)
            .map(|_| {
                sb.cmd_std()
                    .env("TASKER_DB", &db)
                    .args(["-q", "run", "t.yml"])
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("wait");
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let n: i64 = rusqlite::Connection::open(&db)
            .expect("open")
            .query_row("SELECT COUNT(*) FROM tasks", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 10);
    }
}

/// Stores at odd paths: a dangling symlink makes its target; a symlink to `/dev/null`, a
/// directory, a file without permission are refused by every command, naming what they
/// are, and nothing is made beside them; read commands never write a store, not even an
/// empty file.
#[test]
fn stores_at_odd_paths() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let with_db = |db: &std::path::Path, args: &[&str]| {
        sb.cmd()
            .env("TASKER_DB", db)
            .args(args)
            .output()
            .expect("run")
    };

    // A dangling symlink: the store is made where it points.
    let link = sb.path().join("link.db");
    std::os::unix::fs::symlink(sb.path().join("target.db"), &link).expect("symlink");
    let out = with_db(&link, &["-q", "run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(sb.path().join("target.db").is_file());

    // A symlink to /dev/null, and a directory: refused by writers and readers alike.
    let null = sb.path().join("null.db");
    std::os::unix::fs::symlink("/dev/null", &null).expect("symlink");
    let dir = sb.path().join("dir.db");
    std::fs::create_dir(&dir).expect("dir");
    for (db, what) in [(&null, "not a regular file"), (&dir, "a directory")] {
        for args in [
            &["run", "t.yml"][..],
            &["status", "1"],
            &["tasks", "list"],
            &["db", "check"],
            &["db", "migrate"],
        ] {
            let out = with_db(db, args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(6), "{args:?} on {what}: {err}");
            assert!(err.contains(what), "{args:?}: {err}");
        }
    }
    assert!(!std::path::Path::new("/dev/null-journal").exists());
    assert!(!std::path::Path::new("/dev/null-wal").exists());

    // A store this user may not read (root may read anything: skipped then).
    let locked = sb.path().join("locked.db");
    std::fs::copy(sb.path().join("target.db"), &locked).expect("copy");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    if std::fs::File::open(&locked).is_err() {
        let out = with_db(&locked, &["status", "1"]);
        assert_eq!(out.status.code(), Some(6));
        assert!(
            stderr(&out).contains("permission denied"),
            "{}",
            stderr(&out)
        );
    }

    // An empty file: read commands leave it empty.
    let empty = sb.path().join("empty.db");
    std::fs::write(&empty, "").expect("empty");
    for args in [
        &["db", "check"][..],
        &["status", "1"],
        &["tasks", "list"],
        &["analytics"],
        &["health"],
    ] {
        let out = with_db(&empty, args);
        assert_ne!(
            out.status.code(),
            Some(0).filter(|_| args[0] == "db"),
            "{args:?}"
        );
        assert_eq!(
            std::fs::metadata(&empty).expect("empty").len(),
            0,
            "{args:?} wrote the store"
        );
    }
    let out = with_db(&empty, &["db", "check"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(
        stderr(&out).contains("the file is empty"),
        "{}",
        stderr(&out)
    );
    // A missing store: `db path` prints where it will be (exit 0), `db check` exit 6.
    let missing = sb.path().join("missing.db");
    let out = with_db(&missing, &["db", "path"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).trim(), missing.display().to_string());
    assert_eq!(with_db(&missing, &["db", "check"]).status.code(), Some(6));
    assert!(!missing.exists());
}

/// A stored value tasker cannot read is an error naming where it is, never a silent
/// default.
#[test]
fn a_corrupt_stored_value_names_its_row() {
    let sb = Sandbox::new();
    sb.write("t.yml", OK);
    assert_eq!(
        sb.run(&["run", "t.yml", "--tag", "nightly"]).status.code(),
        Some(0)
    );
    sb.sqlite()
        .execute("UPDATE tasks SET tags = 'nope' WHERE task_id = 1", [])
        .expect("corrupt");
    let out = sb.run(&["status", "1"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(
        stderr(&out).contains("task 1: its `tags` are not a JSON list of strings"),
        "{}",
        stderr(&out)
    );
    sb.sqlite()
        .execute("UPDATE tasks SET tags = '[]'", [])
        .expect("mend");
    sb.sqlite()
        .execute("UPDATE workflow_steps SET results = '{oops'", [])
        .expect("corrupt");
    let out = sb.run(&["status", "1", "--json"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(
        stderr(&out).contains("task 1, step `a`: its `results`:"),
        "{}",
        stderr(&out)
    );
}

/// `--db` takes a path, `sqlite:PATH` or a PostgreSQL URL; a URL of a kind this tasker has
/// no backend for is a usage error that names the kinds it has and never echoes a password.
#[test]
fn the_store_is_named_by_path_or_url() {
    let sb = Sandbox::new();
    sb.write("t.yml", OK);
    let url = format!("sqlite:{}", sb.path().join("other.db").display());
    let out = sb.run(&["--db", &url, "run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(sb.path().join("other.db").is_file());
    let out = sb.run(&["--db", &url, "db", "path"]);
    assert_eq!(
        stdout(&out).trim(),
        sb.path().join("other.db").display().to_string()
    );
    for args in [&["status", "1"][..], &["db", "path"][..]] {
        let out = sb
            .cmd()
            .args(["--db", "mysql://ada:s3cret@db.example/tasker"])
            .args(args)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("`mysql://` stores are not supported"), "{err}");
        assert!(err.contains("postgres://USER@HOST/DATABASE"), "{err}");
        assert!(
            !err.contains("s3cret") && !stdout(&out).contains("s3cret"),
            "{err}"
        );
    }
    // In a config file found from below: `sqlite:PATH` is relative to the file, a URL stays
    // a URL (a PostgreSQL one is shown without its password; another kind is refused).
    std::fs::create_dir_all(sb.path().join("sub")).expect("mkdir");
    sb.write("tasker.toml", "db = \"sqlite:from-file.db\"\n");
    let run = |args: &[&str]| {
        sb.cmd()
            .current_dir(sb.path().join("sub"))
            .env_remove("TASKER_DB")
            .args(args)
            .output()
            .expect("run")
    };
    assert_eq!(
        stdout(&run(&["db", "path"])).trim(),
        sb.path().join("from-file.db").display().to_string()
    );
    sb.write(
        "tasker.toml",
        "db = \"postgres://ada:s3cret@db.example/tasker\"\n",
    );
    let out = run(&["db", "path"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "postgres://ada@db.example:5432/tasker");
    sb.write(
        "tasker.toml",
        "db = \"mysql://ada:s3cret@db.example/tasker\"\n",
    );
    let out = run(&["tasks", "list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("s3cret"));
}

/// The tests' PostgreSQL starts, and gives each test a database of its own.
#[test]
fn the_test_postgres_starts_and_hands_out_databases() {
    let Some(pg) = crate::support::postgres() else {
        return;
    };
    let (a, b) = (pg.database(), pg.database());
    assert_ne!(a, b);
    for url in [a, b] {
        let out = std::process::Command::new("psql")
            .args([&url, "-Atc", "SELECT current_database()"])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(url.ends_with(String::from_utf8_lossy(&out.stdout).trim()));
    }
}

/// The PostgreSQL schema the migrations build is `schema.postgres.sql`, the canonical
/// schema committed beside `schema.sql` (compared as `pg_dump` prints them).
#[test]
fn schema_postgres_sql_matches_the_migrations() {
    let Some(pg) = crate::support::postgres() else {
        return;
    };
    let (migrated, canonical) = (pg.database(), pg.database());
    let sb = Sandbox::new();
    let out = sb
        .cmd()
        .env("TASKER_DB", &migrated)
        .args(["db", "migrate"])
        .output()
        .expect("tasker");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.postgres.sql");
    let out = std::process::Command::new("psql")
        .args([&canonical, "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(&schema)
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = |url: &str| {
        let out = std::process::Command::new("pg_dump")
            .args([
                "--schema-only",
                "--no-owner",
                "--no-privileges",
                "-T",
                "tasker_schema",
                url,
            ])
            .output()
            .expect("pg_dump");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("--") && !l.starts_with('\\') && !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (a, b) = (dump(&migrated), dump(&canonical));
    assert!(a.contains("CREATE TABLE public.workflow_steps"), "{a}");
    assert_eq!(a, b);
}

/// PostgreSQL's bad input and faults: an unreachable server and an unreadable URL say
/// which (exit 6, exit 2) and never show the password; neither does `--help` with the URL
/// in `TASKER_DB`; a database of a newer schema is refused (exit 6).
#[test]
fn postgres_urls_and_unreachable_servers_are_named_without_passwords() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    for args in [
        &["tasks", "list"][..],
        &["run", "t.yml"],
        &["db", "migrate"],
    ] {
        let out = sb
            .cmd()
            .env("TASKER_DB", "postgres://ada:s3cret@127.0.0.1:1/orders")
            .args(args)
            .output()
            .expect("tasker");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(6), "{args:?}: {err}");
        assert!(err.contains("postgres://ada@127.0.0.1:1/orders"), "{err}");
        assert!(err.contains("cannot reach PostgreSQL"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
    for url in [
        "postgres://ada:s3cret@db:notaport/orders",
        "postgres://ada:s3cret@db/orders?sslmode=sometimes",
    ] {
        let out = sb
            .cmd()
            .env("TASKER_DB", url)
            .args(["tasks", "list"])
            .output()
            .expect("tasker");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{url}: {err}");
        assert!(err.contains("is not a PostgreSQL URL"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
    let out = sb
        .cmd()
        .env("TASKER_DB", "postgres://ada:s3cret@db/orders")
        .arg("--help")
        .output()
        .expect("tasker");
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout(&out).contains("s3cret"), "{}", stdout(&out));

    let Some(pg) = crate::support::postgres() else {
        return;
    };
    let url = pg.database();
    let out = sb
        .cmd()
        .env("TASKER_DB", &url)
        .args(["db", "migrate"])
        .output()
        .expect("tasker");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pg_sb = Sandbox::on(&crate::support::Backend::Postgres(url.clone()));
    assert!(
        pg_sb
            .query("INSERT INTO tasker_schema VALUES (99, 0) RETURNING version")
            .len()
            == 1
    );
    let out = pg_sb.run(&["tasks", "list"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has schema version 99"),
        "{}",
        stderr(&out)
    );
}

/// The connection to PostgreSQL lost under a run (the server ends the session): the run
/// stops with exit 6 and the resume hint; what it committed stands, and `resume` finishes
/// the task.
#[test]
fn a_lost_postgres_connection_stops_the_run_and_resume_finishes() {
    let Some(backend) = crate::support::Backend::postgres() else {
        return;
    };
    let sb = Sandbox::on(&backend);
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - name: gate\n    depends_on: [a]\n    command: 'touch started; while [ ! -f open ]; do sleep 0.05; done'\n  - { name: c, command: 'true', depends_on: [gate] }\n",
    );
    let child = sb.spawn(&["run", "t.yml", "--kill-grace", "200ms"]);
    assert!(crate::support::eventually(20, || sb
        .path()
        .join("started")
        .exists()));
    // Every session of the run is ended by the server.
    let ended = sb.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'tasker' AND datname = current_database() AND pid <> pg_backend_pid()",
    );
    assert!(!ended.is_empty(), "the run's session was found");
    let out = child.wait_with_output().expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("`tasker resume 1`"), "{err}");
    assert!(err.contains("connection"), "{err}");
    std::fs::write(sb.path().join("open"), "").expect("open");
    let out = sb.run(&["resume", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(1);
    assert_eq!(doc["status"], "complete");
    assert_eq!(
        Sandbox::step(&doc, "a")["attempts"],
        1,
        "a did not run again"
    );
}
