//! [`ThreadPoolExecutor`]: Python's `concurrent.futures.ThreadPoolExecutor`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::error::{BuildError, FutureError, SubmitError};
use super::executor::{Executor, MapOptions, Shutdown};
use super::future::Future;
use super::map::{ChunkSize, Map, MapConfig};
use super::pool::{Initializer, PoolCore};
use super::work::WorkItem;
use crate::threading::{Builder, ThreadError, ThreadHandle};
use crate::util::Deadline;

/// Python's default `max_workers`: `min(32, cpus + 4)`, which keeps I/O
/// bound pools busy without starting hundreds of threads on big machines.
pub(crate) fn default_max_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cpus + 4).min(32)
}

/// Numbers the default `ThreadPoolExecutor-N` name prefixes.
static POOL_COUNTER: AtomicU64 = AtomicU64::new(0);

const BROKEN_BY_INITIALIZER: &str =
    "a thread initializer failed, the thread pool is not usable anymore";

/// A pool of worker threads running submitted tasks: Python's
/// `concurrent.futures.ThreadPoolExecutor`.
///
/// Workers are threadkit [`Thread`](crate::threading::Thread)s named
/// `PREFIX_N` (listed by [`enumerate`](crate::threading::enumerate)), started
/// one per submit while no worker is idle, up to `max_workers`. Dropping the
/// pool is leaving Python's `with` block: [`shutdown(Shutdown::wait())`](ThreadPoolExecutor::shutdown).
///
/// # Examples
///
/// ```
/// use threadkit::futures::ThreadPoolExecutor;
///
/// // with ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch") as pool:
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(4)
///     .thread_name_prefix("fetch")
///     .build()
///     .unwrap();
/// let name = pool.submit(|| threadkit::threading::current_thread().name().to_owned()).unwrap();
/// assert_eq!(name.result().unwrap(), "fetch_0");
/// let lengths: Vec<usize> = pool
///     .map(|s: &str| s.len(), ["a", "bb", "ccc"])
///     .unwrap()
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(lengths, [1, 2, 3]);
/// drop(pool); // shutdown(wait=True)
/// ```
///
/// # Process exit
///
/// Workers are daemon threads, but as in Python a pool that is still alive
/// when `main` returns (or `std::process::exit` runs) is shut down then: its
/// queued tasks run and its workers are joined before the process ends.
///
/// # Differences from Python's `ThreadPoolExecutor`
///
/// - `max_workers=0` is a [`BuildError`] instead of `ValueError`.
/// - `initializer(*initargs)` is a closure; it fails by panicking. A failed
///   initializer breaks the pool: queued tasks fail with
///   [`FutureError::BrokenExecutor`], later submits with
///   [`SubmitError::BrokenExecutor`].
/// - The work queue is not Python's `SimpleQueue`: its idle workers spin
///   briefly before they sleep, so that a stream of tiny tasks seldom wakes
///   a worker through the kernel (several times faster per task here).
pub struct ThreadPoolExecutor {
    core: Arc<Core>,
}

/// The pool core with daemon threadkit threads as workers, joined by
/// `shutdown(wait=True)`.
type Core = PoolCore<'static, ThreadHandle>;

/// Starts a worker of `core` as a daemon threadkit thread.
fn spawn_worker(name: String, core: Arc<Core>) -> Result<ThreadHandle, ThreadError> {
    Builder::new()
        .name(name)
        .daemon(true)
        .spawn(move || core.worker())
        .map(|thread| thread.handle().clone())
}

