//! The run loop: claim, take over, start what is ready, wait, record, finish.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::writer::{InFlight, Writer};
use super::{Finish, Halt, Options, RunError};
use crate::events::{Event, Kind, Subscriber, TraceRef};
use crate::graph::Dag;
use crate::handlers::{self, Handler, Outcome};
use crate::model::{Actor, FailureClass, State};
use crate::runner::{input_dir, make_scratch, owner, scratch_dir, sweep_dead_runners};
use crate::store::{
    AttemptEnd, Change, Owner, StepError, StepState, StoreError, TaskId, TaskRecord,
};
use crate::templates::Template;

mod commit;
mod control;
mod schedule;
mod takeover;

/// How often the loop looks for cancel requests.
const TICK: Duration = Duration::from_millis(250);
/// How often the owner's heartbeat is written.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Why the loop stopped starting steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    FailFast,
    Deadline,
    Cancel,
    Signal(i32),
}

/// A started process is recorded with the next commit, and at the latest this long after it
/// started: a short step's pid costs no commit of its own. A runner that dies before then
/// leaves the process findable by the marks in its environment (`kill_marked`).
pub(super) const RECORD_PROCESS_WITHIN: Duration = Duration::from_millis(10);

/// Changes and events one commit holds at most when noop steps chain within a round.
const BATCH_CAP: usize = 2048;

/// A finished attempt, sent back from its handler task.
pub(super) struct Done {
    pub index: usize,
    pub attempt: u32,
    pub outcome: Outcome,
}

pub(super) struct StepRun {
    pub status: State,
    pub state: StepState,
    /// When the current attempt started (ms), for event durations.
    pub attempt_started_at: i64,
    /// When the step last became ready (ms), for the ready → running wait.
    pub ready_at: Option<i64>,
    /// Stops the running attempt: 1 gracefully, 2 at once.
    pub abort: Option<watch::Sender<handlers::Abort>>,
    /// An operator asked to cancel this step while it ran: the transition's metadata.
    pub cancelling: Option<Json>,
    /// Its current attempt's process is not yet known to have started.
    pub unrecorded: bool,
    /// This run's span of the step, and of its current attempt.
    pub span: Option<u64>,
    pub attempt_span: Option<u64>,
    pub handler: Arc<dyn Handler>,
}

pub(super) struct Run<'a> {
    pub task: TaskRecord,
    pub template: &'a Template,
    pub options: &'a Options,
    subscriber: &'a mut dyn Subscriber,
    halt: watch::Receiver<Halt>,
    halt_open: bool,
    owner: Owner,
    pub dag: Dag,
    pub steps: Vec<StepRun>,
    /// Step index by name, for `{{ steps.NAME.results }}` and cancel requests.
    pub index: HashMap<String, usize>,
    /// Problems worth a word that change nothing (bad `TASKER_EVENTS` lines).
    pub warnings: Vec<String>,
    /// Readiness and retries due.
    pub queue: super::queue::Queue,
    limit: usize,
    pub running: usize,
    pub stopping: Option<Stop>,
    kill_now: bool,
    pub batch: Vec<Change>,
    /// Started processes not yet recorded, and when they must be at the latest.
    pids: Vec<Change>,
    pub pids_due: Option<Instant>,
    events: Vec<Event>,
    next_seq: u64,
    pub trace: TraceRef,
    /// Announced that nothing can start until a retry is due (once per such wait).
    idle_announced: bool,
    pub done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    /// Processes started and not yet taken into `pids`.
    pub spawned: Arc<std::sync::Mutex<Vec<handlers::Started>>>,
    /// Attempts whose process is not yet known to have started.
    pub unrecorded: usize,
    pub scratch: PathBuf,
    /// Where input documents are written (may be `scratch`).
    pub inputs: PathBuf,
    /// The last cancel request seen.
    cancel_seen: i64,
    next_tick: Instant,
    next_beat: Instant,
    /// Commits written and time busy, for `--summary-json`.
    stats: super::Stats,
    /// The batch the writer is committing, with what waits for it: its events, its
    /// warnings, and the steps it starts.
    in_flight: Option<(InFlight, Landing)>,
}

