//! Running a task in the foreground — shared by `run`, `resume` and `retry`: the runtime,
//! signals, the subscribers (progress, summary, hooks, telemetry, `--events-out`), the
//! closing summary and the exit code.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

use super::{Global, outputs};
use crate::clock::now_ms;
use crate::engine::worker::WorkerOptions;
use crate::engine::{self, Halt, RunError};
use crate::error::{Error, exit};
use crate::events::hooks::{DEFAULT_TIMEOUT, Hooks, HooksEnd};
use crate::events::{Event, Fanout, JsonLines, Subscriber};
use crate::insights::report::report;
use crate::model::State;
use crate::render::live::Live;
use crate::render::{color, progress::Lines, progress::Verbosity, summary};
use crate::store::{Backend, ClaimFilter, Location, PgStore, StoreError, TaskId, TaskRecord};
use crate::telemetry::{self, Settings, Telemetry, metrics::Metrics, spans::Spans};
use crate::templates::{Template, duration};

/// `--trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Trace {
    None,
    Stdout,
    Otlp,
}

/// How the steps of a task are run and reported.
#[derive(Debug, Clone, clap::Args)]
pub struct DriveArgs {
    /// Steps running at once [default: the template's max_parallel, else the CPU count]
    #[arg(long, short = 'j', env = "TASKER_CONCURRENCY", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: Option<u32>,
    /// Stop starting steps once one has failed for good
    #[arg(long)]
    pub fail_fast: bool,
    /// Print the final status document as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Time between SIGTERM and SIGKILL when a step is stopped [default: 10s]
    #[arg(long, env = "TASKER_KILL_GRACE", value_name = "DUR", value_parser = parse_duration)]
    pub kill_grace: Option<Duration>,
    /// Export spans and metrics [default: OTEL_TRACES_EXPORTER, else none]
    #[arg(long, env = "TASKER_TRACE", value_enum, value_name = "WHERE")]
    pub trace: Option<Trace>,
    /// Write the summary as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Write every event of the run to FILE, one JSON object a line
    #[arg(long, value_name = "FILE")]
    pub events_out: Option<PathBuf>,
    /// Stream each step's output as it comes, each line prefixed `[step]`
    #[arg(long)]
    pub follow_output: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

/// What a run writes besides stdout and stderr, opened before anything is stored so that a
/// bad path is refused up front.
#[derive(Debug)]
pub struct Outputs {
    settings: Settings,
    flush_timeout: Duration,
    events: Option<File>,
    summary: Option<(PathBuf, File)>,
}

impl DriveArgs {
    pub fn open_outputs(&self, global: &Global) -> Result<Outputs, Error> {
        let settings = trace_settings(global, self.trace)?;
        let store = global.db_file().unwrap_or_default();
        if let Some(p) = &self.events_out {
            outputs::check("--events-out", p, &store, &[])?;
        }
        if let Some(p) = &self.summary_json {
            let others: Vec<(&str, &std::path::Path)> = self
                .events_out
                .iter()
                .map(|e| ("--events-out", e.as_path()))
                .collect();
            outputs::check("--summary-json", p, &store, &others)?;
        }
        let events = match &self.events_out {
            Some(p) => Some(outputs::create("--events-out", p)?),
            None => None,
        };
        let summary = match &self.summary_json {
            Some(p) => Some((p.clone(), outputs::create("--summary-json", p)?)),
            None => None,
        };
        Ok(Outputs {
            settings,
            flush_timeout: flush_timeout(global.config()?)?,
            events,
            summary,
        })
    }
}

/// Where spans and metrics go: `--trace` / `TASKER_TRACE`, then `OTEL_TRACES_EXPORTER`,
/// then the config file.
pub(super) fn trace_settings(global: &Global, flag: Option<Trace>) -> Result<Settings, Error> {
    let flag = flag.map(|t| match t {
        Trace::None => telemetry::Target::None,
        Trace::Stdout => telemetry::Target::Stdout,
        Trace::Otlp => telemetry::Target::Otlp,
    });
    let from_file = global.config.trace.as_deref().map(|t| match t {
        "stdout" => telemetry::Target::Stdout,
        "otlp" => telemetry::Target::Otlp,
        _ => telemetry::Target::None,
    });
    let otel_set = std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| !v.trim().is_empty());
    Settings::resolve(flag.or(if otel_set { None } else { from_file })).map_err(Error::Usage)
}

