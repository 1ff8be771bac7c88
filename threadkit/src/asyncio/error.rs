//! The errors of the `asyncio` module, one type per operation.

use std::error::Error;
use std::fmt;

use crate::futures::PanicReport;

/// Why a task produced no value: Python's `CancelledError`, or the task's
/// exception (a panic, as everywhere in threadkit).
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, TaskError};
///
/// let outcome = asyncio::run(async {
///     asyncio::create_task(async { panic!("bad input") }).await
/// });
/// assert_eq!(outcome.unwrap(), Err::<(), _>(TaskError::Panicked("bad input".into())));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskError {
    /// The task was cancelled before it finished (Python's `CancelledError`).
    #[doc(alias = "CancelledError")]
    Cancelled,
    /// The task panicked: its message and, for a future run by
    /// [`gather`](super::gather) or a [`TaskGroup`](super::TaskGroup), where
    /// it was raised (and the backtrace with `RUST_BACKTRACE`), in the same
    /// [`PanicReport`] as a pool task's.
    Panicked(PanicReport),
    /// [`Task::result`](super::Task::result) on a task that is not done
    /// (Python's `InvalidStateError`).
    #[doc(alias = "InvalidStateError")]
    InvalidState,
    /// The value was already taken from this task.
    Consumed,
    /// The outcome was not in by the deadline of
    /// [`AsCompleted::timeout`](super::AsCompleted::timeout) (Python's
    /// `TimeoutError`); the task was cancelled.
    #[doc(alias = "TimeoutError")]
    Timeout,
}

impl TaskError {
    /// The error for a task that tokio reports as failed.
    pub(crate) fn from_join(e: tokio::task::JoinError) -> Self {
        if e.is_cancelled() {
            TaskError::Cancelled
        } else {
            // A task's own poll sends its report as the payload (`Tracked`).
            match e.into_panic().downcast::<PanicReport>() {
                Ok(report) => TaskError::Panicked(*report),
                Err(payload) => TaskError::Panicked(PanicReport::new(
                    crate::util::unwind::panic_message(&*payload),
                )),
            }
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("Cancelled"),
            TaskError::Panicked(report) => f.debug_tuple("Panicked").field(report).finish(),
            TaskError::InvalidState => f.write_str("InvalidState"),
            TaskError::Consumed => f.write_str("Consumed"),
            TaskError::Timeout => f.write_str("Timeout"),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("task was cancelled"),
            TaskError::Panicked(report) => write!(f, "task panicked: {report}"),
            TaskError::InvalidState => f.write_str("result is not set: the task is not done"),
            TaskError::Consumed => f.write_str("the task's value was already taken"),
            TaskError::Timeout => f.write_str("the outcome was not in by the deadline"),
        }
    }
}

impl Error for TaskError {}

/// The deadline of [`wait_for`](super::wait_for) or
/// [`timeout`](super::timeout) passed first: Python's `TimeoutError`. The
/// awaited future was dropped (cancelled).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimeoutError(pub(crate) ());

impl fmt::Debug for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TimeoutError")
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for TimeoutError {}

/// Why [`run`](super::run) could not run its future: an opaque error over
/// the cases below (Python's `RuntimeError`).
#[derive(Clone, PartialEq, Eq)]
pub struct RunError {
    kind: RunErrorKind,
}

#[derive(Clone, PartialEq, Eq)]
enum RunErrorKind {
    /// `run` was called from inside a running event loop.
    Nested,
    /// The runtime could not be built (the OS refused a resource).
    Build(String),
}

impl RunError {
    pub(crate) fn nested() -> Self {
        RunError {
            kind: RunErrorKind::Nested,
        }
    }

    pub(crate) fn build(e: std::io::Error) -> Self {
        RunError {
            kind: RunErrorKind::Build(e.to_string()),
        }
    }

    /// Whether `run` was called from inside a running event loop (Python's
    /// "asyncio.run() cannot be called from a running event loop").
    pub fn is_nested(&self) -> bool {
        self.kind == RunErrorKind::Nested
    }
}

impl fmt::Debug for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RunErrorKind::Nested => f.write_str("RunError(Nested)"),
            RunErrorKind::Build(msg) => f.debug_tuple("RunError").field(msg).finish(),
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RunErrorKind::Nested => {
                f.write_str("asyncio::run() cannot be called from a running event loop")
            }
            RunErrorKind::Build(msg) => write!(f, "cannot start the event loop: {msg}"),
        }
    }
}

impl Error for RunError {}

/// The failures of a [`TaskGroup`](super::TaskGroup), grouped: Python's
/// `ExceptionGroup("unhandled errors in a TaskGroup", [...])`.
///
/// Holds the panic message of every task that failed, in the order they
/// failed. The siblings cancelled because of them are not listed, as in
/// Python.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ExceptionGroup {
    pub(crate) errors: Vec<TaskError>,
}

impl ExceptionGroup {
    /// The failures, in the order they happened (Python's `.exceptions`).
    pub fn exceptions(&self) -> &[TaskError] {
        &self.errors
    }
}

impl fmt::Debug for ExceptionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ExceptionGroup").field(&self.errors).finish()
    }
}

impl fmt::Display for ExceptionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        let s = if n == 1 { "" } else { "s" };
        write!(f, "unhandled errors in a task group ({n} sub-exception{s})")
    }
}

impl Error for ExceptionGroup {}

/// The semaphores' and the barrier's errors are `threading`'s: asyncio's
/// primitives are facades over `threading`'s objects, so one type serves
/// both families.
pub use crate::threading::{BrokenBarrierError, ReleaseError, TooManyReleases};
