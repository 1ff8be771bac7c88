//! The method set shared by `Queue`, `LifoQueue` and `PriorityQueue`, written
//! once as a macro over their common `core` field (the pattern of
//! `threading::semaphore`).

/// Expands to the public methods of a task-tracking queue whose `core` field is
/// a [`Core`](super::core::Core).
macro_rules! queue_methods {
    ($name:ident) => {
        /// An empty queue holding at most `maxsize` items; `0` means
        /// unbounded: Python's `Queue(maxsize=0)`.
        pub fn new(maxsize: usize) -> Self {
            Self {
                core: $crate::queue::core::Core::new(maxsize),
            }
        }

        /// Puts `item`, blocking while the queue is full: Python's `put(item)`.
        ///
        /// # Errors
        ///
        /// [`ShutDown`] with the item handed back if the queue is (or gets)
        /// shut down before there is room.
        pub fn put(&self, item: T) -> Result<(), ShutDown<T>> {
            match self.core.put(item, Deadline::Never) {
                Ok(()) => Ok(()),
                // An untimed wait only ends with room or shutdown.
                Err((item, _)) => Err(ShutDown(item)),
            }
        }

        /// Puts `item` only if there is room now: Python's `put_nowait(item)`
        /// or `put(item, block=False)`.
        ///
        /// # Errors
        ///
        /// [`TryPutError::Full`] or [`TryPutError::ShutDown`], with the item.
        #[doc(alias = "put_nowait")]
        pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
            self.core
                .put(item, Deadline::Now)
                .map_err(|(item, why)| match why {
                    Refused::NotReady => TryPutError::Full(item),
                    Refused::ShutDown => TryPutError::ShutDown(item),
                })
        }

        /// Puts `item`, waiting at most `timeout` for room: Python's
        /// `put(item, timeout=t)`. A zero timeout behaves like
        /// [`try_put`](Self::try_put).
        ///
        /// # Errors
        ///
        /// [`PutTimeoutError::Timeout`] or [`PutTimeoutError::ShutDown`],
        /// with the item.
        pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutTimeoutError<T>> {
            self.put_until(item, Deadline::after(timeout))
        }

        /// Puts `item`, waiting for room until `deadline` at the latest.
        ///
        /// # Errors
        ///
        /// As [`put_timeout`](Self::put_timeout).
        pub fn put_deadline(&self, item: T, deadline: Instant) -> Result<(), PutTimeoutError<T>> {
            self.put_until(item, Deadline::At(deadline))
        }

        fn put_until(&self, item: T, deadline: Deadline) -> Result<(), PutTimeoutError<T>> {
            self.core
                .put(item, deadline)
                .map_err(|(item, why)| match why {
                    Refused::NotReady => PutTimeoutError::Timeout(item),
                    Refused::ShutDown => PutTimeoutError::ShutDown(item),
                })
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
            self.core.get(Deadline::Never).map_err(|_| ShutDown(()))
        }

        /// Removes and returns the next item only if there is one now:
        /// Python's `get_nowait()` or `get(block=False)`.
        ///
        /// # Errors
        ///
        /// [`TryGetError::Empty`], or [`TryGetError::ShutDown`] when shut down
        /// and empty.
        #[doc(alias = "get_nowait")]
        pub fn try_get(&self) -> Result<T, TryGetError> {
            self.core.get(Deadline::Now).map_err(TryGetError::from)
        }

        /// Removes and returns the next item, waiting at most `timeout` for
        /// one: Python's `get(timeout=t)`.
        ///
        /// # Errors
        ///
        /// [`GetTimeoutError::Timeout`], or [`GetTimeoutError::ShutDown`]
        /// when shut down and empty.
        pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
            self.get_until(Deadline::after(timeout))
        }

        /// Removes and returns the next item, waiting until `deadline` at the
        /// latest.
        ///
        /// # Errors
        ///
        /// As [`get_timeout`](Self::get_timeout).
        pub fn get_deadline(&self, deadline: Instant) -> Result<T, GetTimeoutError> {
            self.get_until(Deadline::At(deadline))
        }

        fn get_until(&self, deadline: Deadline) -> Result<T, GetTimeoutError> {
            self.core.get(deadline).map_err(GetTimeoutError::from)
        }

        /// The number of items in the queue now: Python's `qsize()`. Only a
        /// snapshot: other threads may change it at once.
        pub fn qsize(&self) -> usize {
            self.core.qsize()
        }

        /// Whether the queue holds no item now: Python's `empty()`.
        pub fn empty(&self) -> bool {
            self.core.qsize() == 0
        }

        /// Whether the queue is bounded and holds `maxsize` items now:
        /// Python's `full()`.
        pub fn full(&self) -> bool {
            self.core.full()
        }

        /// The bound now; `0` means unbounded: Python's `maxsize`.
        pub fn maxsize(&self) -> usize {
            self.core.maxsize()
        }

        /// Changes the bound; `0` means unbounded: Python's `q.maxsize = n`.
        ///
        /// Items beyond a smaller bound stay queued; puts wait until there is
        /// room under the new bound. Unlike Python, threads blocked in `put`
        /// are woken to check the new bound, so a larger bound lets them in
        /// at once. A put racing with the change may be checked against
        /// either bound, as in Python.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use threadkit::queue::", stringify!($name), ";")]
        ///
        #[doc = concat!("let q = ", stringify!($name), "::new(1);")]
        /// q.put(1).unwrap();
        /// assert!(q.try_put(2).is_err()); // full
        /// q.set_maxsize(2);
        /// assert!(q.try_put(2).is_ok());
        /// assert_eq!(q.maxsize(), 2);
        /// ```
        pub fn set_maxsize(&self, maxsize: usize) {
            self.core.set_maxsize(maxsize);
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
            self.core.task_done()
        }

        /// Blocks until every item put has been marked done with
        /// [`task_done`](Self::task_done): Python's `join()`. Shutting down
        /// with `immediate = true` marks the dropped items done.
        pub fn join(&self) {
            while !self.core.join(Deadline::Never) {}
        }

        /// Like [`join`](Self::join) but gives up after `timeout`; returns
        /// whether every task was done. A Rust extra: Python's `join` has no
        /// timeout.
        pub fn join_timeout(&self, timeout: Duration) -> bool {
            self.core.join(Deadline::after(timeout))
        }

        /// The number of items put and not yet marked done: Python's
        /// `unfinished_tasks` attribute.
        pub fn unfinished_tasks(&self) -> usize {
            self.core.unfinished_tasks()
        }

        /// Shuts the queue down: Python 3.13's `shutdown(immediate)`.
        ///
        /// Afterwards every `put` fails with the item handed back; `get`s
        /// return the remaining items and then fail with `ShutDown`. Threads
        /// blocked in `put` or in `get` on an empty queue wake up and fail.
        /// With `immediate`, the remaining items are dropped at once (after
        /// the lock is released) and marked done, so joiners are released.
        /// Calling it again is allowed (e.g. `false`, then `true`).
        pub fn shutdown(&self, immediate: bool) {
            drop(self.core.shutdown(immediate));
        }

        /// Shuts the queue down like `shutdown(true)`, but returns the pending
        /// items (in `get` order) instead of dropping them. They are marked
        /// done, as with `shutdown(true)`. A Rust extra.
        #[must_use = "the returned items are the queue's pending items"]
        pub fn shutdown_drain(&self) -> Vec<T> {
            self.core.shutdown(true)
        }

        /// [`get`](Self::get) for async code: awaits an item instead of
        /// blocking (see `asyncio::bridge::queue_get`).
        #[cfg(any(feature = "asyncio", loom))]
        #[allow(dead_code)] // Only `Queue`'s is bridged.
        pub(crate) async fn get_async(&self) -> Result<T, ShutDown> {
            self.core.get_async().await.map_err(|_| ShutDown(()))
        }

        /// [`put`](Self::put) for async code: awaits room instead of
        /// blocking (see `asyncio::bridge::queue_put`).
        #[cfg(any(feature = "asyncio", loom))]
        #[allow(dead_code)] // Only `Queue`'s is bridged.
        pub(crate) async fn put_async(&self, item: T) -> Result<(), ShutDown<T>> {
            self.core
                .put_async(item)
                .await
                .map_err(|(item, _)| ShutDown(item))
        }

        /// Whether [`shutdown`](Self::shutdown) was called: Python's
        /// `is_shutdown` attribute.
        pub fn is_shutdown(&self) -> bool {
            self.core.is_shutdown()
        }
    };
}

pub(crate) use queue_methods;
