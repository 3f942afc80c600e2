//! Control: the tick (cancel requests, the heartbeat), and abandoning a run whose store
//! failed.

use super::*;

impl Run<'_> {
    /// The periodic work: cancel requests from other processes, the owner's heartbeat.
    pub(super) fn tick(&mut self, writer: &Writer<'_, '_>) -> Result<(), StoreError> {
        let now = Instant::now();
        self.next_tick = now + TICK;
        let beat = now >= self.next_beat;
        if beat {
            self.next_beat = now + HEARTBEAT;
        }
        let (task_id, owner, seen) = (
            self.sched.task.task_id,
            self.owner.clone(),
            self.cancel_seen,
        );
        let requests = writer.call(move |store| {
            store.check_file()?;
            if beat {
                store.heartbeat(task_id, &owner)?;
            }
            store.annotations(task_id, "cancel_request", seen)
        })?;
        for (id, request) in requests {
            self.cancel_seen = id;
            let signals = self.sched.cancel(&request);
            self.signal(&signals);
        }
        Ok(())
    }

    /// The store failed: nothing more can be recorded. Stop every running step's process
    /// group at once and wait (a little) for them to go, so that none outlives the run; the
    /// task stays as its last commit left it, and a resume runs those attempts again.
    pub(super) async fn abandon(&mut self) {
        let mut live = 0;
        for p in &self.procs {
            if let Some(abort) = &p.abort {
                let _ = abort.send(handlers::Abort::Kill);
                live += 1;
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while live > 0 {
            match tokio::time::timeout_at(deadline, self.done_rx.recv()).await {
                Ok(Some(_)) => live -= 1,
                _ => break,
            }
        }
    }
}
