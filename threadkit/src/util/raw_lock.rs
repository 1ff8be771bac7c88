//! [`RawLock`]: the lock word under `threading`'s `Lock`, `RLock` and
//! `Condition` when green threads are on (feature `green`), whose waiters
//! wait in the one waiting core ([`Monitor`]).
//!
//! parking_lot's `RawMutex` parks a contended thread in parking_lot_core,
//! and its release wakes only threads parked there: a green thread cannot
//! park there without blocking its carrier, and every green thread on it.
//! `RawLock` keeps parking_lot's lock word and fast paths (one
//! compare-and-swap to lock, one to unlock) and gives it another slow
//! path: a contended acquirer, a thread or a green thread alike, waits on
//! the lock's [`Monitor`], and a release that finds waiters wakes the
//! longest-waiting one. A green thread there suspends to its hub, so the
//! holder (maybe a green thread of the same carrier) runs, and a release
//! from any thread wakes it on its own hub.
//!
//! # The lock word
//!
//! - [`LOCKED`]: somebody holds the lock;
//! - [`WAITING`]: the monitor's list may hold waiters, so the holder's
//!   release must take the slow path and wake one. Set only by a waiter,
//!   with the monitor's lock held; cleared only by a release, with it held.
//!
//! A contended acquirer, with the monitor's lock held, takes the lock if it
//! is free or else sets [`WAITING`] in the same compare-and-swap, and only
//! then sleeps (the waiting core's steps 1 and 2). The release's
//! compare-and-swap from [`LOCKED`] to 0 is on the same word: it either
//! comes first (and the acquirer's swap finds the lock free and takes it),
//! or it fails on [`WAITING`] and the release takes the monitor's lock,
//! behind which the waiter is already on the list. So no wake-up is lost,
//! and the uncontended paths touch nothing but the word.
//!
//! # Wake, then retry
//!
//! A release hands nothing over: it frees the lock, then wakes the longest
//! waiter, which tries again. A newcomer may take the lock first (it then
//! releases it later, and wakes the next), and the woken waiter queues
//! again, at the back. This is parking_lot's policy too (without its
//! periodic fair hand-over): a lock passed waiter to waiter would stall
//! every holder's next acquire until the woken one has run (a lock
//! convoy), and a green thread's next acquire until its hub has switched.
//! Among waiters the order is first come, first served. Because a woken
//! waiter only retries, one that times out or is killed after its wake-up
//! loses nothing but its turn: timed out, it still takes the lock if it is
//! free (the waiting core's last check); killed, the waiting core hands
//! its wake-up to the next waiter.

#[cfg(not(loom))]
use std::time::{Duration, Instant};

use crate::loom::sync::atomic::{
    AtomicU8, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// Somebody holds the lock.
const LOCKED: u8 = 1;
/// The monitor's list may hold waiters: a release takes the slow path.
const WAITING: u8 = 2;

/// A mutual-exclusion lock word whose contended acquirers wait in the
/// waiting core: see the [module docs](self).
#[derive(Debug)]
pub(crate) struct RawLock {
    state: AtomicU8,
    waiters: Monitor<Waiters>,
}

/// The acquirers waiting for the lock, oldest first.
#[derive(Debug)]
struct Waiters(WaitList);

impl HasWaiters for Waiters {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.0
    }

    /// The lock's own tracking records the wait, with the lock's kind and
    /// holder (`LockTracking::contended`).
    fn recorded(&self) -> bool {
        false
    }
}

