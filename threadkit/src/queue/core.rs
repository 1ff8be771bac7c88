//! The one core shared by `Queue`, `LifoQueue`, `PriorityQueue` and
//! `SimpleQueue`: CPython's `Queue` semantics, generic over the [`Store`].
//!
//! CPython takes one mutex for every operation. Here the [`Store`] is itself
//! thread-safe (lock-free for an unbounded FIFO) and carries the shutdown
//! flag and the bound, so a `put` or `get` that can proceed touches only the
//! store, the way crossbeam-channel works; the mutex and the three
//! conditions (`not_empty`, `not_full`, `all_tasks_done`, each a [`Signal`])
//! are used only by threads that must sleep and by the threads that wake
//! them.
//!
//! # State
//!
//! - the store: the items, the bound and the 3.13 shutdown flag (the store's
//!   `close`). A push and a close are ordered inside the store (for FIFO, by
//!   the read-modify-writes of one atomic), so a put either lands before the
//!   shutdown or fails with its item handed back, and once the store reported
//!   "closed and empty" nothing can be added any more.
//! - `tasks`: CPython's `unfinished_tasks`, as puts counted per producing
//!   thread minus `task_done`s (see [`Tasks`]), so that a put writes no
//!   shared counter.
//!
//! # Memory ordering
//!
//! The core's own atomics use SeqCst; the store guarantees that a push
//! happens-before the pop that returns the item.
//!
//! - *No lost wake-up.* Every sleep goes through [`Signal`]: the sleeper
//!   registers, fences, checks; the waker changes the state (pushes, pops,
//!   closes, counts), then reads the registration. Between the two, a
//!   `shutdown` or `task_done` issues a SeqCst fence (see `Signal`); a push or
//!   a pop relies on the store's own SeqCst read-modify-write instead (the
//!   [`Store`] contract), because a fence there cost as much as the rest of a
//!   put.
//! - *Task counting.* A put counts its task before pushing, so the
//!   consumer's `task_done` (which happens after its pop, hence after the
//!   push) always finds it. A push that fails (full or shut down) marks its
//!   own task done, waking joiners if that was the last. See [`Tasks`].
//! - *Shutdown.* `shutdown` closes the store, then (if immediate) pops every
//!   item left, marks those done and hands them to the caller to drop. A put
//!   racing with `shutdown` either succeeds (and is linearized before it; an
//!   immediate shutdown then drops its item) or hands its item back; a `get`
//!   reports `ShutDown` only when the store is closed and empty, and then
//!   every later `get` does too.
//!
//! # What is not atomic as a whole
//!
//! `qsize`, `empty` and `full` read the store without a lock: snapshots, as
//! the Python docs warn. A `task_done` called *too many times* may go
//! unreported in a narrow window, or let a concurrent `join` return early
//! (see [`Tasks`]); it is a caller bug either way, and the count never wraps.

use std::fmt;
use std::time::Duration;

#[cfg(any(feature = "asyncio", loom))]
use super::async_wait;
use super::error::{GetTimeoutError, TaskDoneError, TryGetError};
use super::signal::{Backoff, Signal, yield_now};
pub(crate) use super::store::Refused;
use super::store::Store;
use super::tasks::Tasks;
use crate::loom::sync::Mutex;
use crate::util::Deadline;

impl From<Refused> for TryGetError {
    fn from(why: Refused) -> Self {
        match why {
            Refused::NotReady => TryGetError::Empty,
            Refused::ShutDown => TryGetError::ShutDown,
        }
    }
}

impl From<Refused> for GetTimeoutError {
    fn from(why: Refused) -> Self {
        match why {
            Refused::NotReady => GetTimeoutError::Timeout,
            Refused::ShutDown => GetTimeoutError::ShutDown,
        }
    }
}

/// A thread-safe store plus task tracking and sleeping: see the module docs.
pub(crate) struct Core<S> {
    /// Holds the bound too (0 = unbounded), which may change.
    store: S,
    /// Items put and not yet marked done (CPython's `unfinished_tasks`).
    tasks: Tasks,
    /// Held only to sleep on, or to notify, one of the signals.
    lock: Mutex<()>,
    not_empty: Signal,
    not_full: Signal,
    all_tasks_done: Signal,
}

