//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// A scratch directory with its own store: a SQLite file in it, or a PostgreSQL database.
pub struct Sandbox {
    pub dir: TempDir,
    /// The PostgreSQL store's URL, when the store is one.
    pub url: Option<String>,
}

/// The store a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A fresh database of the tests' PostgreSQL.
    Postgres(String),
}

impl Backend {
    /// A fresh PostgreSQL database, if the tests have a PostgreSQL.
    pub fn postgres() -> Option<Backend> {
        postgres().map(|pg| Backend::Postgres(pg.database()))
    }
}

/// Tests written once, run on both stores: each `fn NAME(backend: &Backend)` becomes a module
/// `NAME` with the tests `sqlite` and `postgres` (the latter skipped, with a note, without a
/// PostgreSQL).
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&crate::support::Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                if let Some(backend) = crate::support::Backend::postgres() {
                    super::$name(&backend);
                }
            }
        }
    )+};
}
pub(crate) use on_both_stores;

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox::on(&Backend::Sqlite)
    }

    /// A sandbox whose store is `backend`.
    pub fn on(backend: &Backend) -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("tempdir"),
            url: match backend {
                Backend::Sqlite => None,
                Backend::Postgres(url) => Some(url.clone()),
            },
        }
    }

    /// What `TASKER_DB` says: the file's path, or the database's URL.
    pub fn store(&self) -> std::ffi::OsString {
        match &self.url {
            Some(url) => url.into(),
            None => self.db().into(),
        }
    }

    /// Whether the store exists yet (the file, or tasker's tables in the database).
    pub fn stored(&self) -> bool {
        match &self.url {
            Some(_) => self.value("SELECT count(*) FROM tasks").is_some(),
            None => self.db().exists(),
        }
    }

    /// The rows `sql` returns from the store, each value as text (`None` for NULL; PostgreSQL
    /// writes booleans `t`/`f`, SQLite `1`/`0`). A query that fails returns no rows.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match &self.url {
            Some(url) => {
                let out = std::process::Command::new("psql")
                    .args([
                        url.as_str(),
                        "-AtX",
                        "-F",
                        "\x1f",
                        "-R",
                        "\x1e",
                        "-P",
                        "null=\x01",
                        "-c",
                        sql,
                    ])
                    .output()
                    .expect("psql");
                if !out.status.success() {
                    return Vec::new();
                }
                String::from_utf8_lossy(&out.stdout)
                    .trim_end_matches('\n')
                    .split('\x1e')
                    .filter(|r| !r.is_empty())
                    .map(|r| {
                        r.split('\x1f')
                            .map(|v| (v != "\x01").then(|| v.to_owned()))
                            .collect()
                    })
                    .collect()
            }
            None => {
                let Ok(conn) = rusqlite::Connection::open(self.db()) else {
                    return Vec::new();
                };
                let Ok(mut stmt) = conn.prepare(sql) else {
                    return Vec::new();
                };
                let n = stmt.column_count();
                let rows = stmt.query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Text(t)
                                | rusqlite::types::ValueRef::Blob(t) => {
                                    Some(String::from_utf8_lossy(t).into_owned())
                                }
                            })
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                });
                match rows {
                    Ok(rows) => rows.filter_map(Result::ok).collect(),
                    Err(_) => Vec::new(),
                }
            }
        }
    }

    /// The first column of the first row `sql` returns.
    pub fn value(&self, sql: &str) -> Option<String> {
        self.query(sql)
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("tasker.db")
    }

    /// Hold the store's write lock from another process, as an operator's command or a
    /// second runner would: once `c.started` is in the sandbox, `python` takes the lock,
    /// runs `sql` (if any) inside it, makes `locked`, holds it `seconds`, then commits.
    /// Returns once it has.
    pub fn hold_store(&self, python: &std::path::Path, sql: &str, seconds: f64) {
        self.write(
            "hold.py",
            "import os, sqlite3, sys, time\n\
             while not os.path.exists('c.started'):\n    time.sleep(0.01)\n\
             c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n\
             c.execute('BEGIN IMMEDIATE')\n\
             if sys.argv[2]:\n    c.execute(sys.argv[2])\n\
             open('locked', 'w').close()\n\
             time.sleep(float(sys.argv[3]))\n\
             c.execute('COMMIT')\n",
        );
        let held = std::process::Command::new(python)
            .arg(self.path().join("hold.py"))
            .arg(self.db())
            .arg(sql)
            .arg(seconds.to_string())
            .current_dir(self.path())
            .status()
            .expect("hold");
        assert!(held.success(), "the store was held");
    }

    /// Write a file into the sandbox and return its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    /// `tasker` with this sandbox's store, no colour, no backtraces, run from the sandbox.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("tasker").expect("binary");
        c.current_dir(self.path())
            .env("TASKER_DB", self.store())
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env_remove("TASKER_TEMPLATES")
            .env_remove("TASKER_CONFIG")
            .env_remove("TASKER_ENV")
            .env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE")
            .env_remove("CLICOLOR_FORCE");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run tasker")
    }

    /// `tasker status ID --json`, parsed.
    pub fn status(&self, id: i64) -> Value {
        let out = self.run(&["status", &id.to_string(), "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "status failed: {}",
            stderr(&out)
        );
        serde_json::from_slice(&out.stdout).expect("status JSON")
    }

    /// The task's state now, or `None` while `status` cannot say (not created yet, the store
    /// busy): for waits, which must not fail on a passing moment.
    pub fn state_now(&self, id: i64) -> Option<String> {
        let out = self.run(&["status", &id.to_string(), "--json"]);
        let doc: Value = serde_json::from_slice(&out.stdout).ok()?;
        doc["status"].as_str().map(str::to_owned)
    }

    /// A step of a status document, by name.
    pub fn step<'a>(doc: &'a Value, name: &str) -> &'a Value {
        doc["steps"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == name))
            .unwrap_or_else(|| panic!("no step {name} in {doc:#}"))
    }

    /// Open the store directly.
    pub fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).expect("open store")
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The task id from the first line of `tasker run` (`task <id>`), or from its JSON document
/// with `--json`.
pub fn task_id(out: &Output) -> i64 {
    let text = stdout(out);
    if text.starts_with('{') {
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {text:?}"));
        return doc["task_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no task_id in {doc:#}"));
    }
    let first = text.lines().next().unwrap_or_default();
    first
        .strip_prefix("task ")
        .and_then(|id| id.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "first line is not `task <id>`: {text:?}\nstderr: {}",
                stderr(out)
            )
        })
}

