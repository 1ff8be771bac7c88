//! `Lock<T>`: Python's `threading.Lock`, guarding the data it protects.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use crate::debug::tracking::{Acquire, Checked, Held, LockKind, LockTracking};
use crate::loom::sync::{LockMutex as Mutex, LockMutexGuard as MutexGuard};
use crate::util::Deadline;

/// A mutual-exclusion lock that owns the data it protects: Python's
/// `threading.Lock`, shaped like `std::sync::Mutex<T>`.
///
/// `Lock` (that is, `Lock<()>`) is Python's bare lock, used as `with lock:`;
/// `Lock<T>` puts the shared data inside, so it cannot be touched without the
/// lock held.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::threading::Lock;
///
/// let counter = Arc::new(Lock::new(0));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = Arc::clone(&counter);
///         std::thread::spawn(move || {
///             for _ in 0..1000 {
///                 *counter.acquire() += 1; // `with lock: counter += 1`
///             }
///         })
///     })
///     .collect();
/// for h in handles {
///     h.join().unwrap();
/// }
/// assert_eq!(*counter.acquire(), 4000);
/// ```
///
/// # Differences from Python's `threading.Lock`
///
/// - The lock is released when its [`LockGuard`] is dropped, so a missing
///   `release()` or a double release cannot be written. Python allows another
///   thread to release a lock it did not acquire; a guard cannot leave its
///   thread (it is `!Send`). For that hand-off pattern use a
///   [`Semaphore`](super::Semaphore) of 1.
/// - No poisoning: a panic while the lock is held releases it (see the
///   [module docs](super#panics-and-poisoning)).
/// - `acquire(blocking=False)` is [`try_acquire`](Lock::try_acquire) and
///   `acquire(timeout=t)` is [`acquire_timeout`](Lock::acquire_timeout); both
///   return `Option<LockGuard>` instead of a `bool`.
pub struct Lock<T = ()> {
    /// Who holds it (for thread dumps and `find_deadlocks`); with
    /// `debug-locks`, its name, creation site and order checks.
    tracking: LockTracking,
    inner: Mutex<T>,
}

/// Proof that a [`Lock`] is held; releases it when dropped.
///
/// Dereferences to the protected data. A guard cannot leave the thread that
/// acquired the lock:
///
/// ```compile_fail
/// use threadkit::threading::Lock;
///
/// static LOCK: Lock<u32> = Lock::new(0);
/// let guard = LOCK.acquire();
/// std::thread::spawn(move || drop(guard)); // error: `LockGuard` is not `Send`
/// ```
#[must_use = "if unused the Lock is released immediately"]
pub struct LockGuard<'a, T> {
    /// Declared first so that it drops first, while the lock is still held.
    _held: Held<'a>,
    pub(crate) inner: MutexGuard<'a, T>,
}

impl<T> Lock<T> {
    /// A new, unlocked lock protecting `value`.
    #[cfg(not(loom))]
    #[track_caller]
    pub const fn new(value: T) -> Self {
        Lock::with_name(None, value)
    }

    /// A new, unlocked lock protecting `value`, named `name` in lock-order
    /// reports and thread dumps (feature `debug-locks`; without it the name
    /// is not kept). Unnamed locks are called `Lock#<id>`, with their
    /// creation site.
    #[cfg(not(loom))]
    #[track_caller]
    pub const fn named(name: &'static str, value: T) -> Self {
        Lock::with_name(Some(name), value)
    }

    #[cfg(not(loom))]
    #[track_caller]
    const fn with_name(name: Option<&'static str>, value: T) -> Self {
        Lock {
            tracking: LockTracking::new(LockKind::Lock, name),
            inner: Mutex::new(value),
        }
    }

    /// A new, unlocked lock protecting `value`.
    #[cfg(loom)]
    #[track_caller]
    pub fn new(value: T) -> Self {
        Lock {
            tracking: LockTracking::new(LockKind::Lock, None),
            inner: Mutex::new(value),
        }
    }

