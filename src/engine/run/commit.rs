//! Commits: gathering a batch, handing it to the writer or committing it here, and what
//! waits for it to land (its events, the steps it starts).

use super::*;

impl Run<'_> {
    /// Commit the batch with its events, then tell subscribers: nothing is reported before
    /// it is durable.
    /// Commit what is gathered and wait for it (after the batch in flight, if any), then
    /// emit its events.
    pub(super) async fn flush(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        self.land_in_flight().await?;
        self.seal();
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            let (task_id, owner) = (self.task.task_id, self.owner.clone());
            writer.call(move |store| store.commit_as(task_id, &owner, &batch))?;
            self.stats.commits += 1;
        }
        for e in self.events.drain(..) {
            self.subscriber.on_event(&e);
        }
        for w in self.warnings.drain(..) {
            self.subscriber.warning(self.task.task_id, &w);
        }
        Ok(())
    }

    /// Hand what is gathered to the writer without waiting, unless a batch is in flight:
    /// its events wait for it to be durable, and so do the steps it starts (`to_spawn`).
    /// Changes gathered meanwhile go together into the next commit.
    ///
    /// Events alone (a step's `before_handle`) and processes not yet due ride with the next
    /// batch that changes state, unless nothing runs or the loop's tick came (`ripe`): a
    /// step costs one commit, not two.
    pub(super) fn send(
        &mut self,
        writer: &Writer<'_, '_>,
        to_spawn: &mut Vec<usize>,
        ripe: bool,
    ) -> Result<(), StoreError> {
        if self.in_flight.is_some() {
            return Ok(());
        }
        let pids_due = self.pids_due.is_some_and(|due| Instant::now() >= due);
        let urgent = !self.batch.is_empty()
            || !to_spawn.is_empty()
            || pids_due
            || (!self.events.is_empty() && (ripe || self.running == 0));
        if !urgent {
            return Ok(());
        }
        self.seal();
        let landing = Landing {
            events: std::mem::take(&mut self.events),
            warnings: std::mem::take(&mut self.warnings),
            spawn: std::mem::take(to_spawn),
        };
        let batch = std::mem::take(&mut self.batch);
        if batch.is_empty() {
            self.after_commit(landing);
        } else if self.running == 0 {
            // Nothing runs, so nothing would gather meanwhile: commit here and start the
            // batch's steps at once, sparing the hand-over to the writer.
            let (task_id, owner) = (self.task.task_id, &self.owner);
            writer.call(|store| store.commit_as(task_id, owner, &batch))?;
            self.stats.commits += 1;
            self.after_commit(landing);
        } else {
            let commit = writer.submit(self.task.task_id, self.owner.clone(), batch);
            self.in_flight = Some((commit, landing));
        }
        Ok(())
    }

    /// The batch in flight is durable (or failed): emit what waited for it, start its steps.
    pub(super) fn landed(&mut self, result: Result<(), StoreError>) -> Result<(), StoreError> {
        let Some((_, landing)) = self.in_flight.take() else {
            return Ok(());
        };
        result?;
        self.stats.commits += 1;
        self.after_commit(landing);
        Ok(())
    }

    /// A batch is durable: emit its events, start its steps.
    pub(super) fn after_commit(&mut self, landing: Landing) {
        for e in &landing.events {
            self.subscriber.on_event(e);
        }
        for w in &landing.warnings {
            self.subscriber.warning(self.task.task_id, w);
        }
        for i in landing.spawn {
            // Stopped (a signal, a cancel, the deadline) or cancelled while its start was
            // being committed: nothing is run. The attempt is recorded as stopped, as it
            // would have been a moment later, so the store ends up the same. Fail-fast lets
            // what was started run, so it starts.
            let stopped = matches!(
                self.stopping,
                Some(Stop::Signal(_) | Stop::Cancel | Stop::Deadline)
            ) || self.steps[i].cancelling.is_some();
            if stopped {
                let attempt = self.steps[i].state.attempts;
                self.running += 1;
                self.finished(Done {
                    index: i,
                    attempt,
                    outcome: Outcome::failed(handlers::Failure::retryable(
                        FailureClass::Interrupted,
                        "stopped before it started: the run was stopping",
                    )),
                });
            } else {
                self.spawn(i);
            }
        }
    }

    /// Wait for the batch in flight, if any, and take it as landed.
    pub(super) async fn land_in_flight(&mut self) -> Result<(), StoreError> {
        let result = match &mut self.in_flight {
            Some((commit, _)) => commit.landed().await,
            None => return Ok(()),
        };
        self.landed(result)
    }

    /// Make the gathered changes a batch: started processes ride with it (or get one of
    /// their own once due), and the events follow.
    pub(super) fn seal(&mut self) {
        // Started processes ride with the next commit, or get one of their own once due.
        self.take_started();
        let due = self.pids_due.is_some_and(|due| Instant::now() >= due);
        if !self.pids.is_empty() && (!self.batch.is_empty() || !self.events.is_empty() || due) {
            self.batch.append(&mut self.pids);
        }
        if self.pids.is_empty() && self.unrecorded == 0 {
            self.pids_due = None;
        } else if due {
            // Some process has not started yet: look again later.
            self.pids_due = Some(Instant::now() + RECORD_PROCESS_WITHIN);
        }
        for e in &self.events {
            self.batch.push(Change::Event {
                task_id: e.task_id,
                seq: e.seq,
                name: e.name().to_owned(),
                doc: e.to_json(),
            });
        }
    }

    pub fn task_change(&mut self, from: State, to: State, metadata: Json) {
        self.batch.push(Change::Task {
            task_id: self.task.task_id,
            from,
            to,
            actor: Actor::Engine,
            metadata,
        });
        self.task.status = to;
    }

    pub fn step_change(&mut self, i: usize, to: State, metadata: Json) {
        let s = &mut self.steps[i];
        self.batch.push(Change::Step {
            step_id: self.task.steps[i].step_id,
            from: s.status,
            to,
            actor: Actor::Engine,
            metadata,
            state: s.state.clone(),
        });
        s.status = to;
    }

    /// Queue an event: it is recorded with the batch it belongs to and given to the
    /// subscribers once that batch is committed.
    pub fn event(&mut self, mut event: Event) -> &mut Event {
        event.seq = self.next_seq;
        self.next_seq += 1;
        if event.trace.is_none() {
            event.trace = Some(self.trace);
        }
        self.events.push(event);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    /// Queue an event about attempt `attempt` of step `i`, placed in its spans.
    pub fn step_event(&mut self, kind: Kind, i: usize, attempt: u32) -> &mut Event {
        let mut trace = self.trace;
        trace.step_span = self.steps[i].span;
        trace.attempt_span = self.steps[i].attempt_span;
        let mut event =
            Event::new(kind, self.task.task_id).step(&self.template.steps[i].name, attempt);
        event.trace = Some(trace);
        self.event(event)
    }
}
