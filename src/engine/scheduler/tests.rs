//! The scheduler driven by hand under a fake clock: no store, no process, no sleep. Each
//! test plays the driver — commit (take the batch), launch, report how attempts ended,
//! move the clock — and checks the decisions.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::json;

use super::*;
use crate::handlers::{self, Failure};
use crate::model::{FailureClass, Kind};
use crate::store::{Request, StepRecord};

/// A clock the test moves by hand.
struct Fake(AtomicI64);

impl Clock for Fake {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A source of jitter samples.
type Random = fn() -> f64;

const T0: i64 = 1_800_000_000_000;

struct Bench {
    clock: Arc<Fake>,
    template: Arc<Template>,
}

impl Bench {
    fn new(yaml: &str) -> Bench {
        Bench {
            clock: Arc::new(Fake(AtomicI64::new(T0))),
            template: Arc::new(crate::templates::from_str(yaml, "t.yml").expect("template")),
        }
    }

    /// A scheduler for a new task of the template, `limit` steps at once.
    fn scheduler(&self, limit: usize) -> Scheduler {
        self.resumed(limit, State::Pending, &[])
    }

    /// A scheduler for a task found in `status`, its steps as `steps` says (by name; the
    /// rest pending).
    fn resumed(
        &self,
        limit: usize,
        status: State,
        steps: &[(&str, State, StepState)],
    ) -> Scheduler {
        let options = Options {
            concurrency: Some(limit),
            clock: Arc::clone(&self.clock) as Arc<dyn Clock>,
            ..Options::default()
        };
        let task = TaskRecord {
            task_id: 7,
            uuid: "u".into(),
            name: self.template.name.clone(),
            namespace: "default".into(),
            version: "0.1.0".into(),
            status,
            context: json!({}),
            template_source: String::new(),
            content_hash: String::new(),
            workdir: "/".into(),
            environment: None,
            request: Request::default(),
            traceparent: None,
            owner: None,
            heartbeat_at: None,
            created_at: T0,
            updated_at: T0,
            started_at: None,
            finished_at: None,
            sessions: Vec::new(),
            steps: self
                .template
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let given = steps.iter().find(|(n, _, _)| *n == s.name);
                    StepRecord {
                        step_id: 100 + i as i64,
                        name: s.name.clone(),
                        position: i,
                        status: given.map_or(State::Pending, |g| g.1),
                        retry_limit: s.retry.limit,
                        retryable: s.retry.retryable,
                        state: given.map_or_else(StepState::default, |g| g.2.clone()),
                        interrupted: 0,
                        parents: Vec::new(),
                    }
                })
                .collect(),
        };
        let mut s =
            Scheduler::new(task, Arc::clone(&self.template), &options, 1).expect("scheduler");
        s.place_in_trace(None);
        s.take_over().expect("take over");
        s
    }

    fn at(&self, ms: i64) {
        self.clock.0.store(ms, Ordering::SeqCst);
    }
}

/// What the driver commits: the batch's step transitions as `(name, state)`, and its
/// events' names.
fn commit(s: &mut Scheduler) -> (Vec<(String, State)>, Vec<String>) {
    let names: Vec<String> = s.template.steps.iter().map(|t| t.name.clone()).collect();
    let moves = std::mem::take(&mut s.batch)
        .into_iter()
        .filter_map(|c| match c {
            Change::Step { step_id, to, .. } => Some((names[(step_id - 100) as usize].clone(), to)),
            _ => None,
        })
        .collect();
    let events = std::mem::take(&mut s.events)
        .iter()
        .map(|e| e.name().to_owned())
        .collect();
    (moves, events)
}

/// Start what is ready, commit, launch it: the names launched.
fn start(s: &mut Scheduler) -> Vec<String> {
    let launched = s.start_ready();
    commit(s);
    let template = Arc::clone(&s.template);
    launched
        .into_iter()
        .filter(|&i| s.launch(i))
        .map(|i| template.steps[i].name.clone())
        .collect()
}

fn index(s: &Scheduler, name: &str) -> usize {
    s.index[name]
}

fn passed(s: &Scheduler, name: &str) -> Done {
    let i = index(s, name);
    Done {
        index: i,
        attempt: s.steps[i].state.attempts,
        outcome: handlers::Noop::outcome(),
    }
}

fn failed(s: &Scheduler, name: &str, failure: Failure) -> Done {
    let i = index(s, name);
    Done {
        index: i,
        attempt: s.steps[i].state.attempts,
        outcome: Outcome::failed(failure),
    }
}

