//! Templates by name, environments, Tasker templates, task requests, idempotency, bypass.

use serde_json::json;

use crate::support::{Sandbox, stderr, stdout, task_id};

fn tmpl(name: &str, ns: &str, version: &str, marker: &str) -> String {
    format!(
        "name: {name}\nnamespace: {ns}\nversion: {version}\nsteps:\n  - {{ name: a, command: 'echo {marker}' }}\n"
    )
}

#[test]
fn templates_run_by_name_with_the_highest_version() {
    let sb = Sandbox::new();
    sb.write("workflows/a.yml", &tmpl("etl", "data", "1.2.0", "v120"));
    sb.write("workflows/b.yml", &tmpl("etl", "data", "1.10.0", "v1100"));
    sb.write(
        "workflows/sub/c.yml",
        &tmpl("etl", "data", "2.0.0-rc.1", "rc"),
    );
    sb.write("workflows/d.yml", &tmpl("other", "ops", "0.1.0", "other"));
    sb.write("workflows/notes.txt", "not a template");
    let stdout_of = |args: &[&str]| {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        sb.status(task_id(&out))["steps"][0]["results"]["stdout_tail"].clone()
    };
    assert_eq!(
        stdout_of(&["run", "data/etl"]),
        "v1100\n",
        "the highest release, not the pre-release"
    );
    assert_eq!(stdout_of(&["run", "data/etl@1.2.0"]), "v120\n");
    assert_eq!(stdout_of(&["run", "data/etl@2.0.0-rc.1"]), "rc\n");
    assert_eq!(
        stdout_of(&["run", "other"]),
        "other\n",
        "a unique name needs no namespace"
    );

    let out = sb.run(&["run", "data/nope"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("no template named `data/nope`"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("templates: data/etl, ops/other"),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["run", "data/etl@9.9.9"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("no version `9.9.9` of `data/etl`"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("versions: 1.2.0, 1.10.0, 2.0.0-rc.1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn templates_list_and_show() {
    let sb = Sandbox::new();
    sb.write("flows/a.yml", &tmpl("etl", "data", "1.0.0", "x"));
    sb.write("flows/bad.yml", "name: broken\n");
    let out = sb.run(&["templates", "list", "--templates", "flows", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1));
    assert_eq!(rows[0]["namespace"], "data");
    assert_eq!(rows[0]["steps"], 1);
    assert!(
        stderr(&out).contains("warning: skipped flows/bad.yml"),
        "{}",
        stderr(&out)
    );

    let out = sb
        .cmd()
        .env("TASKER_TEMPLATES", "flows")
        .args(["templates", "show", "data/etl"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("# data/etl@1.0.0 (flows/a.yml)\nname: etl\n"),
        "{}",
        stdout(&out)
    );
    let out = sb.run(&[
        "templates",
        "show",
        "data/etl",
        "--templates",
        "flows",
        "--templates",
        "elsewhere",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = sb.run(&["templates", "show", "nothing"]);
    assert_eq!(out.status.code(), Some(4));
}

/// A JSON template (a subset of YAML) is read like a YAML one: run by path, listed and run by
/// name from a template directory, its problems placed by line and column. A JSON file there
/// that is not a template (a context) is left out, not reported.
#[test]
fn json_templates_run_and_are_listed_by_name() {
    let sb = Sandbox::new();
    sb.write(
        "flows/etl.json",
        r#"{"name": "etl", "namespace_name": "data", "version": "1.2.0",
  "steps": [
    {"name": "fetch", "command": "echo fetched"},
    {"name": "load", "command": "test {{ context.rows }} -gt 1", "depends_on": ["fetch"],
     "retry": {"limit": 2, "backoff": {"base": "10ms", "jitter": 0.1}}}
  ]}
"#,
    );
    sb.write("flows/context.json", r#"{"rows": 3}"#);
    let out = sb.run(&[
        "run",
        "flows/etl.json",
        "--context",
        "@flows/context.json",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["status"], "complete", "{doc}");

    let out = sb.run(&["templates", "list", "--templates", "flows", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["name"], "etl");
    assert!(!stderr(&out).contains("context.json"), "{}", stderr(&out));
    let out = sb.run(&[
        "run",
        "data/etl",
        "--templates",
        "flows",
        "--context",
        r#"{"rows": 5}"#,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    sb.write(
        "bad.json",
        "{\"name\": \"etl\",\n \"steps\": [{\"name\": \"a\", \"comand\": \"true\"}]}\n",
    );
    let out = sb.run(&["validate", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.json:2:"), "{}", stderr(&out));
    assert!(stderr(&out).contains("comand"), "{}", stderr(&out));
}

#[test]
fn two_files_claiming_one_version_are_reported() {
    let sb = Sandbox::new();
    sb.write("workflows/a.yml", &tmpl("etl", "data", "1.0.0", "a"));
    sb.write("workflows/b.yml", &tmpl("etl", "data", "1.0.0", "b"));
    let out = sb.run(&["templates", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "`data/etl@1.0.0` is defined by several files: workflows/a.yml, workflows/b.yml"
        ),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["run", "data/etl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is defined by several files"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.db().exists());
}

const TASKER_FORMAT: &str = "\
---
name: api_task/integration_example
module_namespace: ApiTask
task_handler_class: IntegrationExample
namespace_name: api_tests
version: 0.1.0
description: Integration test with Tasker's own keys
default_dependent_system: ecommerce_system
named_steps: [fetch_cart, fetch_products, validate_products, create_order, publish_event]
schema:
  type: object
  required: [cart_id]
  properties:
    cart_id: { type: integer }
handlers:
  ApiTask::StepHandler::CartFetchStepHandler: { command: 'echo \"{\\\"cart\\\": $TASKER_CONTEXT_CART_ID}\" > $TASKER_OUTPUT' }
  ApiTask::StepHandler::ProductsFetchStepHandler: { command: [sh, -c, 'cat $TASKER_INPUT > products_input.json'] }
  ApiTask::StepHandler::ProductsValidateStepHandler: { plugin: { command: [sh, -c, 'cat > validate_input.json; echo {\\\"result\\\": {\\\"valid\\\": true}}'] } }
  ApiTask::StepHandler::CreateOrderStepHandler: { command: '[ $TASKER_ATTEMPT -ge 2 ]' }
  ApiTask::StepHandler::PublishEventStepHandler: { command: 'exit 1' }
step_templates:
  - name: fetch_cart
    description: Fetch cart details from the cart service
    handler_class: ApiTask::StepHandler::CartFetchStepHandler
    handler_config: { type: api, url: 'https://carts.example.test', params: { cart_id: 1 } }
  - name: fetch_products
    handler_class: ApiTask::StepHandler::ProductsFetchStepHandler
    handler_config: { type: api, url: 'https://products.example.test' }
  - name: validate_products
    depends_on_steps: [fetch_cart, fetch_products]
    handler_class: ApiTask::StepHandler::ProductsValidateStepHandler
  - name: create_order
    depends_on_step: validate_products
    handler_class: ApiTask::StepHandler::CreateOrderStepHandler
    default_retry_limit: 3
    retry: { backoff: { base: 10ms } }
  - name: publish_event
    depends_on_step: create_order
    handler_class: ApiTask::StepHandler::PublishEventStepHandler
    default_retryable: false
environments:
  development:
    step_templates:
      - name: fetch_products
        handler_config: { url: 'http://localhost:3000/products' }
  test:
    step_templates:
      - name: fetch_products
        handler_config: { url: 'http://127.0.0.1:9/products', params: { limit: 2 } }
      - name: publish_event
        default_retryable: true
        default_retry_limit: 1
";

#[test]
fn a_tasker_format_template_runs_with_its_environment() {
    let sb = Sandbox::new();
    sb.write("tasker.yml", TASKER_FORMAT);
    let out = sb.run(&["run", "tasker.yml", "--set", "cart_id=77"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "publish_event fails for good: {}",
        stderr(&out)
    );
    let doc = sb.status(task_id(&out));
    assert_eq!(doc["namespace"], "api_tests");
    assert_eq!(doc["name"], "api_task/integration_example");
    assert_eq!(
        Sandbox::step(&doc, "fetch_cart")["results"],
        json!({"cart": 77})
    );
    assert_eq!(Sandbox::step(&doc, "create_order")["attempts"], 2);
    assert_eq!(Sandbox::step(&doc, "create_order")["flaky"], true);
    let publish = Sandbox::step(&doc, "publish_event");
    assert_eq!(publish["attempts"], 1, "default_retryable: false");
    let input: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.path().join("products_input.json")).expect("input"),
    )
    .expect("json");
    assert_eq!(input["config"]["url"], "https://products.example.test");
    let validate: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.path().join("validate_input.json")).expect("input"),
    )
    .expect("json");
    assert_eq!(validate["steps"]["fetch_cart"]["results"]["cart"], 77);

    // With --env test: handler_config is merged key by key, other keys replaced.
    let out = sb.run(&["run", "tasker.yml", "--set", "cart_id=78", "--env", "test"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = sb.status(task_id(&out));
    assert_eq!(doc["environment"], "test");
    let input: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.path().join("products_input.json")).expect("input"),
    )
    .expect("json");
    assert_eq!(
        input["config"],
        json!({"type": "api", "url": "http://127.0.0.1:9/products", "params": {"limit": 2}})
    );
    let publish = Sandbox::step(&doc, "publish_event");
    assert_eq!(publish["retry_limit"], 1);

    // The schema is enforced.
    let out = sb.run(&["run", "tasker.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"cart_id\" is a required property"));
}

#[test]
fn an_unknown_environment_lists_the_known_ones() {
    let sb = Sandbox::new();
    sb.write("tasker.yml", TASKER_FORMAT);
    let out = sb.run(&[
        "run",
        "tasker.yml",
        "--set",
        "cart_id=1",
        "--env",
        "staging",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown environment `staging`"), "{err}");
    assert!(
        err.contains("hint: environments: development, test"),
        "{err}"
    );
    assert!(!sb.db().exists());
    sb.write(
        "bad.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\nenvironments:\n  test:\n    step_templates:\n      - { name: b, command: 'false' }\n",
    );
    let out = sb.run(&["validate", "bad.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`environments.test`: overrides unknown step `b`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_request_is_stored_and_shown() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&[
        "run",
        "t.yml",
        "--initiator",
        "alice",
        "--source-system",
        "billing",
        "--reason",
        "monthly close",
        "--tag",
        "finance",
        "--tag",
        "eu",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let id = task_id(&out);
    let doc = sb.status(id);
    assert_eq!(doc["initiator"], "alice");
    assert_eq!(doc["source_system"], "billing");
    assert_eq!(doc["reason"], "monthly close");
    assert_eq!(doc["tags"], json!(["finance", "eu"]));
    let table = stdout(&sb.run(&["status", &id.to_string()]));
    assert!(
        table
            .contains("requested by alice; from billing; reason: monthly close; tags: finance, eu"),
        "{table}"
    );
}

#[test]
fn an_idempotency_key_returns_the_first_task() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'echo run >> runs' }\n",
    );
    let first = sb.run(&["run", "t.yml", "--idempotency-key", "nightly-1"]);
    assert_eq!(first.status.code(), Some(0));
    let again = sb.run(&["run", "t.yml", "--idempotency-key", "nightly-1"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(task_id(&again), task_id(&first));
    assert!(
        stderr(&again).contains("already exists with this idempotency key; it is complete"),
        "{}",
        stderr(&again)
    );
    let other = sb.run(&["run", "t.yml", "--idempotency-key", "nightly-2"]);
    assert_ne!(task_id(&other), task_id(&first));
    assert_eq!(
        std::fs::read_to_string(sb.path().join("runs")).expect("runs"),
        "run\nrun\n"
    );

    // A failed task keeps its exit code.
    sb.write(
        "f.yml",
        "name: f\nsteps:\n  - { name: a, command: 'exit 1', retry: 1 }\n",
    );
    assert_eq!(
        sb.run(&["run", "f.yml", "--idempotency-key", "k"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        sb.run(&["run", "f.yml", "--idempotency-key", "k"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_duplicate_key_for_an_unfinished_task_is_refused() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    assert_eq!(
        sb.run(&["run", "t.yml", "--idempotency-key", "k"])
            .status
            .code(),
        Some(0)
    );
    sb.sqlite()
        .execute("UPDATE tasks SET status = 'in_progress'", [])
        .expect("update");
    let out = sb.run(&["run", "t.yml", "--idempotency-key", "k"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains("task 1 has the same idempotency key and has not finished"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn dedup_hash_keys_on_template_and_context() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let a = task_id(&sb.run(&[
        "run",
        "t.yml",
        "--dedup",
        "hash",
        "--context",
        r#"{"x": 1, "y": 2}"#,
    ]));
    let b = task_id(&sb.run(&[
        "run",
        "t.yml",
        "--dedup",
        "hash",
        "--context",
        r#"{"y": 2, "x": 1}"#,
    ]));
    let c = task_id(&sb.run(&[
        "run",
        "t.yml",
        "--dedup",
        "hash",
        "--context",
        r#"{"x": 2}"#,
    ]));
    assert_eq!(a, b, "key order does not matter");
    assert_ne!(a, c);
    let out = sb.run(&["run", "t.yml", "--dedup", "hash", "--idempotency-key", "k"]);
    assert_eq!(out.status.code(), Some(2), "the two are exclusive");
}

#[test]
fn bypassed_steps_are_resolved_without_running() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: notify, command: 'touch notified', skippable: true }\n  - { name: after, command: 'touch after', depends_on: [notify] }\n  - { name: core, command: 'true' }\n",
    );
    let out = sb.run(&[
        "run",
        "t.yml",
        "--bypass-steps",
        "notify",
        "--initiator",
        "ops",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!sb.path().join("notified").exists());
    assert!(
        sb.path().join("after").exists(),
        "a bypassed step satisfies its dependents"
    );
    let doc = sb.status(task_id(&out));
    assert_eq!(Sandbox::step(&doc, "notify")["status"], "resolved_manually");
    let (from, to, meta): (String, String, String) = sb
        .sqlite()
        .query_row(
            "SELECT from_state, to_state, metadata FROM workflow_step_transitions x JOIN workflow_steps s USING (workflow_step_id) WHERE s.name = 'notify'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("row");
    assert_eq!(
        (from.as_str(), to.as_str()),
        ("pending", "resolved_manually")
    );
    let meta: serde_json::Value = serde_json::from_str(&meta).expect("json");
    assert_eq!(meta, json!({"actor": "ops", "reason": "bypassed"}));

    let out = sb.run(&["run", "t.yml", "--bypass-steps", "core,nottify"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--bypass-steps: step `core` is not `skippable`"),
        "{err}"
    );
    assert!(
        err.contains("--bypass-steps: unknown step `nottify`\n  hint: did you mean `notify`?"),
        "{err}"
    );
}

#[test]
fn handler_classes_can_come_from_the_config_file() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, handler_class: Shop::Pack }\n  - { name: b, handler_class: Shop::Ship, depends_on: [a] }\n",
    );
    sb.write(
        "tasker.toml",
        "[handlers.\"Shop::Pack\"]\ncommand = \"echo packed-by-config\"\n\n[handlers.\"Shop::Ship\"]\nplugin = { command = [\"sh\", \"-c\", \"echo '{\\\"result\\\": {\\\"shipped\\\": true}}'\"] }\n",
    );
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(task_id(&out));
    assert_eq!(
        Sandbox::step(&doc, "a")["results"]["stdout_tail"],
        "packed-by-config\n"
    );
    assert_eq!(
        Sandbox::step(&doc, "b")["results"],
        json!({"shipped": true})
    );

    // The template's own map wins over the config file.
    sb.write(
        "own.yml",
        "name: own\nhandlers:\n  Shop::Pack: { command: echo packed-by-template }\nsteps:\n  - { name: a, handler_class: Shop::Pack }\n",
    );
    let out = sb.run(&["run", "own.yml"]);
    let doc = sb.status(task_id(&out));
    assert_eq!(
        Sandbox::step(&doc, "a")["results"]["stdout_tail"],
        "packed-by-template\n"
    );

    // The XDG config file is used when there is no tasker.toml.
    std::fs::remove_file(sb.path().join("tasker.toml")).expect("rm");
    sb.write(".config/tasker/config.toml", "[handlers.\"Shop::Pack\"]\ncommand = \"echo from-xdg\"\n[handlers.\"Shop::Ship\"]\ncommand = \"true\"\n");
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = sb.status(task_id(&out));
    assert_eq!(
        Sandbox::step(&doc, "a")["results"]["stdout_tail"],
        "from-xdg\n"
    );
}

#[test]
fn a_malformed_config_file_is_named_with_its_key() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    sb.write(
        "tasker.toml",
        "handler = 1\n[handlers.X]\ncomand = \"true\"\n",
    );
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("error: tasker.toml: unknown key `handler`\n  hint: did you mean `handlers`?"),
        "{err}"
    );
    assert!(
        err.contains("error: tasker.toml: `handlers.X`: unknown key `comand`"),
        "{err}"
    );
    sb.write("tasker.toml", "[handlers\n");
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the config file `"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("tasker.toml` is not valid TOML"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.db().exists());
}
