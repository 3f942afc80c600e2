//! Control: the tick (cancel requests, the heartbeat), cancelling, stopping, the end.

use super::*;

impl Run<'_> {
    /// The periodic work: cancel requests from other processes, the owner's heartbeat.
    pub(super) async fn tick(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        let now = Instant::now();
        self.next_tick = now + TICK;
        let beat = now >= self.next_beat;
        if beat {
            self.next_beat = now + HEARTBEAT;
        }
        let (task_id, owner, seen) = (self.task.task_id, self.owner.clone(), self.cancel_seen);
        let requests = writer.call(move |store| {
            store.check_file()?;
            if beat {
                store.heartbeat(task_id, &owner)?;
            }
            store.annotations(task_id, "cancel_request", seen)
        })?;
        for (id, request) in requests {
            self.cancel_seen = id;
            self.cancel(&request);
        }
        Ok(())
    }

    /// Act on `tasker cancel`: the whole task, or the named steps.
    pub(super) fn cancel(&mut self, request: &Json) {
        let states: Vec<State> = self.steps.iter().map(|s| s.status).collect();
        let decided = super::super::cancel::decide(request, &self.index, &states);
        if decided.whole {
            self.stop(Stop::Cancel);
        }
        for i in decided.stop {
            self.steps[i].cancelling = Some(decided.metadata.clone());
            if let Some(abort) = &self.steps[i].abort {
                let _ = abort.send(handlers::Abort::Stop);
            }
        }
        for i in decided.now {
            self.cancel_step(i, &decided.metadata);
        }
    }

    /// Cancel a step that is not running.
    pub fn cancel_step(&mut self, i: usize, metadata: &Json) {
        let from = self.steps[i].status;
        self.steps[i].state.next_retry_at = None;
        self.step_change(i, State::Cancelled, metadata.clone());
        let attempt = self.steps[i].state.attempts;
        let e = self.step_event(Kind::StepCancelled, i, attempt);
        e.fields.insert("from_state".into(), json!(from));
        e.fields.insert("to_state".into(), json!("cancelled"));
        e.fields.insert("actor".into(), metadata["actor"].clone());
        e.fields.insert("reason".into(), metadata["reason"].clone());
    }

    pub fn stop(&mut self, why: Stop) {
        if self.stopping.is_none() || matches!(why, Stop::Signal(_)) {
            self.stopping = Some(why);
        }
        if !matches!(why, Stop::FailFast) {
            let level = if self.kill_now {
                handlers::Abort::Kill
            } else {
                handlers::Abort::Stop
            };
            for s in &self.steps {
                if let Some(abort) = &s.abort {
                    let _ = abort.send(level);
                }
            }
        }
    }

    /// Decide the task's final state and commit it.
    pub(super) async fn finish(
        &mut self,
        writer: &Writer<'_, '_>,
        started: i64,
    ) -> Result<Finish, StoreError> {
        if let Some(Stop::Signal(sig)) = self.stopping {
            tracing::info!(
                task_id = self.task.task_id,
                signal = sig,
                "interrupted; the task is resumable"
            );
            // Leave the task resumable: back to pending, owner released.
            self.task_change(
                State::InProgress,
                State::Pending,
                json!({"actor": "tasker", "reason": "interrupted", "signal": sig}),
            );
            self.flush(writer).await?;
            return Ok(Finish {
                state: State::Pending,
                interrupted: Some(sig),
                stats: self.stats,
            });
        }
        let e = Event::new(Kind::WorkflowTaskFinalizationStarted, self.task.task_id);
        self.event(e);
        if self.stopping == Some(Stop::Cancel) {
            // Steps that were running are recorded by now; cancel what never started.
            let metadata = meta("the task was cancelled");
            for i in 0..self.steps.len() {
                if matches!(self.steps[i].status, State::Pending | State::Error) {
                    self.cancel_step(i, &metadata);
                }
            }
        }
        let unfinished: Vec<String> = (0..self.steps.len())
            .filter(|&i| matches!(self.steps[i].status, State::Pending | State::Error))
            .map(|i| self.template.steps[i].name.clone())
            .collect();
        let failed: Vec<String> = (0..self.steps.len())
            .filter(|&i| self.steps[i].status == State::Error)
            .map(|i| self.template.steps[i].name.clone())
            .collect();
        let states: Vec<State> = self.steps.iter().map(|s| s.status).collect();
        let ending = super::super::outcome::ending(&states, self.stopping == Some(Stop::Deadline));
        let all_done = ending.state == State::Complete;
        if !all_done && !unfinished.is_empty() {
            let e = Event::new(Kind::WorkflowNoViableSteps, self.task.task_id)
                .with("reason", "blocked")
                .with("waiting_steps", json!(unfinished));
            self.event(e);
        }
        let (to, kind, reason) = (ending.state, ending.kind, ending.reason);
        self.task_change(State::InProgress, to, meta(reason));
        let took = (self.now() - started).max(0) as u64;
        let mut end = Event::new(kind, self.task.task_id)
            .states(State::InProgress, to)
            .with("duration_ms", took);
        match kind {
            Kind::TaskFailed => end = end.with("failed_steps", json!(failed)),
            Kind::TaskCancelled => end = end.with("actor", "tasker").with("reason", reason),
            _ => {}
        }
        self.event(end);
        tracing::info!(task_id = self.task.task_id, state = %to, duration_ms = took, "the task ended");
        let done = Event::new(Kind::WorkflowTaskFinalizationCompleted, self.task.task_id)
            .with("to_state", to.as_str())
            .with("duration_ms", took);
        self.event(done);
        self.flush(writer).await?;
        Ok(Finish {
            state: to,
            interrupted: None,
            stats: self.stats,
        })
    }

    /// The store failed: nothing more can be recorded. Stop every running step's process
    /// group at once and wait (a little) for them to go, so that none outlives the run; the
    /// task stays as its last commit left it, and a resume runs those attempts again.
    pub(super) async fn abandon(&mut self) {
        for s in &self.steps {
            if let Some(abort) = &s.abort {
                let _ = abort.send(handlers::Abort::Kill);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.running > 0 {
            match tokio::time::timeout_at(deadline, self.done_rx.recv()).await {
                Ok(Some(_)) => self.running -= 1,
                _ => break,
            }
        }
    }
}
