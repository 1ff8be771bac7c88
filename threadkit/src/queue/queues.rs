//! [`Queue`]: CPython's `Queue` semantics over a thread-safe store, with a
//! blocking face for threads and an async face for tasks on one object.
//!
//! CPython takes one mutex for every operation. Here the store is itself
//! thread-safe (lock-free for FIFO) and carries the shutdown flag and the
//! bound, so a `put` or `get` that can proceed touches only the store, the
//! way crossbeam-channel works. The three conditions (`not_empty`,
//! `not_full`, `all_tasks_done`) are each a [`Monitor`], the crate's one
//! waiting core: its lock and its list of waiters (parked threads and task
//! wakers alike, first come first served) are touched only by whoever must
//! wait and by whoever wakes them.
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
//! The queue's own atomics use SeqCst; the store guarantees that a push
//! happens-before the pop that returns the item.
//!
//! - *No lost wake-up.* Every sleep, a thread's or a task's, goes through a
//!   [`Monitor`]: the sleeper registers, fences, checks; the waker changes
//!   the state (pushes, pops, closes, counts), then reads whether anybody is
//!   listed. A `shutdown` or `task_done` fences in between
//!   ([`Monitor::notify_all`]); a push or a pop relies on the store's own
//!   SeqCst read-modify-write instead ([`Monitor::notify_one_after_rmw`],
//!   the store's ordering contract), because a fence there cost as much as
//!   the rest of a put.
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
//! - *Locks.* An async attempt runs under its monitor's lock (that is what
//!   makes it cancel safe), so it never takes another monitor's lock but
//!   `all_tasks_done`'s, which nobody holds while taking another: the
//!   wake-up a successful async push or pop owes the other side is sent
//!   after the lock is released.
//!
//! # What is not atomic as a whole
//!
//! `qsize`, `empty` and `full` read the store without a lock: snapshots, as
//! the Python docs warn. A `task_done` called *too many times* may go
//! unreported in a narrow window, or let a concurrent `join` return early
//! (see [`Tasks`]); it is a caller bug either way, and the count never wraps.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::backoff::{Backoff, yield_now};
use super::error::{GetError, PutError, ShutDown, TaskDoneError};
use super::order::{Fifo, Order, sealed::Sealed};
use super::store::{Refused, Store};
use super::tasks::Tasks;
use crate::util::Deadline;
use crate::util::monitor::{Monitor, WaitList};

impl From<Refused> for GetError {
    fn from(why: Refused) -> Self {
        match why {
            Refused::NotReady => GetError::Empty,
            Refused::ShutDown => GetError::ShutDown,
        }
    }
}

