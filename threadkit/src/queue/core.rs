//! The one core shared by `Queue`, `LifoQueue`, `PriorityQueue` and
//! `SimpleQueue`: CPython's `Queue` semantics, generic over the [`Store`].
//!
//! CPython takes one mutex for every operation. Here the [`Store`] is itself
//! thread-safe (lock-free for FIFO), so a `put` or `get` that can proceed
//! touches only atomics, the way crossbeam-channel works; the mutex and the
//! three conditions (`not_empty`, `not_full`, `all_tasks_done`, each a
//! [`Signal`]) are used only by threads that must sleep and by the threads
//! that wake them.
//!
//! # State
//!
//! - `gate`: the 3.13 shutdown flag (top bit) and the number of puts in
//!   flight, i.e. past the shutdown check and not yet done pushing (low bits).
//!   Written only by producers and `shutdown`, on its own cache line.
//! - `shut`: a copy of the flag, set right after it, for readers (`get`,
//!   `is_shutdown`, the sleepers' conditions), on a line producers do not
//!   write. Whoever sees `shut` also sees the flag in `gate`.
//! - `unfinished_tasks`: CPython's counter, on its own cache line.
//!
//! # Memory ordering
//!
//! All atomics use SeqCst, except inside crossbeam-queue (which uses
//! acquire/release and guarantees that a push happens-before the pop that
//! returns the item).
//!
//! - *No lost wake-up.* Every sleep goes through [`Signal`]: the sleeper
//!   registers, fences, checks; the waker changes the state, fences, reads the
//!   registration. See `Signal` for the argument. A put skips the fence: the
//!   SeqCst RMW that takes it out of `gate` after its push plays that role,
//!   because sleeping getters load `gate` before checking the store (see
//!   `Signal::notify_one_after_rmw`). A get from a bounded queue keeps the
//!   fence (it has no RMW of its own after the pop).
//! - *Task counting.* A put increments `unfinished_tasks` before pushing, so
//!   the consumer's `task_done` (which happens after its pop, hence after the
//!   push) always finds the increment. A push that fails (full) takes the
//!   increment back, waking joiners if that brings the count to zero.
//! - *Shutdown versus put.* A put enters the gate with one RMW that both
//!   counts it in flight and reads the flag; `shutdown` sets the flag with one
//!   RMW. The gate's RMWs are totally ordered: a put that entered before the
//!   flag pushes (or fails) and leaves the gate; one that entered after fails
//!   with its item handed back. `shutdown` then waits until no put is in flight
//!   before draining, and a `get` reports `ShutDown` only when the flag is set
//!   and nothing is in flight and the store is still empty. So: no item is
//!   added after `shutdown` returns; an immediate shutdown drops (or
//!   `shutdown_drain` returns) every item whose put succeeded, except items
//!   that concurrent `get`s took first; and once a `get` reported `ShutDown`,
//!   every later `get` does too. A put racing with `shutdown` either succeeds
//!   (and is linearized before it) or hands its item back.
//!
//! # What is not atomic as a whole
//!
//! `qsize`, `empty` and `full` read the store without a lock: snapshots, as
//! the Python docs warn. A push that fails for a full queue briefly counts a
//! task; a `task_done` called *too many times* in exactly that window may go
//! unreported (it is a caller bug either way; the count never wraps).

use std::fmt;
use std::ops::Deref;

#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use super::error::{GetTimeoutError, TaskDoneError, TryGetError};
use super::signal::{Backoff, Signal, yield_now};
use super::store::Store;
use crate::loom::sync::Mutex;
use crate::util::Deadline;

/// Why the core refused a `put` or `get`; the facades map it onto the error
/// type of each method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Full (put) or empty (get) until the deadline: `Full`/`Empty`/timeout.
    NotReady,
    /// The queue is shut down (and, for a get, empty).
    ShutDown,
}

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

/// The gate's shutdown flag; the bits below count puts in flight.
const SHUT: usize = 1 << (usize::BITS - 1);

/// Keeps a value on its own cache line(s), so that producers and consumers do
/// not invalidate each other's lines (128 bytes: adjacent-line prefetch).
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

impl<T> Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A thread-safe store plus shutdown, task tracking and sleeping: see the
/// module docs.
pub(crate) struct Core<S> {
    store: S,
    /// 0 means unbounded.
    maxsize: usize,
    /// `SHUT` | puts in flight.
    gate: Padded<AtomicUsize>,
    /// A copy of the `SHUT` bit, set after it, for readers: it sits on a line
    /// that producers do not write, so consumers spinning on an empty queue
    /// do not slow producers down.
    shut: AtomicBool,
    /// Items put and not yet marked done (CPython's `unfinished_tasks`).
    unfinished_tasks: Padded<AtomicUsize>,
    /// Held only to sleep on, or to notify, one of the signals.
    lock: Mutex<()>,
    not_empty: Signal,
    not_full: Signal,
    all_tasks_done: Signal,
}

impl<S: Store> Core<S> {
    /// An empty core holding at most `maxsize` items (0 = unbounded).
    pub(crate) fn new(maxsize: usize) -> Self {
        Core {
            store: S::with_maxsize(maxsize),
            maxsize,
            gate: Padded(AtomicUsize::new(0)),
            shut: AtomicBool::new(false),
            unfinished_tasks: Padded(AtomicUsize::new(0)),
            lock: Mutex::new(()),
            not_empty: Signal::default(),
            not_full: Signal::default(),
            all_tasks_done: Signal::default(),
        }
    }

