//! `Semaphore` and `BoundedSemaphore`: Python's counting semaphores, one
//! generic type ([`CountingSemaphore`]) with a thread face and an async face.
//!
//! ```
//! use threadkit::threading::{BoundedSemaphore, Semaphore};
//!
//! let sem = Semaphore::new(1);
//! let permit = sem.acquire(); // `with sem:`
//! assert!(sem.try_acquire().is_none());
//! drop(permit);
//! assert_eq!(sem.value(), 1);
//!
//! let bounded = BoundedSemaphore::new(1);
//! assert!(bounded.release(1).is_err()); // Python: ValueError
//! ```

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use super::error::{ReleaseError, TooManyReleases};
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Unbounded {}
    impl Sealed for super::Bounded {}
}

/// Whether a [`CountingSemaphore`] may be released above its initial
/// value: [`Unbounded`] ([`Semaphore`]) or [`Bounded`]
/// ([`BoundedSemaphore`]). Sealed: these are the only two kinds.
pub trait Bound: sealed::Sealed + Send + Sync + 'static {
    /// The type's name in `Debug` output.
    #[doc(hidden)]
    const NAME: &'static str;

    /// The most permits a semaphore created with `value` may hold, if any.
    #[doc(hidden)]
    fn limit(value: usize) -> Option<usize>;
}

/// The kind of a [`Semaphore`]: releases may add permits without limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unbounded;

/// The kind of a [`BoundedSemaphore`]: the value may never exceed the
/// initial value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounded;

impl Bound for Unbounded {
    const NAME: &'static str = "Semaphore";
    fn limit(_value: usize) -> Option<usize> {
        None
    }
}

impl Bound for Bounded {
    const NAME: &'static str = "BoundedSemaphore";
    fn limit(value: usize) -> Option<usize> {
        Some(value)
    }
}

/// A counter of permits: Python's `threading.Semaphore`, a
/// [`CountingSemaphore`] without bound.
///
/// [`acquire`](CountingSemaphore::acquire) takes a permit (blocking while
/// there is none) and returns a [`SemaphorePermit`] that gives it back when
/// dropped, which is Python's `with sem:`.
/// [`release`](CountingSemaphore::release) adds permits by hand, for the
/// acquire-here, release-there pattern.
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
///   [`release`](CountingSemaphore::release) it later, as Python code does.
/// - `acquire(blocking=False)` and `acquire(timeout=t)` are
///   [`try_acquire`](CountingSemaphore::try_acquire) and
///   [`acquire_timeout`](CountingSemaphore::acquire_timeout).
/// - The value is a `usize`, so a negative initial value cannot be written.
/// - [`release`](CountingSemaphore::release) returns a [`ReleaseError`]:
///   `Zero` for `release(0)` (Python's `ValueError`), `Overflow` past
///   `usize::MAX` (Python's integers do not overflow); either way no permit
///   is added. `asyncio::Semaphore` follows the same rules.
pub type Semaphore = CountingSemaphore<Unbounded>;

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
pub type BoundedSemaphore = CountingSemaphore<Bounded>;

/// The one semaphore behind [`Semaphore`] and [`BoundedSemaphore`] (and
/// `asyncio`'s): a counter of permits whose waiters, threads and tasks,
/// wait in one first-come, first-served line.
///
/// `B` says whether releases are bounded by the initial value. Use the two
/// aliases; this type is where their methods are documented.
///
/// # Fairness
///
/// Each permit released wakes the longest waiter, whether it waits in
/// [`acquire`](Self::acquire) or in
/// [`acquire_async`](Self::acquire_async). As with CPython's
/// `threading.Semaphore`, a caller arriving just then may take that permit
/// before the woken waiter runs; the woken waiter then waits again.
pub struct CountingSemaphore<B: Bound> {
    core: Core,
    kind: PhantomData<B>,
}

/// One permit taken from a [`Semaphore`] or [`BoundedSemaphore`]; given back
/// when dropped.
#[must_use = "if unused the permit is released immediately"]
pub struct SemaphorePermit<'a> {
    core: &'a Core,
}

