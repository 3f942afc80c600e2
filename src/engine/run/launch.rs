//! Launching an attempt's process: what it is given (resolved references, its
//! environment, its input document on disk), and reading back what it wrote when it ends.

use std::sync::Arc;

use tokio::sync::watch;

use super::{Done, RECORD_PROCESS_WITHIN, Run};
use crate::handlers::{self, Outcome};
use crate::templates::Action;

impl Run<'_> {
    /// Run the process (or request) of step `i`, which the scheduler launched.
    pub(super) fn spawn(&mut self, i: usize) {
        let attempt = self.sched.steps[i].state.attempts;
        let (abort_tx, abort_rx) = watch::channel(handlers::Abort::None);
        self.procs[i].abort = Some(abort_tx);
        let place = super::super::attempt::Place {
            scratch: &self.scratch,
            inputs: &self.inputs,
        };
        let spawned = Some(handlers::Spawned {
            slot: Arc::clone(&self.spawned),
            index: i,
            attempt,
        });
        let request = match super::super::attempt::prepare(
            &self.sched,
            i,
            attempt,
            abort_rx,
            self.options,
            &place,
            spawned,
        ) {
            Ok(request) => request,
            Err(failure) => {
                // Nothing ran: report the attempt as failed through the usual path.
                let _ = self.done_tx.send(Done {
                    index: i,
                    attempt,
                    outcome: Outcome::failed(failure),
                });
                return;
            }
        };
        if self.is_process(i) {
            // Its process is recorded with the next commit, or within a bound.
            self.procs[i].unrecorded = true;
            self.unrecorded += 1;
            self.pids_due
                .get_or_insert_with(|| tokio::time::Instant::now() + RECORD_PROCESS_WITHIN);
        }
        let handler = Arc::clone(&self.procs[i].handler);
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let outcome = handler.execute(request).await;
            let _ = tx.send(Done {
                index: i,
                attempt,
                outcome,
            });
        });
    }

    /// Step `i` runs a process (a command or a plugin): only processes are given files
    /// (input, live output, events).
    fn is_process(&self, i: usize) -> bool {
        matches!(
            self.sched.template.steps[i].action,
            Action::Command(_) | Action::Plugin(_)
        )
    }

    /// An attempt ended: read what its process left (declared events, files to remove),
    /// then let the scheduler record it.
    pub(super) fn finished(&mut self, done: Done) {
        let (i, attempt) = (done.index, done.attempt);
        if std::mem::take(&mut self.procs[i].unrecorded) {
            // Its process never started: there is nothing to record.
            self.unrecorded -= 1;
        }
        self.procs[i].abort = None;
        let custom = if self.is_process(i) {
            let place = super::super::attempt::Place {
                scratch: &self.scratch,
                inputs: &self.inputs,
            };
            let out = &done.outcome;
            let printed = [&out.stdout, &out.stderr]
                .iter()
                .any(|c| !c.bytes.is_empty() || c.dropped > 0);
            let (events, warnings) =
                place.collect(&self.sched.template, i, attempt, self.sched.now(), printed);
            self.warnings.extend(warnings);
            events
        } else {
            Vec::new()
        };
        self.sched.finished(done, custom);
    }
}
