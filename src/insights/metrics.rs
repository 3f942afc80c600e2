//! `tasker metrics`: the store's history as Prometheus text, JSON or CSV.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::store::{Store, StoreError, Window};

/// Histogram bucket bounds, in milliseconds.
const BUCKETS: &[u64] = &[
    10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

type Name = Arc<str>;

/// A histogram's counts: one a bucket (cumulative, as Prometheus has them), the sum and the
/// count — a fixed size whatever the number of values.
#[derive(Debug, Clone, Default)]
struct Hist {
    buckets: [u64; BUCKETS.len()],
    sum: u64,
    count: u64,
}

impl Hist {
    fn add(&mut self, v: u64) {
        for (b, &le) in self.buckets.iter_mut().zip(BUCKETS) {
            if v <= le {
                *b += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }
}

/// The store's history, summed up: a few numbers a template, a step and a state, however
/// many tasks and steps it holds.
#[derive(Debug, Default)]
pub struct Metrics {
    tasks: BTreeMap<(Name, Name, &'static str), u64>,
    task_durations: BTreeMap<(Name, Name), Hist>,
    steps: BTreeMap<(Name, Name, Name), StepSums>,
}

/// What is kept of one step name of one template.
#[derive(Debug, Default)]
struct StepSums {
    /// Steps by state, in the order of [`STATES`].
    by_state: [u64; 6],
    attempts: u64,
    retries: u64,
    durations: Option<Hist>,
}

/// The states in the order their samples are written (by name).
const STATES: [crate::model::State; 6] = {
    use crate::model::State;
    [
        State::Cancelled,
        State::Complete,
        State::Error,
        State::InProgress,
        State::Pending,
        State::ResolvedManually,
    ]
};

/// The metrics of the tasks in `window`, read a row at a time.
pub fn collect(store: &dyn Store, window: &Window) -> Result<Metrics, StoreError> {
    let mut m = Metrics::default();
    store.task_facts(window, &mut |t| {
        *m.tasks
            .entry((
                Arc::clone(&t.namespace),
                Arc::clone(&t.name),
                t.status.as_str(),
            ))
            .or_default() += 1;
        if let Some(d) = t.duration_ms {
            m.task_durations
                .entry((t.namespace, t.name))
                .or_default()
                .add(d);
        }
    })?;
    store.step_facts(window, &mut |s| {
        let sums = m
            .steps
            .entry((s.namespace, s.template, s.step))
            .or_default();
        if let Some(i) = STATES.iter().position(|x| *x == s.status) {
            sums.by_state[i] += 1;
        }
        sums.attempts += u64::from(s.attempts);
        sums.retries += u64::from(s.attempts.saturating_sub(1));
        if let Some(d) = s.duration_ms {
            sums.durations.get_or_insert_with(Hist::default).add(d);
        }
    })?;
    Ok(m)
}

/// How [`write`] writes the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text exposition format (0.0.4).
    Prometheus,
    /// A JSON array of samples: `{"metric", "labels", "value"}`.
    Json,
    /// `metric,namespace,template,step,outcome,le,value`.
    Csv,
}

/// Labels in the order Prometheus shows them (by name).
type Labels<'a> = Vec<(&'static str, &'a str)>;

/// Writes samples one at a time in a format.
struct Writer<'w> {
    out: &'w mut dyn Write,
    format: Format,
    first: bool,
}

impl Writer<'_> {
    fn family(&mut self, name: &str, kind: &str, help: &str) -> std::io::Result<()> {
        match self.format {
            Format::Prometheus => {
                writeln!(self.out, "# HELP {name} {help}")?;
                writeln!(self.out, "# TYPE {name} {kind}")
            }
            _ => Ok(()),
        }
    }

    fn sample(&mut self, metric: &str, mut labels: Labels<'_>, value: f64) -> std::io::Result<()> {
        labels.sort_by_key(|(k, _)| *k);
        match self.format {
            Format::Prometheus => {
                let shown: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                writeln!(self.out, "{metric}{{{}}} {value}", shown.join(","))
            }
            Format::Json => {
                let labels: serde_json::Map<String, Value> = labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                    .collect();
                let sample = json!({ "metric": metric, "labels": labels, "value": value });
                let sep = if std::mem::take(&mut self.first) {
                    ""
                } else {
                    ","
                };
                write!(self.out, "{sep}\n  {sample}")
            }
            Format::Csv => {
                let get = |key: &str| {
                    let v = labels
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map_or("", |(_, v)| *v);
                    if v.contains([',', '"', '\n']) {
                        format!("\"{}\"", v.replace('"', "\"\""))
                    } else {
                        v.to_owned()
                    }
                };
                writeln!(
                    self.out,
                    "{metric},{},{},{},{},{},{value}",
                    get("namespace"),
                    get("template"),
                    get("step"),
                    get("outcome"),
                    get("le")
                )
            }
        }
    }

    fn histogram(&mut self, name: &str, base: Labels<'_>, h: &Hist) -> std::io::Result<()> {
        let bucket = format!("{name}_bucket");
        for (&le, &n) in BUCKETS.iter().zip(&h.buckets) {
            let le = le.to_string();
            let mut l = base.clone();
            l.push(("le", &le));
            self.sample(&bucket, l, n as f64)?;
        }
        let mut l = base.clone();
        l.push(("le", "+Inf"));
        self.sample(&bucket, l, h.count as f64)?;
        self.sample(&format!("{name}_sum"), base.clone(), h.sum as f64)?;
        self.sample(&format!("{name}_count"), base, h.count as f64)
    }
}

/// Write `m` to `out` in `format`, a sample at a time.
pub fn write(m: &Metrics, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = Writer {
        out,
        format,
        first: true,
    };
    match format {
        Format::Json => write!(w.out, "[")?,
        Format::Csv => writeln!(w.out, "metric,namespace,template,step,outcome,le,value")?,
        Format::Prometheus => {}
    }
    w.family("tasker_tasks_total", "counter", "Tasks by state.")?;
    for ((ns, t, state), n) in &m.tasks {
        let l = vec![
            ("namespace", &**ns),
            ("template", &**t),
            ("outcome", *state),
        ];
        w.sample("tasker_tasks_total", l, *n as f64)?;
    }
    w.family("tasker_steps_total", "counter", "Steps by state.")?;
    for ((ns, t, step), sums) in &m.steps {
        for (state, n) in STATES.iter().zip(sums.by_state) {
            if n == 0 {
                continue;
            }
            let l = vec![
                ("namespace", &**ns),
                ("template", &**t),
                ("step", &**step),
                ("outcome", state.as_str()),
            ];
            w.sample("tasker_steps_total", l, n as f64)?;
        }
    }
    w.family(
        "tasker_step_attempts_total",
        "counter",
        "Step attempts made.",
    )?;
    for ((ns, t, step), sums) in &m.steps {
        let l = vec![("namespace", &**ns), ("template", &**t), ("step", &**step)];
        w.sample("tasker_step_attempts_total", l, sums.attempts as f64)?;
    }
    w.family(
        "tasker_step_retries_total",
        "counter",
        "Attempts beyond each step's first.",
    )?;
    for ((ns, t, step), sums) in &m.steps {
        let l = vec![("namespace", &**ns), ("template", &**t), ("step", &**step)];
        w.sample("tasker_step_retries_total", l, sums.retries as f64)?;
    }
    w.family(
        "tasker_step_duration_ms",
        "histogram",
        "Step durations, first attempt to end, in milliseconds.",
    )?;
    for ((ns, t, step), sums) in &m.steps {
        if let Some(h) = &sums.durations {
            let l = vec![("namespace", &**ns), ("step", &**step), ("template", &**t)];
            w.histogram("tasker_step_duration_ms", l, h)?;
        }
    }
    w.family(
        "tasker_task_duration_ms",
        "histogram",
        "Task durations, start to end, in milliseconds.",
    )?;
    for ((ns, t), h) in &m.task_durations {
        let l = vec![("namespace", &**ns), ("template", &**t)];
        w.histogram("tasker_task_duration_ms", l, h)?;
    }
    if format == Format::Json {
        let close = if w.first { "]\n" } else { "\n]\n" };
        write!(w.out, "{close}")?;
    }
    w.out.flush()
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
