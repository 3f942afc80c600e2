//! Spans and metrics exported to a real OTLP receiver on 127.0.0.1, decoded with the
//! OpenTelemetry proto types.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use crate::server::{Reply, Server, closed_port};
use crate::support::{
    Backend, Sandbox, eventually, on_both_stores, signal, stderr, stdout, task_id,
};

const OUTER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const OUTER_SPAN: &str = "00f067aa0ba902b7";

const FLOW: &str = "\
name: traced
custom_events: [order.charged]
steps:
  - name: first
    command: echo \"$TRACEPARENT\" > first.traceparent
  - name: flaky
    depends_on: [first]
    retry: { limit: 3, backoff: { base: 10ms } }
    command: |
      echo '{\"name\": \"order.charged\", \"payload\": {\"amount\": 5, \"card_token\": \"tok_live_123\"}}' >> $TASKER_EVENTS
      [ $TASKER_ATTEMPT -ge 2 ]
  - { name: broken, command: 'exit 7', retry: 1 }
";

fn text(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| text(&kv.value))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every span, with its resource attributes, from the receiver's `/v1/traces` requests.
pub(crate) fn spans(server: &Server) -> Vec<(Span, Vec<KeyValue>)> {
    let mut out = Vec::new();
    for seen in server.requests().iter().filter(|s| s.path == "/v1/traces") {
        let req = ExportTraceServiceRequest::decode(seen.raw.as_slice()).expect("protobuf");
        for rs in req.resource_spans {
            let resource = rs.resource.map(|r| r.attributes).unwrap_or_default();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    out.push((span, resource.clone()));
                }
            }
        }
    }
    out
}

