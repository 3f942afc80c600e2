//! Shell and argv steps: run the command, apply the exit-code rules, read `TASKER_OUTPUT`.

use std::os::unix::process::ExitStatusExt;

use serde_json::{Value as Json, json};
use tokio::process::Command;

use super::process::{self, Exit};
use super::{BoxFuture, Failure, Handler, Outcome, Request};
use crate::templates::Action;
use crate::templates::duration::human;

/// Runs `command:` steps, as `sh -c` (string) or argv (list).
#[derive(Debug)]
pub struct Shell;

/// How much of stdout goes into the default result.
const STDOUT_TAIL: usize = 4096;

impl Handler for Shell {
    fn execute(&self, req: Request) -> BoxFuture<Outcome> {
        Box::pin(run(req))
    }
}

async fn run(req: Request) -> Outcome {
    let mut command = match &req.action {
        Action::Shell(line) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(line);
            c
        }
        Action::Argv(argv) => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
        Action::Noop => return Outcome::default(),
    };
    command
        .current_dir(&req.cwd)
        .envs(req.env.iter().map(|(k, v)| (k, v)));
    let _ = std::fs::remove_file(&req.output_path);

    let finished = match process::run(
        command,
        req.output_limit,
        req.timeout,
        req.kill_grace,
        req.abort.clone(),
    )
    .await
    {
        Ok(f) => f,
        Err(e) => {
            let message = if !req.cwd.is_dir() {
                format!(
                    "cannot start: working directory `{}` does not exist",
                    req.cwd.display()
                )
            } else {
                match &req.action {
                    Action::Argv(argv) => format!("cannot start `{}`: {e}", argv[0]),
                    _ => format!("cannot start `sh`: {e}"),
                }
            };
            return Outcome {
                failure: Some(Failure {
                    class: "spawn",
                    message,
                    permanent: true,
                    retry_after: None,
                }),
                ..Outcome::default()
            };
        }
    };

    let mut outcome = Outcome {
        stdout: finished.stdout,
        stderr: finished.stderr,
        ..Outcome::default()
    };
    let status = match finished.exit {
        Exit::Status(status) => status,
        Exit::TimedOut => {
            let after = req.timeout.map(human).unwrap_or_default();
            outcome.failure = Some(Failure {
                class: "timeout",
                message: format!("timed out after {after}"),
                permanent: false,
                retry_after: None,
            });
            return outcome;
        }
        Exit::Aborted => {
            outcome.failure = Some(Failure {
                class: "interrupted",
                message: "stopped: the run was interrupted".into(),
                permanent: false,
                retry_after: None,
            });
            return outcome;
        }
    };
    outcome.exit_code = status.code();
    outcome.signal = status.signal();

    if let Some(code) = status.code().filter(|c| *c != 0) {
        let permanent = req.retry.permanent_exit_codes.contains(&code)
            || req
                .retry
                .retry_on_exit_codes
                .as_ref()
                .is_some_and(|codes| !codes.contains(&code));
        let mut message = format!("exited with code {code}");
        match code {
            127 => message.push_str(" (command not found)"),
            126 => message.push_str(" (not executable)"),
            _ => {}
        }
        if let Some(line) = last_line(&outcome.stderr.bytes) {
            message.push_str(": ");
            message.push_str(&line);
        }
        outcome.failure = Some(Failure {
            class: "exit_code",
            message,
            permanent,
            retry_after: None,
        });
        return outcome;
    }
    if let Some(sig) = status.signal() {
        outcome.failure = Some(Failure {
            class: "signal",
            message: format!("killed by signal {sig} ({})", signal_name(sig)),
            permanent: false,
            retry_after: None,
        });
        return outcome;
    }

    match read_output(&req) {
        Ok(Some(result)) => outcome.result = Some(result),
        Ok(None) => {
            outcome.result = Some(json!({
                "exit_code": 0,
                "stdout_tail": outcome.stdout.tail_text(STDOUT_TAIL),
            }));
        }
        Err(message) => {
            outcome.failure = Some(Failure {
                class: "output",
                message,
                permanent: true,
                retry_after: None,
            });
        }
    }
    outcome
}

/// The JSON the step wrote to `TASKER_OUTPUT`, if it wrote anything.
fn read_output(req: &Request) -> Result<Option<Json>, String> {
    let text = match std::fs::read_to_string(&req.output_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read TASKER_OUTPUT: {e}")),
    };
    let _ = std::fs::remove_file(&req.output_path);
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("TASKER_OUTPUT is not valid JSON: {e}"))
}

fn last_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?.trim();
    let mut short: String = line.chars().take(200).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    Some(short)
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}
