//! Starting a process and waiting for it, without std's per-start copy of the environment.
//!
//! `std::process::Command` copies this process's whole environment into a map and then into
//! C strings at every start that changes a variable, and every step changes some: about
//! 100 k instructions a start. Here this process's variables are read once, the step's own
//! are laid over them, and the process is started with `posix_spawn` (vfork and exec: no
//! copy of the address space). It is waited for through a pidfd, so no `SIGCHLD` handler is
//! involved. What must run code between fork and exec (hooks, which die with their parent)
//! is started by std and then watched the same way.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use rustix::process::{Pid, Signal, WaitOptions};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::unix::pipe;

/// A process to start: what `std::process::Command` says, for the parts tasker uses.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The file to run; a name without `/` is looked for on the child's `PATH`.
    program: OsString,
    /// The arguments, `argv[0]` first.
    argv: Vec<OsString>,
    cwd: Option<PathBuf>,
    /// Variables laid over this process's environment, as `KEY=VALUE` with the key's
    /// length; of one name, the last wins.
    env: Vec<(usize, Vec<u8>)>,
    /// Whether the child is killed when this process dies, even by SIGKILL. That needs code
    /// between fork and exec, so such a child is started by std (the slower start).
    die_with_parent: bool,
}

impl Spec {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let program = program.as_ref().to_owned();
        Self {
            argv: vec![program.clone()],
            program,
            cwd: None,
            env: Vec::new(),
            die_with_parent: false,
        }
    }

    /// The name the program is given as `argv[0]`.
    pub fn arg0(&mut self, name: impl AsRef<OsStr>) -> &mut Self {
        self.argv[0] = name.as_ref().to_owned();
        self
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.argv.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, args: I) -> &mut Self {
        self.argv
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        let (key, value) = (key.as_ref().as_bytes(), value.as_ref().as_bytes());
        // Room for the NUL that ends it as a C string.
        let mut line = Vec::with_capacity(key.len() + value.len() + 2);
        line.extend_from_slice(key);
        line.push(b'=');
        line.extend_from_slice(value);
        self.env.push((key.len(), line));
        self
    }

    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Kill the child when this process dies.
    pub fn die_with_parent(&mut self) -> &mut Self {
        self.die_with_parent = true;
        self
    }

    /// The value the child's `PATH` will have.
    fn path(&self) -> Option<OsString> {
        match self
            .env
            .iter()
            .rev()
            .find(|(k, line)| &line[..*k] == b"PATH")
        {
            Some((k, line)) => Some(OsStr::from_bytes(&line[k + 1..]).to_owned()),
            None => std::env::var_os("PATH"),
        }
    }
}

/// A started process, in its own process group, with its standard streams as pipes (stdin
/// only when asked for; otherwise `/dev/null`). Dropped before it was waited for, it is
/// killed (SIGKILL to it, not its group) and reaped later.
#[derive(Debug)]
pub struct Child {
    pid: Pid,
    exit: Option<ExitStatus>,
    /// Readable once the process has ended; `None` on kernels without pidfds (before 5.3),
    /// where the wait polls.
    pidfd: Option<AsyncFd<OwnedFd>>,
    /// Its start time as `/proc/PID/stat` gives it, when the start alone tells it.
    started: Option<i64>,
    pub stdin: Option<pipe::Sender>,
    pub stdout: Option<pipe::Receiver>,
    pub stderr: Option<pipe::Receiver>,
}

impl Child {
    /// Its pid, which is also its process group.
    pub fn id(&self) -> u32 {
        self.pid.as_raw_nonzero().get().unsigned_abs()
    }

    /// Its start time in clock ticks since boot, as field 22 of `/proc/PID/stat` gives it,
    /// when the clock read on either side of its start fell in the same tick; `None` when a
    /// tick ended meanwhile (about one start in a hundred), and procfs must be asked.
    pub fn start_ticks(&self) -> Option<i64> {
        self.started
    }

    /// How it ended, once it has.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            match &self.pidfd {
                Some(fd) => fd.readable().await?.clear_ready(),
                None => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
            }
        }
    }

    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.exit.is_none()
            && let Some((_, status)) =
                rustix::process::waitpid(Some(self.pid), WaitOptions::NOHANG)?
        {
            self.exit = Some(ExitStatus::from_raw(status.as_raw()));
        }
        Ok(self.exit)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = rustix::process::kill_process(self.pid, Signal::KILL);
            if !matches!(self.try_wait(), Ok(Some(_)))
                && let Ok(mut orphans) = orphans().lock()
            {
                orphans.push(self.pid);
            }
        }
    }
}

