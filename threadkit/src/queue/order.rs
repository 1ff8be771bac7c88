//! The orderings a [`Queue`] can keep (its second type parameter, in the
//! style of `lock_api`'s raw-lock parameter), and [`LifoQueue`] and
//! [`PriorityQueue`], the named queues of the two non-FIFO orderings.

use std::fmt;
use std::ops::Deref;

use super::Queue;
use super::store::{FifoStore, LifoStore, PriorityStore, Store};

/// How a [`Queue`] orders its items: [`Fifo`], [`Lifo`] or [`Priority`].
///
/// Sealed: the store behind each ordering is internal.
pub trait Order<T>: sealed::Sealed<T> {}

pub(crate) mod sealed {
    use super::Store;

    /// The store an [`Order`](super::Order) stands for.
    #[allow(unreachable_pub)] // Sealed: nameable only inside the crate.
    pub trait Sealed<T> {
        /// The thread-safe storage of this ordering.
        type Store: Store<Item = T>;
    }
}

/// First in, first out: Python's `queue.Queue` (the default ordering).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fifo;

/// Last in, first out: Python's `queue.LifoQueue`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lifo;

/// Lowest item first, first in first out among equal items: Python's
/// `queue.PriorityQueue`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Priority;

impl<T> sealed::Sealed<T> for Fifo {
    type Store = FifoStore<T>;
}
impl<T> Order<T> for Fifo {}

impl<T> sealed::Sealed<T> for Lifo {
    type Store = LifoStore<T>;
}
impl<T> Order<T> for Lifo {}

impl<T: Ord> sealed::Sealed<T> for Priority {
    type Store = PriorityStore<T>;
}
impl<T: Ord> Order<T> for Priority {}

/// A last-in, first-out queue (a stack) with task tracking and shutdown:
/// Python's `queue.LifoQueue`.
///
/// A named [`Queue<T, Lifo>`](Queue): every method is [`Queue`]'s (through
/// `Deref`), only the constructor is its own.
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
pub struct LifoQueue<T>(Queue<T, Lifo>);

impl<T> LifoQueue<T> {
    /// An empty queue holding at most `maxsize` items; `0` means
    /// unbounded: Python's `LifoQueue(maxsize=0)`.
    pub fn new(maxsize: usize) -> Self {
        LifoQueue(Queue::with_order(maxsize))
    }

    /// The [`Queue<T, Lifo>`](Queue) this is.
    pub fn into_inner(self) -> Queue<T, Lifo> {
        self.0
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
        self.0.fmt_as("LifoQueue", f)
    }
}

/// A queue that returns its lowest item first, with task tracking and
/// shutdown: Python's `queue.PriorityQueue`.
///
/// A named [`Queue<T, Priority>`](Queue): every method is [`Queue`]'s
/// (through `Deref`), only the constructor is its own.
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
pub struct PriorityQueue<T: Ord>(Queue<T, Priority>);

impl<T: Ord> PriorityQueue<T> {
    /// An empty queue holding at most `maxsize` items; `0` means
    /// unbounded: Python's `PriorityQueue(maxsize=0)`.
    pub fn new(maxsize: usize) -> Self {
        PriorityQueue(Queue::with_order(maxsize))
    }

    /// The [`Queue<T, Priority>`](Queue) this is.
    pub fn into_inner(self) -> Queue<T, Priority> {
        self.0
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
        self.0.fmt_as("PriorityQueue", f)
    }
}
