//! Plain progress lines on stderr, one per noteworthy event.

use std::io::Write;
use std::time::Duration;

use super::color::paint;
use crate::engine::state::State;
use crate::events::{Event, Kind, Subscriber};
use crate::templates::duration::human;

/// How much the run prints while it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Prints failures and retries (and, when verbose, every start and completion) to stderr.
#[derive(Debug)]
pub struct Lines {
    pub verbosity: Verbosity,
    pub color: bool,
}

impl Subscriber for Lines {
    fn on_event(&mut self, e: &Event) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let step = e.step_name.as_deref().unwrap_or("");
        let attempt = e.attempt.unwrap_or(0);
        let verbose = self.verbosity == Verbosity::Verbose;
        let line = match e.name {
            Kind::StepExecutionRequested if verbose => {
                format!("  start  {step} (attempt {attempt})")
            }
            Kind::StepCompleted if verbose => format!(
                "  {}  {step} in {}",
                paint(self.color, State::Complete, "done "),
                human(Duration::from_millis(e.duration_ms.unwrap_or(0)))
            ),
            Kind::StepFailed => {
                let (class, message) = e
                    .error
                    .as_ref()
                    .map(|x| (x.class.as_str(), x.message.as_str()))
                    .unwrap_or(("error", ""));
                format!(
                    "  {}  {step} attempt {attempt}: {class}: {message}",
                    paint(self.color, State::Error, "fail ")
                )
            }
            Kind::StepBackoff => format!(
                "  retry  {step} in {}",
                human(Duration::from_millis(e.delay_ms.unwrap_or(0)))
            ),
            Kind::StepMaxRetriesReached => format!("  gave up  {step} after {attempt} attempts"),
            _ => return,
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    fn warning(&mut self, _task_id: i64, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
        }
    }
}
