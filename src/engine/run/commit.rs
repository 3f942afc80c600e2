//! Commits: gathering a batch, handing it to the writer or committing it here, and what
//! waits for it to land (its events, the steps it launches).

use super::*;

impl Run<'_> {
    /// Commit what is gathered and wait for it (after the batch in flight, if any), then
    /// tell subscribers: nothing is reported before it is durable.
    pub(super) async fn flush(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        self.land_in_flight().await?;
        self.seal();
        if !self.sched.batch.is_empty() {
            let batch = std::mem::take(&mut self.sched.batch);
            let (task_id, owner) = (self.sched.task.task_id, self.owner.clone());
            writer.call(move |store| store.commit_as(task_id, &owner, &batch))?;
            self.stats.commits += 1;
        }
        for e in std::mem::take(&mut self.sched.events) {
            self.subscriber.on_event(&e);
        }
        for w in self.warnings.drain(..) {
            self.subscriber.warning(self.sched.task.task_id, &w);
        }
        Ok(())
    }

    /// Hand what is gathered to the writer without waiting, unless a batch is in flight:
    /// its events wait for it to be durable, and so do the steps it starts. Changes
    /// gathered meanwhile go together into the next commit.
    ///
    /// Events alone (a step's `before_handle`) and processes not yet due ride with the next
    /// batch that changes state, unless nothing runs or the loop's tick came (`ripe`): a
    /// step costs one commit, not two.
    pub(super) fn send(&mut self, writer: &Writer<'_, '_>, ripe: bool) -> Result<(), StoreError> {
        if self.in_flight.is_some() {
            return Ok(());
        }
        let running = self.sched.running();
        let pids_due = self.pids_due.is_some_and(|due| Instant::now() >= due);
        let urgent = !self.sched.batch.is_empty()
            || !self.to_launch.is_empty()
            || pids_due
            || (!self.sched.events.is_empty() && (ripe || running == 0));
        if !urgent {
            return Ok(());
        }
        self.seal();
        let landing = Landing {
            events: std::mem::take(&mut self.sched.events),
            warnings: std::mem::take(&mut self.warnings),
            launch: std::mem::take(&mut self.to_launch),
        };
        let batch = std::mem::take(&mut self.sched.batch);
        if batch.is_empty() {
            self.after_commit(landing);
        } else if running == 0 || !writer.hands_over() {
            // Nothing runs, so nothing would gather meanwhile — or this thread is the run's
            // only one, and what arrives during the commit waits for the next turn of the
            // loop anyway: commit here and launch the batch's steps at once, sparing the
            // hand-over to the writer.
            let (task_id, owner) = (self.sched.task.task_id, &self.owner);
            writer.call(|store| store.commit_as(task_id, owner, &batch))?;
            self.stats.commits += 1;
            // A commit that held this thread past the tick (another process held the
            // store's write lock) is followed by the tick's look before its steps launch, as
            // a commit in flight on the writer's thread is: a step cancelled meanwhile never
            // starts.
            if Instant::now() >= self.next_tick {
                self.tick(writer)?;
            }
            self.after_commit(landing);
        } else {
            let commit = writer.submit(self.sched.task.task_id, self.owner.clone(), batch);
            self.in_flight = Some((commit, landing));
        }
        Ok(())
    }

    /// The batch in flight is durable (or failed): emit what waited for it, launch its
    /// steps.
    pub(super) fn landed(&mut self, result: Result<(), StoreError>) -> Result<(), StoreError> {
        let Some((_, landing)) = self.in_flight.take() else {
            return Ok(());
        };
        result?;
        self.stats.commits += 1;
        self.after_commit(landing);
        Ok(())
    }

    /// A batch is durable: emit its events, launch its steps.
    fn after_commit(&mut self, landing: Landing) {
        for e in &landing.events {
            self.subscriber.on_event(e);
        }
        for w in &landing.warnings {
            self.subscriber.warning(self.sched.task.task_id, w);
        }
        for i in landing.launch {
            if self.sched.launch(i) {
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
    fn seal(&mut self) {
        self.take_started();
        let due = self.pids_due.is_some_and(|due| Instant::now() >= due);
        let batch = &mut self.sched.batch;
        if !self.pids.is_empty() && (!batch.is_empty() || !self.sched.events.is_empty() || due) {
            // A process whose attempt ends in this same batch is not recorded: no later
            // runner will look for it.
            let ended: Vec<(i64, u32)> = batch
                .iter()
                .filter_map(|c| match c {
                    Change::AttemptFinished {
                        step_id, attempt, ..
                    } => Some((*step_id, *attempt)),
                    _ => None,
                })
                .collect();
            if !ended.is_empty() {
                self.pids.retain(|c| {
                    !matches!(c, Change::AttemptProcess { step_id, attempt, .. }
                        if ended.contains(&(*step_id, *attempt)))
                });
            }
            batch.append(&mut self.pids);
        }
        if self.pids.is_empty() && self.unrecorded == 0 {
            self.pids_due = None;
        } else if due {
            // Some process has not started yet: look again later.
            self.pids_due = Some(Instant::now() + RECORD_PROCESS_WITHIN);
        }
        batch.append(&mut self.sched.handling);
        // The events rows restate stay out, as text (numbers in order, as the events).
        let mut restated = self.sched.restated.drain(..).peekable();
        batch.extend(self.sched.events.iter().filter_map(|e| {
            while restated.next_if(|&seq| seq < e.seq).is_some() {}
            match restated.next_if_eq(&e.seq) {
                Some(_) => None,
                None => Some(Change::event(e)),
            }
        }));
    }

    /// Take the processes handlers have started into `pids`, so that a later runner can stop
    /// their groups should this runner die.
    pub(super) fn take_started(&mut self) {
        let started = match self.spawned.lock() {
            Ok(mut slot) if !slot.is_empty() => std::mem::take(&mut *slot),
            _ => return,
        };
        for handlers::Started {
            index: i,
            attempt,
            pid,
            started_at,
        } in started
        {
            if std::mem::take(&mut self.procs[i].unrecorded) {
                self.unrecorded -= 1;
            }
            self.pids.push(Change::AttemptProcess {
                step_id: self.sched.task.steps[i].step_id,
                attempt,
                pid,
                started_at,
            });
        }
    }
}
