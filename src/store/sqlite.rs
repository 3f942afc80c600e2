//! The SQLite store: WAL, busy timeout, foreign keys, numbered migrations.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::Value as Json;

use super::{
    Annotation, AttemptRecord, Change, Counts, Created, Failure, INTERNAL_ANNOTATIONS, Maintenance,
    NewTask, Opening, Owner, Request, RunningTask, StepError, StepFact, StepId, StepRecord,
    StepState, Store, StoreError, TaskFact, TaskFilter, TaskId, TaskRecord, TaskSummary,
    Transition, Window,
};
use crate::clock::now_ms;
use crate::model::State;

/// What `prune` removed (or would remove).
#[derive(Debug, Clone, Copy, Default, serde::Serialize, PartialEq, Eq)]
pub struct Pruned {
    pub tasks: u64,
    pub steps: u64,
    pub attempts: u64,
    pub events: u64,
}

/// Migrations in order; `PRAGMA user_version` counts how many were applied.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_initial.sql")];

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
        tx: &Transaction<'_>,
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
        .execute(params![task_id, from.as_str(), to.as_str(), metadata.to_string(), now])?;
        Ok(())
    }

    fn step_transition(
        tx: &Transaction<'_>,
        step_id: StepId,
        from: State,
        to: State,
        metadata: &Json,
        state: &StepState,
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
                state.results.as_ref().map(Json::to_string),
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
            "INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM workflow_step_transitions WHERE workflow_step_id = ?1), 1, ?4, ?5)",
        )?
        .execute(params![step_id, from.as_str(), to.as_str(), metadata.to_string(), now])?;
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

fn state_of(text: &str) -> Result<State, StoreError> {
    text.parse::<State>().map_err(StoreError::Corrupt)
}

fn json_of(text: Option<String>) -> Result<Option<Json>, StoreError> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

fn error_of(
    class: Option<String>,
    message: Option<String>,
) -> Result<Option<StepError>, StoreError> {
    class
        .map(|class| {
            Ok(StepError {
                class: class.parse().map_err(StoreError::Corrupt)?,
                message: message.unwrap_or_default(),
            })
        })
        .transpose()
}

