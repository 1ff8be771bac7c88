//! `Thread`: Python's `threading.Thread`, a thread with a name, an identity and
//! a lifecycle (created → started → finished) that others can observe and join.
//!
//! # States
//!
//! Every thread record moves through these phases, always under its own lock,
//! and never backwards:
//!
//! ```text
//! Initial --start()--> Starting --new thread runs--> Running --target returned/panicked--> Finished
//!    ^                     |
//!    +---- spawn failed ---+   (the target is gone: a second start() is AlreadyStarted)
//! ```
//!
//! `start()` returns only once the new thread has left `Starting` (as Python's
//! `start()` waits for `_started`), so `is_alive()`, `ident()` and
//! `native_id()` are all set when it returns. The main thread and dummy
//! threads are created `Running`.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::error::ThreadError;
use super::{hooks, registry};
use crate::loom::sync::{Arc, Mutex};
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// Where a thread record is in its lifecycle; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Initial,
    Starting,
    Running,
    Finished,
}

/// What kind of thread a record describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Started by threadkit (`Thread::start`).
    Regular,
    /// The process's main thread (Python's `_MainThread`).
    Main,
    /// A thread threadkit did not start, seen through `current_thread()`
    /// (Python's `_DummyThread`).
    Dummy,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    ident: Option<u64>,
    native_id: Option<u64>,
    /// The panic message the target ended with, once `Finished`.
    panic: Option<String>,
    /// Threads and tasks joining it, and `start()` waiting for it to run.
    waiters: WaitList,
}

impl HasWaiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }

    fn wait_kind(&self) -> crate::debug::WaitKind {
        crate::debug::WaitKind::Join
    }

    /// Only the joined thread can end a `join` (`start()` also waits here,
    /// for a thread not yet running, recorded as `Thread.start`: no holder
    /// then).
    fn holder(&self) -> crate::debug::waits::Holder {
        match (self.phase, self.ident) {
            (Phase::Running, Some(ident)) => crate::debug::waits::Holder::Thread(ident),
            _ => crate::debug::waits::Holder::Unknown,
        }
    }
}

#[derive(Debug)]
struct Inner {
    name: String,
    daemon: bool,
    kind: Kind,
    state: Monitor<State>,
}

/// Python's `_counter`: numbers the default names `Thread-N` and `Dummy-N`.
static NAME_COUNTER: AtomicU64 = AtomicU64::new(1);

fn next_name_number() -> u64 {
    NAME_COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A readable name for a target from its type: the last path segment that is
/// not a closure marker, so a closure written in `fn worker` gives `worker`.
fn target_name<F>() -> Option<&'static str> {
    let full = std::any::type_name::<F>();
    let path = full.split('<').next().unwrap_or(full);
    path.split("::")
        .filter(|seg| !seg.is_empty() && !seg.starts_with('{'))
        .last()
}

/// An untyped, clonable view of a thread: what [`current_thread`](super::current_thread),
/// [`main_thread`](super::main_thread) and [`enumerate`](super::enumerate) return, and
/// what a [`Thread<T>`] dereferences to.
///
/// Two handles compare equal when they describe the same thread.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Thread, current_thread};
///
/// let t = Thread::builder()
///     .name("worker")
///     .build(|| current_thread().name().to_owned());
/// assert!(!t.is_alive());
/// t.start().unwrap();
/// t.join().unwrap();
/// assert!(!t.is_alive());
/// assert_eq!(t.into_result().unwrap(), "worker");
/// ```
#[derive(Clone)]
pub struct ThreadHandle {
    inner: Arc<Inner>,
}

impl ThreadHandle {
    fn with(name: String, daemon: bool, kind: Kind, phase: Phase, ident: Option<u64>) -> Self {
        ThreadHandle {
            inner: Arc::new(Inner {
                name,
                daemon,
                kind,
                state: Monitor::new(State {
                    phase,
                    ident,
                    native_id: None,
                    panic: None,
                    waiters: WaitList::default(),
                }),
            }),
        }
    }

    /// The record of the main thread, running from the start.
    pub(crate) fn new_main(ident: u64, native_id: u64) -> Self {
        let h = ThreadHandle::with(
            "MainThread".to_owned(),
            false,
            Kind::Main,
            Phase::Running,
            Some(ident),
        );
        h.inner.state.lock().native_id = Some(native_id);
        h
    }

