//! [`ThreadPoolExecutor`]: Python's `concurrent.futures.ThreadPoolExecutor`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::error::{BuildError, FutureError};
use super::executor::{Executor, Map};
use super::future::Future;
use super::work::{WorkItem, WorkQueue};
use crate::loom::sync::Mutex;
use crate::threading::{Builder, ThreadHandle};

type Initializer = Arc<dyn Fn() + Send + Sync>;

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
/// pool is leaving Python's `with` block: [`shutdown(true, false)`](ThreadPoolExecutor::shutdown).
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
///     .map(|s: &str| s.len(), ["a", "bb", "ccc"], None)
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
///   initializer breaks the pool: queued and later tasks fail with
///   [`FutureError::BrokenExecutor`].
/// - The work queue is a `crossbeam-channel`, not Python's `SimpleQueue`
///   (see the `work` module notes: it is about 2.5x faster per task here).
pub struct ThreadPoolExecutor {
    shared: Arc<Shared>,
}

struct Shared {
    work: WorkQueue<'static>,
    state: Mutex<PoolState>,
    max_workers: usize,
    prefix: String,
    initializer: Option<Initializer>,
}

#[derive(Default)]
struct PoolState {
    shutdown: bool,
    broken: Option<String>,
    /// Every worker ever started (Python's `_threads`).
    workers: Vec<ThreadHandle>,
}

impl Shared {
    fn submit(self: &Arc<Self>, item: WorkItem<'static>) -> Result<(), FutureError> {
        let mut st = self.state.lock();
        if let Some(reason) = &st.broken {
            return Err(FutureError::BrokenExecutor(reason.clone()));
        }
        if st.shutdown {
            return Err(FutureError::ShutDown);
        }
        self.work.push(item);
        self.adjust_thread_count(&mut st)
    }

    /// Python's `_adjust_thread_count`: reuse an idle worker, or start one.
    fn adjust_thread_count(self: &Arc<Self>, st: &mut PoolState) -> Result<(), FutureError> {
        // At the maximum the idle count no longer matters (workers are never
        // retired), and skipping it spares a contended atomic per submit.
        if st.workers.len() >= self.max_workers || self.work.take_idle() {
            return Ok(());
        }
        let shared = Arc::clone(self);
        let spawned = Builder::new()
            .name(format!("{}_{}", self.prefix, st.workers.len()))
            .daemon(true)
            .spawn(move || shared.worker());
        match spawned {
            Ok(thread) => st.workers.push(thread.handle().clone()),
            // Without any worker nobody would run the queue: fail it.
            Err(e) if st.workers.is_empty() => {
                let error = FutureError::BrokenExecutor(format!("cannot start a worker: {e}"));
                self.work.drain(|item| item.fail(error.clone()));
                return Err(error);
            }
            // Some workers run: the item will get its turn.
            Err(_) => {}
        }
        Ok(())
    }

    fn worker(&self) {
        if let Some(init) = &self.initializer {
            if let Err(report) = crate::threading::run_captured(|| init()) {
                crate::threading::report_exception(&crate::threading::current_thread(), &report);
                self.initializer_failed();
                return;
            }
        }
        self.work.work();
    }

    /// Python's `_initializer_failed`: the pool is broken; fail what waits.
    fn initializer_failed(&self) {
        self.state.lock().broken = Some(BROKEN_BY_INITIALIZER.to_owned());
        let error = FutureError::BrokenExecutor(BROKEN_BY_INITIALIZER.to_owned());
        self.work.drain(|item| item.fail(error.clone()));
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        let workers = {
            let mut st = self.state.lock();
            if cancel_futures {
                self.work.drain(WorkItem::cancel);
            }
            if !st.shutdown {
                st.shutdown = true;
                self.work.close();
            }
            if wait { st.workers.clone() } else { Vec::new() }
        };
        for worker in workers {
            // Joining the current thread (a task shutting its own pool down)
            // is refused, and a worker never panics: nothing to report.
            let _ = worker.join();
        }
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
        self.shared.max_workers
    }

    /// The prefix of the workers' names (`PREFIX_N`).
    pub fn thread_name_prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// [`Executor::submit`], callable without importing the trait.
    ///
    /// # Errors
    ///
    /// [`FutureError::ShutDown`] after shutdown, [`FutureError::BrokenExecutor`]
    /// once an initializer failed.
    pub fn submit<F, T>(&self, f: F) -> Result<Future<T>, FutureError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Executor::submit(self, f)
    }

    /// [`Executor::map`], callable without importing the trait.
    ///
    /// # Errors
    ///
    /// As [`submit`](ThreadPoolExecutor::submit).
    pub fn map<F, I, T>(
        &self,
        f: F,
        items: I,
        timeout: Option<Duration>,
    ) -> Result<Map<T>, FutureError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        Executor::map(self, f, items, timeout)
    }

    /// [`Executor::shutdown`], callable without importing the trait.
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.shared.shutdown(wait, cancel_futures);
    }
}

impl Executor for ThreadPoolExecutor {
    fn submit_work(&self, item: WorkItem<'static>) -> Result<(), FutureError> {
        self.shared.submit(item)
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.shared.shutdown(wait, cancel_futures);
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
        self.shared.shutdown(true, false);
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("ThreadPoolExecutor")
            .field("prefix", &self.shared.prefix)
            .field("max_workers", &self.shared.max_workers)
            .field("workers", &st.workers.len())
            .field("shutdown", &st.shutdown)
            .field("broken", &st.broken.is_some())
            .finish()
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
        let shared = Arc::new(Shared {
            work: WorkQueue::new(),
            state: Mutex::new(PoolState::default()),
            max_workers,
            prefix,
            initializer: self.take_initializer(),
        });
        exit::register(&shared);
        ThreadPoolExecutor { shared }
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
    use super::{Arc, Shared, Weak};

    /// A plain std mutex: this list is not a blocking primitive and is only
    /// touched when pools are created and at exit.
    static LIVE: std::sync::Mutex<Vec<Weak<Shared>>> = std::sync::Mutex::new(Vec::new());

    pub(super) fn register(shared: &Arc<Shared>) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.strong_count() > 0);
        live.push(Arc::downgrade(shared));
        drop(live);
        crate::util::exit::at_exit(crate::util::exit::Stage::Executors, shut_down_all);
    }

    /// The executors' exit step: before non-daemon threads are joined.
    fn shut_down_all() {
        let live: Vec<Weak<Shared>> =
            std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
        for shared in live.iter().filter_map(Weak::upgrade) {
            shared.shutdown(true, false);
        }
    }
}