/// Whether a process with this pid is alive (and not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

impl Sandbox {
    /// `tasker` as a std command, to start in the background (stdout and stderr piped).
    pub fn cmd_std(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("tasker"));
        c.current_dir(self.path())
            .env("TASKER_DB", self.store())
            .env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env_remove("RUST_BACKTRACE")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    }

    /// Start `tasker ARGS` in the background (stdout and stderr piped).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.cmd_std().args(args).spawn().expect("spawn tasker")
    }

    /// Start `tasker ARGS` in the background with its stdout and stderr in the sandbox's
    /// files `NAME.out` and `NAME.err`, which a test can wait on while it runs.
    pub fn spawn_logged(&self, name: &str, args: &[&str]) -> std::process::Child {
        let file = |ext: &str| {
            std::fs::File::create(self.path().join(format!("{name}.{ext}"))).expect("log file")
        };
        self.cmd_std()
            .args(args)
            .stdout(file("out"))
            .stderr(file("err"))
            .spawn()
            .expect("spawn tasker")
    }

    /// Whether the sandbox's file `name` holds `text` yet.
    pub fn holds(&self, name: &str, text: &str) -> bool {
        std::fs::read_to_string(self.path().join(name)).is_ok_and(|t| t.contains(text))
    }

    /// Lines of a file in the sandbox (empty when it does not exist).
    pub fn lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.path().join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Poll `check` every 20 ms until it holds or `secs` pass.
