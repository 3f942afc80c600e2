//! The PostgreSQL store: the same tables as SQLite's (Tasker's names) in PostgreSQL's
//! dialect, numbered migrations of its own, each transition a compare-and-set that holds
//! where several writers really run at once (READ COMMITTED).
//!
//! The client is `tokio-postgres`. Its connection runs on a thread of its own (a small
//! runtime that only drives the socket); the store's calls wait for their answers on the
//! calling thread, so the store is used the same way from synchronous commands and from
//! the engine's writer, inside or outside an async runtime.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake};

use serde_json::Value as Json;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Client, GenericClient, Row, Statement};

use super::{
    Annotation, AttemptRecord, Change, Counts, Created, Failure, NewTask, Opening, Owner,
    RunningTask, StepFact, StepId, Store, StoreError, TaskFact, TaskFilter, TaskId, TaskRecord,
    TaskSummary, Transition, Window,
};
use crate::model::State;

use super::decode::{error_of, json_of, state_of};

mod apply;
mod connect;
mod facts;
mod maintain;
mod read;
mod workers;
mod write;

pub use connect::{PgUrl, parse_url};
pub use workers::{ClaimFilter, Claimed, Rescued};

/// Migrations in order; `tasker_schema` records each one applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_initial.sql"),
    include_str!("../migrations/postgres/0002_workers.sql"),
];

/// The PostgreSQL schema version this tasker writes.
pub const PG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Taken (per transaction) while the schema is created or migrated: one process at a time.
const MIGRATION_LOCK: i64 = 0x7461_736b_6572; // "tasker"

/// A store in a PostgreSQL database.
pub struct PgStore {
    client: Client,
    /// The URL without its password, as messages name the store.
    shown: String,
    cache: Cache,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("url", &self.shown).finish()
    }
}

/// Prepared statements by their text: each is parsed by the server once per connection.
/// Counts the round trips made through it.
#[derive(Default)]
struct Cache(
    RefCell<HashMap<&'static str, Statement>>,
    std::cell::Cell<u64>,
);

/// A query parameter.
type P<'a> = &'a (dyn ToSql + Sync);

impl Cache {
    fn get<C: GenericClient>(&self, c: &C, sql: &'static str) -> Result<Statement, StoreError> {
        // The statement's own exchange; preparing it, the first time, is one more.
        self.1.set(self.1.get() + 1);
        if let Some(s) = self.0.borrow().get(sql) {
            return Ok(s.clone());
        }
        self.1.set(self.1.get() + 1);
        let s = wait(c.prepare(sql))?;
        self.0.borrow_mut().insert(sql, s.clone());
        Ok(s)
    }

    fn query<C: GenericClient>(
        &self,
        c: &C,
        sql: &'static str,
        params: &[P<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        let s = self.get(c, sql)?;
        Ok(wait(c.query(&s, params))?)
    }

    fn opt<C: GenericClient>(
        &self,
        c: &C,
        sql: &'static str,
        params: &[P<'_>],
    ) -> Result<Option<Row>, StoreError> {
        let s = self.get(c, sql)?;
        Ok(wait(c.query_opt(&s, params))?)
    }

    fn one<C: GenericClient>(
        &self,
        c: &C,
        sql: &'static str,
        params: &[P<'_>],
    ) -> Result<Row, StoreError> {
        let s = self.get(c, sql)?;
        Ok(wait(c.query_one(&s, params))?)
    }

    fn exec<C: GenericClient>(
        &self,
        c: &C,
        sql: &'static str,
        params: &[P<'_>],
    ) -> Result<u64, StoreError> {
        let s = self.get(c, sql)?;
        Ok(wait(c.execute(&s, params))?)
    }
}

/// Run `f` to its end on this thread. The client's futures only exchange messages with the
/// connection's thread, so no runtime is needed here.
pub(crate) fn wait<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Column `i` of `row`, or an error naming what is wrong with it.
fn col<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i).map_err(|e| {
        StoreError::Corrupt(format!(
            "column `{}`: {e}",
            row.columns().get(i).map_or("?", |c| c.name())
        ))
    })
}

/// A `u32` stored as `BIGINT`.
fn u32_of(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} is out of range")))
}

fn owner_of(pid: Option<i64>, host: Option<String>, started: Option<i64>) -> Option<Owner> {
    match (pid.and_then(|p| u32::try_from(p).ok()), host, started) {
        (Some(pid), Some(host), Some(started_at)) => Some(Owner {
            pid,
            host,
            started_at,
        }),
        _ => None,
    }
}

impl PgStore {
    /// Connect to the database `url` names and bring its schema up to date (creating it
    /// in an empty database).
    pub fn open(url: &PgUrl) -> Result<PgStore, StoreError> {
        let mut store = PgStore::connect(url)?;
        store.migrate(true)?;
        Ok(store)
    }