/// What waits for a batch to be durable.
struct Landing {
    events: Vec<Event>,
    warnings: Vec<String>,
    spawn: Vec<usize>,
}

pub(super) fn meta(reason: &str) -> Json {
    json!({ "actor": "tasker", "reason": reason })
}

/// A new random span id (never zero).
pub(super) fn span_id() -> u64 {
    rand::random_range(1..u64::MAX)
}

/// `(trace id, span id)` of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`).
/// Read as OpenTelemetry's W3C propagator reads it; an invalid one (all-zero ids, a bad
/// version) is none.
pub fn parse_traceparent(value: &str) -> Option<(u128, u64)> {
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;
    let carrier: HashMap<String, String> =
        HashMap::from([("traceparent".to_owned(), value.trim().to_owned())]);
    let context = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
    let span = context.span();
    let ids = span.span_context();
    ids.is_valid().then(|| {
        (
            u128::from_be_bytes(ids.trace_id().to_bytes()),
            u64::from_be_bytes(ids.span_id().to_bytes()),
        )
    })
}

impl<'a> Run<'a> {
    pub(super) async fn start(
        writer: &Writer<'_, '_>,
        task_id: TaskId,
        template: &'a Template,
        options: &'a Options,
        subscriber: &'a mut dyn Subscriber,
        halt: watch::Receiver<Halt>,
    ) -> Result<Finish, RunError> {
        let owner = owner::this_process();
        // The scratch space first: a runner that cannot have it claims nothing.
        let mut dirs = vec![scratch_dir(task_id, &owner)];
        let inputs = input_dir(task_id, &owner);
        if inputs != dirs[0] {
            dirs.push(inputs);
        }
        let remove = |dirs: &[PathBuf]| {
            for d in dirs {
                let _ = std::fs::remove_dir_all(d);
            }
        };
        for dir in &dirs {
            if let Err(source) = make_scratch(dir) {
                remove(&dirs);
                return Err(RunError::Scratch {
                    dir: dir.clone(),
                    source,
                });
            }
        }
        let claimant = owner.clone();
        let claimed = writer.call(move |store| {
            store.claim(task_id, &claimant, &owner::alive)?;
            tracing::info!(task_id, pid = claimant.pid, host = %claimant.host, "claimed the task");
            let task = store.task(task_id)?.ok_or_else(|| {
                StoreError::Corrupt(format!("task {task_id} vanished while it was claimed"))
            })?;
            Ok((task, store.last_event_seq(task_id)? + 1))
        });
        let (task, next_seq) = match claimed {
            Ok(c) => c,
            Err(e) => {
                remove(&dirs);
                return Err(e.into());
            }
        };
        let swept = sweep_dead_runners();
        if swept > 0 {
            tracing::info!(task_id, swept, "removed what dead runners left behind");
        }
        let mut run = match Run::new(task, template, options, subscriber, halt, owner, next_seq) {
            Ok(run) => run,
            Err(e) => {
                remove(&dirs);
                return Err(e.into());
            }
        };
        let result = run.drive(writer).await.map_err(RunError::from);
        if result.is_err() {
            run.abandon().await;
        }
        let _ = std::fs::remove_dir_all(&run.scratch);
        let _ = std::fs::remove_dir_all(&run.inputs);
        result
    }

