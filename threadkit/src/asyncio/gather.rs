//! [`gather`], [`gather_return_exceptions`] and [`as_completed`]: run many
//! futures concurrently and collect their results.

use std::fmt;

use tokio::task::JoinSet;

use super::error::TaskError;
use super::poll_set::PollSet;

/// Runs every future concurrently and returns their outputs in input order:
/// Python's `await asyncio.gather(*aws)`.
///
/// The futures are polled inside the task awaiting `gather` (each with its
/// own waker, so a wake-up re-polls only that future), not spawned as tasks
/// of their own: 100 000 sleepers cost one slot each, about the size of the
/// future, and no allocation per future.
///
/// # Errors
///
/// The first future to fail (panic), as soon as it fails, without waiting for
/// the others; as in Python, the others are *not* cancelled and keep running:
/// at that moment they move, still pinned in place, to a detached task.
///
/// # Cancel safety
///
/// Dropping the `gather` future before it returns drops (cancels) every
/// future not yet finished, as cancelling Python's `gather()` does.
///
/// # Differences from Python's `gather`
///
/// - Python wraps each coroutine in a task; here they share the task that
///   awaits `gather`, so on a multi-thread loop they run concurrently but
///   not in parallel (spawn [`create_task`](super::create_task)s and gather
///   the [`Task`](super::Task) handles for that).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::asyncio;
///
/// async fn fetch_data(n: u32) -> u32 {
///     asyncio::sleep(Duration::from_millis(20)).await;
///     n
/// }
/// let results = asyncio::run(asyncio::gather((0..5).map(fetch_data))).unwrap();
/// assert_eq!(results, Ok(vec![0, 1, 2, 3, 4]));
/// ```
pub async fn gather<I, F>(futures: I) -> Result<Vec<F::Output>, TaskError>
where
    I: IntoIterator<Item = F>,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = PollSet::new(futures);
    match std::future::poll_fn(|cx| set.poll_run(cx, true)).await {
        None => Ok(set
            .into_outcomes()
            .map(|outcome| match outcome {
                Ok(value) => value,
                Err(_) => unreachable!("gather returns at the first failure"),
            })
            .collect()),
        Some(failed) => {
            let error = set.take(failed).err();
            set.detach();
            Err(error.expect("the failed future's outcome is an error"))
        }
    }
}

/// Runs every future concurrently and returns each one's outcome, in input
/// order: Python's `await asyncio.gather(*aws, return_exceptions=True)`.
///
/// The futures are polled inside the awaiting task, as in [`gather`].
///
/// # Cancel safety
///
/// As [`gather`]: dropping the future cancels the unfinished futures.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, TaskError};
///
/// let outcomes = asyncio::run(asyncio::gather_return_exceptions((0..3).map(|n| async move {
///     assert!(n != 1, "one is bad");
///     n
/// })))
/// .unwrap();
/// assert_eq!(outcomes, [Ok(0), Err(TaskError::Panicked("one is bad".into())), Ok(2)]);
/// ```
#[doc(alias = "return_exceptions")]
pub async fn gather_return_exceptions<I, F>(futures: I) -> Vec<Result<F::Output, TaskError>>
where
    I: IntoIterator<Item = F>,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = PollSet::new(futures);
    std::future::poll_fn(|cx| set.poll_run(cx, false)).await;
    set.into_outcomes().collect()
}

fn spawn_all<I, F>(futures: I) -> JoinSet<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = JoinSet::new();
    for future in futures {
        set.spawn(future);
    }
    set
}

/// Runs every future concurrently as a task and yields their outcomes as
/// they finish: Python's `for f in asyncio.as_completed(aws)`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, Event};
///
/// let order = asyncio::run(async {
///     // "second" waits for "first" to finish, whatever their input order.
///     let first_done = Arc::new(Event::new());
///     let mut done = asyncio::as_completed(["second", "first"].map(|name| {
///         let first_done = Arc::clone(&first_done);
///         async move {
///             match name {
///                 "first" => first_done.set(),
///                 _ => first_done.wait().await,
///             }
///             name
///         }
///     }));
///     let mut order = Vec::new();
///     while let Some(outcome) = done.next().await {
///         order.push(outcome.unwrap());
///     }
///     order
/// })
/// .unwrap();
/// assert_eq!(order, ["first", "second"]);
/// ```
///
/// # Panics
///
/// When called outside a running [`run`](super::run).
pub fn as_completed<I, F>(futures: I) -> AsCompleted<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    AsCompleted {
        set: spawn_all(futures),
        deadline: None,
        timed_out: 0,
    }
}

/// The outcomes of [`as_completed`], in completion order.
///
/// # Differences from Python's `as_completed`
///
/// - It yields outcomes, not awaitables: `next().await` is Python's
///   `await next_future`.
/// - Python's `timeout=` is [`timeout`](AsCompleted::timeout), a builder
///   method.
/// - Dropping it cancels the tasks not finished yet.
pub struct AsCompleted<T> {
    set: JoinSet<T>,
    /// When the outcomes not in yet turn into `Timeout`s.
    deadline: Option<tokio::time::Instant>,
    /// How many `Timeout`s are still to be yielded.
    timed_out: usize,
}

impl<T: 'static> AsCompleted<T> {
    /// Gives up on the outcomes not in `timeout` from now: Python's
    /// `as_completed(aws, timeout=t)`. Each of them is then yielded as
    /// `Err(TaskError::Timeout)` (where Python's awaitable raises
    /// `TimeoutError`), and their tasks are cancelled.
    ///
    /// # Panics
    ///
    /// When called outside a running [`run`](super::run).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::asyncio::{self, TaskError};
    ///
    /// let outcomes = asyncio::run(async {
    ///     let mut done = asyncio::as_completed([10u64, 5_000].map(|ms| async move {
    ///         asyncio::sleep(Duration::from_millis(ms)).await;
    ///         ms
    ///     }))
    ///     .timeout(Duration::from_millis(500));
    ///     let mut outcomes = Vec::new();
    ///     while let Some(outcome) = done.next().await {
    ///         outcomes.push(outcome);
    ///     }
    ///     outcomes
    /// })
    /// .unwrap();
    /// assert_eq!(outcomes, [Ok(10), Err(TaskError::Timeout)]);
    /// ```
    #[must_use = "the timeout applies to the returned `AsCompleted`"]
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.deadline = Some(tokio::time::Instant::now() + timeout);
        self
    }

    /// The next outcome to finish, or `None` once all were yielded.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before it returns, no outcome is lost.
    pub async fn next(&mut self) -> Option<Result<T, TaskError>> {
        if self.timed_out > 0 {
            self.timed_out -= 1;
            return Some(Err(TaskError::Timeout));
        }
        let joined = match self.deadline {
            None => self.set.join_next().await?,
            Some(deadline) => {
                match tokio::time::timeout_at(deadline, self.set.join_next()).await {
                    Ok(joined) => joined?,
                    Err(_elapsed) => {
                        // This outcome and every other one still out.
                        self.timed_out = self.set.len().saturating_sub(1);
                        self.set.abort_all();
                        self.set.detach_all();
                        return Some(Err(TaskError::Timeout));
                    }
                }
            }
        };
        Some(joined.map_err(TaskError::from_join))
    }

    /// How many outcomes are still to come.
    pub fn len(&self) -> usize {
        self.set.len() + self.timed_out
    }

    /// Whether every outcome was yielded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.set.len())
            .finish()
    }
}
