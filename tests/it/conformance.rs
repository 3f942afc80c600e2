//! The store conformance suite: what every backend must do, written against `dyn Backend`
//! alone. Each test runs on a fresh SQLite file and on a fresh PostgreSQL database (the
//! tests' own server, or `TASKER_TEST_PG_URL`'s); `TASKER_TEST_STORE_URL` names one store
//! to run it against instead (each test then works on tasks of its own).

use serde_json::json;
use tasker::model::{Actor, Owner, State};
use tasker::store::{
    self, Backend, Change, Created, Durability, Location, NewTask, StepState, StoreError,
};
use tasker::templates::Template;

/// A store for one test, and a second handle on the same store.
struct Fixture {
    _dir: tempfile::TempDir,
    location: Location,
}

impl Fixture {
    /// The stores a test runs on: SQLite, and PostgreSQL when there is one.
    fn all() -> Vec<Fixture> {
        let at = |given: std::path::PathBuf, dir: tempfile::TempDir| Fixture {
            location: Location::parse(&given).expect("a store location"),
            _dir: dir,
        };
        if let Some(url) = std::env::var_os("TASKER_TEST_STORE_URL") {
            return vec![at(url.into(), tempfile::tempdir().expect("dir"))];
        }
        let dir = tempfile::tempdir().expect("dir");
        let mut all = vec![at(dir.path().join("conformance.db"), dir)];
        if let Some(pg) = crate::support::postgres() {
            all.push(at(pg.database().into(), tempfile::tempdir().expect("dir")));
        }
        all
    }

    fn handle(&self) -> Box<dyn Backend> {
        store::open(&self.location, false, Durability::Normal).expect("open")
    }

    fn name(&self) -> &'static str {
        match self.location {
            Location::Sqlite(_) => "sqlite",
            Location::Postgres(_) => "postgres",
        }
    }
}

/// Run `test` on every store of [`Fixture::all`], saying which one failed.
fn each(test: impl Fn(&Fixture)) {
    for f in Fixture::all() {
        let name = f.name();
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&f))) {
            eprintln!("the {name} store failed this test");
            std::panic::resume_unwind(panic);
        }
    }
}

fn template() -> Template {
    tasker::templates::from_str(
        "name: conformance\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a], skippable: true }\n",
        "conformance.yml",
    )
    .expect("template")
}

fn create(store: &mut dyn Backend, template: &Template, bypass: &[usize]) -> i64 {
    match store
        .create_task(&NewTask {
            template,
            source: "name: conformance",
            content_hash: "conformance",
            workdir: "/tmp",
            context: &json!({"order": 7}),
            initiator: Some("suite"),
            source_system: None,
            reason: None,
            tags: &[],
            environment: None,
            idempotency_key: None,
            bypass,
        })
        .expect("create")
    {
        Created::New(id) => id,
        Created::Existing(id) => panic!("task {id} already existed"),
    }
}

fn owner(pid: u32, host: &str) -> Owner {
    Owner {
        pid,
        host: host.into(),
        started_at: 1,
    }
}

fn task_move(task_id: i64, from: State, to: State) -> Change {
    Change::Task {
        task_id,
        from,
        to,
        actor: Actor::Engine,
        metadata: json!({"actor": "suite"}),
    }
}

#[test]
fn transitions_follow_the_tables_and_a_refused_batch_writes_nothing() {
    each(|f| {
        let mut s = f.handle();
        let t = template();
        let id = create(&mut *s, &t, &[]);
        let step = s.task(id).expect("read").expect("task").steps[0].step_id;
        // An illegal move anywhere in a batch: the whole batch is refused.
        let batch = [
            task_move(id, State::Pending, State::InProgress),
            Change::Step {
                step_id: step,
                from: State::Pending,
                to: State::Complete,
                actor: Actor::Engine,
                metadata: json!({}).into(),
                state: StepState::default(),
                restates: None,
            },
        ];
        match s.commit(&batch) {
            Err(StoreError::Illegal { from, to, .. }) => {
                assert_eq!((from, to), (State::Pending, State::Complete));
            }
            other => panic!("an illegal transition: {other:?}"),
        }
        let task = s.task(id).expect("read").expect("task");
        assert_eq!(
            task.status,
            State::Pending,
            "nothing of the batch was written"
        );
        assert!(s.transitions(id).expect("trail").is_empty());
        // Legal ones are written with their audit rows.
        s.commit(&[task_move(id, State::Pending, State::InProgress)])
            .expect("legal");
        let trail = s.transitions(id).expect("trail");
        assert_eq!(trail.len(), 1);
        assert_eq!(trail[0].to_state, State::InProgress);
        assert!(trail[0].most_recent);
    });
}