/// Killed children not yet reaped: each start reaps those that have ended.
fn orphans() -> &'static Mutex<Vec<Pid>> {
    static ORPHANS: OnceLock<Mutex<Vec<Pid>>> = OnceLock::new();
    ORPHANS.get_or_init(Mutex::default)
}

fn reap_orphans() {
    if let Ok(mut orphans) = orphans().lock()
        && !orphans.is_empty()
    {
        orphans.retain(|pid| {
            matches!(
                rustix::process::waitpid(Some(*pid), WaitOptions::NOHANG),
                Ok(None)
            )
        });
    }
}

/// Start `spec` in a process group of its own; with a pipe to its stdin when `stdin`.
pub fn spawn(mut spec: Spec, stdin: bool) -> io::Result<Child> {
    reap_orphans();
    let (out_read, out_write) = pipe_pair()?;
    let (err_read, err_write) = pipe_pair()?;
    let (in_read, in_write) = if stdin {
        let (read, write) = pipe_pair()?;
        (Some(read), Some(write))
    } else {
        (None, None)
    };
    let ends = Ends {
        stdin: in_read.as_ref(),
        stdout: &out_write,
        stderr: &err_write,
    };
    // The kernel dates a process when it is forked, on the boot-time clock; read on either
    // side of the start, that clock tells its date unless a tick ended in between.
    let before = boot_time();
    let pid = if spec.die_with_parent {
        spawn_forked(&spec, &ends)?
    } else {
        // The child's `PATH` is read before its variables are taken.
        let path = spec.path();
        let env = environment(std::mem::take(&mut spec.env))?;
        spawn_direct(&spec, env, path, &ends)?
    };
    let started = same_tick(before, boot_time());
    // The child holds its ends now; ours must close so that its exit ends the streams.
    drop((in_read, out_write, err_write));
    // Made before anything else can fail, so that a failure kills the process.
    let mut child = Child {
        pid,
        exit: None,
        pidfd: rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
            .ok()
            .and_then(watch),
        started,
        stdin: None,
        stdout: None,
        stderr: None,
    };
    child.stdout = Some(pipe::Receiver::from_owned_fd_unchecked(nonblocking(
        out_read,
    )?)?);
    child.stderr = Some(pipe::Receiver::from_owned_fd_unchecked(nonblocking(
        err_read,
    )?)?);
    if let Some(write) = in_write {
        child.stdin = Some(pipe::Sender::from_owned_fd_unchecked(nonblocking(write)?)?);
    }
    Ok(child)
}

/// Nanoseconds since boot, suspended time included: the clock the kernel dates a new
/// process by. Through the C library, which reads it without a system call: rustix's own
/// reading of it (its vDSO and auxiliary-vector parsing) crashes under valgrind.
#[expect(
    unsafe_code,
    reason = "clock_gettime is a C interface: it writes the time through a pointer"
)]
fn boot_time() -> u128 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec for the call's duration; CLOCK_BOOTTIME
    // exists on every kernel tasker runs on (2.6.39 on), and a failure leaves `t` zero.
    unsafe {
        libc::clock_gettime(libc::CLOCK_BOOTTIME, &raw mut t);
    }
    u128::try_from(t.tv_sec).unwrap_or_default() * 1_000_000_000
        + u128::try_from(t.tv_nsec).unwrap_or_default()
}

/// Clock ticks a second, `/proc/PID/stat`'s unit (`sysconf(_SC_CLK_TCK)`).
#[expect(unsafe_code, reason = "sysconf is a C interface")]
fn ticks_per_second() -> u128 {
    static TICKS: OnceLock<u128> = OnceLock::new();
    // SAFETY: sysconf takes a constant and touches no memory of ours.
    *TICKS
        .get_or_init(|| u128::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100))
}

