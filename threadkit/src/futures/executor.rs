//! The [`Executor`] trait: Python's `concurrent.futures.Executor`, shared by
//! every pool.

use std::sync::Arc;
use std::time::Duration;

use super::error::{FutureError, SubmitError};
use super::future::Future;
use super::map::{ChunkSize, Map, MapConfig};
use super::work::WorkItem;
use crate::util::Deadline;

/// How [`Executor::shutdown`] stops an executor: Python's
/// `shutdown(wait=True, cancel_futures=False)` keywords, named.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{Shutdown, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(1).unwrap();
/// let f = pool.submit(|| 1).unwrap();
/// // pool.shutdown(wait=True, cancel_futures=True)
/// pool.shutdown(Shutdown::wait().cancel_futures());
/// assert!(f.done());
/// assert_eq!(Shutdown::default(), Shutdown::wait()); // Python's defaults
/// assert!(!Shutdown::no_wait().waits());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "a Shutdown does nothing until passed to shutdown()"]
pub struct Shutdown {
    wait: bool,
    cancel_futures: bool,
}

impl Shutdown {
    /// `wait=True`: return once every started and queued task has finished
    /// and the workers have exited (Python's default).
    pub const fn wait() -> Shutdown {
        Shutdown {
            wait: true,
            cancel_futures: false,
        }
    }

    /// `wait=False`: return at once; the workers finish on their own.
    pub const fn no_wait() -> Shutdown {
        Shutdown {
            wait: false,
            cancel_futures: false,
        }
    }

    /// `cancel_futures=True`: cancel the tasks not started yet.
    pub const fn cancel_futures(self) -> Shutdown {
        Shutdown {
            cancel_futures: true,
            ..self
        }
    }

    /// Whether the shutdown waits (`wait=`).
    pub const fn waits(&self) -> bool {
        self.wait
    }

    /// Whether queued tasks are cancelled (`cancel_futures=`).
    pub const fn cancels_futures(&self) -> bool {
        self.cancel_futures
    }
}

impl Default for Shutdown {
    /// Python's defaults: [`Shutdown::wait`], no cancelling.
    fn default() -> Self {
        Shutdown::wait()
    }
}

/// The keywords of Python's `map(fn, iterable, timeout=None, chunksize=1)`,
/// named, for [`Executor::map_with`] and every pool's `map_with`.
///
/// Build it with struct syntax or the builder methods of the same names:
/// `MapOptions::default().timeout(d).chunksize(8)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::futures::{MapOptions, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// // pool.map(pow2, range(10), timeout=60, chunksize=3)
/// let options = MapOptions::default().timeout(Duration::from_secs(60)).chunksize(3);
/// let squares: Vec<u32> = pool
///     .map_with(|n: u32| n * n, 0..10, options)
///     .unwrap()
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
/// assert_eq!(options, MapOptions { timeout: Some(Duration::from_secs(60)), chunksize: Some(3) });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MapOptions {
    /// `timeout=`: counted from the `map_with` call; the first result not
    /// ready by then is yielded as `Err(FutureError::Timeout)` and the
    /// iteration ends. `None` waits as long as it takes.
    pub timeout: Option<Duration>,
    /// `chunksize=`: items per task. `None` lets the thread pools pick
    /// (see [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map)) and
    /// means 1 on the process pool, as in Python. `Some(0)` is refused.
    pub chunksize: Option<usize>,
}

impl MapOptions {
    /// Sets `timeout=`.
    #[must_use]
    pub const fn timeout(self, timeout: Duration) -> MapOptions {
        MapOptions {
            timeout: Some(timeout),
            ..self
        }
    }

    /// Sets `chunksize=`.
    #[must_use]
    pub const fn chunksize(self, chunksize: usize) -> MapOptions {
        MapOptions {
            chunksize: Some(chunksize),
            ..self
        }
    }

    /// The chunk size for the thread pools: automatic unless set.
    pub(crate) fn checked_chunksize(&self) -> Result<ChunkSize, FutureError> {
        match self.chunksize {
            None => Ok(ChunkSize::Auto),
            Some(n) => checked_chunksize(n),
        }
    }
}

