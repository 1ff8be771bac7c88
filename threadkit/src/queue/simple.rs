//! `SimpleQueue`: Python's unbounded FIFO queue without task tracking.

use std::fmt;
use std::time::{Duration, Instant};

use super::Queue;
use super::error::GetError;

/// An unbounded first-in, first-out queue without task tracking or shutdown:
/// Python's `queue.SimpleQueue`.
///
/// `put` never blocks and never fails. Use it when nobody needs `join`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::queue::SimpleQueue;
///
/// let q = Arc::new(SimpleQueue::new());
/// let workers: Vec<_> = (0..4)
///     .map(|id| {
///         let q = Arc::clone(&q);
///         std::thread::spawn(move || q.put(id))
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap();
/// }
/// let mut got: Vec<i32> = (0..4).map(|_| q.get()).collect();
/// got.sort();
/// assert_eq!(got, [0, 1, 2, 3]);
/// assert!(q.empty());
/// ```
///
/// # Differences from Python's `queue.SimpleQueue`
///
/// - `get(block, timeout)` is [`get`](SimpleQueue::get),
///   [`try_get`](SimpleQueue::try_get), [`get_timeout`](SimpleQueue::get_timeout)
///   and [`get_deadline`](SimpleQueue::get_deadline); `put_nowait` is the same
///   as `put` and is only a doc alias.
/// - CPython's C implementation is reentrant (usable from `__del__` and signal
///   handlers); Rust has neither, so this is simply an unbounded [`Queue`]
///   whose puts count no task.
/// - [`get_async`](SimpleQueue::get_async) awaits an item, as
///   [`Queue::get_async`] does (and is cancel safe in the same way).
pub struct SimpleQueue<T> {
    queue: Queue<T>,
}

impl<T> SimpleQueue<T> {
    /// An empty queue: Python's `SimpleQueue()`.
    pub fn new() -> Self {
        SimpleQueue {
            queue: Queue::new(0),
        }
    }

    /// Adds `item` at the back; never blocks: Python's `put(item)`.
    #[doc(alias = "put_nowait")]
    pub fn put(&self, item: T) {
        self.queue.push_untracked(item);
    }

    /// Removes and returns the next item, blocking while the queue is empty:
    /// Python's `get()`.
    pub fn get(&self) -> T {
        loop {
            // A SimpleQueue is never shut down, so an untimed get only
            // returns with an item; loop rather than panic regardless.
            if let Ok(item) = self.queue.get() {
                return item;
            }
        }
    }

    /// Removes and returns the next item, awaiting one instead of blocking;
    /// it waits in the same line as the threads blocked in
    /// [`get`](Self::get).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: see [`Queue::get_async`].
    pub async fn get_async(&self) -> T {
        loop {
            // Never shut down: as in `get`, loop rather than panic.
            if let Ok(item) = self.queue.get_async().await {
                return item;
            }
        }
    }

    /// Removes and returns the next item only if there is one now: Python's
    /// `get_nowait()`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when the queue is empty.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, GetError> {
        self.queue.try_get()
    }

    /// Removes and returns the next item, waiting at most `timeout`: Python's
    /// `get(timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when no item arrived in time.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.queue.get_timeout(timeout)
    }

    /// Removes and returns the next item, waiting until `deadline` at the
    /// latest.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when no item arrived in time.
    pub fn get_deadline(&self, deadline: Instant) -> Result<T, GetError> {
        self.queue.get_deadline(deadline)
    }

    /// The number of items in the queue now: Python's `qsize()`.
    pub fn qsize(&self) -> usize {
        self.queue.qsize()
    }

    /// Whether the queue is empty now: Python's `empty()`.
    pub fn empty(&self) -> bool {
        self.queue.empty()
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        SimpleQueue::new()
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("qsize", &self.qsize())
            .finish()
    }
}
