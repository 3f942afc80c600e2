//! Waiting for what comes next: an attempt's end, a commit landing, a signal, a timer.

use super::*;

impl Run<'_> {
    /// Sleep until a commit lands, an attempt finishes, the scheduler's wake time (a retry
    /// due, the deadline), the next tick, or a signal.
    pub(super) async fn wait(&mut self) -> Result<(), StoreError> {
        let now = self.sched.now();
        let wake = self.sched.wake().map(|at| instant_at(at, now));
        let tick = self.next_tick;
        // Work left by a capped round (uncommitted changes, steps that could start) is taken
        // up at once, once signals and finished attempts have been looked at.
        let work_now = self.in_flight.is_none()
            && self.sched.stopping().is_none()
            && (!self.sched.batch.is_empty() || self.sched.can_start());
        // Processes due to be recorded wait for the commit in flight (nothing could be sent
        // meanwhile: waking for them would spin).
        let pids_due = self.pids_due.filter(|_| self.in_flight.is_none());
        let landing = self.in_flight.as_mut().map(|(commit, _)| commit);
        let landing = async move {
            match landing {
                Some(commit) => commit.landed().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            result = landing => return self.landed(result),
            changed = self.halt.changed(), if self.halt_open => {
                match changed {
                    Ok(()) => {
                        let halt = *self.halt.borrow_and_update();
                        self.halted(halt);
                    }
                    Err(_) => self.halt_open = false,
                }
            }
            Some(done) = self.done_rx.recv() => {
                // A process an attempt started is recorded before (or with) how it ended.
                self.take_started();
                self.finished(done);
                while let Ok(more) = self.done_rx.try_recv() {
                    self.finished(more);
                }
            }
            () = std::future::ready(()), if work_now => {}
            () = sleep_until(pids_due), if pids_due.is_some() => {}
            () = sleep_until(wake), if wake.is_some() => {}
            () = tokio::time::sleep_until(tick) => {}
        }
        Ok(())
    }

    /// A signal to tasker itself: stop gracefully, or (the second) kill at once.
    fn halted(&mut self, halt: Halt) {
        let signals = match halt {
            Halt::None => return,
            Halt::Signal(sig) => {
                let running = self.sched.running();
                let message = if running > 0 {
                    format!(
                        "stopping: {} running; again to kill at once",
                        crate::text::count(running, "step")
                    )
                } else {
                    "stopping".to_owned()
                };
                self.subscriber.stopping(&message);
                self.sched.stop(super::super::scheduler::Stop::Signal(sig))
            }
            Halt::Kill(sig) => {
                self.subscriber.stopping("killing the running steps now");
                self.sched.kill(sig)
            }
        };
        self.signal(&signals);
    }
}
