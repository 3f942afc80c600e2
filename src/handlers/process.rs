//! Process supervision: own process group, stdout and stderr drained concurrently into
//! bounded buffers, timeout → SIGTERM to the group → grace → SIGKILL, nothing left behind.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Abort;
use super::Request;
pub use super::child::Spec;
use super::child::{self, Child};
use crate::templates::Program;

/// The kept tail of one output stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    pub bytes: Vec<u8>,
    /// Bytes that were written but not kept (from the start of the stream).
    pub dropped: u64,
}

impl Captured {
    /// The last `n` bytes as lossy UTF-8.
    pub fn tail_text(&self, n: usize) -> String {
        let start = self.bytes.len().saturating_sub(n);
        String::from_utf8_lossy(&self.bytes[start..]).into_owned()
    }
}

/// How a supervised process ended.
#[derive(Debug)]
pub enum Exit {
    Status(ExitStatus),
    /// Killed because it ran past its timeout.
    TimedOut,
    /// Killed because the run is stopping.
    Aborted,
}

/// A finished process: how it ended and what it wrote.
#[derive(Debug)]
pub struct Finished {
    pub exit: Exit,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// The command that runs `program`, and whether it is a shell line run without the shell.
/// A program named without a `/` is looked up on `path` (the child's `PATH`) once a run,
/// not once a start.
pub fn command_for(program: &Program, path: Option<&OsStr>) -> (Spec, bool) {
    let argv = |words: &[&str]| {
        let mut c = program_command(words[0], path);
        c.args(&words[1..]);
        c
    };
    match program {
        Program::Shell(line) => match plain_words(line) {
            Some(words) => (argv(&words), true),
            None => (shell(line, path), false),
        },
        Program::Argv(words) => {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            (argv(&words), false)
        }
    }
}

/// `sh -c LINE`.
pub fn shell(line: &str, path: Option<&OsStr>) -> Spec {
    let mut c = program_command("sh", path);
    c.arg("-c").arg(line);
    c
}

/// A command for `program`, found on `path` when it has no `/`; its `argv[0]` stays as
/// written.
fn program_command(program: &str, path: Option<&OsStr>) -> Spec {
    match path.and_then(|p| locate(program, p)) {
        Some(found) => {
            let mut c = Spec::new(found);
            c.arg0(program);
            c
        }
        None => Spec::new(program),
    }
}

/// Where `program` is on `path`, as `execvp` would find it: the first directory holding an
/// executable file of that name. Remembered, since execvp tries every directory before the
/// right one at each start. `None` for a name with a `/`, one not found, or a `PATH` with
/// a relative directory (its meaning changes with each step's directory): the caller then
/// leaves the search to exec.
pub fn locate(program: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    /// Where each program was found, by `PATH` value.
    type Found = HashMap<OsString, HashMap<String, PathBuf>>;
    static FOUND: OnceLock<Mutex<Found>> = OnceLock::new();
    if program.is_empty() || program.contains('/') {
        return None;
    }
    let found = FOUND.get_or_init(Mutex::default);
    if let Some(hit) = found.lock().ok()?.get(path).and_then(|p| p.get(program)) {
        return Some(hit.clone());
    }
    for dir in std::env::split_paths(path) {
        if !dir.is_absolute() {
            return None;
        }
        let candidate = dir.join(program);
        if std::fs::metadata(&candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        {
            found
                .lock()
                .ok()?
                .entry(path.to_owned())
                .or_default()
                .insert(program.to_owned(), candidate.clone());
            return Some(candidate);
        }
    }
    None
}

/// Words that make the shell do more than find a program and run it: builtins that change
/// the shell or behave unlike the program of the same name, and keywords.
const SHELL_WORDS: &[&str] = &[
    ".", ":", "alias", "bg", "break", "case", "cd", "command", "continue", "do", "done", "echo",
    "elif", "else", "esac", "eval", "exec", "exit", "export", "fc", "fg", "fi", "for", "function",
    "getopts", "hash", "if", "in", "jobs", "kill", "local", "login", "logout", "pwd", "read",
    "readonly", "return", "select", "set", "shift", "source", "test", "then", "time", "times",
    "trap", "type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
];

/// The words of a shell command line that needs no shell — only plain words (letters,
/// digits and `- _ . / : , + @ =`) separated by spaces or tabs, not starting with a variable
/// assignment or a shell builtin or keyword. Such a line means the same run directly as
/// through `sh -c`, and is run directly, like make does: one program start less.
pub fn plain_words(line: &str) -> Option<Vec<&str>> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:,+@=".contains(c);
    if !line.chars().all(|c| plain(c) || c == ' ' || c == '\t') {
        return None;
    }
    let words: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    let first = *words.first()?;
    if first.contains('=') || SHELL_WORDS.contains(&first) {
        return None;
    }
    Some(words)
}

/// How a process is watched: its deadline and grace, how much of its output is kept, who
/// hears of it, and what stops it. Steps and hooks are supervised alike.
pub struct Supervise<'a> {
    /// Who it runs for, as `--follow-output` names its lines.
    pub name: &'a str,
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when it is stopped.
    pub kill_grace: Duration,
    /// Bytes of stdout and of stderr kept (the tail).
    pub output_limit: usize,
    /// Where stdout and stderr are also written as they come (`BASE.stdout`, `BASE.stderr`).
    pub live_output: Option<&'a std::path::Path>,
    /// Told which process started.
    pub spawned: Option<&'a Spawned>,
    /// Given each line as it comes.
    pub echo: Option<super::Echo>,
    pub abort: watch::Receiver<Abort>,
}

