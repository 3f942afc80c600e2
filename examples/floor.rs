//! The least a runner can spend on a step and keep tasker's promises, built the way tasker
//! is not: one thread, no runtime, every process supervised by one `epoll` loop. It answers
//! what a rewrite of tasker's driver around one thread would reach, before anyone writes it.
//!
//!     cargo build --release --example floor
//!     target/release/examples/floor LAYER PARALLEL STEPS
//!
//! It starts STEPS processes of `true`, PARALLEL at a time, each as tasker starts a step
//! (`posix_spawn` into a new process group, the signals reset, waited for through a pidfd),
//! and adds tasker's promises a layer at a time:
//!
//! - `spawn`: started and waited for, nothing else (the output inherited);
//! - `capture`: + the output of both streams read through two non-blocking pipes;
//! - `document`: + an input document written to `/dev/shm` for each step, its path in the
//!   step's environment, removed after;
//! - `store`: + tasker's store (its schema): a task of STEPS steps created, and for each
//!   step its start (the step's row, a transition, the attempt) committed before the process
//!   starts and its end (the step's row, a transition, the attempt's outcome and output)
//!   committed before its dependents could start; the starts and the ends of one turn of the
//!   loop share a commit, as tasker's group commit does.
//!
//! It prints the wall time and its own CPU a step (user + system of this process, not its
//! children), as `scripts/bench` reports tasker's.
#![allow(unsafe_code)] // A runner's system calls, made directly: this is what is measured.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Layer {
    Spawn,
    Capture,
    Document,
    Store,
}

struct Running {
    step: usize,
    pid: libc::pid_t,
    pidfd: OwnedFd,
    pipes: [Option<OwnedFd>; 2],
    output: [Vec<u8>; 2],
    ended: Option<i32>,
    document: Option<CString>,
    attempt_id: i64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: floor spawn|capture|document|store PARALLEL STEPS");
        std::process::exit(2)
    };
    let layer = match args.get(1).map(String::as_str) {
        Some("spawn") => Layer::Spawn,
        Some("capture") => Layer::Capture,
        Some("document") => Layer::Document,
        Some("store") => Layer::Store,
        _ => usage(),
    };
    let number = |i: usize| -> usize {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| usage())
    };
    let (parallel, steps) = (number(2), number(3));
    let scratch = tempfile::Builder::new()
        .prefix("floor-")
        .tempdir_in("/dev/shm")
        .expect("scratch directory");
    let store_dir = tempfile::tempdir().expect("store directory");
    let mut store =
        (layer == Layer::Store).then(|| Store::new(&store_dir.path().join("t.db"), steps));

    let program = CString::new("/bin/true").expect("path");
    let argv = [program.as_ptr(), std::ptr::null()];
    // The environment as tasker gives a step: the runner's own, and the step's variables.
    let base: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv).expect("environment")
        })
        .collect();

    let epoll = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) });
    let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
    let mut slots: Vec<Option<Running>> = (0..parallel).map(|_| None).collect();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 64];
    let (mut next, mut done) = (0usize, 0usize);
    let mut ended_now: Vec<Running> = Vec::new();

    let cpu = cpu_us();
    let wall = Instant::now();
    while done < steps {
        // Start what may start: its start committed first.
        let free: Vec<usize> = (0..parallel).filter(|&s| slots[s].is_none()).collect();
        let starting: Vec<(usize, usize)> = free.into_iter().zip(next..steps).collect();
        next += starting.len();
        let attempt_ids = match &mut store {
            Some(store) if !starting.is_empty() => {
                store.begin();
                let ids = starting
                    .iter()
                    .map(|&(_, step)| store.start(step))
                    .collect();
                store.commit();
                ids
            }
            _ => vec![0; starting.len()],
        };
        for (&(slot, step), attempt_id) in starting.iter().zip(attempt_ids) {
            let running = start(
                layer,
                step,
                slot,
                &epoll,
                scratch.path(),
                &base,
                &argv,
                attempt_id,
            );
            slots[slot] = Some(running);
        }
        // Wait for something to happen, and take all that did.
        let n = unsafe {
            libc::epoll_wait(
                epoll.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                -1,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "epoll_wait: {e}");
            continue;
        }
        for event in &events[..n as usize] {
            let (slot, what) = ((event.u64 >> 2) as usize, event.u64 & 3);
            let Some(running) = slots[slot].as_mut() else {
                continue;
            };
            if what == 2 {
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                cvt(unsafe {
                    libc::waitid(
                        libc::P_PIDFD,
                        running.pidfd.as_raw_fd() as libc::id_t,
                        &raw mut info,
                        libc::WEXITED,
                    )
                });
                running.ended = Some(unsafe { info.si_status() });
                unsafe {
                    libc::epoll_ctl(
                        epoll.as_raw_fd(),
                        libc::EPOLL_CTL_DEL,
                        running.pidfd.as_raw_fd(),
                        std::ptr::null_mut(),
                    )
                };
                // The process group goes with its leader, as tasker ends a step's.
                unsafe { libc::kill(-running.pid, libc::SIGKILL) };
            } else {
                let stream = what as usize;
                if drain(&running.pipes[stream], &mut running.output[stream]) {
                    running.pipes[stream] = None;
                }
            }
            if running.ended.is_some() && running.pipes.iter().all(Option::is_none) {
                ended_now.extend(slots[slot].take());
            }
        }
        // Their ends committed before anything that depends on them starts.
        if !ended_now.is_empty() {
            if let Some(store) = &mut store {
                store.begin();
                for r in &ended_now {
                    store.end(r);
                }
                store.commit();
            }
            for r in ended_now.drain(..) {
                assert_eq!(r.ended, Some(0), "step {} failed", r.step);
                if let Some(path) = &r.document {
                    unsafe { libc::unlink(path.as_ptr()) };
                }
                done += 1;
            }
        }
    }
    let wall = wall.elapsed().as_secs_f64();
    let cpu = cpu_us() - cpu;
    println!(
        "{:<9} -j {parallel:<3} {steps:>7} steps  wall {wall:.3} s  own CPU {:.1} µs a step",
        args[1],
        cpu / steps as f64
    );
}

