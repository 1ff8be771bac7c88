//! `RLock<T>`: Python's `threading.RLock`, a lock its owner may take again.

use std::fmt;
use std::ops::Deref;
use std::time::{Duration, Instant};

use crate::loom::sync::{ReentrantMutex, ReentrantMutexGuard};

use crate::debug::tracking::{Acquire, Checked, Held, LockKind, LockTracking};
use crate::util::Deadline;

/// A re-entrant lock: the thread that holds it may acquire it again, and it is
/// released when every guard of that thread is dropped. Python's
/// `threading.RLock`, with an owner and a recursion count.
///
/// Because one thread may hold several guards at once, an `RLock<T>` gives
/// shared (`&T`) access only; put a `Cell` or `RefCell` inside to mutate.
///
/// # Examples
///
/// The seeds' `Counter` whose `increment_twice` calls `increment` under the
/// same lock:
///
/// ```
/// use std::cell::Cell;
/// use threadkit::threading::RLock;
///
/// struct Counter { value: RLock<Cell<u64>> }
/// impl Counter {
///     fn increment(&self) {
///         let v = self.value.acquire();
///         v.set(v.get() + 1);
///     }
///     fn increment_twice(&self) {
///         let _outer = self.value.acquire(); // held across both calls
///         self.increment();
///         self.increment();
///     }
/// }
/// let c = Counter { value: RLock::new(Cell::new(0)) };
/// c.increment_twice();
/// assert_eq!(c.value.acquire().get(), 2);
/// ```
///
/// # Differences from Python's `threading.RLock`
///
/// Python raises `RuntimeError` when a thread releases an `RLock` it does not
/// own; here release is the drop of a guard, which cannot leave its thread, so
/// that misuse cannot be written.
pub struct RLock<T = ()> {
    /// Who holds it (for thread dumps and `find_deadlocks`); with
    /// `debug-locks`, its name, creation site and order checks.
    tracking: LockTracking,
    inner: ReentrantMutex<T>,
}

/// One level of ownership of an [`RLock`]; dereferences to the data.
#[must_use = "if unused the RLock is released immediately"]
pub struct RLockGuard<'a, T> {
    /// Declared first so that it drops first, while the lock is still held.
    /// Only the thread's first level records the holder: if levels are
    /// released out of order the holder may show as free a little early.
    _held: Held<'a>,
    inner: ReentrantMutexGuard<'a, T>,
}

impl<T> RLock<T> {
    /// A new, unowned re-entrant lock protecting `value`.
    #[cfg(not(loom))]
    #[track_caller]
    pub const fn new(value: T) -> Self {
        RLock::with_name(None, value)
    }

    /// A new, unowned re-entrant lock named `name` in lock-order reports and
    /// thread dumps (feature `debug-locks`; without it the name is not kept).
    #[cfg(not(loom))]
    #[track_caller]
    pub const fn named(name: &'static str, value: T) -> Self {
        RLock::with_name(Some(name), value)
    }

    #[cfg(not(loom))]
    #[track_caller]
    const fn with_name(name: Option<&'static str>, value: T) -> Self {
        RLock {
            tracking: LockTracking::new(LockKind::RLock, name),
            inner: ReentrantMutex::new(value),
        }
    }

    /// A new, unowned re-entrant lock protecting `value`.
    #[cfg(loom)]
    #[track_caller]
    pub fn new(value: T) -> Self {
        RLock {
            tracking: LockTracking::new(LockKind::RLock, None),
            inner: ReentrantMutex::new(value),
        }
    }

    /// Blocks until this thread owns the lock (at once if it already does),
    /// adding one level of ownership.
    // Not split into an inline usual case and a called rest as
    // `Lock::acquire` is: the re-entry test (parking_lot's thread id) made
    // that inline part too big to be inlined whole, and the nested acquire
    // of bench/lock-order (`threadkit-rlock`) cost more, not less.
    #[doc(alias = "lock")]
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn acquire(&self) -> RLockGuard<'_, T> {
        self.acquire_until(Deadline::Never)
            .expect("an untimed acquire cannot time out")
    }

    /// Acquires only if free now or already owned by this thread.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn try_acquire(&self) -> Option<RLockGuard<'_, T>> {
        if self.inner.is_owned_by_current_thread() {
            return self.inner.try_lock().map(Self::reentry);
        }
        let inner = self.inner.try_lock()?;
        Some(self.first_level(inner, Acquire::Try, Checked::TRY))
    }

    /// Waits at most `timeout` for the lock.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_, T>> {
        self.acquire_until(Deadline::after(timeout))
    }

    /// Waits for the lock until `deadline` at the latest.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn acquire_deadline(&self, deadline: Instant) -> Option<RLockGuard<'_, T>> {
        self.acquire_until(Deadline::At(deadline))
    }

    #[cfg_attr(feature = "debug-locks", track_caller)]
    fn acquire_until(&self, deadline: Deadline) -> Option<RLockGuard<'_, T>> {
        if self.inner.is_owned_by_current_thread() {
            // Re-entry: no order edge, no new holder (lockdep's rule).
            return self.inner.try_lock().map(Self::reentry);
        }
        let how = match deadline {
            Deadline::Never => Acquire::Blocking,
            _ => Acquire::Timed,
        };
        let checked = self.tracking.before(how);
        let inner = match self.inner.try_lock() {
            Some(inner) => inner,
            None => self.tracking.contended(
                LockKind::RLock,
                deadline,
                || self.inner.try_lock(),
                |deadline| self.block(deadline),
            )?,
        };
        Some(self.first_level(inner, how, checked))
    }

    /// The contended path: blocks the thread, or a green thread (feature
    /// `green`) in the waiting core, as [`Lock`](super::Lock)'s does.
    fn block(&self, deadline: Deadline) -> Option<ReentrantMutexGuard<'_, T>> {
        match deadline {
            Deadline::Never => Some(self.inner.lock()),
            Deadline::Now => None,
            Deadline::At(at) => self.inner.try_lock_until(at),
        }
    }

    #[cfg_attr(feature = "debug-locks", track_caller)]
    fn first_level<'a>(
        &'a self,
        inner: ReentrantMutexGuard<'a, T>,
        how: Acquire,
        checked: Checked,
    ) -> RLockGuard<'a, T> {
        RLockGuard {
            _held: self.tracking.acquired(how, checked),
            inner,
        }
    }

    fn reentry(inner: ReentrantMutexGuard<'_, T>) -> RLockGuard<'_, T> {
        RLockGuard {
            _held: Held::reentry(),
            inner,
        }
    }

    /// Whether any thread owns the lock now.
    pub fn locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether the current thread owns the lock: CPython's `_is_owned()`.
    pub fn is_owned(&self) -> bool {
        self.inner.is_owned_by_current_thread()
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: Default> Default for RLock<T> {
    fn default() -> Self {
        RLock::new(T::default())
    }
}

impl<T> fmt::Debug for RLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("locked", &self.locked())
            .field("owned_by_current_thread", &self.is_owned())
            .finish_non_exhaustive()
    }
}

impl<T> RLockGuard<'_, T> {
    /// Gives up this level of ownership now; same as dropping the guard.
    pub fn release(self) {}
}

impl<T> Deref for RLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for RLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
