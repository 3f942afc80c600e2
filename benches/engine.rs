//! Micro-benchmarks of tasker's own cost (divan): reading and checking templates, the
//! graph, creating a task's rows, the scheduler with noop steps on a real SQLite store, and
//! one transition write.
//!
//!     cargo bench --bench engine
//!     cargo bench --bench engine -- scheduler      # one group

use std::fmt::Write;

use tasker::engine::{Halt, Options};
use tasker::events::Ignore;
use tasker::model::{Actor, State};
use tasker::store::{Change, NewTask, SqliteStore, StepState, Store};
use tasker::templates::{self, Template};

/// The binary's allocator, tuned as the binary tunes it: what is measured is what runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    tasker::tune_allocator();
    divan::main();
}

/// A template of `n` steps: `wide` (independent), `chain` (each after the one before) or
/// `layered` (levels of 100, each step after two of the level before).
fn template_text(shape: &str, n: usize, action: &str) -> String {
    let mut out = format!("name: {shape}_{n}\nsteps:\n");
    for i in 0..n {
        let _ = write!(out, "  - name: s{i}\n    {action}\n");
        let deps = match shape {
            "chain" if i > 0 => vec![i - 1],
            "layered" if i >= 100 => {
                let (level, pos) = (i / 100, i % 100);
                let base = (level - 1) * 100;
                vec![base + pos, base + (pos + 1) % 100]
            }
            _ => vec![],
        };
        if !deps.is_empty() {
            let names: Vec<String> = deps.iter().map(|d| format!("s{d}")).collect();
            let _ = writeln!(out, "    depends_on: [{}]", names.join(", "));
        }
    }
    out
}

fn load(text: &str) -> Template {
    templates::from_str(text, "bench.yml").expect("a valid template")
}

#[divan::bench(args = [100, 1_000, 10_000])]
fn parse_and_validate(bencher: divan::Bencher, n: usize) {
    let text = template_text("layered", n, "command: 'true'");
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .bench(|| load(divan::black_box(&text)));
}

#[divan::bench(args = [1_000, 10_000, 100_000])]
fn graph_build_and_analysis(bencher: divan::Bencher, n: usize) {
    let template = load(&template_text("layered", n, "noop: true"));
    let names: Vec<&str> = template.steps.iter().map(|s| s.name.as_str()).collect();
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .bench(|| {
            let dag = divan::black_box(&template).dag();
            (dag.summary(&names), dag.levels().len())
        });
}

fn create(store: &mut SqliteStore, template: &Template, text: &str) -> i64 {
    store
        .create_task(&NewTask {
            template,
            source: text,
            content_hash: "bench",
            workdir: "/tmp",
            context: &serde_json::json!({}),
            initiator: None,
            source_system: None,
            reason: None,
            tags: &[],
            environment: None,
            idempotency_key: None,
            bypass: &[],
        })
        .expect("create")
        .task_id()
}

/// Creating a task's rows on a fresh store, as a run does before its first step: the one
/// transaction and the checkpoint its commit sets off. `layered` of 100,000 steps has
/// 199,800 edges. Closing the store is timed apart (`close_after_create`).
#[divan::bench(args = [10_000, 100_000], sample_count = 3, sample_size = 1)]
fn create_task(bencher: divan::Bencher, n: usize) {
    let text = template_text("layered", n, "noop: true");
    let template = load(&text);
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .with_inputs(fresh_store)
        .bench_local_values(|(dir, mut store)| {
            create(&mut store, &template, &text);
            (dir, store)
        });
}

/// Closing a store just after a task of `n` steps was created in it: what is left of the
/// WAL is copied into the database file and synced, and the WAL removed.
#[divan::bench(args = [10_000, 100_000], sample_count = 3, sample_size = 1)]
fn close_after_create(bencher: divan::Bencher, n: usize) {
    let text = template_text("layered", n, "noop: true");
    let template = load(&text);
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .with_inputs(|| {
            let (dir, mut store) = fresh_store();
            create(&mut store, &template, &text);
            (dir, store)
        })
        .bench_local_values(|(dir, store)| {
            drop(store);
            dir
        });
}

fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"), false).expect("store");
    (dir, store)
}

mod scheduler {
    use super::*;

    /// Create a task of `n` noop steps and run it to its end on a fresh store: everything
    /// but processes — transitions committed, events, readiness — on a runtime of one
    /// thread, as `tasker run` drives it.
    fn run_noop(bencher: divan::Bencher, shape: &str, n: usize) {
        let text = template_text(shape, n, "noop: true");
        let template = std::sync::Arc::new(load(&text));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        bencher
            .counter(divan::counter::ItemsCount::new(n))
            .with_inputs(|| {
                let (dir, mut store) = fresh_store();
                let id = create(&mut store, &template, &text);
                (dir, store, id)
            })
            .bench_local_values(|(dir, mut store, id)| {
                let (_tx, halt) = tokio::sync::watch::channel(Halt::None);
                let options = Options {
                    concurrency: Some(4),
                    ..Options::default()
                };
                let finish = tasker::engine::run(
                    &runtime,
                    &mut store,
                    id,
                    None,
                    &template,
                    &options,
                    &mut Ignore,
                    halt,
                )
                .expect("run");
                assert_eq!(finish.state, State::Complete);
                drop(dir);
            });
    }

    #[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 3, sample_size = 1)]
    fn wide(bencher: divan::Bencher, n: usize) {
        run_noop(bencher, "wide", n);
    }

    #[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 3, sample_size = 1)]
    fn chain(bencher: divan::Bencher, n: usize) {
        run_noop(bencher, "chain", n);
    }

    #[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 3, sample_size = 1)]
    fn layered(bencher: divan::Bencher, n: usize) {
        run_noop(bencher, "layered", n);
    }
}

/// One step transition committed (with its audit row), cycling pending → in_progress →
/// error → pending.
#[divan::bench(sample_count = 200)]
fn one_transition_write(bencher: divan::Bencher) {
    let text = template_text("wide", 1, "noop: true");
    let template = load(&text);
    let (_dir, mut store) = fresh_store();
    let id = create(&mut store, &template, &text);
    let step_id = store.task(id).expect("read").expect("task").steps[0].step_id;
    let cycle = [State::Pending, State::InProgress, State::Error];
    let mut at = 0;
    bencher.bench_local(|| {
        let (from, to) = (cycle[at % 3], cycle[(at + 1) % 3]);
        at += 1;
        store
            .commit(&[Change::Step {
                step_id,
                from,
                to,
                actor: Actor::Engine,
                metadata: serde_json::json!({"actor": "tasker"}).into(),
                state: StepState::default(),
                restates: None,
            }])
            .expect("commit");
    });
}