    /// The record of a foreign thread, created on that thread.
    pub(crate) fn new_dummy(ident: u64, native_id: u64) -> Self {
        let name = format!("Dummy-{}", next_name_number());
        let h = ThreadHandle::with(name, true, Kind::Dummy, Phase::Running, Some(ident));
        h.inner.state.lock().native_id = Some(native_id);
        h
    }

    /// The record of a green thread (feature `green`), made on it by its
    /// first `current_thread()`: a dummy with its own ident, named after
    /// the green thread (or `Dummy-N`), never in `enumerate()`.
    #[cfg(feature = "green")]
    pub(crate) fn new_green(name: Option<&str>) -> Self {
        let name = match name {
            Some(name) => name.to_owned(),
            None => format!("Dummy-{}", next_name_number()),
        };
        let ident = super::registry::next_ident();
        let h = ThreadHandle::with(name, true, Kind::Dummy, Phase::Running, Some(ident));
        // No OS thread of its own: its native id is its carrier's.
        let native_id = super::registry::native_id_of_current(&h);
        h.inner.state.lock().native_id = Some(native_id);
        h
    }

    pub(crate) fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// The thread's name (Python's `name`). Names need not be unique.
    ///
    /// The default is `Thread-N (target)` for threads started by threadkit,
    /// `MainThread` for the main thread and `Dummy-N` for threads threadkit did
    /// not start.
    #[doc(alias = "getName")]
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The thread's identifier (Python's `ident`), or `None` before it was
    /// started. See [`get_ident`](super::get_ident) for how idents differ from
    /// Python's.
    pub fn ident(&self) -> Option<u64> {
        self.inner.state.lock().ident
    }

    /// The operating system's id for the thread (Linux: `gettid()`), or `None`
    /// before it was started (Python's `native_id`).
    pub fn native_id(&self) -> Option<u64> {
        self.inner.state.lock().native_id
    }

    /// Whether the thread has started and not yet finished (Python's `is_alive()`).
    pub fn is_alive(&self) -> bool {
        self.inner.state.lock().phase == Phase::Running
    }

    /// Whether the thread is a daemon thread (Python's `daemon`): one that does
    /// not keep the process alive when `main` returns.
    #[doc(alias = "daemon")]
    #[doc(alias = "isDaemon")]
    pub fn is_daemon(&self) -> bool {
        self.inner.daemon
    }

    /// Whether this is a dummy record for a thread threadkit did not start.
    pub fn is_dummy(&self) -> bool {
        self.inner.kind == Kind::Dummy
    }

    /// Blocks until the thread finishes (Python's `join()`).
    ///
    /// # Errors
    ///
    /// [`ThreadError::Panicked`] if the thread's target panicked (with its
    /// message; every join reports it), [`ThreadError::NotStarted`] before
    /// `start()`, [`ThreadError::JoinCurrent`] when a thread joins itself (or
    /// a green thread the OS thread that carries it) and
    /// [`ThreadError::JoinDummy`] for threads threadkit did not start.
    pub fn join(&self) -> Result<(), ThreadError> {
        self.join_until(Deadline::Never).map(drop)
    }

    /// Blocks until the thread finishes or `timeout` passes (Python's
    /// `join(timeout)`). Returns `Ok(true)` if it finished, `Ok(false)` if it is
    /// still alive.
    ///
    /// # Errors
    ///
    /// As [`join`](ThreadHandle::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use threadkit::threading::{Event, Thread};
    ///
    /// let go = Arc::new(Event::new());
    /// let g = Arc::clone(&go);
    /// let t = Thread::spawn(move || g.wait()).unwrap();
    /// assert_eq!(t.join_timeout(Duration::from_millis(1)), Ok(false));
    /// assert!(t.is_alive());
    /// go.set();
    /// assert_eq!(t.join_timeout(Duration::from_secs(60)), Ok(true));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, ThreadError> {
        self.join_until(Deadline::after(timeout))
    }

    /// Blocks until the thread finishes or `deadline` passes; see
    /// [`join_timeout`](ThreadHandle::join_timeout).
    ///
    /// # Errors
    ///
    /// As [`join`](ThreadHandle::join).
    pub fn join_deadline(&self, deadline: Instant) -> Result<bool, ThreadError> {
        self.join_until(Deadline::At(deadline))
    }

    /// [`join`](ThreadHandle::join) for async code: the same wait on the
    /// same record, so the thread's end releases joining threads and tasks
    /// alike (Python spells it `await asyncio.to_thread(t.join)`, which ties
    /// up a worker thread; this does not). Needs no runtime; bound it with
    /// `asyncio::wait_for` or any timer. Dropping the
    /// future before it resolves is safe.
    ///
    /// # Errors
    ///
    /// As [`join`](ThreadHandle::join); [`ThreadError::JoinCurrent`] when it
    /// is polled on the thread it joins.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
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
    /// let t = Thread::spawn(|| std::thread::sleep(std::time::Duration::from_millis(5))).unwrap();
    /// assert_eq!(block_on(t.join_async()), Ok(()));
    /// assert!(!t.is_alive());
    /// ```
    pub async fn join_async(&self) -> Result<(), ThreadError> {
        self.join_until(Deadline::Now)?;
        self.inner
            .state
            .until(|s| (s.phase == Phase::Finished).then(|| finished(s)))
            .await
            .map(drop)
    }

    fn join_until(&self, deadline: Deadline) -> Result<bool, ThreadError> {
        if self.inner.kind == Kind::Dummy {
            return Err(ThreadError::JoinDummy);
        }
        // A green thread joining its own carrier would wait for a thread
        // that cannot end before it does: refused like a self-join.
        if registry::is_current(self) || registry::is_current_os_thread(self) {
            return Err(ThreadError::JoinCurrent);
        }
        let mut st = self.inner.state.lock();
        if st.phase == Phase::Initial {
            return Err(ThreadError::NotStarted);
        }
        if !self
            .inner
            .state
            .wait_until(&mut st, deadline, |s| s.phase == Phase::Finished)
        {
            return Ok(false);
        }
        finished(&st)
    }

    /// Marks the thread `Running` (called on the new thread) and wakes `start()`.
    fn set_running(&self, native_id: u64) {
        let mut st = self.inner.state.lock();
        st.native_id = Some(native_id);
        st.phase = Phase::Running;
        let woken = self.inner.state.take_all(&mut st);
        drop(st);
        woken.wake();
    }

    /// Marks the thread `Finished` and wakes every joiner.
    pub(crate) fn set_finished(&self, panic: Option<String>) {
        let mut st = self.inner.state.lock();
        st.panic = panic;
        st.phase = Phase::Finished;
        let woken = self.inner.state.take_all(&mut st);
        drop(st);
        woken.wake();
    }
}

