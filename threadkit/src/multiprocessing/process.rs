//! [`Process`]: Python's `multiprocessing.Process`, a function run in a
//! child process.

use std::fmt;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::Child;
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::call::Call;
use super::error::ProcessError;
use super::fdpass;
use super::frame::{self, DEFAULT_MAX_FRAME};
use super::spawn::{self, Options};
use super::wire;
use crate::loom::sync::Mutex;
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// How long a child may take to say hello.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

enum Phase {
    /// Not started: the encoded call and the descriptors it passes, or why
    /// the argument could not be encoded (reported by `start`, as Python
    /// reports a pickling error).
    Initial(Result<Call, String>, Vec<OwnedFd>),
    /// Closed before it ran (Python's `close()` on a process never started).
    Closed,
    /// Running (or exited, not yet reaped): only then may it be signalled.
    Running(u32),
    /// Reaped, with Python's exit code.
    Exited(u32, i32),
}

/// The phase, and who waits for the child to exit.
struct State {
    phase: Phase,
    /// Threads and tasks in `join`.
    waiters: WaitList,
}

impl HasWaiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }
}

/// What the reaper thread and the exit hook share with the handle.
struct Shared {
    state: Monitor<State>,
    daemon: bool,
}

/// A function run in a child process: Python's `multiprocessing.Process`.
///
/// The target is a plain `fn(A)` (a non-capturing closure coerces to one);
/// its argument travels to the child serialized, so it may contain
/// [`Connection`](super::Connection)s and [`Queue`](super::Queue)s, which
/// are passed as file descriptors.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::Process;
///
/// fn cpu_task(n: u64) {
///     let total: u64 = (0..n).sum();
///     assert_eq!(total, n * (n - 1) / 2);
/// }
///
/// let mut p = Process::new(cpu_task, 1000);
/// p.set_name("worker-1");
/// p.start().unwrap();
/// assert_eq!(p.join().unwrap(), 0);
/// assert_eq!(p.exitcode(), Some(0));
///
/// let bad = Process::new(|code: i32| std::process::exit(code), 7);
/// bad.start().unwrap();
/// assert_eq!(bad.join().unwrap(), 7);
/// ```
///
/// # Differences from Python's `Process`
///
/// - `join(timeout)` is [`join`](Process::join) and
///   [`join_timeout`](Process::join_timeout), which return the exit code
///   (`None` on timeout) instead of `None`.
/// - The argument is serialized by [`new`](Process::new) (Python pickles it
///   at `start`); endpoints in it are duplicated then, so the caller's copies
///   may be dropped at once.
/// - A target that panics exits with code 1 (Python: an uncaught exception);
///   the panic message is printed on the child's stderr.
/// - `start` waits for the child to say hello, so an error to start is
///   reported by `start`, not later.
/// - At exit, daemon children are terminated and non-daemon children joined,
///   as in Python; a daemon child (and every pool worker) also exits by
///   itself if the parent dies.
pub struct Process {
    name: String,
    daemon: bool,
    shared: Arc<Shared>,
    /// A pidfd of the child once started: readable when it exits.
    sentinel: OnceLock<OwnedFd>,
}

impl Process {
    /// A process that will run `target(arg)` once [started](Process::start)
    /// (Python's `Process(target=..., args=(...))`). An argument that cannot
    /// be serialized makes [`start`](Process::start) fail with
    /// [`ProcessError::Encode`], as Python's `start` raises a pickling error;
    /// [`try_new`](Process::try_new) reports it at once instead.
    pub fn new<A>(target: fn(A), arg: A) -> Process
    where
        A: Serialize + DeserializeOwned,
    {
        let (call, fds) = fdpass::collect(|| Call::new(target, &arg));
        Process::with_call(call, fds)
    }

    /// [`new`](Process::new), with a serialization error returned at once.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Encode`] if `arg` cannot be serialized.
    pub fn try_new<A>(target: fn(A), arg: A) -> Result<Process, ProcessError>
    where
        A: Serialize + DeserializeOwned,
    {
        let (call, fds) = fdpass::collect(|| Call::new(target, &arg));
        let call = call.map_err(ProcessError::Encode)?;
        Ok(Process::with_call(Ok(call), fds))
    }

