//! The table of live threads behind `current_thread()`, `enumerate()` and
//! friends (Python's `_active` dict), and the wait for non-daemon threads when
//! the process exits (Python's `_shutdown`).
//!
//! Every thread learns its own record through a `thread_local!` slot: threadkit
//! threads set it when they start; the main thread and foreign threads get one
//! lazily on their first `current_thread()`. A foreign thread's record is a
//! "dummy" that the slot's destructor removes from the table when the thread
//! exits.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::thread::{Kind, ThreadHandle};
use crate::loom::sync::Mutex;

/// Idents are handed out from one counter and never reused.
static NEXT_IDENT: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_ident() -> u64 {
    NEXT_IDENT.fetch_add(1, Ordering::Relaxed)
}

struct Registry {
    main: ThreadHandle,
    /// Live threadkit threads and dummies, by ident (so `enumerate` is ordered
    /// by creation).
    active: Mutex<BTreeMap<u64, ThreadHandle>>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry {
        main: ThreadHandle::new_main(next_ident(), main_native_id()),
        active: Mutex::new(BTreeMap::new()),
    })
}

/// The current thread's record; dropping it (at thread exit) retires dummies.
struct Current(ThreadHandle);

impl Drop for Current {
    fn drop(&mut self) {
        if self.0.kind() == Kind::Dummy {
            leave(&self.0);
            self.0.set_finished(None);
        }
    }
}

thread_local! {
    static CURRENT: OnceCell<Current> = const { OnceCell::new() };
}

/// The OS thread id of the calling thread, where the platform has one.
fn os_thread_id() -> Option<u64> {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        // SAFETY: gettid() has no preconditions and cannot fail.
        let tid = unsafe { libc::gettid() };
        u64::try_from(tid).ok()
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        None
    }
}

/// The main thread's OS id: on Linux its tid is the process id.
fn main_native_id() -> u64 {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        u64::from(std::process::id())
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        0
    }
}

/// Whether the calling thread is the process's main thread.
fn on_main_thread() -> bool {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        os_thread_id() == Some(main_native_id())
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        std::thread::current().name() == Some("main")
    }
}

/// The native id to record for `handle`, which is the calling thread; where
/// the platform has none, the ident stands in.
pub(crate) fn native_id_of_current(handle: &ThreadHandle) -> u64 {
    os_thread_id().unwrap_or_else(|| handle.ident().unwrap_or(0))
}

/// Called first thing on a new threadkit thread.
pub(crate) fn enter(handle: &ThreadHandle) {
    // A fresh OS thread's slot is empty; `set` cannot fail here.
    let _ = CURRENT.try_with(|c| c.set(Current(handle.clone())));
    if let Some(ident) = handle.ident() {
        registry().active.lock().insert(ident, handle.clone());
    }
}

/// Called last thing on a threadkit thread, and when a dummy thread exits.
pub(crate) fn leave(handle: &ThreadHandle) {
    if let Some(ident) = handle.ident() {
        let removed = registry().active.lock().remove(&ident);
        drop(removed);
    }
}

/// A record for a thread threadkit has not seen yet.
fn adopt() -> ThreadHandle {
    let reg = registry();
    if on_main_thread() {
        return reg.main.clone();
    }
    let ident = next_ident();
    let dummy = ThreadHandle::new_dummy(ident, os_thread_id().unwrap_or(ident));
    reg.active.lock().insert(ident, dummy.clone());
    dummy
}

/// The current thread's record if it already has one (never creates a dummy).
fn current_if_known() -> Option<ThreadHandle> {
    CURRENT
        .try_with(|c| c.get().map(|cur| cur.0.clone()))
        .ok()
        .flatten()
}

/// Whether `handle` describes the calling thread.
pub(crate) fn is_current(handle: &ThreadHandle) -> bool {
    #[cfg(feature = "green")]
    if let Some(green) = crate::green::current_thread_handle() {
        return green == *handle;
    }
    is_current_os_thread(handle)
}

/// Whether `handle` describes the OS thread running the caller: the caller
/// itself, or the carrier of the calling green thread (which cannot end
/// while one of its green threads waits for it).
pub(crate) fn is_current_os_thread(handle: &ThreadHandle) -> bool {
    match current_if_known() {
        Some(current) => current == *handle,
        None => handle.kind() == Kind::Main && on_main_thread(),
    }
}

/// The daemon flag a new thread inherits: the creator's, for the main thread
/// and threadkit threads; `false` for threads threadkit did not start.
pub(crate) fn current_is_daemon() -> bool {
    current_if_known().is_some_and(|h| h.kind() == Kind::Regular && h.is_daemon())
}