    fn has_room(&self) -> bool {
        self.maxsize == 0 || self.store.len() < self.maxsize
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
            if deadline.remaining() == Some(std::time::Duration::ZERO) {
                return Err((item, Refused::NotReady));
            }
            let ready = || self.is_shutdown() || self.has_room();
            self.not_full
                .spin_then_wait(&self.lock, &mut backoff, deadline, ready, ready);
        }
    }

    /// One attempt at `put`, never blocking.
    #[inline]
    fn try_put(&self, item: S::Item) -> Result<(), (S::Item, Refused)> {
        if self.gate.fetch_add(1, SeqCst) & SHUT != 0 {
            self.gate.fetch_sub(1, SeqCst);
            return Err((item, Refused::ShutDown));
        }
        // Never overflows: every counted item is held in memory or was taken
        // out and not yet marked done.
        self.unfinished_tasks.fetch_add(1, SeqCst);
        let pushed = self.store.try_push(item);
        if pushed.is_err() {
            self.finish_task();
        }
        // This SeqCst RMW also orders the push before the `waiting` load below
        // (see `notify_one_after_rmw`; getters load `gate` before checking).
        self.gate.fetch_sub(1, SeqCst);
        match pushed {
            Ok(()) => {
                self.not_empty.notify_one_after_rmw(&self.lock);
                Ok(())
            }
            Err(item) => Err((item, Refused::NotReady)),
        }
    }

    /// Adds `item` without task tracking or shutdown check: `SimpleQueue::put`
    /// (whose core is unbounded and never shut down).
    pub(crate) fn push(&self, item: S::Item) {
        debug_assert_eq!(self.maxsize, 0, "SimpleQueue is unbounded");
        let mut item = item;
        // An unbounded store never refuses; loop rather than drop an item.
        while let Err(back) = self.store.try_push(item) {
            item = back;
            yield_now();
        }
        self.not_empty.notify_one(&self.lock);
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
            if deadline.remaining() == Some(std::time::Duration::ZERO) {
                return Err(Refused::NotReady);
            }
            let looks_ready = || self.is_shutdown() || !self.store.is_empty();
            self.not_empty
                .spin_then_wait(&self.lock, &mut backoff, deadline, looks_ready, || {
                    // Pairs with the gate RMW ending every put; see `try_put`.
                    self.gate.load(SeqCst);
                    looks_ready()
                });
        }
    }

    /// One attempt at `get`, never blocking (except to let a put that is in
    /// flight during shutdown finish).
    #[inline]
    fn try_get(&self) -> Result<S::Item, Refused> {
        loop {
            if let Some(item) = self.store.try_pop() {
                if self.maxsize != 0 {
                    self.not_full.notify_one(&self.lock);
                }
                return Ok(item);
            }
            if !self.is_shutdown() {
                return Err(Refused::NotReady);
            }
            if self.gate.load(SeqCst) == SHUT {
                // Shut down with no put in flight: nothing can be added any
                // more, so one last look decides.
                return self.store.try_pop().ok_or(Refused::ShutDown);
            }
            yield_now();
        }
    }

    /// Marks one unfinished task done, releasing joiners at zero.
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let previous = self
            .unfinished_tasks
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .map_err(|_| TaskDoneError)?;
        if previous == 1 {
            self.all_tasks_done.notify_all(&self.lock);
        }
        Ok(())
    }

    /// Takes back the task counted by a put whose push failed.
    fn finish_task(&self) {
        // An error means a surplus `task_done` racing with this put already
        // took the count down (see the module docs); nothing to undo.
        let _ = self.task_done();
    }

    /// Waits until every task is done or `deadline` passes; returns whether
    /// every task was done.
    pub(crate) fn join(&self, deadline: Deadline) -> bool {
        let done = || self.unfinished_tasks.load(SeqCst) == 0;
        done() || self.all_tasks_done.wait(&self.lock, deadline, done)
    }

    /// Shuts the queue down (CPython 3.13's `shutdown`). With `immediate`,
    /// removes every pending item, marks it done and returns it so that the
    /// caller drops it outside every lock.
    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<S::Item> {
        self.gate.fetch_or(SHUT, SeqCst);
        self.shut.store(true, SeqCst);
        // Puts in flight finish pushing (or fail) in a few instructions;
        // none can enter any more.
        while self.gate.load(SeqCst) != SHUT {
            yield_now();
        }
        let mut removed = Vec::new();
        if immediate {
            self.store.drain_into(&mut removed);
            // Mark the dropped items done, never going below zero (CPython
            // does the same; a surplus task_done may have counted them).
            let dropped = removed.len();
            let _ = self
                .unfinished_tasks
                .fetch_update(SeqCst, SeqCst, |n| Some(n.saturating_sub(dropped)));
            self.all_tasks_done.notify_all(&self.lock);
        }
        self.not_empty.notify_all(&self.lock);
        self.not_full.notify_all(&self.lock);
        removed
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shut.load(SeqCst)
    }

    pub(crate) fn qsize(&self) -> usize {
        self.store.len()
    }

    pub(crate) fn full(&self) -> bool {
        !self.has_room()
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.unfinished_tasks.load(SeqCst)
    }

    /// Fills a `Debug` struct with a snapshot of the queue's counters.
    pub(crate) fn fmt_fields(&self, mut out: fmt::DebugStruct<'_, '_>) -> fmt::Result {
        out.field("qsize", &self.qsize())
            .field("maxsize", &self.maxsize)
            .field("unfinished_tasks", &self.unfinished_tasks())
            .field("is_shutdown", &self.is_shutdown())
            .finish()
    }
}
