//! `tasker analytics`, `tasker health`, `tasker metrics`: seeing the work across tasks.

use std::time::Duration;

use comfy_table::{ContentArrangement, Table, presets};

use super::Global;
use crate::clock::now_ms;
use crate::error::{Error, exit};
use crate::insights::{self, Thresholds, metrics};
use crate::store::Window;
use crate::templates::duration::{self, human};

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

/// Which tasks: created within a duration, in a namespace, of a template.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowArgs {
    /// Only tasks created within this duration (e.g. `24h`, `7d`)
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub since: Option<Duration>,
    /// Only tasks of this namespace
    #[arg(long)]
    pub namespace: Option<String>,
    /// Only tasks of this template name
    #[arg(long)]
    pub name: Option<String>,
}

impl WindowArgs {
    fn window(&self) -> Window {
        Window {
            since: self.since.map(|d| now_ms() - d.as_millis() as i64),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

fn ms(v: u64) -> String {
    human(Duration::from_millis(v))
}

/// Slowest steps and tasks, rates, and duration percentiles per step and per template
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tasker analytics\n  tasker analytics --since 7d --namespace ecommerce\n  tasker analytics --json | jq '.steps[] | select(.durations.p95 > 1000)'"
)]
pub struct AnalyticsArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn analytics(global: &Global, args: &AnalyticsArgs) -> Result<u8, Error> {
    let Some(store) = global.open_existing_store()? else {
        if args.json {
            super::emit("{}\n");
        } else {
            super::say!("no tasks");
        }
        return Ok(exit::OK);
    };
    let a = insights::analytics(&*store, &args.window.window())?;
    if args.json {
        // Written as it is made: a store with many step names makes a long document.
        use std::io::Write as _;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let _ = serde_json::to_writer_pretty(&mut out, &a)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush());
        return Ok(exit::OK);
    }
    let pct = |r: f64| format!("{:.1}%", r * 100.0);
    let states: Vec<String> = a
        .tasks_by_state
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let mut out = format!(
        "{} tasks ({})\ncompletion {}  errors {}  retried steps {} (recovered {})\n\n",
        a.tasks,
        states.join(", "),
        pct(a.completion_rate),
        pct(a.error_rate),
        a.retried_steps,
        pct(a.retry_success_rate)
    );
    let mut t = table();
    t.set_header(["template", "step", "runs", "p50", "p95", "p99", "max"]);
    // A table nobody could read is not drawn: past a screenful of step names, the slowest.
    let mut steps: Vec<&crate::insights::Group> = a.steps.iter().collect();
    let hidden = steps.len().saturating_sub(MAX_STEP_ROWS);
    if hidden > 0 {
        steps.sort_by_key(|g| std::cmp::Reverse((g.durations.p95, g.durations.max)));
        steps.truncate(MAX_STEP_ROWS);
    }
    for g in a.templates.iter().chain(steps) {
        let d = &g.durations;
        t.add_row([
            crate::templates::qualified(&g.namespace, &g.template),
            g.step.clone().unwrap_or_else(|| "(task)".into()),
            d.count.to_string(),
            ms(d.p50),
            ms(d.p95),
            ms(d.p99),
            ms(d.max),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    if hidden > 0 {
        out.push_str(&format!(
            "the {MAX_STEP_ROWS} slowest step names by p95; {hidden} more with `--json`\n"
        ));
    }
    out.push_str("\nslowest:\n");
    let mut t = table();
    t.set_header(["task", "template", "step", "duration"]);
    for s in a
        .slowest_tasks
        .iter()
        .take(5)
        .chain(a.slowest_steps.iter().take(5))
    {
        t.add_row([
            s.task_id.to_string(),
            s.template.clone(),
            s.step.clone().unwrap_or_else(|| "(task)".into()),
            ms(s.duration_ms),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    super::emit(&out);
    Ok(exit::OK)
}

/// Tasks and steps by state, errors, backoffs and orphans; exit 1 when unhealthy
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tasker health\n  tasker health --max-failed 5 --window 24h --json\n\nUnhealthy (exit 1) when more tasks are orphaned than --max-orphaned, more failed within\n--window than --max-failed, or more steps wait out a backoff than --max-backoff."
)]
pub struct HealthArgs {
    /// Orphaned tasks allowed
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_orphaned: u64,
    /// Tasks allowed to have failed within --window
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_failed: u64,
    /// Steps allowed to wait out a backoff at once [default: no limit]
    #[arg(long, value_name = "N")]
    pub max_backoff: Option<u64>,
    /// How far back failures count
    #[arg(long, value_name = "DUR", default_value = "1h", value_parser = parse_duration)]
    pub window: Duration,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn health(global: &Global, args: &HealthArgs) -> Result<u8, Error> {
    let limits = Thresholds {
        max_orphaned: args.max_orphaned,
        max_failed: args.max_failed,
        max_backoff: args.max_backoff,
        window_ms: args.window.as_millis() as i64,
    };
    let Some(store) = global.open_existing_store()? else {
        if args.json {
            super::emit("{\"healthy\": true, \"reasons\": []}\n");
        } else {
            super::say!("healthy: no tasks yet");
        }
        return Ok(exit::OK);
    };
    let h = insights::health(&*store, limits, now_ms())?;
    if args.json {
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&h).unwrap_or_default()
        ));
    } else {
        let states = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = format!(
            "{}\ntasks    {}\nsteps    {}\nerrors   {} waiting to retry, {} exhausted\nrunning  {} ({} orphaned)\nfailed   {} in the last {}\n",
            if h.healthy { "healthy" } else { "unhealthy" },
            states(&h.counts.tasks_by_state),
            states(&h.counts.steps_by_state),
            h.counts.retryable_errors,
            h.counts.exhausted_errors,
            h.running_tasks,
            h.orphaned_tasks.len(),
            h.failed_recently,
            human(args.window),
        );
        for r in &h.reasons {
            out.push_str(&format!("  - {r}\n"));
        }
        super::emit(&out);
    }
    Ok(if h.healthy {
        exit::OK
    } else {
        exit::TASK_ERROR
    })
}

/// Task and step counts and duration histograms from the store, for Prometheus and others
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tasker metrics > /var/lib/node_exporter/textfile/tasker.prom\n  tasker metrics --format csv --since 24h"
)]
pub struct MetricsArgs {
    /// prometheus (text exposition), json or csv
    #[arg(long, value_enum, default_value_t = MetricsFormat::Prometheus)]
    pub format: MetricsFormat,
    #[command(flatten)]
    pub window: WindowArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricsFormat {
    Prometheus,
    Json,
    Csv,
}

/// Step names shown in the `analytics` table at most.
const MAX_STEP_ROWS: usize = 50;

pub fn metrics(global: &Global, args: &MetricsArgs) -> Result<u8, Error> {
    let collected = match global.open_existing_store()? {
        Some(store) => metrics::collect(&*store, &args.window.window())?,
        None => metrics::Metrics::default(),
    };
    let format = match args.format {
        MetricsFormat::Prometheus => metrics::Format::Prometheus,
        MetricsFormat::Json => metrics::Format::Json,
        MetricsFormat::Csv => metrics::Format::Csv,
    };
    // A reader that goes away (`| head`) is not an error.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = metrics::write(&collected, format, &mut out);
    Ok(exit::OK)
}