/// The clock tick (`/proc/PID/stat`'s unit; the tick a time falls in, rounded down as the
/// kernel rounds) that both `before` and `after` fall in, if they do.
fn same_tick(before: u128, after: u128) -> Option<i64> {
    let tick = 1_000_000_000 / ticks_per_second().max(1);
    let (first, last) = (before / tick, after / tick);
    (first == last && before != 0)
        .then(|| i64::try_from(first).ok())
        .flatten()
}

/// A pidfd registered with the runtime, to be woken when the process ends.
#[expect(
    unsafe_code,
    reason = "registering a descriptor is unsafe: it must stay open while registered"
)]
fn watch(pidfd: OwnedFd) -> Option<AsyncFd<OwnedFd>> {
    // SAFETY: the AsyncFd owns the descriptor and neither replaces nor closes it before it
    // deregisters it.
    unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE).ok() }
}

/// The child's ends of its standard streams.
struct Ends<'a> {
    stdin: Option<&'a OwnedFd>,
    stdout: &'a OwnedFd,
    stderr: &'a OwnedFd,
}

/// A pipe (read end, write end), both close-on-exec and both above the standard streams'
/// numbers (a process started with one of them closed must not hand it a pipe by mistake).
fn pipe_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = std::io::pipe()?;
    Ok((above_std(read.into())?, above_std(write.into())?))
}

fn above_std(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    Ok(rustix::io::fcntl_dupfd_cloexec(&fd, 3)?)
}

fn nonblocking(fd: OwnedFd) -> io::Result<OwnedFd> {
    // One `ioctl`, not a read of the flags and a write of them.
    rustix::io::ioctl_fionbio(&fd, true)?;
    Ok(fd)
}

fn cstring(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| nul_error())
}

fn nul_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "nul byte found in provided data",
    )
}

/// This process's environment, read once: tasker never changes its own.
struct Inherited {
    /// `KEY=VALUE` strings with the length of each key, in order.
    vars: Vec<(usize, CString)>,
    /// Where each key is in `vars` (a key may come more than once in an environment).
    at: std::collections::HashMap<Box<[u8]>, Vec<usize>, Fnv>,
}

/// FNV-1a: a step's dozen names are looked up at every start, and std's SipHash costs
/// several times as much on names this short. Nothing here comes from an adversary who
/// could choose collisions: the keys are tasker's own environment.
#[derive(Default, Clone, Copy)]
struct Fnv;

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

fn inherited() -> &'static Inherited {
    static VARS: OnceLock<Inherited> = OnceLock::new();
    VARS.get_or_init(|| {
        let vars: Vec<(usize, CString)> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut line = Vec::with_capacity(k.len() + v.len() + 1);
                line.extend_from_slice(k.as_bytes());
                line.push(b'=');
                line.extend_from_slice(v.as_bytes());
                Some((k.len(), CString::new(line).ok()?))
            })
            .collect();
        let mut at = std::collections::HashMap::<Box<[u8]>, Vec<usize>, Fnv>::default();
        for (i, (key, line)) in vars.iter().enumerate() {
            at.entry(line.as_bytes()[..*key].into())
                .or_default()
                .push(i);
        }
        Inherited { vars, at }
    })
}

/// The variables `env` sets as C strings with the length of each key, the last of each
/// name.
fn environment(env: Vec<(usize, Vec<u8>)>) -> io::Result<Vec<(usize, CString)>> {
    fn key((k, line): &(usize, Vec<u8>)) -> &[u8] {
        &line[..*k]
    }
    let set_again: Vec<bool> = (0..env.len())
        .map(|i| env[i + 1..].iter().any(|later| key(later) == key(&env[i])))
        .collect();
    let mut own = Vec::with_capacity(env.len());
    for ((k, mut line), again) in env.into_iter().zip(set_again) {
        if again {
            continue;
        }
        line.push(0);
        own.push((
            k,
            CString::from_vec_with_nul(line).map_err(|_| nul_error())?,
        ));
    }
    Ok(own)
}