pub(crate) fn metric_names(server: &Server) -> Vec<String> {
    let mut names = Vec::new();
    for seen in server.requests().iter().filter(|s| s.path == "/v1/metrics") {
        let req = ExportMetricsServiceRequest::decode(seen.raw.as_slice()).expect("protobuf");
        for rm in req.resource_metrics {
            for sm in rm.scope_metrics {
                names.extend(sm.metrics.into_iter().map(|m| m.name));
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

fn otlp(sb: &Sandbox, server: &Server, args: &[&str]) -> std::process::Output {
    sb.cmd()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", server.url(""))
        .env("OTEL_SERVICE_NAME", "tasker-test")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .args(args)
        .output()
        .expect("run")
}

fn spans_and_metrics_reach_an_otlp_receiver(backend: &Backend) {
    let server = Server::start(vec![Reply::new(200, "")]);
    let sb = Sandbox::on(backend);
    sb.write("t.yml", FLOW);
    let out = sb
        .cmd()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", server.url(""))
        .env("OTEL_SERVICE_NAME", "tasker-test")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci")
        .env("TRACEPARENT", format!("00-{OUTER_TRACE}-{OUTER_SPAN}-01"))
        .args(["run", "t.yml", "--trace", "otlp"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let id = task_id(&out);
    let all = spans(&server);
    let by_name = |n: &str| {
        all.iter()
            .filter(|(s, _)| s.name == n)
            .map(|(s, _)| s)
            .collect::<Vec<_>>()
    };

    let tasks = by_name("tasker.task");
    assert_eq!(tasks.len(), 1);
    let task = tasks[0];
    assert_eq!(
        hex(&task.trace_id),
        OUTER_TRACE,
        "the task joins the outer trace"
    );
    assert_eq!(hex(&task.parent_span_id), OUTER_SPAN);
    assert_eq!(
        attr(&task.attributes, "tasker.task.id"),
        Some(id.to_string())
    );
    assert_eq!(
        attr(&task.attributes, "tasker.task.name"),
        Some("traced".into())
    );
    assert_eq!(
        attr(&task.attributes, "tasker.namespace"),
        Some("default".into())
    );
    assert_eq!(
        attr(&task.attributes, "tasker.version"),
        Some("0.1.0".into())
    );
    assert_eq!(
        task.status.as_ref().map(|s| s.code),
        Some(2),
        "ERROR: the task failed"
    );
    let resource = &all[0].1;
    assert_eq!(attr(resource, "service.name"), Some("tasker-test".into()));
    assert_eq!(attr(resource, "deployment.environment"), Some("ci".into()));

    let steps = by_name("tasker.step");
    assert_eq!(steps.len(), 3);
    let step_ids: HashMap<String, Vec<u8>> = steps
        .iter()
        .map(|s| {
            (
                attr(&s.attributes, "tasker.step.name").unwrap_or_default(),
                s.span_id.clone(),
            )
        })
        .collect();
    for s in &steps {
        assert_eq!(
            s.parent_span_id, task.span_id,
            "steps are children of the task"
        );
        assert_eq!(s.trace_id, task.trace_id);
    }
    let flaky = steps
        .iter()
        .find(|s| attr(&s.attributes, "tasker.step.name").as_deref() == Some("flaky"))
        .expect("flaky");
    let event_names: Vec<&str> = flaky.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        event_names,
        vec!["observability.step.backoff", "step.retry_requested"]
    );

    let attempts = by_name("tasker.step.attempt");
    assert_eq!(attempts.len(), 4, "first 1, flaky 2, broken 1");
    for a in &attempts {
        let step = attr(&a.attributes, "tasker.step.name").unwrap_or_default();
        assert_eq!(
            Some(&a.parent_span_id),
            step_ids.get(&step),
            "{step}: attempts are children of their step"
        );
        assert!(a.end_time_unix_nano >= a.start_time_unix_nano);
    }
    let broken = attempts
        .iter()
        .find(|a| attr(&a.attributes, "tasker.step.name").as_deref() == Some("broken"))
        .expect("broken");
    assert_eq!(
        attr(&broken.attributes, "process.exit.code"),
        Some("7".into())
    );
    assert_eq!(
        attr(&broken.attributes, "error.type"),
        Some("exit_code".into())
    );
    assert_eq!(broken.status.as_ref().map(|s| s.code), Some(2));
    // The custom event is on its attempt, with the secret-looking key masked.
    let charged: Vec<String> = attempts
        .iter()
        .flat_map(|a| a.events.iter())
        .filter(|e| e.name == "order.charged")
        .map(|e| attr(&e.attributes, "tasker.event.payload").unwrap_or_default())
        .collect();
    assert_eq!(charged.len(), 2);
    assert!(
        charged[0].contains("[FILTERED]") && !charged[0].contains("tok_live"),
        "{}",
        charged[0]
    );

    // The step process got its attempt's traceparent.
    let tp = std::fs::read_to_string(sb.path().join("first.traceparent")).expect("traceparent");
    let first_attempt = attempts
        .iter()
        .find(|a| attr(&a.attributes, "tasker.step.name").as_deref() == Some("first"))
        .expect("first");
    assert_eq!(
        tp.trim(),
        format!("00-{OUTER_TRACE}-{}-01", hex(&first_attempt.span_id))
    );
    // The trace is stored with the task.
    let stored = sb
        .value("SELECT traceparent FROM tasks")
        .expect("traceparent");
    assert_eq!(
        stored,
        format!("00-{OUTER_TRACE}-{}-01", hex(&task.span_id))
    );

    let names = metric_names(&server);
    for m in [
        "tasker.step.attempts",
        "tasker.step.duration",
        "tasker.step.queue_wait",
        "tasker.step.retries",
        "tasker.steps",
        "tasker.task.duration",
        "tasker.tasks",
    ] {
        assert!(names.iter().any(|n| n == m), "{m} missing from {names:?}");
    }
}

fn resume_continues_the_same_trace(backend: &Backend) {
    let server = Server::start(vec![Reply::new(200, "")]);
    let sb = Sandbox::on(backend);
    sb.write("t.yml", "name: two\nsteps:\n  - { name: a, command: 'true' }\n  - { name: gate, command: 'touch started; while [ ! -f open ]; do sleep 0.05; done', depends_on: [a] }\n");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tasker"))
        .current_dir(sb.path())
        .env("TASKER_DB", sb.store())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", server.url(""))
        .env_remove("TRACEPARENT")
        .args(["run", "t.yml", "--trace", "otlp", "--kill-grace", "200ms"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    assert!(eventually(20, || sb.path().join("started").exists()));
    signal(child.id(), "-INT");
    let first = child.wait_with_output().expect("wait");
    assert_eq!(first.status.code(), Some(130), "{}", stderr(&first));
    std::fs::write(sb.path().join("open"), "").expect("open");
    let out = otlp(&sb, &server, &["resume", "1", "--trace", "otlp"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let tasks: Vec<Span> = spans(&server)
        .into_iter()
        .map(|(s, _)| s)
        .filter(|s| s.name == "tasker.task")
        .collect();
    assert_eq!(tasks.len(), 2, "one span per run");
    assert_eq!(tasks[0].trace_id, tasks[1].trace_id, "one trace");
    assert!(
        tasks[0].parent_span_id.is_empty(),
        "the first run is the root"
    );
    assert_eq!(
        tasks[1].parent_span_id, tasks[0].span_id,
        "the resumed run is a child of the root"
    );
    assert_eq!(
        attr(&tasks[0].attributes, "tasker.interrupted"),
        Some("true".into())
    );
    // The step the signal stopped: its attempt ends as interrupted, and its span, still
    // open when the run ends, is ended then, marked interrupted; the resumed run's is not.
    let gate: Vec<Span> = spans(&server)
        .into_iter()
        .map(|(s, _)| s)
        .filter(|s| attr(&s.attributes, "tasker.step.name").as_deref() == Some("gate"))
        .collect();
    let of = |name: &str| -> Vec<&Span> { gate.iter().filter(|s| s.name == name).collect() };
    let (steps, attempts) = (of("tasker.step"), of("tasker.step.attempt"));
    assert_eq!(
        (steps.len(), attempts.len()),
        (2, 2),
        "a span of each a run"
    );
    assert_eq!(
        attr(&attempts[0].attributes, "error.type").as_deref(),
        Some("interrupted")
    );
    assert_eq!(
        attr(&steps[0].attributes, "tasker.interrupted").as_deref(),
        Some("true")
    );
    assert!(steps[0].end_time_unix_nano >= attempts[0].end_time_unix_nano);
    assert_eq!(attr(&steps[1].attributes, "tasker.interrupted"), None);
    assert_eq!(
        attr(&attempts[1].attributes, "process.exit.code").as_deref(),
        Some("0")
    );
}

#[test]
fn an_unreachable_collector_delays_exit_only_briefly() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let started = Instant::now();
    let out = sb
        .cmd()
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", closed_port()),
        )
        .args(["run", "t.yml", "--trace", "otlp"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn stdout_tracing_and_bad_settings() {
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let out = sb.run(&["run", "t.yml", "--trace", "stdout"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("task 1\n"));
    assert!(
        text.contains("tasker.step.attempt") && text.contains("tasker.task"),
        "{text}"
    );
    let out = sb
        .cmd()
        .env("OTEL_TRACES_EXPORTER", "zipkin")
        .args(["run", "t.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("OTEL_TRACES_EXPORTER=`zipkin` is not supported"),
        "{}",
        stderr(&out)
    );
    let out = sb
        .cmd()
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .args(["run", "t.yml", "--trace", "otlp"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sb.run(&["tasks", "list", "--json"]).status.code(), Some(0));
    let rows: serde_json::Value =
        serde_json::from_slice(&sb.run(&["tasks", "list", "--json"]).stdout).expect("json");
    assert_eq!(
        rows.as_array().map(Vec::len),
        Some(1),
        "refused runs wrote nothing"
    );
}

mod grpc {
    use std::sync::{Arc, Mutex};

    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };

    use super::*;

    #[derive(Default, Clone)]
    struct Receiver {
        names: Arc<Mutex<Vec<String>>>,
    }

    #[tonic::async_trait]
    impl TraceService for Receiver {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let mut names = self.names.lock().expect("lock");
            for rs in request.into_inner().resource_spans {
                for ss in rs.scope_spans {
                    names.extend(ss.spans.into_iter().map(|s| s.name));
                }
            }
            Ok(tonic::Response::new(ExportTraceServiceResponse {
                partial_success: None,
            }))
        }
    }

    #[test]
    fn spans_reach_a_grpc_receiver() {
        let port = closed_port();
        let receiver = Receiver::default();
        let names = Arc::clone(&receiver.names);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.spawn(async move {
            let addr = format!("127.0.0.1:{port}").parse().expect("addr");
            let _ = tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(receiver))
                .serve(addr)
                .await;
        });
        // Serving once it takes connections.
        assert!(eventually(10, || std::net::TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()));
        let sb = Sandbox::new();
        sb.write("t.yml", "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a] }\n");
        let out = sb
            .cmd()
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{port}"),
            )
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .args(["run", "t.yml", "--trace", "otlp"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let mut got = names.lock().expect("lock").clone();
        got.sort();
        assert_eq!(
            got,
            vec![
                "tasker.step",
                "tasker.step",
                "tasker.step.attempt",
                "tasker.step.attempt",
                "tasker.task"
            ]
        );
    }
}

/// A collector that takes the connection and never answers: the exit waits the flush
/// timeout at most, whatever `OTEL_EXPORTER_OTLP_TIMEOUT` says, says what was not sent,
/// and a signal cuts the wait short.
#[test]
fn a_silent_collector_holds_the_exit_only_for_the_flush_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    // Connections are taken and held open, never answered; each one is counted.
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = taken.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let sb = Sandbox::new();
    sb.write(
        "t.yml",
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n",
    );
    let started = Instant::now();
    let out = sb
        .cmd()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "600000")
        .env("TASKER_FLUSH_TIMEOUT", "1s")
        .args(["run", "t.yml", "--trace", "otlp"])
        .output()
        .expect("run");
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(
        err.contains("telemetry not sent: spans and metrics of this run (the collector did not take them within 1.0s"),
        "{err}"
    );

    let before = taken.load(std::sync::atomic::Ordering::SeqCst);
    let child = sb
        .cmd_std()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "600000")
        .env("TASKER_FLUSH_TIMEOUT", "10m")
        .args(["run", "t.yml", "--trace", "otlp"])
        .spawn()
        .expect("spawn");
    assert!(eventually(10, || {
        let out = sb.run(&["status", "2", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .is_ok_and(|d| d["status"] == "complete")
    }));
    // The run is done and sending: the collector has its connection.
    assert!(eventually(10, || taken
        .load(std::sync::atomic::Ordering::SeqCst)
        > before));
    let sent = Instant::now();
    signal(child.id(), "-INT");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    assert!(
        stderr(&out).contains("telemetry not sent"),
        "{}",
        stderr(&out)
    );
}

on_both_stores!(
    spans_and_metrics_reach_an_otlp_receiver,
    resume_continues_the_same_trace,
);
