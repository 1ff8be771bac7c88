//! Scoped pools: like [`std::thread::scope`], a pool whose tasks may borrow
//! from the caller's stack, all joined before [`scope`] returns.

use std::fmt;
use std::sync::Arc;
use std::thread;

use super::error::{BuildError, FutureError, SubmitError};
use super::executor::MapOptions;
use super::future::Future;
use super::map::{ChunkSize, Map, MapConfig};
use super::pool::PoolCore;
use super::thread_pool::{ThreadPoolBuilder, default_max_workers};
use super::work::WorkItem;
use crate::util::Deadline;

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
            core: Arc::new(PoolCore::new(
                max_workers,
                prefix,
                initializer,
                BROKEN_BY_INITIALIZER,
            )),
        };
        // Dropping `scope` (also while unwinding) tells the workers to exit
        // once the queue is empty; `thread::scope` then joins them.
        f(&scope)
    })
}

const BROKEN_BY_INITIALIZER: &str =
    "a thread initializer failed, the scoped pool is not usable anymore";

/// A scoped pool, handed to the closure given to [`scope`].
pub struct Scope<'scope, 'env: 'scope> {
    std: &'scope thread::Scope<'scope, 'env>,
    /// The pool core; `thread::scope` joins the workers, so they leave
    /// nothing behind to join.
    core: Arc<PoolCore<'scope, ()>>,
}

impl<'scope> Scope<'scope, '_> {
    /// Schedules `f`, which may borrow from outside the scope, and returns
    /// the future of its result.
    ///
    /// # Errors
    ///
    /// [`SubmitError::BrokenExecutor`] if an initializer failed or no worker
    /// thread could be started.
    pub fn submit<F, T>(&self, f: F) -> Result<Future<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let (item, future) = WorkItem::new(f);
        self.submit_work(item)?;
        Ok(future)
    }

    fn submit_work(&self, item: WorkItem<'scope>) -> Result<(), SubmitError> {
        self.core.submit(item, |name, core| {
            thread::Builder::new()
                .name(name)
                .spawn_scoped(self.std, move || core.worker())
                .map(drop)
        })
    }

    /// Runs `f` on every item and yields the results in input order, chunked
    /// and submitted a bounded window ahead; see
    /// [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map) (without
    /// a timeout; see [`map_with`](Self::map_with)). If the pool is broken,
    /// yields that error once.
    pub fn map<'s, F, I, T>(&'s self, f: F, items: I) -> Map<'s, T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'scope,
        I: IntoIterator,
        I::IntoIter: Send + 's,
        I::Item: Send + 'scope,
        T: Send + 'scope,
    {
        self.start_map(f, items, ChunkSize::Auto, Deadline::Never)
            .unwrap_or_else(Map::failed)
    }

    /// As [`map`](Self::map), with Python's keywords as [`MapOptions`]
    /// (`timeout=`, `chunksize=`).
    ///
    /// # Errors
    ///
    /// [`FutureError::InvalidArgument`] if the chunk size is 0.
    #[doc(alias("chunksize", "map_chunked"))]
    pub fn map_with<'s, F, I, T>(
        &'s self,
        f: F,
        items: I,
        options: MapOptions,
    ) -> Result<Map<'s, T>, FutureError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'scope,
        I: IntoIterator,
        I::IntoIter: Send + 's,
        I::Item: Send + 'scope,
        T: Send + 'scope,
    {
        let chunksize = options.checked_chunksize()?;
        let deadline = Deadline::from_timeout(options.timeout);
        Ok(self
            .start_map(f, items, chunksize, deadline)
            .unwrap_or_else(Map::failed))
    }

    fn start_map<'s, F, I, T>(
        &'s self,
        f: F,
        items: I,
        chunksize: ChunkSize,
        deadline: Deadline,
    ) -> Result<Map<'s, T>, FutureError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'scope,
        I: IntoIterator,
        I::IntoIter: Send + 's,
        I::Item: Send + 'scope,
        T: Send + 'scope,
    {
        let config = MapConfig {
            workers: self.core.max_workers(),
            chunksize,
            deadline,
        };
        Map::start(
            move |item| self.submit_work(item),
            f,
            items.into_iter(),
            config,
        )
    }
}

impl Drop for Scope<'_, '_> {
    fn drop(&mut self) {
        self.core.work.close();
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.debug_as("Scope", f)
    }
}
