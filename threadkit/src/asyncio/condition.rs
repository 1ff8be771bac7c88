//! [`Condition`]: Python's `asyncio.Condition`, a lock plus a queue of tasks
//! waiting to be notified.

use std::collections::VecDeque;
use std::fmt;
use std::ops::{Deref, DerefMut};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::lock::{Lock, LockGuard};

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
    /// One sender per sleeping `wait`, oldest first.
    waiters: Mutex<VecDeque<oneshot::Sender<()>>>,
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
            waiters: Mutex::new(VecDeque::new()),
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
        let (tx, rx) = oneshot::channel();
        cond.waiters.lock().push_back(tx);
        drop(self);
        let mut waiting = Waiting { cond, rx: Some(rx) };
        if let Some(rx) = waiting.rx.as_mut() {
            let _ = rx.await;
        }
        waiting.rx = None;
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
        let mut waiters = self.waiters.lock();
        let mut woken = 0;
        while woken < n {
            let Some(tx) = waiters.pop_front() else { break };
            // A waiter that was cancelled is skipped, as Python skips done futures.
            if tx.send(()).is_ok() {
                woken += 1;
            }
        }
    }
}

/// A sleeping `wait`; if cancelled after being notified, it hands the
/// notification on to the next waiter so that none is lost.
struct Waiting<'a, T: ?Sized> {
    cond: &'a Condition<T>,
    rx: Option<oneshot::Receiver<()>>,
}

impl<T: ?Sized> Drop for Waiting<'_, T> {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            if rx.try_recv().is_ok() {
                self.cond.notify(1);
            }
        }
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
