//! Scoped pools: like [`std::thread::scope`], a pool whose tasks may borrow
//! from the caller's stack, all joined before [`scope`] returns.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::thread;

use super::error::{BuildError, FutureError};
use super::executor::Map;
use super::future::Future;
use super::thread_pool::{ThreadPoolBuilder, default_max_workers};
use super::work::{WorkItem, WorkQueue};
use crate::loom::sync::Mutex;
use crate::util::wait::Deadline;

/// Runs `f` with a scoped pool of Python's default size (`min(32, cpus + 4)`
/// workers) and returns what it returns, after every submitted task has
/// finished and every worker has exited.
///
/// Tasks may borrow anything that outlives the call, as with
/// [`std::thread::scope`]. Use [`ThreadPoolBuilder::scope`] for other
/// settings.
///
/// # Examples
///
/// ```
/// use threadkit::futures;
///
/// let words = vec!["scoped".to_owned(), "pools".to_owned()];
/// let total = futures::scope(|s| {
///     let lens: Vec<_> = words.iter().map(|w| s.submit(move || w.len()).unwrap()).collect();
///     lens.iter().map(|f| *f.result().unwrap()).sum::<usize>()
/// });
/// assert_eq!(total, 11);
/// assert_eq!(words.len(), 2); // still ours
/// ```
///
/// # Differences from a [`ThreadPoolExecutor`](super::ThreadPoolExecutor)
///
/// - Workers are `std` scoped threads (named `PREFIX_N`, default prefix
///   `ScopedPool`), not threadkit threads, so
///   [`enumerate`](crate::threading::enumerate) does not list them.
/// - Tasks cannot capture the [`Scope`] itself to submit more work.
pub fn scope<'env, F, R>(f: F) -> R
where
    F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> R,
{
    run(default_max_workers(), ThreadPoolBuilder::new(), f)
}

impl ThreadPoolBuilder {
    /// Runs `f` with a scoped pool built from these settings; see [`scope`].
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `max_workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolBuilder;
    ///
    /// let mut data = vec![1, 2, 3];
    /// let doubled: Vec<i32> = ThreadPoolBuilder::new()
    ///     .max_workers(2)
    ///     .scope(|s| s.map(|x: &i32| x * 2, &data).map(Result::unwrap).collect())
    ///     .unwrap();
    /// data.push(4);
    /// assert_eq!(doubled, [2, 4, 6]);
    /// ```
    pub fn scope<'env, F, R>(self, f: F) -> Result<R, BuildError>
    where
        F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> R,
    {
        let max_workers = self.checked_max_workers()?;
        Ok(run(max_workers, self, f))
    }
}

fn run<'env, F, R>(max_workers: usize, mut builder: ThreadPoolBuilder, f: F) -> R
where
    F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> R,
{
    let prefix = builder.prefix_or(|| "ScopedPool".to_owned());
    let initializer = builder.take_initializer();
    thread::scope(|std_scope| {
        let scope = Scope {
            std: std_scope,
            shared: Arc::new(Shared {
                work: WorkQueue::new(),
                state: Mutex::new(ScopeState::default()),
                max_workers,
                prefix,
                initializer,
            }),
        };
        // Dropping `scope` (also while unwinding) tells the workers to exit
        // once the queue is empty; `thread::scope` then joins them.
        f(&scope)
    })
}

/// A scoped pool, handed to the closure given to [`scope`].
pub struct Scope<'scope, 'env: 'scope> {
    std: &'scope thread::Scope<'scope, 'env>,
    shared: Arc<Shared<'scope>>,
}

struct Shared<'scope> {
    work: WorkQueue<'scope>,
    state: Mutex<ScopeState>,
    max_workers: usize,
    prefix: String,
    initializer: Option<Arc<dyn Fn() + Send + Sync>>,
}

#[derive(Default)]
struct ScopeState {
    workers: usize,
    broken: Option<String>,
}

impl Shared<'_> {
    fn worker(&self) {
        if let Some(init) = &self.initializer {
            if let Err(report) = crate::threading::run_captured(|| init()) {
                crate::threading::report_exception(&crate::threading::current_thread(), &report);
                let reason = "a thread initializer failed, the scoped pool is not usable anymore";
                self.state.lock().broken = Some(reason.to_owned());
                let error = FutureError::BrokenExecutor(reason.to_owned());
                self.work.drain(|item| item.fail(error.clone()));
                return;
            }
        }
        self.work.work();
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Schedules `f`, which may borrow from outside the scope, and returns
    /// the future of its result.
    ///
    /// # Errors
    ///
    /// [`FutureError::BrokenExecutor`] if an initializer failed or no worker
    /// thread could be started.
    pub fn submit<F, T>(&self, f: F) -> Result<Future<T>, FutureError>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let (item, future) = WorkItem::new(f);
        let shared = &self.shared;
        let mut st = shared.state.lock();
        if let Some(reason) = &st.broken {
            return Err(FutureError::BrokenExecutor(reason.clone()));
        }
        shared.work.push(item);
        if st.workers >= shared.max_workers || shared.work.take_idle() {
            return Ok(future);
        }
        let worker = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("{}_{}", shared.prefix, st.workers))
            .spawn_scoped(self.std, move || worker.worker());
        match spawned {
            Ok(_) => st.workers += 1,
            Err(e) if st.workers == 0 => {
                let error = FutureError::BrokenExecutor(format!("cannot start a worker: {e}"));
                shared.work.drain(|item| item.fail(error.clone()));
                return Err(error);
            }
            Err(_) => {}
        }
        Ok(future)
    }

    /// Runs `f` on every item and yields the results in input order; see
    /// [`Executor::map`](super::Executor::map) (without a timeout here).
    pub fn map<F, I, T>(&self, f: F, items: I) -> Map<T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'scope,
        I: IntoIterator,
        I::Item: Send + 'scope,
        T: Send + 'scope,
    {
        let f = Arc::new(f);
        let mut futures = VecDeque::new();
        for item in items {
            let f = Arc::clone(&f);
            match self.submit(move || f(item)) {
                Ok(future) => futures.push_back(future),
                Err(error) => {
                    // Broken: the rest would fail the same way.
                    let (future, promise) = Future::new();
                    promise.set_error(error);
                    futures.push_back(future);
                    break;
                }
            }
        }
        Map::new(futures, Deadline::Never)
    }
}

impl Drop for Scope<'_, '_> {
    fn drop(&mut self) {
        self.shared.work.close();
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("Scope")
            .field("prefix", &self.shared.prefix)
            .field("max_workers", &self.shared.max_workers)
            .field("workers", &st.workers)
            .finish()
    }
}
