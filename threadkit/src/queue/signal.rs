//! The slow path of the queue core: a condition variable that is only
//! touched when somebody waits on it, and the short spin tried before that.

#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst, fence};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst, fence};

#[cfg(any(feature = "asyncio", loom))]
use std::task::Waker;

use crate::loom::sync::{Condvar, Mutex};
#[cfg(any(feature = "asyncio", loom))]
use crate::util::wakers::Wakers;
use crate::util::{Deadline, wait};

/// A condition ("not empty", "not full", "all tasks done") that threads can
/// sleep on, plus the number of threads registered to sleep on it.
///
/// The protocol that makes wake-ups impossible to lose (a Dekker handshake):
///
/// - a waiter takes the core's mutex, increments `waiting`, issues a SeqCst
///   fence, and only then evaluates its condition (and keeps the mutex until
///   the condition variable releases it in `wait`);
/// - a notifier first makes the condition true (changes the store, shuts it
///   or counts a task done), issues a SeqCst fence, and then reads `waiting`;
///   only if it is non-zero does it take the mutex and notify. After a push
///   or a pop the store's own SeqCst read-modify-write stands in for the
///   fence (see [`notify_one_after_store_change`](Self::notify_one_after_store_change)).
///
/// The two fences are ordered one way or the other in the single total order
/// of SeqCst fences. If the waiter's comes first, the notifier reads
/// `waiting >= 1` and takes the mutex; the waiter holds the mutex from its
/// check until it is asleep, so the notification reaches it. If the
/// notifier's comes first, the waiter's check sees the change and it does not
/// sleep.
///
/// A notifier moves the waiters it wakes from `waiting` to `claimed` (as
/// crossbeam-channel removes a woken waiter from its list), so that the
/// producers that follow do not take the mutex again for a waiter that is
/// already awake but not yet running: that was a lock convoy on a loaded
/// machine. Every time a waiter wakes it moves one unit back from `claimed`
/// to `waiting` (any unit: waiters are interchangeable) and fences before
/// checking, so it re-registers before it may sleep again. Both counters
/// change only under the mutex, and `waiting` never falls below the number of
/// threads asleep on the condition variable: a notifier that reads zero knows
/// nobody is asleep, and every waiter still awake will re-register and check.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    /// Registered waiters: threads and async waiters alike.
    waiting: AtomicUsize,
    /// Waiters a notifier woke (or meant to) that have not checked since.
    claimed: AtomicUsize,
    cv: Condvar,
    /// Async waiters (see `async_wait`); locked only with the core's mutex
    /// held.
    #[cfg(any(feature = "asyncio", loom))]
    pub(super) wakers: Mutex<Wakers>,
}

impl Signal {
    /// Sleeps (with `lock` held around the check) until `ready()` returns
    /// true or `deadline` passes; returns what `ready()` last returned.
    pub(crate) fn wait(
        &self,
        lock: &Mutex<()>,
        deadline: Deadline,
        mut ready: impl FnMut() -> bool,
    ) -> bool {
        let mut guard = lock.lock();
        self.waiting.fetch_add(1, SeqCst);
        fence(SeqCst);
        let ready = wait::wait_until(&self.cv, &mut guard, deadline, |_| {
            if self.claimed.load(SeqCst) > 0 {
                // Woken (maybe not by name): register again before checking.
                self.claimed.fetch_sub(1, SeqCst);
                self.waiting.fetch_add(1, SeqCst);
                fence(SeqCst);
            }
            ready()
        });
        self.waiting.fetch_sub(1, SeqCst);
        ready
    }

    /// Waits until the condition looks true or `deadline` passes: first by
    /// spinning on `looks_ready()` (cheap reads only, so that the spinner does
    /// not steal cache lines from the thread it waits for), then by sleeping
    /// until `ready()`, the check that takes part in the wake-up protocol.
    pub(crate) fn spin_then_wait(
        &self,
        lock: &Mutex<()>,
        backoff: &mut Backoff,
        deadline: Deadline,
        mut looks_ready: impl FnMut() -> bool,
        ready: impl FnMut() -> bool,
    ) {
        while !backoff.is_completed() {
            backoff.snooze();
            if looks_ready() {
                return;
            }
        }
        self.wait(lock, deadline, ready);
    }