/// How long the exit waits for spans and metrics to reach the collector:
/// `TASKER_FLUSH_TIMEOUT`, else `flush_timeout` in the config file, else 5 s.
pub(super) fn flush_timeout(config: &crate::config::Config) -> Result<Duration, Error> {
    match std::env::var("TASKER_FLUSH_TIMEOUT") {
        Ok(v) if !v.trim().is_empty() => {
            duration::parse(&v).map_err(|e| Error::Usage(format!("TASKER_FLUSH_TIMEOUT: {e}")))
        }
        _ => Ok(config.flush_timeout.unwrap_or(telemetry::FLUSH_TIMEOUT)),
    }
}

/// The exit code a task's final state means.
pub fn exit_code(state: State) -> u8 {
    match state {
        State::Complete | State::ResolvedManually => exit::OK,
        State::Cancelled => exit::CANCELLED,
        _ => exit::TASK_ERROR,
    }
}

async fn recv(s: &mut Option<Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// The events a run tells its subscribers before its own: those recorded since the command
/// began (the task's creation, an operator's retry).
pub enum Replay {
    /// The store's, after this sequence number.
    After(u64),
    /// A task this command has just created: its first events, recorded just now and known
    /// here (read back from the store they would be the same, at the cost of parsing them
    /// all again), and the task as written with the store's `data_version` after it, where
    /// the store can give it ([`Store::take_created`](crate::store::Store::take_created)).
    Created {
        events: Vec<Event>,
        task: Option<Box<(TaskRecord, i64)>>,
    },
}

/// Run task `task_id` to its end in this process and report how it ended. The events of
/// `replay`, then any recorded after them, are given to the subscribers first.
pub fn drive(
    global: &Global,
    store: &mut dyn Backend,
    task_id: TaskId,
    template: Arc<Template>,
    args: &DriveArgs,
    outputs: Outputs,
    mut replay: Replay,
) -> Result<u8, Error> {
    // The store's version before the read: should anything be committed from elsewhere
    // after it, the run reads the task again. A task this command just created
    // (`Store::take_created`, with the version after its commit) is known without a read.
    let created = match &mut replay {
        Replay::Created { task, .. } => task.take().map(|t| *t),
        Replay::After(_) => None,
    };
    let (version, task) = match created.filter(|(task, _)| task.task_id == task_id) {
        Some((task, version)) => {
            debug_assert_eq!(
                format!("{task:?}"),
                format!("{:?}", super::find_task(store, task_id)?),
                "a new task as written is the task as read"
            );
            (Some(version), task)
        }
        None => (store.data_version()?, super::find_task(store, task_id)?),
    };
    let config = global.config()?;
    let options = engine::Options {
        concurrency: args.concurrency.or(config.concurrency).map(|n| n as usize),
        fail_fast: args.fail_fast,
        kill_grace: args
            .kill_grace
            .or(config.kill_grace)
            .unwrap_or(Duration::from_secs(10)),
        traceparent: std::env::var("TRACEPARENT").ok(),
        echo: args.follow_output.then(|| -> engine::Echo {
            std::sync::Arc::new(|step: &str, stderr: bool, line: &[u8]| {
                use std::io::Write;
                // Shown, not obeyed: a step's escape sequences never reach the terminal.
                let text = format!(
                    "[{step}] {}\n",
                    crate::text::printable(&String::from_utf8_lossy(line))
                );
                // Step stdout to stdout, step stderr to stderr, a line at a time.
                let _ = if stderr {
                    std::io::stderr().lock().write_all(text.as_bytes())
                } else {
                    std::io::stdout().lock().write_all(text.as_bytes())
                };
            })
        }),
        ..engine::Options::default()
    };
    let verbosity = global.verbosity();
    let color_on = color::enabled(global.color_choice(), true);

    // Subscribers, in the order they hear each event.
    // Streamed step output and a redrawn bar do not mix: plain lines then.
    let live =
        (verbosity != Verbosity::Quiet && !args.follow_output && std::io::stderr().is_terminal())
            .then(|| {
                let done = task
                    .steps
                    .iter()
                    .filter(|s| s.status.is_satisfied())
                    .count();
                Live::new(
                    task.steps.len(),
                    done,
                    verbosity == Verbosity::Verbose,
                    color_on,
                )
            });
    let mut lines = Lines {
        verbosity,
        color: color_on,
    };
    let mut live = live;
    let mut collector = telemetry::summary::Collector::default();
    let mut events_out = outputs.events.map(|f| JsonLines::new(BufWriter::new(f)));
    let mut hook_list = template.hooks.clone();
    hook_list.extend(config.hooks.iter().cloned());
    let hook_timeout = config.hook_timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut hooks = Hooks::new(
        hook_list,
        PathBuf::from(&task.workdir),
        hook_timeout,
        crate::runner::runner_mark(task_id),
    );
    let location = global.location()?.0;
    // On a store of this machine's, the engine, every step's process and the commits share
    // one thread: a step's end reaches the engine, is committed and the next step starts
    // without a hand-over between threads (a quarter to a third less CPU a step than on a
    // pool of threads, and the chain's latency with it). Two runs keep the pool: one on a
    // shared store is a worker, whose loop blocks on a channel; and `--follow-output`
    // writes each line of a step's output to stdout as it comes, which blocks while the
    // reader does not read (a pager): on one thread that would stop the whole run.
    let runtime = match location {
        Location::Sqlite(_) if !args.follow_output => tokio::runtime::Builder::new_current_thread(),
        Location::Sqlite(_) | Location::Postgres(_) => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build()
    .map_err(|e| Error::Io(format!("cannot start the runtime: {e}")))?;
    let halt = watch_signals();
    let telemetry = Telemetry::start(outputs.settings).unwrap_or_else(|e| {
        tracing::warn!(task_id, "telemetry is off: {e}");
        Telemetry::default()
    });
    let mut spans = telemetry.tracer().map(|t| Spans::new(t, &task));
    let mut metrics = telemetry.meter().map(|m| Metrics::new(&m, &task));
    // The engine takes this read as its own when nothing changed since (one copy of a big
    // task's steps, one read); otherwise it reads the task for itself.
    let known = version.map(|version| engine::Known { task, version });

    let started = Instant::now();
    let finish = {
        let mut fanout = Fanout::default();
        match &mut live {
            Some(l) => fanout.subscribers.push(l),
            None => fanout.subscribers.push(&mut lines),
        }
        fanout.subscribers.push(&mut collector);
        if let Some(e) = &mut events_out {
            fanout.subscribers.push(e);
        }
        fanout.subscribers.push(&mut hooks);
        if let Some(s) = &mut spans {
            fanout.subscribers.push(s);
        }
        if let Some(m) = &mut metrics {
            fanout.subscribers.push(m);
        }
        match location {
            // On a shared store the run tells what the store holds once it owns the task,
            // its first events with the rest.
            Location::Postgres(url) => run_shared(
                global,
                &runtime,
                &url,
                task_id,
                &template,
                &options,
                &mut fanout,
                halt.clone(),
                match replay {
                    Replay::After(seq) => seq,
                    Replay::Created { .. } => 0,
                },
            ),
            Location::Sqlite(_) => {
                let replay_after = match replay {
                    Replay::After(seq) => seq,
                    Replay::Created { events, .. } => {
                        for e in &events {
                            fanout.on_event(e);
                        }
                        events.last().map_or(0, |e| e.seq)
                    }
                };
                for doc in store.events(task_id, replay_after, usize::MAX >> 1)? {
                    if let Some(e) = Event::from_json(&doc) {
                        fanout.on_event(&e);
                    }
                }
                run_engine(
                    &runtime,
                    store,
                    task_id,
                    known,
                    &template,
                    &options,
                    &mut fanout,
                    halt.clone(),
                )
            }
        }
    };
    let wall_ms = started.elapsed().as_millis() as u64;
    // The bar goes before anything else is said: hooks and telemetry may take a while.
    if let Some(l) = &live {
        l.finish();
    }

    // Whatever happened, flush what the run produced.
    if let Some(s) = &mut spans {
        s.finish(now_ms());
    }
    drop(spans);
    drop(metrics);
    // What is left — hooks still running, spans not yet sent — gets one deadline, and a
    // signal, before or during the wait, cuts it short.
    let signalled = || !matches!(*halt.borrow(), Halt::None);
    let hooks_end = hooks.finish(Instant::now() + hook_timeout, &signalled);
    if hooks_end != HooksEnd::default() {
        tracing::warn!(
            task_id,
            "hooks at exit: {} stopped, {} never run",
            hooks_end.killed,
            hooks_end.not_run
        );
    }
    // Spans of a run stopped by a signal are still sent, unless another signal says to stop
    // waiting; a signal that came only while hooks were waited for means leave now.
    let run_interrupted = matches!(&finish, Ok(f) if f.interrupted.is_some());
    let signalled_after_run = signalled() && !run_interrupted;
    let mut at_flush = halt.clone();
    at_flush.mark_unchanged();
    let cut = || signalled_after_run || at_flush.has_changed().unwrap_or(false);
    telemetry.shutdown(outputs.flush_timeout, &cut);
    if let Some(l) = &live {
        l.finish();
    }
    // A signal while hooks or telemetry were being waited for makes the exit its own.
    let late_signal = match *halt.borrow() {
        Halt::Signal(sig) | Halt::Kill(sig) => Some(sig),
        Halt::None => None,
    };
    runtime.shutdown_timeout(Duration::from_millis(100));
    let mut finish = finish?;

    // The steps as the run committed them, when nothing was committed from elsewhere since
    // the task was read: only the task's own row is read again.
    let record = match (finish.steps.take(), version) {
        (Some(steps), Some(v)) if store.data_version()? == Some(v) => {
            match store.task_head(task_id)? {
                Some(mut task) => {
                    task.steps = steps;
                    debug_assert_eq!(
                        format!("{task:?}"),
                        format!("{:?}", super::find_task(store, task_id)?),
                        "the steps as the run left them are the steps as read"
                    );
                    task
                }
                None => super::find_task(store, task_id)?,
            }
        }
        _ => super::find_task(store, task_id)?,
    };
    let summary = collector.summary(
        &record,
        &template,
        wall_ms,
        finish.interrupted.is_some(),
        telemetry::summary::EngineStats {
            commits: finish.stats.commits,
            busy_ms: finish.stats.busy_ms,
            cpu_ms: telemetry::summary::own_cpu_ms(),
        },
    );
    if verbosity != Verbosity::Quiet {
        super::say_raw!("{}", summary::text(&summary, color_on));
        if let Some(sig) = finish.interrupted {
            super::say!(
                "task {task_id} interrupted by signal {sig}; resume it with `tasker resume {task_id}`"
            );
        } else if record.status == crate::model::State::Error
            && let Some(failed) = record
                .steps
                .iter()
                .find(|s| s.status == crate::model::State::Error && s.state.next_retry_at.is_none())
        {
            let step = crate::text::printable(&failed.name);
            let quoted = if step
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            {
                step.into_owned()
            } else {
                format!("'{}'", step.replace('\'', "'\\''"))
            };
            super::say!(
                "next: `tasker logs {task_id} {quoted} --stderr` shows what it said; once the cause is fixed, `tasker retry {task_id}` runs the failed steps again (or `tasker resolve {task_id} --step {quoted} --reason …`)"
            );
        }
    }
    // A file a flag named that could not be written fails the command (exit 7, an I/O failure), once the
    // task is recorded and summed up.
    let mut unwritten = Vec::new();
    if let (Some(e), Some(path)) = (events_out.and_then(|j| j.error), &args.events_out) {
        unwritten.push(format!(
            "`--events-out`: cannot write `{}`: {e}",
            path.display()
        ));
    }
    if let Some((path, file)) = outputs.summary {
        let mut out = BufWriter::new(file);
        let written = serde_json::to_writer_pretty(&mut out, &summary)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(e) = written {
            unwritten.push(format!(
                "`--summary-json`: cannot write `{}`: {e}",
                path.display()
            ));
        }
    }
    if args.json {
        let doc = report(&record, now_ms());
        super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    }
    if !unwritten.is_empty() {
        unwritten.push(format!(
            "  task {task_id} is `{}` all the same: `tasker status {task_id}` and `tasker events log {task_id} --json` show it",
            record.status
        ));
        return Err(Error::Io(unwritten.join("\n")));
    }
    Ok(match finish.interrupted.or(late_signal) {
        Some(sig) => 128 + sig as u8,
        None => exit_code(finish.state),
    })
}

/// SIGINT and SIGTERM turned into stops, for the rest of the process: the first asks for a
/// graceful stop, any later one to kill at once. They are watched on a thread of their own,
/// so a signal is heard while nothing drives the command's runtime: a run's runtime of one
/// thread is driven only while the engine runs, and the exit's waits for hooks and for
/// telemetry come after. Returns once the signals are watched.
pub(super) fn watch_signals() -> watch::Receiver<Halt> {
    let (halt_tx, halt_rx) = watch::channel(Halt::None);
    let (watched_tx, watched) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::warn!("SIGINT and SIGTERM are not watched: {e}");
                    return;
                }
            };
            let (mut sigint, mut sigterm) = {
                let _guard = runtime.enter();
                (
                    signal(SignalKind::interrupt()).ok(),
                    signal(SignalKind::terminate()).ok(),
                )
            };
            drop(watched_tx);
            runtime.block_on(async move {
                let mut first = None;
                loop {
                    let sig = tokio::select! {
                        Some(()) = recv(&mut sigint) => libc::SIGINT,
                        Some(()) = recv(&mut sigterm) => libc::SIGTERM,
                        else => break,
                    };
                    let halt = match first {
                        None => {
                            first = Some(sig);
                            Halt::Signal(sig)
                        }
                        Some(f) => Halt::Kill(f),
                    };
                    if halt_tx.send(halt).is_err() {
                        break;
                    }
                }
            });
        });
    match spawned {
        // The watcher drops its end once the signals are registered (or it gave up).
        Ok(_) => {
            let _ = watched.recv();
        }
        Err(e) => tracing::warn!("SIGINT and SIGTERM are not watched: {e}"),
    }
    halt_rx
}