impl Store for SqliteStore {
    fn insert_task(&mut self, new: &NewTask<'_>, opening: &Opening) -> Result<Created, StoreError> {
        let now = now_ms();
        let t = new.template;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO task_namespaces (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![t.namespace, now],
        )?;
        let namespace_id: i64 = tx.query_row(
            "SELECT task_namespace_id FROM task_namespaces WHERE name = ?1",
            [&t.namespace],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO named_tasks (task_namespace_id, name, version, description, content_hash, template, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (task_namespace_id, name, version, content_hash) DO NOTHING",
            params![namespace_id, t.name, t.version, t.description, new.content_hash, new.source, now],
        )?;
        let named_task_id: i64 = tx.query_row(
            "SELECT named_task_id FROM named_tasks
             WHERE task_namespace_id = ?1 AND name = ?2 AND version = ?3 AND content_hash = ?4",
            params![namespace_id, t.name, t.version, new.content_hash],
            |r| r.get(0),
        )?;
        let identity = format!("{}/{}@{}", t.namespace, t.name, t.version);
        if let Some(key) = new.idempotency_key {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT task_id FROM tasks WHERE identity = ?1 AND idempotency_key = ?2",
                    params![identity, key],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = existing {
                return Ok(Created::Existing(id));
            }
        }
        let uuid = uuid::Uuid::new_v4().to_string();
        tx.execute(
            "INSERT INTO tasks (uuid, named_task_id, identity, environment, status, context, workdir, initiator,
                                source_system, reason, tags, idempotency_key, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
            params![
                uuid,
                named_task_id,
                identity,
                new.environment,
                new.context.to_string(),
                new.workdir,
                new.initiator,
                new.source_system,
                new.reason,
                serde_json::to_string(new.tags).unwrap_or_else(|_| "[]".into()),
                new.idempotency_key,
                now
            ],
        )?;
        let task_id = tx.last_insert_rowid();
        let mut step_ids = Vec::with_capacity(t.steps.len());
        {
            let mut named = tx.prepare_cached(
                "INSERT INTO named_steps (dependent_system, name, description, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (dependent_system, name) DO UPDATE SET description = COALESCE(excluded.description, description)
                 RETURNING named_step_id",
            )?;
            let mut step = tx.prepare_cached(
                "INSERT INTO workflow_steps (task_id, named_step_id, name, position, retry_limit, retryable, skippable, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )?;
            let mut edge = tx.prepare_cached(
                "INSERT INTO workflow_step_edges (from_step_id, to_step_id) VALUES (?1, ?2)",
            )?;
            for (i, s) in t.steps.iter().enumerate() {
                let named_id: i64 = named.query_row(
                    params![
                        s.dependent_system.as_deref().unwrap_or(""),
                        s.name,
                        s.description,
                        now
                    ],
                    |r| r.get(0),
                )?;
                step.execute(params![
                    task_id,
                    named_id,
                    s.name,
                    i as i64,
                    s.retry.limit,
                    s.retry.retryable,
                    s.skippable,
                    now
                ])?;
                step_ids.push(tx.last_insert_rowid());
            }
            for (i, s) in t.steps.iter().enumerate() {
                for &p in &s.parents {
                    edge.execute(params![step_ids[p], step_ids[i]])?;
                }
            }
        }
        for s in &opening.steps {
            let Some(&step_id) = step_ids.get(s.position) else {
                continue;
            };
            Self::step_transition(&tx, step_id, s.from, s.to, &s.metadata, &s.state, now)?;
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (task_id, seq, name, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (n, e) in opening.events.iter().enumerate() {
                let mut e = e.clone();
                e.task_id = task_id;
                e.seq = n as u64 + 1;
                insert.execute(params![
                    task_id,
                    e.seq as i64,
                    e.name(),
                    e.to_json().to_string(),
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(Created::New(task_id))
    }

    fn apply(
        &mut self,
        fence: Option<(TaskId, &Owner)>,
        changes: &[Change],
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some((task_id, owner)) = fence {
            let holder = Self::owner_of(&tx, task_id)?;
            if holder.as_ref() != Some(owner) {
                return Err(StoreError::Fenced {
                    task_id,
                    by: holder,
                });
            }
        }
        for change in changes {
            match change {
                Change::Task {
                    task_id,
                    from,
                    to,
                    actor: _,
                    metadata,
                } => {
                    Self::task_transition(&tx, *task_id, *from, *to, metadata, now)?;
                }
                Change::Step {
                    step_id,
                    from,
                    to,
                    actor: _,
                    metadata,
                    state,
                } => {
                    Self::step_transition(&tx, *step_id, *from, *to, metadata, state, now)?;
                }
                Change::AttemptStarted { step_id, attempt } => {
                    tx.prepare_cached(
                        "INSERT INTO step_attempts (workflow_step_id, attempt, started_at) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![step_id, attempt, now])?;
                }
                Change::Event {
                    task_id,
                    seq,
                    name,
                    doc,
                } => {
                    tx.prepare_cached(
                        "INSERT INTO events (task_id, seq, name, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![task_id, *seq as i64, name, doc.to_string(), now])?;
                }
                Change::Trace {
                    task_id,
                    traceparent,
                } => {
                    tx.prepare_cached("UPDATE tasks SET traceparent = ?2 WHERE task_id = ?1")?
                        .execute(params![task_id, traceparent])?;
                }
                Change::AttemptProcess {
                    step_id,
                    attempt,
                    pid,
                    started_at,
                } => {
                    tx.prepare_cached(
                        "UPDATE step_attempts SET pid = ?3, pid_started_at = ?4
                         WHERE workflow_step_id = ?1 AND attempt = ?2",
                    )?
                    .execute(params![step_id, attempt, pid, started_at])?;
                }
                Change::AttemptFinished {
                    step_id,
                    attempt,
                    end,
                } => {
                    tx.prepare_cached(
                        "UPDATE step_attempts SET finished_at = ?3, outcome = ?4, exit_code = ?5, signal = ?6,
                            error_class = ?7, error_message = ?8, stdout = ?9, stderr = ?10,
                            stdout_dropped = ?11, stderr_dropped = ?12, custom_events = ?13
                         WHERE workflow_step_id = ?1 AND attempt = ?2",
                    )?
                    .execute(params![
                        step_id,
                        attempt,
                        now,
                        end.outcome.as_str(),
                        end.exit_code,
                        end.signal,
                        end.error.as_ref().map(|e| e.class.as_str()),
                        end.error.as_ref().map(|e| e.message.as_str()),
                        end.stdout,
                        end.stderr,
                        end.stdout_dropped as i64,
                        end.stderr_dropped as i64,
                        (!end.custom_events.is_empty())
                            .then(|| Json::Array(end.custom_events.clone()).to_string()),
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn task(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT t.task_id, t.uuid, nt.name, ns.name, nt.version, t.status, t.context, nt.template,
                        nt.content_hash, t.workdir, t.owner_pid, t.owner_host, t.owner_started_at,
                        t.created_at, t.updated_at, t.started_at, t.finished_at, t.environment,
                        t.initiator, t.source_system, t.reason, t.tags, t.idempotency_key, t.heartbeat_at,
                        t.traceparent
                 FROM tasks t
                 JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
                 JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
                 WHERE t.task_id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                    ),
                    (
                        r.get::<_, String>(9)?,
                        r.get::<_, Option<u32>>(10)?,
                        r.get::<_, Option<String>>(11)?,
                        r.get::<_, Option<i64>>(12)?,
                        r.get::<_, i64>(13)?,
                        r.get::<_, i64>(14)?,
                        r.get::<_, Option<i64>>(15)?,
                        r.get::<_, Option<i64>>(16)?,
                    ),
                    (
                        r.get::<_, Option<String>>(17)?,
                        Request {
                            initiator: r.get(18)?,
                            source_system: r.get(19)?,
                            reason: r.get(20)?,
                            tags: Vec::new(),
                            idempotency_key: r.get(22)?,
                        },
                        r.get::<_, Option<i64>>(23)?,
                        r.get::<_, Option<String>>(24)?,
                        r.get::<_, String>(21)?,
                    ),
                ))
            })
            .optional()?;
        let Some((
            (
                task_id,
                uuid,
                name,
                namespace,
                version,
                status,
                context,
                template_source,
                content_hash,
            ),
            (workdir, pid, host, owner_started, created_at, updated_at, started_at, finished_at),
            (environment, mut request, heartbeat_at, traceparent, tags),
        )) = row
        else {
            return Ok(None);
        };

        request.tags = serde_json::from_str(&tags).map_err(|e| {
            StoreError::Corrupt(format!(
                "task {id}: its `tags` are not a JSON list of strings ({e})"
            ))
        })?;
        let mut sessions: Vec<(i64, Option<i64>)> = Vec::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT to_state, created_at FROM task_transitions WHERE task_id = ?1 ORDER BY sort_key",
            )?;
            let mut rows = stmt.query([id])?;
            while let Some(r) = rows.next()? {
                let started = r.get_ref(0)?.as_str().ok() == Some("in_progress");
                session_step(&mut sessions, started, r.get(1)?);
            }
        }
        let mut steps = Vec::new();
        let mut ids = std::collections::HashMap::with_capacity(1024);
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT workflow_step_id, name, position, status, attempts, retry_limit, retryable, flaky,
                        results, error_class, error_message, next_retry_at, started_at, finished_at,
                        counted_attempts
                 FROM workflow_steps WHERE task_id = ?1",
            )?;
            // Sorted here: SQLite's sorter costs five times the scan on a big task.
            let mut rows = stmt.query([id])?;
            while let Some(r) = rows.next()? {
                let step_id: i64 = r.get(0)?;
                let position: i64 = r.get(2)?;
                let name: String = r.get(1)?;
                let at = |what: &str| {
                    let (name, what) = (name.clone(), what.to_owned());
                    move |e: StoreError| match e {
                        StoreError::Corrupt(m) => StoreError::Corrupt(format!(
                            "task {id}, step `{name}`: its `{what}`: {m}"
                        )),
                        other => other,
                    }
                };
                let status = state_of(&r.get::<_, String>(3)?).map_err(at("status"))?;
                let results = json_of(r.get(8)?).map_err(at("results"))?;
                let error = error_of(r.get(9)?, r.get(10)?).map_err(at("error_class"))?;
                steps.push(StepRecord {
                    step_id,
                    name,
                    position: position as usize,
                    status,
                    retry_limit: r.get(5)?,
                    retryable: r.get(6)?,
                    state: StepState {
                        attempts: r.get(4)?,
                        counted: r.get(14)?,
                        flaky: r.get(7)?,
                        results,
                        error,
                        next_retry_at: r.get(11)?,
                        started_at: r.get(12)?,
                        finished_at: r.get(13)?,
                    },
                    interrupted: 0,
                    parents: Vec::new(),
                });
            }
        }
        steps.sort_unstable_by_key(|s| s.position);
        // Only a step with uncounted attempts can have interrupted ones: few, if any.
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT COUNT(*) FROM step_attempts WHERE workflow_step_id = ?1 AND error_class = 'interrupted'",
            )?;
            for s in steps
                .iter_mut()
                .filter(|s| s.state.attempts > s.state.counted)
            {
                s.interrupted = stmt.query_row([s.step_id], |r| r.get(0))?;
            }
        }
        if steps.iter().enumerate().any(|(i, s)| s.position != i) {
            return Err(StoreError::Corrupt(format!(
                "task {id}: its steps' positions are not 0..{}",
                steps.len()
            )));
        }
        ids.extend(steps.iter().map(|s| (s.step_id, s.position)));
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT e.from_step_id, e.to_step_id FROM workflow_step_edges e
                 JOIN workflow_steps s ON s.workflow_step_id = e.to_step_id
                 WHERE s.task_id = ?1",
            )?;
            let mut rows = stmt.query([id])?;
            while let Some(r) = rows.next()? {
                let (from, to): (i64, i64) = (r.get(0)?, r.get(1)?);
                if let (Some(&f), Some(&t)) = (ids.get(&from), ids.get(&to)) {
                    steps[t].parents.push(f);
                }
            }
        }
        for s in &mut steps {
            s.parents.sort_unstable();
        }
        let owner = match (pid, host, owner_started) {
            (Some(pid), Some(host), Some(started_at)) => Some(Owner {
                pid,
                host,
                started_at,
            }),
            _ => None,
        };
        Ok(Some(TaskRecord {
            task_id,
            uuid,
            name,
            namespace,
            version,
            status: status
                .parse::<State>()
                .map_err(|m| StoreError::Corrupt(format!("task {id}: its `status`: {m}")))?,
            context: serde_json::from_str(&context).map_err(|e| {
                StoreError::Corrupt(format!("task {id}: its `context` is not JSON ({e})"))
            })?,
            template_source,
            content_hash,
            workdir,
            environment,
            request,
            traceparent,
            owner,
            heartbeat_at,
            created_at,
            updated_at,
            started_at,
            finished_at,
            sessions,
            steps,
        }))
    }

    fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.task_id, nt.name, ns.name, nt.version, t.status, t.created_at, t.started_at, t.finished_at,
                    (SELECT COUNT(*) FROM workflow_steps s WHERE s.task_id = t.task_id),
                    (SELECT COUNT(*) FROM workflow_steps s WHERE s.task_id = t.task_id
                        AND s.status IN ('complete', 'resolved_manually')),
                    (SELECT SUM(COALESCE(x.next_at, ?8) - x.created_at) FROM
                        (SELECT to_state, created_at,
                                LEAD(created_at) OVER (ORDER BY sort_key) AS next_at
                           FROM task_transitions WHERE task_id = t.task_id) x
                      WHERE x.to_state = 'in_progress') 
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             WHERE (?1 IS NULL OR t.status = ?1) AND (?2 IS NULL OR ns.name = ?2)
               AND (?3 IS NULL OR nt.name = ?3) AND (?4 IS NULL OR t.created_at >= ?4)
               AND (?6 IS NULL OR EXISTS (SELECT 1 FROM task_annotations a
                     WHERE a.task_id = t.task_id AND a.annotation_type = ?6
                       AND (?7 IS NULL OR a.annotation = ?7)))
             ORDER BY t.task_id DESC LIMIT ?5",
        )?;
        let (kind, value) = match &filter.annotation {
            Some((k, v)) => (Some(k.as_str()), v.as_deref()),
            None => (None, None),
        };
        let mut rows = stmt.query(params![
            filter.status.map(State::as_str),
            filter.namespace,
            filter.name,
            filter.since,
            filter.limit as i64,
            kind,
            value,
            now_ms()
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(TaskSummary {
                task_id: r.get(0)?,
                name: r.get(1)?,
                namespace: r.get(2)?,
                version: r.get(3)?,
                status: state_of(&r.get::<_, String>(4)?)?,
                created_at: r.get(5)?,
                started_at: r.get(6)?,
                finished_at: r.get(7)?,
                steps_total: r.get(8)?,
                steps_complete: r.get(9)?,
                running_ms: r.get::<_, Option<i64>>(10)?.map(|ms| ms.max(0) as u64),
            });
        }
        Ok(out)
    }

    fn transitions(&self, id: TaskId) -> Result<Vec<Transition>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT NULL, from_state, to_state, sort_key, most_recent, metadata, created_at, task_transition_id, 0
               FROM task_transitions WHERE task_id = ?1
             UNION ALL
             SELECT s.name, x.from_state, x.to_state, x.sort_key, x.most_recent, x.metadata, x.created_at,
                    x.workflow_step_transition_id, 1
               FROM workflow_step_transitions x JOIN workflow_steps s ON s.workflow_step_id = x.workflow_step_id
              WHERE s.task_id = ?1
             ORDER BY 7, 9, 8",
        )?;
        let mut rows = stmt.query([id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Transition {
                step_name: r.get(0)?,
                from_state: r
                    .get::<_, Option<String>>(1)?
                    .map(|s| state_of(&s))
                    .transpose()?,
                to_state: state_of(&r.get::<_, String>(2)?)?,
                sort_key: r.get(3)?,
                most_recent: r.get(4)?,
                metadata: json_of(r.get(5)?)?.unwrap_or(Json::Null),
                created_at: r.get(6)?,
            });
        }
        Ok(out)
    }

    fn attempts(&self, step_id: StepId) -> Result<Vec<AttemptRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT attempt, started_at, finished_at, outcome, exit_code, error_class, error_message, stdout, stderr,
                    stdout_dropped, stderr_dropped, pid, pid_started_at
             FROM step_attempts WHERE workflow_step_id = ?1 ORDER BY attempt",
        )?;
        let mut rows = stmt.query([step_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(AttemptRecord {
                attempt: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                outcome: r
                    .get::<_, Option<String>>(3)?
                    .map(|s| state_of(&s))
                    .transpose()?,
                exit_code: r.get(4)?,
                error: error_of(r.get(5)?, r.get(6)?)?,
                stdout: r.get::<_, Option<Vec<u8>>>(7)?.unwrap_or_default(),
                stderr: r.get::<_, Option<Vec<u8>>>(8)?.unwrap_or_default(),
                stdout_dropped: r.get::<_, i64>(9)?.max(0) as u64,
                stderr_dropped: r.get::<_, i64>(10)?.max(0) as u64,
                process: match (r.get::<_, Option<u32>>(11)?, r.get::<_, Option<i64>>(12)?) {
                    (Some(pid), started) => Some((pid, started.unwrap_or(0))),
                    _ => None,
                },
            });
        }
        Ok(out)
    }

    fn claim(
        &mut self,
        task_id: TaskId,
        owner: &Owner,
        alive: &dyn Fn(&Owner, Option<i64>) -> bool,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        type OwnerRow = (Option<u32>, Option<String>, Option<i64>, Option<i64>);
        let current: Option<OwnerRow> = tx
            .query_row(
                "SELECT owner_pid, owner_host, owner_started_at, heartbeat_at FROM tasks WHERE task_id = ?1",
                [task_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((Some(pid), Some(host), Some(started_at), heartbeat_at)) = current.clone() {
            let holder = Owner {
                pid,
                host,
                started_at,
            };
            if holder != *owner && alive(&holder, heartbeat_at) {
                return Err(StoreError::Owned {
                    task_id,
                    owner: holder,
                    heartbeat_at,
                });
            }
        }
        // Compare-and-set on what was read: a claimant that raced ahead changes the row,
        // and this one then takes nothing.
        let (pid, host, started, beat) = current.unwrap_or_default();
        let taken = tx.execute(
            "UPDATE tasks SET owner_pid = ?2, owner_host = ?3, owner_started_at = ?4, heartbeat_at = ?5
             WHERE task_id = ?1 AND owner_pid IS ?6 AND owner_host IS ?7 AND owner_started_at IS ?8
               AND heartbeat_at IS ?9",
            params![
                task_id,
                owner.pid,
                owner.host,
                owner.started_at,
                now_ms(),
                pid,
                host,
                started,
                beat
            ],
        )?;
        if taken == 0 {
            let holder = Self::owner_of(&tx, task_id)?;
            return Err(match holder {
                Some(owner) => StoreError::Owned {
                    task_id,
                    owner,
                    heartbeat_at: None,
                },
                None => StoreError::Conflict {
                    entity: "task",
                    id: task_id,
                    expected: State::Pending,
                },
            });
        }
        tx.commit()?;
        Ok(())
    }

    fn check_file(&self) -> Result<(), StoreError> {
        if self.file.is_some() && file_id(&self.path) != self.file {
            return Err(StoreError::Failed {
                path: self.path.display().to_string(),
                message: "its file was removed or replaced while the run used it; the run stopped, and what it did since is lost with the old file".into(),
            });
        }
        Ok(())
    }

    fn heartbeat(&mut self, task_id: TaskId, owner: &Owner) -> Result<(), StoreError> {
        let kept = self
            .conn
            .prepare_cached(
                "UPDATE tasks SET heartbeat_at = ?5
                 WHERE task_id = ?1 AND owner_pid = ?2 AND owner_host = ?3 AND owner_started_at = ?4",
            )?
            .execute(params![
                task_id,
                owner.pid,
                owner.host,
                owner.started_at,
                now_ms()
            ])?;
        if kept == 0 {
            return Err(StoreError::Fenced {
                task_id,
                by: Self::owner_of(&self.conn, task_id)?,
            });
        }
        Ok(())
    }

    fn task_facts(&self, w: &Window, each: &mut dyn FnMut(TaskFact)) -> Result<(), StoreError> {
        let resumed = self.resumed_sessions()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.task_id, ns.name, nt.name, t.status, t.started_at, t.finished_at
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             WHERE (?1 IS NULL OR t.created_at >= ?1) AND (?2 IS NULL OR ns.name = ?2)
               AND (?3 IS NULL OR nt.name = ?3)",
        )?;
        let mut rows = stmt.query(params![w.since, w.namespace, w.name])?;
        let mut names = Interner::default();
        while let Some(r) = rows.next()? {
            let (start, end): (Option<i64>, Option<i64>) = (r.get(4)?, r.get(5)?);
            let task_id: TaskId = r.get(0)?;
            each(TaskFact {
                task_id,
                namespace: names.get(r, 1)?,
                name: names.get(r, 2)?,
                status: state_of(&r.get::<_, String>(3)?)?,
                duration_ms: end.and_then(|end| running(&resumed, task_id, start, end)),
            });
        }
        Ok(())
    }

    fn step_facts(&self, w: &Window, each: &mut dyn FnMut(StepFact)) -> Result<(), StoreError> {
        let resumed = self.resumed_sessions()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.task_id, ns.name, nt.name, s.name, s.status, s.counted_attempts, s.started_at, s.finished_at,
                    s.next_retry_at IS NOT NULL
             FROM tasks t
             JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
             JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
             JOIN workflow_steps s ON s.task_id = t.task_id
             WHERE (?1 IS NULL OR t.created_at >= ?1) AND (?2 IS NULL OR ns.name = ?2)
               AND (?3 IS NULL OR nt.name = ?3)",
        )?;
        let mut rows = stmt.query(params![w.since, w.namespace, w.name])?;
        let mut names = Interner::default();
        while let Some(r) = rows.next()? {
            let status = state_of(
                r.get_ref(4)?
                    .as_str()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )?;
            let (start, end): (Option<i64>, Option<i64>) = (r.get(6)?, r.get(7)?);
            let ended = !matches!(status, State::Pending | State::InProgress);
            let task_id: TaskId = r.get(0)?;
            each(StepFact {
                task_id,
                namespace: names.get(r, 1)?,
                template: names.get(r, 2)?,
                step: names.get(r, 3)?,
                status,
                attempts: r.get(5)?,
                duration_ms: end
                    .filter(|_| ended)
                    .and_then(|end| running(&resumed, task_id, start, end)),
                retry_pending: r.get(8)?,
            });
        }
        Ok(())
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        for (sql, target) in [
            (
                "SELECT status, COUNT(*) FROM tasks GROUP BY status",
                &mut counts.tasks_by_state,
            ),
            (
                "SELECT status, COUNT(*) FROM workflow_steps GROUP BY status",
                &mut counts.steps_by_state,
            ),
        ] {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                target.insert(r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64);
            }
        }
        let (retryable, exhausted): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(next_retry_at), COUNT(*) - COUNT(next_retry_at)
                 FROM workflow_steps WHERE status = 'error'",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        counts.retryable_errors = retryable.max(0) as u64;
        counts.exhausted_errors = exhausted.max(0) as u64;
        Ok(counts)
    }

    fn running(&self) -> Result<Vec<RunningTask>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT task_id, owner_pid, owner_host, owner_started_at, heartbeat_at
             FROM tasks WHERE status = 'in_progress'",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let owner = match (
                r.get::<_, Option<u32>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ) {
                (Some(pid), Some(host), Some(started_at)) => Some(Owner {
                    pid,
                    host,
                    started_at,
                }),
                _ => None,
            };
            out.push(RunningTask {
                task_id: r.get(0)?,
                owner,
                heartbeat_at: r.get(4)?,
            });
        }
        Ok(out)
    }

    fn failed_since(&self, since: i64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM tasks WHERE status = 'error' AND finished_at >= ?1",
            )?
            .query_row([since], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn last_event_seq(&self, task_id: TaskId) -> Result<u64, StoreError> {
        let seq: i64 = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events WHERE task_id = ?1")?
            .query_row([task_id], |r| r.get(0))?;
        Ok(seq.max(0) as u64)
    }

    fn events(&self, task_id: TaskId, after: u64, limit: usize) -> Result<Vec<Json>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT payload FROM events WHERE task_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let mut rows = stmt.query(params![task_id, after as i64, limit as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(json_of(r.get(0)?)?.unwrap_or(Json::Null));
        }
        Ok(out)
    }

    fn annotate(&mut self, task_id: TaskId, kind: &str, note: &Json) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO task_annotations (task_id, annotation_type, annotation, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![task_id, kind, note.to_string(), now_ms()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn user_annotations(&self, task_id: TaskId) -> Result<Vec<Annotation>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT annotation_type, annotation, created_at FROM task_annotations
             WHERE task_id = ?1 ORDER BY task_annotation_id",
        )?;
        let mut rows = stmt.query([task_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let kind: String = r.get(0)?;
            if INTERNAL_ANNOTATIONS.contains(&kind.as_str()) {
                continue;
            }
            let created_ms: i64 = r.get(2)?;
            out.push(Annotation {
                kind,
                annotation: json_of(r.get(1)?)?.unwrap_or(Json::Null),
                created_ms,
                created_at: crate::clock::rfc3339(created_ms),
            });
        }
        Ok(out)
    }

    fn annotations(
        &self,
        task_id: TaskId,
        kind: &str,
        after: i64,
    ) -> Result<Vec<(i64, Json)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT task_annotation_id, annotation FROM task_annotations
             WHERE task_id = ?1 AND annotation_type = ?2 AND task_annotation_id > ?3
             ORDER BY task_annotation_id",
        )?;
        let mut rows = stmt.query(params![task_id, kind, after])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            out.push((id, json_of(r.get(1)?)?.unwrap_or(Json::Null)));
        }
        Ok(out)
    }
}