    /// Wakes one waiter, if any, after a push or a pop. Unlike
    /// [`notify_all`](Self::notify_all) it issues no fence: the [`Store`](super::store::Store) contract makes the store's own
    /// SeqCst read-modify-write play the fence's part. If this thread's
    /// `waiting` load misses a waiter's registration, it comes before that
    /// registration in the SeqCst order, so the store operation does too,
    /// and the waiter's check (SeqCst loads of the same atomic, after its
    /// registration) sees the change. crossbeam-channel wakes its receivers
    /// the same way. The fence would cost as much as the rest of a put.
    #[inline]
    pub(crate) fn notify_one_after_store_change(&self, lock: &Mutex<()>) {
        if self.waiting.load(SeqCst) > 0 {
            self.wake_one(lock);
        }
    }

    #[cold]
    fn wake_one(&self, lock: &Mutex<()>) {
        let guard = lock.lock();
        if self.waiting.load(SeqCst) > 0 {
            self.waiting.fetch_sub(1, SeqCst);
            #[cfg(any(feature = "asyncio", loom))]
            if let Some(waker) = self.wakers.lock().pop() {
                drop(guard);
                waker.wake();
                return;
            }
            self.claimed.fetch_add(1, SeqCst);
            self.cv.notify_one();
        }
        drop(guard);
    }

    /// Wakes one waiter, if any, after a change not made by a push or pop
    /// (an async waiter handing its wake-up on).
    #[cfg(any(feature = "asyncio", loom))]
    pub(super) fn notify_one(&self, lock: &Mutex<()>) {
        fence(SeqCst);
        self.notify_one_after_store_change(lock);
    }

    /// Counts an async waiter in `waiting`; with the core's mutex held.
    #[cfg(any(feature = "asyncio", loom))]
    pub(super) fn count_waiter(&self) {
        self.waiting.fetch_add(1, SeqCst);
    }

    /// Takes an async waiter out of `waiting`; with the core's mutex held.
    #[cfg(any(feature = "asyncio", loom))]
    pub(super) fn uncount_waiter(&self) {
        self.waiting.fetch_sub(1, SeqCst);
    }

    /// The waiter's fence between registering and checking.
    #[cfg(any(feature = "asyncio", loom))]
    pub(super) fn fence(&self) {
        fence(SeqCst);
    }

    /// Wakes every waiter, if any; call after making the condition true.
    pub(crate) fn notify_all(&self, lock: &Mutex<()>) {
        fence(SeqCst);
        if self.waiting.load(SeqCst) > 0 {
            let guard = lock.lock();
            let woken = self.waiting.swap(0, SeqCst);
            #[cfg(any(feature = "asyncio", loom))]
            let wakers = self.wakers.lock().take_all();
            #[cfg(any(feature = "asyncio", loom))]
            let woken = woken - wakers.len();
            self.claimed.fetch_add(woken, SeqCst);
            self.cv.notify_all();
            drop(guard);
            #[cfg(any(feature = "asyncio", loom))]
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// Exponential spinning, then yielding, before a thread parks: a producer and
/// a consumer running at similar speeds then rarely need a futex sleep and
/// wake-up per item (crossbeam's `Backoff` does the same). It never sleeps, so
/// it is not a deadline loop; `Signal::wait` does the real waiting.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    /// Up to 2^6 spin hints per step while spinning.
    const SPIN_LIMIT: u32 = 6;
    /// Steps after which the caller should park instead.
    const YIELD_LIMIT: u32 = 10;

    /// The first step of a getter's backoff: `2^4` spin hints before its
    /// first re-check of an empty queue. A consumer that polls at once keeps
    /// pulling the store's tail and slot lines from the producer while it
    /// pushes, which halved 1-producer/1-consumer throughput; waiting a
    /// little longer lets the producer get a few items ahead (measured on 2
    /// cores: 12.8 -> 18.5 M items/s, unbounded).
    const GETTER_START: u32 = 4;

    /// A backoff for a getter that found the queue empty: see
    /// [`GETTER_START`](Self::GETTER_START).
    pub(crate) fn for_getter() -> Self {
        Backoff {
            step: Self::GETTER_START,
        }
    }

    /// Whether spinning is over and the caller should park.
    pub(crate) fn is_completed(&self) -> bool {
        // Under loom, spinning only multiplies the interleavings to explore.
        cfg!(loom) || self.step > Self::YIELD_LIMIT
    }

    /// Waits a little, longer at each call.
    pub(crate) fn snooze(&mut self) {
        if self.step <= Self::SPIN_LIMIT {
            for _ in 0..(1u32 << self.step) {
                std::hint::spin_loop();
            }
        } else {
            yield_now();
        }
        self.step += 1;
    }
}

/// Lets another thread run; used while a short, lock-free step of another
/// thread (a pop still freeing its slot) must finish.
pub(crate) fn yield_now() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}
