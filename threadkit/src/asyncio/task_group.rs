//! [`TaskGroup`]: structured concurrency, where one failure cancels the
//! siblings and the failures come back grouped.

use std::fmt;
use std::panic::resume_unwind;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::error::{ExceptionGroup, TaskError};
use super::task::Task;
use crate::futures::PanicReport;
use crate::util::unwind::run_captured;

/// A group of tasks that live and fail together: Python's `asyncio.TaskGroup`.
///
/// Spawn tasks with [`create_task`](TaskGroup::create_task), then
/// [`join`](TaskGroup::join) (the end of Python's `async with` block). When a
/// task panics, every other task of the group is cancelled at once, and
/// `join` returns an [`ExceptionGroup`] of all the failures.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::asyncio::{self, TaskError, TaskGroup};
///
/// asyncio::run(async {
///     let tg = TaskGroup::new();
///     let slow = tg.create_task(async {
///         asyncio::sleep(Duration::from_secs(10)).await;
///         "never"
///     });
///     tg.create_task(async { panic!("boom") });
///     let err = tg.join().await.unwrap_err();
///     assert_eq!(err.exceptions(), [TaskError::Panicked("boom".into())]);
///     assert_eq!(slow.await, Err(TaskError::Cancelled));
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// Dropping the group (or a `join` future before it returns) cancels every
/// task still running in it.
///
/// # Differences from Python's `TaskGroup`
///
/// - There is no `async with`. [`TaskGroup::scope`] is the block: it runs an
///   async closure with the group, cancels the closure if a member fails
///   while it runs (as Python cancels the task inside `async with`), then
///   joins. Or create the group with [`new`](TaskGroup::new) and call
///   [`join`](TaskGroup::join) where the block would end; then a failing
///   member cancels its siblings but not the code holding the group, which
///   sees the failure when it calls `join`.
/// - A task's exception is a panic; explicit [`Task::cancel`] of a member
///   is not a failure, as in Python.
pub struct TaskGroup {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    all_done: Notify,
    /// Signalled when the first member fails.
    failed: Notify,
}

struct State {
    running: usize,
    failed: bool,
    errors: Vec<TaskError>,
    aborts: Vec<AbortHandle>,
}

impl Shared {
    fn fail(&self, error: TaskError) {
        let aborts = {
            let mut st = self.state.lock();
            st.errors.push(error);
            st.failed = true;
            std::mem::take(&mut st.aborts)
        };
        self.failed.notify_waiters();
        for handle in aborts {
            handle.abort();
        }
    }

    /// Returns once a member has failed.
    async fn failure(&self) {
        loop {
            let notified = self.failed.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.state.lock().failed {
                return;
            }
            notified.await;
        }
    }

    fn abort_all(&self) {
        let aborts = std::mem::take(&mut self.state.lock().aborts);
        for handle in aborts {
            handle.abort();
        }
    }
}

/// Counts a member task as finished when its future is dropped, whether it
/// returned, panicked or was cancelled.
struct Finished(Arc<Shared>);

impl Drop for Finished {
    fn drop(&mut self) {
        let mut st = self.0.state.lock();
        st.running -= 1;
        if st.running == 0 {
            self.0.all_done.notify_waiters();
        }
    }
}

