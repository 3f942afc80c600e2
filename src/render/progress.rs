//! Plain progress lines on stderr, one per noteworthy event.

use std::io::Write;
use std::time::Duration;

use super::color::paint;
use crate::events::{Event, Kind, Subscriber};
use crate::model::State;
use crate::templates::duration::human;

/// How much the run prints while it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Prints failures and retries (and, when verbose, every start and completion) to stderr,
/// each line stamped with the time.
#[derive(Debug)]
pub struct Lines {
    pub verbosity: Verbosity,
    pub color: bool,
}

/// The text of an event's line, if it deserves one at this verbosity.
pub fn line(e: &Event, verbose: bool, color: bool) -> Option<String> {
    let step = e.str("step_name").unwrap_or("");
    let attempt = e.u64("attempt").unwrap_or(0);
    let ms = |key| human(Duration::from_millis(e.u64(key).unwrap_or(0)));
    Some(match e.kind() {
        Some(Kind::StepExecutionRequested) if verbose => {
            format!("start  {step} (attempt {attempt})")
        }
        Some(Kind::StepCompleted) if verbose => format!(
            "{}  {step} in {}",
            paint(color, State::Complete, "done "),
            ms("duration_ms")
        ),
        // Stopped by Ctrl-C or SIGTERM: no failure, and `resume` takes it up again.
        Some(Kind::StepFailed) if e.str("error_class") == Some("interrupted") => {
            format!("stop   {step} attempt {attempt}: interrupted; not counted")
        }
        Some(Kind::StepFailed) => format!(
            "{}  {step} attempt {attempt}: {}: {}",
            paint(color, State::Error, "fail "),
            e.str("error_class").unwrap_or("error"),
            crate::text::printable(e.str("error_message").unwrap_or(""))
        ),
        Some(Kind::StepBackoff) => format!("retry  {step} in {}", ms("delay_ms")),
        Some(Kind::StepMaxRetriesReached) => format!(
            "gave up  {step} after {}",
            crate::render::count(attempt as usize, "attempt")
        ),
        Some(Kind::StepCancelled) => {
            format!("{}  {step}", paint(color, State::Cancelled, "cancelled"))
        }
        None if verbose => format!("event  {} from {step}", e.name()),
        _ => return None,
    })
}

impl Subscriber for Lines {
    fn on_event(&mut self, e: &Event) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        if let Some(text) = line(e, self.verbosity == Verbosity::Verbose, self.color) {
            let at = chrono::Local::now().format("%H:%M:%S%.3f");
            let _ = writeln!(std::io::stderr().lock(), "{at}  {text}");
        }
    }

    fn stopping(&mut self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            let at = chrono::Local::now().format("%H:%M:%S%.3f");
            let _ = writeln!(std::io::stderr().lock(), "{at}  {message}");
        }
    }

    fn warning(&mut self, _task_id: i64, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            let _ = writeln!(
                std::io::stderr().lock(),
                "warning: {}",
                crate::text::printable(message)
            );
        }
    }
}