/// The counter and the line of its waiters (CPython's `_value` and `_cond`),
/// shared by both kinds so that a permit need not know which it came from.
struct Core {
    state: Monitor<State>,
    bound: Option<usize>,
}

#[derive(Debug)]
struct State {
    /// Free permits.
    value: usize,
    /// Permits out in [`SemaphorePermit`]s, which will come back when they
    /// drop: `asyncio`'s release rule counts them.
    held: usize,
    waiters: WaitList,
}

impl HasWaiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }

    fn wait_kind(&self) -> crate::debug::WaitKind {
        crate::debug::WaitKind::Semaphore
    }
}

/// How a release checks its count.
#[derive(Clone, Copy, PartialEq, Eq)]
// Only the asyncio facades release under `FreeAndHeld`.
#[cfg_attr(not(feature = "asyncio"), allow(dead_code))]
pub(crate) enum Rule {
    /// `threading`'s: the free permits plus `n` may not pass the bound (or
    /// `usize::MAX`).
    Free,
    /// `asyncio`'s: the free permits, those held in guards, and `n` may not
    /// pass the bound (or `usize::MAX`).
    FreeAndHeld,
}

impl State {
    fn take(&mut self) -> bool {
        if self.value > 0 {
            self.value -= 1;
            self.held += 1;
            true
        } else {
            false
        }
    }
}

impl Core {
    fn acquire(&self, deadline: Deadline) -> Option<SemaphorePermit<'_>> {
        let mut state = self.state.lock();
        // The uncontended case without the monitor's wait machinery.
        if state.take()
            || (self.state.wait_until(&mut state, deadline, |s| s.value > 0) && state.take())
        {
            Some(SemaphorePermit { core: self })
        } else {
            None
        }
    }

    /// Adds `n` permits under `rule`; refuses (adding none) a zero `n`, an
    /// overflow, or a value above the bound.
    fn release(&self, n: usize, rule: Rule) -> Result<(), ReleaseError> {
        if n == 0 {
            return Err(ReleaseError::Zero);
        }
        let mut state = self.state.lock();
        let counted = match rule {
            Rule::Free => Some(state.value),
            Rule::FreeAndHeld => state.value.checked_add(state.held),
        };
        match (counted.and_then(|c| c.checked_add(n)), self.bound) {
            (Some(new), Some(bound)) if new > bound => {
                return Err(TooManyReleases { bound }.into());
            }
            (None, Some(bound)) => return Err(TooManyReleases { bound }.into()),
            (None, None) => return Err(ReleaseError::Overflow { max: usize::MAX }),
            _ => {}
        }
        state.value += n;
        self.wake(state, n);
        Ok(())
    }

    /// A permit's return: never fails, saturating at the bound or at
    /// `usize::MAX` after a misuse such as extra releases.
    fn give_back(&self) {
        let mut state = self.state.lock();
        state.held -= 1;
        let limit = self.bound.unwrap_or(usize::MAX);
        if state.value < limit {
            state.value += 1;
            self.wake(state, 1);
        }
    }

    /// Wakes up to `added` waiters, one per new permit, oldest first.
    #[inline]
    fn wake(&self, mut state: crate::loom::sync::MutexGuard<'_, State>, added: usize) {
        if state.waiters.len() == 0 {
            // Nobody to wake: the uncontended case skips the wake-up list.
            return;
        }
        let woken = self.state.take(&mut state, added);
        drop(state);
        woken.wake();
    }

    fn value(&self) -> usize {
        self.state.lock().value
    }
}

impl<B: Bound> CountingSemaphore<B> {
    /// A semaphore holding `value` permits: Python's `Semaphore(value)` or
    /// `BoundedSemaphore(value)` (which may then never hold more).
    pub fn new(value: usize) -> Self {
        CountingSemaphore {
            core: Core {
                state: Monitor::new(State {
                    value,
                    held: 0,
                    waiters: WaitList::default(),
                }),
                bound: B::limit(value),
            },
            kind: PhantomData,
        }
    }

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

