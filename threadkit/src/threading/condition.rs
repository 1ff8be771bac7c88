//! `Condition<T>`: Python's `threading.Condition`, bundled with the lock it waits on.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use crate::debug::WaitKind;
use crate::debug::tracking::{Acquire, Checked, Held, LockKind, LockTracking};
use crate::loom::sync::{LockMutex as Mutex, LockMutexGuard as MutexGuard};
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// The threads in `wait`, oldest first (CPython's `_waiters`): a
/// `notify(n)` takes the first `n`.
#[derive(Debug, Default)]
struct Waiters(WaitList);

impl HasWaiters for Waiters {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.0
    }

    fn wait_kind(&self) -> WaitKind {
        WaitKind::Condition
    }
}

/// A condition variable together with the lock and data it guards: Python's
/// `threading.Condition`.
///
/// Acquire it like a [`Lock`](super::Lock); the [`ConditionGuard`] then offers
/// [`wait`](ConditionGuard::wait), [`wait_for`](ConditionGuard::wait_for),
/// [`notify`](ConditionGuard::notify) and
/// [`notify_all`](ConditionGuard::notify_all). Waiting releases the lock and
/// takes it back before returning, exactly as in Python.
///
/// # Examples
///
/// A one-slot mailbox:
///
/// ```
/// use std::sync::Arc;
/// use threadkit::threading::Condition;
///
/// let mailbox = Arc::new(Condition::new(None::<String>));
/// let sender = Arc::clone(&mailbox);
/// let t = std::thread::spawn(move || {
///     let mut slot = sender.acquire();
///     *slot = Some("hello".to_string());
///     slot.notify(1);
/// });
/// let mut slot = mailbox.acquire();
/// slot.wait_for(|s| s.is_some(), None);
/// assert_eq!(slot.take().as_deref(), Some("hello"));
/// # drop(slot);
/// # t.join().unwrap();
/// ```
///
/// # Differences from Python's `threading.Condition`
///
/// - Python's default lock is an `RLock`; threadkit's is a plain, non-reentrant
///   lock that owns the data. Waiting while the lock is held re-entrantly, or
///   notifying without holding it (Python's `RuntimeError`), cannot be written:
///   `wait` and `notify` exist only on the guard.
/// - [`wait_for`](ConditionGuard::wait_for) takes a predicate over the guarded
///   data and returns its last value as a `bool`.
pub struct Condition<T = ()> {
    /// Who holds the lock (for thread dumps); with `debug-locks`, its name,
    /// creation site and order checks.
    tracking: LockTracking,
    lock: Mutex<T>,
    waiters: Monitor<Waiters>,
}

/// The held lock of a [`Condition`]; dereferences to the guarded data.
///
/// `wait` and `notify` exist only here, so they cannot be called without the
/// lock held (Python's `RuntimeError: cannot wait on un-acquired lock`):
///
/// ```compile_fail
/// use threadkit::threading::Condition;
///
/// let cond = Condition::new(0);
/// cond.notify_all(); // error: no such method on `Condition`
/// ```
#[must_use = "if unused the Condition's lock is released immediately"]
pub struct ConditionGuard<'a, T> {
    /// Declared first so that it drops first, while the lock is still held;
    /// `None` only while `wait` has the lock released.
    held: Option<Held<'a>>,
    guard: MutexGuard<'a, T>,
    tracking: &'a LockTracking,
    waiters: &'a Monitor<Waiters>,
}

impl<T> Condition<T> {
    /// A new condition whose lock guards `value`.
    #[track_caller]
    pub fn new(value: T) -> Self {
        Condition::with_name(None, value)
    }

    /// A new condition whose lock is named `name` in lock-order reports and
    /// thread dumps (feature `debug-locks`; without it the name is not kept).
    #[track_caller]
    pub fn named(name: &'static str, value: T) -> Self {
        Condition::with_name(Some(name), value)
    }

    #[track_caller]
    fn with_name(name: Option<&'static str>, value: T) -> Self {
        Condition {
            tracking: LockTracking::new(LockKind::Condition, name),
            lock: Mutex::new(value),
            waiters: Monitor::new(Waiters::default()),
        }
    }

