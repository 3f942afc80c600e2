//! Scheduling: which steps start, and waiting for what comes next.

use super::*;

impl Run<'_> {
    /// The time, as the run's clock says.
    pub(in crate::engine) fn now(&self) -> i64 {
        self.options.clock.now_ms()
    }

    pub(super) fn is_noop(&self, i: usize) -> bool {
        self.template.steps[i].action == crate::templates::Action::Noop
    }

    /// Move due retries back to `pending`, then start ready steps up to the limit.
    pub(super) fn start_ready(&mut self, to_spawn: &mut Vec<usize>) {
        let now = self.now();
        while let Some((at, i)) = self.queue.take_due(now) {
            // A step cancelled or resolved meanwhile is no longer waiting.
            if self.steps[i].status != State::Error || self.steps[i].state.next_retry_at != Some(at)
            {
                continue;
            }
            let attempt = self.steps[i].state.attempts;
            self.steps[i].state.next_retry_at = None;
            // An interrupted attempt waited for `resume`, not in a queue.
            let interrupted = self.steps[i]
                .state
                .error
                .as_ref()
                .is_some_and(|e| e.class == "interrupted");
            self.steps[i].ready_at = Some(if interrupted { now } else { at });
            self.step_change(
                i,
                State::Pending,
                json!({"actor": "tasker", "reason": "retry", "attempt": attempt + 1}),
            );
            let e = self.step_event(Kind::StepRetryRequested, i, attempt + 1);
            e.fields.insert("from_state".into(), json!("error"));
            e.fields.insert("to_state".into(), json!("pending"));
            e.fields.insert("actor".into(), json!("tasker"));
            e.fields.insert(
                "reason".into(),
                json!(if interrupted { "interrupted" } else { "retry" }),
            );
            self.queue.push_ready(i);
        }
        // Noop steps run nothing, so they take no slot: a level of joins starts, ends and
        // is committed in one round. Order is kept: a noop behind a waiting step waits.
        // Steps whose start is being committed hold their slots already.
        let busy = self.running
            + to_spawn.len()
            + self.in_flight.as_ref().map_or(0, |(_, l)| l.spawn.len());
        // About nine changes and events per noop step keep a round under the cap.
        let noops = (BATCH_CAP.saturating_sub(self.batch.len() + self.events.len()) / 9).max(64);
        let (steps, template) = (&self.steps, self.template);
        let started = self.queue.pick(
            busy,
            self.limit,
            noops,
            |i| template.steps[i].action == crate::templates::Action::Noop,
            |i| steps[i].status == State::Pending,
        );
        to_spawn.extend(&started);
        if started.is_empty() {
            return;
        }
        self.idle_announced = false;
        let names: Vec<&str> = started
            .iter()
            .map(|&i| self.template.steps[i].name.as_str())
            .collect();
        let e = Event::new(Kind::WorkflowViableStepsDiscovered, self.task.task_id)
            .with("steps", json!(names))
            .with("count", started.len());
        self.event(e);
        for i in started {
            self.start_step(i, now);
        }
    }

    /// Move step `i` to `in_progress` for its next attempt (committed before it is spawned).
    pub(super) fn start_step(&mut self, i: usize, now: i64) {
        tracing::debug!(task_id = self.task.task_id, step = %self.template.steps[i].name, "starting");
        let s = &mut self.steps[i];
        s.state.attempts += 1;
        s.state.started_at.get_or_insert(now);
        s.state.finished_at = None;
        s.state.next_retry_at = None;
        s.attempt_started_at = now;
        s.span.get_or_insert_with(span_id);
        s.attempt_span = Some(span_id());
        let queue_wait = s.ready_at.take().map_or(0, |r| (now - r).max(0));
        let attempt = s.state.attempts;
        self.step_change(
            i,
            State::InProgress,
            json!({"actor": "tasker", "attempt": attempt}),
        );
        self.batch.push(Change::AttemptStarted {
            step_id: self.task.steps[i].step_id,
            attempt,
        });
        let e = self.step_event(Kind::StepExecutionRequested, i, attempt);
        e.fields.insert("from_state".into(), json!("pending"));
        e.fields.insert("to_state".into(), json!("in_progress"));
        e.fields.insert("queue_wait_ms".into(), json!(queue_wait));
    }

    /// Sleep until an attempt finishes, a retry comes due, the deadline passes, the next
    /// tick, or a signal.
    pub(super) async fn wait(&mut self, deadline: Option<Instant>) -> Result<(), StoreError> {
        let retry_due = self
            .queue
            .next_retry()
            .filter(|_| self.stopping.is_none())
            .map(|at| Instant::now() + Duration::from_millis((at - self.now()).max(0) as u64));
        let deadline = deadline.filter(|_| self.stopping.is_none());
        let tick = self.next_tick;
        // Work left by a capped round (uncommitted changes, steps that could start) is taken
        // up at once, once signals and finished attempts have been looked at.
        let starting = self.in_flight.as_ref().map_or(0, |(_, l)| l.spawn.len());
        let work_now = self.stopping.is_none()
            && self.in_flight.is_none()
            && (!self.batch.is_empty()
                || self
                    .queue
                    .front()
                    .is_some_and(|i| self.is_noop(i) || self.running + starting < self.limit));
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
                        match halt {
                            Halt::None => {}
                            Halt::Signal(sig) => {
                                let message = if self.running > 0 {
                                    format!(
                                        "stopping: {} running; again to kill at once",
                                        crate::text::count(self.running, "step")
                                    )
                                } else {
                                    "stopping".to_owned()
                                };
                                self.subscriber.stopping(&message);
                                self.stop(Stop::Signal(sig));
                            }
                            Halt::Kill(sig) => {
                                self.subscriber.stopping("killing the running steps now");
                                self.kill_now = true;
                                self.stop(Stop::Signal(sig));
                            }
                        }
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
            () = sleep_until(retry_due), if retry_due.is_some() => {}
            () = sleep_until(deadline), if deadline.is_some() => self.stop(Stop::Deadline),
            () = tokio::time::sleep_until(tick) => {}
        }
        Ok(())
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
            if std::mem::take(&mut self.steps[i].unrecorded) {
                self.unrecorded -= 1;
            }
            self.pids.push(Change::AttemptProcess {
                step_id: self.task.steps[i].step_id,
                attempt,
                pid,
                started_at,
            });
        }
    }
}
