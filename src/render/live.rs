//! The live progress display on a terminal: a bar of finished steps with the running ones,
//! the retries so far and the elapsed time; failures and retries printed above it.

use std::collections::BTreeSet;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::progress;
use crate::events::{Event, Subscriber, What};

/// A progress bar on stderr.
#[derive(Debug)]
pub struct Live {
    bar: ProgressBar,
    running: BTreeSet<String>,
    retries: u64,
    verbose: bool,
    color: bool,
    /// The bar is gone (the run is stopping): lines go straight to stderr.
    stopped: bool,
}

impl Live {
    pub fn new(total: usize, done: usize, verbose: bool, color: bool) -> Live {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_position(done as u64);
        bar.enable_steady_tick(Duration::from_millis(100));
        Live {
            bar,
            running: BTreeSet::new(),
            retries: 0,
            verbose,
            color,
            stopped: false,
        }
    }

    /// A line above the bar, or on its own once the bar is gone.
    fn say(&self, line: String) {
        if self.stopped {
            use std::io::Write as _;
            let at = chrono::Local::now().format("%H:%M:%S%.3f");
            let _ = writeln!(std::io::stderr().lock(), "{at}  {line}");
        } else {
            let at = chrono::Local::now().format("%H:%M:%S%.3f");
            self.bar.println(format!("{at}  {line}"));
        }
    }

    fn refresh(&self) {
        let mut msg = String::new();
        if !self.running.is_empty() {
            let names: Vec<&str> = self.running.iter().take(4).map(String::as_str).collect();
            msg.push_str(&format!("running: {}", names.join(", ")));
            if self.running.len() > 4 {
                msg.push_str(&format!(" +{}", self.running.len() - 4));
            }
        }
        if self.retries > 0 {
            msg.push_str(&format!("  retries: {}", self.retries));
        }
        self.bar.set_message(msg);
    }

    /// Remove the bar before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Subscriber for Live {
    fn on_event(&mut self, e: &Event) {
        match &e.what {
            What::StepExecutionRequested { step_name, .. } => {
                self.running.insert(step_name.clone());
            }
            What::StepCompleted { step_name, .. } => {
                self.running.remove(step_name);
                self.bar.inc(1);
            }
            What::StepFailed {
                step_name,
                retryable,
                ..
            } => {
                self.running.remove(step_name);
                if !retryable {
                    self.bar.inc(1);
                }
            }
            What::StepCancelled { step_name, .. }
            | What::StepResolvedManually { step_name, .. } => {
                self.running.remove(step_name);
                self.bar.inc(1);
            }
            // Counted with the `retry` line it goes with, not when the backoff ends.
            What::StepBackoff { .. } => self.retries += 1,
            _ => {}
        }
        if let Some(line) = progress::line(e, self.verbose, self.color) {
            self.say(line);
        }
        if !self.stopped {
            self.refresh();
        }
    }

    fn warning(&mut self, _task_id: i64, message: &str) {
        let line = format!("warning: {}", crate::text::printable(message));
        if self.stopped {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn stopping(&mut self, message: &str) {
        // The bar would freeze above what the stop prints: it goes now.
        self.bar.finish_and_clear();
        self.stopped = true;
        self.say(message.to_owned());
    }
}
