//! The one core shared by `Queue`, `LifoQueue`, `PriorityQueue` and
//! `SimpleQueue`: CPython's `Queue` internals, generic over the [`Store`].
//!
//! As in CPython there is one mutex and three conditions on it: `not_empty`
//! (getters wait), `not_full` (putters wait) and `all_tasks_done` (joiners
//! wait), plus the `unfinished_tasks` counter and the 3.13 shutdown flag.
//!
//! Unlike CPython, the locked state also counts the threads waiting on each
//! condition, so that the common case (nobody waiting) never touches a
//! condition variable. Every count is changed and read under the mutex: a
//! thread increments it before its first wait and decrements it after its last,
//! so a notifier that sees zero knows nobody can be asleep on that condition.
//! Notifications are sent while the mutex is held.
//!
//! All blocking goes through [`wait::wait_until`]; this file has no deadline
//! loop of its own.

use std::fmt;
// The crate's loom facade has no atomics yet; switch here the same way.
#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};

use super::error::TaskDoneError;
use super::store::Store;
use crate::loom::sync::{Condvar, Mutex, MutexGuard};
use crate::util::{Deadline, wait};

/// Why the core refused a `put` or `get`; the facades map it onto the error
/// type of each method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Full (put) or empty (get) until the deadline: `Full`/`Empty`/timeout.
    NotReady,
    /// The queue is shut down (and, for a get, empty).
    ShutDown,
}

/// The data guarded by the core's mutex.
struct State<S> {
    store: S,
    /// Set once by `shutdown`, never cleared (CPython's `is_shutdown`).
    shutdown: bool,
    /// Threads inside a wait on `not_empty`.
    waiting_getters: usize,
    /// Threads inside a wait on `not_full`.
    waiting_putters: usize,
    /// Threads inside a wait on `all_tasks_done`.
    waiting_joiners: usize,
}

/// One mutex, three conditions, a store: see the module docs.
pub(crate) struct Core<S> {
    state: Mutex<State<S>>,
    not_empty: Condvar,
    not_full: Condvar,
    all_tasks_done: Condvar,
    /// Items put and not yet marked done (CPython's `unfinished_tasks`).
    ///
    /// An atomic rather than part of `State`, so that `task_done` takes the
    /// mutex only when the count reaches zero. It is incremented by `put` with
    /// the mutex held and decremented by `task_done` without it; `join` reads
    /// it under the mutex. A joiner holds the mutex from its last check until
    /// it sleeps, and `task_done` takes the mutex after bringing the count to
    /// zero and before looking at `waiting_joiners`, so the wake-up cannot be
    /// lost.
    unfinished_tasks: AtomicUsize,
    /// 0 means unbounded.
    maxsize: usize,
}