impl Request {
    /// How an attempt's process is supervised.
    pub fn supervise(&self) -> Supervise<'_> {
        Supervise {
            name: &self.step_name,
            timeout: self.timeout,
            kill_grace: self.kill_grace,
            output_limit: self.output_limit,
            live_output: self.live_output.as_deref(),
            spawned: self.spawned.as_ref(),
            echo: self.echo.clone(),
            abort: self.abort.clone(),
        }
    }
}

/// Spawn `command` in its own process group and supervise it to the end; `stdin`, when
/// given, is written to the process (inside its timeout, never blocking it) and then
/// closed.
pub async fn run(
    command: Spec,
    stdin: Option<Arc<Vec<u8>>>,
    req: Supervise<'_>,
) -> std::io::Result<Finished> {
    let mut child = child::spawn(command, stdin.is_some())?;
    let pgid = i32::try_from(child.id()).ok();
    let (limit, live, timeout, grace) = (
        req.output_limit,
        req.live_output,
        req.timeout,
        req.kill_grace,
    );
    let abort = req.abort.clone();
    if let Some(report) = req.spawned {
        // Read while the process cannot have been reaped: this task alone waits for it.
        let pid = child.id();
        let started = child.start_ticks();
        debug_assert!(
            started.is_none_or(|t| Some(t) == start_time(pid)),
            "the start time told by the clock is the one procfs gives"
        );
        report.send(pid, started.or_else(|| start_time(pid)).unwrap_or(0));
    }
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A process that does not read its input must not block the run.
        tokio::spawn(async move {
            let _ = pipe.write_all(&bytes).await;
        });
    }
    let tee = |ext: &str| live.map(|base| base.with_extension(ext));
    let echo = |stderr: bool| {
        req.echo.clone().map(|e| Lines {
            echo: e,
            step: req.name.to_owned(),
            stderr,
            partial: Vec::new(),
        })
    };
    let out = child
        .stdout
        .take()
        .map(|s| drain(s, limit, tee("stdout"), echo(false)));
    let err = child
        .stderr
        .take()
        .map(|s| drain(s, limit, tee("stderr"), echo(true)));

    let deadline = expires(timeout);
    // The process's end first: on a runtime of one thread, an end and a deadline can be
    // noticed together (the thread was busy with a commit as both passed), and a process
    // that ended did not time out.
    let exit = tokio::select! {
        biased;
        status = child.wait() => Exit::Status(status?),
        () = deadline => {
            terminate(&mut child, pgid, grace, abort.clone()).await;
            Exit::TimedOut
        }
        () = reaches(abort.clone(), Abort::Stop) => {
            terminate(&mut child, pgid, grace, abort.clone()).await;
            Exit::Aborted
        }
    };
    // Whatever the step left running in its group goes with it: a step is done when its
    // main process is, and background children would otherwise outlive the run.
    if let Some(pgid) = pgid {
        signal_group(pgid, libc::SIGKILL);
    }
    // One grace for both streams, not one each.
    let pipes_closed_by = tokio::time::Instant::now() + PIPE_GRACE;
    let (stdout, stderr) = tokio::join!(
        collect(out, limit, pipes_closed_by),
        collect(err, limit, pipes_closed_by)
    );
    Ok(Finished {
        exit,
        stdout,
        stderr,
    })
}