impl RawLock {
    /// A free lock.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        RawLock {
            state: AtomicU8::new(0),
            waiters: Monitor::new(Waiters(WaitList::new())),
        }
    }

    /// A free lock.
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        RawLock {
            state: AtomicU8::new(0),
            waiters: Monitor::new(Waiters(WaitList::new())),
        }
    }

    /// Takes the lock if it is free now (also while others wait: see the
    /// module docs). parking_lot's `try_lock`.
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            if state & LOCKED != 0 {
                return false;
            }
            match self
                .state
                .compare_exchange_weak(state, state | LOCKED, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Takes the lock, waiting until `deadline` at the latest; whether it
    /// was taken.
    #[inline]
    pub(crate) fn acquire_until(&self, deadline: Deadline) -> bool {
        if self
            .state
            .compare_exchange_weak(0, LOCKED, Acquire, Relaxed)
            .is_ok()
        {
            return true;
        }
        self.acquire_slow(deadline)
    }

    /// Releases the lock, waking the longest waiter if there is one.
    ///
    /// # Safety
    ///
    /// The caller holds the lock (in the current context: the lock has no
    /// owner, so a release from another thread is sound, as parking_lot's).
    #[inline]
    pub(crate) unsafe fn release(&self) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Release, Relaxed)
            .is_ok()
        {
            return;
        }
        self.release_slow();
    }

    /// Whether somebody holds the lock now.
    #[inline]
    pub(crate) fn is_held(&self) -> bool {
        self.state.load(Relaxed) & LOCKED != 0
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self, deadline: Deadline) -> bool {
        // A thread spins a little first, as parking_lot does before it
        // parks, while nobody waits: a holder on another core often
        // releases within that time. A green thread does not: its holder
        // may be on the same carrier, which the spinning would hold up.
        #[cfg(not(loom))]
        if !crate::green::active() {
            let backoff = crossbeam_utils::Backoff::new();
            while !backoff.is_completed() {
                let state = self.state.load(Relaxed);
                if state & WAITING != 0 {
                    break;
                }
                if state & LOCKED == 0 && self.try_acquire() {
                    return true;
                }
                backoff.snooze();
            }
        }
        if deadline == Deadline::Now {
            return self.try_acquire();
        }
        if std::thread::panicking() {
            // A green thread unwinding from a kill (a guard's drop takes a
            // lock): a second kill must not interrupt this wait, which
            // would panic during the panic.
            return crate::green::uninterruptible(|| self.wait(deadline));
        }
        self.wait(deadline)
    }

    /// Waits in line until the lock is taken or `deadline` passes.
    fn wait(&self, deadline: Deadline) -> bool {
        let mut list = self.waiters.lock();
        self.waiters
            .wait_until(&mut list, deadline, |_| self.take_or_announce())
    }

    /// With the monitor's lock held: takes the lock if it is free, or else
    /// sets [`WAITING`] so that the holder's release comes to wake the
    /// waiters (see the module docs). Whether the lock was taken.
    fn take_or_announce(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            let (next, taken) = if state & LOCKED == 0 {
                (state | LOCKED, true)
            } else if state & WAITING == 0 {
                (state | WAITING, false)
            } else {
                return false;
            };
            match self
                .state
                .compare_exchange_weak(state, next, Acquire, Relaxed)
            {
                Ok(_) => return taken,
                Err(now) => state = now,
            }
        }
    }

    /// The release when [`WAITING`] is set: frees the lock and wakes the
    /// longest waiter, with the monitor's lock held so that no waiter
    /// announces itself meanwhile.
    #[cold]
    #[inline(never)]
    fn release_slow(&self) {
        let mut list = self.waiters.lock();
        let woken = self.waiters.take_one(&mut list);
        // Nobody else writes the word now: acquirers change it only while
        // it is free, and waiters only with the monitor's lock held. A
        // waiter left on the list keeps `WAITING` set; a waiter that gave
        // up may have left it set with nobody on the list, which costs the
        // next release this slow path, nothing else.
        let state = if list.0.len() > 0 { WAITING } else { 0 };
        self.state.store(state, Release);
        drop(list);
        woken.wake();
    }
}

// SAFETY: `lock`, `try_lock` and the timed forms succeed only by setting
// `LOCKED` in a compare-and-swap from a state without it (Acquire), and
// only `unlock` (Release) clears it, so one holder at a time, and each
// critical section happens before the next.
#[cfg(not(loom))]
unsafe impl parking_lot::lock_api::RawMutex for RawLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawLock = RawLock::new();

    type GuardMarker = parking_lot::lock_api::GuardNoSend;

    #[inline]
    fn lock(&self) {
        self.acquire_until(Deadline::Never);
    }

    #[inline]
    fn try_lock(&self) -> bool {
        self.try_acquire()
    }

    #[inline]
    unsafe fn unlock(&self) {
        // SAFETY: `RawMutex::unlock`'s contract: the caller holds the lock.
        unsafe { self.release() }
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.is_held()
    }
}

// SAFETY: as for `RawMutex` above; the timed forms end as `lock` does, or
// without having taken the lock.
#[cfg(not(loom))]
unsafe impl parking_lot::lock_api::RawMutexTimed for RawLock {
    type Duration = Duration;
    type Instant = Instant;

    fn try_lock_for(&self, timeout: Duration) -> bool {
        self.acquire_until(Deadline::after(timeout))
    }

    fn try_lock_until(&self, deadline: Instant) -> bool {
        self.acquire_until(Deadline::At(deadline))
    }
}