    /// Blocks until the lock is acquired: `with cond:`.
    // With `debug-locks`, the usual case inline and the rest called, as
    // for `Lock::acquire`.
    #[doc(alias = "lock")]
    #[cfg_attr(feature = "debug-locks", track_caller, inline)]
    pub fn acquire(&self) -> ConditionGuard<'_, T> {
        #[cfg(feature = "debug-locks")]
        if let Some((guard, held)) = self.tracking.acquire_fast(|| self.lock.try_lock()) {
            return ConditionGuard {
                held: Some(held),
                guard,
                tracking: &self.tracking,
                waiters: &self.waiters,
            };
        }
        self.acquire_any()
    }

    /// [`acquire`](Self::acquire) in full.
    #[cfg_attr(feature = "debug-locks", track_caller, inline(never))]
    fn acquire_any(&self) -> ConditionGuard<'_, T> {
        self.acquire_until(Deadline::Never)
            .expect("an untimed acquire cannot time out")
    }

    /// Acquires the lock only if it is free now.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn try_acquire(&self) -> Option<ConditionGuard<'_, T>> {
        let guard = self.lock.try_lock()?;
        Some(self.guard(guard, Acquire::Try, Checked::TRY))
    }

    /// Waits at most `timeout` for the lock.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<ConditionGuard<'_, T>> {
        self.acquire_until(Deadline::after(timeout))
    }

    #[cfg_attr(feature = "debug-locks", track_caller)]
    fn acquire_until(&self, deadline: Deadline) -> Option<ConditionGuard<'_, T>> {
        let how = match deadline {
            Deadline::Never => Acquire::Blocking,
            _ => Acquire::Timed,
        };
        let checked = self.tracking.before(how);
        let guard = match self.lock.try_lock() {
            Some(guard) => guard,
            None => self.tracking.contended(
                LockKind::Condition,
                deadline,
                || self.lock.try_lock(),
                |deadline| self.block(deadline),
            )?,
        };
        Some(self.guard(guard, how, checked))
    }

    /// The contended path: blocks the thread, or a green thread (feature
    /// `green`) in the waiting core, as [`Lock`](super::Lock)'s does.
    fn block(&self, deadline: Deadline) -> Option<MutexGuard<'_, T>> {
        match deadline {
            Deadline::Never => Some(self.lock.lock()),
            Deadline::Now => None,
            Deadline::At(at) => self.lock.try_lock_until(at),
        }
    }

    /// Consumes the condition and returns the guarded data.
    pub fn into_inner(self) -> T {
        self.lock.into_inner()
    }

    #[cfg_attr(feature = "debug-locks", track_caller)]
    fn guard<'a>(
        &'a self,
        guard: MutexGuard<'a, T>,
        how: Acquire,
        checked: Checked,
    ) -> ConditionGuard<'a, T> {
        ConditionGuard {
            held: Some(self.tracking.acquired(how, checked)),
            guard,
            tracking: &self.tracking,
            waiters: &self.waiters,
        }
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Condition::new(T::default())
    }
}

impl<T> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").finish_non_exhaustive()
    }
}

/// `MutexGuard::unlocked`: runs `f` with the lock given up and takes it
/// back after, also when `f` unwinds (a killed green thread).
#[cfg(not(all(feature = "green", not(loom))))]
fn unlocked<T, U>(guard: &mut MutexGuard<'_, T>, f: impl FnOnce() -> U) -> U {
    MutexGuard::unlocked(guard, f)
}

