//! [`Condition`]: Python's `asyncio.Condition`, a lock plus a queue of tasks
//! waiting to be notified, on threadkit's one waiting core.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::lock::{Lock, LockGuard};
use crate::util::monitor::{Monitor, WaitList};

/// A condition variable for tasks, owning the data its lock protects:
/// Python's `asyncio.Condition`.
///
/// Take the lock with [`acquire`](Condition::acquire); the guard's
/// [`wait`](ConditionGuard::wait) releases it, sleeps until notified and
/// takes it back; [`notify`](ConditionGuard::notify) and
/// [`notify_all`](ConditionGuard::notify_all) are on the guard, so they can
/// only be called with the lock held (Python's `RuntimeError` otherwise).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, Condition};
///
/// asyncio::run(async {
///     let cv = Arc::new(Condition::new(Vec::new()));
///     let consumer = {
///         let cv = Arc::clone(&cv);
///         asyncio::create_task(async move {
///             let mut items = cv.acquire().await.wait_for(|v: &mut Vec<u32>| !v.is_empty()).await;
///             items.pop()
///         })
///     };
///     let mut items = cv.acquire().await;
///     items.push(7);
///     items.notify(1);
///     drop(items);
///     assert_eq!(consumer.await, Ok(Some(7)));
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// [`acquire`](Condition::acquire) is cancel safe. A
/// [`wait`](ConditionGuard::wait) cancelled while asleep gives up its place,
/// and a notification it already received goes to the next waiter, as in
/// Python 3.13; cancelled while
/// taking the lock back, it simply does not hold the lock, which Python
/// cannot express.
pub struct Condition<T: ?Sized = ()> {
    /// The sleeping `wait`s, oldest first; `notify(n)` takes the first `n`.
    waiters: Monitor<WaitList>,
    lock: Lock<T>,
}

/// The lock of a [`Condition`], held; dropping it releases the lock.
#[must_use = "if unused the lock is released immediately"]
pub struct ConditionGuard<'a, T: ?Sized> {
    cond: &'a Condition<T>,
    guard: LockGuard<'a, T>,
}

impl<T> Condition<T> {
    /// A condition with its own lock around `value`.
    pub fn new(value: T) -> Self {
        Condition {
            waiters: Monitor::new(WaitList::default()),
            lock: Lock::new(value),
        }
    }
}

impl<T: ?Sized> Condition<T> {
    /// Waits for the lock and takes it (Python's `await cond.acquire()`).
    pub async fn acquire(&self) -> ConditionGuard<'_, T> {
        ConditionGuard {
            cond: self,
            guard: self.lock.acquire().await,
        }
    }

    /// Whether the lock is held now (Python's `locked()`).
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }
}

impl<'a, T: ?Sized> ConditionGuard<'a, T> {
    /// Releases the lock, sleeps until notified, and takes the lock back
    /// (Python's `await cond.wait()`). As in Python, callers should re-check
    /// their condition: use [`wait_for`](ConditionGuard::wait_for).
    pub async fn wait(self) -> ConditionGuard<'a, T> {
        let cond = self.cond;
        // Listed before the lock is released, so no notify can be missed.
        let notified = cond.waiters.notified(&mut cond.waiters.lock());
        drop(self);
        // Cancelled here, `notified` leaves the line or hands on the
        // notification it got.
        notified.await;
        cond.acquire().await
    }

    /// Waits until `predicate` holds, re-checking after every notification
    /// (Python's `await cond.wait_for(predicate)`).
    pub async fn wait_for(
        mut self,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> ConditionGuard<'a, T> {
        while !predicate(&mut self) {
            self = self.wait().await;
        }
        self
    }

    /// Wakes up to `n` waiting tasks, oldest first (Python's `notify(n)`).
    pub fn notify(&self, n: usize) {
        self.cond.notify(n);
    }

    /// Wakes every waiting task (Python's `notify_all()`).
    pub fn notify_all(&self) {
        self.notify(usize::MAX);
    }
}

impl<T: ?Sized> Condition<T> {
    fn notify(&self, n: usize) {
        // A cancelled waiter has left the list already, as Python skips
        // done futures.
        let mut waiters = self.waiters.lock();
        let woken = self.waiters.take(&mut waiters, n);
        drop(waiters);
        woken.wake();
    }
}

impl<T: ?Sized> Deref for ConditionGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for ConditionGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Condition::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.locked())
            .field("waiters", &self.waiters.lock().len())
            .finish()
    }
}

impl<T: ?Sized> fmt::Debug for ConditionGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConditionGuard { .. }")
    }
}
