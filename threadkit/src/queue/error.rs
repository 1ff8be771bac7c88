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

/// Why [`try_put`](super::Queue::try_put) (Python's `put_nowait`) failed; the
/// item is handed back.
///
/// # Examples
///
/// ```
/// use threadkit::queue::{Queue, TryPutError};
///
/// let q = Queue::new(1);
/// q.try_put(1).unwrap();
/// match q.try_put(2) {
///     Err(TryPutError::Full(item)) => assert_eq!(item, 2),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[doc(alias = "Full")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryPutError<T> {
    /// The queue was full: Python's `queue.Full`.
    Full(T),
    /// The queue was shut down: Python's `queue.ShutDown`.
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that could not be put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// Whether the queue was shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, TryPutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue is full"),
            TryPutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> Error for TryPutError<T> {}

impl<T> From<ShutDown<T>> for TryPutError<T> {
    fn from(err: ShutDown<T>) -> Self {
        TryPutError::ShutDown(err.0)
    }
}

/// Why [`put_timeout`](super::Queue::put_timeout) or
/// [`put_deadline`](super::Queue::put_deadline) failed; the item is handed back.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::queue::{PutTimeoutError, Queue};
///
/// let q = Queue::new(1);
/// q.put('a').unwrap();
/// let err = q.put_timeout('b', Duration::from_millis(10)).unwrap_err();
/// assert!(matches!(err, PutTimeoutError::Timeout('b')));
/// assert_eq!(err.to_string(), "timed out waiting on a full queue");
/// ```
#[doc(alias = "Full")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutTimeoutError<T> {
    /// The queue stayed full until the deadline: Python's `queue.Full`.
    Timeout(T),
    /// The queue was shut down: Python's `queue.ShutDown`.
    ShutDown(T),
}

impl<T> PutTimeoutError<T> {
    /// The item that could not be put.
    pub fn into_inner(self) -> T {
        match self {
            PutTimeoutError::Timeout(item) | PutTimeoutError::ShutDown(item) => item,
        }
    }

    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, PutTimeoutError::Timeout(_))
    }

    /// Whether the queue was shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, PutTimeoutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            PutTimeoutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutTimeoutError::Timeout(_) => f.write_str("timed out waiting on a full queue"),
            PutTimeoutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> Error for PutTimeoutError<T> {}

impl<T> From<ShutDown<T>> for PutTimeoutError<T> {
    fn from(err: ShutDown<T>) -> Self {
        PutTimeoutError::ShutDown(err.0)
    }
}

/// Why [`try_get`](super::Queue::try_get) (Python's `get_nowait`) failed.
///
/// # Examples
///
/// ```
/// use threadkit::queue::{Queue, TryGetError};
///
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.try_get(), Err(TryGetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
/// ```
#[doc(alias = "Empty")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TryGetError {
    /// The queue was empty: Python's `queue.Empty`.
    Empty,
    /// The queue was shut down and empty: Python's `queue.ShutDown`.
    ShutDown,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue is empty"),
            TryGetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl Error for TryGetError {}

impl From<ShutDown> for TryGetError {
    fn from(_: ShutDown) -> Self {
        TryGetError::ShutDown
    }
}

/// Why [`get_timeout`](super::Queue::get_timeout) or
/// [`get_deadline`](super::Queue::get_deadline) failed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::queue::{GetTimeoutError, Queue};
///
/// let q = Queue::<u8>::new(0);
/// let err = q.get_timeout(Duration::from_millis(10)).unwrap_err();
/// assert_eq!(err, GetTimeoutError::Timeout);
/// ```
#[doc(alias = "Empty")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GetTimeoutError {
    /// The queue stayed empty until the deadline: Python's `queue.Empty`.
    Timeout,
    /// The queue was shut down and empty: Python's `queue.ShutDown`.
    ShutDown,
}

impl fmt::Display for GetTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetTimeoutError::Timeout => f.write_str("timed out waiting on an empty queue"),
            GetTimeoutError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl Error for GetTimeoutError {}

impl From<ShutDown> for GetTimeoutError {
    fn from(_: ShutDown) -> Self {
        GetTimeoutError::ShutDown
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
