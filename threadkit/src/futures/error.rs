//! The one error type of the `futures` module.

use std::error::Error;
use std::fmt;

/// Why a [`Future`](super::Future) has no value, or why an executor refused
/// work: Python's `CancelledError`, `TimeoutError`, the task's exception,
/// `BrokenExecutor` and the `RuntimeError` of a submit after shutdown.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{FutureError, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(1).unwrap();
/// let f = pool.submit(|| -> u8 { panic!("bad input") }).unwrap();
/// assert_eq!(f.result(), Err(FutureError::Panicked("bad input".to_owned())));
/// pool.shutdown(true, false);
/// assert!(matches!(pool.submit(|| 1), Err(FutureError::ShutDown)));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FutureError {
    /// The future was cancelled before it ran (Python's `CancelledError`).
    #[doc(alias = "CancelledError")]
    Cancelled,
    /// The timeout passed before the future finished (Python's `TimeoutError`);
    /// the future itself is unaffected.
    #[doc(alias = "TimeoutError")]
    Timeout,
    /// The task panicked; the panic's message (Python's `exception()`).
    Panicked(String),
    /// The executor broke before running the task, for instance because a
    /// worker's initializer failed (Python's `BrokenExecutor`).
    #[doc(alias("BrokenProcessPool", "BrokenThreadPool"))]
    BrokenExecutor(String),
    /// The executor was shut down (Python's `RuntimeError('cannot schedule
    /// new futures after shutdown')`).
    ShutDown,
    /// The value was already moved out of this future (by `.await`); Python
    /// has no equivalent, its results are shared objects.
    Consumed,
    /// An argument or a result could not be serialized, did not decode, or
    /// exceeds the frame limit on its way between processes (Python's
    /// `PicklingError` and friends). The task did not fail: its value could
    /// not travel.
    Serialization(String),
    /// An argument the executor cannot work with, such as `chunksize` 0
    /// (Python's `ValueError`).
    InvalidArgument(String),
}

impl fmt::Debug for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("Cancelled"),
            FutureError::Timeout => f.write_str("Timeout"),
            FutureError::Panicked(msg) => f.debug_tuple("Panicked").field(msg).finish(),
            FutureError::BrokenExecutor(msg) => f.debug_tuple("BrokenExecutor").field(msg).finish(),
            FutureError::ShutDown => f.write_str("ShutDown"),
            FutureError::Consumed => f.write_str("Consumed"),
            FutureError::Serialization(msg) => f.debug_tuple("Serialization").field(msg).finish(),
            FutureError::InvalidArgument(msg) => {
                f.debug_tuple("InvalidArgument").field(msg).finish()
            }
        }
    }
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("future was cancelled"),
            FutureError::Timeout => f.write_str("timed out waiting for the future"),
            FutureError::Panicked(msg) => write!(f, "task panicked: {msg}"),
            FutureError::BrokenExecutor(msg) => write!(f, "executor is broken: {msg}"),
            FutureError::ShutDown => f.write_str("cannot schedule new futures after shutdown"),
            FutureError::Consumed => f.write_str("the future's value was already taken"),
            FutureError::Serialization(msg) => write!(f, "could not pass a value: {msg}"),
            FutureError::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
        }
    }
}

impl Error for FutureError {}

/// Why an executor could not be built: a setting that could never work,
/// such as Python's `ValueError("max_workers must be greater than 0")`.
#[derive(Clone, PartialEq, Eq)]
pub struct BuildError {
    kind: ErrorKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    ZeroWorkers,
    ZeroTasksPerChild,
    ZeroHandshakeTimeout,
    FrameTooSmall { bytes: usize, min: usize },
}

impl BuildError {
    pub(crate) fn zero_workers() -> Self {
        BuildError {
            kind: ErrorKind::ZeroWorkers,
        }
    }

    #[cfg_attr(
        any(loom, not(target_os = "linux"), not(feature = "process")),
        allow(dead_code)
    )]
    pub(crate) fn zero_tasks_per_child() -> Self {
        BuildError {
            kind: ErrorKind::ZeroTasksPerChild,
        }
    }

    #[cfg_attr(
        any(loom, not(target_os = "linux"), not(feature = "process")),
        allow(dead_code)
    )]
    pub(crate) fn zero_handshake_timeout() -> Self {
        BuildError {
            kind: ErrorKind::ZeroHandshakeTimeout,
        }
    }

    #[cfg_attr(
        any(loom, not(target_os = "linux"), not(feature = "process")),
        allow(dead_code)
    )]
    pub(crate) fn frame_too_small(bytes: usize, min: usize) -> Self {
        BuildError {
            kind: ErrorKind::FrameTooSmall { bytes, min },
        }
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::ZeroWorkers => f.write_str("BuildError(ZeroWorkers)"),
            ErrorKind::ZeroTasksPerChild => f.write_str("BuildError(ZeroTasksPerChild)"),
            ErrorKind::ZeroHandshakeTimeout => f.write_str("BuildError(ZeroHandshakeTimeout)"),
            ErrorKind::FrameTooSmall { bytes, min } => {
                write!(
                    f,
                    "BuildError(FrameTooSmall {{ bytes: {bytes}, min: {min} }})"
                )
            }
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::ZeroWorkers => f.write_str("max_workers must be greater than 0"),
            ErrorKind::ZeroTasksPerChild => f.write_str("max_tasks_per_child must be >= 1"),
            ErrorKind::ZeroHandshakeTimeout => {
                f.write_str("handshake_timeout must be longer than zero")
            }
            ErrorKind::FrameTooSmall { bytes, min } => write!(
                f,
                "max_frame_size of {bytes} bytes is below the smallest workable {min} bytes"
            ),
        }
    }
}

impl Error for BuildError {}
