//! [`Lock`]: Python's `asyncio.Lock`, a fair mutual-exclusion lock for tasks.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A lock for tasks, protecting a `T`: Python's `asyncio.Lock`.
///
/// Waiters acquire it in the order they asked (first in, first out), as
/// Python's lock does; a thin wrapper over `tokio::sync::Mutex`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, Lock};
///
/// let total = asyncio::run(async {
///     let lock = Arc::new(Lock::new(0));
///     let adders = (0..10).map(|_| {
///         let lock = Arc::clone(&lock);
///         async move { *lock.acquire().await += 1 }
///     });
///     asyncio::gather(adders).await.unwrap();
///     let n = *lock.acquire().await;
///     n
/// });
/// assert_eq!(total.unwrap(), 10);
/// ```
///
/// # Cancel safety
///
/// [`acquire`](Lock::acquire) is cancel safe: a cancelled waiter loses its
/// place in the queue and nothing else.
///
/// # Differences from Python's `asyncio.Lock`
///
/// The lock owns the data it protects and `release()` is dropping the
/// [`LockGuard`], as `async with lock:` releases at the end of the block.
pub struct Lock<T: ?Sized = ()> {
    pub(crate) inner: tokio::sync::Mutex<T>,
}

/// Holds a [`Lock`]; dropping it releases the lock.
#[must_use = "if unused the lock is released immediately"]
pub struct LockGuard<'a, T: ?Sized> {
    pub(crate) inner: tokio::sync::MutexGuard<'a, T>,
}

impl<T> Lock<T> {
    /// A new, unlocked lock around `value`.
    pub fn new(value: T) -> Self {
        Lock {
            inner: tokio::sync::Mutex::new(value),
        }
    }

    /// The protected value.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Waits for the lock and takes it (Python's `await lock.acquire()`).
    pub async fn acquire(&self) -> LockGuard<'_, T> {
        LockGuard {
            inner: self.inner.lock().await,
        }
    }

    /// Takes the lock only if it is free now.
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        self.inner.try_lock().ok().map(|inner| LockGuard { inner })
    }

    /// Whether the lock is held now (Python's `locked()`).
    pub fn locked(&self) -> bool {
        self.inner.try_lock().is_err()
    }

    /// The value, through an exclusive borrow (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard { .. }")
    }
}
