//! `tasker worker`: claim ready steps of any task in a shared store and run them.

use std::time::Duration;

use super::Global;
use crate::engine::worker::{self, WorkerOptions};
use crate::error::{Error, exit};
use crate::render::progress::Lines;
use crate::store::{ClaimFilter, Location, PgStore};
use crate::templates::duration;

/// Run the ready steps of any task in a shared (PostgreSQL) store, on this machine
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  export TASKER_DB=postgres://tasker@db.internal/tasker
  tasker run workflows/order_fulfillment.yml --submit   prints `task 42`; workers run it
  tasker worker --concurrency 8                         runs steps until stopped
  tasker worker --namespace ecommerce --name order_fulfillment
  tasker worker --once                                  until nothing is ready, then exit
  tasker wait 42                                        follows task 42 to its end

Workers share nothing but the database: each claims ready steps (a step whose parents are
all done, or a retry that is due), runs them with the handlers of this machine's
tasker.toml, and records each end behind its claim. A worker silent for longer than
--grace is taken for dead: any other worker takes its steps back (their attempts end
`interrupted`) and they run again. SIGTERM (or a first Ctrl-C) drains: what runs
finishes, nothing more is claimed; a second Ctrl-C stops the running steps at once.")]
pub struct Args {
    /// Steps running at once [default: the number of CPUs]
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: Option<u32>,
    /// Only steps of tasks in this namespace (repeatable)
    #[arg(long = "namespace", value_name = "NS")]
    pub namespaces: Vec<String>,
    /// Only steps of tasks of this template name (repeatable)
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,
    /// How this worker is known in the store [default: HOST:PID]
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Finish what this worker holds, claim nothing, and exit 0
    #[arg(long, conflicts_with = "once")]
    pub drain: bool,
    /// Run until nothing is ready, then exit 0
    #[arg(long)]
    pub once: bool,
    /// A worker silent this long is taken for dead and its steps are run again
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = duration::parse)]
    pub grace: Duration,
    /// Between SIGTERM and SIGKILL when a step is stopped
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = duration::parse)]
    pub kill_grace: Duration,
    /// Export the spans and metrics of the tasks this worker ends [default:
    /// OTEL_TRACES_EXPORTER, else none]
    #[arg(long, env = "TASKER_TRACE", value_enum, value_name = "WHERE")]
    pub trace: Option<super::drive::Trace>,
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let (location, _) = global.location()?;
    let Location::Postgres(url) = location else {
        return Err(Error::Usage(
            "workers need a store they can share: a SQLite file belongs to one machine, and `tasker run` already runs its tasks there\n  hint: --db postgres://USER@HOST/DATABASE (or TASKER_DB, or `db =` in tasker.toml)".into(),
        ));
    };
    let settings = super::drive::trace_settings(global, args.trace)?;
    let flush_timeout = super::drive::flush_timeout(global.config()?)?;
    let mut store = PgStore::open(&url)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io(format!("cannot start the runtime: {e}")))?;
    let halt = super::drive::watch_signals();
    let me = crate::runner::owner::this_process();
    let opts = WorkerOptions {
        id: args
            .id
            .clone()
            .unwrap_or_else(|| format!("{}:{}", me.host, me.pid)),
        concurrency: args.concurrency.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            |n| n as usize,
        ),
        filter: ClaimFilter {
            namespaces: (!args.namespaces.is_empty()).then(|| args.namespaces.clone()),
            names: (!args.names.is_empty()).then(|| args.names.clone()),
            task: None,
        },
        drain: args.drain,
        once: args.once,
        grace: args.grace,
        poll: Duration::from_secs(1),
        run: crate::engine::Options {
            kill_grace: args.kill_grace,
            ..crate::engine::Options::default()
        },
        owned: None,
    };
    let load =
        |task: &crate::store::TaskRecord| super::snapshot(global, task).map_err(|e| e.to_string());
    let mut lines = Lines {
        verbosity: global.verbosity(),
        color: crate::render::color::enabled(global.color_choice(), true),
    };
    // A task's spans and metrics are exported by the worker that records its end, from
    // the task's event log: once per task, whichever workers ran its steps.
    let telemetry = {
        let _guard = runtime.enter();
        crate::telemetry::Telemetry::start(settings).unwrap_or_else(|e| {
            tracing::warn!("telemetry is off: {e}");
            crate::telemetry::Telemetry::default()
        })
    };
    let mut export = |task: &crate::store::TaskRecord, events: &[crate::events::Event]| {
        use crate::events::Subscriber as _;
        let mut spans = telemetry
            .tracer()
            .map(|t| crate::telemetry::spans::Spans::new(t, task));
        let mut metrics = telemetry
            .meter()
            .map(|m| crate::telemetry::metrics::Metrics::new(&m, task));
        for e in events {
            if let Some(s) = &mut spans {
                s.on_event(e);
            }
            if let Some(m) = &mut metrics {
                m.on_event(e);
            }
        }
        // Attempts taken back from a worker that died have no end of their own.
        if let (Some(s), Some(last)) = (&mut spans, events.last()) {
            s.finish(last.timestamp);
        }
    };
    let exporting = telemetry.tracer().is_some() || telemetry.meter().is_some();
    let end = worker::serve(
        &mut store,
        &url,
        &opts,
        &load,
        &mut lines,
        exporting.then_some(&mut export as worker::Ended<'_>),
        halt.clone(),
        runtime.handle(),
    );
    // What was exported is sent, however the worker ended.
    let mut at_flush = halt.clone();
    at_flush.mark_unchanged();
    let cut = || at_flush.has_changed().unwrap_or(false);
    telemetry.shutdown(flush_timeout, &cut);
    let end = end.map_err(|e| match e {
        crate::engine::RunError::Store(s) => Error::Store(s),
        other => Error::Io(other.to_string()),
    })?;
    if global.verbosity() != crate::render::progress::Verbosity::Quiet {
        let trips = store.round_trips();
        super::say!(
            "worker {}: {} recorded; {} round trips to the store ({:.1} an attempt)",
            opts.id,
            crate::text::count(end.attempts as usize, "attempt"),
            trips,
            trips as f64 / end.attempts.max(1) as f64
        );
    }
    drop(runtime);
    Ok(exit::OK)
}
