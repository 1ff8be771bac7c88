//! [`create_task`] and [`Task`]: a future scheduled to run on its own.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
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
/// When called outside a running [`run`](super::run), with Python's
/// message, `no running event loop`, at the caller's line (Python raises
/// `RuntimeError`).
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
#[track_caller]
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
/// - [`result`](Task::result) lends the value, as
///   [`futures::Future::result`](crate::futures::Future::result) does;
///   [`into_result`](Task::into_result) and `.await` move it out.
/// - Tasks compare and hash by identity, as Python's do, so they can key a
///   map or fill a set.
/// - As in Python, a task awaited under [`wait_for`](super::wait_for) or
///   [`timeout`](super::timeout) (by value, by `&mut`, or inside the future
///   given) is cancelled when the timeout expires, and the timeout returns
///   once the task is done. A task whose handle was dropped is no longer
///   awaited and keeps running.
pub struct Task<T> {
    /// The tokio task, until its outcome is taken. The lock is only taken by
    /// [`Task::result`], which reads the outcome through `&self`; awaiting
    /// goes through `&mut` and never locks.
    handle: Mutex<Option<JoinHandle<T>>>,
    /// The outcome once [`Task::result`] read it, lent from here.
    outcome: OnceLock<Result<T, TaskError>>,
    /// What a timeout awaiting this task needs to cancel it.
    awaited: Arc<Awaited>,
}

// The handle is never pinned structurally: `poll` reaches the tokio handle
// and the outcome through `&mut` only, and moves the outcome out by value.
impl<T> Unpin for Task<T> {}

/// Panics, at the caller's line, with Python's message when no event loop
/// runs on this thread (tokio would say "there is no reactor running" from
/// inside threadkit).
#[track_caller]
pub(crate) fn require_running_loop() {
    if tokio::runtime::Handle::try_current().is_err() {
        panic!("no running event loop");
    }
}

impl<T> Task<T> {
    /// Spawns `future` on the current runtime as a task.
    #[track_caller]
    pub(crate) fn spawn<F>(future: F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        require_running_loop();
        let done = Arc::new(Done::default());
        let (future, listing) = super::current::listed_future(future);
        let handle = tokio::spawn(Tracked::new(future, Arc::clone(&done)));
        listing.list(handle.id());
        let awaited = Awaited::new(handle.abort_handle(), done);
        Task {
            handle: Mutex::new(Some(handle)),
            outcome: OnceLock::new(),
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
        match &*self.handle.lock() {
            Some(h) if !h.is_finished() => {
                h.abort();
                true
            }
            _ => false,
        }
    }

    /// Whether the task finished, panicked or was cancelled (Python's `done()`).
    pub fn done(&self) -> bool {
        self.outcome.get().is_some()
            || self
                .handle
                .lock()
                .as_ref()
                .is_none_or(JoinHandle::is_finished)
    }

    /// Reads the outcome of a task that is done, without waiting, and lends
    /// its value (Python's `result()`), as
    /// [`futures::Future::result`](crate::futures::Future::result) does:
    /// every call gives the same `&T`.
    ///
    /// # Errors
    ///
    /// [`TaskError::InvalidState`] if the task is not done (it is left
    /// untouched), [`TaskError::Consumed`] if the outcome was already moved
    /// out by `.await`, else the task's own [`TaskError`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::asyncio::{self, TaskError};
    ///
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async { String::from("done") });
    ///     assert_eq!(task.result(), Err(TaskError::InvalidState));
    ///     while !task.done() {
    ///         asyncio::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    ///     assert_eq!(task.result().map(String::as_str), Ok("done"));
    ///     assert_eq!(task.result().map(String::as_str), Ok("done")); // lent again
    ///     assert_eq!(task.into_result(), Ok(String::from("done")));
    /// })
    /// .unwrap();
    /// ```
    pub fn result(&self) -> Result<&T, TaskError> {
        if let Some(outcome) = self.outcome.get() {
            return outcome.as_ref().map_err(Clone::clone);
        }
        let mut handle = self.handle.lock();
        let outcome = match handle.as_mut() {
            None => return Err(TaskError::Consumed),
            Some(h) if !h.is_finished() => return Err(TaskError::InvalidState),
            Some(h) => {
                let mut cx = Context::from_waker(std::task::Waker::noop());
                match Pin::new(h).poll(&mut cx) {
                    Poll::Ready(outcome) => outcome.map_err(TaskError::from_join),
                    Poll::Pending => return Err(TaskError::InvalidState),
                }
            }
        };
        *handle = None;
        // Only this call, holding the lock with the handle present, can fill
        // the cell: it was empty above and nobody else had the outcome.
        let outcome = self.outcome.get_or_init(|| outcome);
        outcome.as_ref().map_err(Clone::clone)
    }

    /// Moves the outcome of a task that is done out, without waiting
    /// (Python's `result()` where the value is not needed again). To wait,
    /// `.await` the task.
    ///
    /// # Errors
    ///
    /// As [`result`](Task::result). When the task is not done, the handle is
    /// dropped with the error and the task keeps running, detached.
    pub fn into_result(mut self) -> Result<T, TaskError> {
        if let Some(outcome) = self.outcome.take() {
            return outcome;
        }
        if !self.done() {
            return Err(TaskError::InvalidState);
        }
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match Pin::new(&mut self).poll(&mut cx) {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => Err(TaskError::InvalidState),
        }
    }

    /// The tokio handle, for code that needs tokio's API; `None` once the
    /// outcome was taken.
    pub fn into_join_handle(self) -> Option<JoinHandle<T>> {
        self.handle.into_inner()
    }
}

/// Identity: a task equals only itself, as Python's tasks compare by `id()`.
impl<T> PartialEq for Task<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.awaited, &other.awaited)
    }
}

impl<T> Eq for Task<T> {}

/// Hashes the task's identity, never its state or value.
impl<T> std::hash::Hash for Task<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.awaited), state);
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(outcome) = this.outcome.take() {
            return Poll::Ready(outcome);
        }
        let Some(handle) = this.handle.get_mut().as_mut() else {
            return Poll::Ready(Err(TaskError::Consumed));
        };
        // A timeout polling us now must cancel us when it expires.
        Awaited::record(&this.awaited);
        let outcome = match Pin::new(handle).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(outcome) => outcome,
        };
        *this.handle.get_mut() = None;
        Poll::Ready(outcome.map_err(TaskError::from_join))
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.handle.lock() {
            None if self.outcome.get().is_some() => "done",
            None => "consumed",
            Some(h) if h.is_finished() => "done",
            Some(_) => "pending",
        };
        f.debug_struct("Task").field("state", &state).finish()
    }
}