/// What joining a finished thread reports.
fn finished(st: &State) -> Result<bool, ThreadError> {
    match &st.panic {
        Some(msg) => Err(ThreadError::Panicked(msg.clone())),
        None => Ok(true),
    }
}

impl PartialEq for ThreadHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for ThreadHandle {}

impl fmt::Debug for ThreadHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.lock();
        let status = match st.phase {
            Phase::Initial => "initial",
            Phase::Starting => "starting",
            Phase::Running => "started",
            Phase::Finished => "stopped",
        };
        f.debug_struct("ThreadHandle")
            .field("name", &self.inner.name)
            .field("status", &status)
            .field("daemon", &self.inner.daemon)
            .field("ident", &st.ident)
            .finish()
    }
}

type Target<T> = Box<dyn FnOnce() -> T + Send>;

/// A thread started by threadkit, returning a `T`: Python's `threading.Thread`.
///
/// Create it unstarted ([`Thread::new`], [`Thread::builder`]) and
/// [`start`](Thread::start) it, or do both with [`Thread::spawn`]. It
/// dereferences to its [`ThreadHandle`], which carries `name()`, `ident()`,
/// `is_alive()`, `join()` and the rest; [`into_result`](Thread::into_result)
/// joins and hands back the target's return value.
///
/// Python's `Thread(target=f, args=(a, b))` is a closure capturing its
/// arguments: `Thread::new(move || f(a, b))`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::Thread;
///
/// let (a, b) = (20, 22); // Python's args=(20, 22)
/// let t = Thread::new(move || a + b);
/// t.start().unwrap();
/// assert_eq!(t.into_result(), Ok(42));
///
/// // A panic is captured and reported by join, as a typed error.
/// # threadkit::threading::set_excepthook(|_| {}); // keep doctest output quiet
/// let t = Thread::builder().daemon(true).spawn(|| panic!("boom")).unwrap();
/// assert_eq!(t.join().unwrap_err().panic_message(), Some("boom"));
/// # threadkit::threading::reset_excepthook();
/// ```
///
/// # Differences from Python's `threading.Thread`
///
/// - `join` reports a panic of the target as [`ThreadError::Panicked`]
///   (Python's `join` says nothing; only the excepthook sees the exception);
///   the excepthook is called as well.
/// - Misuse (`start` twice, joining an unstarted thread or oneself) returns a
///   [`ThreadError`] instead of raising `RuntimeError`.
/// - There is no `run()` to override: the target closure is the thread's body.
/// - `name` and `daemon` are fixed at creation (set them on the [`Builder`]).
pub struct Thread<T = ()> {
    handle: ThreadHandle,
    target: Mutex<Option<Target<T>>>,
    result: Arc<Mutex<Option<T>>>,
    stack_size: Option<usize>,
}

