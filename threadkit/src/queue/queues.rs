//! `Queue`, `LifoQueue` and `PriorityQueue`: Python's task-tracking queues,
//! three orderings over one [`Core`].

use std::fmt;
use std::time::{Duration, Instant};

use super::core::{Core, Refused};
use super::error::{
    GetTimeoutError, PutTimeoutError, ShutDown, TaskDoneError, TryGetError, TryPutError,
};
use super::methods::queue_methods;
use super::store::{Fifo, Lifo, Priority};
use crate::util::Deadline;

/// A first-in, first-out queue for many producers and consumers, with task
/// tracking and shutdown: Python's `queue.Queue`.
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
/// - [`join_timeout`](Queue::join_timeout) and
///   [`shutdown_drain`](Queue::shutdown_drain) are extras.
pub struct Queue<T> {
    core: Core<Fifo<T>>,
}

impl<T> Queue<T> {
    queue_methods!(Queue);
}

/// A last-in, first-out queue (a stack) with task tracking and shutdown:
/// Python's `queue.LifoQueue`.
///
/// # Examples
///
/// ```
/// use threadkit::queue::LifoQueue;
///
/// let q = LifoQueue::new(0);
/// for n in [1, 2, 3] {
///     q.put(n).unwrap();
/// }
/// assert_eq!(q.get(), Ok(3));
/// assert_eq!(q.get(), Ok(2));
/// assert_eq!(q.get(), Ok(1));
/// ```
///
/// # Differences from Python's `queue.LifoQueue`
///
/// The same as for [`Queue`].
pub struct LifoQueue<T> {
    core: Core<Lifo<T>>,
}

impl<T> LifoQueue<T> {
    queue_methods!(LifoQueue);
}

/// A queue that returns its lowest item first, with task tracking and
/// shutdown: Python's `queue.PriorityQueue`.
///
/// # Examples
///
/// ```
/// use threadkit::queue::PriorityQueue;
///
/// let q = PriorityQueue::new(0);
/// q.put((2, "write docs")).unwrap();
/// q.put((1, "fix bug")).unwrap();
/// q.put((3, "lunch")).unwrap();
/// assert_eq!(q.get(), Ok((1, "fix bug")));
/// assert_eq!(q.get(), Ok((2, "write docs")));
/// ```
///
/// # Differences from Python's `queue.PriorityQueue`
///
/// - The same as for [`Queue`].
/// - Items must be [`Ord`] (Python compares with `<` at run time and may raise
///   `TypeError`). Items that compare equal come out first in, first out,
///   which `heapq` does not promise. Wrap an item in
///   [`std::cmp::Reverse`] for highest-first.
/// - `Ord::cmp` runs with the queue's lock held: it must not use the queue.
///   If it panics, the panic reaches the caller and the queue is left
///   exactly as it was (a `get` loses no item, a `put` stores none and
///   counts no task), as a failing `_get`/`_put` does in Python.
pub struct PriorityQueue<T: Ord> {
    core: Core<Priority<T>>,
}

impl<T: Ord> PriorityQueue<T> {
    queue_methods!(PriorityQueue);
}

impl<T> Default for Queue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        Queue::new(0)
    }
}

impl<T> Default for LifoQueue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        LifoQueue::new(0)
    }
}

impl<T: Ord> Default for PriorityQueue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        PriorityQueue::new(0)
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt_fields(f.debug_struct("Queue"))
    }
}

impl<T> fmt::Debug for LifoQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt_fields(f.debug_struct("LifoQueue"))
    }
}

impl<T: Ord> fmt::Debug for PriorityQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt_fields(f.debug_struct("PriorityQueue"))
    }
}