/// Tells the engine which process an attempt started.
#[derive(Debug, Clone)]
pub struct Spawned {
    /// Where started processes wait for the engine, which looks at its next commit: telling
    /// it at once would wake it for nothing.
    pub slot: Arc<std::sync::Mutex<Vec<Started>>>,
    pub index: usize,
    pub attempt: u32,
}

/// A process an attempt started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The step's position in the template.
    pub index: usize,
    pub attempt: u32,
    /// Its pid, which is also its process group.
    pub pid: u32,
    /// Its start time in clock ticks since boot, which tells it from a later process that
    /// reuses the pid.
    pub started_at: i64,
}

impl Spawned {
    fn send(&self, pid: u32, started_at: i64) {
        if let Ok(mut slot) = self.slot.lock() {
            slot.push(Started {
                index: self.index,
                attempt: self.attempt,
                pid,
                started_at,
            });
        }
    }
}

/// The start time of process `pid` (clock ticks since boot), if it exists.
///
/// Read at every start: one `read` into a buffer on the stack, the fields counted after the
/// command's closing `)` (the command may hold spaces and parentheses).
pub fn start_time(pid: u32) -> Option<i64> {
    use std::io::Read;
    let mut path = String::with_capacity(24);
    path.push_str("/proc/");
    crate::text::push_decimal(&mut path, pid.into());
    path.push_str("/stat");
    let mut file = std::fs::File::open(path).ok()?;
    // A stat line is about 300 bytes: the command is at most 64 of them, the 50 numbers
    // after it at most 21 each.
    let mut buf = [0u8; 1536];
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    let line = &buf[..len];
    let after = line.iter().rposition(|&b| b == b')')? + 1;
    let field = line[after..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .nth(19)?;
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// Kill what is left of the process group an earlier runner started (`pid` led it and
/// started at `started_at`). A group id cannot be handed out again while the group has a
/// member, so the group is ours unless `pid` now names a process that started at another
/// time.
pub fn kill_leftovers(pid: u32, started_at: i64) {
    match start_time(pid) {
        Some(now) if now != started_at => {}
        _ => signal_group(pid as i32, libc::SIGKILL),
    }
}

/// Kill the process groups of processes this user runs that carry `marker` (`KEY=VALUE`
/// entries, all of them) in their environment: what an earlier runner started but had not
/// yet recorded when it died. Returns how many groups were killed.
pub fn kill_marked(marker: &[String]) -> usize {
    kill_matching(|vars| marker.iter().all(|m| vars.contains(&m.as_bytes())))
}

/// Kill the process groups of processes this user runs that carry any one of `marks` in
/// their environment (one look through the processes for them all).
pub fn kill_marked_any(marks: &[String]) -> usize {
    kill_matching(|vars| marks.iter().any(|m| vars.contains(&m.as_bytes())))
}

fn kill_matching(matches: impl Fn(&[&[u8]]) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let me = std::process::id();
    let mut groups = std::collections::BTreeSet::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        // Another user's processes are not readable, and not ours to stop.
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let vars: Vec<&[u8]> = environ.split(|b| *b == 0).collect();
        if !matches(&vars) {
            continue;
        }
        let group = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|stat| {
                let rest = stat.rsplit_once(')')?.1.to_owned();
                rest.split_whitespace().nth(2)?.parse::<i32>().ok()
            });
        if let Some(group) = group.filter(|g| *g > 1) {
            groups.insert(group);
        }
    }
    for &group in &groups {
        signal_group(group, libc::SIGKILL);
    }
    groups.len()
}

