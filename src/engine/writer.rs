//! The store's writer. On a runtime of many threads, the store belongs to the run's engine
//! thread and to a writer thread of its own, in turn: when steps are running, the engine
//! hands a batch to the writer and goes on gathering — what arrives meanwhile goes into the
//! next commit (group commit); when nothing runs there is nothing to gather, and the engine
//! commits itself, sparing the hand-over. Neither blocks the runtime's worker threads. On a
//! runtime of one thread ([`Writer::here`]) the engine commits every batch itself, a turn of
//! its loop at a time: what arrives during a commit is gathered at the next turn, as the
//! writer's would be, without waking another thread twice a batch.

use std::sync::{Mutex, mpsc};

use tokio::sync::oneshot;

use crate::store::{Change, Owner, Store, StoreError, TaskId};

/// The store, taken in turn by the engine and the writer thread.
pub(super) type Shared<'s> = Mutex<&'s mut dyn Store>;

/// A batch for the writer thread: committed, and its answer sent.
pub(super) struct Job {
    task_id: TaskId,
    owner: Owner,
    batch: Vec<Change>,
    answer: oneshot::Sender<Result<(), StoreError>>,
}

/// A batch handed to the writer; [`InFlight::landed`] is its answer.
pub(super) struct InFlight {
    answer: oneshot::Receiver<Result<(), StoreError>>,
}

impl InFlight {
    /// How the commit went, once it has (a writer gone is an error too).
    pub(super) async fn landed(&mut self) -> Result<(), StoreError> {
        (&mut self.answer).await.unwrap_or_else(|_| Err(gone()))
    }
}

/// The engine's side of the store.
pub(super) struct Writer<'a, 's> {
    /// The writer thread's queue; `None` when the engine commits on its own thread.
    jobs: Option<mpsc::Sender<Job>>,
    store: &'a Shared<'s>,
}

fn gone() -> StoreError {
    StoreError::Corrupt("the store's writer stopped".into())
}

impl<'a, 's> Writer<'a, 's> {
    /// Batches handed to the thread serving `jobs` ([`serve`]).
    pub(super) fn new(jobs: mpsc::Sender<Job>, store: &'a Shared<'s>) -> Writer<'a, 's> {
        Writer {
            jobs: Some(jobs),
            store,
        }
    }

    /// Every batch committed on the engine's thread.
    pub(super) fn here(store: &'a Shared<'s>) -> Writer<'a, 's> {
        Writer { jobs: None, store }
    }

    /// Whether a batch can be handed to a writer thread ([`Writer::submit`]).
    pub(super) fn hands_over(&self) -> bool {
        self.jobs.is_some()
    }

    /// Do `f` with the store now, on this thread (after the writer's commit in progress,
    /// if any).
    pub(super) fn call<T>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut store = self.store.lock().map_err(|_| gone())?;
        f(&mut **store)
    }

    /// Commit `batch` as `owner` (fenced) on the writer thread, without waiting: the engine
    /// goes on, and learns how it went from the answer. Only where
    /// [`Writer::hands_over`].
    pub(super) fn submit(&self, task_id: TaskId, owner: Owner, batch: Vec<Change>) -> InFlight {
        let (answer, landed) = oneshot::channel();
        // A writer gone (or none) drops the job, and with it the answer: the engine hears
        // it stopped.
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job {
                task_id,
                owner,
                batch,
                answer,
            });
        }
        InFlight { answer: landed }
    }
}

/// The writer thread's loop: each batch in turn, until the engine lets go.
pub(super) fn serve(store: &Shared<'_>, jobs: mpsc::Receiver<Job>) {
    for job in jobs {
        let result = match store.lock() {
            Ok(mut store) => store.commit_as(job.task_id, &job.owner, &job.batch),
            Err(_) => Err(gone()),
        };
        let _ = job.answer.send(result);
    }
}
