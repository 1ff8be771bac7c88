//! Errors of the `threading` module, one type per failing operation.

use std::error::Error;
use std::fmt;

/// A [`BoundedSemaphore`](super::BoundedSemaphore) was released more times
/// than it was acquired: Python's `ValueError("Semaphore released too many times")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyReleases {
    /// The semaphore's initial value, which it may not exceed.
    pub bound: usize,
}

impl fmt::Display for TooManyReleases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "semaphore released too many times (bound {})",
            self.bound
        )
    }
}

impl Error for TooManyReleases {}

/// Why a semaphore's `release(n)` added no permit, in `threading` and in
/// `asyncio` alike (this one type serves both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseError {
    /// `n` was 0: Python's `ValueError("n must be one or more")`.
    Zero,
    /// A [`BoundedSemaphore`](super::BoundedSemaphore) would exceed its
    /// initial value: Python's `ValueError("Semaphore released too many
    /// times")`.
    TooMany(TooManyReleases),
    /// The value would pass `max`, the most the semaphore can count
    /// (`usize::MAX` in `threading`, `asyncio::Semaphore::MAX_VALUE` in
    /// `asyncio`). Python's integers never overflow.
    Overflow {
        /// The largest value the semaphore can hold.
        max: usize,
    },
}

impl From<TooManyReleases> for ReleaseError {
    fn from(error: TooManyReleases) -> Self {
        ReleaseError::TooMany(error)
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseError::Zero => f.write_str("n must be one or more"),
            ReleaseError::TooMany(error) => error.fmt(f),
            ReleaseError::Overflow { max } => {
                write!(f, "semaphore released past its largest value ({max})")
            }
        }
    }
}

impl Error for ReleaseError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReleaseError::TooMany(error) => Some(error),
            _ => None,
        }
    }
}

/// The [`Barrier`](super::Barrier) is broken, or was reset or aborted while
/// this thread waited: Python's `threading.BrokenBarrierError`, and
/// `asyncio`'s (which re-exports it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier is broken")
    }
}

impl Error for BrokenBarrierError {}

/// Why an operation on a [`Thread`](super::Thread) failed: the typed form of the
/// `RuntimeError`s of Python's `threading.Thread`, plus the panic a thread's
/// target ended with (the exception that Python would leave to the excepthook).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreadError {
    /// `start()` was called a second time: Python's
    /// `RuntimeError("threads can only be started once")`.
    AlreadyStarted,
    /// `join()` before `start()`: Python's
    /// `RuntimeError("cannot join thread before it is started")`.
    NotStarted,
    /// A thread tried to join itself: Python's
    /// `RuntimeError("cannot join current thread")`.
    JoinCurrent,
    /// The thread is a dummy entry for a thread threadkit did not start, which
    /// cannot be joined (Python asserts `"cannot join a dummy thread"`).
    JoinDummy,
    /// The operating system refused to start the thread: Python's
    /// `RuntimeError("can't start new thread")`. Holds the OS error text.
    Spawn(String),
    /// The thread's target panicked; holds the panic message.
    Panicked(String),
}

impl ThreadError {
    /// The panic message if the thread's target panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            ThreadError::Panicked(msg) => Some(msg),
            _ => None,
        }
    }
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadError::AlreadyStarted => f.write_str("threads can only be started once"),
            ThreadError::NotStarted => f.write_str("cannot join thread before it is started"),
            ThreadError::JoinCurrent => f.write_str("cannot join current thread"),
            ThreadError::JoinDummy => f.write_str("cannot join a dummy thread"),
            ThreadError::Spawn(why) => write!(f, "can't start new thread: {why}"),
            ThreadError::Panicked(msg) => write!(f, "thread panicked: {msg}"),
        }
    }
}

impl Error for ThreadError {}
