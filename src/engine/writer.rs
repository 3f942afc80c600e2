//! The store's writer: one thread that owns the store for the run, so store work never
//! blocks the runtime's threads. The engine hands it work and awaits the answer; a commit
//! can be in flight while the engine gathers the next batch — group commit.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::store::{Change, Owner, Store, StoreError, TaskId};

/// Work for the writer thread: done with the store, in the order handed over.
pub(super) type Job<'s> = Box<dyn FnOnce(&mut dyn Store) + Send + 's>;

/// A batch handed to the writer; its answer arrives on `landed`.
pub(super) struct InFlight {
    pub landed: oneshot::Receiver<Result<(), StoreError>>,
}

/// The engine's side of the writer thread.
pub(super) struct Writer<'s> {
    jobs: mpsc::Sender<Job<'s>>,
}

fn gone() -> StoreError {
    StoreError::Corrupt("the store's writer stopped".into())
}

impl<'s> Writer<'s> {
    pub(super) fn new(jobs: mpsc::Sender<Job<'s>>) -> Writer<'s> {
        Writer { jobs }
    }

    /// Do `f` with the store, after everything handed over before it; its answer.
    pub(super) async fn call<T: Send + 's>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, StoreError> + Send + 's,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |store| {
                let _ = tx.send(f(store));
            }))
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Commit `batch` as `owner` (fenced) without waiting: the engine goes on, and learns
    /// how it went from the answer.
    pub(super) fn submit(&self, task_id: TaskId, owner: Owner, batch: Vec<Change>) -> InFlight {
        let (tx, landed) = oneshot::channel();
        let sent = self.jobs.send(Box::new(move |store| {
            let _ = tx.send(store.commit_as(task_id, &owner, &batch));
        }));
        if let Err(mpsc::SendError(job)) = sent {
            // The thread is gone: answer at once, with that.
            drop(job);
        }
        InFlight { landed }
    }
}

/// The writer thread's loop: each job in turn, until the engine lets go.
pub(super) fn serve(store: &mut dyn Store, jobs: mpsc::Receiver<Job<'_>>) {
    for job in jobs {
        job(&mut *store);
    }
}
