//! [`Pool`]: Python's `multiprocessing.Pool`, the older face of a process
//! pool, as a thin layer over [`ProcessPoolExecutor`].

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::executor::{ProcessMap, ProcessPoolExecutor};
use crate::futures::{
    BuildError, Future, FutureError, MapOptions, Shutdown, SubmitError, as_completed,
};

/// A pool of worker processes with Python's `multiprocessing.Pool` methods:
/// `apply`, `apply_async`, `map`, `imap`, `imap_unordered`, `starmap`,
/// `close`, `join`, `terminate`.
///
/// It is a [`ProcessPoolExecutor`] underneath (the same workers, the same
/// failure rules: a panicking task fails its own result, a dead worker only
/// its own tasks), with the blocking, list-returning methods Python code
/// written for `multiprocessing.Pool` expects.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::Pool;
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn power((base, exp): (u64, u32)) -> u64 {
///     base.pow(exp)
/// }
///
/// // with Pool(2) as pool:
/// let pool = Pool::new(2).unwrap();
/// assert_eq!(pool.map(square, 0..5, 1).unwrap(), [0, 1, 4, 9, 16]);
/// assert_eq!(pool.apply(square, 7).unwrap(), 49);
/// let later = pool.apply_async(square, 8).unwrap();
/// assert_eq!(later.get(None), Ok(&64));
/// assert_eq!(pool.starmap(power, [(2, 10), (3, 3)], 1).unwrap(), [1024, 27]);
/// let mut unordered: Vec<u64> = pool.imap_unordered(square, 1..4, 1).unwrap().map(Result::unwrap).collect();
/// unordered.sort();
/// assert_eq!(unordered, [1, 4, 9]);
/// pool.close();
/// pool.join();
/// ```
///
/// # Differences from Python's `Pool`
///
/// - Tasks are `fn(A) -> R` with one serde argument, as for
///   [`ProcessPoolExecutor::submit`]; `starmap` takes tuples as that one
///   argument, so it is `map` with a destructuring function.
/// - `map` returns the first error (Python raises the first exception) as a
///   [`FutureError`]; `imap` and `imap_unordered` yield a `Result` per item.
/// - No `callback`/`error_callback` arguments: use
///   [`add_done_callback`](Future::add_done_callback) on
///   [`AsyncResult::into_future`].
/// - Dropping the pool waits for its tasks (Python's `__exit__` terminates
///   them; call [`terminate`](Pool::terminate) for that).
pub struct Pool {
    executor: ProcessPoolExecutor,
}

/// The pending result of [`Pool::apply_async`] (Python's `AsyncResult`):
/// `get`, `wait`, `ready`, `successful`, over a threadkit [`Future`]
/// ([`into_future`](AsyncResult::into_future)).
pub struct AsyncResult<R> {
    future: Future<R>,
}

impl Pool {
    /// A pool of `processes` workers (Python's `Pool(processes)`).
    ///
    /// # Errors
    ///
    /// A [`BuildError`] if `processes` is 0.
    pub fn new(processes: usize) -> Result<Pool, BuildError> {
        Ok(Pool {
            executor: ProcessPoolExecutor::new(processes)?,
        })
    }

    /// A pool over an executor built with [`ProcessPoolExecutor::builder`]
    /// (initializer, `max_tasks_per_child`: Python's `Pool` keywords).
    pub fn from_executor(executor: ProcessPoolExecutor) -> Pool {
        Pool { executor }
    }

    /// Runs `f(arg)` in a worker and waits for it (Python's `apply`).
    ///
    /// # Errors
    ///
    /// The task's [`FutureError`].
    pub fn apply<A, R>(&self, f: fn(A) -> R, arg: A) -> Result<R, FutureError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.executor.submit(f, arg)?.into_result()
    }

    /// Runs `f(arg)` in a worker (Python's `apply_async`).
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after [`close`](Pool::close),
    /// [`SubmitError::BrokenExecutor`] once the pool is broken.
    pub fn apply_async<A, R>(&self, f: fn(A) -> R, arg: A) -> Result<AsyncResult<R>, SubmitError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        Ok(AsyncResult {
            future: self.executor.submit(f, arg)?,
        })
    }

    /// `f` on every item, `chunksize` items per message, results in input
    /// order once all are in (Python's `map`).
    ///
    /// # Errors
    ///
    /// The first item's error in input order; [`FutureError::InvalidArgument`]
    /// if `chunksize` is 0.
    pub fn map<A, R, I>(
        &self,
        f: fn(A) -> R,
        items: I,
        chunksize: usize,
    ) -> Result<Vec<R>, FutureError>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.imap(f, items, chunksize)?.collect()
    }

    /// [`map`](Pool::map) for functions of a tuple (Python's `starmap`).
    ///
    /// # Errors
    ///
    /// As [`map`](Pool::map).
    pub fn starmap<A, R, I>(
        &self,
        f: fn(A) -> R,
        items: I,
        chunksize: usize,
    ) -> Result<Vec<R>, FutureError>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.map(f, items, chunksize)
    }

    /// `f` on every item, yielding each result in input order as soon as it
    /// and those before it are in (Python's `imap`).
    ///
    /// # Errors
    ///
    /// As [`ProcessPoolExecutor::map`].
    pub fn imap<A, R, I>(
        &self,
        f: fn(A) -> R,
        items: I,
        chunksize: usize,
    ) -> Result<ProcessMap<R>, FutureError>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.executor
            .map_with(f, items, MapOptions::default().chunksize(chunksize))
    }

    /// `f` on every item, yielding results as they finish (Python's
    /// `imap_unordered`); a failed chunk yields its error once per item.
    ///
    /// # Errors
    ///
    /// As [`ProcessPoolExecutor::map`].
    pub fn imap_unordered<A, R, I>(
        &self,
        f: fn(A) -> R,
        items: I,
        chunksize: usize,
    ) -> Result<impl Iterator<Item = Result<R, FutureError>>, FutureError>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let chunks = self.executor.submit_chunks(f, items, chunksize)?;
        Ok(as_completed(chunks, None).flat_map(|done| {
            // Without a timeout, as_completed yields only futures.
            let results: Vec<Result<R, FutureError>> = match done {
                Ok(chunk) => match chunk.future.into_result() {
                    Ok(values) => values.into_iter().map(Ok).collect(),
                    Err(e) => (0..chunk.size).map(|_| Err(e.clone())).collect(),
                },
                Err(e) => vec![Err(e.into())],
            };
            results
        }))
    }

    /// Accepts no more tasks (Python's `close`); those submitted run.
    pub fn close(&self) {
        self.executor.shutdown(Shutdown::no_wait());
    }

    /// Cancels the tasks not yet started and stops the workers (Python's
    /// `terminate`), waiting for them to exit.
    pub fn terminate(&self) {
        self.executor.terminate_workers();
        self.executor.shutdown(Shutdown::wait().cancel_futures());
    }

    /// Waits for every task and worker to finish (Python's `join`, after
    /// `close` or `terminate`).
    pub fn join(&self) {
        self.executor.shutdown(Shutdown::wait());
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("processes", &self.executor.max_workers())
            .finish()
    }
}