pub fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

/// Send a signal with kill(1).
pub fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// An external checker the tests use (Graphviz `dot`, the Mermaid parser). When it is
/// missing, the test is skipped with a note — unless `TASKER_REQUIRE_TOOLS` is set, as
/// `.ci/run` does after installing them, and then its absence fails the test.
pub fn tool(what: &str) -> Option<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = match what {
        "mermaid" => {
            let dir = root.join("tests/tools/mermaid");
            dir.join("node_modules/mermaid")
                .is_dir()
                .then(|| dir.join("check.mjs"))
        }
        other => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(other))
                .find(|p| p.is_file())
        }),
    };
    if found.is_none() {
        let hint = match what {
            "mermaid" => "npm install --prefix tests/tools/mermaid",
            "dot" => "apt-get install graphviz",
            _ => "install it",
        };
        assert!(
            std::env::var_os("TASKER_REQUIRE_TOOLS").is_none(),
            "`{what}` is required but missing ({hint})"
        );
        skip(&format!("`{what}` is not installed ({hint}; .ci/run does)"));
    }
    found
}

/// Say that the running test skips a check, where a plain `cargo test` shows it: written to
/// stderr itself, which the test harness does not capture (it captures `eprintln!`), so a
/// skipped check never passes for a checked one in silence.
pub fn skip(why: &str) {
    use std::io::Write as _;
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED in {test}: {why}");
}

/// Run the real Mermaid parser on `text`: `Ok(diagram type)` or the parse error.
pub fn mermaid_parse(check: &std::path::Path, text: &str) -> Result<String, String> {
    let mut node = std::process::Command::new("node");
    node.arg(check);
    let out = piped(node, text);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(
        |_| serde_json::json!({"ok": false, "error": String::from_utf8_lossy(&out.stderr)}),
    );
    if doc["ok"] == true {
        Ok(doc["type"].as_str().unwrap_or_default().to_owned())
    } else {
        Err(doc["error"].as_str().unwrap_or_default().to_owned())
    }
}

/// Run `command` with `text` on its stdin; what it printed and how it ended.
fn piped(mut command: std::process::Command, text: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start a checker");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}

/// Run Graphviz `dot -Tsvg` on `text`: the SVG, or the error.
pub fn dot_svg(dot: &std::path::Path, text: &str) -> Result<String, String> {
    let mut dot = std::process::Command::new(dot);
    dot.arg("-Tsvg");
    let out = piped(dot, text);
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Wait for `child`; its exit code and its peak resident memory in MiB: `VmHWM` of its
/// own address space, read until it exits. (`wait4`'s `ru_maxrss` would do, but it keeps
/// the high-water mark across `exec`, so it counts the test process's own memory, copied
/// at the fork, whenever the test process is the bigger.)
pub fn wait_with_peak_rss(mut child: std::process::Child) -> (Option<i32>, f64) {
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        }) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(done) = child.try_wait().expect("wait") {
            return (done.code(), peak_kib as f64 / 1024.0);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Pids of this user's processes whose environment holds `entry` (`KEY=VALUE`).
pub fn processes_with_env(entry: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(environ) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|v| v == entry.as_bytes()) && alive(pid) {
            out.push(pid);
        }
    }
    out
}

/// A PostgreSQL server for the tests: `TASKER_TEST_PG_URL` when set, else a throwaway
/// cluster of its own (Debian's PostgreSQL binaries, `initdb` in a temporary directory,
/// fsync off, a free port on 127.0.0.1) that lives as long as the test process: it is told
/// to quit (SIGQUIT) when the process ends. Each test gets a database of its own.
pub struct Postgres {
    /// `postgres://user@host:port` without a database.
    base: String,
    /// How to run `psql` against the server's `postgres` database.
    admin: String,
    next: std::sync::atomic::AtomicUsize,
    _dir: Option<TempDir>,
}

