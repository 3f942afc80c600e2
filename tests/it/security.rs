//! Secrets stay out of everything tasker shows or exports, and data never becomes code.

use crate::support::{Sandbox, stderr, stdout};

/// Secret-looking keys — built in, and added by the config file — are masked in status,
/// events, hooks' payloads, spans and logs, while the steps themselves get the real values.
#[test]
fn secrets_are_masked_in_all_tasker_shows_but_reach_the_steps() {
    let sb = Sandbox::new();
    sb.write(
        "tasker.toml",
        "secret_keys = [\"iban\"]\n[on]\n\"*\" = [\"cat >> hooked.jsonl; echo >> hooked.jsonl\"]\n",
    );
    sb.write(
        "t.yml",
        &r#"name: pay
custom_events: [order.charged]
steps:
  - name: charge
    command: |
      cp "$TASKER_INPUT" charge_input.json
      echo '{"card_token": "tok_live_RESULT", "iban": "DE89RESULTIBAN", "amount": 5}' > "$TASKER_OUTPUT"
      echo '{"name": "order.charged", "payload": {"password": "hunter2EVENT", "amount": 5}}' >> "$TASKER_EVENTS"
  - name: use
    depends_on: [charge]
    command: printf '%s %s' {{ steps.charge.results.card_token }} "$TASKER_CONTEXT_API_KEY" > used.txt
  - name: notify
    retry: { limit: 1 }
    http: { url: "http://bot:pw_URLPASS@127.0.0.1:PORT/hook?order=7&api_key={{ context.api_key }}" }
"#
        .replace("PORT", &crate::server::closed_port().to_string()),
    );
    let context = r#"{"api_key": "sk_CONTEXT", "order": 7, "customer": {"iban": "GB29CONTEXTIBAN", "name": "Ada"}}"#;
    let secrets = [
        "tok_live_RESULT",
        "DE89RESULTIBAN",
        "hunter2EVENT",
        "sk_CONTEXT",
        "GB29CONTEXTIBAN",
        "pw_URLPASS",
    ];
    let out = sb
        .cmd()
        .env("TASKER_LOG", "debug")
        .args([
            "--log-format",
            "json",
            "-v",
            "run",
            "t.yml",
            "--trace",
            "stdout",
        ])
        .arg("--context")
        .arg(context)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "only `notify` fails: {}",
        stderr(&out)
    );
    let shown = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} shows `{s}`:\n{text}");
        }
    };
    let (run_out, run_err) = (stdout(&out), stderr(&out));
    assert!(
        run_out.contains("Spans") && run_out.contains("order.charged"),
        "spans on stdout: {run_out}"
    );
    shown("run's stdout (spans)", &run_out);
    shown("run's stderr (logs)", &run_err);

    let status = sb.run(&["status", "1", "--json"]);
    let status_json = stdout(&status);
    shown("status --json", &status_json);
    assert!(status_json.contains("[FILTERED]"), "{status_json}");
    let doc: serde_json::Value = serde_json::from_str(&status_json).expect("json");
    assert_eq!(doc["context"]["customer"]["name"], "Ada");
    assert_eq!(doc["context"]["order"], 7);
    let notify = Sandbox::step(&doc, "notify");
    assert!(
        notify["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("order=7") && m.contains("api_key=")),
        "{notify}"
    );
    let charge = Sandbox::step(&doc, "charge");
    assert_eq!(charge["results"]["amount"], 5);
    assert_eq!(charge["results"]["card_token"], "[FILTERED]");
    assert_eq!(charge["results"]["iban"], "[FILTERED]");
    shown("status", &stdout(&sb.run(&["status", "1"])));
    shown(
        "events list",
        &stdout(&sb.run(&["events", "list", "1", "--json"])),
    );
    let hooked = std::fs::read_to_string(sb.path().join("hooked.jsonl")).expect("hooks ran");
    assert!(hooked.contains("order.charged"), "{hooked}");
    shown("hooks' payloads", &hooked);
    let attempts: String = sb
        .sqlite()
        .query_row(
            "SELECT custom_events FROM step_attempts WHERE custom_events IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("kept custom events");
    shown("kept custom events", &attempts);

    // The steps themselves got every real value.
    let input = std::fs::read_to_string(sb.path().join("charge_input.json")).expect("input");
    assert!(
        input.contains("sk_CONTEXT") && input.contains("GB29CONTEXTIBAN"),
        "{input}"
    );
    let used = std::fs::read_to_string(sb.path().join("used.txt")).expect("used");
    assert_eq!(used, "tok_live_RESULT sk_CONTEXT");
}

/// Hostile values reach every place a template interpolates — a shell line (from the
/// context and from an earlier step's results), an argv, an environment value used by a
/// shell, an HTTP header and a JSON body — as data: nothing runs, nothing is smuggled in.
#[test]
fn interpolated_values_are_data_at_every_site() {
    use crate::server::{Reply, Server};
    let server = Server::start(vec![
        Reply::new(200, "{}").header("Content-Type", "application/json"),
    ]);
    let sb = Sandbox::new();
    let hostile = "$(touch pwned1) `touch pwned2` '; touch pwned3; echo ' \" ; touch pwned4 #";
    sb.write(
        "t.yml",
        &format!(
            r#"name: inject
steps:
  - name: produce
    command: |
      printf '%s' "$TASKER_CONTEXT_EVIL" > evil.txt
      env | grep '^TASKER_CONTEXT_WEIRD' > weird.txt
      python3 -c 'import json,sys; print(json.dumps({{"v": open("evil.txt").read()}}))' > "$TASKER_OUTPUT"
  - name: shell_from_results
    depends_on: [produce]
    command: printf '%s' {{{{ steps.produce.results.v }}}} > from_results.txt
  - name: argv
    command: [printf, '%s', '{{{{ context.evil }}}}']
  - name: env_value
    env: {{ EVIL: '{{{{ context.evil }}}}' }}
    command: printf '%s' "$EVIL" > from_env.txt; printf '%s' $EVIL > from_env_unquoted.txt
  - name: body
    http:
      url: '{url}'
      method: POST
      json: {{ note: 'note {{{{ context.evil }}}}', amount: 5 }}
  - name: header
    retry: {{ limit: 1 }}
    http:
      url: '{url}'
      headers: {{ X-Note: '{{{{ context.crlf }}}}' }}
"#,
            url = server.url("/hook")
        ),
    );
    let context = serde_json::json!({
        "evil": hostile,
        "crlf": "ok\r\nX-Injected: yes",
        "weird key=$(touch pwned5)": "k",
    });
    let out = sb.run(&["run", "t.yml", "--context", &context.to_string()]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "only the header step fails: {err}"
    );
    for f in ["pwned1", "pwned2", "pwned3", "pwned4", "pwned5"] {
        assert!(
            !sb.path().join(f).exists(),
            "{f} was created: data ran as code\n{err}"
        );
    }
    let read = |f: &str| std::fs::read_to_string(sb.path().join(f)).expect(f);
    assert_eq!(read("evil.txt"), hostile);
    assert_eq!(read("from_results.txt"), hostile);
    assert_eq!(read("from_env.txt"), hostile);
    // Unquoted, the shell splits the value into words, but never runs it.
    assert_eq!(read("from_env_unquoted.txt"), hostile.replace(' ', ""));
    assert_eq!(
        stdout(&sb.run(&["logs", "1", "argv"])),
        hostile,
        "an argv element is passed as it is"
    );
    let doc = sb.status(1);
    assert_eq!(Sandbox::step(&doc, "body")["status"], "complete");
    let header = Sandbox::step(&doc, "header");
    assert_eq!(header["status"], "error", "{header}");
    let seen = server.requests();
    assert_eq!(
        seen.len(),
        1,
        "the header with a line break was never sent: {seen:?}"
    );
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).expect("a JSON body");
    assert_eq!(
        body,
        serde_json::json!({"note": format!("note {hostile}"), "amount": 5})
    );
    assert!(seen.iter().all(|s| s.header("X-Injected").is_none()));
    // A context key becomes a variable name of letters, digits and `_` only.
    assert_eq!(
        read("weird.txt"),
        "TASKER_CONTEXT_WEIRD_KEY___TOUCH_PWNED5_=k\n"
    );
}

