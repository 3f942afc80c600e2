//! Seeing the work: diagrams checked by the real Mermaid parser and Graphviz, graph
//! analysis, analytics, health and metrics.

use serde_json::{Value, json};

use crate::support::{Sandbox, dot_svg, mermaid_parse, signal, stderr, stdout, task_id, tool};

/// A task with a step of every kind of outcome: complete, failed, pending behind it,
/// resolved, and names that need escaping.
const ODD: &str = "\
name: odd
steps:
  - { name: 'say \"hi\" [now] | <b> & done', command: 'true' }
  - { name: end, command: 'sleep 0.1', depends_on: ['say \"hi\" [now] | <b> & done'] }
  - { name: graph, command: 'sleep 0.3; exit 3', retry: 1, depends_on: [end] }
  - { name: 'ünïcødé → 🚀', command: 'true', depends_on: [graph] }
  - { name: 'subgraph (x); #1', command: 'true' }
  - { name: 'click{y}', command: 'true', depends_on: ['subgraph (x); #1', end] }
";

#[test]
fn a_task_diagram_parses_in_mermaid_and_graphviz() {
    let sb = Sandbox::new();
    sb.write("t.yml", ODD);
    let out = sb.run(&["run", "t.yml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let id = task_id(&out).to_string();

    let mermaid = stdout(&sb.run(&["diagram", &id]));
    assert!(mermaid.starts_with("flowchart TD\n"), "{mermaid}");
    for state in [
        "pending",
        "in_progress",
        "complete",
        "error",
        "cancelled",
        "resolved_manually",
    ] {
        assert!(
            mermaid.contains(&format!("classDef {state} ")),
            "classDef {state}"
        );
    }
    assert!(
        mermaid.contains("s2[\"graph<br/>error · 1 attempt · "),
        "{mermaid}"
    );
    assert!(mermaid.contains(":::error"));
    assert!(
        mermaid.contains("s3[\"ünïcødé → 🚀<br/>pending\"]:::pending"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("say #quot;hi#quot; #91;now#93; #124; #lt;b#gt; #amp; done"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("    s0 --> s1\n"),
        "a satisfied dependency is solid"
    );
    assert!(
        mermaid.contains("    s2 -.-> s3\n"),
        "an unmet one is dotted"
    );
    assert!(
        mermaid.contains("    class s0,s1,s2 critical\n"),
        "the measured critical path ends at the failure: {mermaid}"
    );
    assert!(mermaid.contains("linkStyle "), "the critical path is drawn");

    if let Some(check) = tool("mermaid") {
        assert_eq!(mermaid_parse(&check, &mermaid), Ok("flowchart-v2".into()));
        // The checker does reject what is wrong.
        assert!(mermaid_parse(&check, "flowchart TD\n  a[\"x\"] --> end\n  b[unclosed\n").is_err());
    }
    let dot = stdout(&sb.run(&["diagram", &id, "--format", "dot"]));
    assert!(
        dot.starts_with("digraph \"task 1 default/odd@0.1.0\" {"),
        "{dot}"
    );
    assert!(dot.contains("s2 -> s3 [style=dashed]"), "{dot}");
    assert!(dot.contains("penwidth=3"));
    if let Some(dot_bin) = tool("dot") {
        let svg = dot_svg(&dot_bin, &dot).expect("graphviz accepts it");
        assert!(svg.contains("<svg") && svg.contains("ünïcødé"), "{svg}");
        assert!(
            dot_svg(&dot_bin, "digraph { a -> }").is_err(),
            "graphviz does reject errors"
        );
    }

    let json: Value = serde_json::from_slice(&sb.run(&["diagram", &id, "--format", "json"]).stdout)
        .expect("json");
    assert_eq!(json["nodes"].as_array().map(Vec::len), Some(6));
    assert_eq!(json["nodes"][2]["state"], "error");
    assert_eq!(json["nodes"][2]["attempts"], 1);
    let unmet: Vec<&Value> = json["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["satisfied"] == false)
        .collect();
    assert_eq!(unmet.len(), 1);
    assert_eq!(unmet[0]["from"], "graph");
    assert_eq!(json["critical_path"][0], "say \"hi\" [now] | <b> & done");

    assert_eq!(sb.run(&["diagram", "99"]).status.code(), Some(4));
    assert_eq!(sb.run(&["diagram"]).status.code(), Some(2));
}

#[test]
fn a_template_diagram_before_anything_ran() {
    let sb = Sandbox::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("workflows/order_fulfillment.yml");
    let out = sb.run(&["diagram", "--template", file.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mermaid = stdout(&out);
    assert!(
        mermaid.contains("s0[\"validate_order<br/>template\"]:::template"),
        "{mermaid}"
    );
    assert!(!mermaid.contains("-.->"), "a template has no unmet edges");
    if let Some(check) = tool("mermaid") {
        assert_eq!(mermaid_parse(&check, &mermaid), Ok("flowchart-v2".into()));
    }
    if let Some(dot_bin) = tool("dot") {
        let dot = stdout(&sb.run(&[
            "diagram",
            "--template",
            file.to_str().expect("utf8"),
            "--format",
            "dot",
        ]));
        dot_svg(&dot_bin, &dot).expect("graphviz accepts it");
    }
    assert!(!sb.db().exists(), "drawing a template touches no store");
    let out = sb.run(&["diagram", "--template", "missing.yml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn graph_analysis_for_templates_and_tasks() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: g\nsteps:\n  - { name: root, command: 'true' }\n  - { name: slow, command: 'sleep 0.3', depends_on: [root] }\n  - { name: fast, command: 'true', depends_on: [root] }\n  - { name: join, command: 'exit 1', retry: 1, depends_on: [slow, fast] }\n  - { name: tail, command: 'true', depends_on: [join] }\n",
    );
    let out = sb.run(&["validate", "--graph", "--json", "t.yml"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let g = &v[0]["graph"];
    assert_eq!(
        g["level_steps"],
        json!([["root"], ["slow", "fast"], ["join"], ["tail"]])
    );
    assert_eq!(g["blocking"][0], json!({"step": "root", "dependents": 4}));
    assert_eq!(g["levels"], 4);
    assert_eq!(
        g["critical_path"],
        Value::Null,
        "a template has no durations"
    );
    let text = stdout(&sb.run(&["validate", "--graph", "t.yml"]));
    assert!(text.contains("level 2     slow, fast"), "{text}");
    assert!(
        text.contains("blocking    root (4), fast (2), slow (2), join (1)"),
        "{text}"
    );

    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(1));
    let doc = sb.status(1);
    assert!(doc.get("graph").is_none());
    let out = sb.run(&["status", "1", "--graph", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v["graph"]["critical_path"],
        json!(["root", "slow", "join"]),
        "by measured duration"
    );
    assert!(
        v["graph"]["critical_path_ms"]
            .as_u64()
            .is_some_and(|ms| ms >= 300)
    );
    assert_eq!(
        v["graph"]["blocking"],
        json!([{"step": "join", "dependents": 1}]),
        "only unfinished steps block"
    );
    let text = stdout(&sb.run(&["status", "1", "--graph"]));
    assert!(text.contains("critical    root → slow → join"), "{text}");
}

fn seed(sb: &Sandbox) {
    sb.write(
        "ok.yml",
        "name: ok\nnamespace: shop\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'sleep 0.05', depends_on: [a] }\n",
    );
    sb.write(
        "flaky.yml",
        "name: flaky\nnamespace: shop\nsteps:\n  - name: f\n    retry: { limit: 3, backoff: { base: 10ms } }\n    command: '[ $TASKER_ATTEMPT -ge 2 ]'\n  - { name: g, command: 'exit 1', retry: 2, depends_on: [f] }\n",
    );
    for _ in 0..3 {
        assert_eq!(sb.run(&["run", "ok.yml"]).status.code(), Some(0));
    }
    assert_eq!(sb.run(&["run", "flaky.yml"]).status.code(), Some(1));
}

#[test]
fn analytics_rates_and_percentiles() {
    let sb = Sandbox::new();
    seed(&sb);
    let out = sb.run(&["analytics", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(a["tasks"], 4);
    assert_eq!(a["tasks_by_state"], json!({"complete": 3, "error": 1}));
    assert_eq!(a["completion_rate"], 0.75);
    assert_eq!(a["error_rate"], 0.25);
    assert_eq!(a["retried_steps"], 2, "f (2 attempts) and g (2 attempts)");
    assert_eq!(a["retry_success_rate"], 0.5);
    let b = a["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["step"] == "b")
        .expect("b");
    assert_eq!(b["durations"]["count"], 3);
    let d = &b["durations"];
    let (p50, p95, p99, max) = (
        d["p50"].as_u64(),
        d["p95"].as_u64(),
        d["p99"].as_u64(),
        d["max"].as_u64(),
    );
    assert!(
        p50 >= Some(50) && p50 <= p95 && p95 <= p99 && p99 <= max,
        "{d}"
    );
    let ok = a["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .find(|t| t["template"] == "ok")
        .expect("ok");
    assert_eq!(ok["durations"]["count"], 3);
    assert!(
        a["slowest_steps"][0]["duration_ms"].as_u64()
            >= a["slowest_steps"][1]["duration_ms"].as_u64()
    );
    let only: Value =
        serde_json::from_slice(&sb.run(&["analytics", "--name", "flaky", "--json"]).stdout)
            .expect("json");
    assert_eq!(only["tasks"], 1);
    let none: Value = serde_json::from_slice(
        &sb.run(&["analytics", "--namespace", "other", "--json"])
            .stdout,
    )
    .expect("json");
    assert_eq!(none["tasks"], 0);
    let text = stdout(&sb.run(&["analytics"]));
    assert!(
        text.contains("4 tasks (3 complete, 1 error)") && text.contains("completion 75.0%"),
        "{text}"
    );
}

#[test]
fn health_counts_and_thresholds() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.run(&["health"]).status.code(),
        Some(0),
        "no store is healthy"
    );
    sb.write(
        "ok.yml",
        "name: ok\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    assert_eq!(sb.run(&["run", "ok.yml"]).status.code(), Some(0));
    let out = sb.run(&["health", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let h: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(h["healthy"], true);
    assert_eq!(h["tasks_by_state"], json!({"complete": 1}));

    sb.write(
        "bad.yml",
        "name: bad\nsteps:\n  - { name: a, command: 'exit 1', retry: 1 }\n",
    );
    assert_eq!(sb.run(&["run", "bad.yml"]).status.code(), Some(1));
    let out = sb.run(&["health"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("1 task failed in the last 1h00m (allowed: 0)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        sb.run(&["health", "--max-failed", "1"]).status.code(),
        Some(0)
    );

    // An orphan: the runner is killed while a step runs.
    sb.write(
        "slow.yml",
        "name: slow\nsteps:\n  - { name: s, command: 'touch started; sleep 30' }\n",
    );
    let mut child = sb.spawn(&["run", "slow.yml"]);
    assert!(crate::support::eventually(20, || sb
        .path()
        .join("started")
        .exists()));
    signal(child.id(), "-KILL");
    let _ = child.wait();
    let out = sb.run(&["health", "--max-failed", "5", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let h: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(h["orphaned_tasks"], json!([3]));
    assert!(
        h["reasons"][0]
            .as_str()
            .unwrap_or_default()
            .contains("orphaned"),
        "{h}"
    );
    assert_eq!(h["exhausted_errors"], 1);
    assert_eq!(
        sb.run(&["health", "--max-failed", "5", "--max-orphaned", "1"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(sb.run(&["cancel", "3"]).status.code(), Some(0));
}

#[test]
fn metrics_in_prometheus_json_and_csv() {
    let sb = Sandbox::new();
    seed(&sb);
    let out = sb.run(&["metrics"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("a valid exposition");
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
    };
    assert_eq!(
        value(
            "tasker_tasks_total",
            &[("template", "ok"), ("outcome", "complete")]
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            "tasker_tasks_total",
            &[("template", "flaky"), ("outcome", "error")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value("tasker_step_attempts_total", &[("step", "f")]),
        Some(2.0)
    );
    assert_eq!(
        value("tasker_step_retries_total", &[("step", "f")]),
        Some(1.0)
    );
    assert_eq!(
        value("tasker_steps_total", &[("step", "g"), ("outcome", "error")]),
        Some(1.0)
    );
    let hist = scrape
        .samples
        .iter()
        .find(|s| s.metric == "tasker_step_duration_ms" && s.labels.get("step") == Some("b"))
        .expect("histogram of b");
    match &hist.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let inf = buckets
                .iter()
                .find(|b| b.less_than.is_infinite())
                .expect("+Inf");
            assert_eq!(inf.count, 3.0);
            assert!(
                buckets.windows(2).all(|w| w[0].count <= w[1].count),
                "cumulative"
            );
        }
        other => panic!("not a histogram: {other:?}"),
    }
    assert!(scrape.docs.contains_key("tasker_task_duration_ms"));

    let json: Value =
        serde_json::from_slice(&sb.run(&["metrics", "--format", "json"]).stdout).expect("json");
    assert!(
        json.as_array()
            .expect("samples")
            .iter()
            .any(|s| s["metric"] == "tasker_tasks_total" && s["value"] == 3.0)
    );
    let csv = stdout(&sb.run(&["metrics", "--format", "csv", "--namespace", "shop"]));
    assert!(csv.starts_with("metric,namespace,template,step,outcome,le,value\n"));
    assert!(
        csv.contains("tasker_tasks_total,shop,ok,,complete,,3\n"),
        "{csv}"
    );
    let empty = stdout(&sb.run(&["metrics", "--since", "1ms"]));
    prometheus_parse::Scrape::parse(empty.lines().map(|l| Ok(l.to_owned())))
        .expect("still valid when empty");
}

/// Visible width of a line: colour codes take no room on a terminal.
fn visible_width(line: &str) -> usize {
    let mut width = 0;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte.
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        width += 1;
    }
    width
}

/// Under a real terminal (`script` gives the command a pty), the coloured tables of
/// `status` and `tasks list` line up: every row as wide as the header.
#[test]
fn coloured_tables_line_up_in_a_terminal() {
    if tool("script").is_none() {
        return;
    }
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: colours\nsteps:\n  - { name: check_api, command: 'exit 3', retry: 1 }\n  - { name: ok, command: 'true' }\n  - { name: after, command: 'true', depends_on: [check_api] }\n",
    );
    assert_eq!(sb.run(&["run", "t.yml"]).status.code(), Some(1));
    let tasker = assert_cmd::cargo::cargo_bin("tasker");
    for args in ["status 1", "tasks list"] {
        let out = std::process::Command::new("script")
            .args(["-qec", &format!("{} {args}", tasker.display()), "/dev/null"])
            .current_dir(sb.path())
            .env("TASKER_DB", sb.db())
            .env("COLUMNS", "160")
            .env_remove("NO_COLOR")
            .output()
            .expect("script");
        let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        assert!(text.contains("\x1b["), "a terminal gets colour: {text:?}");
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with('│') || l.starts_with('┌') || l.starts_with('╞') || l.starts_with('└')
            })
            .collect();
        assert!(rows.len() >= 4, "{args}: {text}");
        let width = visible_width(rows[0]);
        for row in &rows {
            assert_eq!(
                visible_width(row),
                width,
                "{args}: misaligned row {row:?}\n{text}"
            );
        }
    }
}
