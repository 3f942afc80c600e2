//! The SQLite store: WAL, busy timeout, foreign keys, numbered migrations.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::Value as Json;

use super::{
    Annotation, AttemptRecord, Change, Counts, Created, Failure, INTERNAL_ANNOTATIONS, Maintenance,
    NewTask, Opening, Owner, Request, Restated, RunningTask, StepFact, StepId, StepRecord,
    StepState, Store, StoreError, TaskFact, TaskFilter, TaskId, TaskRecord, TaskSummary,
    Transition, Window,
};
use crate::clock::now_ms;
use crate::model::State;

use super::decode::{error_of, ids_in, json_of, json_text, state_of};

mod facts;
mod maintain;
mod read;
mod restated;
mod write;

pub use maintain::Pruned;

/// Migrations in order; `PRAGMA user_version` counts how many were applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_event_pages.sql"),
    include_str!("../migrations/0003_restated_events.sql"),
    include_str!("../migrations/0004_step_parents.sql"),
];

/// The schema version this tasker writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a writer waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A store in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// The file's device and inode when it was opened.
    file: Option<(u64, u64)>,
    /// The events rows restate of the task whose log was read last.
    restated: restated::Kept,
    /// What `insert_task` numbered for the task it created last, until taken
    /// ([`Store::take_created`]).
    created: Option<write::Written>,
    /// What this connection's last fenced batch proved: see [`write::Quiet`].
    quiet: Option<write::Quiet>,
}

/// What is wrong with the store file, in words, from the error opening it.
fn file_problem(path: &Path, e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::PermissionDenied => format!(
            "permission denied: this user may not read and write `{}` (check its mode and owner)",
            path.display()
        ),
        K::IsADirectory => "it is a directory, not a store file: check the `--db` path".into(),
        K::NotFound => "its directory does not exist".into(),
        _ => e.to_string(),
    }
}

/// A store is a regular file: a directory, a device (`/dev/null`), a pipe or a socket is
/// refused before SQLite makes files beside it.
fn regular(path: &Path, file: &std::fs::File) -> Result<(), String> {
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file (a device, a pipe or a socket)"
    };
    Err(format!(
        "`{}` is {what}; a store is a regular file: check the `--db` path",
        path.display()
    ))
}

/// An advisory lock on a file (flock), held until the guard drops; waits at most `wait`.
struct Locked<'f>(Option<&'f std::fs::File>);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some(file) = self.0 {
            let _ = rustix::fs::flock(file, rustix::fs::FlockOperation::Unlock);
        }
    }
}