/// A queue for many producers and consumers, threads and tasks alike, with
/// task tracking and shutdown: Python's `queue.Queue` (first in, first out),
/// or with `S` = [`Lifo`](super::Lifo) or [`Priority`](super::Priority) the
/// queue behind [`LifoQueue`](super::LifoQueue) and
/// [`PriorityQueue`](super::PriorityQueue).
///
/// Every blocking method has an async twin on the same object
/// ([`get_async`](Queue::get_async), [`put_async`](Queue::put_async),
/// [`join_async`](Queue::join_async)) that waits in the same line as the
/// threads, so threads and tasks can share one queue. No runtime is needed:
/// any executor can poll them.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::queue::Queue;
///
/// let q = Arc::new(Queue::new(2)); // at most two items at a time
/// let producer = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || {
///         for n in 0..5 {
///             q.put(n).unwrap(); // blocks while full
///         }
///     })
/// };
/// let got: Vec<i32> = (0..5).map(|_| q.get().unwrap()).collect();
/// producer.join().unwrap();
/// assert_eq!(got, [0, 1, 2, 3, 4]);
/// ```
///
/// A task takes what a thread puts, with no thread blocked on its behalf:
///
/// ```
/// use std::sync::Arc;
/// use threadkit::queue::Queue;
///
/// let q = Arc::new(Queue::new(0));
/// let producer = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || (0..5).for_each(|n| q.put(n).unwrap()))
/// };
/// // Any executor will do; this one blocks the calling thread.
/// let sum: i32 = (0..5).map(|_| block_on(q.get_async()).unwrap()).sum();
/// producer.join().unwrap();
/// assert_eq!(sum, 10);
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     struct Unpark(std::thread::Thread);
/// #     impl Wake for Unpark {
/// #         fn wake(self: Arc<Self>) { self.0.unpark() }
/// #     }
/// #     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
/// #     let mut f = std::pin::pin!(f);
/// #     loop {
/// #         if let Poll::Ready(out) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
/// #             return out;
/// #         }
/// #         std::thread::park();
/// #     }
/// # }
/// ```
///
/// # Cancel safety
///
/// [`get_async`](Queue::get_async) and [`join_async`](Queue::join_async)
/// are cancel safe: an item is only taken in the poll that returns it, and
/// a wake-up that reached a cancelled waiter passes to the next one in line.
/// [`put_async`](Queue::put_async) adds its item only in the poll that
/// returns; cancelled before, it drops the item with the future.
///
/// # Differences from Python's `queue.Queue`
///
/// - `put(item, block, timeout)` and `get(block, timeout)` are method
///   families: `put`/`try_put`/`put_timeout`/`put_deadline` and
///   `get`/`try_get`/`get_timeout`/`get_deadline`. Negative timeouts (Python's
///   `ValueError`) cannot be written.
/// - `queue.Full`, `queue.Empty` and `queue.ShutDown` are error values; a
///   failed put hands the item back. `task_done()` called too often returns
///   [`TaskDoneError`] instead of raising `ValueError`.
/// - `maxsize`, `unfinished_tasks` and `is_shutdown` are methods;
///   `q.maxsize = n` is [`set_maxsize`](Queue::set_maxsize), which also
///   wakes blocked putters to check the new bound.
/// - [`join_timeout`](Queue::join_timeout),
///   [`shutdown_drain`](Queue::shutdown_drain) and the async methods are
///   extras (Python's `asyncio.Queue` is a separate class; threadkit's
///   `asyncio::Queue` is a thin facade over this one).
pub struct Queue<T, S: Order<T> = Fifo> {
    /// Holds the bound too (0 = unbounded), which may change.
    store: <S as Sealed<T>>::Store,
    /// Items put and not yet marked done (CPython's `unfinished_tasks`).
    tasks: Tasks,
    not_empty: Monitor<WaitList>,
    not_full: Monitor<WaitList>,
    all_tasks_done: Monitor<WaitList>,
}

/// Takes back the task counted for a put whose push panicked.
struct UnputOnUnwind<'a, T, S: Order<T>>(&'a Queue<T, S>);

impl<T, S: Order<T>> Drop for UnputOnUnwind<'_, T, S> {
    fn drop(&mut self) {
        self.0.unput();
    }
}

/// Wakes every waiter of a queue when dropped: the end of `shutdown`.
struct WakeAll<'a, T, S: Order<T>>(&'a Queue<T, S>);

impl<T, S: Order<T>> Drop for WakeAll<'_, T, S> {
    fn drop(&mut self) {
        let q = self.0;
        q.all_tasks_done.notify_all();
        q.not_empty.notify_all();
        q.not_full.notify_all();
    }
}

impl<T> Queue<T> {
    /// An empty first-in, first-out queue holding at most `maxsize` items;
    /// `0` means unbounded: Python's `Queue(maxsize=0)`.
    pub fn new(maxsize: usize) -> Self {
        Queue::with_order(maxsize)
    }
}

impl<T, S: Order<T>> Queue<T, S> {
    /// An empty queue of ordering `S` holding at most `maxsize` items; `0`
    /// means unbounded. `Queue::<T, Lifo>::with_order(n)` is
    /// `LifoQueue::new(n)` without the name.
    pub fn with_order(maxsize: usize) -> Self {
        Queue {
            store: <S as Sealed<T>>::Store::with_maxsize(maxsize),
            tasks: Tasks::default(),
            not_empty: Monitor::new(WaitList::default()),
            not_full: Monitor::new(WaitList::default()),
            all_tasks_done: Monitor::new(WaitList::default()),
        }
    }