/// `MutexGuard::unlocked`, but in a green thread the lock is taken back
/// without a kill or `with_timeout` expiry interrupting it, also when `f`
/// unwinds because the green thread was killed: the caller's guard must
/// own the lock again before it is used or dropped. The kill takes effect
/// at the green thread's next wait. (Not under loom, whose mutex cannot
/// be force-unlocked: no loom model waits on a `Condition` in a green
/// thread.)
#[cfg(all(feature = "green", not(loom)))]
fn unlocked<T, U>(guard: &mut MutexGuard<'_, T>, f: impl FnOnce() -> U) -> U {
    if !crate::green::in_green() {
        return MutexGuard::unlocked(guard, f);
    }
    /// Takes the lock back when dropped, on return and on unwinding.
    struct Retake<'a, T>(&'a Mutex<T>);
    impl<T> Drop for Retake<'_, T> {
        fn drop(&mut self) {
            let mutex = self.0;
            // The caller's guard owns the lock again.
            std::mem::forget(crate::green::uninterruptible(|| mutex.lock()));
        }
    }
    let mutex = MutexGuard::mutex(guard);
    // SAFETY: `guard` holds the lock, and is neither used nor dropped
    // before `Retake` (below) has taken the lock back, whether `f`
    // returns or unwinds; the guard taken there is forgotten, so `guard`
    // owns the lock again, as `MutexGuard::unlocked` leaves it.
    unsafe { mutex.force_unlock() };
    let _retake = Retake(mutex);
    f()
}

impl<T> ConditionGuard<'_, T> {
    /// Releases the lock, sleeps until notified, and re-acquires the lock.
    ///
    /// As in Python, a wake-up may be spurious: wait in a loop that re-checks
    /// the condition, or use [`wait_for`](Self::wait_for).
    pub fn wait(&mut self) {
        self.wait_until(Deadline::Never);
    }

    /// Like [`wait`](Self::wait) but gives up after `timeout`. Returns `false`
    /// if the timeout expired: Python's `wait(timeout)` return value.
    pub fn wait_timeout(&mut self, timeout: Duration) -> bool {
        self.wait_until(Deadline::after(timeout))
    }

    /// Like [`wait`](Self::wait) but gives up at `deadline`.
    pub fn wait_deadline(&mut self, deadline: Instant) -> bool {
        self.wait_until(Deadline::At(deadline))
    }

    /// CPython's `Condition.wait`: get in line, release the lock, sleep
    /// until a `notify` takes this thread out of the line or the deadline
    /// passes, take the lock back. Whether it was notified.
    fn wait_until(&mut self, deadline: Deadline) -> bool {
        // The lock is given up while waiting: no longer held, for dumps and
        // the order checker. Taken back, it counts as a try (lockdep's rule
        // for a condition wait: no order edge into it).
        self.held = None;
        let notified = if deadline == Deadline::Now {
            // Python's `wait(0)`: gives the lock up and takes it back.
            unlocked(&mut self.guard, || {});
            false
        } else {
            let waiters = self.waiters;
            // The list is locked before the user's lock is released and stays
            // locked until this thread is on it and asleep, so a `notify`
            // (made with the user's lock held) cannot slip in between.
            let list = waiters.lock();
            unlocked(&mut self.guard, move || {
                let mut list = list;
                let notified = waiters.wait_for_notify(&mut list, deadline, || {});
                // Never wait for the user's lock while holding the list's: a
                // notifier takes them in the other order.
                drop(list);
                notified
            })
        };
        self.held = Some(self.tracking.acquired(Acquire::Try, Checked::TRY));
        notified
    }

    /// Waits until `predicate` holds over the guarded data, or `timeout`
    /// passes (`None`: no limit). Returns the predicate's last value, as
    /// Python's `wait_for` does.
    pub fn wait_for(
        &mut self,
        mut predicate: impl FnMut(&mut T) -> bool,
        timeout: Option<Duration>,
    ) -> bool {
        let deadline = Deadline::from_timeout(timeout);
        loop {
            if predicate(self) {
                return true;
            }
            if !self.wait_until(deadline) {
                return predicate(self);
            }
        }
    }

    /// Wakes at most `n` threads waiting on this condition, the longest
    /// waiting first: Python's `notify(n)`.
    pub fn notify(&self, n: usize) {
        let mut list = self.waiters.lock();
        let woken = self.waiters.take(&mut list, n);
        drop(list);
        woken.wake();
    }

    /// Wakes every thread waiting on this condition.
    #[doc(alias = "notifyAll")]
    pub fn notify_all(&self) {
        self.notify(usize::MAX);
    }

    /// Releases the lock now; same as dropping the guard.
    pub fn release(self) {}
}

impl<T> Deref for ConditionGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for ConditionGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for ConditionGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