#[expect(clippy::too_many_arguments)]
fn start(
    layer: Layer,
    step: usize,
    slot: usize,
    epoll: &OwnedFd,
    scratch: &std::path::Path,
    base: &[CString],
    argv: &[*const libc::c_char; 2],
    attempt_id: i64,
) -> Running {
    let mut env: Vec<CString> = Vec::new();
    let mut document = None;
    if layer >= Layer::Document {
        let path = scratch.join(format!("I-{step}.json"));
        let mut file = std::fs::File::create(&path).expect("input document");
        write!(
            file,
            r#"{{"task":{{"id":1,"context":{{}}}},"step":{{"name":"s{step}","attempt":1}},"dependencies":{{}}}}"#
        )
        .expect("write input document");
        drop(file);
        let path = CString::new(path.into_os_string().into_encoded_bytes()).expect("path");
        env.push(
            CString::new([b"TASKER_INPUT=".as_slice(), path.as_bytes()].concat()).expect("env"),
        );
        document = Some(path);
    }
    let mut envp: Vec<*const libc::c_char> = base.iter().chain(&env).map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());

    let mut pipes: [Option<OwnedFd>; 2] = [None, None];
    let mut ends: [Option<OwnedFd>; 2] = [None, None];
    if layer >= Layer::Capture {
        for k in 0..2 {
            let mut fds = [0; 2];
            cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) });
            let (read, write) =
                unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
            let on: libc::c_int = 1;
            cvt(unsafe { libc::ioctl(read.as_raw_fd(), libc::FIONBIO, &raw const on) });
            pipes[k] = Some(read);
            ends[k] = Some(write);
        }
    }

    let mut pid: libc::pid_t = 0;
    unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&raw mut actions);
        libc::posix_spawnattr_init(&raw mut attr);
        let null = c"/dev/null";
        libc::posix_spawn_file_actions_addopen(
            &raw mut actions,
            0,
            null.as_ptr(),
            libc::O_RDONLY,
            0,
        );
        for (k, end) in ends.iter().enumerate() {
            if let Some(end) = end {
                libc::posix_spawn_file_actions_adddup2(
                    &raw mut actions,
                    end.as_raw_fd(),
                    1 + k as i32,
                );
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut none);
        libc::posix_spawnattr_setsigmask(&raw mut attr, &raw const none);
        let mut defaults: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut defaults);
        libc::sigaddset(&raw mut defaults, libc::SIGPIPE);
        libc::posix_spawnattr_setsigdefault(&raw mut attr, &raw const defaults);
        libc::posix_spawnattr_setpgroup(&raw mut attr, 0);
        let flags = libc::POSIX_SPAWN_SETPGROUP
            | libc::POSIX_SPAWN_SETSIGMASK
            | libc::POSIX_SPAWN_SETSIGDEF;
        libc::posix_spawnattr_setflags(&raw mut attr, flags as i16);
        let rc = libc::posix_spawn(
            &raw mut pid,
            argv[0],
            &raw const actions,
            &raw const attr,
            argv.as_ptr().cast_mut().cast(),
            envp.as_ptr().cast_mut().cast(),
        );
        libc::posix_spawn_file_actions_destroy(&raw mut actions);
        libc::posix_spawnattr_destroy(&raw mut attr);
        assert_eq!(
            rc,
            0,
            "posix_spawn: {}",
            std::io::Error::from_raw_os_error(rc)
        );
    }
    drop(ends);
    let pidfd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) as i32 });
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    let watch = |fd: RawFd, what: u64| {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: (slot as u64) << 2 | what,
        };
        cvt(unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &raw mut event) });
    };
    for (k, pipe) in pipes.iter().enumerate() {
        if let Some(pipe) = pipe {
            watch(pipe.as_raw_fd(), k as u64);
        }
    }
    watch(pidfd.as_raw_fd(), 2);
    Running {
        step,
        pid,
        pidfd,
        pipes,
        output: [Vec::new(), Vec::new()],
        ended: None,
        document,
        attempt_id,
    }
}

