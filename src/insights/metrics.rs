//! `tasker metrics`: the store's history as Prometheus text, JSON or CSV.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use crate::store::{Store, StoreError, Window};

/// Histogram bucket bounds, in milliseconds.
const BUCKETS: &[u64] = &[
    10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

/// One sample: a metric name, its labels, its value.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    pub metric: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A metric family: its samples with their help text and type.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: &'static str,
    pub kind: &'static str,
    pub help: &'static str,
    pub samples: Vec<Sample>,
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn histogram(
    name: &'static str,
    help: &'static str,
    groups: BTreeMap<Vec<(&'static str, Arc<str>)>, Vec<u64>>,
) -> Family {
    let mut samples = Vec::new();
    for (key, values) in groups {
        let base: Vec<(&str, &str)> = key.iter().map(|(k, v)| (*k, &**v)).collect();
        for &le in BUCKETS {
            let mut l = labels(&base);
            l.insert("le".into(), le.to_string());
            samples.push(Sample {
                metric: format!("{name}_bucket"),
                labels: l,
                value: values.iter().filter(|v| **v <= le).count() as f64,
            });
        }
        let mut l = labels(&base);
        l.insert("le".into(), "+Inf".into());
        samples.push(Sample {
            metric: format!("{name}_bucket"),
            labels: l,
            value: values.len() as f64,
        });
        samples.push(Sample {
            metric: format!("{name}_sum"),
            labels: labels(&base),
            value: values.iter().sum::<u64>() as f64,
        });
        samples.push(Sample {
            metric: format!("{name}_count"),
            labels: labels(&base),
            value: values.len() as f64,
        });
    }
    Family {
        name,
        kind: "histogram",
        help,
        samples,
    }
}

type Key = (Arc<str>, Arc<str>, Arc<str>);

/// Every metric family for the tasks in `window`.
pub fn collect(store: &dyn Store, window: &Window) -> Result<Vec<Family>, StoreError> {
    let tasks = store.task_facts(window)?;
    let steps = store.step_facts(window)?;
    let mut task_counts: BTreeMap<(Arc<str>, Arc<str>, &'static str), u64> = BTreeMap::new();
    let mut task_durations: BTreeMap<Vec<(&'static str, Arc<str>)>, Vec<u64>> = BTreeMap::new();
    for t in &tasks {
        *task_counts
            .entry((
                Arc::clone(&t.namespace),
                Arc::clone(&t.name),
                t.status.as_str(),
            ))
            .or_default() += 1;
        if let Some(d) = t.duration_ms {
            task_durations
                .entry(vec![
                    ("namespace", Arc::clone(&t.namespace)),
                    ("template", Arc::clone(&t.name)),
                ])
                .or_default()
                .push(d);
        }
    }
    let mut step_counts: BTreeMap<(Key, &'static str), u64> = BTreeMap::new();
    let mut attempts: BTreeMap<Key, (u64, u64)> = BTreeMap::new();
    let mut step_durations: BTreeMap<Vec<(&'static str, Arc<str>)>, Vec<u64>> = BTreeMap::new();
    for s in &steps {
        let key: Key = (
            Arc::clone(&s.namespace),
            Arc::clone(&s.template),
            Arc::clone(&s.step),
        );
        *step_counts
            .entry((key.clone(), s.status.as_str()))
            .or_default() += 1;
        if let Some(d) = s.duration_ms {
            step_durations
                .entry(vec![
                    ("namespace", Arc::clone(&key.0)),
                    ("step", Arc::clone(&key.2)),
                    ("template", Arc::clone(&key.1)),
                ])
                .or_default()
                .push(d);
        }
        let a = attempts.entry(key).or_default();
        a.0 += u64::from(s.attempts);
        a.1 += u64::from(s.attempts.saturating_sub(1));
    }
    let counter = |name, help, samples| Family {
        name,
        kind: "counter",
        help,
        samples,
    };
    Ok(vec![
        counter(
            "tasker_tasks_total",
            "Tasks by state.",
            task_counts
                .into_iter()
                .map(|((ns, t, state), n)| Sample {
                    metric: "tasker_tasks_total".into(),
                    labels: labels(&[("namespace", &ns), ("template", &t), ("outcome", state)]),
                    value: n as f64,
                })
                .collect(),
        ),
        counter(
            "tasker_steps_total",
            "Steps by state.",
            step_counts
                .into_iter()
                .map(|(((ns, t, step), state), n)| Sample {
                    metric: "tasker_steps_total".into(),
                    labels: labels(&[
                        ("namespace", &ns),
                        ("template", &t),
                        ("step", &step),
                        ("outcome", state),
                    ]),
                    value: n as f64,
                })
                .collect(),
        ),
        counter(
            "tasker_step_attempts_total",
            "Step attempts made.",
            attempts
                .iter()
                .map(|((ns, t, step), (n, _))| Sample {
                    metric: "tasker_step_attempts_total".into(),
                    labels: labels(&[("namespace", ns), ("template", t), ("step", step)]),
                    value: *n as f64,
                })
                .collect(),
        ),
        counter(
            "tasker_step_retries_total",
            "Attempts beyond each step's first.",
            attempts
                .iter()
                .map(|((ns, t, step), (_, n))| Sample {
                    metric: "tasker_step_retries_total".into(),
                    labels: labels(&[("namespace", ns), ("template", t), ("step", step)]),
                    value: *n as f64,
                })
                .collect(),
        ),
        histogram(
            "tasker_step_duration_ms",
            "Step durations, first attempt to end, in milliseconds.",
            step_durations,
        ),
        histogram(
            "tasker_task_duration_ms",
            "Task durations, start to end, in milliseconds.",
            task_durations,
        ),
    ])
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The Prometheus text exposition format (0.0.4).
pub fn prometheus(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for s in &f.samples {
            let labels: Vec<String> = s
                .labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = writeln!(out, "{}{{{}}} {}", s.metric, labels.join(","), s.value);
        }
    }
    out
}

/// Every sample as JSON.
pub fn json(families: &[Family]) -> Value {
    json!(
        families
            .iter()
            .flat_map(|f| f.samples.iter())
            .collect::<Vec<_>>()
    )
}

/// Every sample as CSV: `metric,namespace,template,step,outcome,le,value`.
pub fn csv(families: &[Family]) -> String {
    let cell = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from("metric,namespace,template,step,outcome,le,value\n");
    for s in families.iter().flat_map(|f| f.samples.iter()) {
        let get = |k: &str| cell(s.labels.get(k).map_or("", String::as_str));
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            s.metric,
            get("namespace"),
            get("template"),
            get("step"),
            get("outcome"),
            get("le"),
            s.value
        );
    }
    out
}
