//! `tasker validate`: graph summaries for valid templates.

use crate::support::{Sandbox, stderr, stdout};

const DIAMOND: &str = "\
name: diamond
version: 2.1.0
steps:
  - { name: fetch, command: 'true' }
  - { name: left, command: 'true', depends_on_step: fetch }
  - { name: right, command: 'true', depends_on_steps: [fetch] }
  - { name: join, command: 'true', depends_on: [left, right] }
  - { name: report, command: 'true', depends_on: [join] }
  - { name: audit, noop: true }
";

#[test]
fn prints_the_graph_summary() {
    let sb = Sandbox::new();
    sb.write("d.yml", DIAMOND);
    let out = sb.run(&["validate", "d.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
    assert!(!sb.db().exists(), "validate never touches the store");
}

#[test]
fn json_summary_for_several_files() {
    let sb = Sandbox::new();
    sb.write("d.yml", DIAMOND);
    sb.write("bad.yml", "name: t\nsteps: []\n");
    let out = sb.run(&["validate", "--json", "d.yml", "bad.yml"]);
    assert_eq!(out.status.code(), Some(2));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(docs[0]["valid"], true);
    assert_eq!(docs[0]["graph"]["steps"], 6);
    assert_eq!(docs[0]["graph"]["edges"], 5);
    assert_eq!(docs[0]["graph"]["levels"], 4);
    assert_eq!(docs[0]["graph"]["widest_level_width"], 2);
    assert_eq!(
        docs[0]["graph"]["longest_path"],
        serde_json::json!(["fetch", "left", "join", "report"])
    );
    assert_eq!(
        docs[0]["graph"]["roots"],
        serde_json::json!(["fetch", "audit"])
    );
    assert_eq!(docs[1]["valid"], false);
    assert!(
        docs[1]["errors"][0]
            .as_str()
            .unwrap_or("")
            .contains("no steps")
    );
}

#[test]
fn every_file_is_checked_even_after_a_bad_one() {
    let sb = Sandbox::new();
    sb.write("a.yml", "name: a\nsteps:\n  - { name: x, comand: y }\n");
    sb.write(
        "b.yml",
        "name: b\nsteps:\n  - { name: x, command: y, timeout: never }\n",
    );
    let out = sb.run(&["validate", "a.yml", "b.yml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("a.yml:3:16: step `x`: unknown key `comand`"),
        "{err}"
    );
    assert!(
        err.contains("b.yml:3:37: step `x`: `timeout`: invalid duration `never`"),
        "{err}"
    );
    assert!(err.contains("2 problems found"), "{err}");
}

#[test]
fn tasker_templates_are_accepted() {
    let sb = Sandbox::new();
    sb.write(
        "tasker.yml",
        "---
name: api_task/integration_example
module_namespace: ApiTask
task_handler_class: IntegrationExample
namespace_name: api_tests
version: 0.1.0
default_dependent_system: ecommerce_system
concurrent: true
named_steps: [fetch_cart, validate_products]
handlers:
  ApiTask::StepHandler::CartFetchStepHandler: { command: 'echo cart' }
  ApiTask::StepHandler::ProductsValidateStepHandler: { command: [echo, products] }
step_templates:
  - name: fetch_cart
    description: Fetch cart details
    handler_class: ApiTask::StepHandler::CartFetchStepHandler
    handler_config: { type: api, url: 'https://example.test/carts' }
    default_retryable: true
    default_retry_limit: 5
  - name: validate_products
    depends_on_step: fetch_cart
    handler_class: ApiTask::StepHandler::ProductsValidateStepHandler
    skippable: false
",
    );
    let out = sb.run(&["validate", "tasker.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = sb.run(&["run", "tasker.yml", "--json"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let doc = sb.status(crate::support::task_id(&run));
    assert_eq!(doc["namespace"], "api_tests");
    assert_eq!(doc["steps"][0]["retry_limit"], 5);
    assert_eq!(doc["steps"][1]["results"]["stdout_tail"], "products\n");
}

#[test]
fn named_steps_are_enforced() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nnamed_steps: [a]\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true' }\n",
    );
    let out = sb.run(&["validate", "t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("step `b`: is not listed in `named_steps`"),
        "{}",
        stderr(&out)
    );
}