#[test]
fn two_handles_compare_and_set_one_wins() {
    each(|f| {
        let (mut a, mut b) = (f.handle(), f.handle());
        let t = template();
        let id = create(&mut *a, &t, &[]);
        a.commit(&[task_move(id, State::Pending, State::InProgress)])
            .expect("first");
        match b.commit(&[task_move(id, State::Pending, State::InProgress)]) {
            Err(StoreError::Conflict { expected, .. }) => assert_eq!(expected, State::Pending),
            other => panic!("the second writer of the same move: {other:?}"),
        }
        assert_eq!(b.transitions(id).expect("trail").len(), 1, "written once");
    });
}

#[test]
fn racing_claims_have_exactly_one_winner() {
    each(|f| {
        let t = template();
        let id = create(&mut *f.handle(), &t, &[]);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let results: Vec<Result<i64, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|n| {
                    let barrier = barrier.clone();
                    scope.spawn(move || {
                        let mut s = f.handle();
                        barrier.wait();
                        // Every other claimant is alive: only the race decides.
                        s.claim(id, &owner(100 + n, &format!("host-{n}")), &|_, _| true)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "{results:?}");
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| matches!(e, StoreError::Owned { .. })),
            "the losers are told who owns it: {results:?}"
        );
    });
}

#[test]
fn a_lapsed_lease_is_taken_over_and_the_old_owner_is_fenced() {
    each(|f| {
        let (mut old, mut new) = (f.handle(), f.handle());
        let t = template();
        let id = create(&mut *old, &t, &[]);
        let (a, b) = (owner(1, "host-a"), owner(2, "host-b"));
        old.claim(id, &a, &|_, _| true).expect("a claims");
        old.commit_as(id, &a, &[task_move(id, State::Pending, State::InProgress)])
            .expect("a runs");
        old.heartbeat(id, &a).expect("a keeps its lease");
        // While a lives, b is refused.
        assert!(matches!(
            new.claim(id, &b, &|_, _| true),
            Err(StoreError::Owned { .. })
        ));
        // a's lease lapses (its heartbeat is stale): b takes over.
        let beat = new.claim(id, &b, &|_, _| false).expect("b takes over");
        // The claim says which heartbeat it wrote.
        let task = new.task(id).expect("read").expect("task");
        assert_eq!(
            (task.owner.as_ref(), task.heartbeat_at),
            (Some(&b), Some(beat))
        );
        // a is fenced: its writes change nothing, its heartbeat says so.
        let step = old.task(id).expect("read").expect("task").steps[0].step_id;
        let late = [Change::Step {
            step_id: step,
            from: State::Pending,
            to: State::InProgress,
            actor: Actor::Engine,
            metadata: json!({}).into(),
            state: StepState::default(),
            restates: None,
        }];
        match old.commit_as(id, &a, &late) {
            Err(StoreError::Fenced { by, .. }) => assert_eq!(by, Some(b.clone())),
            other => panic!("a late write of the old owner: {other:?}"),
        }
        assert!(matches!(
            old.heartbeat(id, &a),
            Err(StoreError::Fenced { .. })
        ));
        assert_eq!(
            old.task(id).expect("read").expect("task").steps[0].status,
            State::Pending,
            "the fenced write changed nothing"
        );
        new.commit_as(id, &b, &late).expect("the new owner writes");
    });
}

/// A run's batches, fenced by its owner, may skip looking at the owner and the log's end
/// again while nothing else is written (SQLite); anything written from elsewhere, or by the
/// same connection unfenced, or a takeover, is still caught at the next batch.
#[test]
fn a_fenced_writer_sees_every_write_made_besides_its_own() {
    each(|f| {
        let (mut run, mut other) = (f.handle(), f.handle());
        let t = template();
        let id = create(&mut *run, &t, &[]);
        let a = owner(1, "host-a");
        run.claim(id, &a, &|_, _| true).expect("a claims");
        run.commit_as(id, &a, &[task_move(id, State::Pending, State::InProgress)])
            .expect("a runs");
        let event = |seq: u64| Change::Event {
            task_id: id,
            seq,
            name: "order.checked".into(),
            doc: json!({"name": "order.checked", "seq": seq}).to_string(),
        };
        let mut next = run.last_event_seq(id).expect("seq") + 1;
        for _ in 0..3 {
            run.commit_as(id, &a, &[event(next)])
                .expect("a's own events");
            next += 1;
        }
        // a's batch numbering event `next` again is refused, and the one after goes on.
        let caught = |run: &mut dyn Backend, next: &mut u64| {
            assert!(
                run.commit_as(id, &a, &[event(*next)]).is_err(),
                "event {next} numbered twice, the second after a quiet run of batches"
            );
            run.commit_as(id, &a, &[event(*next + 1)])
                .expect("a goes on");
            *next += 2;
        };
        // Another connection records the next event.
        other.commit(&[event(next)]).expect("an operator's event");
        caught(&mut *run, &mut next);
        // The run's own connection writes unfenced: its next fenced batch looks again.
        run.commit(&[event(next)]).expect("an unfenced event");
        caught(&mut *run, &mut next);
        let refused = |run: &mut dyn Backend, old: &Owner, new: &Owner, seq: u64| match run
            .commit_as(id, old, &[event(seq)])
        {
            Err(StoreError::Fenced { by, .. }) => assert_eq!(by.as_ref(), Some(new)),
            other => panic!("a late write of the old owner: {other:?}"),
        };
        // A takeover through the run's own connection (a claim, not a batch) fences a.
        let b = owner(2, "host-b");
        run.claim(id, &b, &|_, _| false).expect("b takes over");
        refused(&mut *run, &a, &b, next);
        for _ in 0..2 {
            run.commit_as(id, &b, &[event(next)])
                .expect("b's own events");
            next += 1;
        }
        // A takeover from elsewhere fences b at once.
        let c = owner(3, "host-c");
        other.claim(id, &c, &|_, _| false).expect("c takes over");
        refused(&mut *run, &b, &c, next);
        let numbers: Vec<u64> = run
            .events(id, 0, 1000)
            .expect("events")
            .iter()
            .filter_map(|e| e["seq"].as_u64())
            .collect();
        assert_eq!(
            numbers,
            (1..next).collect::<Vec<u64>>(),
            "each event once, in order"
        );
    });
}