/// Takes back the task counted for a put whose push panicked.
struct UnputOnUnwind<'a, S: Store>(&'a Core<S>);

impl<S: Store> Drop for UnputOnUnwind<'_, S> {
    fn drop(&mut self) {
        if self.0.tasks.unput() {
            self.0.all_tasks_done.notify_all(&self.0.lock);
        }
    }
}

/// Wakes every sleeper of a core when dropped: the end of `shutdown`.
struct WakeAll<'a, S: Store>(&'a Core<S>);

impl<S: Store> Drop for WakeAll<'_, S> {
    fn drop(&mut self) {
        let core = self.0;
        core.all_tasks_done.notify_all(&core.lock);
        core.not_empty.notify_all(&core.lock);
        core.not_full.notify_all(&core.lock);
    }
}

impl<S: Store> Core<S> {
    /// An empty core holding at most `maxsize` items (0 = unbounded).
    pub(crate) fn new(maxsize: usize) -> Self {
        Core {
            store: S::with_maxsize(maxsize),
            tasks: Tasks::default(),
            lock: Mutex::new(()),
            not_empty: Signal::default(),
            not_full: Signal::default(),
            all_tasks_done: Signal::default(),
        }
    }

    fn has_room(&self) -> bool {
        let maxsize = self.store.maxsize();
        maxsize == 0 || self.store.len() < maxsize
    }

    /// Adds `item`, waiting for room until `deadline`; counts it as an
    /// unfinished task. Hands the item back on failure.
    pub(crate) fn put(&self, item: S::Item, deadline: Deadline) -> Result<(), (S::Item, Refused)> {
        let mut item = item;
        let mut backoff = Backoff::default();
        loop {
            item = match self.try_put(item) {
                Err((item, Refused::NotReady)) => item,
                done => return done,
            };
            if deadline.remaining() == Some(Duration::ZERO) {
                return Err((item, Refused::NotReady));
            }
            if self.has_room() {
                // Full with room: a get took the last item but is still
                // freeing its slot, a few instructions away.
                yield_now();
                continue;
            }
            let ready = || self.has_room() || self.is_shutdown();
            self.not_full
                .spin_then_wait(&self.lock, &mut backoff, deadline, ready, ready);
        }
    }

    /// One attempt at `put`, never blocking.
    #[inline]
    fn try_put(&self, item: S::Item) -> Result<(), (S::Item, Refused)> {
        self.tasks.put();
        // If the push panics (a `PriorityQueue` item's `Ord`), the item was
        // not stored: the guard takes its task back as the panic unwinds.
        let unput = UnputOnUnwind(self);
        let pushed = self.store.try_push(item);
        std::mem::forget(unput);
        match pushed {
            Ok(()) => {
                self.not_empty.notify_one_after_store_change(&self.lock);
                Ok(())
            }
            Err(refused) => {
                if self.tasks.unput() {
                    self.all_tasks_done.notify_all(&self.lock);
                }
                Err(refused)
            }
        }
    }

    /// Adds `item` without task tracking: `SimpleQueue::put` (whose core is
    /// unbounded and never shut down, so the store never refuses).
    pub(crate) fn push(&self, item: S::Item) {
        debug_assert_eq!(self.store.maxsize(), 0, "SimpleQueue is unbounded");
        let mut item = item;
        // Loop rather than drop an item, should that ever change.
        while let Err((back, _)) = self.store.try_push(item) {
            item = back;
            yield_now();
        }
        self.not_empty.notify_one_after_store_change(&self.lock);
    }

    /// Removes the next item, waiting for one until `deadline`. Fails with
    /// `ShutDown` only when the queue is shut down and empty.
    pub(crate) fn get(&self, deadline: Deadline) -> Result<S::Item, Refused> {
        let mut backoff = Backoff::for_getter();
        loop {
            match self.try_get() {
                Err(Refused::NotReady) => {}
                done => return done,
            }
            if deadline.remaining() == Some(Duration::ZERO) {
                return Err(Refused::NotReady);
            }
            let ready = || !self.store.is_empty() || self.is_shutdown();
            self.not_empty
                .spin_then_wait(&self.lock, &mut backoff, deadline, ready, ready);
        }
    }

