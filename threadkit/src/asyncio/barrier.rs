//! [`Barrier`]: Python's `asyncio.Barrier`, where a fixed number of tasks
//! wait for each other; a facade over
//! [`threading::Barrier`](crate::threading::Barrier), so threads may meet
//! at it too.

use std::fmt;

use super::error::BrokenBarrierError;
use crate::threading;

/// A barrier for `parties` tasks: Python's `asyncio.Barrier(parties)`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, Barrier};
///
/// let mut indexes = asyncio::run(async {
///     let barrier = Arc::new(Barrier::new(3));
///     asyncio::gather((0..3).map(|_| {
///         let barrier = Arc::clone(&barrier);
///         async move { barrier.wait().await.unwrap() }
///     }))
///     .await
///     .unwrap()
/// })
/// .unwrap();
/// indexes.sort();
/// assert_eq!(indexes, [0, 1, 2]);
/// ```
///
/// # Cancel safety
///
/// [`wait`](Barrier::wait) is cancel safe: a task cancelled while waiting
/// leaves the round, which then needs another task to fill its place, as in
/// Python.
///
/// # Differences from Python's `asyncio.Barrier`
///
/// `Barrier(0)` raises `ValueError` in Python; here 0 parties behaves as
/// 1, like [`threading::Barrier`] and `std::sync::Barrier`: a barrier that
/// never blocks.
pub struct Barrier {
    inner: threading::Barrier,
}

impl Barrier {
    /// A barrier for `parties` tasks; 0 parties behaves as 1 (see the
    /// differences from Python).
    pub fn new(parties: usize) -> Self {
        Barrier {
            inner: threading::Barrier::new(parties),
        }
    }

    /// Waits until `parties` tasks are waiting, then releases them all;
    /// returns this task's arrival index, `0` to `parties - 1` (Python's
    /// `await barrier.wait()`).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken, or is aborted or
    /// reset while this task waits.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: see [`threading::Barrier::wait_async`].
    pub async fn wait(&self) -> Result<usize, BrokenBarrierError> {
        self.inner.wait_async().await
    }

    /// Puts the barrier in the broken state: current and future waiters get
    /// [`BrokenBarrierError`] until [`reset`](Barrier::reset) (Python's
    /// `abort()`).
    pub fn abort(&self) {
        self.inner.abort();
    }

    /// Returns the barrier to its empty state; tasks waiting now get
    /// [`BrokenBarrierError`] (Python's `reset()`).
    pub fn reset(&self) {
        self.inner.reset();
    }

    /// The number of tasks needed to pass (Python's `parties`).
    pub fn parties(&self) -> usize {
        self.inner.parties()
    }

    /// The number of tasks waiting now (Python's `n_waiting`).
    pub fn n_waiting(&self) -> usize {
        self.inner.n_waiting()
    }

    /// Whether the barrier is broken (Python's `broken`).
    pub fn broken(&self) -> bool {
        self.inner.broken()
    }

    /// The same barrier with its thread face, for threads that meet tasks
    /// at it (`wait` there blocks the calling thread).
    pub fn as_threading(&self) -> &threading::Barrier {
        &self.inner
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
