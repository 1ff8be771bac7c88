//! [`Semaphore`] and [`BoundedSemaphore`]: Python's `asyncio.Semaphore` and
//! `asyncio.BoundedSemaphore`, thin facades over
//! [`threading`'s semaphore](crate::threading::CountingSemaphore), so that
//! tasks and threads wait for its permits in one line.

use std::fmt;

use super::error::{ReleaseError, TooManyReleases};
use crate::threading::{self, Bound, Bounded, ReleaseRule, SemaphorePermit, Unbounded};

/// The facade behind [`Semaphore`] and [`BoundedSemaphore`]: Python's
/// asyncio names over one [`threading::CountingSemaphore`]. Use the two
/// aliases; this type is where their methods are documented.
pub struct CountingSemaphore<B: Bound> {
    inner: threading::CountingSemaphore<B>,
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
/// [`acquire`](CountingSemaphore::acquire) is cancel safe.
///
/// # Differences from Python's `asyncio.Semaphore`
///
/// - [`release`](CountingSemaphore::release) takes a count, like
///   `threading.Semaphore.release(n)`, and follows the same rules as
///   [`threading::Semaphore`]: `release(0)` is [`ReleaseError::Zero`]
///   (Python's `ValueError`), and a value past
///   [`MAX_VALUE`](CountingSemaphore::MAX_VALUE) is
///   [`ReleaseError::Overflow`]; no permit is added then. Permits held
///   through guards count, since they will come back.
/// - The value is at most [`MAX_VALUE`](CountingSemaphore::MAX_VALUE), not
///   unbounded.
pub type Semaphore = CountingSemaphore<Unbounded>;

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
/// [`acquire`](CountingSemaphore::acquire) is cancel safe.
///
/// # Differences from Python's `BoundedSemaphore`
///
/// A permit held through a guard counts toward the bound from the moment it
/// is taken, so an explicit `release` while a guard is out may be refused
/// where Python would accept it and fail later.
pub type BoundedSemaphore = CountingSemaphore<Bounded>;

impl<B: Bound> CountingSemaphore<B> {
    /// A semaphore with `value` free permits (Python's `Semaphore(value)`);
    /// a [`BoundedSemaphore`] never holds more.
    pub fn new(value: usize) -> Self {
        CountingSemaphore {
            inner: threading::CountingSemaphore::new(value),
        }
    }

    /// Waits for a permit and takes it (Python's `await sem.acquire()`,
    /// or `async with sem:` with the permit as the block).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: waiters are served first in, first out; a cancelled
    /// waiter loses its place and takes no permit.
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        self.inner.acquire_async().await
    }

    /// Takes a permit only if one is free now.
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.inner.try_acquire()
    }

    /// Whether no permit is free now (Python's `locked()`).
    pub fn locked(&self) -> bool {
        self.inner.value() == 0
    }

    /// The number of free permits (Python's `_value`).
    pub fn value(&self) -> usize {
        self.inner.value()
    }

    /// The same semaphore with its thread face, for threads that share it
    /// with tasks (`acquire` there blocks the calling thread).
    pub fn as_threading(&self) -> &threading::CountingSemaphore<B> {
        &self.inner
    }
}

impl Semaphore {
    /// The largest value a semaphore of this module can hold, permits held
    /// through guards included.
    pub const MAX_VALUE: usize = usize::MAX;

    /// Adds `n` permits, waking as many waiters (Python's `release(n)`).
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Zero`] if `n` is 0, [`ReleaseError::Overflow`] if the
    /// value could pass [`MAX_VALUE`](Semaphore::MAX_VALUE) (counting the
    /// permits held through guards, which come back); no permit is added
    /// then.
    pub fn release(&self, n: usize) -> Result<(), ReleaseError> {
        self.inner.release_with(n, ReleaseRule::FreeAndHeld)
    }
}

impl BoundedSemaphore {
    /// Returns one permit taken by a [`forget`](SemaphorePermit::forget)ed
    /// acquire (Python's `release()`).
    ///
    /// # Errors
    ///
    /// [`TooManyReleases`] if that would exceed the initial value, counting
    /// the permits held through guards.
    pub fn release(&self) -> Result<(), TooManyReleases> {
        match self.inner.release_with(1, ReleaseRule::FreeAndHeld) {
            Err(ReleaseError::TooMany(error)) => Err(error),
            // One permit is never 0, and a bounded value cannot overflow.
            _ => Ok(()),
        }
    }
}

impl<B: Bound> Default for CountingSemaphore<B> {
    /// Python's default: one permit.
    fn default() -> Self {
        CountingSemaphore::new(1)
    }
}

impl<B: Bound> fmt::Debug for CountingSemaphore<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