/// `posix_spawn`, trying each place `PATH` names for a program without `/`, as `execvp`
/// does: a place where it is missing or not executable is passed over, and "permission
/// denied" wins over "not found" at the end.
#[expect(
    unsafe_code,
    reason = "posix_spawn is a C interface: pointers to C strings and to its own structures"
)]
fn spawn_direct(
    spec: &Spec,
    own: Vec<(usize, CString)>,
    path: Option<OsString>,
    ends: &Ends<'_>,
) -> io::Result<Pid> {
    let argv: Vec<CString> = spec
        .argv
        .iter()
        .map(|a| cstring(a.as_bytes()))
        .collect::<io::Result<_>>()?;
    // This process's variables but those `own` sets again, then `own`'s.
    let inherited = inherited();
    let mut replaced = vec![false; inherited.vars.len()];
    for (key, line) in &own {
        for &i in inherited
            .at
            .get(&line.as_bytes()[..*key])
            .into_iter()
            .flatten()
        {
            replaced[i] = true;
        }
    }
    let mut envp: Vec<*const libc::c_char> = inherited
        .vars
        .iter()
        .zip(&replaced)
        .filter(|(_, replaced)| !**replaced)
        .map(|((_, line), _)| line.as_ptr())
        .chain(own.iter().map(|(_, line)| line.as_ptr()))
        .collect();
    envp.push(std::ptr::null());
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let cwd = spec
        .cwd
        .as_ref()
        .map(|d| cstring(d.as_os_str().as_bytes()))
        .transpose()?;
    let candidates: Vec<CString> = if spec.program.as_bytes().contains(&b'/') {
        vec![cstring(spec.program.as_bytes())?]
    } else {
        let path = path.unwrap_or_else(|| OsString::from("/bin:/usr/bin"));
        path.as_bytes()
            .split(|b| *b == b':')
            .map(|dir| {
                let mut file = dir.to_vec();
                if !file.is_empty() {
                    file.push(b'/');
                }
                file.extend_from_slice(spec.program.as_bytes());
                cstring(&file)
            })
            .collect::<io::Result<_>>()?
    };

    // SAFETY: every pointer handed over points into a C string or array owned above, alive
    // until posix_spawn returns; the two structures are initialised before use and destroyed
    // once, on every path.
    unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        check(libc::posix_spawn_file_actions_init(&raw mut actions))?;
        if let Err(e) = check(libc::posix_spawnattr_init(&raw mut attr)) {
            libc::posix_spawn_file_actions_destroy(&raw mut actions);
            return Err(e);
        }
        let result = (|| {
            let actions = &raw mut actions;
            let attr = &raw mut attr;
            match ends.stdin {
                Some(fd) => check(libc::posix_spawn_file_actions_adddup2(
                    actions,
                    fd.as_raw_fd(),
                    0,
                ))?,
                None => check(libc::posix_spawn_file_actions_addopen(
                    actions,
                    0,
                    c"/dev/null".as_ptr(),
                    libc::O_RDONLY,
                    0,
                ))?,
            }
            check(libc::posix_spawn_file_actions_adddup2(
                actions,
                ends.stdout.as_raw_fd(),
                1,
            ))?;
            check(libc::posix_spawn_file_actions_adddup2(
                actions,
                ends.stderr.as_raw_fd(),
                2,
            ))?;
            if let Some(dir) = &cwd {
                check(libc::posix_spawn_file_actions_addchdir_np(
                    actions,
                    dir.as_ptr(),
                ))?;
            }
            // A signal this process ignores (SIGPIPE, as every Rust program does) or blocks
            // would stay so in the child: it gets the defaults, as a shell would give it.
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut none);
            check(libc::posix_spawnattr_setsigmask(attr, &raw const none))?;
            let mut defaults: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut defaults);
            libc::sigaddset(&raw mut defaults, libc::SIGPIPE);
            check(libc::posix_spawnattr_setsigdefault(
                attr,
                &raw const defaults,
            ))?;
            check(libc::posix_spawnattr_setpgroup(attr, 0))?;
            let flags = libc::POSIX_SPAWN_SETPGROUP
                | libc::POSIX_SPAWN_SETSIGMASK
                | libc::POSIX_SPAWN_SETSIGDEF;
            check(libc::posix_spawnattr_setflags(
                attr,
                i16::try_from(flags).unwrap_or_default(),
            ))?;
            let mut denied = false;
            let mut last = io::Error::from_raw_os_error(libc::ENOENT);
            for file in &candidates {
                let mut pid: libc::pid_t = 0;
                let mut rc = libc::posix_spawn(
                    &raw mut pid,
                    file.as_ptr(),
                    actions,
                    attr,
                    argv_ptrs.as_ptr().cast(),
                    envp.as_ptr().cast(),
                );
                if rc == libc::ENOEXEC {
                    // A file the kernel cannot run (a script without `#!`) is given to the
                    // shell, as `execvp` gives it: `/bin/sh FILE ARGS…`.
                    let mut script: Vec<*const libc::c_char> =
                        vec![c"/bin/sh".as_ptr(), file.as_ptr()];
                    script.extend_from_slice(&argv_ptrs[1..]);
                    rc = libc::posix_spawn(
                        &raw mut pid,
                        c"/bin/sh".as_ptr(),
                        actions,
                        attr,
                        script.as_ptr().cast(),
                        envp.as_ptr().cast(),
                    );
                }
                if rc == 0 {
                    return Pid::from_raw(pid)
                        .ok_or_else(|| io::Error::other("posix_spawn gave no pid"));
                }
                match rc {
                    libc::EACCES => denied = true,
                    libc::ENOENT
                    | libc::ENOTDIR
                    | libc::ESTALE
                    | libc::ENODEV
                    | libc::ETIMEDOUT => {}
                    _ => return Err(io::Error::from_raw_os_error(rc)),
                }
                last = io::Error::from_raw_os_error(rc);
            }
            Err(if denied {
                io::Error::from_raw_os_error(libc::EACCES)
            } else {
                last
            })
        })();
        libc::posix_spawnattr_destroy(&raw mut attr);
        libc::posix_spawn_file_actions_destroy(&raw mut actions);
        result
    }
}