    /// Connect without creating anything: `None` when the database holds no tasker store.
    pub fn open_existing(url: &PgUrl) -> Result<Option<PgStore>, StoreError> {
        let mut store = PgStore::connect(url)?;
        let exists: bool = col(
            &store.cache.one(
                &store.client,
                "SELECT to_regclass('tasker_schema') IS NOT NULL",
                &[],
            )?,
            0,
        )?;
        if !exists {
            return Ok(None);
        }
        store.migrate(false)?;
        Ok(Some(store))
    }

    fn connect(url: &PgUrl) -> Result<PgStore, StoreError> {
        let client = connect::connect(url, None)?;
        Ok(PgStore {
            client,
            shown: url.shown.clone(),
            cache: Cache::default(),
        })
    }

    /// The round trips this store's statements have made so far.
    pub fn round_trips(&self) -> u64 {
        self.cache.1.get()
    }

    /// The schema version the database has (0 for none).
    fn version<C: GenericClient>(&self, c: &C) -> Result<i64, StoreError> {
        let exists: bool = col(
            &self
                .cache
                .one(c, "SELECT to_regclass('tasker_schema') IS NOT NULL", &[])?,
            0,
        )?;
        if !exists {
            return Ok(0);
        }
        // Not cached: the table may be made after this connection first looked.
        let row = wait(c.query_one(
            "SELECT COALESCE(MAX(version), 0)::bigint FROM tasker_schema",
            &[],
        ))?;
        col(&row, 0)
    }

    /// Apply the migrations this database lacks (with `create`, from none), one process at
    /// a time; a database of a newer schema is refused.
    fn migrate(&mut self, create: bool) -> Result<(), StoreError> {
        let found = self.version(&self.client)?;
        if found > PG_SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.shown.clone(),
                found,
                supported: PG_SCHEMA_VERSION,
            });
        }
        if found == PG_SCHEMA_VERSION || (found == 0 && !create) {
            return Ok(());
        }
        let tx = wait(self.client.transaction())?;
        wait(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]))?;
        wait(tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS tasker_schema (
                 version    BIGINT PRIMARY KEY,
                 applied_at BIGINT NOT NULL
             )",
        ))?;
        // Another process may have migrated while this one waited for the lock.
        let current: i64 = col(
            &wait(tx.query_one(
                "SELECT COALESCE(MAX(version), 0)::bigint FROM tasker_schema",
                &[],
            ))?,
            0,
        )?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            wait(tx.batch_execute(sql))?;
            wait(tx.execute(
                "INSERT INTO tasker_schema (version, applied_at) VALUES ($1, $2)",
                &[&((i + 1) as i64), &crate::clock::now_ms()],
            ))?;
        }
        wait(tx.commit())?;
        Ok(())
    }
}

