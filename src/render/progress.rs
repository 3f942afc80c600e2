//! Plain progress lines on stderr, one per noteworthy event.

use std::io::Write;
use std::time::Duration;

use super::color::paint;
use crate::events::{Event, Subscriber, What};
use crate::model::{FailureClass, State};
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
    let (step, attempt) = e.step().unwrap_or(("", 0));
    let ms = |ms: u64| human(Duration::from_millis(ms));
    Some(match &e.what {
        What::StepExecutionRequested { .. } if verbose => {
            format!("start  {step} (attempt {attempt})")
        }
        What::StepCompleted { duration_ms, .. } if verbose => format!(
            "{}  {step} in {}",
            paint(color, State::Complete, "done "),
            ms(*duration_ms)
        ),
        // Stopped by Ctrl-C or SIGTERM: no failure, and `resume` takes it up again.
        What::StepFailed {
            error_class: FailureClass::Interrupted,
            ..
        } => {
            format!("stop   {step} attempt {attempt}: interrupted; not counted")
        }
        What::StepFailed {
            error_class,
            error_message,
            ..
        } => format!(
            "{}  {step} attempt {attempt}: {error_class}: {}",
            paint(color, State::Error, "fail "),
            crate::text::printable(error_message)
        ),
        What::StepBackoff { delay_ms, .. } => format!("retry  {step} in {}", ms(*delay_ms)),
        What::StepMaxRetriesReached { .. } => format!(
            "gave up  {step} after {}",
            crate::render::count(attempt as usize, "attempt")
        ),
        What::StepCancelled { .. } => {
            format!("{}  {step}", paint(color, State::Cancelled, "cancelled"))
        }
        What::Custom { name, .. } if verbose => format!("event  {name} from {step}"),
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