impl<S: Store> Core<S> {
    /// An empty core holding at most `maxsize` items (0 = unbounded).
    pub(crate) fn new(maxsize: usize) -> Self {
        Core {
            state: Mutex::new(State {
                store: S::with_maxsize(maxsize),
                shutdown: false,
                waiting_getters: 0,
                waiting_putters: 0,
                waiting_joiners: 0,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            all_tasks_done: Condvar::new(),
            unfinished_tasks: AtomicUsize::new(0),
            maxsize,
        }
    }

    fn has_room(&self, state: &State<S>) -> bool {
        self.maxsize == 0 || state.store.len() < self.maxsize
    }

    /// Adds `item`, waiting for room until `deadline`; counts it as an
    /// unfinished task. Hands the item back on failure.
    pub(crate) fn put(&self, item: S::Item, deadline: Deadline) -> Result<(), (S::Item, Refused)> {
        let mut st = self.state.lock();
        if !st.shutdown && !self.has_room(&st) && deadline != Deadline::Now {
            spin_until(&mut st, deadline, |s| s.shutdown || self.has_room(s));
            st.waiting_putters += 1;
            wait::wait_until(&self.not_full, &mut st, deadline, |s| {
                s.shutdown || self.has_room(s)
            });
            st.waiting_putters -= 1;
        }
        if st.shutdown {
            return Err((item, Refused::ShutDown));
        }
        if !self.has_room(&st) {
            return Err((item, Refused::NotReady));
        }
        st.store.push(item);
        // Never overflows: every counted item is held in memory or was
        // taken out and not yet marked done.
        self.unfinished_tasks.fetch_add(1, Ordering::SeqCst);
        if st.waiting_getters > 0 {
            self.not_empty.notify_one();
        }
        Ok(())
    }

    /// Adds `item` regardless of `maxsize` and shutdown, without task
    /// tracking: `SimpleQueue::put`.
    pub(crate) fn push(&self, item: S::Item) {
        let mut st = self.state.lock();
        st.store.push(item);
        if st.waiting_getters > 0 {
            self.not_empty.notify_one();
        }
    }

    /// Removes the next item, waiting for one until `deadline`. Fails with
    /// `ShutDown` only when the queue is shut down and empty.
    pub(crate) fn get(&self, deadline: Deadline) -> Result<S::Item, Refused> {
        let mut st = self.state.lock();
        if !st.shutdown && st.store.len() == 0 && deadline != Deadline::Now {
            spin_until(&mut st, deadline, |s| s.shutdown || s.store.len() > 0);
            st.waiting_getters += 1;
            wait::wait_until(&self.not_empty, &mut st, deadline, |s| {
                s.shutdown || s.store.len() > 0
            });
            st.waiting_getters -= 1;
        }
        match st.store.pop() {
            Some(item) => {
                if st.waiting_putters > 0 {
                    self.not_full.notify_one();
                }
                Ok(item)
            }
            None if st.shutdown => Err(Refused::ShutDown),
            None => Err(Refused::NotReady),
        }
    }

    /// Marks one unfinished task done, releasing joiners at zero.
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let previous = self
            .unfinished_tasks
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map_err(|_| TaskDoneError)?;
        if previous == 1 {
            let st = self.state.lock();
            if st.waiting_joiners > 0 {
                self.all_tasks_done.notify_all();
            }
        }
        Ok(())
    }

    /// Waits until every task is done or `deadline` passes; returns whether
    /// every task was done.
    pub(crate) fn join(&self, deadline: Deadline) -> bool {
        if self.unfinished_tasks.load(Ordering::SeqCst) == 0 {
            return true;
        }
        let mut st = self.state.lock();
        st.waiting_joiners += 1;
        let done = wait::wait_until(&self.all_tasks_done, &mut st, deadline, |_| {
            self.unfinished_tasks.load(Ordering::SeqCst) == 0
        });
        st.waiting_joiners -= 1;
        done
    }

    /// Shuts the queue down (CPython 3.13's `shutdown`). With `immediate`,
    /// removes every pending item, marks it done and returns it so that the
    /// caller drops it after the mutex is released.
    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<S::Item> {
        let mut removed = Vec::new();
        let mut st = self.state.lock();
        st.shutdown = true;
        if immediate {
            st.store.drain_into(&mut removed);
            // Mark the dropped items done, never going below zero (items
            // taken by `get` but not yet marked done stay counted).
            let dropped = removed.len();
            let _ = self
                .unfinished_tasks
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    Some(n.saturating_sub(dropped))
                });
            if st.waiting_joiners > 0 {
                self.all_tasks_done.notify_all();
            }
        }
        if st.waiting_getters > 0 {
            self.not_empty.notify_all();
        }
        if st.waiting_putters > 0 {
            self.not_full.notify_all();
        }
        removed
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.state.lock().shutdown
    }

    pub(crate) fn qsize(&self) -> usize {
        self.state.lock().store.len()
    }

    pub(crate) fn full(&self) -> bool {
        !self.has_room(&self.state.lock())
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.unfinished_tasks.load(Ordering::SeqCst)
    }
}

/// Before sleeping, gives the other side a few short chances to make `ready`
/// true, releasing the mutex between checks. A producer and a consumer running
/// at similar speeds then rarely need a futex sleep and wake-up per item, which
/// is what crossbeam's backoff achieves too. This is not a deadline loop: it
/// never sleeps, it only stops early, and `wait_until` does the real waiting.
#[cfg(not(loom))]
fn spin_until<T>(
    guard: &mut MutexGuard<'_, T>,
    deadline: Deadline,
    mut ready: impl FnMut(&T) -> bool,
) {
    const SPINS: u32 = 6;
    if deadline == Deadline::Now {
        return;
    }
    for step in 0..SPINS {
        MutexGuard::unlocked(guard, || {
            for _ in 0..(1u32 << step) {
                std::hint::spin_loop();
            }
        });
        if ready(guard) {
            return;
        }
    }
}

/// Under loom, spinning only multiplies the interleavings to explore.
#[cfg(loom)]
fn spin_until<T>(
    _guard: &mut MutexGuard<'_, T>,
    _deadline: Deadline,
    _ready: impl FnMut(&T) -> bool,
) {
}

impl<S: Store> Core<S> {
    /// Fills a `Debug` struct with a snapshot of the queue's counters.
    pub(crate) fn fmt_fields(&self, mut out: fmt::DebugStruct<'_, '_>) -> fmt::Result {
        let st = self.state.lock();
        out.field("qsize", &st.store.len())
            .field("maxsize", &self.maxsize)
            .field("unfinished_tasks", &self.unfinished_tasks())
            .field("is_shutdown", &st.shutdown)
            .finish()
    }
}
