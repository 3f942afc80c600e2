//! Every malformed template is refused before anything runs: a specific message (snapshot),
//! exit code 2, and no store written.

use crate::support::{Sandbox, stderr};

/// Run `tasker run t.yml` on `yaml`; assert exit 2 and an untouched store; return stderr.
fn refused(yaml: &str) -> String {
    let sb = Sandbox::new();
    sb.write("t.yml", yaml);
    let out = sb.run(&["run", "t.yml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {:?}", out.stdout);
    assert!(!sb.db().exists(), "the store must not be created");
    assert!(!err.contains("panicked"), "{err}");
    // `validate` reports the same problems.
    let v = sb.run(&["validate", "t.yml"]);
    assert_eq!(v.status.code(), Some(2));
    assert_eq!(stderr(&v), err);
    err
}

macro_rules! bad {
    ($name:ident, $yaml:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(refused($yaml));
        }
    };
}

bad!(
    yaml_syntax_error,
    "name: t\nsteps:\n  - name: a\n    command: [unclosed\n"
);
bad!(empty_file, "");
bad!(only_a_comment, "# nothing here\n");
bad!(not_a_mapping, "- name: a\n- name: b\n");
bad!(scalar_document, "just a string\n");
bad!(missing_name, "steps:\n  - name: a\n    command: 'true'\n");
bad!(missing_steps, "name: t\n");
bad!(empty_steps, "name: t\nstep_templates: []\n");
bad!(
    duplicate_step_names,
    "name: t\nsteps:\n  - name: a\n    command: 'true'\n  - name: a\n    command: 'true'\n"
);
bad!(
    unknown_dependency,
    "name: t\nsteps:\n  - name: pack\n    command: 'true'\n  - name: ship\n    command: 'true'\n    depends_on_step: packk\n"
);
bad!(
    self_dependency,
    "name: t\nsteps:\n  - name: a\n    command: 'true'\n    depends_on: [a]\n"
);
bad!(
    two_separate_cycles,
    "name: t\nsteps:\n  - { name: a, command: 'true', depends_on: [c] }\n  - { name: b, command: 'true', depends_on: [a] }\n  - { name: c, command: 'true', depends_on: [b] }\n  - { name: d, command: 'true', depends_on: [e] }\n  - { name: e, command: 'true', depends_on: [d] }\n  - { name: f, command: 'true' }\n"
);
bad!(
    unknown_top_level_key,
    "name: t\nstep_template:\n  - name: a\n    command: 'true'\n"
);
bad!(
    unknown_step_key,
    "name: t\nsteps:\n  - name: a\n    comand: 'true'\n"
);
bad!(step_without_command, "name: t\nsteps:\n  - name: a\n");
bad!(
    step_with_two_handlers,
    "name: t\nsteps:\n  - name: a\n    command: 'true'\n    noop: true\n"
);
bad!(
    bad_duration,
    "name: t\nsteps:\n  - name: a\n    command: 'true'\n    timeout: 5 minutes\n"
);
bad!(
    retry_limit_zero,
    "name: t\nsteps:\n  - name: a\n    command: 'true'\n    retry: { limit: 0 }\n"
);
bad!(
    retry_limit_negative,
    "name: t\nsteps:\n  - name: a\n    command: 'true'\n    default_retry_limit: -2\n"
);
bad!(
    jitter_out_of_range,
    "name: t\nsteps:\n  - name: a\n    command: 'true'\n    retry: { backoff: { jitter: 1.5 } }\n"
);
bad!(
    invalid_version,
    "name: t\nversion: 1.0\nsteps:\n  - name: a\n    command: 'true'\n"
);
bad!(
    invalid_name,
    "name: order fulfilment!\nsteps:\n  - name: a\n    command: 'true'\n"
);
bad!(
    unknown_handler_class,
    "name: t\nhandlers:\n  Shop::Pack: { command: 'true' }\nsteps:\n  - name: a\n    handler_class: Shop::Pak\n"
);
bad!(
    many_problems_at_once,
    "name: t\nversion: one\nmax_parallel: 0\nsteps:\n  - name: a\n    comand: x\n  - name: b\n    command: 'true'\n    depends_on: [zz]\n    retry: { limit: 0, backoff: { base: soon } }\n"
);

