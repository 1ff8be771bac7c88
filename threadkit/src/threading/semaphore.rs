//! `Semaphore` and `BoundedSemaphore`: Python's counting semaphores.

use std::fmt;
use std::time::{Duration, Instant};

use super::error::{ReleaseError, TooManyReleases};
use crate::loom::sync::{Condvar, Mutex};
use crate::util::wait::{self, Deadline};

/// A counter of permits: Python's `threading.Semaphore`.
///
/// [`acquire`](Semaphore::acquire) takes a permit (blocking while there is
/// none) and returns a [`SemaphorePermit`] that gives it back when dropped,
/// which is Python's `with sem:`. [`release`](Semaphore::release) adds permits
/// by hand, for the acquire-here, release-there pattern.
///
/// # Examples
///
/// At most two workers in the critical section at once:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use threadkit::threading::Semaphore;
///
/// let sem = Arc::new(Semaphore::new(2));
/// let inside = Arc::new(AtomicUsize::new(0));
/// let workers: Vec<_> = (0..5)
///     .map(|_| {
///         let (sem, inside) = (Arc::clone(&sem), Arc::clone(&inside));
///         std::thread::spawn(move || {
///             let _permit = sem.acquire();
///             assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
///             inside.fetch_sub(1, Ordering::SeqCst);
///         })
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap();
/// }
/// assert_eq!(sem.value(), 2);
/// ```
///
/// # Differences from Python's `threading.Semaphore`
///
/// - `acquire()` returns a permit guard instead of `True`; call
///   [`SemaphorePermit::forget`] to keep the permit taken and
///   [`release`](Semaphore::release) it later, as Python code does.
/// - `acquire(blocking=False)` and `acquire(timeout=t)` are
///   [`try_acquire`](Semaphore::try_acquire) and
///   [`acquire_timeout`](Semaphore::acquire_timeout).
/// - The value is a `usize`, so a negative initial value cannot be written.
/// - [`release`](Semaphore::release) returns a [`ReleaseError`]: `Zero` for
///   `release(0)` (Python's `ValueError`), `Overflow` past `usize::MAX`
///   (Python's integers do not overflow); either way no permit is added.
///   `asyncio::Semaphore` follows the same rules.
pub struct Semaphore {
    core: Core,
}

/// A [`Semaphore`] that refuses to be released above its initial value:
/// Python's `threading.BoundedSemaphore`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// sem.acquire().forget();
/// assert!(sem.release(1).is_ok());
/// assert!(sem.release(1).is_err()); // Python: ValueError
/// ```
///
/// # Differences from Python's `threading.BoundedSemaphore`
///
/// Releasing too often is a [`ReleaseError::TooMany`] error instead of a
/// `ValueError`, and no permit is added; `release(0)` is
/// [`ReleaseError::Zero`], as for [`Semaphore`]. A [`SemaphorePermit`] dropped after
/// such misuse leaves the value at the bound rather than failing in `drop`.
pub struct BoundedSemaphore {
    core: Core,
}

/// One permit taken from a [`Semaphore`] or [`BoundedSemaphore`]; given back
/// when dropped.
#[must_use = "if unused the permit is released immediately"]
pub struct SemaphorePermit<'a> {
    core: &'a Core,
}

/// The shared state of both semaphore kinds: the counter, an optional upper
/// bound, and the condition waiters sleep on (CPython's `_cond` + `_value`).
struct Core {
    value: Mutex<usize>,
    bound: Option<usize>,
    cv: Condvar,
}

impl Core {
    fn new(value: usize, bound: Option<usize>) -> Self {
        Core {
            value: Mutex::new(value),
            bound,
            cv: Condvar::new(),
        }
    }

    fn acquire(&self, deadline: Deadline) -> Option<SemaphorePermit<'_>> {
        let mut value = self.value.lock();
        if wait::wait_until(&self.cv, &mut value, deadline, |v| *v > 0) {
            *value -= 1;
            Some(SemaphorePermit { core: self })
        } else {
            None
        }
    }

    /// Adds `n` permits; refuses (adding none) a zero `n`, an overflow, or,
    /// with a bound, a value above it. A permit's drop (`clamp`) never
    /// fails: it saturates at the bound or at `usize::MAX`.
    fn release(&self, n: usize, clamp: bool) -> Result<(), ReleaseError> {
        if n == 0 {
            return Err(ReleaseError::Zero);
        }
        let mut value = self.value.lock();
        let mut new = match value.checked_add(n) {
            Some(new) => new,
            None if clamp => usize::MAX,
            None => return Err(ReleaseError::Overflow { max: usize::MAX }),
        };
        if let Some(bound) = self.bound {
            if new > bound {
                if !clamp {
                    return Err(TooManyReleases { bound }.into());
                }
                new = bound;
            }
        }
        let added = new - *value;
        *value = new;
        for _ in 0..added {
            if !self.cv.notify_one() {
                break;
            }
        }
        Ok(())
    }

    fn value(&self) -> usize {
        *self.value.lock()
    }
}

macro_rules! semaphore_methods {
    () => {
        /// Takes a permit, blocking until one is available.
        pub fn acquire(&self) -> SemaphorePermit<'_> {
            loop {
                if let Some(permit) = self.core.acquire(Deadline::Never) {
                    return permit;
                }
            }
        }

        /// Takes a permit only if one is available now:
        /// Python's `acquire(blocking=False)`.
        pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
            self.core.acquire(Deadline::Now)
        }

        /// Waits at most `timeout` for a permit: Python's `acquire(timeout=t)`.
        pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
            self.core.acquire(Deadline::after(timeout))
        }

        /// Waits for a permit until `deadline` at the latest.
        pub fn acquire_deadline(&self, deadline: Instant) -> Option<SemaphorePermit<'_>> {
            self.core.acquire(Deadline::At(deadline))
        }

        /// The number of permits available now (CPython's `_value`).
        pub fn value(&self) -> usize {
            self.core.value()
        }
    };
}

impl Semaphore {
    /// A semaphore holding `value` permits: Python's `Semaphore(value)`.
    pub fn new(value: usize) -> Self {
        Semaphore {
            core: Core::new(value, None),
        }
    }

    semaphore_methods!();

    /// Adds `n` permits, waking up to `n` waiters: Python's `release(n)`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Zero`] if `n` is 0, [`ReleaseError::Overflow`] if the
    /// value would pass `usize::MAX`; no permit is added then.
    pub fn release(&self, n: usize) -> Result<(), ReleaseError> {
        self.core.release(n, false)
    }
}

impl Default for Semaphore {
    /// Python's default: one permit.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl BoundedSemaphore {
    /// A semaphore holding `value` permits that may never hold more.
    pub fn new(value: usize) -> Self {
        BoundedSemaphore {
            core: Core::new(value, Some(value)),
        }
    }

    semaphore_methods!();

    /// Adds `n` permits, or none and an error if that would exceed the
    /// initial value: Python's `release(n)` and its `ValueError`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::TooMany`] above the initial value,
    /// [`ReleaseError::Zero`] if `n` is 0; no permit is added then.
    pub fn release(&self, n: usize) -> Result<(), ReleaseError> {
        self.core.release(n, false)
    }
}

impl Default for BoundedSemaphore {
    /// Python's default: one permit.
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken: the semaphore's value stays one lower until
    /// someone calls `release`. This is Python's `acquire()` without `with`.
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        let _ = self.core.release(1, true);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.core.bound)
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}