impl<T: Send + 'static> Thread<T> {
    /// An unstarted thread running `f`, with a default name and the daemon
    /// flag of the current thread (see [`Builder::daemon`]).
    pub fn new<F>(f: F) -> Thread<T>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        Builder::new().build(f)
    }

    /// Creates and starts a thread running `f`, with default settings.
    ///
    /// # Errors
    ///
    /// [`ThreadError::Spawn`] if the operating system refuses a new thread.
    pub fn spawn<F>(f: F) -> Result<Thread<T>, ThreadError>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        Builder::new().spawn(f)
    }

    /// Starts the thread (Python's `start()`), returning once it runs.
    ///
    /// # Errors
    ///
    /// [`ThreadError::AlreadyStarted`] on a second call, and
    /// [`ThreadError::Spawn`] if the operating system refuses a new thread
    /// (the target is then dropped and the thread cannot be started again).
    pub fn start(&self) -> Result<(), ThreadError> {
        let target = {
            let mut st = self.handle.inner.state.lock();
            let target = match (st.phase, self.target.lock().take()) {
                (Phase::Initial, Some(target)) => target,
                _ => return Err(ThreadError::AlreadyStarted),
            };
            st.phase = Phase::Starting;
            st.ident = Some(registry::next_ident());
            target
        };
        hooks::install_panic_hook();
        if !self.handle.is_daemon() {
            registry::wait_at_exit();
        }
        let handle = self.handle.clone();
        let slot = Arc::clone(&self.result);
        // std refuses names with NUL bytes; the OS-level name is only cosmetic.
        let mut os_thread = std::thread::Builder::new().name(self.handle.name().replace('\0', ""));
        if let Some(bytes) = self.stack_size {
            os_thread = os_thread.stack_size(bytes);
        }
        // Feature `tracing`: the thread's span, made here so that it
        // follows from the span current where the thread was started.
        #[cfg(feature = "tracing")]
        let span = crate::debug::trace::thread_span(
            handle.name(),
            handle.ident().unwrap_or(0),
            handle.is_daemon(),
        );
        let body = move || {
            #[cfg(feature = "tracing")]
            let _entered = span.entered();
            bootstrap(handle, target, slot)
        };
        // The std JoinHandle is dropped: joining goes through our own state.
        if let Err(e) = os_thread.spawn(body) {
            let mut st = self.handle.inner.state.lock();
            st.phase = Phase::Initial;
            st.ident = None;
            return Err(ThreadError::Spawn(e.to_string()));
        }
        let state = &self.handle.inner.state;
        let mut st = state.lock();
        state.wait_until_as(
            &mut st,
            Deadline::Never,
            crate::debug::WaitKind::Start,
            |s| s.phase != Phase::Starting,
        );
        Ok(())
    }

    /// Joins the thread and returns what its target returned.
    ///
    /// # Errors
    ///
    /// As [`join`](ThreadHandle::join): [`ThreadError::Panicked`] if the target
    /// panicked, [`ThreadError::NotStarted`] if the thread was never started.
    pub fn into_result(self) -> Result<T, ThreadError> {
        self.handle.join()?;
        // A successful join means the target returned and its value was
        // stored; only `into_result` takes it, and it consumes the Thread.
        self.result.lock().take().ok_or(ThreadError::NotStarted)
    }
}