/// Read what a pipe holds; true at its end (closing it removes it from the epoll set).
fn drain(pipe: &Option<OwnedFd>, into: &mut Vec<u8>) -> bool {
    let Some(pipe) = pipe else { return true };
    let mut buf = [0u8; 4096];
    loop {
        let n = unsafe { libc::read(pipe.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            0 => return true,
            n if n > 0 => into.extend_from_slice(&buf[..n as usize]),
            _ => return false,
        }
    }
}

fn cvt(rc: i32) -> i32 {
    assert!(rc >= 0, "{}", std::io::Error::last_os_error());
    rc
}

/// This process's CPU so far, user and system, in µs.
fn cpu_us() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// Tasker's schema, written as tasker writes it: a step's start and end, each a transition
/// (the latest flagged), the step's row, and the attempt.
struct Store {
    conn: rusqlite::Connection,
    first_step: i64,
}

impl Store {
    fn new(path: &std::path::Path, steps: usize) -> Store {
        let conn = rusqlite::Connection::open(path).expect("store");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .expect("pragmas");
        conn.execute_batch(include_str!("../schema.sql"))
            .expect("schema");
        conn.execute_batch(
            "BEGIN;
             INSERT INTO task_namespaces (name, created_at) VALUES ('default', 0);
             INSERT INTO named_tasks (task_namespace_id, name, version, content_hash, template, created_at)
                 VALUES (1, 'floor', '0.1.0', 'h', '', 0);
             INSERT INTO tasks (uuid, named_task_id, identity, workdir, status, created_at, updated_at)
                 VALUES ('u', 1, 'default/floor@0.1.0', '.', 'in_progress', 0, 0);",
        )
        .expect("task");
        for i in 0..steps {
            conn.execute(
                "INSERT INTO named_steps (name, created_at) VALUES (?1, 0)",
                [format!("s{i}")],
            )
            .expect("named step");
            conn.execute(
                "INSERT INTO workflow_steps (task_id, named_step_id, name, position, retry_limit, retryable, created_at, updated_at)
                 VALUES (1, ?1, ?2, ?1 - 1, 3, 1, 0, 0)",
                rusqlite::params![i as i64 + 1, format!("s{i}")],
            )
            .expect("step");
        }
        conn.execute_batch("COMMIT").expect("commit");
        Store {
            conn,
            first_step: 1,
        }
    }

    fn begin(&mut self) {
        self.conn
            .prepare_cached("BEGIN IMMEDIATE")
            .expect("begin")
            .execute([])
            .expect("begin");
    }

    fn commit(&mut self) {
        self.conn
            .prepare_cached("COMMIT")
            .expect("commit")
            .execute([])
            .expect("commit");
    }

    fn transition(&self, step_id: i64, from: &str, to: &str, sort_key: i64, now: i64) {
        self.conn
            .prepare_cached(
                "UPDATE workflow_step_transitions SET most_recent = 0
                 WHERE workflow_step_id = ?1 AND most_recent = 1",
            )
            .expect("sql")
            .execute([step_id])
            .expect("most recent");
        self.conn
            .prepare_cached(
                "INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, sort_key,
                     most_recent, metadata, created_at, event_seq, event_at, event_attempt, event_ms)
                 VALUES (?1, ?2, ?3, ?4, 1, '{}', ?5, ?4, ?5, 1, 0)",
            )
            .expect("sql")
            .execute(rusqlite::params![step_id, from, to, sort_key, now])
            .expect("transition");
    }

    /// The step's start; the attempt's id.
    fn start(&mut self, step: usize) -> i64 {
        let step_id = self.first_step + step as i64;
        let now = now_ms();
        self.conn
            .prepare_cached(
                "UPDATE workflow_steps SET status = 'in_progress', attempts = attempts + 1,
                     counted_attempts = counted_attempts + 1, started_at = ?2, updated_at = ?2
                 WHERE workflow_step_id = ?1",
            )
            .expect("sql")
            .execute(rusqlite::params![step_id, now])
            .expect("step");
        self.transition(step_id, "pending", "in_progress", 1, now);
        self.conn
            .prepare_cached(
                "INSERT INTO step_attempts (workflow_step_id, attempt, started_at, handle_seq, handle_at, handler)
                 VALUES (?1, 1, ?2, ?3, ?2, 'shell')",
            )
            .expect("sql")
            .execute(rusqlite::params![step_id, now, step as i64])
            .expect("attempt");
        self.conn.last_insert_rowid()
    }

    fn end(&mut self, r: &Running) {
        let step_id = self.first_step + r.step as i64;
        let now = now_ms();
        self.conn
            .prepare_cached(
                "UPDATE step_attempts SET finished_at = ?2, pid = ?3, outcome = 'success', exit_code = 0,
                     stdout = ?4, stderr = ?5
                 WHERE step_attempt_id = ?1",
            )
            .expect("sql")
            .execute(rusqlite::params![r.attempt_id, now, r.pid, r.output[0], r.output[1]])
            .expect("attempt");
        self.transition(step_id, "in_progress", "complete", 2, now);
        self.conn
            .prepare_cached(
                "UPDATE workflow_steps SET status = 'complete', results = 'null', finished_at = ?2,
                     updated_at = ?2
                 WHERE workflow_step_id = ?1",
            )
            .expect("sql")
            .execute(rusqlite::params![step_id, now])
            .expect("step");
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
