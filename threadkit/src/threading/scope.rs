//! [`scope`]: threadkit threads that borrow from the stack.

use std::fmt;
use std::ops::Deref;
use std::thread::ScopedJoinHandle;

use super::error::ThreadError;
use super::thread::{Builder, ThreadHandle};

/// Runs `f` with a [`Scope`] whose threads may borrow anything that outlives
/// the call, and joins every thread still running before returning:
/// [`std::thread::scope`] with threadkit [`Thread`](super::Thread)s.
///
/// Each scoped thread is a threadkit thread: it has a name (Python's default
/// `Thread-N (f)` or one set with [`Builder::spawn_scoped`]), it is listed by
/// [`enumerate`](super::enumerate) and [`current_thread`](super::current_thread)
/// while it runs, the start and exit hooks run around it, and a panic in it is
/// reported to the [excepthook](super::set_excepthook) and returned by
/// [`ScopedThread::join`] as [`ThreadError::Panicked`]. A panicking scoped
/// thread never makes `scope` itself panic (std's would).
///
/// Queues, events and locks need no `Arc` to be shared: borrow them.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
/// use threadkit::threading::{self, Event, Lock};
///
/// // Python shares module-level objects between threads; here they live on
/// // the stack and the threads borrow them.
/// let q = Queue::new(10);
/// let stop = Event::new();
/// let total = Lock::new(0);
/// threading::scope(|s| {
///     let consumer = s
///         .spawn(|| {
///             while let Ok(n) = q.get() {
///                 *total.acquire() += n;
///                 q.task_done().unwrap();
///             }
///         })
///         .unwrap();
///     for n in 1..=4 {
///         q.put(n).unwrap();
///     }
///     q.join(); // every item processed
///     stop.set();
///     q.shutdown(false); // lets the consumer's get() end
///     consumer.join().unwrap();
/// });
/// assert!(stop.is_set());
/// assert_eq!(*total.acquire(), 10);
/// ```
///
/// # Differences from Python
///
/// Python has no scoped threads: every thread may outlive the code that
/// started it, and shares objects through the GIL-protected heap. Scoped
/// threads are Rust's safe way to share borrowed data; their daemon flag is
/// irrelevant, since `scope` joins them before it returns.
pub fn scope<'env, F, R>(f: F) -> R
where
    F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> R,
{
    std::thread::scope(|std| f(&Scope { std }))
}

/// The scope given to the closure of [`scope`]: spawns threads that may
/// borrow from outside it.
pub struct Scope<'scope, 'env: 'scope> {
    pub(super) std: &'scope std::thread::Scope<'scope, 'env>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Starts a scoped threadkit thread running `f`, with the default name.
    /// Use [`Builder::spawn_scoped`] to set a name or stack size.
    ///
    /// # Errors
    ///
    /// [`ThreadError::Spawn`] if the operating system refuses a new thread.
    pub fn spawn<F, T>(&self, f: F) -> Result<ScopedThread<'scope, T>, ThreadError>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Builder::new().spawn_scoped(self, f)
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

/// A thread started in a [`scope`]: its [`ThreadHandle`] (through `Deref`:
/// `name()`, `ident()`, `is_alive()`, ...) and its result.
pub struct ScopedThread<'scope, T> {
    pub(super) handle: ThreadHandle,
    pub(super) join: ScopedJoinHandle<'scope, Option<T>>,
}

impl<T> ScopedThread<'_, T> {
    /// Waits for the thread and returns what its target returned.
    ///
    /// # Errors
    ///
    /// [`ThreadError::Panicked`] with the panic's message if the target
    /// panicked (the excepthook has reported it too).
    pub fn join(self) -> Result<T, ThreadError> {
        match self.join.join() {
            Ok(Some(value)) => Ok(value),
            // The target's panic was caught and recorded on the handle.
            // (A finished record without a value always holds its panic.)
            Ok(None) => Err(self
                .handle
                .join()
                .err()
                .unwrap_or_else(|| ThreadError::Panicked(String::new()))),
            // Only a panicking hook could unwind this far.
            Err(payload) => Err(ThreadError::Panicked(crate::util::unwind::panic_message(
                &*payload,
            ))),
        }
    }

    /// The untyped handle of this thread (also reachable through `Deref`).
    pub fn handle(&self) -> &ThreadHandle {
        &self.handle
    }
}

impl<T> Deref for ScopedThread<'_, T> {
    type Target = ThreadHandle;

    fn deref(&self) -> &ThreadHandle {
        &self.handle
    }
}

impl<T> fmt::Debug for ScopedThread<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScopedThread").field(&self.handle).finish()
    }
}