fn interrupted(s: &Scheduler, name: &str) -> Done {
    failed(
        s,
        name,
        Failure::retryable(FailureClass::Interrupted, "stopped"),
    )
}

fn status(s: &Scheduler, name: &str) -> State {
    s.steps[index(s, name)].status
}

/// A step's events of `kind` in what is gathered, as JSON.
fn gathered(s: &Scheduler, kind: Kind) -> Vec<Json> {
    s.events
        .iter()
        .filter(|e| e.kind() == Some(kind))
        .map(Event::to_json)
        .collect()
}

/// a → (b, c) → d, and e on its own, two at a time: each step starts once its parents are
/// complete and a slot is free, in the order it became ready; a join waits for both.
#[test]
fn steps_start_when_their_parents_are_done_and_a_slot_is_free() {
    let bench = Bench::new(
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a] }\n  - { name: c, command: 'true', depends_on: [a] }\n  - { name: d, command: 'true', depends_on: [b, c] }\n  - { name: e, command: 'true' }\n",
    );
    let mut s = bench.scheduler(2);
    let (moves, events) = commit(&mut s);
    assert!(moves.is_empty(), "no step moves before the run starts them");
    assert_eq!(
        events,
        ["task.start_requested", "workflow.task_started"],
        "the task starts"
    );
    assert_eq!(start(&mut s), ["a", "e"]);
    assert_eq!(start(&mut s), Vec::<String>::new(), "both slots are taken");
    assert!(!s.can_start());
    bench.at(T0 + 40);
    let done = passed(&s, "a");
    s.finished(done, Vec::new());
    let completed = gathered(&s, Kind::StepCompleted);
    assert_eq!(completed[0]["duration_ms"], 40, "timed by the clock");
    assert!(s.can_start(), "b and c are ready, a slot is free");
    assert_eq!(start(&mut s), ["b"], "one slot: b, in the order ready");
    bench.at(T0 + 100);
    let done = passed(&s, "e");
    s.finished(done, Vec::new());
    s.start_ready();
    let waited = gathered(&s, Kind::StepExecutionRequested);
    assert_eq!(waited[0]["step_name"], "c");
    assert_eq!(
        waited[0]["queue_wait_ms"], 60,
        "ready at +40, started at +100"
    );
    commit(&mut s);
    assert!(s.launch(index(&s, "c")));
    let done = passed(&s, "b");
    s.finished(done, Vec::new());
    assert_eq!(start(&mut s), Vec::<String>::new(), "d waits for c");
    let done = passed(&s, "c");
    s.finished(done, Vec::new());
    assert_eq!(start(&mut s), ["d"]);
    assert!(!s.is_over());
    let done = passed(&s, "d");
    s.finished(done, Vec::new());
    assert!(s.is_over());
    assert_eq!(s.wake(), None, "nothing to wake for");
    assert_eq!(s.finish(T0), (State::Complete, None));
    let (moves, events) = commit(&mut s);
    assert_eq!(moves, [("d".to_owned(), State::Complete)]);
    assert_eq!(
        events,
        [
            "step.before_handle",
            "step.completed",
            "workflow.task_finalization_started",
            "task.completed",
            "workflow.task_finalization_completed"
        ]
    );
}

/// Noop steps take no slot and end in the batch that starts them; what they make ready
/// starts in it too, so a chain of joins costs one round.
#[test]
fn noops_end_in_the_round_that_starts_them() {
    let bench = Bench::new(
        "name: t\nsteps:\n  - { name: a, noop: true }\n  - { name: b, noop: true, depends_on: [a] }\n  - { name: c, command: 'true', depends_on: [b] }\n",
    );
    let mut s = bench.scheduler(1);
    commit(&mut s);
    let launched = s.start_ready();
    assert_eq!(launched, [index(&s, "c")]);
    let (moves, _) = commit(&mut s);
    let moved = |name: &str| -> Vec<State> {
        moves
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, st)| *st)
            .collect()
    };
    assert_eq!(moved("a"), [State::InProgress, State::Complete]);
    assert_eq!(moved("b"), [State::InProgress, State::Complete]);
    assert_eq!(
        moved("c"),
        [State::InProgress],
        "c's start is in the same batch"
    );
}

