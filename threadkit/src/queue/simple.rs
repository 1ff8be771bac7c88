//! `SimpleQueue`: Python's unbounded FIFO queue without task tracking.

use std::fmt;
use std::time::{Duration, Instant};

use super::core::Core;
use super::error::{GetTimeoutError, TryGetError};
use super::store::Fifo;
use crate::util::Deadline;

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
///   handlers); Rust has neither, so this is simply the shared queue core with
///   no bound.
pub struct SimpleQueue<T> {
    core: Core<Fifo<T>>,
}

impl<T> SimpleQueue<T> {
    /// An empty queue: Python's `SimpleQueue()`.
    pub fn new() -> Self {
        SimpleQueue { core: Core::new(0) }
    }

    /// Adds `item` at the back; never blocks: Python's `put(item)`.
    #[doc(alias = "put_nowait")]
    pub fn put(&self, item: T) {
        self.core.push(item);
    }

    /// Removes and returns the next item, blocking while the queue is empty:
    /// Python's `get()`.
    pub fn get(&self) -> T {
        loop {
            // A SimpleQueue is never shut down, so an untimed get only
            // returns with an item; loop rather than panic regardless.
            if let Ok(item) = self.core.get(Deadline::Never) {
                return item;
            }
        }
    }

    /// Removes and returns the next item only if there is one now: Python's
    /// `get_nowait()`.
    ///
    /// # Errors
    ///
    /// [`TryGetError::Empty`] when the queue is empty.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, TryGetError> {
        self.core.get(Deadline::Now).map_err(TryGetError::from)
    }

    /// Removes and returns the next item, waiting at most `timeout`: Python's
    /// `get(timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`GetTimeoutError::Timeout`] when no item arrived in time.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
        self.get_until(Deadline::after(timeout))
    }

    /// Removes and returns the next item, waiting until `deadline` at the
    /// latest.
    ///
    /// # Errors
    ///
    /// [`GetTimeoutError::Timeout`] when no item arrived in time.
    pub fn get_deadline(&self, deadline: Instant) -> Result<T, GetTimeoutError> {
        self.get_until(Deadline::At(deadline))
    }

    fn get_until(&self, deadline: Deadline) -> Result<T, GetTimeoutError> {
        self.core.get(deadline).map_err(GetTimeoutError::from)
    }

    /// The number of items in the queue now: Python's `qsize()`.
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// Whether the queue is empty now: Python's `empty()`.
    pub fn empty(&self) -> bool {
        self.core.qsize() == 0
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
