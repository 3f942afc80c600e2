//! Data between steps: the task context, the step input, interpolation, custom events.

use serde_json::{Value, json};

use crate::support::{Sandbox, stderr, stdout, task_id};

const SCHEMA: &str = "\
name: orders
schema:
  type: object
  required: [order_id]
  properties:
    order_id: { type: integer }
    express: { type: boolean, default: false }
    customer:
      type: object
      properties:
        tier: { type: string, default: standard }
        email: { type: string }
steps:
  - name: show
    command: echo \"$TASKER_CONTEXT_ORDER_ID $TASKER_CONTEXT_EXPRESS\"
";

#[test]
fn context_from_json_file_and_set_with_schema_defaults() {
    let sb = Sandbox::new();
    sb.write("t.yml", SCHEMA);
    sb.write(
        "ctx.json",
        r#"{"order_id": 1, "customer": {"email": "a@b.test"}}"#,
    );
    let out = sb.run(&[
        "run",
        "t.yml",
        "--context",
        "@ctx.json",
        "--set",
        "order_id=42",
        "--set",
        "note=rush order",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(task_id(&out));
    assert_eq!(
        doc["context"],
        json!({"order_id": 42, "customer": {"email": "a@b.test", "tier": "standard"}, "note": "rush order", "express": false})
    );
    assert_eq!(
        Sandbox::step(&doc, "show")["results"]["stdout_tail"],
        "42 false\n"
    );

    let out = sb.run(&[
        "run",
        "t.yml",
        "--context",
        r#"{"order_id": 7, "express": true}"#,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.status(task_id(&out))["context"]["express"], true);
}

#[test]
fn every_schema_violation_is_listed_and_nothing_is_written() {
    let sb = Sandbox::new();
    sb.write("t.yml", SCHEMA);
    let out = sb.run(&[
        "run",
        "t.yml",
        "--context",
        r#"{"express": "yes", "customer": {"tier": 3}}"#,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("error: context `/`: \"order_id\" is a required property"),
        "{err}"
    );
    assert!(
        err.contains("error: context `/express`: \"yes\" is not of type \"boolean\""),
        "{err}"
    );
    assert!(
        err.contains("error: context `/customer/tier`: 3 is not of type \"string\""),
        "{err}"
    );
    assert!(err.contains("3 problems found; nothing was run"), "{err}");
    assert!(!sb.db().exists());
}

#[test]
fn bad_contexts_are_usage_errors() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &["--context", "{not json"],
            "the context given with --context is not valid JSON",
        ),
        (
            &["--context", "[1, 2]"],
            "must be a JSON object, not an array",
        ),
        (
            &["--context", "@missing.json"],
            "cannot read the context file `missing.json`",
        ),
        (&["--set", "=5"], "the key is empty"),
        (&["--set", "a..b=5"], "the key is empty"),
        (&["--set", "novalue"], "expected KEY=VALUE"),
        (
            &["--set", "a=1", "--set", "a.b=2"],
            "`a` is a number, not an object",
        ),
    ];
    for (args, message) in cases {
        let out = sb.run(&[&["run", "t.yml"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    assert!(!sb.db().exists());
    // An empty context is fine.
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(0));
}

#[test]
fn an_invalid_schema_is_a_template_error() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nschema: { type: objekt }\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["validate", "t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("t.yml:2:9: `schema`: invalid JSON Schema"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn steps_read_their_input_and_dependencies_results() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "\
name: input
namespace: shop
version: 1.2.3
steps:
  - name: price
    command: |
      echo '{\"total\": 99, \"lines\": [{\"sku\": \"A1\"}]}' > $TASKER_OUTPUT
  - name: check
    depends_on: [price]
    handler_config: { currency: eur, limits: { max: 500 } }
    command: cp \"$TASKER_INPUT\" input.json
",
    );
    let out = sb.run(&["run", "t.yml", "--set", "order_id=5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let id = task_id(&out);
    let input: Value = serde_json::from_str(
        &std::fs::read_to_string(sb.path().join("input.json")).expect("input"),
    )
    .expect("json");
    assert_eq!(input["task_id"], id);
    assert_eq!(input["task_name"], "input");
    assert_eq!(input["namespace"], "shop");
    assert_eq!(input["version"], "1.2.3");
    assert_eq!(input["context"], json!({"order_id": 5}));
    assert_eq!(input["step_name"], "check");
    assert_eq!(input["attempt"], 1);
    assert_eq!(input["retry_limit"], 3);
    assert_eq!(
        input["config"],
        json!({"currency": "eur", "limits": {"max": 500}})
    );
    assert_eq!(input["steps"]["price"]["results"]["total"], 99);
    assert!(input["task_uuid"].as_str().is_some_and(|u| u.len() == 36));
    // Its keys come in a stable order.
    let keys: Vec<&str> = input
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "task_id",
            "task_uuid",
            "task_name",
            "namespace",
            "version",
            "context",
            "step_name",
            "attempt",
            "retry_limit",
            "config",
            "steps"
        ]
    );
}

#[test]
fn interpolation_everywhere_a_step_is_described() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "\
name: interp
env: { REGION: '{{ context.region }}' }
steps:
  - name: first
    command: |
      echo '{\"id\": 7, \"tags\": [\"a\", \"b\"], \"nested\": {\"k\": \"v\"}}' > $TASKER_OUTPUT
  - name: middle
    depends_on: [first]
    command: 'true'
  - name: last
    depends_on: [middle]
    env: { FROM_STEP: 'id={{ steps.first.results.id }}' }
    command: [sh, -c, 'echo \"$1|$2|$3|$4|$5|$REGION|$FROM_STEP\" > out.txt', x, '{{ context.region }}', '{{ steps.first.results.tags }}', '{{ task.name }}', '{{ env.HOME }}', '{{ steps.first.results.nested.k }}-{{ steps.first.results.tags.1 }}']
",
    );
    let out = sb
        .cmd()
        .env("HOME", "/home/tester")
        .args(["run", "t.yml", "--set", "region=eu-west"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(sb.path().join("out.txt")).expect("out");
    assert_eq!(
        text,
        "eu-west|[\"a\",\"b\"]|interp|/home/tester|v-b|eu-west|id=7\n"
    );
}

#[test]
fn context_values_reach_the_shell_as_data_only() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "\
name: inject
steps:
  - name: echo
    command: printf '%s\\n' {{ context.a }} {{ context.b }} {{ context.c }} > got.txt; printf '%s' {{ context.d }} > multi.txt
",
    );
    let hostile = json!({
        "a": "$(touch pwned)",
        "b": "`touch pwned2`",
        "c": "'; touch pwned3; echo '",
        "d": "line one\nline two; touch pwned4",
    });
    let out = sb.run(&["run", "t.yml", "--context", &hostile.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for f in ["pwned", "pwned2", "pwned3", "pwned4"] {
        assert!(
            !sb.path().join(f).exists(),
            "{f} was created: the shell ran context data"
        );
    }
    let got = std::fs::read_to_string(sb.path().join("got.txt")).expect("got");
    assert_eq!(
        got,
        "$(touch pwned)\n`touch pwned2`\n'; touch pwned3; echo '\n"
    );
    let multi = std::fs::read_to_string(sb.path().join("multi.txt")).expect("multi");
    assert_eq!(multi, "line one\nline two; touch pwned4");
}

#[test]
fn references_must_point_at_ancestors() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "\
name: refs
steps:
  - { name: a, command: 'true' }
  - { name: b, command: 'echo {{ steps.c.results.x }}' }
  - { name: c, command: 'true', depends_on: [a] }
  - { name: d, command: 'echo {{ steps.a.results }} {{ steps.zz.results }}', depends_on: [c] }
  - { name: e, command: 'echo {{ context.a', depends_on: [a] }
  - { name: f, command: 'echo {{ task.owner }}' }
",
    );
    let out = sb.run(&["validate", "t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("step `b`: `steps.c` is not an ancestor of this step"),
        "{err}"
    );
    assert!(
        err.contains("hint: add `c` to the step's `depends_on`"),
        "{err}"
    );
    assert!(
        err.contains("step `d`: `steps.zz` refers to an unknown step"),
        "{err}"
    );
    assert!(
        !err.contains("`steps.a` is not an ancestor"),
        "grandparents are ancestors: {err}"
    );
    assert!(err.contains("step `e`: `command`: unclosed `{{`"), "{err}");
    assert!(
        err.contains("step `f`: `command`: `task.owner`: the task fields are"),
        "{err}"
    );
    assert!(err.contains("4 problems found"), "{err}");

    sb.write(
        "env.yml",
        "name: t\nenv: { X: '{{ steps.a.results }}' }\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["validate", "env.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`env`: the template's `env` cannot refer to steps' results"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_value_fails_the_step_for_good() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'echo {{ context.order.id }}', retry: { limit: 3 } }\n",
    );
    let out = sb.run(&["run", "t.yml", "--set", "order.name=x"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = sb.status(task_id(&out));
    let a = Sandbox::step(&doc, "a");
    assert_eq!(a["attempts"], 1, "not retried");
    assert_eq!(a["error"]["class"], "interpolation");
    assert_eq!(
        a["error"]["message"],
        "`{{ context.order.id }}` has no value"
    );
}

#[test]
fn custom_events_are_kept_and_bad_lines_only_warned_about() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "\
name: events
custom_events:
  - { name: order.packed, description: The order is in a box }
steps:
  - name: pack
    custom_events: [order.weighed]
    command: |
      echo '{\"name\": \"order.packed\", \"payload\": {\"boxes\": 2}}' >> $TASKER_EVENTS
      echo '{\"name\": \"order.weighed\"}' >> $TASKER_EVENTS
      echo 'garbage' >> $TASKER_EVENTS
      echo '{\"name\": \"order.lost\"}' >> $TASKER_EVENTS
",
    );
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: step `pack`: TASKER_EVENTS line 3 is not a JSON object; ignored"),
        "{err}"
    );
    assert!(err.contains("event `order.lost` is not declared"), "{err}");
    let kept: String = sb
        .sqlite()
        .query_row("SELECT custom_events FROM step_attempts", [], |r| r.get(0))
        .expect("events");
    let kept: Value = serde_json::from_str(&kept).expect("json");
    assert_eq!(kept.as_array().map(Vec::len), Some(2));
    assert_eq!(kept[0]["name"], "order.packed");
    assert_eq!(kept[0]["payload"]["boxes"], 2);
    assert_eq!(kept[1]["name"], "order.weighed");
}

#[test]
fn reserved_or_malformed_event_names_are_refused() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\ncustom_events: [task.exploded, task_completed, 'bad..dots', 'sp ace', { name: ok.event }]\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["validate", "t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`task.exploded` uses the reserved prefix `task.`"),
        "{err}"
    );
    assert!(
        err.contains("`task_completed` collides with tasker's own event `task.completed`"),
        "{err}"
    );
    assert!(err.contains("invalid event name `bad..dots`"), "{err}");
    assert!(err.contains("invalid event name `sp ace`"), "{err}");
    assert!(stdout(&out).is_empty());
}

