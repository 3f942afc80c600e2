//! The bare cost of running a workload's processes: the same graph at the same
//! parallelism, with nothing else — no store, no capture, no retries. `scripts/bench`
//! compares tasker with it.
//!
//!     scripts/gen-workload chain 300 --format plain > chain.txt
//!     cargo build --release --example spawner
//!     target/release/examples/spawner 4 < chain.txt
//!
//! Input: one step a line, `name<TAB>dep,dep<TAB>command`, dependencies first. A command is
//! split on whitespace and exec'd directly, as tasker runs a command with no shell syntax.

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;

fn main() {
    let parallel: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            eprintln!("usage: spawner PARALLEL < workload.txt");
            std::process::exit(2)
        });
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .expect("read stdin");
    let mut index = HashMap::new();
    let mut commands = Vec::new();
    let mut waiting = Vec::new();
    let mut children: Vec<Vec<usize>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut parts = line.splitn(3, '\t');
        let (name, deps, command) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("true"),
        );
        index.insert(name.to_owned(), i);
        children.push(Vec::new());
        let deps: Vec<usize> = deps
            .split(',')
            .filter(|d| !d.is_empty())
            .map(|d| index[d])
            .collect();
        for &d in &deps {
            children[d].push(i);
        }
        waiting.push(deps.len());
        commands.push(
            command
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        );
    }
    let (job_tx, job_rx) = mpsc::channel::<usize>();
    let job_rx = std::sync::Arc::new(std::sync::Mutex::new(job_rx));
    let (done_tx, done_rx) = mpsc::channel::<(usize, bool)>();
    let commands = std::sync::Arc::new(commands);
    for _ in 0..parallel {
        let (jobs, done, commands) = (job_rx.clone(), done_tx.clone(), commands.clone());
        std::thread::spawn(move || {
            loop {
                let Ok(i) = jobs.lock().expect("lock").recv() else {
                    return;
                };
                let argv = &commands[i];
                let ok = Command::new(&argv[0])
                    .args(&argv[1..])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if done.send((i, ok)).is_err() {
                    return;
                }
            }
        });
    }
    let total = commands.len();
    for (i, &w) in waiting.iter().enumerate() {
        if w == 0 {
            job_tx.send(i).expect("send");
        }
    }
    let mut failed = 0;
    for _ in 0..total {
        let (i, ok) = done_rx.recv().expect("a worker");
        if !ok {
            failed += 1;
        }
        for &c in &children[i] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                job_tx.send(c).expect("send");
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {total} commands failed");
        std::process::exit(1);
    }
}
