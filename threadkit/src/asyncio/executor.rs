//! [`to_thread`] and [`run_in_executor`]: run blocking code off the event
//! loop and await its result.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::TaskError;
use crate::futures::{Executor, Future as PoolFuture, FutureError, WorkItem};

/// Runs the blocking function `f` on a separate thread and awaits its
/// result: Python's `await asyncio.to_thread(f)`.
///
/// The thread comes from the loop's pool for blocking work (tokio's
/// `spawn_blocking`), Python's default executor.
///
/// # Errors
///
/// [`TaskError::Panicked`] if `f` panics.
///
/// # Cancel safety
///
/// Dropping the future does not stop `f` (threads cannot be cancelled), its
/// result is dropped; [`run`](super::run) waits for it before returning.
///
/// # Panics
///
/// When called outside a running [`run`](super::run).
///
/// # Examples
///
/// ```
/// use threadkit::asyncio;
///
/// let n = asyncio::run(async {
///     asyncio::to_thread(|| {
///         std::thread::sleep(std::time::Duration::from_millis(10)); // blocking
///         21 * 2
///     })
///     .await
/// });
/// assert_eq!(n.unwrap(), Ok(42));
/// ```
pub async fn to_thread<F, T>(f: F) -> Result<T, TaskError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(TaskError::from_join)
}

/// Submits `f` to any threadkit [`Executor`] and returns an awaitable for its
/// result: Python's `loop.run_in_executor(executor, f)`.
///
/// `f` is submitted at once (before the first poll). Any executor works: a
/// [`ThreadPoolExecutor`](crate::futures::ThreadPoolExecutor), a process
/// pool implementing the same trait, or a `&dyn Executor`.
///
/// # Errors
///
/// The awaitable resolves to the pool's [`FutureError`]: `Panicked`,
/// `ShutDown` if the executor no longer accepts work, `BrokenExecutor`.
///
/// # Cancel safety
///
/// Dropping the awaitable cancels the pool's future if the task has not
/// started yet, as Python does; a running task runs to the end.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio;
/// use threadkit::futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// let sum = asyncio::run(async {
///     asyncio::run_in_executor(&pool, || (1..=100u64).sum::<u64>()).await
/// });
/// assert_eq!(sum.unwrap(), Ok(5050));
/// ```
pub fn run_in_executor<E, F, T>(executor: &E, f: F) -> InExecutor<T>
where
    E: Executor + ?Sized,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (item, future) = WorkItem::new(f);
    // A refused item is dropped, which fails its future; keep the reason.
    if let Err(e) = executor.submit_work(item) {
        let (failed, promise) = PoolFuture::new();
        promise.set_error(e.into());
        return InExecutor {
            future: Some(failed),
        };
    }
    InExecutor {
        future: Some(future),
    }
}

/// The awaitable returned by [`run_in_executor`]: the pool's
/// [`Future`](crate::futures::Future), cancelled if dropped before it starts.
pub struct InExecutor<T> {
    /// `None` only after `into_inner`.
    future: Option<PoolFuture<T>>,
}

impl<T> InExecutor<T> {
    /// The pool's future, for the blocking API (`result_timeout`, `wait`).
    pub fn into_inner(mut self) -> PoolFuture<T> {
        self.future.take().expect("the future is only taken here")
    }
}

impl<T> Future for InExecutor<T> {
    type Output = Result<T, FutureError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.future.as_mut() {
            Some(future) => Pin::new(future).poll(cx),
            None => Poll::Ready(Err(FutureError::Consumed)),
        }
    }
}

impl<T> Drop for InExecutor<T> {
    fn drop(&mut self) {
        if let Some(future) = &self.future {
            future.cancel();
        }
    }
}

impl<T> fmt::Debug for InExecutor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InExecutor")
            .field("future", &self.future)
            .finish()
    }
}
