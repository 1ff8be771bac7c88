//! The [`Executor`] trait: Python's `concurrent.futures.Executor`, shared by
//! every pool.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::error::FutureError;
use super::future::Future;
use super::work::WorkItem;
use crate::util::wait::Deadline;

/// Something that runs submitted tasks and hands out [`Future`]s: Python's
/// `concurrent.futures.Executor`.
///
/// Implementors write the two required methods; `submit` and `map` come for
/// free. The trait is object safe: `dyn Executor` offers the required
/// methods, and `&dyn Executor`, `Box<dyn Executor>` and `Arc<dyn Executor>`
/// implement `Executor` themselves, generic methods included.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{Executor, ThreadPoolExecutor};
///
/// fn squares(pool: &dyn Executor) -> Vec<u64> {
///     // `&dyn Executor` is itself an `Executor`, generic methods included.
///     (&pool).map(|n: u64| n * n, 0..5, None)
///         .unwrap()
///         .collect::<Result<_, _>>()
///         .unwrap()
/// }
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// assert_eq!(squares(&pool), [0, 1, 4, 9, 16]);
/// ```
pub trait Executor {
    /// Queues a work item (made by [`WorkItem::new`]) to run.
    ///
    /// # Errors
    ///
    /// [`FutureError::ShutDown`] after [`shutdown`](Executor::shutdown),
    /// [`FutureError::BrokenExecutor`] once the executor is broken. The item
    /// is dropped, which fails its future.
    fn submit_work(&self, item: WorkItem<'static>) -> Result<(), FutureError>;

    /// Stops accepting work (Python's `shutdown(wait, cancel_futures)`).
    ///
    /// With `cancel_futures`, tasks still queued are cancelled; with `wait`,
    /// returns once all started and remaining tasks have finished and the
    /// workers have exited. May be called any number of times.
    fn shutdown(&self, wait: bool, cancel_futures: bool);

    /// Schedules `f` and returns the future of its result (Python's
    /// `submit(fn, *args)`; arguments are what the closure captures).
    ///
    /// # Errors
    ///
    /// As [`submit_work`](Executor::submit_work).
    fn submit<F, T>(&self, f: F) -> Result<Future<T>, FutureError>
    where
        Self: Sized,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (item, future) = WorkItem::new(f);
        self.submit_work(item)?;
        Ok(future)
    }

    /// Runs `f` on every item concurrently and yields the results in input
    /// order (Python's `map(fn, iterable, timeout=)`).
    ///
    /// All items are submitted at once; results are waited for lazily, as
    /// the iterator is advanced. `timeout` counts from this call: the first
    /// result not ready by then is yielded as `Err(FutureError::Timeout)`,
    /// every task not started yet (that one included) is cancelled and the
    /// iterator ends. Dropping the
    /// iterator early cancels the tasks that have not started. A panicking
    /// task yields `Err(FutureError::Panicked)` in its place.
    ///
    /// # Errors
    ///
    /// As [`submit_work`](Executor::submit_work); tasks submitted before the
    /// failure are cancelled.
    fn map<F, I, T>(&self, f: F, items: I, timeout: Option<Duration>) -> Result<Map<T>, FutureError>
    where
        Self: Sized,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        let mut map = Map::new(VecDeque::new(), Deadline::from_timeout(timeout));
        for item in items {
            let f = Arc::clone(&f);
            map.futures.push_back(self.submit(move || f(item))?);
        }
        Ok(map)
    }
}

macro_rules! forward_executor {
    ($($ptr:ty),*) => {$(
        impl<E: Executor + ?Sized> Executor for $ptr {
            fn submit_work(&self, item: WorkItem<'static>) -> Result<(), FutureError> {
                (**self).submit_work(item)
            }

            fn shutdown(&self, wait: bool, cancel_futures: bool) {
                (**self).shutdown(wait, cancel_futures)
            }
        }
    )*};
}

forward_executor!(&E, Box<E>, Arc<E>);

/// The iterator returned by [`Executor::map`]: results in input order.
pub struct Map<T> {
    futures: VecDeque<Future<T>>,
    deadline: Deadline,
}

impl<T> Map<T> {
    pub(crate) fn new(futures: VecDeque<Future<T>>, deadline: Deadline) -> Self {
        Map { futures, deadline }
    }

    fn cancel_rest(&mut self) {
        for f in self.futures.drain(..) {
            f.cancel();
        }
    }
}

impl<T> Iterator for Map<T> {
    type Item = Result<T, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        let future = self.futures.pop_front()?;
        match future.into_result_until(self.deadline) {
            Ok(outcome) => Some(outcome),
            Err(unfinished) => {
                // Python's `_result_or_cancel`: the item waited for is
                // cancelled too, if it has not started.
                unfinished.cancel();
                self.cancel_rest();
                Some(Err(FutureError::Timeout))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // A timeout ends the iteration early.
        let lower = if self.deadline == Deadline::Never {
            self.futures.len()
        } else {
            0
        };
        (lower, Some(self.futures.len()))
    }
}

impl<T> Drop for Map<T> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<T> fmt::Debug for Map<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("remaining", &self.futures.len())
            .finish()
    }
}
