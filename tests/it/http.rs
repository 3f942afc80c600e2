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
            .contains("larger than 16 MiB")
    );
}