/// Resolves once `timeout` has passed from the first poll (never, without one).
pub async fn expires(timeout: Option<Duration>) {
    match timeout {
        Some(t) => tokio::time::sleep(t).await,
        None => std::future::pending().await,
    }
}

/// Resolves once `abort` holds `level` or more (never, if its sender is gone first).
pub async fn reaches(mut abort: watch::Receiver<Abort>, level: Abort) {
    loop {
        if *abort.borrow_and_update() >= level {
            return;
        }
        if abort.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// SIGTERM to the group, SIGKILL after `grace` (or at once when `abort` reaches 2) if the
/// main process has not exited.
async fn terminate(
    child: &mut Child,
    pgid: Option<i32>,
    grace: Duration,
    abort: watch::Receiver<Abort>,
) {
    if let Some(pgid) = pgid {
        signal_group(pgid, libc::SIGTERM);
    }
    let exited = tokio::select! {
        r = tokio::time::timeout(grace, child.wait()) => r.is_ok(),
        () = reaches(abort, Abort::Kill) => false,
    };
    if !exited {
        if let Some(pgid) = pgid {
            signal_group(pgid, libc::SIGKILL);
        }
        let _ = child.wait().await;
    }
}

/// Make `command` start in a session of its own, so it outlives the terminal it was
/// started from (`run --detach`).
#[expect(
    unsafe_code,
    reason = "setsid runs between fork and exec, which needs pre_exec"
)]
pub fn detach_session(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            let _ = rustix::process::setsid();
            Ok(())
        });
    }
}

/// Send `signal` to every process of group `pgid`; a group already gone is fine.
pub fn signal_group(pgid: i32, signal: i32) {
    if pgid > 1
        && let (Some(group), Some(signal)) = (
            rustix::process::Pid::from_raw(pgid),
            rustix::process::Signal::from_named_raw(signal),
        )
    {
        let _ = rustix::process::kill_process_group(group, signal);
    }
}

/// Hands output to an [`Echo`](crate::handlers::Echo) a whole line at a time.
struct Lines {
    echo: crate::handlers::Echo,
    step: String,
    stderr: bool,
    partial: Vec<u8>,
}

impl Lines {
    fn feed(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        while let Some(at) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=at).collect();
            (self.echo)(&self.step, self.stderr, &line[..line.len() - 1]);
        }
        // A line without end that grows past 64 KiB is handed over as it is.
        if self.partial.len() > 64 * 1024 {
            let line = std::mem::take(&mut self.partial);
            (self.echo)(&self.step, self.stderr, &line);
        }
    }

    fn finish(&mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            (self.echo)(&self.step, self.stderr, &line);
        }
    }
}

/// How much of a stream the live copy (`logs --follow`) holds at most; the kept tail is
/// the output limit, whatever the stream's size.
pub const LIVE_LIMIT: u64 = 64 * 1024 * 1024;

/// A stream being drained: the task reading it, and what it has kept so far.
struct Draining {
    task: JoinHandle<()>,
    kept: Arc<Mutex<Captured>>,
}