/// Something that runs submitted tasks and hands out [`Future`]s: Python's
/// `concurrent.futures.Executor`.
///
/// Implementors write the two required methods; `submit` and `map` come for
/// free. An executor is shared by the threads that submit to it, and `map`'s
/// iterator submits from wherever it is advanced, hence `Send + Sync`.
///
/// The trait is object safe: `dyn Executor` offers the required methods, and `&dyn Executor`, `Box<dyn Executor>` and `Arc<dyn Executor>`
/// implement `Executor` themselves, generic methods included.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{Executor, ThreadPoolExecutor};
///
/// fn squares(pool: &dyn Executor) -> Vec<u64> {
///     // `&dyn Executor` is itself an `Executor`, generic methods included.
///     (&pool).map(|n: u64| n * n, 0..5)
///         .unwrap()
///         .collect::<Result<_, _>>()
///         .unwrap()
/// }
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// assert_eq!(squares(&pool), [0, 1, 4, 9, 16]);
/// ```
pub trait Executor: Send + Sync {
    /// Queues a work item (made by [`WorkItem::new`]) to run.
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after [`shutdown`](Executor::shutdown),
    /// [`SubmitError::BrokenExecutor`] once the executor is broken. The item
    /// is dropped, which fails its future.
    fn submit_work(&self, item: WorkItem<'static>) -> Result<(), SubmitError>;

    /// Stops accepting work (Python's `shutdown(wait, cancel_futures)`).
    ///
    /// With [`Shutdown::cancel_futures`], tasks still queued are cancelled;
    /// with [`Shutdown::wait`], returns once all started and remaining tasks
    /// have finished and the workers have exited. May be called any number
    /// of times.
    fn shutdown(&self, how: Shutdown);

    /// Schedules `f` and returns the future of its result (Python's
    /// `submit(fn, *args)`; arguments are what the closure captures).
    ///
    /// # Errors
    ///
    /// As [`submit_work`](Executor::submit_work).
    fn submit<F, T>(&self, f: F) -> Result<Future<T>, SubmitError>
    where
        Self: Sized,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (item, future) = WorkItem::new(f);
        self.submit_work(item)?;
        Ok(future)
    }

    /// How many tasks this executor runs at once, if it knows: what
    /// [`map`](Executor::map) sizes its chunks and its submission window
    /// from. `None` (the default) means the CPU count.
    fn max_workers_hint(&self) -> Option<usize> {
        None
    }

    /// Runs `f` on every item concurrently and yields the results in input
    /// order (Python's `map(fn, iterable)`), chunking the input
    /// automatically and submitting a bounded window of chunks ahead of the
    /// consumer; see [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map)
    /// for the details, which hold for every executor. For `timeout=` and
    /// `chunksize=`, see [`map_with`](Executor::map_with).
    ///
    /// The iterator borrows the executor; [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map)
    /// itself returns one that does not.
    ///
    /// # Errors
    ///
    /// As [`submit_work`](Executor::submit_work) for the first window;
    /// chunks submitted before the failure are cancelled.
    fn map<'a, F, I, T>(&'a self, f: F, items: I) -> Result<Map<'a, T>, FutureError>
    where
        Self: Sized,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::IntoIter: Send + 'a,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        self.map_with(f, items, MapOptions::default())
    }

    /// As [`map`](Executor::map), with Python's keywords `timeout=` and
    /// `chunksize=` as [`MapOptions`].
    ///
    /// # Errors
    ///
    /// [`FutureError::InvalidArgument`] if the chunk size is 0 (Python's
    /// `ValueError`); otherwise as [`map`](Executor::map).
    #[doc(alias("chunksize", "map_chunked"))]
    fn map_with<'a, F, I, T>(
        &'a self,
        f: F,
        items: I,
        options: MapOptions,
    ) -> Result<Map<'a, T>, FutureError>
    where
        Self: Sized,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::IntoIter: Send + 'a,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        let chunksize = options.checked_chunksize()?;
        start_map(self, f, items, options.timeout, chunksize)
    }
}

/// A `chunksize` argument, refused if 0 as Python refuses it.
pub(crate) fn checked_chunksize(chunksize: usize) -> Result<ChunkSize, FutureError> {
    match chunksize {
        0 => Err(FutureError::InvalidArgument(
            "chunksize must be >= 1".to_owned(),
        )),
        n => Ok(ChunkSize::Fixed(n)),
    }
}

fn start_map<'a, E, F, I, T>(
    executor: &'a E,
    f: F,
    items: I,
    timeout: Option<Duration>,
    chunksize: ChunkSize,
) -> Result<Map<'a, T>, FutureError>
where
    E: Executor,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    I: IntoIterator,
    I::IntoIter: Send + 'a,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    let deadline = Deadline::from_timeout(timeout);
    let workers = executor
        .max_workers_hint()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let config = MapConfig {
        workers,
        chunksize,
        deadline,
    };
    Map::start(
        move |item| executor.submit_work(item),
        f,
        items.into_iter(),
        config,
    )
}

/// An executor behind a reference or a smart pointer is an executor too.
macro_rules! forward_executor {
    ($($ptr:ty),*) => {$(
        impl<E: Executor + ?Sized> Executor for $ptr {
            fn submit_work(&self, item: WorkItem<'static>) -> Result<(), SubmitError> {
                (**self).submit_work(item)
            }

            fn shutdown(&self, how: Shutdown) {
                (**self).shutdown(how)
            }

            fn max_workers_hint(&self) -> Option<usize> {
                (**self).max_workers_hint()
            }
        }
    )*};
}

forward_executor!(&E, Box<E>, Arc<E>);
