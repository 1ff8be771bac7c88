//! [`gather`], [`gather_return_exceptions`] and [`as_completed`]: run many
//! futures as tasks and collect their results.

use std::collections::HashMap;
use std::fmt;

use tokio::task::{Id, JoinSet};

use super::error::TaskError;

/// Runs every future concurrently as a task and returns their outputs in
/// input order: Python's `await asyncio.gather(*aws)`.
///
/// # Errors
///
/// The first task to fail (panic or cancellation), as soon as it fails,
/// without waiting for the others; as in Python, the other tasks are *not*
/// cancelled and keep running.
///
/// # Cancel safety
///
/// Dropping the `gather` future before it returns cancels every task not yet
/// finished, as cancelling Python's `gather()` does.
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
    let (mut set, index) = spawn_all(futures);
    let mut slots: Vec<Option<F::Output>> = (0..index.len()).map(|_| None).collect();
    while let Some(joined) = set.join_next_with_id().await {
        match joined {
            Ok((id, value)) => slots[index[&id]] = Some(value),
            Err(e) => {
                set.detach_all();
                return Err(TaskError::from_join(e));
            }
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// Runs every future concurrently as a task and returns each one's outcome,
/// in input order: Python's `await asyncio.gather(*aws, return_exceptions=True)`.
///
/// # Cancel safety
///
/// As [`gather`]: dropping the future cancels the unfinished tasks.
///
/// # Panics
///
/// When called outside a running [`run`](super::run).
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
pub async fn gather_return_exceptions<I, F>(futures: I) -> Vec<Result<F::Output, TaskError>>
where
    I: IntoIterator<Item = F>,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (mut set, index) = spawn_all(futures);
    let mut slots: Vec<Option<Result<F::Output, TaskError>>> =
        (0..index.len()).map(|_| None).collect();
    while let Some(joined) = set.join_next_with_id().await {
        match joined {
            Ok((id, value)) => slots[index[&id]] = Some(Ok(value)),
            Err(e) => {
                let i = index[&e.id()];
                slots[i] = Some(Err(TaskError::from_join(e)));
            }
        }
    }
    slots.into_iter().flatten().collect()
}

fn spawn_all<I, F>(futures: I) -> (JoinSet<F::Output>, HashMap<Id, usize>)
where
    I: IntoIterator<Item = F>,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = JoinSet::new();
    let mut index = HashMap::new();
    for (i, future) in futures.into_iter().enumerate() {
        index.insert(set.spawn(future).id(), i);
    }
    (set, index)
}

/// Runs every future concurrently as a task and yields their outcomes as
/// they finish: Python's `for f in asyncio.as_completed(aws)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::asyncio;
///
/// let order = asyncio::run(async {
///     let mut done = asyncio::as_completed([30u64, 10, 20].map(|ms| async move {
///         asyncio::sleep(Duration::from_millis(ms)).await;
///         ms
///     }));
///     let mut order = Vec::new();
///     while let Some(outcome) = done.next().await {
///         order.push(outcome.unwrap());
///     }
///     order
/// })
/// .unwrap();
/// assert_eq!(order, [10, 20, 30]);
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
        set: spawn_all(futures).0,
    }
}

/// The outcomes of [`as_completed`], in completion order.
///
/// # Differences from Python's `as_completed`
///
/// - It yields outcomes, not awaitables: `next().await` is Python's
///   `await next_future`.
/// - No `timeout` argument: wrap `next()` in [`wait_for`](super::wait_for).
/// - Dropping it cancels the tasks not finished yet.
pub struct AsCompleted<T> {
    set: JoinSet<T>,
}

impl<T: 'static> AsCompleted<T> {
    /// The next outcome to finish, or `None` once all were yielded.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before it returns, no outcome is lost.
    pub async fn next(&mut self) -> Option<Result<T, TaskError>> {
        let joined = self.set.join_next().await?;
        Some(joined.map_err(TaskError::from_join))
    }

    /// How many outcomes are still to come.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether every outcome was yielded.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.set.len())
            .finish()
    }
}
