//! [`Lock`]: Python's `asyncio.Lock`, a fair mutual-exclusion lock for tasks,
//! waiting on threadkit's one waiting core.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// A lock for tasks, protecting a `T`: Python's `asyncio.Lock`.
///
/// Waiters acquire it in the order they asked (first in, first out), as
/// Python's lock does: a task arriving while others wait queues behind them
/// even if the lock happens to be free.
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
/// place in the queue and nothing else (a hand-over it had received goes to
/// the next waiter).
///
/// # Differences from Python's `asyncio.Lock`
///
/// The lock owns the data it protects and `release()` is dropping the
/// [`LockGuard`], as `async with lock:` releases at the end of the block.
///
/// Why not [`threading::Lock`](crate::threading::Lock) with an async face:
/// that lock is `parking_lot`'s, whose release cannot wake a task; waking
/// one would cost a SeqCst fence and a check in every release, and the
/// uncontended `threading::Lock` would no longer match `parking_lot::Mutex`.
pub struct Lock<T: ?Sized = ()> {
    state: Monitor<State>,
    value: UnsafeCell<T>,
}

/// Whether the lock is held, and the tasks waiting for it, oldest first.
#[derive(Debug, Default)]
struct State {
    locked: bool,
    /// A release woke the longest waiter, and the free lock is kept for it:
    /// nobody else may take it meanwhile (first in, first out).
    reserved: bool,
    waiters: WaitList,
}

impl HasWaiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }

    fn unclaimed_wakeup(&mut self) {
        // The woken waiter was cancelled with nobody behind it.
        self.reserved = false;
    }
}

impl State {
    /// Takes the lock if free and not kept for a woken waiter (or if this
    /// is that waiter).
    fn take(&mut self, woken: bool) -> bool {
        if self.locked || (self.reserved && !woken) {
            return false;
        }
        self.locked = true;
        self.reserved = false;
        true
    }
}

// SAFETY: the value is reached only through a `LockGuard`, and `locked`
// (changed under the monitor's mutex) lets one guard exist at a time, so
// sharing the lock hands the value from one task to another: `T: Send`
// suffices, as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Send for Lock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for Lock<T> {}

/// Holds a [`Lock`]; dropping it releases the lock.
#[must_use = "if unused the lock is released immediately"]
pub struct LockGuard<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    /// Send and Sync as `&mut T` is: sharing the guard shares the value.
    _value: PhantomData<&'a mut T>,
}

impl<T> Lock<T> {
    /// A new, unlocked lock around `value`.
    pub fn new(value: T) -> Self {
        Lock {
            state: Monitor::new(State::default()),
            value: UnsafeCell::new(value),
        }
    }

    /// The protected value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Waits for the lock and takes it (Python's `await lock.acquire()`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: see the type's docs.
    pub async fn acquire(&self) -> LockGuard<'_, T> {
        self.state
            .until_woken(|s, woken| s.take(woken).then_some(()))
            .await;
        // Built in the poll that took the lock, so no cancellation between.
        self.guard()
    }

    /// Takes the lock only if it is free now and nobody waits for it.
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        self.state.lock().take(false).then(|| self.guard())
    }

    /// Whether the lock is held now (Python's `locked()`).
    pub fn locked(&self) -> bool {
        self.state.lock().locked
    }

    /// The value, through an exclusive borrow (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    fn guard(&self) -> LockGuard<'_, T> {
        LockGuard {
            lock: self,
            _value: PhantomData,
        }
    }

    /// Releases the lock and wakes the longest waiter, keeping the lock for
    /// it.
    fn release(&self) {
        let mut state = self.state.lock();
        state.locked = false;
        let woken = self.state.take_one(&mut state);
        state.reserved = woken.len() > 0;
        drop(state);
        woken.wake();
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

impl<T: ?Sized> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release();
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (see `Lock`'s Send/Sync), and
        // `&self` lends the value no longer than the guard lives.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow exclusive.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard { .. }")
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    /// A newcomer queues behind a waiter woken by a release, even though
    /// the lock is free when it arrives (no barging).
    #[test]
    fn newcomers_do_not_barge() {
        let lock = Lock::new(0);
        let mut cx = Context::from_waker(Waker::noop());
        let held = lock.try_acquire().unwrap();
        let mut first = Box::pin(lock.acquire());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        drop(held);
        assert!(lock.try_acquire().is_none());
        let mut newcomer = Box::pin(lock.acquire());
        assert!(newcomer.as_mut().poll(&mut cx).is_pending());
        let Poll::Ready(guard) = first.as_mut().poll(&mut cx) else {
            panic!("the woken waiter gets the lock");
        };
        drop(guard);
        assert!(matches!(newcomer.as_mut().poll(&mut cx), Poll::Ready(_)));
        assert!(!lock.locked());
    }

    /// A waiter woken by a release and then cancelled passes the lock on.
    #[test]
    fn a_cancelled_woken_waiter_passes_the_lock_on() {
        let lock = Lock::new(());
        let mut cx = Context::from_waker(Waker::noop());
        let held = lock.try_acquire().unwrap();
        let mut cancelled = Box::pin(lock.acquire());
        let mut next = Box::pin(lock.acquire());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        assert!(next.as_mut().poll(&mut cx).is_pending());
        drop(held);
        drop(cancelled);
        assert!(matches!(next.as_mut().poll(&mut cx), Poll::Ready(_)));
        // And with nobody behind it, the lock is free again.
        let held = lock.try_acquire().unwrap();
        let mut cancelled = Box::pin(lock.acquire());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        drop(held);
        assert!(lock.try_acquire().is_none());
        drop(cancelled);
        assert!(lock.try_acquire().is_some());
    }
}