    /// [`acquire`](Self::acquire) for async code: the same wait in the same
    /// line as the threads, so threads and tasks share one semaphore
    /// (Python's `await sem.acquire()`). Needs no runtime; bound it with
    /// `asyncio::wait_for` or any timer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it resolves takes no permit,
    /// and a wake-up it had received goes to the next waiter.
    pub fn acquire_async(&self) -> impl Future<Output = SemaphorePermit<'_>> + Send + '_ {
        let core = &self.core;
        let taken = core.state.until(|s| s.take().then_some(()));
        // The permit exists as soon as `taken` resolves, in the same poll.
        async move {
            taken.await;
            SemaphorePermit { core }
        }
    }

    /// Adds `n` permits, waking up to `n` waiters: Python's `release(n)`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Zero`] if `n` is 0; [`ReleaseError::TooMany`] if a
    /// [`BoundedSemaphore`] would exceed its initial value;
    /// [`ReleaseError::Overflow`] if a [`Semaphore`]'s value would pass
    /// `usize::MAX`. No permit is added then.
    pub fn release(&self, n: usize) -> Result<(), ReleaseError> {
        self.core.release(n, Rule::Free)
    }

    /// `release` under `rule` (the asyncio facades count held permits).
    #[cfg_attr(not(feature = "asyncio"), allow(dead_code))]
    pub(crate) fn release_with(&self, n: usize, rule: Rule) -> Result<(), ReleaseError> {
        self.core.release(n, rule)
    }

    /// The number of permits available now (CPython's `_value`).
    pub fn value(&self) -> usize {
        self.core.value()
    }
}

impl<B: Bound> Default for CountingSemaphore<B> {
    /// Python's default: one permit.
    fn default() -> Self {
        CountingSemaphore::new(1)
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken: the semaphore's value stays one lower until
    /// someone calls `release`. This is Python's `acquire()` without `with`.
    pub fn forget(self) {
        self.core.state.lock().held -= 1;
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.core.give_back();
    }
}

impl<B: Bound> fmt::Debug for CountingSemaphore<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(B::NAME);
        d.field("value", &self.value());
        if self.core.bound.is_some() {
            d.field("bound", &self.core.bound);
        }
        d.finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// A task and a thread wait in one line: a release serves the one that
    /// came first, and a cancelled task's place and wake-up are not lost.
    #[test]
    fn threads_and_tasks_share_one_line() {
        let sem = std::sync::Arc::new(Semaphore::new(0));
        let mut cx = Context::from_waker(Waker::noop());
        let mut task = Box::pin(sem.acquire_async());
        assert!(task.as_mut().poll(&mut cx).is_pending());
        let thread = {
            let sem = std::sync::Arc::clone(&sem);
            std::thread::spawn(move || sem.acquire().forget())
        };
        while sem.core.state.lock().waiters.len() < 2 {
            std::thread::yield_now();
        }
        sem.release(1).unwrap();
        // The task came first: the thread still waits.
        // Its permit, dropped at once, goes on to the thread.
        assert!(matches!(task.as_mut().poll(&mut cx), Poll::Ready(_)));
        thread.join().unwrap();
        assert_eq!(sem.value(), 0);

        let mut cancelled = pin!(sem.acquire_async());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        assert_eq!(sem.core.state.lock().waiters.len(), 1);
    }

    #[test]
    fn held_permits_count_only_under_the_asyncio_rule() {
        let sem = BoundedSemaphore::new(1);
        let permit = sem.acquire();
        assert_eq!(
            sem.release_with(1, Rule::FreeAndHeld),
            Err(ReleaseError::TooMany(TooManyReleases { bound: 1 }))
        );
        assert_eq!(sem.release(1), Ok(()));
        drop(permit); // saturates at the bound
        assert_eq!(sem.value(), 1);
        sem.acquire().forget();
        assert_eq!(sem.release_with(1, Rule::FreeAndHeld), Ok(()));
    }
}