/// A failed attempt waits out its backoff, spread by jitter within its bounds; it comes
/// due at its time (the wake time says when), not before; the limit ends it.
#[test]
fn retries_come_due_after_a_backoff_within_the_jitter_bounds() {
    let bench = Bench::new(
        "name: t\nsteps:\n  - name: a\n    command: 'false'\n    retry: { limit: 3, backoff: { base: 2s, multiplier: 2, max: 1m, jitter: 0.25 } }\n",
    );
    let fail = || Failure::retryable(FailureClass::ExitCode, "exit 1");
    // The jitter's extremes: ±25 % of the 2 s base.
    let extremes: [(Random, i64, i64); 2] = [(|| 0.0, 1_500, 1_500), (|| 0.999_999, 2_499, 2_500)];
    for (random, low, high) in extremes {
        let mut s = bench.scheduler(1);
        s.random = random;
        bench.at(T0);
        assert_eq!(start(&mut s), ["a"]);
        let done = failed(&s, "a", fail());
        s.finished(done, Vec::new());
        let at = s.steps[0].state.next_retry_at.expect("a retry is due");
        assert!(
            (T0 + low..=T0 + high).contains(&at),
            "due at +{} ms, not within [{low}, {high}]",
            at - T0
        );
        let backoff = gathered(&s, Kind::StepBackoff);
        assert_eq!(backoff[0]["delay_ms"], at - T0);
        assert_eq!(gathered(&s, Kind::StepFailed)[0]["retryable"], true);
    }
    // Drawn at random, every delay lies within the bounds.
    for _ in 0..200 {
        let mut s = bench.scheduler(1);
        bench.at(T0);
        start(&mut s);
        let done = failed(&s, "a", fail());
        s.finished(done, Vec::new());
        let delay = s.steps[0].state.next_retry_at.expect("due") - T0;
        assert!((1_500..=2_500).contains(&delay), "{delay} ms");
    }

    let mut s = bench.scheduler(1);
    s.random = || 0.5;
    bench.at(T0);
    start(&mut s);
    let done = failed(&s, "a", fail());
    s.finished(done, Vec::new());
    commit(&mut s);
    let due = T0 + 2_000;
    assert_eq!(s.wake(), Some(due), "wake when the retry is due");
    assert!(s.announce_idle(), "only a retry remains: said once");
    assert_eq!(
        gathered(&s, Kind::WorkflowNoViableSteps)[0]["waiting_steps"],
        json!(["a"])
    );
    assert!(!s.announce_idle());
    commit(&mut s);
    bench.at(due - 1);
    assert_eq!(start(&mut s), Vec::<String>::new(), "not due yet");
    bench.at(due + 5);
    let launched = s.start_ready();
    assert_eq!(launched, [0]);
    let retry = gathered(&s, Kind::StepRetryRequested);
    assert_eq!(retry[0]["attempt"], 2);
    assert_eq!(retry[0]["reason"], "retry");
    assert_eq!(
        gathered(&s, Kind::StepExecutionRequested)[0]["queue_wait_ms"],
        5,
        "waiting counts from when it came due"
    );
    commit(&mut s);
    assert!(s.launch(0));
    // The second failure doubles the wait; the third is the last.
    let done = failed(&s, "a", fail());
    s.finished(done, Vec::new());
    assert_eq!(s.wake(), Some(due + 5 + 4_000));
    bench.at(due + 5 + 4_000);
    assert_eq!(start(&mut s), ["a"]);
    let done = failed(&s, "a", fail());
    s.finished(done, Vec::new());
    assert_eq!(
        gathered(&s, Kind::StepMaxRetriesReached)[0]["retry_limit"],
        3
    );
    assert_eq!(s.wake(), None);
    assert!(s.is_over());
    assert_eq!(s.finish(T0).0, State::Error);
    assert_eq!(
        gathered(&s, Kind::TaskFailed)[0]["failed_steps"],
        json!(["a"])
    );
}