/// A dry run masks what `status` masks: the context's secret-looking keys, values read
/// through them wherever they are used, secret-looking headers and JSON body fields.
#[test]
fn the_dry_run_masks_secrets_as_status_does() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        r#"name: dry
steps:
  - name: db
    command: mysql -p"{{ context.db_password }}" -e 'select 1'
  - name: argv
    command: [curl, '-H', 'X-Key: {{ context.api_key }}', '{{ context.host }}']
  - name: call
    http:
      url: "http://127.0.0.1:9/x?k={{ context.api_key }}"
      method: POST
      headers: { Authorization: "Bearer {{ context.api_key }}", X-Trace: "{{ context.host }}" }
      json: { password: "{{ context.db_password }}", user: admin, note: "pw {{ context.db_password }}" }
"#,
    );
    let context = r#"{"db_password": "S3cretDB", "api_key": "S4cretKEY", "host": "example.test"}"#;
    for json in [false, true] {
        let mut args = vec!["run", "t.yml", "--dry-run", "--context", context];
        if json {
            args.push("--json");
        }
        let out = sb.run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let (text, err) = (stdout(&out), stderr(&out));
        for secret in ["S3cretDB", "S4cretKEY"] {
            assert!(
                !text.contains(secret) && !err.contains(secret),
                "json={json}: {secret} shown:\n{text}{err}"
            );
        }
        assert!(text.contains("[FILTERED]"), "{text}");
        assert!(
            text.contains("example.test"),
            "what is not secret is shown: {text}"
        );
        assert!(text.contains("admin"), "{text}");
    }
    assert!(!sb.db().exists());
}

/// A step's escape sequences, bells and carriage returns are shown, never obeyed, wherever
/// tasker prints a step's text — progress lines, `--follow-output`, `status`, `events log`
/// — while `logs` keeps the bytes as they were, for piping.
#[test]
fn terminal_control_from_a_step_is_neutralised() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: esc\nsteps:\n  - { name: a, command: 'printf \"\\033]0;pwned\\007\\033[2J\\rhidden\\n\" >&2; printf \"\\033[31mred\\n\"; exit 3', retry: { limit: 1 } }\n",
    );
    let raw = ["\x1b", "\x07", "\r"];
    let check = |what: &str, text: &str| {
        for r in raw {
            assert!(!text.contains(r), "{what} passes {r:?} through:\n{text:?}");
        }
        assert!(text.contains("\\x1b"), "{what} shows the escape: {text:?}");
    };
    let out = sb.run(&["run", "t.yml", "--follow-output"]);
    assert_eq!(out.status.code(), Some(1));
    check("run's stderr", &stderr(&out));
    check("run's stdout (--follow-output)", &stdout(&out)[7..]);
    check("status", &stdout(&sb.run(&["status", "1"])));
    check("events log", &stdout(&sb.run(&["events", "log", "1"])));
    let logs = sb.run(&["logs", "1", "a", "--stderr"]);
    assert_eq!(
        stdout(&logs),
        "\x1b]0;pwned\x07\x1b[2J\rhidden\n",
        "logs keeps the bytes"
    );
}