fn shut_down(core: &Core, wait: bool, cancel_futures: bool) {
    for worker in core.shut_down(wait, cancel_futures) {
        // Joining the current thread (a task shutting its own pool down)
        // is refused, and a worker never panics: nothing to report.
        let _ = worker.join();
    }
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads with the default name prefix.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `max_workers` is 0.
    pub fn new(max_workers: usize) -> Result<ThreadPoolExecutor, BuildError> {
        ThreadPoolBuilder::new().max_workers(max_workers).build()
    }

    /// A builder for `max_workers`, `thread_name_prefix` and `initializer`.
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::new()
    }

    /// The most workers this pool starts.
    pub fn max_workers(&self) -> usize {
        self.core.max_workers()
    }

    /// The prefix of the workers' names (`PREFIX_N`).
    pub fn thread_name_prefix(&self) -> &str {
        self.core.prefix()
    }

    /// [`Executor::submit`], callable without importing the trait.
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after shutdown, [`SubmitError::BrokenExecutor`]
    /// once an initializer failed.
    pub fn submit<F, T>(&self, f: F) -> Result<Future<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Executor::submit(self, f)
    }

    /// Runs `f` on every item concurrently and yields the results in input
    /// order (Python's `map(fn, iterable, timeout=)`), cutting the input
    /// into chunks automatically.
    ///
    /// Chunks of up to 4096 items (about `len / (4 × max_workers)`, from the
    /// input's `size_hint`; growing from 1 when it gives none) run as one
    /// task each, so tiny items do not each pay for a future. Inputs of
    /// fewer than `8 × max_workers` items get one task per item, as in
    /// Python. Use [`map_with`](Self::map_with) to choose the chunk
    /// size, and a chunk size of 1 when items wait for one another (the
    /// items of a chunk run one after the other on one worker).
    ///
    /// Results are waited for lazily, as the iterator is advanced, and the
    /// input is consumed lazily too: at most `max(4 × max_workers, 32)`
    /// chunks are submitted ahead of the one being yielded, so a map over an
    /// endless iterator runs in bounded memory. `timeout` counts from this
    /// call (see [`map_with`](Self::map_with)): the first result not ready by then is yielded as
    /// `Err(FutureError::Timeout)`, every chunk not started yet (that one
    /// included) is cancelled and the iterator ends. Dropping the iterator
    /// cancels the chunks that have not started and stops those running
    /// after their current item. A panicking item yields
    /// `Err(FutureError::Panicked)` in its place; the rest of its chunk runs.
    ///
    /// # Errors
    ///
    /// As [`submit`](ThreadPoolExecutor::submit) for the first window; chunks
    /// submitted before the failure are cancelled. If the pool is shut down
    /// while the iterator still has input to submit, it yields the chunks
    /// submitted already, then one `Err(FutureError::ShutDown)`, and ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new(4).unwrap();
    /// // An endless input: chunks are submitted as results are consumed.
    /// let first: Vec<u64> = pool
    ///     .map(|n: u64| n * n, 0..)
    ///     .unwrap()
    ///     .take(5)
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// assert_eq!(first, [0, 1, 4, 9, 16]);
    /// ```
    pub fn map<'a, F, I, T>(&self, f: F, items: I) -> Result<Map<'a, T>, FutureError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::IntoIter: Send + 'a,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        self.start_map(f, items, None, ChunkSize::Auto)
    }

    /// As [`map`](Self::map), with Python's keywords as [`MapOptions`]:
    /// `timeout=`, and `chunksize=` items per task (Python's thread pool
    /// ignores `chunksize`, this one uses it).
    ///
    /// `timeout` counts from this call: the first result not ready by then
    /// is yielded as `Err(FutureError::Timeout)`, every chunk not started yet
    /// (that one included) is cancelled and the iterator ends.
    ///
    /// # Errors
    ///
    /// [`FutureError::InvalidArgument`] if the chunk size is 0 (Python's
    /// `ValueError`); otherwise as [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::{MapOptions, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new(2).unwrap();
    /// let squares: Vec<u32> = pool
    ///     .map_with(|n: u32| n * n, 0..10, MapOptions::default().chunksize(3))
    ///     .unwrap()
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// ```
    #[doc(alias("chunksize", "map_chunked"))]
    pub fn map_with<'a, F, I, T>(
        &self,
        f: F,
        items: I,
        options: MapOptions,
    ) -> Result<Map<'a, T>, FutureError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::IntoIter: Send + 'a,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        let chunksize = options.checked_chunksize()?;
        self.start_map(f, items, options.timeout, chunksize)
    }

    fn start_map<'a, F, I, T>(
        &self,
        f: F,
        items: I,
        timeout: Option<Duration>,
        chunksize: ChunkSize,
    ) -> Result<Map<'a, T>, FutureError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::IntoIter: Send + 'a,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        // The deadline first: `timeout` counts from this call.
        let deadline = Deadline::from_timeout(timeout);
        // The map holds the core, not `&self`: it may outlive the handle
        // (dropping the pool waits for the submitted chunks; later ones are
        // refused as after any shutdown).
        let core = Arc::clone(&self.core);
        let submit = move |item| core.submit(item, spawn_worker);
        let config = MapConfig {
            workers: self.core.max_workers(),
            chunksize,
            deadline,
        };
        Map::start(submit, f, items.into_iter(), config)
    }

    /// [`Executor::shutdown`], callable without importing the trait:
    /// `pool.shutdown(Shutdown::wait())`, `Shutdown::no_wait().cancel_futures()`.
    pub fn shutdown(&self, how: Shutdown) {
        shut_down(&self.core, how.waits(), how.cancels_futures());
    }
}

