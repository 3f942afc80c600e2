//! Tasker's templates as Tasker users wrote them: extension blocks, older keys, undotted
//! events, handler classes mapped later, the config file found as `git` finds its own, the
//! environment chosen by `TASKER_ENV`.

use serde_json::Value;

use crate::support::{Sandbox, stderr, stdout, task_id};

/// A template in the shape of Tasker's blog examples, with blocks tasker does not read.
const ORDER: &str = r#"---
name: ecommerce/process_order
namespace_name: ecommerce
version: 1.0.0
task_handler_class: Ecommerce::OrderProcessingHandler
description: "Process customer orders"
default_dependent_system: ecommerce_system
retry_strategies:
  payment_errors:
    retry_limit: 3
    backoff_strategy: exponential
monitoring:
  success_rate_threshold: 0.95
handler_config:
  business_metrics: [orders]
x-owner: team-checkout
step_templates:
  - name: validate_cart
    description: Validate the cart
    command: "echo validated"
    default_retryable: true
    default_retry_limit: 3
    x-notes: checked by hand
  - name: process_payment
    depends_on_step: validate_cart
    command: "echo paid"
    timeout_seconds: 30
"#;

#[test]
fn unknown_keys_far_from_ours_are_warnings_and_typos_stay_errors() {
    let sb = Sandbox::new();
    sb.write("order.yaml", ORDER);
    let out = sb.run(&["validate", "order.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for (line, key) in [
        ("8:1", "retry_strategies"),
        ("12:1", "monitoring"),
        ("14:1", "handler_config"),
    ] {
        assert!(
            err.contains(&format!(
                "warning: order.yaml:{line}: unknown key `{key}` (ignored, as Tasker did)"
            )),
            "{err}"
        );
    }
    assert!(
        err.contains("`handler_config` is a key of a step, not of this mapping"),
        "a step key at the top level says where it belongs: {err}"
    );
    assert!(
        err.contains(
            "warning: order.yaml:27:5: step `process_payment`: unknown key `timeout_seconds` (ignored, as Tasker did)"
        ),
        "{err}"
    );
    assert!(
        !err.contains("x-owner") && !err.contains("x-notes"),
        "{err}"
    );
    assert_eq!(err.matches("warning: ").count(), 4, "{err}");
    assert!(stdout(&out).contains("is valid"));

    // The same in JSON, with Tasker's inert keys kept as metadata.
    let json = sb.run(&["validate", "--json", "order.yaml"]);
    let doc: Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(doc[0]["valid"], true);
    assert_eq!(doc[0]["warnings"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        doc[0]["metadata"]["task_handler_class"],
        "Ecommerce::OrderProcessingHandler"
    );

    // A run goes ahead, saying the same.
    let run = sb.run(&["run", "order.yaml"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(stderr(&run).contains("unknown key `monitoring` (ignored, as Tasker did)"));

    // --strict, or `strict = true` in the config, makes every warning an error.
    let strict = sb.run(&["validate", "--strict", "order.yaml"]);
    assert_eq!(strict.status.code(), Some(2));
    let err = stderr(&strict);
    assert!(
        err.contains("error: order.yaml:8:1: unknown key `retry_strategies`\n"),
        "{err}"
    );
    assert!(err.contains("4 problems found"), "{err}");
    sb.write("tasker.toml", "strict = true\n");
    let strict = sb.run(&["validate", "order.yaml"]);
    assert_eq!(strict.status.code(), Some(2), "{}", stderr(&strict));
    std::fs::remove_file(sb.path().join("tasker.toml")).expect("rm");

    // Close to a known key, or another tool's name for one: an error, as before.
    sb.write(
        "typos.yaml",
        "name: t\nmax_paralel: 2\nstep_templates:\n  - name: a\n    command: 'true'\n  - name: b\n    command: 'true'\n    depends_on_stp: a\n  - name: c\n    command: 'true'\n    needs: [a]\n",
    );
    let out = sb.run(&["validate", "typos.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "error: typos.yaml:2:1: unknown key `max_paralel`\n  hint: did you mean `max_parallel`?"
        ),
        "{err}"
    );
    assert!(
        err.contains("unknown key `depends_on_stp`\n  hint: did you mean `depends_on_step`?"),
        "{err}"
    );
    assert!(
        err.contains("unknown key `needs`\n  hint: did you mean `depends_on`?"),
        "{err}"
    );
    assert!(err.contains("3 problems found"), "{err}");
}

#[test]
fn older_tasker_keys_are_read_as_the_keys_they_became() {
    let sb = Sandbox::new();
    // Tasker's first schema: `class_name`; its early examples: `task_name`.
    sb.write(
        "old.yaml",
        "task_name: integration_example\nclass_name: IntegrationYamlExample\nstep_templates:\n  - name: fetch\n    command: 'true'\n",
    );
    let out = sb.run(&["validate", "--json", "--strict", "old.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc[0]["name"], "integration_example");
    assert_eq!(
        doc[0]["metadata"]["task_handler_class"],
        "IntegrationYamlExample"
    );
    assert_eq!(doc[0]["warnings"], serde_json::json!([]));

    // Both spellings, disagreeing: which one is meant cannot be guessed.
    sb.write(
        "both.yaml",
        "name: a\ntask_name: b\nclass_name: X\ntask_handler_class: Y\nsteps:\n  - { name: s, command: 'true' }\n",
    );
    let out = sb.run(&["validate", "both.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("both.yaml:2:12: `task_name`: conflicts with `name`"),
        "{err}"
    );
    assert!(
        err.contains("both.yaml:3:13: `class_name`: conflicts with `task_handler_class`\n  hint: `class_name` is Tasker's older name for `task_handler_class`: keep one"),
        "{err}"
    );
}

const PAYMENTS: &str = "name: payments\nnamespace_name: billing\nversion: 1.0.0\nstep_templates:\n  - name: charge\n    handler_class: Payments::ChargeHandler\n    handler_config:\n      currency: EUR\n  - name: receipt\n    depends_on_step: charge\n    handler_class: Payments::ReceiptHandler\n";

/// The lines of the `tasker.toml` block printed for `class`.
fn printed_block(err: &str, class: &str) -> String {
    let header = format!("    [handlers.\"{class}\"]");
    let mut lines = err.lines().skip_while(|l| *l != header);
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("no block for {class}: {err}"));
    let command = lines.next().expect("a command line");
    assert!(command.starts_with("    command = \""), "{command}");
    format!("{}\n{}\n", head.trim(), command.trim())
}

#[test]
fn unmapped_handler_classes_validate_with_the_block_to_add_and_run_once_mapped() {
    let sb = Sandbox::new();
    sb.write("payments.yaml", PAYMENTS);
    let out = sb.run(&["validate", "payments.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: payments.yaml:6:20: step `charge`: `handler_class`: unknown handler class `Payments::ChargeHandler`: `tasker run` needs a command for it"),
        "{err}"
    );
    assert!(err.contains("    [handlers.\"Payments::ChargeHandler\"]\n    command = \"./handlers/payments/charge_handler\"\n"), "{err}");
    assert!(
        err.contains("or map it in the template: `handlers:"),
        "{err}"
    );
    // Drawn before the handlers exist, too.
    let diagram = sb.run(&["diagram", "--template", "payments.yaml"]);
    assert_eq!(diagram.status.code(), Some(0), "{}", stderr(&diagram));
    assert!(
        stderr(&diagram).contains(
            "warning: payments.yaml:6:20: step `charge`: `handler_class`: unknown handler class"
        ),
        "the diagram says what validate says: {}",
        stderr(&diagram)
    );

    // `run` refuses, with the same block, and writes nothing.
    let run = sb.run(&["run", "payments.yaml"]);
    assert_eq!(run.status.code(), Some(2));
    let err = stderr(&run);
    assert!(
        err.contains("error: payments.yaml:6:20: step `charge`: `handler_class`: unknown handler class `Payments::ChargeHandler`\n"),
        "{err}"
    );
    assert!(err.contains("2 problems found; nothing was run"), "{err}");
    assert!(!sb.db().exists(), "nothing was written");

    // The printed blocks, pasted as they are, with programs at the paths they name.
    let config = printed_block(&err, "Payments::ChargeHandler")
        + &printed_block(&err, "Payments::ReceiptHandler");
    sb.write("tasker.toml", &config);
    for (path, word) in [
        ("handlers/payments/charge_handler", "charged"),
        ("handlers/payments/receipt_handler", "receipt"),
    ] {
        let file = sb.write(
            path,
            &format!(
                "#!/bin/sh\nprintf '{{\"{word}\": %s}}' \"$(cat \"$TASKER_INPUT\")\" > \"$TASKER_OUTPUT\"\n"
            ),
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let out = sb.run(&["validate", "--strict", "payments.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = sb.run(&["run", "payments.yaml"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let doc = sb.status(task_id(&run));
    let charge = Sandbox::step(&doc, "charge");
    assert_eq!(charge["results"]["charged"]["config"]["currency"], "EUR");
}

#[test]
fn the_config_file_is_named_or_found_upwards() {
    let sb = Sandbox::new();
    sb.write(
        "workflows/t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    sb.write("tasker.toml", "db = \"from-root.db\"\n");
    sb.write("elsewhere/other.toml", "db = \"from-other.db\"\n");
    std::fs::create_dir_all(sb.path().join("deep/er")).expect("mkdir");
    let show = |dir: &str, args: &[&str], env: Option<&str>| -> Value {
        let mut cmd = sb.cmd();
        cmd.current_dir(sb.path().join(dir)).env_remove("TASKER_DB");
        if let Some(v) = env {
            cmd.env("TASKER_CONFIG", v);
        }
        let out = cmd
            .args(args)
            .args(["config", "show", "--json"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let root = sb.path().canonicalize().expect("canonical");
    // From a subdirectory: the nearest tasker.toml above, with paths relative to it.
    let doc = show("deep/er", &[], None);
    assert_eq!(
        doc["file"],
        root.join("tasker.toml").display().to_string(),
        "{doc:#}"
    );
    assert_eq!(doc["found_by"], "a parent of the working directory");
    assert_eq!(
        doc["settings"]["db"]["value"],
        root.join("from-root.db").display().to_string()
    );
    // Named with --config, from another directory; or with TASKER_CONFIG.
    let doc = show("deep/er", &["--config", "../../elsewhere/other.toml"], None);
    assert_eq!(doc["found_by"], "--config");
    assert!(
        doc["settings"]["db"]["value"]
            .as_str()
            .is_some_and(|v| v.ends_with("elsewhere/from-other.db")),
        "{doc:#}"
    );
    let other = sb.path().join("elsewhere/other.toml");
    let doc = show("deep", &[], Some(other.to_str().expect("utf-8")));
    assert_eq!(doc["found_by"], "TASKER_CONFIG");
    // The flag wins over the variable.
    let doc = show(
        ".",
        &["--config", "tasker.toml"],
        Some(other.to_str().expect("utf-8")),
    );
    assert_eq!(doc["found_by"], "--config");

    // The text form names the file and how it was found.
    let out = sb
        .cmd()
        .current_dir(sb.path().join("deep/er"))
        .args(["config", "show"])
        .output()
        .expect("run");
    assert!(
        stdout(&out).starts_with(&format!(
            "config file: {} (from a parent of the working directory)\n",
            root.join("tasker.toml").display()
        )),
        "{}",
        stdout(&out)
    );

    // A file named on purpose must exist.
    let out = sb.run(&["--config", "missing.toml", "validate", "workflows/t.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "cannot read the config file `missing.toml`: no such file (named by --config)"
        ),
        "{}",
        stderr(&out)
    );
    let out = sb
        .cmd()
        .env("TASKER_CONFIG", "nope.toml")
        .args(["validate", "workflows/t.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("(named by TASKER_CONFIG)"));

    // A run from a subdirectory uses the store the project's file names.
    let out = sb
        .cmd()
        .current_dir(sb.path().join("deep/er"))
        .env_remove("TASKER_DB")
        .args(["run", "../../workflows/t.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(sb.path().join("from-root.db").exists());
}

const ENVIRONMENTS: &str = r#"name: charge
steps:
  - name: pay
    command: 'cat "$TASKER_INPUT" > input.json; echo "{\"mode\": \"$MODE\"}" > "$TASKER_OUTPUT"'
    env: { MODE: development }
    handler_config:
      api_key: sk_dev_111
      url: http://localhost
environments:
  production:
    steps:
      - name: pay
        env: { MODE: production }
        handler_config:
          api_key: sk_prod_999
"#;

#[test]
fn tasker_env_chooses_the_environment_and_secrets_stay_real_for_the_step() {
    let sb = Sandbox::new();
    sb.write("charge.yml", ENVIRONMENTS);
    let run = sb
        .cmd()
        .env("TASKER_ENV", "production")
        .args(["run", "charge.yml"])
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let id = task_id(&run);
    // The step gets the real value, merged from the environment.
    let input: Value = serde_json::from_str(
        &std::fs::read_to_string(sb.path().join("input.json")).expect("input"),
    )
    .expect("json");
    assert_eq!(input["config"]["api_key"], "sk_prod_999");
    assert_eq!(input["config"]["url"], "http://localhost");
    let doc = sb.status(id);
    assert_eq!(doc["environment"], "production");
    assert_eq!(Sandbox::step(&doc, "pay")["results"]["mode"], "production");
    let text = sb.run(&["status", &id.to_string()]);
    assert!(
        stdout(&text).contains("env production"),
        "{}",
        stdout(&text)
    );
    // Where tasker shows it, it is masked; nowhere else does it appear.
    let dry = sb
        .cmd()
        .env("TASKER_ENV", "production")
        .args(["run", "charge.yml", "--dry-run"])
        .output()
        .expect("run");
    let shown = stdout(&dry);
    assert!(
        shown.contains(r#"handler_config {"api_key":"[FILTERED]","url":"http://localhost"}"#),
        "{shown}"
    );
    for args in [
        vec!["status", "1", "--json"],
        vec!["events", "log", "1", "--json"],
        vec!["logs", "1", "pay"],
    ] {
        let out = sb.run(&args);
        assert!(
            !stdout(&out).contains("sk_prod"),
            "{args:?}: {}",
            stdout(&out)
        );
    }

    // The config file's `env`, below TASKER_ENV, below --env.
    sb.write("tasker.toml", "env = \"production\"\n");
    let run = sb.run(&["run", "charge.yml"]);
    assert_eq!(sb.status(task_id(&run))["environment"], "production");
    let run = sb
        .cmd()
        .env("TASKER_ENV", "staging")
        .args(["run", "charge.yml", "--env", "production"])
        .output()
        .expect("run");
    assert_eq!(sb.status(task_id(&run))["environment"], "production");
    // An environment the template does not define, chosen by the variable: as in Tasker, no
    // overrides; named with --env: refused.
    let run = sb
        .cmd()
        .env("TASKER_ENV", "staging")
        .args(["run", "charge.yml"])
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let doc = sb.status(task_id(&run));
    assert_eq!(doc["environment"], "staging");
    assert_eq!(Sandbox::step(&doc, "pay")["results"]["mode"], "development");
    let out = sb.run(&["run", "charge.yml", "--env", "staging"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown environment `staging`\n  hint: environments: production"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_name_holding_its_namespace_is_shown_once() {
    let sb = Sandbox::new();
    sb.write(
        "workflows/process_order.yaml",
        "name: ecommerce/process_order\nnamespace_name: ecommerce\nversion: 1.0.0\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let list = sb.run(&["templates", "list"]);
    let text = stdout(&list);
    assert!(text.contains("ecommerce/process_order"), "{text}");
    assert!(!text.contains("ecommerce/ecommerce"), "{text}");
    for name in [
        "ecommerce/process_order@1.0.0",
        "ecommerce/process_order",
        "ecommerce/ecommerce/process_order@1.0.0",
    ] {
        let run = sb.run(&["run", name]);
        assert_eq!(run.status.code(), Some(0), "{name}: {}", stderr(&run));
        let status = sb.run(&["status", &task_id(&run).to_string()]);
        assert!(
            stdout(&status).contains(" ecommerce/process_order@1.0.0: complete"),
            "{}",
            stdout(&status)
        );
    }
    let diagram = sb.run(&["diagram", "1", "--format", "json"]);
    let doc: Value = serde_json::from_slice(&diagram.stdout).expect("json");
    assert_eq!(
        doc["title"], "task 1 ecommerce/process_order@1.0.0",
        "{doc:#}"
    );
    // A name not found names the directories it looked in.
    let empty = Sandbox::new();
    std::fs::create_dir_all(empty.path().join("workflows")).expect("mkdir");
    let out = empty.run(&["run", "billing/charge"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("no templates were found in `workflows`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_schema_formats_are_checked() {
    let sb = Sandbox::new();
    sb.write(
        "signup.yml",
        "name: signup\nschema:\n  type: object\n  required: [email]\n  properties:\n    email: { type: string, format: email }\n    born: { type: string, format: date }\n    id: { type: string, format: uuid }\n    host: { type: string, format: ipv4 }\n    site: { type: string, format: uri }\n    nick: { type: string, format: emial }\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&[
        "run",
        "signup.yml",
        "--context",
        r#"{"email": "not-an-email", "born": "2026-13-45", "id": "zzz", "host": "300.1.1.1", "site": "no scheme"}"#,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for (path, value, format) in [
        ("/email", "\"not-an-email\"", "email"),
        ("/born", "\"2026-13-45\"", "date"),
        ("/id", "\"zzz\"", "uuid"),
        ("/host", "\"300.1.1.1\"", "ipv4"),
        ("/site", "\"no scheme\"", "uri"),
    ] {
        assert!(
            err.contains(&format!(
                "error: context `{path}`: {value} is not a valid {format} (the schema's `format: {format}`)"
            )),
            "{err}"
        );
    }
    assert!(
        err.contains("warning: signup.yml:3:3: `schema`: unknown format `emial` (not checked)"),
        "{err}"
    );
    assert!(!sb.db().exists(), "nothing was written");
    let ok = sb.run(&[
        "run",
        "signup.yml",
        "--context",
        r#"{"email": "ada@example.com", "born": "1815-12-10", "id": "6f1c2a9e-8d5b-4c3e-9a7f-1b2c3d4e5f60", "host": "10.0.0.1", "site": "https://example.com/", "nick": "anything"}"#,
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
}

/// What a review found: by name as by file, every environment's keys, the reason a file is
/// skipped, secret values in any schema error, two templates behind one once-qualified name.
#[test]
fn names_environments_and_schema_errors_hold_to_the_rules() {
    let sb = Sandbox::new();
    sb.write("workflows/payments.yaml", PAYMENTS);
    // Listed as `templates list` lists it; run by name, refused for the real reason.
    let list = sb.run(&["templates", "list"]);
    assert!(
        stdout(&list).contains("billing/payments"),
        "{}",
        stdout(&list)
    );
    assert!(
        stderr(&list).contains("workflows/payments.yaml: 2 warnings (`tasker validate workflows/payments.yaml` lists them)"),
        "{}",
        stderr(&list)
    );
    let run = sb.run(&["run", "billing/payments"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("[handlers.\"Payments::ChargeHandler\"]"),
        "{}",
        stderr(&run)
    );
    // A skipped file is skipped for its error, not for a warning on an earlier line.
    sb.write(
        "workflows/broken.yaml",
        "name: broken\nmonitoring: { a: 1 }\nsteps:\n  - name: a\n    comand: 'true'\n",
    );
    let list = sb.run(&["templates", "list"]);
    assert!(
        stderr(&list).contains("skipped workflows/broken.yaml: workflows/broken.yaml:5:5: step `a`: unknown key `comand`"),
        "{}",
        stderr(&list)
    );
    std::fs::remove_file(sb.path().join("workflows/broken.yaml")).expect("rm");

    // Every environment's overrides are checked, not only the one chosen.
    sb.write(
        "env.yml",
        "name: e\nsteps:\n  - { name: a, command: 'true' }\nenvironments:\n  prod:\n    steps:\n      - name: a\n        comand: 'false'\n        monitoring: true\n",
    );
    let out = sb.run(&["validate", "env.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("env.yml:8:9: step `a`: unknown key `comand`"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(
            "warning: env.yml:9:9: step `a`: unknown key `monitoring` (ignored, as Tasker did)"
        ),
        "{}",
        stderr(&out)
    );

    // A secret-looking value is not printed, whichever rule it breaks.
    sb.write(
        "secret.yml",
        "name: s\nschema:\n  type: object\n  properties:\n    api_token: { type: string, pattern: '^[a-f]+$' }\n    password: { type: string, minLength: 30 }\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&[
        "run",
        "secret.yml",
        "--set",
        "api_token=hunter2",
        "--set",
        "password=hunter3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(!err.contains("hunter"), "{err}");
    assert!(
        err.contains("context `/api_token`: the value does not satisfy the schema's `pattern` (not shown: the key looks secret)"),
        "{err}"
    );

    // `ecommerce/process_order` is one template, or two: then it is asked, not guessed.
    sb.write(
        "workflows/a.yaml",
        "name: ecommerce/process_order\nnamespace_name: ecommerce\nversion: 1.0.0\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    sb.write(
        "workflows/b.yaml",
        "name: process_order\nnamespace_name: ecommerce\nversion: 2.0.0\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["run", "ecommerce/process_order"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`ecommerce/process_order` names several templates: `ecommerce/ecommerce/process_order`, `ecommerce/process_order`"),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["run", "ecommerce/ecommerce/process_order"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