/// The engine on `runtime`, stopped by what `halt` says.
#[expect(
    clippy::too_many_arguments,
    reason = "the run's parts, as `engine::run` takes them"
)]
fn run_engine(
    runtime: &tokio::runtime::Runtime,
    store: &mut dyn Backend,
    task_id: TaskId,
    known: Option<engine::Known>,
    template: &Arc<Template>,
    options: &engine::Options,
    subscriber: &mut dyn Subscriber,
    halt: watch::Receiver<Halt>,
) -> Result<engine::Finish, Error> {
    let finish = engine::run(
        runtime, store, task_id, known, template, options, subscriber, halt,
    );
    finish.map_err(|e| match e {
        RunError::Scratch { .. } => Error::Io(format!(
            "{e}\n  task {task_id} was not started; once TMPDIR is right, `tasker resume {task_id}` runs it"
        )),
        RunError::Store(e) => store_failed(store, task_id, e),
    })
}

/// The task on a shared store: this process owns it and runs its steps as a worker of
/// this task alone, while any `tasker worker` helps; the subscribers hear the task's events
/// as the store records them, whoever ran the step.
#[expect(
    clippy::too_many_arguments,
    reason = "the run's parts, as `run_engine` takes them"
)]
fn run_shared(
    global: &Global,
    runtime: &tokio::runtime::Runtime,
    url: &crate::store::PgUrl,
    task_id: TaskId,
    template: &Template,
    options: &engine::Options,
    subscriber: &mut dyn Subscriber,
    halt: watch::Receiver<Halt>,
    replay_after: u64,
) -> Result<engine::Finish, Error> {
    let mut store = PgStore::open(url)?;
    let failed = |store: &PgStore, e: RunError| match e {
        RunError::Scratch { .. } => Error::Io(format!(
            "{e}\n  once TMPDIR is right, `tasker resume {task_id}` runs task {task_id}"
        )),
        RunError::Store(e) => store_failed(store, task_id, e),
    };
    let owned = engine::worker::own(&mut store, task_id, template, options, replay_after)
        .map_err(|e| failed(&store, e))?;
    let me = crate::runner::owner::this_process();
    let opts = WorkerOptions {
        id: format!("run:{}:{}", me.host, me.pid),
        concurrency: options
            .concurrency
            .or(template.max_parallel)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        filter: ClaimFilter {
            task: Some(task_id),
            ..ClaimFilter::default()
        },
        drain: false,
        once: false,
        grace: Duration::from_secs(10),
        poll: Duration::from_secs(1),
        run: options.clone(),
        owned: Some(owned),
    };
    let load =
        |task: &crate::store::TaskRecord| super::snapshot(global, task).map_err(|e| e.to_string());
    let started = Instant::now();
    let end = engine::worker::serve(
        &mut store,
        url,
        &opts,
        &load,
        subscriber,
        None,
        halt,
        runtime.handle(),
    )
    .map_err(|e| failed(&store, e))?;
    let state = match end.state {
        Some(state) => state,
        None => super::find_task(&store, task_id)?.status,
    };
    Ok(engine::Finish {
        state,
        interrupted: end.signal,
        stats: engine::Stats {
            commits: store.round_trips(),
            busy_ms: started.elapsed().as_millis() as u64,
        },
        steps: None,
    })
}

/// A store failure under a run, in words that say what stands and what to do.
fn store_failed(store: &dyn Backend, task_id: TaskId, e: StoreError) -> Error {
    match e {
        // The store failed under the run: what was committed stands, and says what to do.
        StoreError::Backend { .. } | StoreError::Open { .. } | StoreError::Corrupt(_) => {
            Error::Store(StoreError::Failed {
                path: store.location().to_string(),
                message: format!(
                    "{e}\n  the run stopped; task {task_id} is as its last commit left it — once the fault is gone, `tasker resume {task_id}` takes it over"
                ),
            })
        }
        other => Error::Store(other),
    }
}
