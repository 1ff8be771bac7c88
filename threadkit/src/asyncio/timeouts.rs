//! [`wait_for`] and [`timeout`]: give up on a future after a delay.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use super::awaited::Scope;
use super::error::TimeoutError;

/// Awaits `future`, giving up after `delay`: Python's
/// `await asyncio.wait_for(aw, timeout)`.
///
/// The future is polled before the clock is checked, so one that is ready
/// at once wins even with a zero delay. On timeout, as Python cancels the
/// awaitable: every [`Task`](super::Task) awaited under `future` (the
/// future itself, passed by value or by `&mut`, or one it awaits) is
/// cancelled, `future` is dropped, and [`TimeoutError`] is returned once
/// those tasks are done, their futures dropped. A task that finished just
/// before the cancellation keeps its output for a later `.await` (by
/// `&mut`); Python would return it from `wait_for` instead.
///
/// # Cancel safety
///
/// Cancel safe exactly when `future` is: dropping `wait_for` drops it (and
/// cancels nothing).
///
/// # Panics
///
/// When polled outside a running [`run`](super::run).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::asyncio;
///
/// asyncio::run(async {
///     let slow = asyncio::sleep(Duration::from_secs(3600));
///     assert!(asyncio::wait_for(slow, Duration::from_millis(10)).await.is_err());
///     assert_eq!(asyncio::wait_for(async { 7 }, Duration::ZERO).await, Ok(7));
/// })
/// .unwrap();
/// ```
pub async fn wait_for<F: Future>(future: F, delay: Duration) -> Result<F::Output, TimeoutError> {
    timeout(delay, future).await
}

/// `future` with a deadline `delay` from now that can be moved: Python 3.11's
/// `async with asyncio.timeout(delay)`.
///
/// # Panics
///
/// When called outside a running [`run`](super::run).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::asyncio;
///
/// asyncio::run(async {
///     let mut t = asyncio::timeout(Duration::from_millis(10), asyncio::sleep(Duration::from_millis(50)));
///     t.reschedule(tokio::time::Instant::now() + Duration::from_secs(5));
///     assert_eq!(t.await, Ok(()));
/// })
/// .unwrap();
/// ```
pub fn timeout<F: Future>(delay: Duration, future: F) -> Timeout<F> {
    // A delay too large for an Instant means no deadline, as in `Deadline`.
    let at = Instant::now()
        .checked_add(delay)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365 * 30));
    timeout_at(at, future)
}

/// `future` with a deadline at `when`: Python's `asyncio.timeout_at(when)`.
///
/// # Panics
///
/// When called outside a running [`run`](super::run).
pub fn timeout_at<F: Future>(when: Instant, future: F) -> Timeout<F> {
    Timeout {
        future: Some(Box::pin(future)),
        sleep: Box::pin(tokio::time::sleep_until(when)),
        expired: false,
        scope: Scope::default(),
    }
}

/// A future with a deadline, made by [`timeout`] or [`timeout_at`]: Python's
/// `asyncio.Timeout`. Resolves to the future's output, or [`TimeoutError`].
///
/// On expiry it cancels the tasks awaited under it and resolves once they
/// are done, as [`wait_for`] does.
///
/// # Cancel safety
///
/// As [`wait_for`].
pub struct Timeout<F> {
    /// `None` once expired: dropped then, as Python cancels it.
    future: Option<Pin<Box<F>>>,
    sleep: Pin<Box<Sleep>>,
    expired: bool,
    /// The tasks awaited under `future`, cancelled on expiry.
    scope: Scope,
}

impl<F> Timeout<F> {
    /// The current deadline (Python's `when()`).
    pub fn when(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Moves the deadline (Python's `reschedule(when)`).
    pub fn reschedule(&mut self, when: Instant) {
        self.sleep.as_mut().reset(when);
    }

    /// Whether the deadline passed before the future finished (Python's
    /// `expired()`).
    pub fn expired(&self) -> bool {
        self.expired
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every field is boxed or `Unpin`: nothing here is pinned in place.
        let this = self.get_mut();
        if let Some(future) = &mut this.future {
            if let Poll::Ready(value) = this.scope.polling(|| future.as_mut().poll(cx)) {
                return Poll::Ready(Ok(value));
            }
            if this.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.expired = true;
            // Cancel while the handles still exist (a task passed by value
            // lives inside `future`), then drop the future.
            this.scope.cancel();
            this.future = None;
        }
        if this.scope.poll_cancelled(cx) {
            Poll::Ready(Err(TimeoutError(())))
        } else {
            Poll::Pending
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("when", &self.when())
            .field("expired", &self.expired)
            .finish()
    }
}