    /// Puts `item`, blocking while the queue is full: Python's `put(item)`.
    ///
    /// # Errors
    ///
    /// [`ShutDown`] with the item handed back if the queue is (or gets)
    /// shut down before there is room.
    pub fn put(&self, item: T) -> Result<(), ShutDown<T>> {
        // An untimed wait only ends with room or shutdown.
        self.put_until(item, Deadline::Never)
            .map_err(|(item, _)| ShutDown(item))
    }

    /// Puts `item` only if there is room now: Python's `put_nowait(item)`
    /// or `put(item, block=False)`.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] or [`PutError::ShutDown`], with the item.
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_until(item, Deadline::Now)
            .map_err(|(item, why)| match why {
                Refused::NotReady => PutError::Full(item),
                Refused::ShutDown => PutError::ShutDown(item),
            })
    }

    /// Puts `item`, waiting at most `timeout` for room: Python's
    /// `put(item, timeout=t)`. A zero timeout behaves like
    /// [`try_put`](Self::try_put).
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] or [`PutError::ShutDown`], with
    /// the item.
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_timed(item, Deadline::after(timeout))
    }

    /// Puts `item`, waiting for room until `deadline` at the latest.
    ///
    /// # Errors
    ///
    /// As [`put_timeout`](Self::put_timeout).
    pub fn put_deadline(&self, item: T, deadline: Instant) -> Result<(), PutError<T>> {
        self.put_timed(item, Deadline::At(deadline))
    }

    fn put_timed(&self, item: T, deadline: Deadline) -> Result<(), PutError<T>> {
        self.put_until(item, deadline)
            .map_err(|(item, why)| match why {
                Refused::NotReady => PutError::Full(item),
                Refused::ShutDown => PutError::ShutDown(item),
            })
    }

    /// Puts `item`, awaiting room instead of blocking: `await q.put(item)`
    /// of Python's `asyncio.Queue`, on this queue. It waits in the same line
    /// as the threads blocked in [`put`](Self::put).
    ///
    /// # Errors
    ///
    /// [`ShutDown`] with the item handed back if the queue is (or gets)
    /// shut down before there is room.
    ///
    /// # Cancel safety
    ///
    /// The item is added only in the poll that returns `Ok`; if the future
    /// is dropped before, the item is dropped with it and the queue is
    /// unchanged (a wake-up it had received passes to the next putter).
    pub async fn put_async(&self, item: T) -> Result<(), ShutDown<T>> {
        // The common case first, without the monitor's lock.
        let item = match self.push(item) {
            Ok(()) => return Ok(()),
            Err((item, Refused::ShutDown)) => return Err(ShutDown(item)),
            Err((item, Refused::NotReady)) => item,
        };
        let mut item = Some(item);
        let pushed = self
            .not_full
            .until_tried(|_woken| {
                loop {
                    match self.push_quietly(item.take()?) {
                        Err((back, Refused::NotReady)) => {
                            item = Some(back);
                            if !self.has_room() {
                                return None;
                            }
                            // Full with room: a get is still freeing its
                            // slot, a few instructions away.
                            yield_now();
                        }
                        done => return Some(done),
                    }
                }
            })
            .await;
        match pushed {
            Ok(()) => {
                // After the monitor's lock is released (see "Locks").
                self.not_empty.notify_one_after_rmw();
                Ok(())
            }
            Err((item, _)) => Err(ShutDown(item)),
        }
    }

    /// Adds `item`, waiting for room until `deadline`; counts it as an
    /// unfinished task. Hands the item back on failure.
    fn put_until(&self, item: T, deadline: Deadline) -> Result<(), (T, Refused)> {
        let mut item = item;
        let mut backoff = Backoff::default();
        loop {
            item = match self.push(item) {
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
            if backoff.spin_until(ready) {
                continue;
            }
            // Released on return: the condition is read without the lock.
            self.not_full
                .wait_lock_free(self.not_full.lock(), deadline, ready);
        }
    }

    /// One attempt at a put, never blocking; wakes a getter on success.
    #[inline]
    fn push(&self, item: T) -> Result<(), (T, Refused)> {
        let pushed = self.push_quietly(item);
        if pushed.is_ok() {
            self.not_empty.notify_one_after_rmw();
        }
        pushed
    }

    /// One attempt at a put, counting its task, without waking a getter:
    /// the caller must call `not_empty.notify_one_after_rmw()` after a
    /// success. A failed push takes its task back (waking joiners).
    #[inline]
    fn push_quietly(&self, item: T) -> Result<(), (T, Refused)> {
        self.tasks.put();
        // If the push panics (a `PriorityQueue` item's `Ord`), the item was
        // not stored: the guard takes its task back as the panic unwinds.
        let unput = UnputOnUnwind(self);
        let pushed = self.store.try_push(item);
        std::mem::forget(unput);
        if pushed.is_err() {
            self.unput();
        }
        pushed
    }

    /// Takes back the task of a put whose item was not stored.
    fn unput(&self) {
        if self.tasks.unput() {
            self.all_tasks_done.notify_all();
        }
    }

    /// Adds `item` without task tracking: `SimpleQueue::put` (whose queue is
    /// unbounded and never shut down, so the store never refuses).
    pub(super) fn push_untracked(&self, item: T) {
        debug_assert_eq!(self.store.maxsize(), 0, "SimpleQueue is unbounded");
        let mut item = item;
        // Loop rather than drop an item, should that ever change.
        while let Err((back, _)) = self.store.try_push(item) {
            item = back;
            yield_now();
        }
        self.not_empty.notify_one_after_rmw();
    }

    /// Removes and returns the next item, blocking while the queue is
    /// empty: Python's `get()`.
    ///
    /// # Errors
    ///
    /// [`ShutDown`] once the queue is shut down *and* empty; items put
    /// before a non-immediate shutdown are still returned first.
    pub fn get(&self) -> Result<T, ShutDown> {
        // An untimed wait only ends with an item or shutdown.
        self.get_until(Deadline::Never).map_err(|_| ShutDown(()))
    }

    /// Removes and returns the next item only if there is one now:
    /// Python's `get_nowait()` or `get(block=False)`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], or [`GetError::ShutDown`] when shut down
    /// and empty.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, GetError> {
        self.get_until(Deadline::Now).map_err(GetError::from)
    }

    /// Removes and returns the next item, waiting at most `timeout` for
    /// one: Python's `get(timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], or [`GetError::ShutDown`] when
    /// shut down and empty.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_until(Deadline::after(timeout))
            .map_err(GetError::from)
    }

    /// Removes and returns the next item, waiting until `deadline` at the
    /// latest.
    ///
    /// # Errors
    ///
    /// As [`get_timeout`](Self::get_timeout).
    pub fn get_deadline(&self, deadline: Instant) -> Result<T, GetError> {
        self.get_until(Deadline::At(deadline))
            .map_err(GetError::from)
    }

    /// Removes and returns the next item, awaiting one instead of blocking:
    /// `await q.get()` of Python's `asyncio.Queue`, on this queue. It waits
    /// in the same line as the threads blocked in [`get`](Self::get).
    ///
    /// # Errors
    ///
    /// [`ShutDown`] once the queue is shut down *and* empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an item is only taken in the poll that returns it, and
    /// a wake-up received by a cancelled getter passes to the next one.
    pub fn get_async(&self) -> impl Future<Output = Result<T, ShutDown>> + '_ {
        // The first poll tries without the monitor's lock (the common case),
        // and only then waits in line.
        let wait = self.not_empty.until_free(move |woken| {
            loop {
                // Not woken: an empty store is told without the fence of a
                // failing pop (once registered, that check is ordered with
                // every push: see `until_free`). Woken: a put was made for
                // this task, the pop most likely succeeds.
                if !woken && self.store.looks_empty() && !self.store.is_closed() {
                    return None;
                }
                match self.store.try_pop() {
                    Err(Refused::NotReady) if self.store.is_empty() => return None,
                    // Not empty, yet nothing to pop: a put is still filling
                    // its slot, a few instructions away.
                    Err(Refused::NotReady) => yield_now(),
                    done => return Some(done),
                }
            }
        });
        Get { queue: self, wait }
    }

    /// Removes the next item, waiting for one until `deadline`. Fails with
    /// `ShutDown` only when the queue is shut down and empty.
    fn get_until(&self, deadline: Deadline) -> Result<T, Refused> {
        let mut backoff = Backoff::for_getter();
        // A green getter's peers run only once it suspends, so an open store
        // that looks empty stays so: it goes to its wait without the failing
        // pop, whose fence costs a green wait as much as the rest of its
        // checks (a thread's failing pop costs less than the look).
        let mut glance = Backoff::parks_at_once();
        loop {
            let skip = glance && self.store.looks_empty() && !self.store.is_closed();
            glance = false;
            if !skip {
                match self.pop() {
                    Err(Refused::NotReady) => {}
                    done => return done,
                }
            }
            if deadline.remaining() == Some(Duration::ZERO) {
                return Err(Refused::NotReady);
            }
            let ready = || !self.store.is_empty() || self.is_shutdown();
            if backoff.spin_until(ready) {
                continue;
            }
            // Released on return: the condition is read without the lock.
            self.not_empty
                .wait_lock_free(self.not_empty.lock(), deadline, ready);
        }
    }

    /// One attempt at a get, never blocking; wakes a putter on success.
    #[inline]
    fn pop(&self) -> Result<T, Refused> {
        let item = self.store.try_pop()?;
        self.popped();
        Ok(item)
    }

    /// Wakes a putter waiting for the room a pop just made.
    #[inline]
    fn popped(&self) {
        // Read after the pop: a putter sleeps only on a bound it read
        // after that, so reading 0 here means none sleeps on this room.
        if self.store.maxsize() != 0 {
            self.not_full.notify_one_after_rmw();
        }
    }

    fn has_room(&self) -> bool {
        let maxsize = self.store.maxsize();
        maxsize == 0 || self.store.len() < maxsize
    }

    /// The number of items in the queue now: Python's `qsize()`. Only a
    /// snapshot: other threads may change it at once.
    pub fn qsize(&self) -> usize {
        self.store.len()
    }

    /// Whether the queue holds no item now: Python's `empty()`.
    pub fn empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Whether the queue is bounded and holds `maxsize` items now:
    /// Python's `full()`.
    pub fn full(&self) -> bool {
        !self.has_room()
    }

    /// The bound now; `0` means unbounded: Python's `maxsize`.
    pub fn maxsize(&self) -> usize {
        self.store.maxsize()
    }

    /// Changes the bound; `0` means unbounded: Python's `q.maxsize = n`.
    ///
    /// Items beyond a smaller bound stay queued; puts wait until there is
    /// room under the new bound. Unlike Python, threads and tasks blocked in
    /// a put are woken to check the new bound, so a larger bound lets them
    /// in at once. A put racing with the change may be checked against
    /// either bound, as in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.put(1).unwrap();
    /// assert!(q.try_put(2).is_err()); // full
    /// q.set_maxsize(2);
    /// assert!(q.try_put(2).is_ok());
    /// assert_eq!(q.maxsize(), 2);
    /// ```
    pub fn set_maxsize(&self, maxsize: usize) {
        self.store.set_maxsize(maxsize);
        self.not_full.notify_all();
    }

    /// Marks one item taken by a `get` as processed: Python's
    /// `task_done()`. When every item ever put has been marked done,
    /// [`join`](Self::join) returns.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put
    /// (Python's `ValueError`); the count is left at zero.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        if self.tasks.done()? {
            self.all_tasks_done.notify_all();
        }
        Ok(())
    }

    /// Blocks until every item put has been marked done with
    /// [`task_done`](Self::task_done): Python's `join()`. Shutting down
    /// with `immediate = true` marks the dropped items done.
    pub fn join(&self) {
        self.join_until(Deadline::Never);
    }

    /// Like [`join`](Self::join) but gives up after `timeout`; returns
    /// whether every task was done. A Rust extra: Python's `join` has no
    /// timeout.
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.join_until(Deadline::after(timeout))
    }

    fn join_until(&self, deadline: Deadline) -> bool {
        let done = || self.tasks.all_done();
        if done() {
            return true;
        }
        let mut waiters = self.all_tasks_done.lock();
        self.all_tasks_done
            .wait_until(&mut waiters, deadline, |_| done())
    }

    /// Awaits, instead of blocking, until every item put has been marked
    /// done: `await q.join()` of Python's `asyncio.Queue`, on this queue.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn join_async(&self) {
        self.all_tasks_done
            .until(|_| self.tasks.all_done().then_some(()))
            .await;
    }

    /// The number of items put and not yet marked done: Python's
    /// `unfinished_tasks` attribute.
    pub fn unfinished_tasks(&self) -> usize {
        self.tasks.unfinished()
    }

    /// Shuts the queue down: Python 3.13's `shutdown(immediate)`.
    ///
    /// Afterwards every `put` fails with the item handed back; `get`s
    /// return the remaining items and then fail with `ShutDown`. Threads
    /// and tasks blocked in a put, or in a get on an empty queue, wake up
    /// and fail. With `immediate`, the remaining items are dropped at once
    /// (outside every lock) and marked done, so joiners are released.
    /// Calling it again is allowed (e.g. `false`, then `true`).
    pub fn shutdown(&self, immediate: bool) {
        drop(self.close(immediate));
    }

    /// Shuts the queue down like `shutdown(true)`, but returns the pending
    /// items (in `get` order) instead of dropping them. They are marked
    /// done, as with `shutdown(true)`. A Rust extra.
    #[must_use = "the returned items are the queue's pending items"]
    pub fn shutdown_drain(&self) -> Vec<T> {
        self.close(true)
    }

    /// Closes the store; with `immediate`, removes every pending item,
    /// marks it done and returns it so that the caller drops it outside
    /// every lock.
    fn close(&self, immediate: bool) -> Vec<T> {
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

    /// Whether [`shutdown`](Self::shutdown) was called: Python's
    /// `is_shutdown` attribute.
    pub fn is_shutdown(&self) -> bool {
        self.store.is_closed()
    }

    /// Writes the `Debug` form of the queue under `name`.
    pub(crate) fn fmt_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("qsize", &self.qsize())
            .field("maxsize", &self.maxsize())
            .field("unfinished_tasks", &self.unfinished_tasks())
            .field("is_shutdown", &self.is_shutdown())
            .finish()
    }
}

/// The future of [`Queue::get_async`]: the wait for an item, then the
/// wake-up a pop owes a putter, sent once the monitor's lock is released
/// (see "Locks").
#[must_use = "futures do nothing unless awaited"]
struct Get<'a, T, S: Order<T>, W> {
    queue: &'a Queue<T, S>,
    wait: W,
}

impl<T, S, W> Future for Get<'_, T, S, W>
where
    S: Order<T>,
    W: Future<Output = Result<T, Refused>> + Unpin,
{
    type Output = Result<T, ShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let popped = std::task::ready!(Pin::new(&mut this.wait).poll(cx));
        Poll::Ready(
            popped
                .inspect(|_| this.queue.popped())
                .map_err(|_| ShutDown(())),
        )
    }
}

impl<T> Default for Queue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        Queue::new(0)
    }
}

impl<T, S: Order<T>> fmt::Debug for Queue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_as("Queue", f)
    }
}
