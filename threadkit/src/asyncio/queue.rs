//! [`Queue`], [`LifoQueue`] and [`PriorityQueue`]: Python's asyncio queues,
//! as a facade over [`queue::Queue`](crate::queue::Queue) that spells its
//! async face the asyncio way.

use std::fmt;
use std::ops::Deref;

use crate::queue::{
    self, Fifo, GetError, Lifo, Order, Priority, PutError, ShutDown, TaskDoneError,
};

/// A queue for tasks: Python's `asyncio.Queue(maxsize)` (first in, first
/// out), or with `S` = [`Lifo`] or [`Priority`] the queue behind
/// [`LifoQueue`] and [`PriorityQueue`].
///
/// A facade over a thread-side [`queue::Queue`](crate::queue::Queue) whose
/// `put`, `get` and `join` are that queue's
/// [`put_async`](crate::queue::Queue::put_async),
/// [`get_async`](crate::queue::Queue::get_async) and
/// [`join_async`](crate::queue::Queue::join_async): the same waiting core,
/// tasks and threads served in one line. The errors are the
/// [`queue`](crate::queue) module's.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, Queue};
///
/// let total = asyncio::run(async {
///     let q = Arc::new(Queue::new(2));
///     let worker = {
///         let q = Arc::clone(&q);
///         asyncio::create_task(async move {
///             let mut total = 0;
///             while let Ok(n) = q.get().await {
///                 total += n;
///                 q.task_done().unwrap();
///             }
///             total
///         })
///     };
///     for n in 1..=10 {
///         q.put(n).await.unwrap();
///     }
///     q.join().await;
///     q.shutdown(false);
///     worker.await.unwrap()
/// });
/// assert_eq!(total.unwrap(), 55);
/// ```
///
/// # Cancel safety
///
/// [`get`](Queue::get) and [`join`](Queue::join) are cancel safe: an item is
/// only taken in the poll that returns it, and a wake-up received by a
/// cancelled waiter passes to the next one. [`put`](Queue::put) adds its
/// item only in the poll that returns; cancelled before, it drops the item.
///
/// # Differences from Python's `asyncio.Queue`
///
/// `put_nowait`/`get_nowait` are [`try_put`](Queue::try_put) and
/// [`try_get`](Queue::try_get), whose errors hand the item back. The queue
/// is `Sync`: threads may use its non-`async` methods too, and
/// [`as_thread_queue`](Queue::as_thread_queue) gives them the blocking ones.
pub struct Queue<T, S: Order<T> = Fifo> {
    inner: queue::Queue<T, S>,
}

impl<T> Queue<T> {
    /// An empty queue holding at most `maxsize` items; `0` means unbounded.
    pub fn new(maxsize: usize) -> Self {
        Queue::with_order(maxsize)
    }
}

impl<T, S: Order<T>> Queue<T, S> {
    /// An empty queue of ordering `S` holding at most `maxsize` items; `0`
    /// means unbounded.
    pub fn with_order(maxsize: usize) -> Self {
        Queue {
            inner: queue::Queue::with_order(maxsize),
        }
    }

    /// The thread-side queue this is a facade over, for threads that want
    /// to block on it (`get`, `put_timeout`, ...).
    pub fn as_thread_queue(&self) -> &queue::Queue<T, S> {
        &self.inner
    }