/// A cancel request for the whole task stops what runs (cancelled when its attempt ends),
/// cancels what waits — pending or in backoff — at once, and starts nothing more.
#[test]
fn a_cancel_request_stops_what_runs_and_cancels_what_waits() {
    let bench = Bench::new(
        "name: t\nsteps:\n  - { name: a, command: 'sleep 9' }\n  - { name: b, command: 'true', depends_on: [a] }\n  - { name: c, command: 'false', retry: { limit: 3 } }\n  - { name: d, command: 'true' }\n",
    );
    let mut s = bench.scheduler(2);
    assert_eq!(start(&mut s), ["a", "c"]);
    let done = failed(
        &s,
        "c",
        Failure::retryable(FailureClass::ExitCode, "exit 1"),
    );
    s.finished(done, Vec::new());
    // d takes c's slot; its start is being committed when the request arrives.
    let starting = s.start_ready();
    assert_eq!(starting, [index(&s, "d")]);
    commit(&mut s);
    let signals = s.cancel(&json!({"reason": "wrong order", "actor": "ada"}));
    assert_eq!(signals, [(index(&s, "a"), Abort::Stop)], "a runs: stopped");
    assert_eq!(status(&s, "b"), State::Cancelled, "pending: cancelled now");
    assert_eq!(
        status(&s, "c"),
        State::Cancelled,
        "in backoff: cancelled now"
    );
    assert_eq!(s.wake(), None, "no retry to wake for");
    assert!(
        !s.launch(index(&s, "d")),
        "a start committed as the run stops runs nothing"
    );
    assert_eq!(
        s.steps[index(&s, "d")]
            .state
            .error
            .as_ref()
            .map(|e| e.class),
        Some(FailureClass::Cancelled)
    );
    assert_eq!(s.start_ready(), Vec::<usize>::new(), "nothing more starts");
    let done = interrupted(&s, "a");
    s.finished(done, Vec::new());
    assert_eq!(status(&s, "a"), State::Cancelled);
    let cancelled = gathered(&s, Kind::StepCancelled);
    assert_eq!(cancelled.len(), 4, "{cancelled:?}");
    assert!(
        cancelled
            .iter()
            .all(|e| e["actor"] == "ada" && e["reason"] == "wrong order"),
        "{cancelled:?}"
    );
    assert!(s.is_over());
    assert_eq!(s.finish(T0).0, State::Cancelled);
}

/// A cancel request naming a running step stops that step only; the rest runs on.
#[test]
fn a_cancel_request_for_one_step_leaves_the_rest_running() {
    let bench = Bench::new(
        "name: t\nsteps:\n  - { name: a, command: 'sleep 9' }\n  - { name: b, command: 'sleep 9' }\n",
    );
    let mut s = bench.scheduler(2);
    assert_eq!(start(&mut s), ["a", "b"]);
    let signals = s.cancel(&json!({"steps": ["b"], "reason": "stuck"}));
    assert_eq!(signals, [(1, Abort::Stop)]);
    assert_eq!(s.stopping(), None);
    let done = interrupted(&s, "b");
    s.finished(done, Vec::new());
    assert_eq!(status(&s, "b"), State::Cancelled);
    let done = passed(&s, "a");
    s.finished(done, Vec::new());
    assert_eq!(
        s.finish(T0).0,
        State::Cancelled,
        "a cancelled step blocks the task"
    );
}

/// The task's deadline runs on the clock: the scheduler wakes for it, stops the running
/// steps when it passes, and their attempts end as final timeouts, not interruptions.
#[test]
fn the_task_deadline_stops_the_run_and_times_its_steps_out() {
    let bench = Bench::new(
        "name: t\ntimeout: 10s\nsteps:\n  - { name: a, command: 'sleep 60', retry: { limit: 5, backoff: { base: 30s } } }\n  - { name: b, command: 'false', retry: { limit: 5, backoff: { base: 1s } } }\n",
    );
    let mut s = bench.scheduler(2);
    s.random = || 0.5;
    assert_eq!(s.wake(), Some(T0 + 10_000), "wake for the deadline");
    assert_eq!(start(&mut s), ["a", "b"]);
    bench.at(T0 + 2_000);
    let done = failed(
        &s,
        "b",
        Failure::retryable(FailureClass::ExitCode, "exit 1"),
    );
    s.finished(done, Vec::new());
    assert_eq!(s.wake(), Some(T0 + 3_000), "the retry comes first");
    bench.at(T0 + 9_999);
    assert!(s.advance().is_empty(), "not yet");
    bench.at(T0 + 10_000);
    assert_eq!(s.advance(), [(0, Abort::Stop)], "a is stopped");
    assert_eq!(s.stopping(), Some(Stop::Deadline));
    assert_eq!(s.wake(), None);
    assert!(s.start_ready().is_empty(), "b's retry does not start");
    let done = interrupted(&s, "a");
    s.finished(done, Vec::new());
    let error = s.steps[0].state.error.clone().expect("an error");
    assert_eq!(error.class, FailureClass::Timeout);
    assert_eq!(error.message, "the task timed out after 10.0s");
    assert_eq!(
        gathered(&s, Kind::StepFailed).last().expect("failed")["retryable"],
        false
    );
    assert!(s.is_over());
    assert_eq!(s.finish(T0).0, State::Error);
    assert_eq!(
        s.batch.iter().rev().find_map(|c| match c {
            Change::Task { metadata, .. } => Some(metadata["reason"].clone()),
            _ => None,
        }),
        Some(json!("the task timed out"))
    );
}