/// PostgreSQL's failures as the store's kinds, in words the user can act on.
impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        if let Some(db) = e.as_db_error()
            && db.code().code() == "TK001"
            && let Some(refused) = refused(db.message())
        {
            return refused;
        }
        let (kind, what) = match e.code() {
            Some(c) if *c == SqlState::DISK_FULL || *c == SqlState::OUT_OF_MEMORY => {
                (Failure::Full, "the database server is out of room")
            }
            Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => (
                Failure::ReadOnly,
                "the database is read-only (a standby, or a read-only user)",
            ),
            Some(c) if *c == SqlState::DATA_CORRUPTED || *c == SqlState::INDEX_CORRUPTED => {
                (Failure::Corrupt, "the database reports damaged data")
            }
            Some(c)
                if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::LOCK_NOT_AVAILABLE =>
            {
                (Failure::Busy, "the database was busy with another writer")
            }
            Some(c)
                if *c == SqlState::ADMIN_SHUTDOWN
                    || *c == SqlState::CRASH_SHUTDOWN
                    || *c == SqlState::CANNOT_CONNECT_NOW =>
            {
                (Failure::Io, "the database server shut down")
            }
            _ if e.is_closed() => (Failure::Io, "the connection to PostgreSQL was lost"),
            _ => (Failure::Other, "PostgreSQL refused a statement"),
        };
        let detail = e
            .as_db_error()
            .map_or_else(|| e.to_string(), |d| d.message().to_owned());
        StoreError::Backend {
            kind,
            message: format!("{what} ({detail})"),
        }
    }
}

/// A transition `tasker_apply` refused ("ENTITY ID EXPECTED"): the row no longer holds the
/// state the change expected.
fn refused(message: &str) -> Option<StoreError> {
    let mut words = message.split_whitespace();
    let entity = match words.next()? {
        "task" => "task",
        "step" => "step",
        _ => return None,
    };
    Some(StoreError::Conflict {
        entity,
        id: words.next()?.parse().ok()?,
        expected: words.next()?.parse().ok()?,
    })
}

// The trait's methods, each written in the file of its concern (write, read, facts).
impl Store for PgStore {
    fn insert_task(&mut self, new: &NewTask<'_>, opening: &Opening) -> Result<Created, StoreError> {
        PgStore::insert_task(self, new, opening)
    }

    fn apply(
        &mut self,
        fence: Option<(TaskId, &Owner)>,
        changes: &[Change],
    ) -> Result<(), StoreError> {
        PgStore::apply(self, fence, changes)
    }

    fn task(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        PgStore::task(self, id)
    }

    fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskSummary>, StoreError> {
        PgStore::list_tasks(self, filter)
    }

    fn transitions(&self, id: TaskId) -> Result<Vec<Transition>, StoreError> {
        PgStore::transitions(self, id)
    }

    fn attempts(&self, step_id: StepId) -> Result<Vec<AttemptRecord>, StoreError> {
        PgStore::attempts(self, step_id)
    }

    fn claim(
        &mut self,
        task_id: TaskId,
        owner: &Owner,
        alive: &dyn Fn(&Owner, Option<i64>) -> bool,
    ) -> Result<i64, StoreError> {
        PgStore::claim(self, task_id, owner, alive)
    }

    fn heartbeat(&mut self, task_id: TaskId, owner: &Owner) -> Result<(), StoreError> {
        PgStore::heartbeat(self, task_id, owner)
    }

    fn task_facts(&self, w: &Window, each: &mut dyn FnMut(TaskFact)) -> Result<(), StoreError> {
        PgStore::task_facts(self, w, each)
    }

    fn step_facts(&self, w: &Window, each: &mut dyn FnMut(StepFact)) -> Result<(), StoreError> {
        PgStore::step_facts(self, w, each)
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        PgStore::counts(self)
    }

    fn running(&self) -> Result<Vec<RunningTask>, StoreError> {
        PgStore::running(self)
    }

    fn failed_since(&self, since: i64) -> Result<u64, StoreError> {
        PgStore::failed_since(self, since)
    }

    fn last_event_seq(&self, task_id: TaskId) -> Result<u64, StoreError> {
        PgStore::last_event_seq(self, task_id)
    }

    fn events(&self, task_id: TaskId, after: u64, limit: usize) -> Result<Vec<Json>, StoreError> {
        PgStore::events(self, task_id, after, limit)
    }

    fn annotate(&mut self, task_id: TaskId, kind: &str, note: &Json) -> Result<i64, StoreError> {
        PgStore::annotate(self, task_id, kind, note)
    }

    fn user_annotations(&self, task_id: TaskId) -> Result<Vec<Annotation>, StoreError> {
        PgStore::user_annotations(self, task_id)
    }

    fn annotations(
        &self,
        task_id: TaskId,
        kind: &str,
        after: i64,
    ) -> Result<Vec<(i64, Json)>, StoreError> {
        PgStore::annotations(self, task_id, kind, after)
    }
}
