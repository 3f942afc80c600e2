//! Command steps: run the program, apply the exit-code rules, read `TASKER_OUTPUT`.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use serde_json::{Value as Json, json};

use super::process::{self, Exit, Finished};
use super::{BoxFuture, Failure, Handler, Outcome, Request};
use crate::model::FailureClass;
use crate::templates::duration::human;
use crate::templates::{Action, Program, Retry};

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
    let Action::Command(program) = &req.action else {
        return Outcome::failed(Failure::permanent(
            FailureClass::Spawn,
            "not a command step",
        ));
    };
    // Nothing is removed first: `TASKER_OUTPUT` names this attempt alone (its step and
    // attempt number, in a directory made new for this runner), so no file is there before
    // the attempt's process writes one.
    let finished = match spawn(&req, program, None).await {
        Ok(f) => f,
        Err(outcome) => return *outcome,
    };
    let (mut outcome, status) = match settle(&req, finished) {
        Ok(pair) => pair,
        Err(outcome) => return *outcome,
    };
    if let Some(failure) = exit_failure(status, &req.retry, &outcome.stderr.bytes) {
        outcome.failure = Some(failure);
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
        Err(failure) => outcome.failure = Some(failure),
    }
    outcome
}

/// Start `program` for `req` (with `stdin` for plugins) and supervise it to its end.
pub(super) async fn spawn(
    req: &Request,
    program: &Program,
    stdin: Option<std::sync::Arc<Vec<u8>>>,
) -> Result<Finished, Box<Outcome>> {
    let prepare = |mut command: process::Spec| {
        command
            .current_dir(&req.cwd)
            .envs(req.env.iter().map(|(k, v)| (k, v)))
            // As a shell would: `PWD` names the directory the step runs in.
            .env("PWD", &req.cwd);
        command
    };
    // The child's `PATH`: the step's own, else this process's.
    let path = match req.env.iter().rev().find(|(k, _)| k == "PATH") {
        Some((_, v)) => Some(std::ffi::OsString::from(v)),
        None => std::env::var_os("PATH"),
    };
    let (command, direct) = process::command_for(program, path.as_deref());
    let result = match (
        process::run(prepare(command), stdin.clone(), req.supervise()).await,
        program,
    ) {
        // A program that could not be started directly is given to `sh`, so that what the
        // step sees (exit 126 or 127, the shell's message) is what `sh -c` would have given.
        (Err(_), Program::Shell(line)) if direct => {
            process::run(prepare(process::shell(line, None)), stdin, req.supervise()).await
        }
        // Whatever was found on `PATH` earlier, exec's own search has the last word.
        (Err(_), _) => {
            let (command, _) = process::command_for(program, None);
            process::run(prepare(command), stdin, req.supervise()).await
        }
        (ok, _) => ok,
    };
    result.map_err(|e| {
        let message = if !req.cwd.is_dir() {
            format!(
                "cannot start: working directory `{}` does not exist",
                req.cwd.display()
            )
        } else {
            match program {
                Program::Argv(argv) => format!("cannot start `{}`: {e}", argv[0]),
                Program::Shell(_) => format!("cannot start `sh`: {e}"),
            }
        };
        Box::new(Outcome::failed(Failure::permanent(
            FailureClass::Spawn,
            message,
        )))
    })
}

/// The outcome so far and the exit status, or the finished outcome of a process that was
/// stopped (timeout, interruption).
pub(super) fn settle(
    req: &Request,
    finished: Finished,
) -> Result<(Outcome, ExitStatus), Box<Outcome>> {
    let mut outcome = Outcome {
        stdout: finished.stdout,
        stderr: finished.stderr,
        ..Outcome::default()
    };
    match finished.exit {
        Exit::Status(status) => {
            outcome.exit_code = status.code();
            outcome.signal = status.signal();
            Ok((outcome, status))
        }
        Exit::TimedOut => {
            let after = req.timeout.map(human).unwrap_or_default();
            outcome.failure = Some(Failure::retryable(
                FailureClass::Timeout,
                format!("timed out after {after}"),
            ));
            Err(Box::new(outcome))
        }
        Exit::Aborted => {
            outcome.failure = Some(Failure::retryable(
                FailureClass::Interrupted,
                "stopped: the run was interrupted",
            ));
            Err(Box::new(outcome))
        }
    }
}

/// The failure an exit status means under `retry`'s exit-code rules; `None` for success.
pub(super) fn exit_failure(status: ExitStatus, retry: &Retry, stderr: &[u8]) -> Option<Failure> {
    if let Some(code) = status.code().filter(|c| *c != 0) {
        let permanent = retry.permanent_exit_codes.contains(&code)
            || retry
                .retry_on_exit_codes
                .as_ref()
                .is_some_and(|codes| !codes.contains(&code));
        let mut message = format!("exited with code {code}");
        match code {
            127 => message.push_str(" (command not found)"),
            126 => message.push_str(" (not executable)"),
            _ => {}
        }
        if let Some(line) = last_line(stderr) {
            message.push_str(": ");
            message.push_str(&line);
        }
        let mut f = Failure::retryable(FailureClass::ExitCode, message);
        f.permanent = permanent;
        return Some(f);
    }
    status.signal().map(|sig| {
        Failure::retryable(
            FailureClass::Signal,
            format!("killed by signal {sig} ({})", signal_name(sig)),
        )
    })
}

/// The JSON the step wrote to `TASKER_OUTPUT`, if it wrote anything.
fn read_output(req: &Request) -> Result<Option<Json>, Failure> {
    use crate::limits::{self, Bounded};
    let bytes = match limits::read(&req.output_path, limits::RESULT) {
        Ok(Bounded::All(bytes)) => bytes,
        Ok(Bounded::TooBig(_)) => {
            let _ = std::fs::remove_file(&req.output_path);
            return Err(too_large("TASKER_OUTPUT"));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure::permanent(
                FailureClass::Output,
                format!("cannot read TASKER_OUTPUT: {e}"),
            ));
        }
    };
    let _ = std::fs::remove_file(&req.output_path);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Failure::permanent(
            FailureClass::Output,
            format!("TASKER_OUTPUT is not valid JSON: {e}"),
        )
    })
}

/// A result bigger than a result may be: a permanent failure of class `result_too_large`.
pub(super) fn too_large(what: &str) -> Failure {
    Failure::permanent(
        FailureClass::ResultTooLarge,
        format!(
            "{what} holds more than {}, the most a step's result may be; write big data to a file and return its path",
            crate::limits::size(crate::limits::RESULT)
        ),
    )
}

/// The last non-blank line of some output, shortened.
pub(super) fn last_line(bytes: &[u8]) -> Option<String> {
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
