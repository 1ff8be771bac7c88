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

/// The [`Barrier`](super::Barrier) is broken, or was reset or aborted while
/// this thread waited: Python's `threading.BrokenBarrierError`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier is broken")
    }
}

impl Error for BrokenBarrierError {}
