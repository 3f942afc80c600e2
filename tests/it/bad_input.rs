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