    fn new(
        task: TaskRecord,
        template: &'a Template,
        options: &'a Options,
        subscriber: &'a mut dyn Subscriber,
        halt: watch::Receiver<Halt>,
        owner: Owner,
        next_seq: u64,
    ) -> Result<Run<'a>, StoreError> {
        if task.steps.len() != template.steps.len()
            || task
                .steps
                .iter()
                .zip(&template.steps)
                .any(|(r, s)| r.name != s.name)
        {
            return Err(StoreError::Corrupt(format!(
                "task {} does not match its template snapshot",
                task.task_id
            )));
        }
        let dag = template.dag();
        let steps: Vec<StepRun> = task
            .steps
            .iter()
            .zip(&template.steps)
            .map(|(rec, step)| StepRun {
                status: rec.status,
                state: rec.state.clone(),
                attempt_started_at: 0,
                ready_at: None,
                abort: None,
                cancelling: None,
                unrecorded: false,
                span: None,
                attempt_span: None,
                handler: handlers::for_action(&step.action),
            })
            .collect();
        let limit = options
            .concurrency
            .or(template.max_parallel)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let scratch = scratch_dir(task.task_id, &owner);
        let inputs = input_dir(task.task_id, &owner);
        let now = Instant::now();
        let index = template
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        Ok(Run {
            task,
            template,
            options,
            subscriber,
            halt,
            halt_open: true,
            owner,
            dag,
            steps,
            index,
            warnings: Vec::new(),
            queue: super::queue::Queue::new(template.steps.len()),
            limit,
            running: 0,
            stopping: None,
            kill_now: false,
            batch: Vec::new(),
            pids: Vec::new(),
            pids_due: None,
            events: Vec::new(),
            next_seq,
            trace: TraceRef::default(),
            idle_announced: false,
            done_tx,
            done_rx,
            spawned: Arc::default(),
            unrecorded: 0,
            scratch,
            inputs,
            cancel_seen: 0,
            next_tick: now,
            next_beat: now + HEARTBEAT,
            stats: super::Stats::default(),
            in_flight: None,
        })
    }

    async fn drive(&mut self, writer: &Writer<'_, '_>) -> Result<Finish, StoreError> {
        let started = self.now();
        // Cancel requests made before this run are not for it.
        let task_id = self.task.task_id;
        self.cancel_seen = writer
            .call(move |store| store.annotations(task_id, "cancel_request", 0))?
            .last()
            .map_or(0, |(id, _)| *id);
        self.take_over(writer).await?;
        let deadline = self.template.timeout.map(|t| Instant::now() + t);
        let mut to_spawn = Vec::new();
        // The loop's time not spent waiting.
        let mut busy = Duration::ZERO;
        let mut busy_since = std::time::Instant::now();
        loop {
            let ticked = Instant::now() >= self.next_tick;
            if ticked {
                self.tick(writer).await?;
            }
            if self.stopping.is_none() {
                self.start_ready(&mut to_spawn);
                // Noop steps end where they start, in this same batch; what they make
                // ready (noops too) starts in it as well. Nothing outside tasker sees any
                // of it before the commit below. A batch stays bounded: past the cap, the
                // rest waits for the next round.
                while self.stopping.is_none()
                    && self.batch.len() + self.events.len() < BATCH_CAP
                    && to_spawn.iter().any(|&i| self.is_noop(i))
                {
                    let (noops, rest): (Vec<usize>, Vec<usize>) =
                        to_spawn.drain(..).partition(|&i| self.is_noop(i));
                    to_spawn = rest;
                    for i in noops {
                        self.spawn(i);
                    }
                    self.start_ready(&mut to_spawn);
                }
            }
            // The batch goes to the writer; its steps start once it is durable.
            self.send(writer, &mut to_spawn, ticked)?;
            let settled = self.in_flight.is_none() && self.batch.is_empty();
            if settled && self.running == 0 && (self.stopping.is_some() || self.queue.is_idle()) {
                break;
            }
            if settled && self.running == 0 && self.queue.ready_len() == 0 && !self.idle_announced {
                // Only retries remain, and none is due: say so once, then sleep.
                self.idle_announced = true;
                let waiting: Vec<String> = self
                    .queue
                    .waiting()
                    .map(|i| self.template.steps[i].name.clone())
                    .collect();
                let e = Event::new(Kind::WorkflowNoViableSteps, self.task.task_id)
                    .with("reason", "waiting_for_retry")
                    .with("waiting_steps", json!(waiting));
                self.event(e);
                self.flush(writer).await?;
            }
            busy += busy_since.elapsed();
            self.wait(deadline).await?;
            busy_since = std::time::Instant::now();
        }
        busy += busy_since.elapsed();
        self.stats.busy_ms = busy.as_millis() as u64;
        self.finish(writer, started).await
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_traceparent;

    #[test]
    fn traceparents() {
        assert_eq!(
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some((
                0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
                0x00f0_67aa_0ba9_02b7
            ))
        );
        assert_eq!(
            parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(parse_traceparent("garbage"), None);
    }
}