    /// One attempt at `get`, never blocking.
    #[inline]
    fn try_get(&self) -> Result<S::Item, Refused> {
        let item = self.store.try_pop()?;
        // Read after the pop: a putter sleeps only on a bound it read
        // after that, so reading 0 here means none sleeps on this room.
        if self.store.maxsize() != 0 {
            self.not_full.notify_one_after_store_change(&self.lock);
        }
        Ok(item)
    }

    /// [`get`](Self::get), awaiting instead of blocking (the `asyncio`
    /// bridges): the task is woken by the put that makes an item available.
    #[cfg(any(feature = "asyncio", loom))]
    pub(crate) async fn get_async(&self) -> Result<S::Item, Refused> {
        let attempt = || match self.try_get() {
            Err(Refused::NotReady) => None,
            done => Some(done),
        };
        let ready = || !self.store.is_empty() || self.is_shutdown();
        async_wait::wait_for(&self.not_empty, &self.lock, attempt, ready).await
    }

    /// [`put`](Self::put) without a deadline, awaiting room instead of
    /// blocking. If the future is dropped before it returns, so is the item.
    #[cfg(any(feature = "asyncio", loom))]
    pub(crate) async fn put_async(&self, item: S::Item) -> Result<(), (S::Item, Refused)> {
        let mut item = Some(item);
        let attempt = || match self.try_put(item.take()?) {
            Err((back, Refused::NotReady)) => {
                item = Some(back);
                None
            }
            done => Some(done),
        };
        let ready = || self.has_room() || self.is_shutdown();
        async_wait::wait_for(&self.not_full, &self.lock, attempt, ready).await
    }

    /// Marks one unfinished task done, releasing joiners at zero.
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        if self.tasks.done()? {
            self.all_tasks_done.notify_all(&self.lock);
        }
        Ok(())
    }

    /// Waits until every task is done or `deadline` passes; returns whether
    /// every task was done.
    pub(crate) fn join(&self, deadline: Deadline) -> bool {
        let done = || self.tasks.all_done();
        done() || self.all_tasks_done.wait(&self.lock, deadline, done)
    }

    /// Shuts the queue down (CPython 3.13's `shutdown`). With `immediate`,
    /// removes every pending item, marks it done and returns it so that the
    /// caller drops it outside every lock.
    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<S::Item> {
        self.store.close();
        // Wakes everyone even if a pop below panics (a `PriorityQueue`
        // item's `Ord`): the items popped until then are counted done, the
        // others stay queued for `get`, and nobody sleeps through it.
        let _wake = WakeAll(self);
        let mut removed = Vec::new();
        if immediate {
            while let Ok(item) = self.store.try_pop() {
                removed.push(item);
                // Mark the dropped items done, never going below zero
                // (CPython does the same; a surplus task_done may have
                // counted them).
                self.tasks.done_many(1);
            }
        }
        removed
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.store.is_closed()
    }

    pub(crate) fn qsize(&self) -> usize {
        self.store.len()
    }

    pub(crate) fn full(&self) -> bool {
        !self.has_room()
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.store.maxsize()
    }

    /// Changes the bound (Python's `q.maxsize = n`) and wakes every blocked
    /// putter to check it again: if it grew, they may now proceed.
    pub(crate) fn set_maxsize(&self, maxsize: usize) {
        self.store.set_maxsize(maxsize);
        self.not_full.notify_all(&self.lock);
    }

    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.tasks.unfinished()
    }

    /// Fills a `Debug` struct with a snapshot of the queue's counters.
    pub(crate) fn fmt_fields(&self, mut out: fmt::DebugStruct<'_, '_>) -> fmt::Result {
        out.field("qsize", &self.qsize())
            .field("maxsize", &self.maxsize())
            .field("unfinished_tasks", &self.unfinished_tasks())
            .field("is_shutdown", &self.is_shutdown())
            .finish()
    }
}
