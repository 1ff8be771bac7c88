//! The event loop: [`run`], [`Runner`] and [`sleep`].

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::RunError;

/// Runs `future` to completion on a fresh event loop and returns its output:
/// Python's `asyncio.run(main())`.
///
/// The loop is a current-thread tokio runtime (one thread, like Python's
/// loop); [`Runner::worker_threads`] gives a multi-thread one. When `future`
/// returns, tasks still running are cancelled (dropped) and the loop is
/// closed, waiting for [`to_thread`](super::to_thread) calls still running.
/// A panic in `future` propagates out of `run`, as Python re-raises the
/// coroutine's exception.
///
/// # Errors
///
/// [`RunError`] if called from inside a running event loop
/// ([`RunError::is_nested`]), checked before anything starts, or if the
/// runtime cannot be built.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio;
///
/// let answer = asyncio::run(async { 6 * 7 }).unwrap();
/// assert_eq!(answer, 42);
/// // Nested runs are an error, not a panic inside tokio:
/// let nested = asyncio::run(async { asyncio::run(async {}) }).unwrap();
/// assert!(nested.unwrap_err().is_nested());
/// ```
pub fn run<F: Future>(future: F) -> Result<F::Output, RunError> {
    Runner::new().run(future)
}

/// Builds an event loop and runs a future on it: Python's `asyncio.Runner`,
/// with the choice of a multi-thread loop.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, Runner};
///
/// let sum = Runner::new().worker_threads(2).run(async {
///     asyncio::gather((0..4u32).map(|n| async move { n * n })).await
/// });
/// assert_eq!(sum.unwrap().unwrap(), [0, 1, 4, 9]);
/// ```
#[derive(Clone, Default)]
pub struct Runner {
    worker_threads: Option<usize>,
}

impl Runner {
    /// A runner for a current-thread loop (the default).
    pub fn new() -> Self {
        Runner::default()
    }

    /// Use a multi-thread loop with `n` worker threads (at least one); tasks
    /// then run in parallel and must be `Send`, as `create_task` already
    /// requires.
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = Some(n.max(1));
        self
    }

    /// Runs `future` to completion on a fresh loop; see [`run`].
    ///
    /// # Errors
    ///
    /// As [`run`].
    pub fn run<F: Future>(&self, future: F) -> Result<F::Output, RunError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(RunError::nested());
        }
        let mut builder = match self.worker_threads {
            None => tokio::runtime::Builder::new_current_thread(),
            Some(n) => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(n);
                b
            }
        };
        let runtime = builder.enable_all().build().map_err(RunError::build)?;
        Ok(runtime.block_on(future))
    }
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("worker_threads", &self.worker_threads)
            .finish()
    }
}

/// Suspends the current task for `delay`: Python's `await asyncio.sleep(delay)`.
///
/// A zero delay yields to the other tasks once, as `sleep(0)` does.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future just stops the wait.
///
/// # Panics
///
/// When polled outside a running [`run`] (no tokio runtime with a timer).
pub fn sleep(delay: Duration) -> impl Future<Output = ()> + Send + Sync + 'static {
    if delay.is_zero() {
        SleepFuture::Yield(tokio::task::yield_now())
    } else {
        SleepFuture::Start(delay)
    }
}

/// Suspends the current task for `delay`, then returns `result`: Python's
/// `await asyncio.sleep(delay, result)`. [`sleep`] is `sleep_with(delay, ())`.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future drops `result` with it.
///
/// # Panics
///
/// When polled outside a running [`run`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::asyncio;
///
/// let late = asyncio::run(asyncio::sleep_with(Duration::from_millis(1), "late"));
/// assert_eq!(late.unwrap(), "late");
/// ```
pub async fn sleep_with<T>(delay: Duration, result: T) -> T {
    sleep(delay).await;
    result
}

/// The future of [`sleep`], written out rather than an `async fn` so that it
/// is no bigger than tokio's timer plus a tag (an `async fn` also keeps its
/// argument: 152 bytes against 120), which matters with 100 000 sleepers.
///
/// States: `Start` → `Timer` on the first poll (the deadline counts from
/// then, as Python's `sleep` counts from when it is awaited); `Yield` for a
/// zero delay.
enum SleepFuture<Y> {
    Start(Duration),
    Timer(tokio::time::Sleep),
    Yield(Y),
}

impl<Y: Future<Output = ()>> Future for SleepFuture<Y> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let SleepFuture::Start(delay) = *self {
            self.set(SleepFuture::Timer(tokio::time::sleep(delay)));
        }
        // SAFETY: the variants' fields are structurally pinned: they are
        // never moved out of a pinned `SleepFuture` (a state change goes
        // through `Pin::set`, which drops in place), and `SleepFuture` has
        // no `Drop` impl and is `Unpin` only when its fields are.
        match unsafe { self.get_unchecked_mut() } {
            SleepFuture::Start(_) => unreachable!("started above"),
            // SAFETY: as above.
            SleepFuture::Timer(timer) => unsafe { Pin::new_unchecked(timer) }.poll(cx),
            // SAFETY: as above.
            SleepFuture::Yield(yielding) => unsafe { Pin::new_unchecked(yielding) }.poll(cx),
        }
    }
}