/// The calling thread's [`ThreadHandle`]: Python's `threading.current_thread()`.
///
/// A thread threadkit did not start (a `std::thread`, a thread of another
/// library) gets a *dummy* record on its first call, as in Python: it is
/// alive, a daemon, named `Dummy-N`, listed by [`enumerate`] while the thread
/// lives, and cannot be joined. It is removed when the thread exits (by a
/// thread-local destructor).
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Thread, current_thread, main_thread};
///
/// assert_eq!(current_thread(), main_thread());
/// let t = Thread::spawn(|| current_thread().name().to_owned()).unwrap();
/// let name = t.name().to_owned();
/// assert_eq!(t.into_result().unwrap(), name);
/// ```
#[doc(alias = "currentThread")]
pub fn current_thread() -> ThreadHandle {
    #[cfg(feature = "green")]
    if let Some(green) = crate::green::current_thread_handle() {
        return green;
    }
    CURRENT
        .try_with(|c| c.get_or_init(|| Current(adopt())).0.clone())
        // During thread-local destruction: an unregistered, anonymous record.
        .unwrap_or_else(|_| {
            let ident = next_ident();
            ThreadHandle::new_dummy(ident, os_thread_id().unwrap_or(ident))
        })
}

/// The main thread's [`ThreadHandle`]: Python's `threading.main_thread()`.
///
/// It is alive until `main` returns; joining it from another thread waits for
/// that (see the module docs on process exit).
pub fn main_thread() -> ThreadHandle {
    registry().main.clone()
}

/// Every live thread: the main thread (while alive), every started, unfinished
/// threadkit thread and the dummy records of foreign threads: Python's
/// `threading.enumerate()`. Ordered by ident, the main thread first.
pub fn enumerate() -> Vec<ThreadHandle> {
    let reg = registry();
    let active = reg.active.lock();
    let mut all = Vec::with_capacity(active.len() + 1);
    if reg.main.is_alive() {
        all.push(reg.main.clone());
    }
    all.extend(active.values().cloned());
    all
}

/// The number of threads [`enumerate`] would list: Python's
/// `threading.active_count()`.
#[doc(alias = "activeCount")]
pub fn active_count() -> usize {
    let reg = registry();
    let n = reg.active.lock().len();
    n + usize::from(reg.main.is_alive())
}

/// The calling thread's ident: Python's `threading.get_ident()`.
///
/// # Differences from Python
///
/// Python's idents are the C library's thread handles and may be reused once a
/// thread has exited; threadkit's are small numbers from a process-wide
/// counter, unique for the life of the process and never reused. They are not
/// OS thread ids (see [`get_native_id`]).
pub fn get_ident() -> u64 {
    current_thread().ident().unwrap_or(0)
}

/// The largest timeout the blocking calls accept: Python's
/// `threading.TIMEOUT_MAX`.
///
/// # Differences from Python's `threading.TIMEOUT_MAX`
///
/// Python raises `OverflowError` for a timeout above `TIMEOUT_MAX`. threadkit
/// takes any [`Duration`](std::time::Duration): one too large to add to
/// [`Instant::now()`](std::time::Instant::now) means "wait forever", so the
/// limit is `Duration::MAX`.
///
/// ```
/// use threadkit::threading::{Event, TIMEOUT_MAX};
///
/// let ev = Event::new();
/// ev.set();
/// assert!(ev.wait_timeout(TIMEOUT_MAX));
/// ```
pub const TIMEOUT_MAX: std::time::Duration = std::time::Duration::MAX;

/// The calling thread's operating-system id: Python's
/// `threading.get_native_id()`.
///
/// On Linux this is `gettid()`. Elsewhere (and under Miri) threadkit has no OS
/// id and returns the thread's [ident](get_ident) instead.
pub fn get_native_id() -> u64 {
    match os_thread_id() {
        Some(id) => id,
        None => get_ident(),
    }
}

/// Makes sure (once) that returning from `main` waits for non-daemon threads.
pub(crate) fn wait_at_exit() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        // Create the registry now, not inside exit().
        let _ = registry();
        crate::util::exit::at_exit(crate::util::exit::Stage::Threads, shutdown);
    });
}

/// Python's `threading._shutdown`: the main thread counts as finished, then
/// every live non-daemon threadkit thread is joined, until none is left
/// (threads may start others meanwhile).
fn shutdown() {
    let reg = registry();
    if on_main_thread() {
        reg.main.set_finished(None);
    }
    loop {
        let pending: Vec<ThreadHandle> = reg
            .active
            .lock()
            .values()
            .filter(|h| h.kind() == Kind::Regular && !h.is_daemon() && !is_current(h))
            .cloned()
            .collect();
        if pending.is_empty() {
            return;
        }
        for thread in pending {
            // A panicked thread has already been reported by the excepthook.
            let _ = thread.join();
        }
    }
}