/// A task taken over from a runner that died: its attempts in flight are interrupted,
/// retried at once without counting, and an orphan event names them; done steps stay
/// done and release their children.
#[test]
fn a_take_over_retries_what_the_dead_runner_had_running() {
    let bench = Bench::new(
        "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a] }\n  - { name: c, command: 'true', depends_on: [b] }\n  - { name: d, command: 'true', depends_on: [a] }\n",
    );
    let running = StepState {
        attempts: 1,
        counted: 0,
        started_at: Some(T0 - 5_000),
        ..StepState::default()
    };
    let done = StepState {
        attempts: 1,
        counted: 1,
        ..StepState::default()
    };
    let mut s = bench.resumed(
        4,
        State::InProgress,
        &[
            ("a", State::Complete, done),
            ("b", State::InProgress, running),
        ],
    );
    assert_eq!(
        s.left_running().collect::<Vec<_>>(),
        Vec::<(usize, u32)>::new(),
        "taken over: nothing is left running"
    );
    let orphan = gathered(&s, Kind::OrphanRecovered);
    assert_eq!(orphan[0]["interrupted_steps"], json!(["b"]));
    assert!(s.batch.iter().any(|c| matches!(
        c,
        Change::AttemptFinished { attempt: 1, end, .. }
            if end.error.as_ref().map(|e| e.class) == Some(FailureClass::Interrupted)
    )));
    assert_eq!(status(&s, "b"), State::Error);
    commit(&mut s);
    let launched = s.start_ready();
    assert_eq!(launched, [3, 1], "d was ready; b is due at once");
    let retry = gathered(&s, Kind::StepRetryRequested);
    assert_eq!(
        (retry[0]["step_name"].clone(), retry[0]["reason"].clone()),
        (json!("b"), json!("interrupted"))
    );
    assert_eq!(
        gathered(&s, Kind::StepExecutionRequested)[1]["queue_wait_ms"],
        0
    );
    commit(&mut s);
    assert!(s.launch(3) && s.launch(1));
    let b = &s.steps[index(&s, "b")].state;
    assert_eq!(
        (b.attempts, b.counted),
        (2, 0),
        "the interrupted attempt does not count"
    );
    let done = passed(&s, "b");
    s.finished(done, Vec::new());
    assert!(
        !s.steps[index(&s, "b")].state.flaky,
        "an interruption is no failure"
    );
    assert_eq!(start(&mut s), ["c"]);
}

/// A first signal stops the running steps gracefully, a second kills them; the task is
/// left resumable.
#[test]
fn signals_stop_then_kill_and_leave_the_task_resumable() {
    let bench = Bench::new(
        "name: t\nsteps:\n  - { name: a, command: 'sleep 9' }\n  - { name: b, command: 'true' }\n",
    );
    let mut s = bench.scheduler(1);
    assert_eq!(start(&mut s), ["a"]);
    assert_eq!(s.stop(Stop::Signal(2)), [(0, Abort::Stop)]);
    assert_eq!(s.kill(2), [(0, Abort::Kill)]);
    assert!(s.start_ready().is_empty());
    let done = interrupted(&s, "a");
    s.finished(done, Vec::new());
    assert_eq!(
        status(&s, "a"),
        State::Error,
        "interrupted: taken up on resume"
    );
    assert!(s.is_over());
    assert_eq!(s.finish(T0), (State::Pending, Some(2)));
}

/// Fail-fast stops starting steps after a final failure but lets what runs finish.
#[test]
fn fail_fast_starts_nothing_after_a_final_failure() {
    let bench = Bench::new(
        "name: t\nsteps:\n  - { name: a, command: 'false' }\n  - { name: b, command: 'sleep 1' }\n  - { name: c, command: 'true' }\n",
    );
    let mut s = bench.scheduler(2);
    s.fail_fast = true;
    assert_eq!(start(&mut s), ["a", "b"]);
    let done = failed(
        &s,
        "a",
        Failure::permanent(FailureClass::ExitCode, "exit 1"),
    );
    s.finished(done, Vec::new());
    assert_eq!(s.stopping(), Some(Stop::FailFast));
    assert!(s.start_ready().is_empty(), "c does not start");
    assert!(!s.is_over(), "b still runs");
    let done = passed(&s, "b");
    s.finished(done, Vec::new());
    assert!(s.is_over());
    assert_eq!(s.finish(T0).0, State::Error);
}