impl TaskGroup {
    /// An empty group.
    pub fn new() -> Self {
        // A member's panic is captured with its location, not printed.
        crate::util::unwind::install_panic_hook();
        TaskGroup {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    running: 0,
                    failed: false,
                    errors: Vec::new(),
                    aborts: Vec::new(),
                }),
                all_done: Notify::new(),
                failed: Notify::new(),
            }),
        }
    }

    /// Starts `future` as a member task (Python's `tg.create_task(coro)`).
    /// If the group already failed, the task is cancelled at once.
    ///
    /// # Panics
    ///
    /// When called outside a running [`run`](super::run), with Python's
    /// message `no running event loop`, at the caller's line.
    #[track_caller]
    pub fn create_task<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.state.lock().running += 1;
        let finished = Finished(Arc::clone(&self.shared));
        let shared = Arc::clone(&self.shared);
        let task = Task::spawn(async move {
            let _finished = finished;
            match (CatchUnwind {
                inner: Box::pin(future),
            })
            .await
            {
                Ok(value) => value,
                Err(report) => {
                    let message = report.message().to_owned();
                    shared.fail(TaskError::Panicked(report));
                    // The task itself ends panicked too, for its handle.
                    resume_unwind(Box::new(message))
                }
            }
        });
        let mut st = self.shared.state.lock();
        if st.failed {
            task.abort_handle().abort();
        } else {
            st.aborts.push(task.abort_handle());
        }
        task
    }

    /// Runs `body` with a new group, then waits for every member: Python's
    /// `async with asyncio.TaskGroup() as tg:` block, body and all.
    ///
    /// If a member fails while `body` still runs, `body` is cancelled: it is
    /// dropped at the `.await` where it is suspended, as Python cancels the
    /// task running the block. The other members are cancelled too, and the
    /// failures come back together.
    ///
    /// # Errors
    ///
    /// An [`ExceptionGroup`] of every member that panicked; `body`'s value
    /// is then lost, as a Python block's would be.
    ///
    /// # Panics
    ///
    /// When called outside a running [`run`](super::run). A panic in `body`
    /// itself propagates (after cancelling the members), as an exception in
    /// the block does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::asyncio::{self, TaskError, TaskGroup};
    ///
    /// asyncio::run(async {
    ///     // Python:
    ///     //     async with asyncio.TaskGroup() as tg:
    ///     //         a = tg.create_task(work(1))
    ///     //         b = tg.create_task(work(2))
    ///     //     print(a.result() + b.result())
    ///     let sum = TaskGroup::scope(async |tg| {
    ///         let a = tg.create_task(async { 1 });
    ///         let b = tg.create_task(async { 2 });
    ///         a.await.unwrap() + b.await.unwrap()
    ///     })
    ///     .await;
    ///     assert_eq!(sum.unwrap(), 3);
    ///
    ///     // A failing member cancels the block itself: the sleep never ends.
    ///     let err = TaskGroup::scope(async |tg| {
    ///         tg.create_task(async { panic!("boom") });
    ///         asyncio::sleep(Duration::from_secs(10)).await;
    ///         unreachable!("cancelled")
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(err.exceptions(), [TaskError::Panicked("boom".into())]);
    /// })
    /// .unwrap();
    /// ```
    pub async fn scope<R>(body: impl AsyncFnOnce(&TaskGroup) -> R) -> Result<R, ExceptionGroup> {
        let group = TaskGroup::new();
        let outcome = {
            let mut body = std::pin::pin!(body(&group));
            let mut failure = std::pin::pin!(group.shared.failure());
            std::future::poll_fn(|cx| {
                if failure.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                body.as_mut().poll(cx).map(Some)
            })
            .await
        };
        match (group.join().await, outcome) {
            (Err(failures), _) => Err(failures),
            (Ok(()), Some(value)) => Ok(value),
            // Cancelled for a failure that `join` did not report: cannot
            // happen (a failure is recorded before it is signalled), but a
            // cancelled block must not pretend to have a value.
            (Ok(()), None) => Err(ExceptionGroup {
                errors: vec![TaskError::Cancelled],
            }),
        }
    }

    /// Waits for every member task to finish (the end of Python's `async
    /// with TaskGroup()` block).
    ///
    /// # Errors
    ///
    /// An [`ExceptionGroup`] of every member that panicked.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the group, which cancels its tasks.
    pub async fn join(self) -> Result<(), ExceptionGroup> {
        loop {
            let notified = self.shared.all_done.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.shared.state.lock().running == 0 {
                break;
            }
            notified.await;
        }
        let errors = std::mem::take(&mut self.shared.state.lock().errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ExceptionGroup { errors })
        }
    }
}

impl Default for TaskGroup {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl Drop for TaskGroup {
    fn drop(&mut self) {
        self.shared.abort_all();
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("TaskGroup")
            .field("running", &st.running)
            .field("failed", &st.failed)
            .finish()
    }
}

/// Polls a future, turning a panic into an `Err` with its report (message,
/// location, backtrace), captured instead of printed.
struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, PanicReport>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner.as_mut();
        match run_captured(|| inner.poll(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(report) => Poll::Ready(Err(report.into())),
        }
    }
}
