//! [`Semaphore`] and [`BoundedSemaphore`]: Python's `asyncio.Semaphore` and
//! `asyncio.BoundedSemaphore`, over one core around tokio's fair semaphore.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::error::{ReleaseError, TooManyReleases};

/// The core shared by both semaphores: tokio's FIFO semaphore, plus, for the
/// bounded one, the bookkeeping that detects over-release.
struct Core {
    sem: tokio::sync::Semaphore,
    /// `Some(initial value)` for a bounded semaphore.
    bound: Option<usize>,
    /// Permits held through guards, counted from before `acquire` waits, so
    /// `available + held` never undercounts what will come back.
    held: AtomicUsize,
    /// Serializes the bound check with the release it guards.
    release_lock: Mutex<()>,
}

impl Core {
    fn new(value: usize, bound: Option<usize>) -> Self {
        Core {
            sem: tokio::sync::Semaphore::new(value),
            bound,
            held: AtomicUsize::new(0),
            release_lock: Mutex::new(()),
        }
    }

    async fn acquire(&self) -> SemaphorePermit<'_> {
        self.held.fetch_add(1, Ordering::SeqCst);
        let mut permit = SemaphorePermit {
            core: self,
            permit: None,
        };
        // If cancelled here, dropping `permit` undoes the count above.
        let inner = self
            .sem
            .acquire()
            .await
            .expect("the semaphore is never closed");
        permit.permit = Some(inner);
        permit
    }

    fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.held.fetch_add(1, Ordering::SeqCst);
        let mut permit = SemaphorePermit {
            core: self,
            permit: None,
        };
        permit.permit = Some(self.sem.try_acquire().ok()?);
        Some(permit)
    }

    /// Adds `n` permits unless `n` is 0, the bound would be passed, or
    /// tokio's limit would: its `add_permits` panics there, so the check
    /// counts the permits that guards will still bring back (`held`).
    fn release(&self, n: usize) -> Result<(), ReleaseError> {
        if n == 0 {
            return Err(ReleaseError::Zero);
        }
        let _serial = self.release_lock.lock();
        let value = self.sem.available_permits() + self.held.load(Ordering::SeqCst);
        let max = self.bound.unwrap_or(Semaphore::MAX_VALUE);
        if value.checked_add(n).is_none_or(|new| new > max) {
            return Err(match self.bound {
                Some(bound) => TooManyReleases { bound }.into(),
                None => ReleaseError::Overflow { max },
            });
        }
        self.sem.add_permits(n);
        Ok(())
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it releases
/// the permit.
#[must_use = "if unused the permit is released immediately"]
pub struct SemaphorePermit<'a> {
    core: &'a Core,
    permit: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken without releasing it: the Python style of an
    /// `acquire()` to be matched by an explicit `release()` later.
    pub fn forget(mut self) {
        if let Some(permit) = self.permit.take() {
            permit.forget();
        }
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        let _serial = self.core.release_lock.lock();
        // Return the permit before lowering `held`, so the sum never dips.
        drop(self.permit.take());
        self.core.held.fetch_sub(1, Ordering::SeqCst);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SemaphorePermit { .. }")
    }
}

macro_rules! semaphore_methods {
    () => {
        /// Waits for a permit and takes it (Python's `await sem.acquire()`,
        /// or `async with sem:` with the permit as the block).
        ///
        /// # Cancel safety
        ///
        /// Cancel safe: waiters are served first in, first out; a cancelled
        /// waiter loses its place and takes no permit.
        pub async fn acquire(&self) -> SemaphorePermit<'_> {
            self.core.acquire().await
        }

        /// Takes a permit only if one is free now.
        pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
            self.core.try_acquire()
        }

        /// Whether no permit is free now (Python's `locked()`).
        pub fn locked(&self) -> bool {
            self.core.sem.available_permits() == 0
        }

        /// The number of free permits (Python's `_value`).
        pub fn value(&self) -> usize {
            self.core.sem.available_permits()
        }
    };
}