impl Executor for ThreadPoolExecutor {
    fn submit_work(&self, item: WorkItem<'static>) -> Result<(), SubmitError> {
        self.core.submit(item, spawn_worker)
    }

    fn shutdown(&self, how: Shutdown) {
        shut_down(&self.core, how.waits(), how.cancels_futures());
    }

    fn max_workers_hint(&self) -> Option<usize> {
        Some(self.core.max_workers())
    }
}

impl Default for ThreadPoolExecutor {
    /// A pool with Python's default `max_workers`.
    fn default() -> Self {
        ThreadPoolBuilder::new().build_unchecked()
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        shut_down(&self.core, true, false);
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.debug_as("ThreadPoolExecutor", f)
    }
}

/// Settings for a [`ThreadPoolExecutor`] or a [scoped pool](ThreadPoolBuilder::scope):
/// Python's `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)`.
#[derive(Clone, Default)]
#[must_use = "a builder does nothing until build() or scope()"]
pub struct ThreadPoolBuilder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Initializer>,
}

impl ThreadPoolBuilder {
    /// Python's defaults: `min(32, cpus + 4)` workers named
    /// `ThreadPoolExecutor-N_M`, no initializer.
    pub fn new() -> Self {
        ThreadPoolBuilder::default()
    }

    /// The most worker threads the pool starts (must be at least 1).
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Workers are named `PREFIX_0`, `PREFIX_1`, ...
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs `f` at the start of every worker. If it panics, the pool is
    /// broken (see [`FutureError::BrokenExecutor`]).
    pub fn initializer(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.initializer = Some(Arc::new(f));
        self
    }

    pub(crate) fn checked_max_workers(&self) -> Result<usize, BuildError> {
        match self.max_workers {
            Some(0) => Err(BuildError::zero_workers()),
            Some(n) => Ok(n),
            None => Ok(default_max_workers()),
        }
    }

    pub(crate) fn prefix_or(&self, default: impl FnOnce() -> String) -> String {
        self.prefix.clone().unwrap_or_else(default)
    }

    pub(crate) fn take_initializer(&mut self) -> Option<Initializer> {
        self.initializer.take()
    }

    /// The pool.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `max_workers` is 0.
    pub fn build(self) -> Result<ThreadPoolExecutor, BuildError> {
        self.checked_max_workers()?;
        Ok(self.build_unchecked())
    }

    fn build_unchecked(mut self) -> ThreadPoolExecutor {
        let max_workers = self
            .checked_max_workers()
            .unwrap_or_else(|_| default_max_workers());
        let prefix = self.prefix_or(|| {
            format!(
                "ThreadPoolExecutor-{}",
                POOL_COUNTER.fetch_add(1, Ordering::Relaxed)
            )
        });
        let core = Arc::new(PoolCore::new(
            max_workers,
            prefix,
            self.take_initializer(),
            BROKEN_BY_INITIALIZER,
        ));
        exit::register(&core);
        ThreadPoolExecutor { core }
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.prefix)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

/// Python's `_python_exit`: pools alive at process exit are shut down and
/// their workers joined.
mod exit {
    use super::{Arc, Core, Weak};

    /// A plain std mutex: this list is not a blocking primitive and is only
    /// touched when pools are created and at exit.
    static LIVE: std::sync::Mutex<Vec<Weak<Core>>> = std::sync::Mutex::new(Vec::new());

    pub(super) fn register(shared: &Arc<Core>) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.strong_count() > 0);
        live.push(Arc::downgrade(shared));
        drop(live);
        crate::util::exit::at_exit(crate::util::exit::Stage::Executors, shut_down_all);
    }

    /// The executors' exit step: before non-daemon threads are joined.
    fn shut_down_all() {
        let live: Vec<Weak<Core>> =
            std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
        for core in live.iter().filter_map(Weak::upgrade) {
            super::shut_down(&core, true, false);
        }
    }
}