static POSTGRES: std::sync::OnceLock<Option<Postgres>> = std::sync::OnceLock::new();

/// The tests' PostgreSQL, started on first use; `None` (and a note) when there is none —
/// unless `TASKER_REQUIRE_TOOLS` is set, as `.ci/run` does after installing it.
pub fn postgres() -> Option<&'static Postgres> {
    let pg = POSTGRES
        .get_or_init(|| match std::env::var("TASKER_TEST_PG_URL") {
            Ok(url) if !url.is_empty() => Some(Postgres {
                base: url.trim_end_matches('/').to_owned(),
                admin: format!("{}/postgres", url.trim_end_matches('/')),
                next: 0.into(),
                _dir: None,
            }),
            _ => start_postgres()
                .map_err(|e| eprintln!("no PostgreSQL: {e}"))
                .ok(),
        })
        .as_ref();
    if pg.is_none() {
        assert!(
            std::env::var_os("TASKER_REQUIRE_TOOLS").is_none(),
            "PostgreSQL is required but could not be started (apt-get install postgresql)"
        );
        skip(
            "PostgreSQL is not available (apt-get install postgresql, or set TASKER_TEST_PG_URL; .ci/run does)",
        );
    }
    pg
}

impl Postgres {
    /// A new, empty database: its URL.
    pub fn database(&self) -> String {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("t{}_{n}", std::process::id());
        let out = std::process::Command::new("psql")
            .args([&self.admin, "-q", "-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "CREATE DATABASE: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("{}/{name}", self.base)
    }
}

fn start_postgres() -> Result<Postgres, String> {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
        .filter_map(Result::ok)
        .map(|d| d.path().join("bin"))
        .filter(|b| b.join("initdb").is_file())
        .max()
        .ok_or("no initdb under /usr/lib/postgresql")?;
    // Clusters of test processes that are gone (each quit with its process) are removed.
    let tmp = std::env::temp_dir();
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name
            .strip_prefix("tasker-pg-")
            .and_then(|rest| rest.split('-').next())
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = tempfile::Builder::new()
        .prefix(&format!("tasker-pg-{}-", std::process::id()))
        .tempdir()
        .map_err(|e| e.to_string())?;
    let root = rustix::process::geteuid().is_root();
    let as_postgres = |program: &Path| {
        let mut c = std::process::Command::new("setpriv");
        if root {
            c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
        }
        c.args(["--pdeathsig", "QUIT", "--"]).arg(program);
        c
    };
    if root {
        let ok = std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status()
            .map_err(|e| e.to_string())?
            .success();
        if !ok {
            return Err("cannot give the cluster's directory to `postgres`".into());
        }
    }
    let data = dir.path().join("data");
    let out = as_postgres(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "--no-sync"])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut server = as_postgres(&bin.join("postgres"));
    server
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir.path())
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=300",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("log")).map_err(|e| e.to_string())?);
    // Spawned from a thread that lives as long as the process: the server's parent-death
    // signal fires when the spawning thread ends.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let child = server.spawn();
        let ok = child.is_ok();
        let _ = tx.send(child.map(|c| c.id()).map_err(|e| e.to_string()));
        if ok {
            loop {
                std::thread::park();
            }
        }
    });
    rx.recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("postgres: {e}"))?;
    let base = format!("postgres://postgres@127.0.0.1:{port}");
    let admin = format!("{base}/postgres");
    let ready = eventually(20, || {
        std::process::Command::new("psql")
            .args([&admin, "-q", "-c", "SELECT 1"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ready {
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        return Err(format!("the server did not start: {log}"));
    }
    Ok(Postgres {
        base,
        admin,
        next: 0.into(),
        _dir: Some(dir),
    })
}