fn lock_file(file: &std::fs::File, wait: Duration) -> Result<Locked<'_>, String> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let e = match rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        {
            Ok(()) => return Ok(Locked(Some(file))),
            Err(e) => e,
        };
        if e != rustix::io::Errno::WOULDBLOCK {
            // A file system without flock: go on, as SQLite's own locks still hold.
            return Ok(Locked(None));
        }
        if std::time::Instant::now() >= deadline {
            return Err(
                "another process is setting the store up and has not finished within 10 s".into(),
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Device and inode of the file at `path`.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// `$XDG_DATA_HOME/tasker/tasker.db`, else `~/.local/share/tasker/tasker.db`.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("tasker").join("tasker.db")
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path`. With `create_dirs`, missing parent
    /// directories are made (mode 0700); otherwise a missing directory is an error.
    pub fn open(path: &Path, create_dirs: bool) -> Result<SqliteStore, StoreError> {
        let shown = path.display().to_string();
        let open_err = |message: String| StoreError::Open {
            path: shown.clone(),
            message,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            if create_dirs {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .map_err(|e| open_err(format!("cannot create its directory: {e}")))?;
            } else {
                return Err(open_err(format!(
                    "the directory `{}` does not exist",
                    parent.display()
                )));
            }
        }
        // Opening the file ourselves first says plainly what is wrong with it (a directory,
        // a device, no permission); creating it without `O_EXCL` lets several processes
        // make a new store at once, and follows a symlink to a file not yet made.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| open_err(file_problem(path, &e)))?;
        regular(path, &file).map_err(open_err)?;
        // The first use of a new store — configuring WAL, creating the schema — is one
        // process at a time; the others wait for it (an advisory lock SQLite does not use).
        let _init = lock_file(&file, BUSY_TIMEOUT).map_err(open_err)?;
        let conn = Connection::open(path).map_err(|e| open_err(describe(&e)))?;
        let mut store = SqliteStore {
            conn,
            path: path.to_owned(),
            file: file_id(path),
            restated: Default::default(),
            created: None,
            quiet: None,
        };
        store.configure().map_err(|e| open_err(describe(&e)))?;
        store.migrate()?;
        Ok(store)
    }

    /// Open an existing store without creating or initializing anything: `None` when the
    /// file does not exist or is empty (nothing has been stored yet). Used by the commands
    /// that read, and by those that change tasks that must already exist.
    pub fn open_existing(path: &Path) -> Result<Option<SqliteStore>, StoreError> {
        let shown = path.display().to_string();
        let open_err = |message: String| StoreError::Open {
            path: shown.clone(),
            message,
        };
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(open_err(file_problem(path, &e))),
        };
        regular(path, &file).map_err(open_err)?;
        if file.metadata().map_or(0, |m| m.len()) == 0 {
            return Ok(None);
        }
        drop(file);
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err(describe(&e)))?;
        let mut store = SqliteStore {
            conn,
            path: path.to_owned(),
            file: file_id(path),
            restated: Default::default(),
            created: None,
            quiet: None,
        };
        store
            .configure_existing()
            .map_err(|e| open_err(describe(&e)))?;
        let found = store.schema_version()?;
        if found == 0 {
            let tables: i64 = store.conn.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )?;
            if tables == 0 {
                // Made by a process that has not set it up yet: nothing stored so far.
                return Ok(None);
            }
            return Err(open_err(
                "the file is a SQLite database, but not a tasker store: check the `--db` path"
                    .into(),
            ));
        }
        if found != SCHEMA_VERSION {
            store.migrate()?;
        }
        Ok(Some(store))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `synchronous = FULL` (safe against power loss) or `NORMAL` (against any crash).
    pub fn set_durability(&self, durability: super::Durability) -> Result<(), StoreError> {
        let level = match durability {
            super::Durability::Full => "FULL",
            super::Durability::Normal => "NORMAL",
        };
        self.conn.pragma_update(None, "synchronous", level)?;
        Ok(())
    }

    /// Set the store up for this connection, WAL included (which writes the file).
    fn configure(&mut self) -> rusqlite::Result<()> {
        self.configure_existing()?;
        let _mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        Ok(())
    }

    /// This connection's settings, for a store that exists: nothing that writes the file.
    fn configure_existing(&mut self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        // A run uses some 30 statements over and over; rusqlite keeps 16 by default, and a
        // statement pushed out is parsed again at its next use.
        self.conn.set_prepared_statement_cache_capacity(64);
        // An 8 MiB page cache keeps a big task's rows in memory between rounds; checkpoints
        // every 4,000 pages (16 MiB of WAL) copy each busy page once instead of four times,
        // and the WAL file is cut back to 64 MiB after each.
        self.conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 4000;
             PRAGMA journal_size_limit = 67108864;",
        )
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.display().to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn task_transition(
        tx: &Connection,
        task_id: TaskId,
        from: State,
        to: State,
        metadata: &Json,
        now: i64,
    ) -> Result<(), StoreError> {
        let finished = matches!(
            to,
            State::Complete | State::Error | State::Cancelled | State::ResolvedManually
        );
        let running = to == State::InProgress;
        // Leaving `in_progress` releases the owner; a claimed task moving on its way to
        // running (`error → pending` as a resume takes it over) keeps it.
        let releasing = from == State::InProgress && !running;
        let changed = tx
            .prepare_cached(
                "UPDATE tasks SET status = ?2, updated_at = ?3,
                    started_at = CASE WHEN ?4 THEN COALESCE(started_at, ?3) ELSE started_at END,
                    finished_at = CASE WHEN ?5 THEN ?3 ELSE NULL END,
                    owner_pid = CASE WHEN ?7 THEN NULL ELSE owner_pid END,
                    owner_host = CASE WHEN ?7 THEN NULL ELSE owner_host END,
                    owner_started_at = CASE WHEN ?7 THEN NULL ELSE owner_started_at END,
                    heartbeat_at = CASE WHEN ?7 THEN NULL ELSE heartbeat_at END
                 WHERE task_id = ?1 AND status = ?6",
            )?
            .execute(params![
                task_id,
                to.as_str(),
                now,
                running,
                finished,
                from.as_str(),
                releasing,
            ])?;
        if changed == 0 {
            return Err(StoreError::Conflict {
                entity: "task",
                id: task_id,
                expected: from,
            });
        }
        tx.prepare_cached(
            "UPDATE task_transitions SET most_recent = 0 WHERE task_id = ?1 AND most_recent = 1",
        )?
        .execute([task_id])?;
        tx.prepare_cached(
            "INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM task_transitions WHERE task_id = ?1), 1, ?4, ?5)",
        )?
        .execute(params![task_id, from.as_str(), to.as_str(), json_text(metadata), now])?;
        Ok(())
    }

    fn step_transition(
        tx: &Connection,
        step_id: StepId,
        (from, to): (State, State),
        metadata: &str,
        state: &StepState,
        restates: Option<&Restated>,
        now: i64,
    ) -> Result<(), StoreError> {
        let changed = tx
            .prepare_cached(
                "UPDATE workflow_steps SET status = ?2, attempts = ?3, flaky = ?4, results = ?5,
                    error_class = ?6, error_message = ?7, next_retry_at = ?8, started_at = ?9,
                    finished_at = ?10, updated_at = ?11, counted_attempts = ?13
                 WHERE workflow_step_id = ?1 AND status = ?12",
            )?
            .execute(params![
                step_id,
                to.as_str(),
                state.attempts,
                state.flaky,
                state.results.as_ref().map(json_text),
                state.error.as_ref().map(|e| e.class.as_str()),
                state.error.as_ref().map(|e| e.message.as_str()),
                state.next_retry_at,
                state.started_at,
                state.finished_at,
                now,
                from.as_str(),
                state.counted,
            ])?;
        if changed == 0 {
            return Err(StoreError::Conflict {
                entity: "step",
                id: step_id,
                expected: from,
            });
        }
        tx.prepare_cached(
            "UPDATE workflow_step_transitions SET most_recent = 0 WHERE workflow_step_id = ?1 AND most_recent = 1",
        )?
        .execute([step_id])?;
        tx.prepare_cached(
            "INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, sort_key, most_recent, metadata, created_at,
                event_seq, event_at, event_attempt, event_ms, discovered)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM workflow_step_transitions WHERE workflow_step_id = ?1), 1, ?4, ?5,
                ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            step_id,
            from.as_str(),
            to.as_str(),
            metadata,
            now,
            restates.map(|r| r.seq as i64),
            restates.map(|r| r.at),
            restates.map(|r| r.attempt),
            restates.map(|r| r.ms as i64),
            restates.and_then(|r| r.discovered),
        ])?;
        Ok(())
    }
}

/// Shares the text of names that repeat across many rows (namespaces, templates, steps).
#[derive(Default)]
struct Interner(std::collections::HashMap<String, std::sync::Arc<str>>);

impl Interner {
    fn get(
        &mut self,
        row: &rusqlite::Row<'_>,
        i: usize,
    ) -> Result<std::sync::Arc<str>, StoreError> {
        let text = row
            .get_ref(i)?
            .as_str()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Some(shared) = self.0.get(text) {
            return Ok(std::sync::Arc::clone(shared));
        }
        let shared: std::sync::Arc<str> = text.into();
        self.0
            .insert(text.to_owned(), std::sync::Arc::clone(&shared));
        Ok(shared)
    }
}

// The trait's methods, each written in the file of its concern (write, read, facts).
impl Store for SqliteStore {
    fn insert_task(&mut self, new: &NewTask<'_>, opening: &Opening) -> Result<Created, StoreError> {
        SqliteStore::insert_task(self, new, opening)
    }

    fn apply(
        &mut self,
        fence: Option<(TaskId, &Owner)>,
        changes: &[Change],
    ) -> Result<(), StoreError> {
        SqliteStore::apply(self, fence, changes)
    }

    fn task(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        SqliteStore::task(self, id)
    }

    fn task_head(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        SqliteStore::task_head(self, id)
    }

    fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskSummary>, StoreError> {
        SqliteStore::list_tasks(self, filter)
    }

    fn transitions(&self, id: TaskId) -> Result<Vec<Transition>, StoreError> {
        SqliteStore::transitions(self, id)
    }

    fn attempts(&self, step_id: StepId) -> Result<Vec<AttemptRecord>, StoreError> {
        SqliteStore::attempts(self, step_id)
    }

    fn claim(
        &mut self,
        task_id: TaskId,
        owner: &Owner,
        alive: &dyn Fn(&Owner, Option<i64>) -> bool,
    ) -> Result<i64, StoreError> {
        SqliteStore::claim(self, task_id, owner, alive)
    }

    fn restates_events(&self) -> bool {
        true
    }

    fn data_version(&self) -> Result<Option<i64>, StoreError> {
        Self::data_version_in(&self.conn).map(Some)
    }

    fn take_created(&mut self, new: &NewTask<'_>, opening: &Opening) -> Option<(TaskRecord, i64)> {
        let written = self.created.take()?;
        Some(write::created_record(new, opening, written))
    }

    fn check_file(&self) -> Result<(), StoreError> {
        SqliteStore::check_file(self)
    }

    fn heartbeat(&mut self, task_id: TaskId, owner: &Owner) -> Result<(), StoreError> {
        SqliteStore::heartbeat(self, task_id, owner)
    }

    fn task_facts(&self, w: &Window, each: &mut dyn FnMut(TaskFact)) -> Result<(), StoreError> {
        SqliteStore::task_facts(self, w, each)
    }

    fn step_facts(&self, w: &Window, each: &mut dyn FnMut(StepFact)) -> Result<(), StoreError> {
        SqliteStore::step_facts(self, w, each)
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        SqliteStore::counts(self)
    }

    fn running(&self) -> Result<Vec<RunningTask>, StoreError> {
        SqliteStore::running(self)
    }

    fn failed_since(&self, since: i64) -> Result<u64, StoreError> {
        SqliteStore::failed_since(self, since)
    }

    fn last_event_seq(&self, task_id: TaskId) -> Result<u64, StoreError> {
        SqliteStore::last_event_seq(self, task_id)
    }

    fn events(&self, task_id: TaskId, after: u64, limit: usize) -> Result<Vec<Json>, StoreError> {
        SqliteStore::events(self, task_id, after, limit)
    }

    fn annotate(&mut self, task_id: TaskId, kind: &str, note: &Json) -> Result<i64, StoreError> {
        SqliteStore::annotate(self, task_id, kind, note)
    }

    fn user_annotations(&self, task_id: TaskId) -> Result<Vec<Annotation>, StoreError> {
        SqliteStore::user_annotations(self, task_id)
    }

    fn annotations(
        &self,
        task_id: TaskId,
        kind: &str,
        after: i64,
    ) -> Result<Vec<(i64, Json)>, StoreError> {
        SqliteStore::annotations(self, task_id, kind, after)
    }
}

/// What a SQLite failure means, then SQLite's own words in parentheses.
pub(super) fn describe(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    let Some(code) = e.sqlite_error_code() else {
        return e.to_string();
    };
    let what = match code {
        C::DiskFull => "the disk is full (or the store reached its size limit)",
        C::SystemIoFailure => {
            "the store could not be written or read (a full disk, a file-size limit, a file or device made read-only, a failing device)"
        }
        C::DatabaseBusy | C::DatabaseLocked => {
            "the store is locked by another process and stayed locked past the 10 s busy timeout"
        }
        C::ReadOnly => {
            "the store is read-only (check the permissions of the file and its directory)"
        }
        C::DatabaseCorrupt | C::NotADatabase => {
            "the file is not a tasker store, or it is damaged: check the `--db` path; a damaged store is restored from a backup"
        }
        C::CannotOpen => "the store file cannot be opened (was it removed?)",
        _ => return e.to_string(),
    };
    format!("{what} ({e})")
}

/// SQLite's failures as the store's kinds, in words the user can act on.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode as C;
        let kind = match e.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => Failure::Busy,
            Some(C::DiskFull) => Failure::Full,
            Some(C::ReadOnly) => Failure::ReadOnly,
            Some(C::DatabaseCorrupt | C::NotADatabase) => Failure::Corrupt,
            Some(C::SystemIoFailure | C::CannotOpen) => Failure::Io,
            _ => Failure::Other,
        };
        StoreError::Backend {
            kind,
            message: describe(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema the migrations build, as SQLite records it.
    /// The schema's objects, their SQL with runs of white space as one space (a column a
    /// migration added sits on the line before, where `schema.sql` gives it a line).
    fn dump(conn: &Connection) -> Vec<(String, String, String)> {
        let mut stmt = conn
            .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name")
            .expect("query");
        let spaced = |sql: String| sql.split_whitespace().collect::<Vec<_>>().join(" ");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, spaced(r.get(2)?))))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("collect")
    }

    /// Events `seqs` of task 1, as one commit.
    fn events_of(seqs: impl IntoIterator<Item = u64>) -> Vec<Change> {
        seqs.into_iter()
            .map(|seq| Change::Event {
                task_id: 1,
                seq,
                name: "x".into(),
                doc: format!("{{\"seq\":{seq}}}"),
            })
            .collect()
    }

    /// The log is written a page per run of consecutive events (64 at most) and read back
    /// event by event, from any point, as if each had its row.
    #[test]
    fn the_log_is_paged_and_read_from_any_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(&dir.path().join("t.db"), false).expect("open");
        store
            .conn
            .execute_batch(
                "INSERT INTO task_namespaces VALUES (1, 'default', NULL, 0);
                 INSERT INTO named_tasks VALUES (1, 1, 't', '1', NULL, 'h', '', 0);
                 INSERT INTO tasks (task_id, uuid, named_task_id, identity, workdir, created_at, updated_at)
                     VALUES (1, 'u', 1, 'i', '.', 0, 0);",
            )
            .expect("task");
        store.apply(None, &events_of(1..=70)).expect("commit");
        let rows: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 2, "64 events a page");
        let seqs = |store: &SqliteStore, after: u64, limit: usize| -> Vec<u64> {
            store
                .events(1, after, limit)
                .expect("read")
                .iter()
                .map(|e| e["seq"].as_u64().expect("seq"))
                .collect()
        };
        assert_eq!(seqs(&store, 0, 1000), (1..=70).collect::<Vec<_>>());
        assert_eq!(seqs(&store, 60, 5), vec![61, 62, 63, 64, 65]);
        assert_eq!(seqs(&store, 63, 1), vec![64]);
        assert_eq!(seqs(&store, 64, 10), (65..=70).collect::<Vec<_>>());
        assert_eq!(seqs(&store, 70, 10), Vec::<u64>::new());
        // A second writer numbering an event already recorded changes nothing.
        let again = store.apply(
            None,
            &events_of([71, 72])
                .into_iter()
                .chain(events_of([70]))
                .collect::<Vec<_>>(),
        );
        assert!(
            matches!(again, Err(StoreError::Backend { .. })),
            "{again:?}"
        );
        assert_eq!(store.last_event_seq(1).expect("last"), 70);
        store.apply(None, &events_of([71, 72, 74])).expect("commit");
        assert_eq!(store.last_event_seq(1).expect("last"), 74);
        assert_eq!(seqs(&store, 69, 10), vec![70, 71, 72, 74]);
    }

    /// A task's rows are written with foreign keys unchecked; the connection checks them
    /// again afterwards, whether the task was created or found by its key.
    #[test]
    fn foreign_keys_are_checked_again_once_a_task_is_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(&dir.path().join("t.db"), false).expect("open");
        let template = crate::templates::from_str(
            "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a] }\n",
            "t.yml",
        )
        .expect("template");
        let context = serde_json::json!({});
        let new = NewTask {
            idempotency_key: Some("k"),
            ..NewTask::for_tests(&template, &context)
        };
        let checked = |store: &SqliteStore| -> i64 {
            store
                .conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .expect("pragma")
        };
        assert!(matches!(store.create_task(&new), Ok(Created::New(1))));
        assert_eq!(checked(&store), 1);
        assert!(matches!(store.create_task(&new), Ok(Created::Existing(1))));
        assert_eq!(checked(&store), 1);
        let broken = store.conn.execute(
            "INSERT INTO step_attempts (workflow_step_id, attempt, started_at) VALUES (999, 1, 0)",
            [],
        );
        assert!(broken.is_err(), "an attempt of no step is refused");
        assert!(store.check().expect("check").is_empty());
    }

    /// A task's steps and their parents read back the same whether their ids are a range in
    /// the order of their positions (as a task is written), a range in another order, or
    /// not a range (rows moved).
    #[test]
    fn parents_are_read_back_whatever_the_step_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(&dir.path().join("t.db"), false).expect("open");
        let template = crate::templates::from_str(
            "name: t\nsteps:\n  - { name: a, noop: true }\n  - { name: b, noop: true }\n  - { name: c, noop: true, depends_on: [a, b] }\n  - { name: d, noop: true, depends_on: [c] }\n",
            "t.yml",
        )
        .expect("template");
        let context = serde_json::json!({});
        let new = NewTask::for_tests(&template, &context);
        let id = store.create_task(&new).expect("create").task_id();
        let parents = |store: &SqliteStore| -> Vec<(String, Vec<usize>)> {
            let task = store.task(id).expect("read").expect("task");
            task.steps
                .into_iter()
                .map(|s| (s.name, s.parents))
                .collect()
        };
        let expected = vec![
            ("a".to_owned(), vec![]),
            ("b".to_owned(), vec![]),
            ("c".to_owned(), vec![0, 1]),
            ("d".to_owned(), vec![2]),
        ];
        assert_eq!(parents(&store), expected);
        // Steps `c` and `d` swap ids: still a range, but not in the order of positions.
        store
            .conn
            .execute_batch(
                "PRAGMA foreign_keys = OFF;
                 UPDATE workflow_steps SET workflow_step_id = 100 WHERE name = 'c';
                 UPDATE workflow_steps SET workflow_step_id = 3 WHERE name = 'd';
                 UPDATE workflow_steps SET workflow_step_id = 4 WHERE name = 'c';
                 UPDATE workflow_steps SET parents = '[4]' WHERE name = 'd';
                 PRAGMA foreign_keys = ON;",
            )
            .expect("swap");
        assert_eq!(parents(&store), expected);
        // Step `b` (and its edge) moved far from the others.
        store
            .conn
            .execute_batch(
                "PRAGMA foreign_keys = OFF;
                 UPDATE workflow_steps SET workflow_step_id = 900 WHERE name = 'b';
                 UPDATE workflow_steps SET parents = '[ 1, 900 ]' WHERE name = 'c';
                 PRAGMA foreign_keys = ON;",
            )
            .expect("move");
        assert_eq!(parents(&store), expected);
        assert!(store.check().expect("check").is_empty());
        // A parent that is not a step of the task, or a list that is not one, is a corrupt
        // store named as such, not a step without its parent; `db check` finds both.
        for (list, said, found) in [
            (
                "'[1, 77]'",
                "task 1, step `c`: its `parents`: 77 is not one of the task's steps",
                "parents: workflow_steps row 4 names 77, not a step of task 1",
            ),
            (
                "'1,900'",
                "task 1, step `c`: its `parents`: `1,900` is not a JSON array of step ids",
                "parents: workflow_steps row 4: `1,900` is not a JSON array of step ids",
            ),
            (
                "'[1,\"b\"]'",
                "`[1,\"b\"]` is not a JSON array of step ids",
                "parents: workflow_steps row 4: `[1,\"b\"]` is not",
            ),
            (
                "X'5b315d'",
                "its `parents`",
                "parents: workflow_steps row 4: not a text",
            ),
        ] {
            store
                .conn
                .execute(
                    &format!("UPDATE workflow_steps SET parents = {list} WHERE name = 'c'"),
                    [],
                )
                .expect("break");
            let err = store.task(id).expect_err("corrupt").to_string();
            assert!(err.contains(said), "{list}: {err}");
            let problems = store.check().expect("check");
            assert!(
                problems.iter().any(|p| p.contains(found)),
                "{list}: {problems:?}"
            );
        }
        // A task whose step ids are a range (positions from ids by subtraction): an id far
        // below the range is not one of its steps either.
        let other = store.create_task(&new).expect("create").task_id();
        store
            .conn
            .execute(
                "UPDATE workflow_steps SET parents = '[-9223372036854775808]' WHERE task_id = ?1 AND name = 'c'",
                [other],
            )
            .expect("break");
        let err = store.task(other).expect_err("corrupt").to_string();
        assert!(
            err.contains(
                "step `c`: its `parents`: -9223372036854775808 is not one of the task's steps"
            ),
            "{err}"
        );
    }

    /// Steps are written a hundred to a statement, each with its parents, and their names
    /// too: every edge is read back, and seen through the `workflow_step_edges` view, and
    /// every step refers to its own name, whatever the count, new names or known.
    #[test]
    fn every_edge_is_written_whatever_their_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(&dir.path().join("t.db"), false).expect("open");
        let context = serde_json::json!({});
        for joins in [0usize, 1, 99, 100, 101, 250] {
            // `joins` steps that each depend on both roots: two edges each.
            let mut yaml =
                "name: t\nsteps:\n  - { name: a, noop: true }\n  - { name: b, noop: true }\n"
                    .to_owned();
            for n in 0..joins {
                yaml.push_str(&format!(
                    "  - {{ name: j{n}, noop: true, depends_on: [a, b] }}\n"
                ));
            }
            let template = crate::templates::from_str(&yaml, "t.yml").expect("template");
            let id = store
                .create_task(&NewTask::for_tests(&template, &context))
                .expect("create")
                .task_id();
            let task = store.task(id).expect("read").expect("task");
            let parents: Vec<Vec<usize>> = task.steps.into_iter().map(|s| s.parents).collect();
            let mut expected = vec![vec![], vec![]];
            expected.extend(std::iter::repeat_n(vec![0, 1], joins));
            assert_eq!(parents, expected, "{joins} joins");
            let edges: i64 = store
                .conn
                .query_row(
                    "SELECT COUNT(*) FROM workflow_step_edges e JOIN workflow_steps s ON s.workflow_step_id = e.to_step_id WHERE s.task_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .expect("count");
            assert_eq!(edges as usize, 2 * joins);
            // Each step refers to its own name, new or known before.
            let misnamed: i64 = store
                .conn
                .query_row(
                    "SELECT COUNT(*) FROM workflow_steps s JOIN named_steps n USING (named_step_id)
                     WHERE s.task_id = ?1 AND s.name <> n.name",
                    [id],
                    |r| r.get(0),
                )
                .expect("count");
            assert_eq!(misnamed, 0, "{joins} joins");
        }
    }

    /// A new task's steps' creation events are written as where to read them (their rows),
    /// and read back, from any event on, as the events the task was created with.
    #[test]
    fn steps_creation_events_are_read_back_from_their_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(&dir.path().join("t.db"), false).expect("open");
        let mut yaml = String::from("name: t\nsteps:\n");
        for i in 0..150 {
            yaml.push_str(&format!(
                "  - {{ name: \"s{i} \\\"x\\\"\", noop: true, skippable: true }}\n"
            ));
        }
        let template = crate::templates::from_str(&yaml, "t.yml").expect("template");
        let context = serde_json::json!({"k": 1});
        let new = NewTask {
            bypass: &[7],
            ..NewTask::for_tests(&template, &context)
        };
        let opening = super::super::domain::opening(&new).expect("opening");
        let id = store.insert_task(&new, &opening).expect("create").task_id();
        let expected: Vec<Json> = opening
            .events
            .iter()
            .zip(1..)
            .map(|(e, seq)| {
                let mut e = e.clone();
                e.task_id = id;
                e.seq = seq;
                serde_json::from_str(&e.to_json_text()).expect("json")
            })
            .collect();
        assert_eq!(expected.len(), 152);
        let derived: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE payload LIKE '{\"derived\":%'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(derived, 3, "150 creation events in pages of 64");
        assert_eq!(store.events(id, 0, usize::MAX).expect("read"), expected);
        for (after, limit) in [
            (0, 1),
            (1, 5),
            (2, 64),
            (60, 10),
            (65, 200),
            (130, 30),
            (150, 5),
            (151, 9),
        ] {
            let got = store.events(id, after, limit).expect("read");
            let want: Vec<Json> = expected
                .iter()
                .skip(after as usize)
                .take(limit)
                .cloned()
                .collect();
            assert_eq!(got, want, "after {after}, {limit} at most");
        }
        assert_eq!(store.last_event_seq(id).expect("last"), 152);
    }

    #[test]
    fn schema_sql_matches_the_migrations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"), false).expect("open");
        let canonical = Connection::open_in_memory().expect("memory");
        canonical
            .execute_batch(include_str!("../../../schema.sql"))
            .expect("schema.sql runs");
        assert_eq!(dump(&store.conn), dump(&canonical));
    }

    /// The events a step's rows restate are read back between the log's pages, in order,
    /// from any event on and in windows of any size; a writer numbering one of them again
    /// is refused, as for an event in a page.
    #[test]
    fn events_rows_restate_read_back_between_the_pages() {
        use crate::store::{AttemptEnd, Restated};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(&dir.path().join("t.db"), false).expect("open");
        let yaml = "name: t\nsteps:\n  - { name: a, command: 'true' }\n  - { name: b, command: 'true', depends_on: [a] }\n  - { name: c, command: 'true', depends_on: [a] }\n";
        let template = crate::templates::from_str(yaml, "t.yml").expect("template");
        let context = serde_json::json!({});
        let new = NewTask::for_tests(&template, &context);
        let opening = super::super::domain::opening(&new).expect("opening");
        let id = store.insert_task(&new, &opening).expect("create").task_id();
        assert_eq!(id, 1, "events_of writes task 1's");
        let ids: Vec<i64> = store
            .task(id)
            .expect("read")
            .expect("task")
            .steps
            .iter()
            .map(|s| s.step_id)
            .collect();
        let move_of =
            |step_id: i64, from: State, to: State, restates: Option<Restated>| Change::Step {
                step_id,
                from,
                to,
                actor: crate::model::Actor::Engine,
                metadata: serde_json::json!({}).into(),
                state: StepState::default(),
                restates,
            };
        let step =
            |i: usize, from: State, to: State, r: Restated| move_of(ids[i], from, to, Some(r));
        let start = |i: usize, seq: u64, discovered: Option<u32>| {
            vec![
                step(
                    i,
                    State::Pending,
                    State::InProgress,
                    Restated {
                        seq,
                        at: 1000 + seq as i64,
                        attempt: 1,
                        ms: seq,
                        discovered,
                    },
                ),
                Change::AttemptStarted {
                    step_id: ids[i],
                    attempt: 1,
                },
            ]
        };
        let handling = |i: usize, seq: u64| Change::Handling {
            step_id: ids[i],
            attempt: 1,
            seq,
            at: 1000 + seq as i64,
            handler: "command",
        };
        let end = |i: usize, seq: u64| {
            vec![
                Change::AttemptFinished {
                    step_id: ids[i],
                    attempt: 1,
                    end: AttemptEnd {
                        outcome: State::Complete,
                        exit_code: Some(i as i32),
                        ..AttemptEnd::default()
                    },
                },
                step(
                    i,
                    State::InProgress,
                    State::Complete,
                    Restated {
                        seq,
                        at: 1000 + seq as i64,
                        attempt: 1,
                        ms: 7,
                        discovered: None,
                    },
                ),
            ]
        };
        // 1–4 created; 5, 6 in a page, 7 (the discovery of a) and 8 (its start) on its row.
        let mut a = events_of([5, 6]);
        a.extend(start(0, 8, Some(1)));
        store.apply(None, &a).expect("commit");
        // Read after each commit, by this connection (which keeps what it read, and reads
        // what was written since) and by a new one (which reads it all): the same log.
        let path = dir.path().join("t.db");
        let agree = |store: &SqliteStore, last: u64| {
            let fresh = SqliteStore::open(&path, false).expect("open");
            let kept = store.events(id, 0, usize::MAX).expect("read");
            assert_eq!(kept, fresh.events(id, 0, usize::MAX).expect("read"));
            let seqs: Vec<u64> = kept
                .iter()
                .map(|e| e["seq"].as_u64().expect("seq"))
                .collect();
            assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
        };
        agree(&store, 8);
        // 9 a's handler (written with its end), 10 a done, 11 b and c discovered, 12 and 13
        // their starts.
        let mut b = end(0, 10);
        b.push(handling(0, 9));
        b.extend(start(1, 12, Some(2)));
        b.extend(start(2, 13, None));
        store.apply(None, &b).expect("commit");
        agree(&store, 13);
        // Another task's creation changes the store, not what this log holds so far.
        let other = store.insert_task(&new, &opening).expect("create").task_id();
        assert_ne!(other, id);
        assert_eq!(store.events(id, 9, 4).expect("read").len(), 4);
        // 14, 15 their handlers (b's written with its process, c's alone), 16 in a page, 17
        // and 18 done, 19 and 20 in a page.
        let process = Change::AttemptProcess {
            step_id: ids[1],
            attempt: 1,
            pid: 4321,
            started_at: 5,
        };
        let mut c = vec![process, handling(1, 14), handling(2, 15)];
        c.extend(events_of([16]));
        c.extend(end(1, 17));
        c.extend(end(2, 18));
        c.extend(events_of([19, 20]));
        store.apply(None, &c).expect("commit");
        agree(&store, 20);

        let all = store.events(id, 0, usize::MAX).expect("read");
        let seqs: Vec<u64> = all
            .iter()
            .map(|e| e["seq"].as_u64().expect("seq"))
            .collect();
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
        let name = |seq: usize| all[seq - 1]["name"].as_str().unwrap_or("").to_owned();
        assert_eq!(name(7), "workflow.viable_steps_discovered");
        assert_eq!(all[6]["steps"], serde_json::json!(["a"]));
        assert_eq!(name(8), "step.execution_requested");
        assert_eq!(all[7]["queue_wait_ms"], 8);
        assert_eq!(all[7]["timestamp"], crate::clock::rfc3339(1008));
        assert_eq!(name(9), "step.before_handle");
        assert_eq!(all[8]["handler"], "command");
        assert_eq!(name(10), "step.completed");
        assert_eq!(
            (&all[9]["duration_ms"], &all[9]["exit_code"]),
            (&serde_json::json!(7), &serde_json::json!(0))
        );
        assert_eq!(all[10]["steps"], serde_json::json!(["b", "c"]));
        assert_eq!(all[10]["count"], 2);
        assert_eq!(
            (name(12), name(13)),
            (
                "step.execution_requested".into(),
                "step.execution_requested".into()
            )
        );
        assert_eq!(all[16]["exit_code"], 1);
        assert_eq!(all[17]["step_name"], "c");
        assert_eq!(store.last_event_seq(id).expect("last"), 20);
        for after in 0..=20 {
            for limit in 1..=21 {
                let got = store.events(id, after, limit).expect("read");
                let end = (after as usize + limit).min(20);
                assert_eq!(
                    got,
                    all[after as usize..end],
                    "after {after}, {limit} at most"
                );
            }
        }
        let pages: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE task_id = ?1",
                [id],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(pages, 5, "two pages of creation, 5–6, 16, 19–20");
        // Another writer numbering an event a row restates is refused, and changes nothing.
        for seq in [11, 13, 18] {
            let again = store.apply(None, &events_of([seq]));
            assert!(
                matches!(again, Err(StoreError::Backend { .. })),
                "{seq}: {again:?}"
            );
        }
        assert_eq!(store.events(id, 0, usize::MAX).expect("read"), all);

        // Rows removed (`db prune` of a task whose transitions were the newest): a later
        // transition may take one of their ids, and is read all the same.
        let theirs: Vec<i64> = store
            .task(other)
            .expect("read")
            .expect("task")
            .steps
            .iter()
            .map(|s| s.step_id)
            .collect();
        let kept = |seq: u64, attempt: u32| Restated {
            seq,
            at: 2000,
            attempt,
            ms: 0,
            discovered: None,
        };
        store
            .apply(
                None,
                &[
                    move_of(
                        theirs[0],
                        State::Pending,
                        State::InProgress,
                        Some(kept(5, 1)),
                    ),
                    move_of(
                        theirs[1],
                        State::Pending,
                        State::InProgress,
                        Some(kept(6, 1)),
                    ),
                ],
            )
            .expect("commit");
        agree(&store, 20);
        store
            .conn
            .execute("DELETE FROM tasks WHERE task_id = ?1", [other])
            .expect("prune");
        store
            .apply(
                None,
                &[
                    move_of(ids[0], State::Complete, State::Pending, None),
                    move_of(ids[0], State::Pending, State::InProgress, Some(kept(21, 2))),
                    Change::AttemptStarted {
                        step_id: ids[0],
                        attempt: 2,
                    },
                ],
            )
            .expect("commit");
        agree(&store, 21);
    }
}