impl Thread<()> {
    /// A [`Builder`] for a thread's name, daemon flag and stack size.
    pub fn builder() -> Builder {
        Builder::new()
    }
}

impl<T> Thread<T> {
    /// The untyped handle of this thread (also reachable through `Deref`).
    pub fn handle(&self) -> &ThreadHandle {
        &self.handle
    }
}

impl<T> Deref for Thread<T> {
    type Target = ThreadHandle;

    fn deref(&self) -> &ThreadHandle {
        &self.handle
    }
}

impl<T> fmt::Debug for Thread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Thread").field(&self.handle).finish()
    }
}

/// What runs on the new OS thread: register, run hooks and target, report.
fn bootstrap<T>(handle: ThreadHandle, target: Target<T>, slot: Arc<Mutex<Option<T>>>) {
    run_registered(&handle, target, |value| *slot.lock() = Some(value));
}

/// Runs `target` as the thread `handle` on the current OS thread: registers
/// it, runs the hooks, reports a panic to the excepthook, hands the value to
/// `keep` and only then marks the record finished (so a joiner finds what
/// `keep` stored). `None` if the target panicked (the record has the
/// message). Shared by [`Thread::start`] and scoped threads.
pub(super) fn run_registered<T, R>(
    handle: &ThreadHandle,
    target: impl FnOnce() -> T,
    keep: impl FnOnce(T) -> R,
) -> Option<R> {
    registry::enter(handle);
    handle.set_running(registry::native_id_of_current(handle));
    hooks::run_start_hook(handle);
    let (value, panic) = match hooks::run_captured(target) {
        Ok(value) => (Some(keep(value)), None),
        Err(report) => {
            hooks::report_exception(handle, &report);
            (None, Some(report.message))
        }
    };
    #[cfg(feature = "tracing")]
    crate::debug::trace::thread_exit(panic.as_deref());
    hooks::run_exit_hook(handle);
    registry::leave(handle);
    handle.set_finished(panic);
    value
}

/// Settings for a new [`Thread`]: Python's `Thread(name=..., daemon=...)`
/// keyword arguments, plus a stack size.
///
/// # Examples
///
/// ```
/// use threadkit::threading::Thread;
///
/// let t = Thread::builder()
///     .name("ticker")
///     .daemon(true)
///     .stack_size(256 * 1024)
///     .build(|| 7);
/// assert_eq!(t.name(), "ticker");
/// assert!(t.is_daemon());
/// t.start().unwrap();
/// assert_eq!(t.into_result(), Ok(7));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a Builder does nothing until build() or spawn()"]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

impl Builder {
    /// Default settings: see [`name`](Builder::name) and [`daemon`](Builder::daemon).
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The thread's name. Without one, the thread is called `Thread-N (f)`,
    /// where `N` counts unnamed threads and `f` is the target's function (for a
    /// closure, the function it was written in) as Python's `Thread-N (target)`.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Whether the thread is a daemon. The default is the current thread's
    /// flag when that is a threadkit thread or the main thread, as in Python;
    /// threads created from threads threadkit did not start default to
    /// non-daemon (Python would make them daemons).
    pub fn daemon(mut self, daemon: bool) -> Builder {
        self.daemon = Some(daemon);
        self
    }

    /// The new thread's stack size in bytes (Python's `threading.stack_size`,
    /// per thread here).
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// The name set, or Python's default `Thread-N (target)` for `F`.
    fn name_for<F>(&mut self) -> String {
        self.name.take().unwrap_or_else(|| {
            let n = next_name_number();
            match target_name::<F>() {
                Some(target) => format!("Thread-{n} ({target})"),
                None => format!("Thread-{n}"),
            }
        })
    }