/// A `posix_spawn*` return value as a result.
fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Start `spec` through std, for what needs code between fork and exec.
#[expect(
    unsafe_code,
    reason = "pre_exec is unsafe: the closure runs between fork and exec"
)]
fn spawn_forked(spec: &Spec, ends: &Ends<'_>) -> io::Result<Pid> {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let mut command = std::process::Command::new(&spec.program);
    command
        .arg0(&spec.argv[0])
        .args(&spec.argv[1..])
        .envs(spec.env.iter().map(|(k, line)| {
            (
                OsStr::from_bytes(&line[..*k]),
                OsStr::from_bytes(&line[k + 1..]),
            )
        }))
        .process_group(0)
        .stdin(match ends.stdin {
            Some(fd) => Stdio::from(fd.try_clone()?),
            None => Stdio::null(),
        })
        .stdout(Stdio::from(ends.stdout.try_clone()?))
        .stderr(Stdio::from(ends.stderr.try_clone()?));
    if let Some(dir) = &spec.cwd {
        command.current_dir(dir);
    }
    // SAFETY: setting the parent-death signal is async-signal-safe and touches no memory of
    // ours.
    unsafe {
        command.pre_exec(|| {
            let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
            Ok(())
        });
    }
    let child = command.spawn()?;
    // Dropping std's handle neither waits nor kills: from here the pid is watched as any.
    Pid::from_raw(i32::try_from(child.id()).map_err(io::Error::other)?)
        .ok_or_else(|| io::Error::other("spawn gave no pid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_value_of_a_name_wins_and_the_rest_are_kept_in_order() {
        let mut spec = Spec::new("x");
        spec.envs([("A", "1"), ("B", "2"), ("A", "3"), ("C", ""), ("AB", "4")]);
        let lines: Vec<String> = environment(spec.env)
            .unwrap()
            .into_iter()
            .map(|(k, c)| {
                let line = c.into_string().unwrap();
                assert_eq!(line.as_bytes()[k], b'=');
                line
            })
            .collect();
        assert_eq!(lines, ["B=2", "A=3", "C=", "AB=4"]);
    }

    #[tokio::test]
    async fn the_exit_status_and_output_come_back() {
        let mut spec = Spec::new("sh");
        spec.args(["-c", "echo out; echo err >&2; exit 3"]);
        let mut child = spawn(spec, false).unwrap();
        let out = all_of(child.stdout.take()).await;
        let err = all_of(child.stderr.take()).await;
        assert_eq!(child.wait().await.unwrap().code(), Some(3));
        // Asked again, the status is the one kept: the process is reaped once.
        assert_eq!(child.wait().await.unwrap().code(), Some(3));
        assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
    }

    /// The child gets this process's variables, but for those its spec sets again, which
    /// it gets once, with the spec's value.
    #[tokio::test]
    async fn a_variable_set_again_replaces_the_inherited_one() {
        let home = std::env::var("HOME").expect("HOME is set for the tests");
        let mut spec = Spec::new("sh");
        spec.args([
            "-c",
            "env | grep -c '^HOME='; echo \"$HOME\"; echo \"$TASKER_X\"",
        ]);
        spec.envs([("HOME", "/first"), ("TASKER_X", "x"), ("HOME", "/nowhere")]);
        let mut child = spawn(spec, false).unwrap();
        let out = all_of(child.stdout.take()).await;
        assert_eq!(child.wait().await.unwrap().code(), Some(0));
        assert_eq!(out, "1\n/nowhere\nx\n");
        assert_ne!(home, "/nowhere");
        // What is not set again is inherited.
        let mut spec = Spec::new("sh");
        spec.args(["-c", "echo \"$HOME\""]);
        let mut child = spawn(spec, false).unwrap();
        let out = all_of(child.stdout.take()).await;
        child.wait().await.unwrap();
        assert_eq!(out, format!("{home}\n"));
    }

    /// A start's clock readings tell its start time only when they fall in one tick, and
    /// then the time procfs gives.
    #[tokio::test]
    async fn the_start_time_told_by_the_clock_is_the_one_procfs_gives() {
        assert_eq!(same_tick(1, 9_999_999), Some(0));
        // A clock that could not be read tells nothing.
        assert_eq!(same_tick(0, 5), None);
        assert_eq!(same_tick(9_999_999, 10_000_000), None);
        assert_eq!(same_tick(250_000_000, 250_000_005), Some(25));
        let mut told = 0;
        for _ in 0..20 {
            let mut child = spawn(Spec::new("true"), false).unwrap();
            // Not yet reaped: procfs still has it.
            let procfs = crate::handlers::process::start_time(child.id());
            if let Some(ticks) = child.start_ticks() {
                assert_eq!(Some(ticks), procfs);
                told += 1;
            }
            child.wait().await.unwrap();
        }
        // A tick ends during about one start in a hundred.
        assert!(told > 0, "no start fell within one tick");
    }

    #[tokio::test]
    async fn a_dropped_child_is_killed_and_reaped_at_a_later_start() {
        let mut spec = Spec::new("sleep");
        spec.arg("30");
        let child = spawn(spec, false).unwrap();
        let proc = PathBuf::from(format!("/proc/{}", child.id()));
        drop(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while proc.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            reap_orphans();
        }
        assert!(!proc.exists(), "{} is still there", proc.display());
    }

    #[tokio::test]
    async fn not_found_and_not_executable_are_told_as_exec_tells_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tool");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let mut spec = Spec::new("tool");
        spec.env("PATH", format!("/nonexistent:{}", dir.path().display()));
        let e = spawn(spec, false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EACCES), "{e}");
        let e = spawn(Spec::new("no-such-program-here"), false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT), "{e}");
        let mut spec = Spec::new("true");
        spec.current_dir(dir.path().join("missing"));
        assert!(spawn(spec, false).is_err());
    }

    /// A script without `#!` runs through `/bin/sh`, as `execvp` runs it, found on `PATH`
    /// or named by its path.
    #[tokio::test]
    async fn a_script_without_an_interpreter_line_runs_through_the_shell() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-script");
        std::fs::write(&file, "echo \"ran with $1\"\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        for named in ["plain-script", file.to_str().unwrap()] {
            let mut spec = Spec::new(named);
            spec.arg("x").env("PATH", dir.path());
            let mut child = spawn(spec, false).unwrap();
            let out = all_of(child.stdout.take()).await;
            assert_eq!(child.wait().await.unwrap().code(), Some(0), "{named}");
            assert_eq!(out, "ran with x\n", "{named}");
        }
    }

    /// Everything a child's stream gives until it ends.
    async fn all_of(stream: Option<pipe::Receiver>) -> String {
        use tokio::io::AsyncReadExt;
        let mut text = String::new();
        stream
            .expect("a stream")
            .read_to_string(&mut text)
            .await
            .expect("read");
        text
    }

    #[test]
    fn a_nul_byte_is_refused_not_cut() {
        let mut spec = Spec::new("x");
        spec.env("A", "x\0y");
        let e = environment(spec.env).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