#[test]
fn events_are_kept_once_in_order() {
    each(|f| {
        let mut s = f.handle();
        let t = template();
        let id = create(&mut *s, &t, &[1]);
        let events = s.events(id, 0, 100).expect("events");
        let names: Vec<&str> = events.iter().filter_map(|e| e["name"].as_str()).collect();
        assert_eq!(
            names,
            [
                "task.initialize_requested",
                "step.initialize_requested",
                "step.initialize_requested",
                "step.resolved_manually"
            ]
        );
        let seqs: Vec<u64> = events.iter().filter_map(|e| e["seq"].as_u64()).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        assert!(events.iter().all(|e| e["task_id"] == id));
        // The bypassed step was resolved at creation, by the initiator.
        assert_eq!(
            s.task(id).expect("read").expect("task").steps[1].status,
            State::ResolvedManually
        );
        // The same sequence number again is refused, and nothing of its batch is written.
        let again = Change::Event {
            task_id: id,
            seq: 4,
            name: "step.completed".into(),
            doc: json!({"name": "step.completed"}).to_string(),
        };
        let batch = [task_move(id, State::Pending, State::InProgress), again];
        assert!(s.commit(&batch).is_err(), "an event twice");
        assert_eq!(s.events(id, 0, 100).expect("events").len(), 4);
        assert_eq!(
            s.task(id).expect("read").expect("task").status,
            State::Pending
        );
        assert_eq!(s.last_event_seq(id).expect("seq"), 4);
    });
}

#[test]
fn prune_takes_a_task_with_everything_of_it() {
    each(|f| {
        let mut s = f.handle();
        let t = template();
        let done = create(&mut *s, &t, &[]);
        let kept = create(&mut *s, &t, &[]);
        s.commit(&[
            task_move(done, State::Pending, State::InProgress),
            task_move(done, State::InProgress, State::Complete),
        ])
        .expect("finish");
        let future = tasker::clock::now_ms() + 60_000;
        let counted = s.prune(future, &[State::Complete], true).expect("dry run");
        assert_eq!((counted.tasks, counted.steps), (1, 2));
        assert!(
            s.task(done).expect("read").is_some(),
            "a dry run removes nothing"
        );
        let pruned = s.prune(future, &[State::Complete], false).expect("prune");
        assert_eq!(pruned, counted);
        assert!(s.task(done).expect("read").is_none());
        assert!(s.events(done, 0, 10).expect("events").is_empty());
        assert!(s.transitions(done).expect("trail").is_empty());
        assert!(
            s.task(kept).expect("read").is_some(),
            "a pending task stays"
        );
    });
}

#[test]
fn a_store_of_a_newer_schema_is_refused() {
    if std::env::var_os("TASKER_TEST_STORE_URL").is_some() {
        crate::support::skip("the newer-schema check writes the schema version by hand");
        return;
    }
    each(|f| {
        drop(f.handle());
        match &f.location {
            Location::Sqlite(path) => {
                rusqlite::Connection::open(path)
                    .expect("open")
                    .pragma_update(None, "user_version", 9999)
                    .expect("bump");
            }
            Location::Postgres(url) => {
                let out = std::process::Command::new("psql")
                    .args([
                        &url.shown,
                        "-qc",
                        "INSERT INTO tasker_schema VALUES (9999, 0)",
                    ])
                    .output()
                    .expect("psql");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        match store::open(&f.location, false, Durability::Normal) {
            Err(StoreError::NewerSchema { found, .. }) => assert_eq!(found, 9999),
            Err(other) => panic!("a newer schema: {other}"),
            Ok(_) => panic!("a newer schema was opened"),
        }
    });
}