impl SqliteStore {
    /// The runner that owns task `task_id` now, if any.
    fn owner_of(conn: &Connection, task_id: TaskId) -> Result<Option<Owner>, StoreError> {
        let row: Option<(Option<u32>, Option<String>, Option<i64>)> = conn
            .prepare_cached(
                "SELECT owner_pid, owner_host, owner_started_at FROM tasks WHERE task_id = ?1",
            )?
            .query_row([task_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        Ok(match row {
            Some((Some(pid), Some(host), Some(started_at))) => Some(Owner {
                pid,
                host,
                started_at,
            }),
            _ => None,
        })
    }
}

impl Maintenance for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// The schema version of the open store.
    fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check` and `PRAGMA foreign_key_check`: the problems found, if any.
    fn check(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let line: String = r.get(0)?;
            if line != "ok" {
                problems.push(format!("integrity: {line}"));
            }
        }
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (table, rowid, parent): (String, Option<i64>, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?);
            problems.push(format!(
                "foreign key: {table} row {} refers to a missing {parent} row",
                rowid.map_or_else(|| "?".into(), |i| i.to_string())
            ));
        }
        Ok(problems)
    }

    /// Delete tasks created before `before` whose state is one of `states` (never one that
    /// is running), with everything that belongs to them; with `dry_run`, only count.
    fn prune(
        &mut self,
        before: i64,
        states: &[State],
        dry_run: bool,
    ) -> Result<Pruned, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS doomed (task_id INTEGER PRIMARY KEY); DELETE FROM doomed;")?;
        {
            let mut pick = tx.prepare(
                "INSERT INTO doomed SELECT task_id FROM tasks WHERE created_at < ?1 AND status = ?2 AND status <> 'in_progress'",
            )?;
            for st in states.iter().filter(|s| **s != State::InProgress) {
                pick.execute(params![before, st.as_str()])?;
            }
        }
        let count = |sql: &str| -> Result<u64, StoreError> {
            let n: i64 = tx.query_row(sql, [], |r| r.get(0))?;
            Ok(n.max(0) as u64)
        };
        let pruned = Pruned {
            tasks: count("SELECT COUNT(*) FROM doomed")?,
            steps: count("SELECT COUNT(*) FROM workflow_steps WHERE task_id IN (SELECT task_id FROM doomed)")?,
            attempts: count(
                "SELECT COUNT(*) FROM step_attempts WHERE workflow_step_id IN
                   (SELECT workflow_step_id FROM workflow_steps WHERE task_id IN (SELECT task_id FROM doomed))",
            )?,
            events: count("SELECT COUNT(*) FROM events WHERE task_id IN (SELECT task_id FROM doomed)")?,
        };
        if !dry_run {
            // Foreign keys cascade from tasks to everything that belongs to them.
            tx.execute(
                "DELETE FROM tasks WHERE task_id IN (SELECT task_id FROM doomed)",
                [],
            )?;
        }
        tx.execute_batch("DROP TABLE doomed;")?;
        tx.commit()?;
        Ok(pruned)
    }

    /// Rebuild the file to give freed pages back; its size before and after.
    fn vacuum(&mut self) -> Result<(u64, u64), StoreError> {
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let before = size(&self.path);
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
        Ok((before, size(&self.path)))
    }
}

/// The sessions (runs) of every task, by task.
type Resumed = std::collections::HashMap<TaskId, Vec<(i64, Option<i64>)>>;

/// A task transition at `at` closes the open session; one to `in_progress` opens the next.
fn session_step(sessions: &mut Vec<(i64, Option<i64>)>, to_in_progress: bool, at: i64) {
    if let Some(last) = sessions.last_mut()
        && last.1.is_none()
    {
        last.1 = Some(at);
    }
    if to_in_progress {
        sessions.push((at, None));
    }
}

/// The running time of `[start, end]` of a task: the time its runners worked on it.
fn running(resumed: &Resumed, task: TaskId, start: Option<i64>, end: i64) -> Option<u64> {
    match resumed.get(&task) {
        Some(sessions) => crate::model::running(start, Some(end), sessions, end),
        None => start.map(|s| (end - s).max(0) as u64),
    }
}

impl SqliteStore {
    /// The sessions of every task (one ordered pass over the transitions' index): a task
    /// interrupted, then cancelled, or failed and resolved later, is charged its runs only.
    fn resumed_sessions(&self) -> Result<Resumed, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT task_id, to_state, created_at FROM task_transitions ORDER BY task_id, sort_key",
        )?;
        let mut rows = stmt.query([])?;
        let mut out: Resumed = Resumed::new();
        while let Some(r) = rows.next()? {
            let started = r.get_ref(1)?.as_str().ok() == Some("in_progress");
            session_step(out.entry(r.get(0)?).or_default(), started, r.get(2)?);
        }
        Ok(out)
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
    fn dump(conn: &Connection) -> Vec<(String, String, String)> {
        let mut stmt = conn
            .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name")
            .expect("query");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("collect")
    }

    #[test]
    fn schema_sql_matches_the_migrations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"), false).expect("open");
        let canonical = Connection::open_in_memory().expect("memory");
        canonical
            .execute_batch(include_str!("../../schema.sql"))
            .expect("schema.sql runs");
        assert_eq!(dump(&store.conn), dump(&canonical));
    }
}