fn drain<R: AsyncRead + Unpin + Send + 'static>(
    mut reader: R,
    limit: usize,
    live: Option<std::path::PathBuf>,
    mut echo: Option<Lines>,
) -> Draining {
    let kept = Arc::new(Mutex::new(Captured::default()));
    let shared = Arc::clone(&kept);
    let task = tokio::spawn(async move {
        // Read into spare capacity: nothing is zeroed first (a step that prints nothing
        // costs no 64 KiB memset per stream), and the buffer is one an earlier stream left.
        let mut buf: Vec<u8> = read_buffers()
            .lock()
            .ok()
            .and_then(|mut kept| kept.pop())
            .unwrap_or_else(|| Vec::with_capacity(READ_BUFFER));
        // The live copy (for `logs --follow`) is best effort: a full disk must not fail the
        // step. It is made when the first bytes come, so a silent step costs no file; the
        // writes go to the page cache, too small to be worth a trip to a blocking thread.
        let mut live_path = live;
        let mut live: Option<std::fs::File> = None;
        let mut live_written = 0u64;
        loop {
            buf.clear();
            match reader.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Some(path) = live_path.take() {
                        live = std::fs::File::create(path).ok();
                    }
                    if let Some(file) = &mut live {
                        // The live copy stops at its cap: a flood must not fill the disk.
                        let room = LIVE_LIMIT.saturating_sub(live_written);
                        let take = n.min(usize::try_from(room).unwrap_or(usize::MAX));
                        live_written += take as u64;
                        if std::io::Write::write_all(file, &buf[..take]).is_err() || take < n {
                            live = None;
                        }
                    }
                    if let Some(lines) = &mut echo {
                        lines.feed(&buf[..n]);
                    }
                    // Kept where the waiter can take it even if the stream never ends.
                    let Ok(mut kept) = shared.lock() else { break };
                    kept.bytes.extend_from_slice(&buf[..n]);
                    // Trim in large steps so a flood costs amortised O(1) per byte.
                    if kept.bytes.len() > limit.saturating_mul(2).max(limit + 64 * 1024) {
                        let cut = kept.bytes.len() - limit;
                        kept.bytes.drain(..cut);
                        kept.dropped += cut as u64;
                    }
                }
            }
        }
        if let Some(lines) = &mut echo {
            lines.finish();
        }
        if let Ok(mut kept) = read_buffers().lock()
            && kept.len() < KEPT_BUFFERS
        {
            buf.clear();
            kept.push(buf);
        }
    });
    Draining { task, kept }
}

/// The size of a stream's read buffer.
const READ_BUFFER: usize = 64 * 1024;
/// How many read buffers are kept for later streams (2 MiB).
const KEPT_BUFFERS: usize = 32;

/// Read buffers of streams that ended, for the next ones: allocating and releasing 64 KiB
/// twice a step cost more than reading a quiet step's output.
fn read_buffers() -> &'static Mutex<Vec<Vec<u8>>> {
    static BUFFERS: OnceLock<Mutex<Vec<Vec<u8>>>> = OnceLock::new();
    BUFFERS.get_or_init(Mutex::default)
}

/// How long the pipes may stay open once the step's process group is gone: a process that
/// left the group (`setsid … &`) may hold them forever.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// What a drained stream kept, once it ends or `deadline` passes — then what was read so
/// far, the tail within `limit`.
async fn collect(
    draining: Option<Draining>,
    limit: usize,
    deadline: tokio::time::Instant,
) -> Captured {
    let Some(Draining { task, kept }) = draining else {
        return Captured::default();
    };
    let abort = task.abort_handle();
    if tokio::time::timeout_at(deadline, task).await.is_err() {
        abort.abort();
    }
    let mut captured = kept
        .lock()
        .map(|mut k| std::mem::take(&mut *k))
        .unwrap_or_default();
    if captured.bytes.len() > limit {
        let cut = captured.bytes.len() - limit;
        captured.bytes.drain(..cut);
        captured.dropped += cut as u64;
    }
    captured
}

#[cfg(test)]
mod direct {
    use super::plain_words;

