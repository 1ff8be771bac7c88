//! [`create_task`] and [`Task`]: a future scheduled to run on its own.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::Arc;

use tokio::task::{AbortHandle, JoinHandle};

use super::awaited::{Awaited, Done, Tracked};
use super::error::TaskError;

/// Schedules `future` to run concurrently as a task and returns its handle:
/// Python's `asyncio.create_task(coro)`.
///
/// The task starts at once, whether or not the handle is awaited; dropping
/// the handle detaches it (it keeps running). Awaiting the handle gives the
/// task's output, or [`TaskError`] if it was cancelled or panicked.
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
///     let task = asyncio::create_task(async {
///         asyncio::sleep(Duration::from_millis(10)).await;
///         "done"
///     });
///     assert!(!task.done());
///     assert_eq!(task.await, Ok("done"));
/// })
/// .unwrap();
/// ```
pub fn create_task<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Task::spawn(future)
}

/// A running future and its eventual result: Python's `asyncio.Task`.
///
/// # Cancel safety
///
/// Awaiting a `Task` is cancel safe: dropping the `.await` leaves the task
/// running and the handle usable (await it again later). An expiring
/// [`wait_for`](super::wait_for) or [`timeout`](super::timeout) is the
/// exception: like Python's, it cancels the task it awaits.
///
/// # Differences from Python's `asyncio.Task`
///
/// - The exception of a task is a panic: [`TaskError::Panicked`].
/// - [`cancel`](Task::cancel) drops the task's future at its next `.await`
///   point; the future cannot catch the cancellation (no `CancelledError`
///   inside the coroutine), but its destructors run.
/// - [`result`](Task::result) moves the value out: it can be taken once.
/// - As in Python, a task awaited under [`wait_for`](super::wait_for) or
///   [`timeout`](super::timeout) (by value, by `&mut`, or inside the future
///   given) is cancelled when the timeout expires, and the timeout returns
///   once the task is done. A task whose handle was dropped is no longer
///   awaited and keeps running.
pub struct Task<T> {
    handle: Option<JoinHandle<T>>,
    /// What a timeout awaiting this task needs to cancel it.
    awaited: Arc<Awaited>,
}

impl<T> Task<T> {
    /// Spawns `future` on the current runtime as a task.
    pub(crate) fn spawn<F>(future: F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let done = Arc::new(Done::default());
        let (future, listing) = super::current::listed_future(future);
        let handle = tokio::spawn(Tracked::new(future, Arc::clone(&done)));
        listing.list(handle.id());
        let awaited = Awaited::new(handle.abort_handle(), done);
        Task {
            handle: Some(handle),
            awaited,
        }
    }

    /// A handle that cancels the task, for groups.
    pub(crate) fn abort_handle(&self) -> AbortHandle {
        self.awaited.abort_handle()
    }

    /// Requests cancellation (Python's `cancel()`). Returns `false` if the
    /// task is already done, `true` otherwise; awaiting it then gives
    /// [`TaskError::Cancelled`] unless it finished first.
    pub fn cancel(&self) -> bool {
        match &self.handle {
            Some(h) if !h.is_finished() => {
                h.abort();
                true
            }
            _ => false,
        }
    }

    /// Whether the task finished, panicked or was cancelled (Python's `done()`).
    pub fn done(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Takes the outcome of a task that is done, without waiting (Python's
    /// `result()`).
    ///
    /// # Errors
    ///
    /// [`TaskError::InvalidState`] if the task is not done (it is left
    /// untouched), [`TaskError::Consumed`] if the outcome was already taken,
    /// else the task's own [`TaskError`].
    pub fn result(&mut self) -> Result<T, TaskError> {
        match &self.handle {
            None => Err(TaskError::Consumed),
            Some(h) if !h.is_finished() => Err(TaskError::InvalidState),
            Some(_) => {
                let mut cx = Context::from_waker(std::task::Waker::noop());
                match Pin::new(&mut *self).poll(&mut cx) {
                    Poll::Ready(outcome) => outcome,
                    Poll::Pending => Err(TaskError::InvalidState),
                }
            }
        }
    }

    /// The tokio handle, for code that needs tokio's API.
    pub fn into_join_handle(mut self) -> Option<JoinHandle<T>> {
        self.handle.take()
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(handle) = this.handle.as_mut() else {
            return Poll::Ready(Err(TaskError::Consumed));
        };
        // A timeout polling us now must cancel us when it expires.
        Awaited::record(&this.awaited);
        let outcome = match Pin::new(handle).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(outcome) => outcome,
        };
        this.handle = None;
        Poll::Ready(outcome.map_err(TaskError::from_join))
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.handle {
            None => "consumed",
            Some(h) if h.is_finished() => "done",
            Some(_) => "pending",
        };
        f.debug_struct("Task").field("state", &state).finish()
    }
}