    /// Puts `item` if there is room now (Python's `put_nowait`).
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] or [`PutError::ShutDown`], with the item.
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.inner.try_put(item)
    }

    /// Puts `item`, waiting while the queue is full (Python's `await q.put(item)`).
    ///
    /// # Errors
    ///
    /// [`ShutDown`] with the item if the queue is, or gets, shut down.
    // The queue's own future, not one more `async` state machine around it
    // (the facade costs nothing per await).
    pub fn put(&self, item: T) -> impl Future<Output = Result<(), ShutDown<T>>> + '_ {
        self.inner.put_async(item)
    }

    /// Takes the next item if there is one now (Python's `get_nowait`).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], or [`GetError::ShutDown`] once shut down
    /// and empty.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, GetError> {
        self.inner.try_get()
    }

    /// Takes the next item, waiting while the queue is empty (Python's
    /// `await q.get()`).
    ///
    /// # Errors
    ///
    /// [`ShutDown`] once the queue is shut down and empty.
    pub fn get(&self) -> impl Future<Output = Result<T, ShutDown>> + '_ {
        self.inner.get_async()
    }

    /// Marks one item taken by a `get` as processed (Python's `task_done()`).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.inner.task_done()
    }

    /// Waits until every item put was marked done (Python's `await q.join()`).
    pub async fn join(&self) {
        self.inner.join_async().await;
    }

    /// Shuts the queue down (Python 3.13's `shutdown(immediate)`): puts fail,
    /// gets drain what is left and then fail, and every waiting task wakes.
    /// With `immediate`, the items left are dropped and marked done.
    pub fn shutdown(&self, immediate: bool) {
        self.inner.shutdown(immediate);
    }

    /// Whether [`shutdown`](Queue::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.inner.is_shutdown()
    }

    /// The number of items now (Python's `qsize()`).
    pub fn qsize(&self) -> usize {
        self.inner.qsize()
    }

    /// Whether the queue is empty now (Python's `empty()`).
    pub fn empty(&self) -> bool {
        self.inner.empty()
    }

    /// Whether the queue is bounded and full now (Python's `full()`).
    pub fn full(&self) -> bool {
        self.inner.full()
    }

    /// The bound; `0` means unbounded (Python's `maxsize`).
    pub fn maxsize(&self) -> usize {
        self.inner.maxsize()
    }
}

impl<T, S: Order<T>> From<queue::Queue<T, S>> for Queue<T, S> {
    /// The asyncio face of a thread-side queue.
    fn from(inner: queue::Queue<T, S>) -> Self {
        Queue { inner }
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
        self.inner.fmt_as("Queue", f)
    }
}

/// A last-in, first-out queue for tasks: Python's `asyncio.LifoQueue`.
///
/// A named [`Queue<T, Lifo>`](Queue): every method is [`Queue`]'s (through
/// `Deref`), only the constructor is its own.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, LifoQueue};
///
/// let got = asyncio::run(async {
///     let q = LifoQueue::new(0);
///     for n in [1, 2, 3] {
///         q.put(n).await.unwrap();
///     }
///     [q.get().await, q.get().await, q.get().await]
/// });
/// assert_eq!(got.unwrap(), [Ok(3), Ok(2), Ok(1)]);
/// ```
pub struct LifoQueue<T>(Queue<T, Lifo>);

impl<T> LifoQueue<T> {
    /// An empty queue holding at most `maxsize` items; `0` means unbounded.
    pub fn new(maxsize: usize) -> Self {
        LifoQueue(Queue::with_order(maxsize))
    }
}

impl<T> Deref for LifoQueue<T> {
    type Target = Queue<T, Lifo>;

    fn deref(&self) -> &Queue<T, Lifo> {
        &self.0
    }
}

impl<T> Default for LifoQueue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        LifoQueue::new(0)
    }
}

impl<T> fmt::Debug for LifoQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.inner.fmt_as("LifoQueue", f)
    }
}

/// A queue for tasks that returns its lowest item first: Python's
/// `asyncio.PriorityQueue`.
///
/// A named [`Queue<T, Priority>`](Queue): every method is [`Queue`]'s
/// (through `Deref`), only the constructor is its own. Items that compare
/// equal come out first in, first out.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, PriorityQueue};
///
/// let first = asyncio::run(async {
///     let q = PriorityQueue::new(0);
///     q.put((2, "write docs")).await.unwrap();
///     q.put((1, "fix bug")).await.unwrap();
///     q.get().await
/// });
/// assert_eq!(first.unwrap(), Ok((1, "fix bug")));
/// ```
pub struct PriorityQueue<T: Ord>(Queue<T, Priority>);

impl<T: Ord> PriorityQueue<T> {
    /// An empty queue holding at most `maxsize` items; `0` means unbounded.
    pub fn new(maxsize: usize) -> Self {
        PriorityQueue(Queue::with_order(maxsize))
    }
}

impl<T: Ord> Deref for PriorityQueue<T> {
    type Target = Queue<T, Priority>;

    fn deref(&self) -> &Queue<T, Priority> {
        &self.0
    }
}

impl<T: Ord> Default for PriorityQueue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        PriorityQueue::new(0)
    }
}

impl<T: Ord> fmt::Debug for PriorityQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.inner.fmt_as("PriorityQueue", f)
    }
}