impl<R> AsyncResult<R> {
    /// The result, waiting up to `timeout` (`None`: forever) (Python's
    /// `get(timeout)`); `Err(FutureError::Timeout)` if it is not ready by
    /// then.
    ///
    /// # Errors
    ///
    /// The task's [`FutureError`], or [`FutureError::Timeout`].
    pub fn get(&self, timeout: Option<Duration>) -> Result<&R, FutureError> {
        match timeout {
            None => self.future.result(),
            Some(t) => self.future.result_timeout(t),
        }
    }

    /// Waits up to `timeout` (`None`: forever) for the result; whether it is
    /// ready (Python's `wait(timeout)`, which returns nothing).
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        !matches!(self.get(timeout), Err(FutureError::Timeout))
    }

    /// Whether the task has finished (Python's `ready()`).
    pub fn ready(&self) -> bool {
        self.future.done()
    }

    /// Whether the task finished without an error; `None` while it runs
    /// (Python's `successful()` raises `ValueError` then).
    pub fn successful(&self) -> Option<bool> {
        self.ready().then(|| self.future.exception().is_none())
    }

    /// The threadkit [`Future`] underneath, for `wait`, `as_completed`,
    /// `.await` and done-callbacks.
    pub fn into_future(self) -> Future<R> {
        self.future
    }

    /// The result, moved out, waiting for it.
    ///
    /// # Errors
    ///
    /// The task's [`FutureError`].
    pub fn into_result(self) -> Result<R, FutureError> {
        self.future.into_result()
    }
}

impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.ready())
            .finish()
    }
}