/// A counter of permits for tasks: Python's `asyncio.Semaphore`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::time::Duration;
/// use threadkit::asyncio::{self, Semaphore};
///
/// let peak = asyncio::run(async {
///     let sem = Arc::new(Semaphore::new(2));
///     let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
///     asyncio::gather((0..6).map(|_| {
///         let (sem, now, peak) = (Arc::clone(&sem), Arc::clone(&now), Arc::clone(&peak));
///         async move {
///             let _permit = sem.acquire().await;
///             peak.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
///             asyncio::sleep(Duration::from_millis(5)).await;
///             now.fetch_sub(1, Ordering::SeqCst);
///         }
///     }))
///     .await
///     .unwrap();
///     peak.load(Ordering::SeqCst)
/// });
/// assert_eq!(peak.unwrap(), 2);
/// ```
///
/// # Cancel safety
///
/// [`acquire`](Semaphore::acquire) is cancel safe.
///
/// # Differences from Python's `asyncio.Semaphore`
///
/// - [`release`](Semaphore::release) takes a count, like
///   `threading.Semaphore.release(n)`, and follows the same rules as
///   [`threading::Semaphore`](crate::threading::Semaphore): `release(0)` is
///   [`ReleaseError::Zero`] (Python's `ValueError`), and a value past
///   [`MAX_VALUE`](Semaphore::MAX_VALUE) is [`ReleaseError::Overflow`]; no
///   permit is added then.
/// - The value is at most [`MAX_VALUE`](Semaphore::MAX_VALUE) (tokio's
///   limit), not unbounded.
pub struct Semaphore {
    core: Core,
}

impl Semaphore {
    /// The largest value a semaphore of this module can hold: tokio's
    /// `Semaphore::MAX_PERMITS`.
    pub const MAX_VALUE: usize = tokio::sync::Semaphore::MAX_PERMITS;

    /// A semaphore with `value` free permits (Python's `Semaphore(value)`).
    ///
    /// # Panics
    ///
    /// If `value` exceeds [`MAX_VALUE`](Semaphore::MAX_VALUE).
    pub fn new(value: usize) -> Self {
        Semaphore {
            core: Core::new(value, None),
        }
    }

    semaphore_methods!();

    /// Adds `n` permits, waking as many waiters (Python's `release(n)`).
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Zero`] if `n` is 0, [`ReleaseError::Overflow`] if the
    /// value could pass [`MAX_VALUE`](Semaphore::MAX_VALUE) (counting the
    /// permits held through guards, which come back); no permit is added
    /// then.
    pub fn release(&self, n: usize) -> Result<(), ReleaseError> {
        self.core.release(n)
    }
}

/// A semaphore that refuses to be released above its initial value: Python's
/// `asyncio.BoundedSemaphore`.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, BoundedSemaphore};
///
/// asyncio::run(async {
///     let sem = BoundedSemaphore::new(1);
///     sem.acquire().await.forget(); // Python's bare `await sem.acquire()`
///     assert!(sem.locked());
///     assert!(sem.release().is_ok());
///     assert!(sem.release().is_err()); // released too many times
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// [`acquire`](BoundedSemaphore::acquire) is cancel safe.
///
/// # Differences from Python's `BoundedSemaphore`
///
/// A permit held through a guard counts toward the bound from the moment its
/// `acquire` starts waiting, so an explicit `release` racing with a waiter
/// may be refused where Python would accept it and fail later.
pub struct BoundedSemaphore {
    core: Core,
}

impl BoundedSemaphore {
    /// A semaphore with `value` free permits, never more.
    ///
    /// # Panics
    ///
    /// If `value` exceeds [`Semaphore::MAX_VALUE`].
    pub fn new(value: usize) -> Self {
        BoundedSemaphore {
            core: Core::new(value, Some(value)),
        }
    }

    semaphore_methods!();

    /// Returns one permit taken by a [`forget`](SemaphorePermit::forget)ed
    /// acquire (Python's `release()`).
    ///
    /// # Errors
    ///
    /// [`TooManyReleases`] if that would exceed the initial value.
    pub fn release(&self) -> Result<(), TooManyReleases> {
        match self.core.release(1) {
            Err(ReleaseError::TooMany(error)) => Err(error),
            // One permit is never 0, nor past the bound's room when the
            // bound is below MAX_VALUE.
            _ => Ok(()),
        }
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
