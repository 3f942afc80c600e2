//! Plugin steps: JSON in on stdin, JSON out on stdout.

use std::os::unix::fs::PermissionsExt;

use crate::support::{Sandbox, stderr, task_id};

fn plugin(sb: &Sandbox, name: &str, body: &str) {
    let path = sb.write(name, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn run_plugin(sb: &Sandbox, body: &str, retry: &str) -> (i32, serde_json::Value, String) {
    plugin(sb, "p.sh", body);
    sb.write(
        "t.yml",
        &format!("name: plug\nsteps:\n  - name: p\n    plugin: {{ command: [./p.sh, arg1] }}\n    handler_config: {{ mode: test }}\n    retry: {retry}\n"),
    );
    let out = sb.run(&["run", "t.yml", "--set", "order=9"]);
    let doc = sb.status(task_id(&out));
    (out.status.code().unwrap_or(-1), doc, stderr(&out))
}

#[test]
fn a_plugin_reads_its_input_on_stdin_and_returns_a_result() {
    let sb = Sandbox::new();
    let (code, doc, err) = run_plugin(
        &sb,
        "cat > stdin.json\ncp \"$TASKER_INPUT\" file.json\necho \"{\\\"result\\\": {\\\"arg\\\": \\\"$1\\\", \\\"ok\\\": true}}\"",
        "{ limit: 1 }",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        Sandbox::step(&doc, "p")["results"],
        serde_json::json!({"arg": "arg1", "ok": true})
    );
    let stdin = std::fs::read_to_string(sb.path().join("stdin.json")).expect("stdin");
    let file = std::fs::read_to_string(sb.path().join("file.json")).expect("file");
    assert_eq!(stdin, file, "stdin carries the TASKER_INPUT document");
    let input: serde_json::Value = serde_json::from_str(&stdin).expect("json");
    assert_eq!(input["config"]["mode"], "test");
    assert_eq!(input["context"]["order"], 9);
}

#[test]
fn retry_after_overrides_the_backoff_within_max() {
    let sb = Sandbox::new();
    let (code, doc, err) = run_plugin(
        &sb,
        "if [ \"$TASKER_ATTEMPT\" = 1 ]; then echo '{\"error\": {\"message\": \"busy\", \"retry_after\": 1}}'; else echo '{\"result\": 1}'; fi",
        "{ limit: 2, backoff: { base: 10ms, max: 5s } }",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(Sandbox::step(&doc, "p")["attempts"], 2);
    assert!(err.contains("retry  p in 1.0s"), "{err}");

    let sb = Sandbox::new();
    let (code, _, err) = run_plugin(
        &sb,
        "if [ \"$TASKER_ATTEMPT\" = 1 ]; then echo '{\"error\": {\"message\": \"busy\", \"retry_after\": 3600}}'; else echo '{\"result\": 1}'; fi",
        "{ limit: 2, backoff: { base: 10ms, max: 200ms } }",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("retry  p in 200ms"), "capped by max: {err}");
}

#[test]
fn a_non_retryable_error_fails_at_once() {
    let sb = Sandbox::new();
    let (code, doc, _) = run_plugin(
        &sb,
        "echo '{\"error\": {\"message\": \"card declined\", \"code\": \"CARD_DECLINED\", \"retryable\": false}}'",
        "{ limit: 5, backoff: { base: 10ms } }",
    );
    assert_eq!(code, 1);
    let p = Sandbox::step(&doc, "p");
    assert_eq!(p["attempts"], 1);
    assert_eq!(p["error"]["class"], "plugin");
    assert_eq!(p["error"]["message"], "CARD_DECLINED: card declined");
}

#[test]
fn malformed_output_is_a_clear_step_error() {
    let cases = [
        ("echo 'hello there'", "the plugin's stdout is not JSON"),
        (
            "echo '{\"result\": 1}'; echo '{\"result\": 2}'",
            "more than one JSON document",
        ),
        ("true", "the plugin printed nothing on stdout"),
        ("echo '{\"answer\": 42}'", "neither `result` nor `error`"),
    ];
    for (body, message) in cases {
        let sb = Sandbox::new();
        let (code, doc, _) = run_plugin(&sb, body, "{ limit: 3, backoff: { base: 10ms } }");
        assert_eq!(code, 1, "{body}");
        let p = Sandbox::step(&doc, "p");
        assert_eq!(p["attempts"], 1, "{body}: malformed output is not retried");
        assert_eq!(p["error"]["class"], "plugin");
        assert!(
            p["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(message),
            "{body}: {p:#}"
        );
    }
}

#[test]
fn exiting_non_zero_without_json_follows_the_exit_code_rules() {
    let sb = Sandbox::new();
    let (code, doc, _) = run_plugin(
        &sb,
        "echo 'crashed' >&2; exit 3",
        "{ limit: 2, backoff: { base: 10ms } }",
    );
    assert_eq!(code, 1);
    let p = Sandbox::step(&doc, "p");
    assert_eq!(p["attempts"], 2);
    assert_eq!(p["error"]["class"], "exit_code");
    assert_eq!(p["error"]["message"], "exited with code 3: crashed");
}

#[test]
fn the_example_plugin_workflow_runs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sb = Sandbox::new();
    let file = root.join("workflows/payment_capture.yml");
    let out = sb
        .cmd()
        .args([
            "run",
            file.to_str().expect("utf8"),
            "--context",
            r#"{"order_id": 7, "amount_cents": 1299}"#,
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(task_id(&out));
    assert_eq!(Sandbox::step(&doc, "authorize")["attempts"], 2);
    assert_eq!(
        Sandbox::step(&doc, "capture")["results"]["charge_id"],
        "ch_7"
    );
    assert_eq!(
        Sandbox::step(&doc, "receipt")["results"]["stdout_tail"],
        "receipt for order 7 in usd, charge ch_7\n"
    );
    // Over the limit: the plugin declines for good.
    let out = sb
        .cmd()
        .args([
            "run",
            file.to_str().expect("utf8"),
            "--context",
            r#"{"order_id": 8, "amount_cents": 500000}"#,
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let doc = sb.status(task_id(&out));
    assert_eq!(
        Sandbox::step(&doc, "capture")["error"]["message"],
        "CARD_DECLINED: amount over the card limit"
    );
}