#[test]
fn unreadable_file() {
    let sb = Sandbox::new();
    let out = sb.run(&["run", "missing.yml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("missing.yml: cannot read the file"), "{err}");
    assert!(!sb.db().exists());
}

#[test]
fn a_directory_is_not_a_template() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path().join("dir.yml")).expect("mkdir");
    let out = sb.run(&["run", "dir.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read the file"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.db().exists());
}

#[test]
fn bad_flags_are_usage_errors() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - name: a\n    command: 'true'\n",
    );
    for args in [
        &["run", "t.yml", "--concurrency", "0"][..],
        &["run", "t.yml", "--kill-grace", "soon"],
        &["run", "t.yml", "--bogus"],
        &["status", "abc"],
        &["tasks", "list", "--status", "done"],
    ] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("error"), "{args:?}");
    }
    assert!(!sb.db().exists());
}

/// The catalogue in `tests/fixtures/bad/`: a directory a case, holding the files its command
/// needs, `args` (the command line, one argument a line) and `expected` (`exit N`, then what
/// tasker writes on stderr, the sandbox's path written `$SANDBOX`). Every case must give its
/// exact message and exit code, write nothing on stdout, create no store, leave an existing
/// store byte for byte as it was, and never panic. `TASKER_BLESS=1` rewrites the `expected`
/// files from what runs.
#[test]
fn the_bad_input_catalogue() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut cases: Vec<std::path::PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures/bad")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let bless = std::env::var_os("TASKER_BLESS").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let sb = Sandbox::new();
        for file in std::fs::read_dir(case).expect("case").flatten() {
            let file_name = file.file_name();
            if file_name != "args" && file_name != "expected" {
                copy_all(&file.path(), &sb.path().join(&file_name));
            }
        }
        let args: Vec<String> = std::fs::read_to_string(case.join("args"))
            .expect("args")
            .lines()
            .map(str::to_owned)
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sb.run(&args);
        let mut err = stderr(&out);
        for p in [
            sb.path().to_owned(),
            std::fs::canonicalize(sb.path()).expect("path"),
        ] {
            err = err.replace(&p.display().to_string(), "$SANDBOX");
        }
        let got = format!("exit {}\n{err}", out.status.code().unwrap_or(-1));
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: wrote on stdout");
        assert!(!sb.db().exists(), "{name}: the store was written");
        // Against an existing store, the same refusal, and not a byte of it changes.
        let with_store = Sandbox::new();
        with_store.write(
            "ok.yml",
            "name: ok\nsteps:\n  - { name: a, command: 'true' }\n",
        );
        let first = with_store.run(&["-q", "run", "ok.yml"]);
        assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
        let bytes = || {
            ["", "-wal"]
                .map(|ext| std::fs::read(format!("{}{ext}", with_store.db().display())).ok())
        };
        let before = bytes();
        for file in std::fs::read_dir(case).expect("case").flatten() {
            let file_name = file.file_name();
            if file_name != "args" && file_name != "expected" {
                copy_all(&file.path(), &with_store.path().join(&file_name));
            }
        }
        let again = with_store.run(&args);
        assert_eq!(
            again.status.code(),
            out.status.code(),
            "{name}, with a store"
        );
        assert!(bytes() == before, "{name}: the existing store was written");
        let expected_path = case.join("expected");
        if bless {
            std::fs::write(&expected_path, &got).expect("bless");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!("--- {name}: expected\n{expected}--- got\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ (TASKER_BLESS=1 rewrites them):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn copy_all(from: &std::path::Path, to: &std::path::Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("dir").flatten() {
            copy_all(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).expect("copy");
    }
}
