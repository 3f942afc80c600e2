//! HTTP steps against a real server on 127.0.0.1.

use std::time::Duration;

use serde_json::json;

use crate::server::{Reply, Server, closed_port};
use crate::support::{Sandbox, stderr, task_id};

fn run_http(sb: &Sandbox, http: &str, retry: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    sb.write(
        "t.yml",
        &format!("name: web\nsteps:\n  - name: call\n    http: {http}\n    retry: {retry}\n"),
    );
    let out = sb.run(&[&["run", "t.yml"][..], extra].concat());
    let doc = sb.status(task_id(&out));
    (out.status.code().unwrap_or(-1), doc)
}

#[test]
fn retries_503_after_the_retry_after_seconds_then_succeeds() {
    let server = Server::start(vec![
        Reply::new(503, "busy").header("Retry-After", "1"),
        Reply::new(200, r#"{"ok": true, "n": 3}"#)
            .header("Content-Type", "application/json")
            .header("X-Trace", "abc"),
    ]);
    let sb = Sandbox::new();
    let (code, doc) = run_http(
        &sb,
        &format!("{{ url: '{}' }}", server.url("/orders/42")),
        "{ limit: 3, backoff: { base: 10ms, max: 5s } }",
        &[],
    );
    assert_eq!(code, 0);
    let call = Sandbox::step(&doc, "call");
    assert_eq!(call["attempts"], 2);
    assert_eq!(call["results"]["status"], 200);
    assert_eq!(call["results"]["body"], json!({"ok": true, "n": 3}));
    assert_eq!(call["results"]["headers"]["x-trace"], "abc");
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/orders/42");
    let gap = seen[1].at - seen[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After: 1 was honoured ({gap:?})"
    );
}

#[test]
fn honours_retry_after_as_an_http_date() {
    let when = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let server = Server::start(vec![
        Reply::new(429, "slow down").header("Retry-After", &when),
        Reply::new(200, "plain text"),
    ]);
    let sb = Sandbox::new();
    let (code, doc) = run_http(
        &sb,
        &format!("{{ url: '{}' }}", server.url("/")),
        "{ limit: 2, backoff: { base: 10ms, max: 10s } }",
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(Sandbox::step(&doc, "call")["results"]["body"], "plain text");
    let seen = server.requests();
    let gap = seen[1].at - seen[0].at;
    assert!(
        gap >= Duration::from_millis(900),
        "waited for the date ({gap:?})"
    );
}

#[test]
fn client_errors_are_permanent() {
    for status in [400, 401, 403, 404, 422] {
        let server = Server::start(vec![Reply::new(status, "{\"error\": \"nope\"}")]);
        let sb = Sandbox::new();
        let (code, doc) = run_http(
            &sb,
            &format!("{{ url: '{}' }}", server.url("/x")),
            "{ limit: 4, backoff: { base: 10ms } }",
            &[],
        );
        assert_eq!(code, 1);
        let call = Sandbox::step(&doc, "call");
        assert_eq!(call["attempts"], 1, "{status} is not retried");
        assert_eq!(call["error"]["class"], "http");
        let message = call["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(&format!("HTTP {status} ")), "{message}");
        assert!(message.ends_with("{\"error\": \"nope\"}"), "{message}");
        assert_eq!(server.requests().len(), 1);
    }
}

#[test]
fn server_errors_are_retried_until_the_limit() {
    let server = Server::start(vec![Reply::new(500, "oops")]);
    let sb = Sandbox::new();
    let (code, doc) = run_http(
        &sb,
        &format!("{{ url: '{}' }}", server.url("/")),
        "{ limit: 3, backoff: { base: 10ms } }",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(Sandbox::step(&doc, "call")["attempts"], 3);
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_slow_response_times_out_and_is_retried() {
    let server = Server::start(vec![Reply::new(200, "late").delay(Duration::from_secs(3))]);
    let sb = Sandbox::new();
    let (code, doc) = run_http(
        &sb,
        &format!("{{ url: '{}', timeout: 300ms }}", server.url("/slow")),
        "{ limit: 2, backoff: { base: 10ms } }",
        &[],
    );
    assert_eq!(code, 1);
    let call = Sandbox::step(&doc, "call");
    assert_eq!(call["attempts"], 2);
    assert_eq!(call["error"]["class"], "timeout");
    assert!(
        call["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("within 300ms")
    );
}

#[test]
fn a_closed_port_is_a_retryable_connection_error() {
    let port = closed_port();
    let sb = Sandbox::new();
    let (code, doc) = run_http(
        &sb,
        &format!("{{ url: 'http://127.0.0.1:{port}/' }}"),
        "{ limit: 2, backoff: { base: 10ms } }",
        &[],
    );
    assert_eq!(code, 1);
    let call = Sandbox::step(&doc, "call");
    assert_eq!(call["attempts"], 2);
    assert_eq!(call["error"]["class"], "http");
    let message = call["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("cannot connect to http://127.0.0.1:{port}/")),
        "{message}"
    );
}

#[test]
fn method_headers_and_json_body_are_interpolated() {
    let server = Server::start(vec![Reply::new(201, "{\"created\": 1}")]);
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        &format!(
            "\
name: post
steps:
  - name: make
    command: |
      echo '{{\"sku\": \"A-1\"}}' > $TASKER_OUTPUT
  - name: call
    depends_on: [make]
    http:
      method: post
      url: '{}/orders/{{{{ context.order_id }}}}'
      headers: {{ X-Order: '{{{{ context.order_id }}}}', Authorization: Bearer t0k }}
      json: {{ id: '{{{{ context.order_id }}}}', sku: '{{{{ steps.make.results.sku }}}}', note: 'n-{{{{ context.order_id }}}}', fixed: [1, true] }}
",
            server.url("")
        ),
    );
    let out = sb.run(&["run", "t.yml", "--set", "order_id=42"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = server.requests();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/orders/42");
    assert_eq!(seen[0].header("x-order"), Some("42"));
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).expect("json body");
    assert_eq!(
        body,
        json!({"id": 42, "sku": "A-1", "note": "n-42", "fixed": [1, true]})
    );
    let doc = sb.status(task_id(&out));
    assert_eq!(Sandbox::step(&doc, "call")["results"]["status"], 201);
}

#[test]
fn expect_status_decides_success() {
    let server = Server::start(vec![Reply::new(404, "gone")]);
    let sb = Sandbox::new();
    let (code, doc) = run_http(
        &sb,
        &format!(
            "{{ method: DELETE, url: '{}', expect_status: [204, 404] }}",
            server.url("/item")
        ),
        "{ limit: 1 }",
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(Sandbox::step(&doc, "call")["results"]["status"], 404);
    assert_eq!(server.requests()[0].method, "DELETE");
}

#[test]
fn http_templates_are_checked() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, http: { method: FETCH, url: 'ftp://x', json: {}, body: x, expect_status: [99] } }\n  - { name: b, http: { method: GET } }\n",
    );
    let out = sb.run(&["validate", "t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for needle in [
        "unknown method `FETCH`",
        "`ftp://x` is not an http:// or https:// URL",
        "give `json` or `body`, not both",
        "statuses are integers from 100 to 599",
        "step `b`: `http`: missing required key `url`",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

#[test]
fn an_oversized_response_fails_the_step_without_exhausting_memory() {
    let server = Server::start(vec![Reply::new(200, &"x".repeat(17 << 20))]);
    let sb = Sandbox::new();
    let (code, doc) = run_http(
        &sb,
        &format!("{{ url: '{}' }}", server.url("/big")),
        "{ limit: 3 }",
        &[],
    );
    assert_eq!(code, 1);
    let call = Sandbox::step(&doc, "call");
    assert_eq!(call["attempts"], 1);
    assert!(
        call["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("more than 4 MiB")
    );
}

/// `workflows/shipping_label.yml` against a scripted server: the 503 is retried after its
/// `Retry-After`, one step's response feeds the next one's URL, and the shell step gets
/// the tracking number.
#[test]
fn the_shipping_label_example_runs_against_a_local_server() {
    let server = Server::start(vec![
        Reply::new(200, r#"{"ok": true}"#),
        Reply::new(503, "busy").header("Retry-After", "0"),
        Reply::new(201, r#"{"id": "shp_9"}"#),
        Reply::new(200, r#"{"id": "shp_9", "tracking": "1Z9"}"#),
    ]);
    let sb = Sandbox::new();
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows/shipping_label.yml");
    let context = json!({"api": server.url(""), "order_id": 9}).to_string();
    let out = sb.run(&["run", file.to_str().expect("utf8"), "--context", &context]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen: Vec<(String, String)> = server
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/health"),
            ("POST", "/shipments"),
            ("POST", "/shipments"),
            ("GET", "/shipments/shp_9/label"),
        ]
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
    );
    let post = &server.requests()[2];
    assert_eq!(post.header("idempotency-key"), Some("order-9"));
    let body: serde_json::Value = serde_json::from_str(&post.body).expect("json body");
    assert_eq!(body, json!({"order_id": 9, "service": "ground"}));
    let doc = sb.status(task_id(&out));
    assert_eq!(Sandbox::step(&doc, "create_shipment")["attempts"], 2);
    assert_eq!(
        Sandbox::step(&doc, "record_tracking")["results"],
        json!({"tracking": "1Z9"})
    );
    let log = sb.run(&["logs", &task_id(&out).to_string(), "record_tracking"]);
    assert_eq!(
        crate::support::stdout(&log).trim(),
        "order 9 ships with tracking 1Z9"
    );
}

/// The same example against the stand-in API it ships with, as its header tells a user to run it.
#[test]
fn the_shipping_label_example_runs_against_its_stand_in_api() {
    let Some(python) = crate::support::tool("python3") else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let port = closed_port();
    let mut api = std::process::Command::new(python)
        .arg(root.join("workflows/tools/shipping_api.py"))
        .arg(port.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the stand-in API");
    // It prints one line once it listens.
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(api.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("read");
    assert!(line.contains("listening"), "{line}");
    let sb = Sandbox::new();
    let context = json!({"api": format!("http://127.0.0.1:{port}"), "order_id": 5}).to_string();
    let out = sb.run(&[
        "run",
        root.join("workflows/shipping_label.yml")
            .to_str()
            .expect("utf8"),
        "--context",
        &context,
    ]);
    let _ = api.kill();
    let _ = api.wait();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(task_id(&out));
    assert_eq!(
        Sandbox::step(&doc, "record_tracking")["results"],
        json!({"tracking": "1Z5"})
    );
}

/// A reply that came within the timeout while the run's only thread was held by a commit
/// (another writer held the store) until past the deadline is the step's reply: the call
/// did not time out.
#[test]
fn a_reply_in_time_noticed_after_the_deadline_is_taken() {
    let Some(python) = crate::support::tool("python3") else {
        return;
    };
    let server = Server::start(vec![
        Reply::new(200, "in time").delay(Duration::from_millis(1000)),
    ]);
    let sb = Sandbox::new();
    // c ends once the store is held, so that its end's commit holds the run's thread from
    // then until the hold ends, past the reply and past the call's deadline.
    sb.write(
        "t.yml",
        &format!(
            "name: web\nsteps:\n  - name: call\n    http: {{ url: '{}', timeout: 1500ms }}\n  - {{ name: c, command: 'touch c.started; while [ ! -e locked ]; do sleep 0.01; done' }}\n",
            server.url("/slow")
        ),
    );
    let child = sb.spawn(&["run", "t.yml"]);
    sb.hold_store(&python, "", 3.0);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(1);
    let call = Sandbox::step(&doc, "call");
    assert_eq!(call["attempts"], 1, "{call}");
    assert_eq!(call["results"]["status"], 200, "{call}");
}