/// Tasker's examples declare and publish undotted names: accepted with a warning, usable in
/// `on:` and through TASKER_EVENTS; `--strict` refuses them.
#[test]
fn undotted_event_names_are_accepted_as_tasker_wrote_them() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\ncustom_events:\n  - name: data_extraction_started\n    description: Fired when any extraction step begins\non:\n  data_extraction_started: ['cat > hooked.json']\nstep_templates:\n  - name: a\n    command: \"echo '{\\\"name\\\": \\\"data_extraction_started\\\", \\\"payload\\\": {\\\"rows\\\": 3}}' >> $TASKER_EVENTS\"\n",
    );
    let out = sb.run(&["validate", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "warning: t.yml:3:11: `custom_events`: event name `data_extraction_started` has no dot (accepted, as Tasker did)"
        ),
        "{}",
        stderr(&out)
    );
    let strict = sb.run(&["validate", "--strict", "t.yml"]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(
        stderr(&strict).contains(
            "error: t.yml:3:11: `custom_events`: event name `data_extraction_started` has no dot\n"
        ),
        "{}",
        stderr(&strict)
    );
    let run = sb.run(&["run", "t.yml"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let hooked = std::fs::read_to_string(sb.path().join("hooked.json")).expect("the hook ran");
    let hooked: Value = serde_json::from_str(&hooked).expect("the hook got the event");
    assert_eq!(hooked["name"], "data_extraction_started");
    assert_eq!(hooked["payload"]["rows"], 3);
}