    #[test]
    fn plain_lines_are_split_into_words() {
        assert_eq!(plain_words("true"), Some(vec!["true"]));
        assert_eq!(
            plain_words("  ./bin/load --date=2026-11-27\tdb.example:5432 a,b +x @y "),
            Some(vec![
                "./bin/load",
                "--date=2026-11-27",
                "db.example:5432",
                "a,b",
                "+x",
                "@y"
            ])
        );
    }

    #[test]
    fn anything_the_shell_would_interpret_keeps_the_shell() {
        for line in [
            "",
            "   ",
            "echo '{}'",
            "echo \"x\"",
            "echo $HOME",
            "a; b",
            "a | b",
            "a && b",
            "a &",
            "a > out",
            "a < in",
            "ls *.txt",
            "ls file?",
            "ls [ab]",
            "cat ~/x",
            "a # comment",
            "a\nb",
            "a\\ b",
            "a `b`",
            "a $(b)",
            "(a)",
            "{ a; }",
            "! a",
            "FOO=1 env",
            "cd /tmp",
            "exit 3",
            "echo hi",
            "export X",
            "kill %1",
            "pwd",
            "if",
            "ls %",
            "ls é",
        ] {
            assert_eq!(plain_words(line), None, "{line:?}");
        }
    }
}

#[cfg(test)]
mod stat {
    use super::start_time;

    /// The start time is field 22 of `/proc/PID/stat`, counted after the command, which may
    /// hold spaces and parentheses: as procfs reads it.
    #[test]
    fn the_start_time_is_read_after_the_command_whatever_it_holds() {
        let dir = tempfile::tempdir().expect("dir");
        let program = dir.path().join("a) (b c");
        // A link, not a copy: a copy may still be open for writing in a child another test
        // forks meanwhile, and exec refuses it ("text file busy"). The command is the name
        // the program was started by.
        std::os::unix::fs::symlink("/bin/sleep", &program).expect("link sleep");
        let mut child = std::process::Command::new(&program)
            .arg("5")
            .spawn()
            .expect("start");
        let pid = child.id();
        // The command is the program's name once it has exec'd.
        let mut comm = String::new();
        for _ in 0..200 {
            comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim_end() == "a) (b c" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(comm.trim_end(), "a) (b c");
        let expected = procfs::process::Process::new(pid as i32)
            .and_then(|p| p.stat())
            .expect("stat")
            .starttime as i64;
        assert_eq!(start_time(pid), Some(expected));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(start_time(u32::MAX), None);
        assert_eq!(
            start_time(std::process::id()),
            procfs::process::Process::myself()
                .and_then(|p| p.stat())
                .ok()
                .map(|s| s.starttime as i64)
        );
    }
}

#[cfg(test)]
mod late {
    use super::*;

    /// On a runtime of one thread, a process that ended before its deadline but was noticed
    /// only after it — the thread busy meanwhile, as with a commit — ended: it did not time
    /// out.
    #[test]
    fn an_exit_noticed_after_the_deadline_is_an_exit() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for _ in 0..8 {
            let (_stop, abort) = watch::channel(Abort::None);
            let finished = runtime.block_on(async {
                let attempt = tokio::spawn(async move {
                    let supervise = Supervise {
                        name: "late",
                        timeout: Some(Duration::from_millis(100)),
                        kill_grace: Duration::from_secs(1),
                        output_limit: 1024,
                        live_output: None,
                        spawned: None,
                        echo: None,
                        abort,
                    };
                    run(child::Spec::new("true"), None, supervise).await
                });
                // The process starts and its deadline is set; then the thread is busy past
                // both its end and the deadline.
                tokio::task::yield_now().await;
                std::thread::sleep(Duration::from_millis(300));
                attempt.await
            });
            let exit = finished.expect("task").expect("run").exit;
            assert!(
                matches!(exit, Exit::Status(s) if s.success()),
                "{}",
                match exit {
                    Exit::Status(s) => format!("{s}"),
                    Exit::TimedOut => "timed out".into(),
                    Exit::Aborted => "aborted".into(),
                }
            );
        }
    }
}
