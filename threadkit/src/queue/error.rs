//! Errors of the `queue` module, one type per failing operation.
//!
//! Python raises `queue.Full`, `queue.Empty`, `queue.ShutDown` and
//! `ValueError`; threadkit returns them as values. Every error of a `put`
//! hands the rejected item back (see the `into_inner` methods), so no item is
//! ever lost. `Debug` is written by hand so that no `T: Debug` bound is needed.

use std::error::Error;
use std::fmt;

/// The queue was shut down: Python's `queue.ShutDown`.
///
/// Returned by [`put`](super::Queue::put) (then it carries the rejected item)
/// and by [`get`](super::Queue::get) (then it carries `()`): a blocking `get`
/// fails only once the queue is shut down *and* empty.
///
/// # Examples
///
/// ```
/// use threadkit::queue::{Queue, ShutDown};
///
/// let q = Queue::new(0);
/// q.shutdown(false);
/// let err: ShutDown<&str> = q.put("late").unwrap_err();
/// assert_eq!(err.into_inner(), "late");
/// assert_eq!(q.get(), Err(ShutDown(())));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ShutDown<T = ()>(pub T);

impl<T> ShutDown<T> {
    /// The item that could not be put (or `()` for a `get`).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShutDown(..)")
    }
}

impl<T> fmt::Display for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl<T> Error for ShutDown<T> {}

/// Why a non-blocking or timed `put` failed ([`try_put`](super::Queue::try_put),
/// Python's `put_nowait`, [`put_timeout`](super::Queue::put_timeout) and
/// [`put_deadline`](super::Queue::put_deadline)); the item is handed back.
///
/// Python raises one `queue.Full` whether the queue was full right now or
/// stayed full until the timeout; so does threadkit: [`Full`](super::Full) is
/// re-exported as `threadkit::queue::Full`, so `Err(Full(item))` matches as
/// `except queue.Full` does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::queue::{Full, PutError, Queue};
///
/// let q = Queue::new(1);
/// q.try_put(1).unwrap();
/// match q.try_put(2) {
///     Err(Full(item)) => assert_eq!(item, 2),
///     other => panic!("unexpected {other:?}"),
/// }
/// let err = q.put_timeout(3, Duration::from_millis(10)).unwrap_err();
/// assert!(matches!(err, PutError::Full(3)));
/// assert_eq!(err.to_string(), "queue is full");
/// ```
#[doc(alias("Full", "TryPutError", "PutTimeoutError"))]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutError<T> {
    /// The queue was full (and, for a timed `put`, stayed full until the
    /// deadline): Python's `queue.Full`.
    Full(T),
    /// The queue was shut down: Python's `queue.ShutDown`.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that could not be put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// Whether the queue was shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("queue is full"),
            PutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> Error for PutError<T> {}

impl<T> From<ShutDown<T>> for PutError<T> {
    fn from(err: ShutDown<T>) -> Self {
        PutError::ShutDown(err.0)
    }
}

/// Why a non-blocking or timed `get` failed ([`try_get`](super::Queue::try_get),
/// Python's `get_nowait`, [`get_timeout`](super::Queue::get_timeout) and
/// [`get_deadline`](super::Queue::get_deadline)).
///
/// Python raises one `queue.Empty` whether the queue was empty right now or
/// stayed empty until the timeout; so does threadkit: [`Empty`](super::Empty)
/// is re-exported as `threadkit::queue::Empty`, so `Err(Empty)` matches as
/// `except queue.Empty` does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::queue::{Empty, GetError, Queue};
///
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.try_get(), Err(Empty));
/// assert_eq!(q.get_timeout(Duration::from_millis(10)), Err(Empty));
/// q.shutdown(false);
/// assert_eq!(q.try_get(), Err(GetError::ShutDown));
/// ```
#[doc(alias("Empty", "TryGetError", "GetTimeoutError"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GetError {
    /// The queue was empty (and, for a timed `get`, stayed empty until the
    /// deadline): Python's `queue.Empty`.
    Empty,
    /// The queue was shut down and empty: Python's `queue.ShutDown`.
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("queue is empty"),
            GetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl Error for GetError {}

impl From<ShutDown> for GetError {
    fn from(_: ShutDown) -> Self {
        GetError::ShutDown
    }
}

/// [`task_done`](super::Queue::task_done) was called more times than items
/// were put: Python's `ValueError("task_done() called too many times")`.
///
/// # Examples
///
/// ```
/// use threadkit::queue::{Queue, TaskDoneError};
///
/// let q = Queue::<()>::new(0);
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl Error for TaskDoneError {}