    /// Wraps the inner mutex's guard, recording the new holder.
    #[cfg_attr(feature = "debug-locks", track_caller, inline)]
    fn guard<'a>(
        &'a self,
        inner: MutexGuard<'a, T>,
        how: Acquire,
        checked: Checked,
    ) -> LockGuard<'a, T> {
        LockGuard {
            _held: self.tracking.acquired(how, checked),
            inner,
        }
    }

    /// Blocks until the lock is acquired: Python's `acquire()` or `with lock:`.
    ///
    /// Acquiring a `Lock` the current thread already holds deadlocks, as in
    /// Python; use [`RLock`](super::RLock) for re-entrant locking.
    // With `debug-locks`, only the usual case is inlined (an order already
    // known, room in the held list, the lock free); anything else is one
    // call to the whole path. Inlining the whole path made a caller's loop
    // too big to be inlined in turn, and calling it for every acquire cost
    // a call per lock.
    #[doc(alias = "lock")]
    #[cfg_attr(feature = "debug-locks", track_caller, inline)]
    pub fn acquire(&self) -> LockGuard<'_, T> {
        #[cfg(feature = "debug-locks")]
        if let Some((inner, held)) = self.tracking.acquire_fast(|| self.inner.try_lock()) {
            return LockGuard { _held: held, inner };
        }
        self.acquire_any()
    }

    /// [`acquire`](Self::acquire) in full.
    #[cfg_attr(feature = "debug-locks", track_caller, inline(never))]
    #[cfg_attr(not(feature = "debug-locks"), inline(always))]
    fn acquire_any(&self) -> LockGuard<'_, T> {
        let checked = self.tracking.before(Acquire::Blocking);
        let inner = match self.inner.try_lock() {
            Some(inner) => inner,
            None => self
                .tracking
                .contended(
                    LockKind::Lock,
                    Deadline::Never,
                    || self.inner.try_lock(),
                    |_| self.block(Deadline::Never),
                )
                .expect("an untimed acquire cannot time out"),
        };
        self.guard(inner, Acquire::Blocking, checked)
    }

    /// Acquires the lock only if it is free now: Python's `acquire(blocking=False)`.
    #[doc(alias = "try_lock")]
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        let inner = self.inner.try_lock()?;
        Some(self.guard(inner, Acquire::Try, Checked::TRY))
    }

    /// Waits at most `timeout` for the lock: Python's `acquire(timeout=t)`.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<LockGuard<'_, T>> {
        self.acquire_until(Deadline::after(timeout))
    }

    /// Waits for the lock until `deadline` at the latest.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn acquire_deadline(&self, deadline: Instant) -> Option<LockGuard<'_, T>> {
        self.acquire_until(Deadline::At(deadline))
    }

    #[cfg_attr(feature = "debug-locks", track_caller)]
    fn acquire_until(&self, deadline: Deadline) -> Option<LockGuard<'_, T>> {
        let checked = self.tracking.before(Acquire::Timed);
        let inner = match self.inner.try_lock() {
            Some(inner) => inner,
            None => self.tracking.contended(
                LockKind::Lock,
                deadline,
                || self.inner.try_lock(),
                |deadline| self.block(deadline),
            )?,
        };
        Some(self.guard(inner, Acquire::Timed, checked))
    }

    /// The contended path: blocks the thread. With feature `green` the lock
    /// waits in the waiting core (`util::raw_lock`), where a green thread
    /// suspends to its hub, so the carrier runs the other green threads
    /// (the holder among them) until the release wakes it.
    fn block(&self, deadline: Deadline) -> Option<MutexGuard<'_, T>> {
        match deadline {
            Deadline::Never => Some(self.inner.lock()),
            Deadline::Now => None,
            Deadline::At(at) => self.inner.try_lock_until(at),
        }
    }

    /// Whether some thread holds the lock right now: Python's `locked()`.
    ///
    /// The answer may be stale as soon as it is returned; use it for
    /// diagnostics, not for deciding whether to acquire.
    pub fn locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Mutable access without locking: `&mut self` proves no one else holds it.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Consumes the lock and returns the protected data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T> From<T> for Lock<T> {
    fn from(value: T) -> Self {
        Lock::new(value)
    }
}

impl<T> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

impl<T> LockGuard<'_, T> {
    /// Releases the lock now: Python's `release()`. Same as dropping the guard.
    pub fn release(self) {}
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn acquire_try_timeout_locked() {
        let lock = Lock::new(5);
        assert!(!lock.locked());
        let g = lock.acquire();
        assert!(lock.locked());
        assert!(lock.try_acquire().is_none());
        assert!(lock.acquire_timeout(Duration::from_millis(5)).is_none());
        g.release();
        assert!(!lock.locked());
        assert_eq!(*lock.acquire_timeout(Duration::from_millis(5)).unwrap(), 5);
        assert_eq!(lock.into_inner(), 5);
    }

    #[test]
    fn panic_while_held_releases() {
        let lock = std::sync::Arc::new(Lock::new(0));
        let l2 = lock.clone();
        let r = std::thread::spawn(move || {
            let _g = l2.acquire();
            panic!("inside the critical section");
        })
        .join();
        assert!(r.is_err());
        assert!(!lock.locked());
        *lock.acquire() += 1;
        assert_eq!(*lock.acquire(), 1);
    }
}