    fn with_call(call: Result<Call, String>, fds: Vec<OwnedFd>) -> Process {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Process {
            name: format!("Process-{n}"),
            daemon: false,
            shared: Arc::new(Shared {
                state: Monitor::new(State {
                    phase: Phase::Initial(call, fds),
                    waiters: WaitList::default(),
                }),
                daemon: false,
            }),
            sentinel: OnceLock::new(),
        }
    }

    /// The process's name (Python's `name`), `Process-N` by default.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the process.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Whether the child is a daemon (Python's `daemon`).
    pub fn daemon(&self) -> bool {
        self.daemon
    }

    /// Makes the child a daemon: it is terminated when the parent exits,
    /// and exits by itself if the parent dies. Python's `daemon = True`.
    ///
    /// # Panics
    ///
    /// After [`start`](Process::start) (Python's `AssertionError`).
    pub fn set_daemon(&mut self, daemon: bool) {
        assert!(
            matches!(self.shared.state.lock().phase, Phase::Initial(..)),
            "process has already started"
        );
        self.daemon = daemon;
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.daemon = daemon;
        }
    }

    /// Starts the child and waits until it is ready to run the target.
    ///
    /// # Errors
    ///
    /// [`ProcessError::AlreadyStarted`] on a second call,
    /// [`ProcessError::Closed`] after [`close`](Process::close),
    /// [`ProcessError::Encode`] if the argument could not be serialized;
    /// spawn, handshake and i/o errors otherwise.
    pub fn start(&self) -> Result<(), ProcessError> {
        let mut st = self.shared.state.lock();
        let (call, fds) = match &st.phase {
            Phase::Initial(Ok(call), fds) => (call, fds),
            Phase::Initial(Err(e), _) => return Err(ProcessError::Encode(e.clone())),
            Phase::Closed => return Err(ProcessError::Closed),
            _ => return Err(ProcessError::AlreadyStarted),
        };
        let worker = spawn::spawn(&Options {
            role: "process",
            name: &self.name,
            watch_parent: self.shared.daemon,
            death_signal: false,
            fds,
            max_frame: DEFAULT_MAX_FRAME,
            handshake: HANDSHAKE_TIMEOUT,
        })?;
        let mut msg = Vec::with_capacity(call.args.len() + 32);
        wire::begin(&mut msg, wire::RUN, 0);
        call.encode_into(&mut msg);
        let mut channel = &worker.channel;
        if let Err(e) = frame::write_frame(&mut channel, &msg) {
            let mut child = worker.child;
            let _ = child.kill();
            let _ = child.wait();
            return Err(ProcessError::Io(e));
        }
        let pid = worker.child.id();
        // The child cannot be reaped before the reaper starts below, so the
        // pid is still ours to open.
        if let Some(fd) = pidfd_open(pid) {
            let _ = self.sentinel.set(fd);
        }
        st.phase = Phase::Running(pid);
        drop(st);
        register_for_exit(&self.shared);
        let shared = Arc::clone(&self.shared);
        let (child, channel) = (worker.child, worker.channel);
        std::thread::Builder::new()
            .name(format!("threadkit-reaper-{pid}"))
            .spawn(move || reap(&shared, child, channel))
            .map_err(ProcessError::Spawn)?;
        Ok(())
    }

    /// The child's pid once started (Python's `pid`).
    pub fn pid(&self) -> Option<u32> {
        match &self.shared.state.lock().phase {
            Phase::Initial(..) | Phase::Closed => None,
            Phase::Running(pid) | Phase::Exited(pid, _) => Some(*pid),
        }
    }

    /// Whether the child was started and has not exited (Python's
    /// `is_alive()`).
    pub fn is_alive(&self) -> bool {
        matches!(self.shared.state.lock().phase, Phase::Running(_))
    }

    /// The exit code once the child has exited: its status, or minus the
    /// signal that killed it (Python's `exitcode`).
    pub fn exitcode(&self) -> Option<i32> {
        match &self.shared.state.lock().phase {
            Phase::Exited(_, code) => Some(*code),
            _ => None,
        }
    }

    /// Waits for the child to exit and returns its exit code (Python's
    /// `join()`).
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotStarted`] before [`start`](Process::start).
    pub fn join(&self) -> Result<i32, ProcessError> {
        self.join_deadline(Deadline::Never)
            .map(|code| code.expect("no deadline"))
    }

    /// Waits at most `timeout` for the child to exit; `Ok(None)` if it is
    /// still running (Python's `join(timeout)`).
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotStarted`] before [`start`](Process::start).
    pub fn join_timeout(&self, timeout: Duration) -> Result<Option<i32>, ProcessError> {
        self.join_deadline(Deadline::after(timeout))
    }

    /// [`join`](Process::join) for async code: the same wait on the same
    /// handle, woken by the thread that reaps the child. Needs no runtime;
    /// bound it with `asyncio::wait_for` or any timer.
    /// Dropping the future before it resolves is safe.
    ///
    /// # Errors
    ///
    /// As [`join`](Process::join), and [`ProcessError::Closed`] if the
    /// handle was closed after the child exited, before this saw it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::multiprocessing::Process;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     use std::sync::Arc;
    /// #     use std::task::{Context, Poll, Wake};
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark() } }
    /// #     let waker = Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
    /// #         std::thread::park();
    /// #     }
    /// # }
    ///
    /// let p = Process::new(|code: i32| std::process::exit(code), 3);
    /// p.start().unwrap();
    /// assert_eq!(block_on(p.join_async()).unwrap(), 3);
    /// assert_eq!(p.join().unwrap(), 3);
    /// ```
    pub async fn join_async(&self) -> Result<i32, ProcessError> {
        self.join_deadline(Deadline::Now)?;
        let code = self.shared.state.until(|st| match st.phase {
            Phase::Exited(_, code) => Some(Ok(code)),
            // Closed once it exited, before this task looked again.
            Phase::Closed => Some(Err(ProcessError::Closed)),
            _ => None,
        });
        code.await
    }

    fn join_deadline(&self, deadline: Deadline) -> Result<Option<i32>, ProcessError> {
        let state = &self.shared.state;
        let mut st = state.lock();
        match st.phase {
            Phase::Initial(..) => return Err(ProcessError::NotStarted),
            Phase::Closed => return Err(ProcessError::Closed),
            _ => {}
        }
        state.wait_until(&mut st, deadline, |s| matches!(s.phase, Phase::Exited(..)));
        Ok(match &st.phase {
            Phase::Exited(_, code) => Some(*code),
            _ => None,
        })
    }

    /// Releases what the handle holds (Python's `close()`): the descriptors
    /// a never-started process would have passed, or the record of an exited
    /// one. Afterwards `start`, `join`, `terminate` and `kill` return
    /// [`ProcessError::Closed`].
    ///
    /// # Errors
    ///
    /// [`ProcessError::StillRunning`] while the child runs (Python's
    /// `ValueError`), leaving the handle as it was.
    pub fn close(&self) -> Result<(), ProcessError> {
        let mut st = self.shared.state.lock();
        if matches!(st.phase, Phase::Running(_)) {
            return Err(ProcessError::StillRunning);
        }
        st.phase = Phase::Closed;
        Ok(())
    }

    /// A descriptor that becomes readable when the child exits (Python's
    /// `sentinel`), for waiting on several processes with `poll`/`select`.
    /// The handle owns it; it stays valid until the handle is dropped.
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotStarted`] before [`start`](Process::start),
    /// [`ProcessError::Closed`] after [`close`](Process::close).
    pub fn sentinel(&self) -> Result<std::os::fd::BorrowedFd<'_>, ProcessError> {
        use std::os::fd::AsFd;
        match &self.shared.state.lock().phase {
            Phase::Initial(..) => return Err(ProcessError::NotStarted),
            Phase::Closed => return Err(ProcessError::Closed),
            Phase::Running(_) | Phase::Exited(..) => {}
        }
        self.sentinel.get().map(|fd| fd.as_fd()).ok_or_else(|| {
            ProcessError::Io(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "this kernel has no pidfd_open (Linux 5.3 or later)",
            ))
        })
    }

    /// Sends `SIGTERM` (Python's `terminate()`); does nothing once exited.
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotStarted`] before [`start`](Process::start).
    pub fn terminate(&self) -> Result<(), ProcessError> {
        signal(&self.shared, libc::SIGTERM)
    }

    /// Sends `SIGKILL` (Python's `kill()`); does nothing once exited.
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotStarted`] before [`start`](Process::start).
    pub fn kill(&self) -> Result<(), ProcessError> {
        signal(&self.shared, libc::SIGKILL)
    }
}

/// A descriptor that is readable once `pid` exits (Linux 5.3 and later).
pub(crate) fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor
    // or -1; it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the call succeeded, so `fd` is a fresh descriptor we own.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn signal(shared: &Shared, sig: i32) -> Result<(), ProcessError> {
    let st = shared.state.lock();
    match &st.phase {
        Phase::Initial(..) => Err(ProcessError::NotStarted),
        Phase::Closed => Err(ProcessError::Closed),
        Phase::Running(pid) => {
            // SAFETY: kill has no memory preconditions. The pid is still
            // ours: the reaper reaps only under this lock, so the child is at
            // worst a zombie and its pid cannot have been reused.
            unsafe { libc::kill(*pid as libc::pid_t, sig) };
            Ok(())
        }
        Phase::Exited(..) => Ok(()),
    }
}

/// The reaper thread: waits for the child to exit without reaping it, then
/// reaps it under the lock (so `signal` never hits a reused pid).
fn reap(shared: &Shared, mut child: Child, channel: UnixStream) {
    let pid = child.id();
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid writes only into `info`; WNOWAIT leaves the child
        // waitable so that `child.wait()` below reaps it.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break;
        }
    }
    let mut st = shared.state.lock();
    let code = child.wait().map(spawn::exitcode).unwrap_or(-1);
    drop(channel);
    st.phase = Phase::Exited(pid, code);
    let woken = shared.state.take_all(&mut st);
    drop(st);
    woken.wake();
}

/// The pids of this process's [`Process`] children still running (Python's
/// `multiprocessing.active_children()`), forgetting those that exited.
///
/// # Differences from Python
///
/// Python returns the `Process` objects; threadkit returns their pids, since
/// a `Process` handle has one owner. Pool workers are not included (Python
/// includes them).
pub fn active_children() -> Vec<u32> {
    let mut live = LIVE.lock();
    live.retain(|s| !matches!(s.state.lock().phase, Phase::Exited(..)));
    live.iter()
        .filter_map(|s| match s.state.lock().phase {
            Phase::Running(pid) => Some(pid),
            _ => None,
        })
        .collect()
}

/// Started processes, for Python's exit handling: terminate daemons, join
/// the others.
static LIVE: Mutex<Vec<Arc<Shared>>> = Mutex::new(Vec::new());

fn register_for_exit(shared: &Arc<Shared>) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| crate::util::exit::at_exit(crate::util::exit::Stage::Processes, at_exit));
    let mut live = LIVE.lock();
    live.retain(|s| !matches!(s.state.lock().phase, Phase::Exited(..)));
    live.push(Arc::clone(shared));
}

/// The processes' exit step (Python's `multiprocessing.util._exit_function`),
/// after threads are joined: daemon children get `SIGTERM`, then every child
/// is joined.
fn at_exit() {
    let live = std::mem::take(&mut *LIVE.lock());
    for shared in &live {
        if shared.daemon {
            let _ = signal(shared, libc::SIGTERM);
        }
    }
    for shared in &live {
        let mut st = shared.state.lock();
        shared.state.wait_until(&mut st, Deadline::Never, |s| {
            matches!(s.phase, Phase::Exited(..))
        });
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.shared.state.lock().phase {
            Phase::Initial(..) => "initial".to_owned(),
            Phase::Closed => "closed".to_owned(),
            Phase::Running(pid) => format!("started pid={pid}"),
            Phase::Exited(pid, code) => format!("stopped pid={pid} exitcode={code}"),
        };
        f.debug_struct("Process")
            .field("name", &self.name)
            .field("daemon", &self.daemon)
            .field("state", &state)
            .finish()
    }
}