    /// Starts a thread of `scope` running `f` with these settings: a
    /// threadkit thread (named, listed by [`enumerate`](super::enumerate),
    /// its panic reported to the excepthook) that may borrow from the stack
    /// around [`scope`](super::scope). The daemon flag does not apply: the
    /// scope joins its threads before it returns.
    ///
    /// # Errors
    ///
    /// [`ThreadError::Spawn`] if the operating system refuses a new thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{self, Thread};
    ///
    /// let greeting = String::from("hello");
    /// threading::scope(|s| {
    ///     let t = Thread::builder().name("greeter").spawn_scoped(s, || greeting.len()).unwrap();
    ///     assert_eq!(t.name(), "greeter");
    ///     assert_eq!(t.join(), Ok(5));
    /// });
    /// ```
    pub fn spawn_scoped<'scope, 'env, F, T>(
        mut self,
        scope: &super::Scope<'scope, 'env>,
        f: F,
    ) -> Result<super::ScopedThread<'scope, T>, ThreadError>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let name = self.name_for::<F>();
        let handle = ThreadHandle::with(name, false, Kind::Regular, Phase::Starting, None);
        handle.inner.state.lock().ident = Some(registry::next_ident());
        hooks::install_panic_hook();
        let mut os_thread = std::thread::Builder::new().name(handle.name().replace('\0', ""));
        if let Some(bytes) = self.stack_size {
            os_thread = os_thread.stack_size(bytes);
        }
        let record = handle.clone();
        match os_thread.spawn_scoped(scope.std, move || run_registered(&record, f, |value| value)) {
            Ok(join) => Ok(super::ScopedThread { handle, join }),
            Err(e) => {
                handle.set_finished(None);
                Err(ThreadError::Spawn(e.to_string()))
            }
        }
    }

    /// An unstarted thread running `f` with these settings.
    pub fn build<F, T>(mut self, f: F) -> Thread<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let name = self.name_for::<F>();
        let daemon = self.daemon.unwrap_or_else(registry::current_is_daemon);
        Thread {
            handle: ThreadHandle::with(name, daemon, Kind::Regular, Phase::Initial, None),
            target: Mutex::new(Some(Box::new(f))),
            result: Arc::new(Mutex::new(None)),
            stack_size: self.stack_size,
        }
    }

    /// Builds and starts a thread running `f`.
    ///
    /// # Errors
    ///
    /// [`ThreadError::Spawn`] if the operating system refuses a new thread.
    pub fn spawn<F, T>(self, f: F) -> Result<Thread<T>, ThreadError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let t = self.build(f);
        t.start()?;
        Ok(t)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn named_worker() {}

    #[test]
    fn target_names_are_readable() {
        assert_eq!(target_name::<fn()>(), Some("fn()"));
        fn of<F>(_: &F) -> Option<&'static str> {
            target_name::<F>()
        }
        assert_eq!(of(&named_worker), Some("named_worker"));
        let closure = || ();
        assert_eq!(of(&closure), Some("target_names_are_readable"));
    }

    fn poll<F: std::future::Future + Unpin>(f: &mut F) -> std::task::Poll<F::Output> {
        let waker = std::task::Waker::noop();
        std::pin::Pin::new(f).poll(&mut std::task::Context::from_waker(waker))
    }

    /// `join_async` waits on the same list as `join`: it registers while the
    /// thread runs, takes its entry back when dropped, and reports what
    /// `join` reports.
    #[test]
    fn join_async_is_join_on_the_same_record() {
        use crate::threading::Event;
        use std::task::Poll;
        let go = Arc::new(Event::new());
        let g = Arc::clone(&go);
        let t = Thread::spawn(move || g.wait()).unwrap();
        let waiting = |t: &Thread| t.handle.inner.state.lock().waiters.len();

        fn send<F: Send>(f: F) -> F {
            f
        }
        let mut cancelled = Box::pin(send(t.join_async()));
        assert!(poll(&mut cancelled).is_pending());
        assert!(poll(&mut cancelled).is_pending());
        assert_eq!(waiting(&t), 1);
        drop(cancelled);
        assert_eq!(waiting(&t), 0);

        let mut joining = Box::pin(t.join_async());
        assert!(poll(&mut joining).is_pending());
        go.set();
        assert_eq!(t.join(), Ok(()));
        assert_eq!(poll(&mut joining), Poll::Ready(Ok(())));
        assert_eq!(waiting(&t), 0);

        let unstarted = Thread::new(|| ());
        assert_eq!(
            poll(&mut Box::pin(unstarted.join_async())),
            Poll::Ready(Err(ThreadError::NotStarted))
        );
        let panicked = Thread::builder()
            .daemon(true)
            .spawn(|| panic!("join_async boom"))
            .unwrap();
        let _ = panicked.join();
        assert_eq!(
            poll(&mut Box::pin(panicked.join_async())),
            Poll::Ready(Err(ThreadError::Panicked("join_async boom".into())))
        );
    }
}
