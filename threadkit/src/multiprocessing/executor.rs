//! [`ProcessPoolExecutor`]: Python's `concurrent.futures.ProcessPoolExecutor`.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::call::{Call, Reply};
use super::codec;
use super::frame::{DEFAULT_MAX_FRAME, MAX_FRAME_CAP, MIN_FRAME};
use super::manager::{self, Config, Job, Pool, Task};
use super::process::HANDSHAKE_TIMEOUT;
use super::wire;
use crate::futures::{
    BuildError, Future, FutureError, Map, MapOptions, PanicReport, Promise, Shutdown, SubmitError,
};
use crate::loom::sync::Mutex;
use crate::util::Deadline;

/// Runs plain functions in a pool of worker processes: Python's
/// `concurrent.futures.ProcessPoolExecutor`.
///
/// Workers are this same program started again (see the [module
/// docs](super#set-up)); they start on demand, one per submit, up to
/// `max_workers`. Results come back as the same [`Future<T>`] a
/// [`ThreadPoolExecutor`](crate::futures::ThreadPoolExecutor) returns, so [`wait`](crate::futures::wait) and
/// [`as_completed`](crate::futures::as_completed) take futures of both.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{MapOptions, as_completed};
/// use threadkit::multiprocessing::ProcessPoolExecutor;
///
/// fn collatz_steps(mut n: u64) -> u32 {
///     let mut steps = 0;
///     while n != 1 {
///         n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
///         steps += 1;
///     }
///     steps
/// }
///
/// let pool = ProcessPoolExecutor::new(2).unwrap();
/// let futures: Vec<_> = [27, 97, 871].map(|n| pool.submit(collatz_steps, n).unwrap()).into();
/// let most = as_completed(&futures, None).map(|f| *f.unwrap().result().unwrap()).max();
/// assert_eq!(most, Some(178));
/// // map with a chunksize: 100 items in 10 messages
/// let steps: Vec<u32> = pool.map_with(collatz_steps, 1..=100, MapOptions::default().chunksize(10)).unwrap().map(Result::unwrap).collect();
/// assert_eq!(steps[26], 111);
/// ```
///
/// # Failures
///
/// - A task that panics fails its own future with
///   [`FutureError::Panicked`] (message and location); the worker goes on.
/// - An argument or result that does not serialize, does not decode, or
///   exceeds the frame limit, fails its own future with
///   [`FutureError::Serialization`] saying so.
/// - A worker that dies (abort, exit, a signal) fails the futures it was
///   running with [`FutureError::BrokenExecutor`] naming its exit code or
///   signal; the pool starts a replacement and keeps serving.
/// - A worker that cannot be started, or whose initializer panics, breaks
///   the pool (Python's `BrokenProcessPool`): pending and later tasks fail
///   with `BrokenExecutor`.
///
/// # Differences from Python's `ProcessPoolExecutor`
///
/// - The task is a `fn(A) -> R` with one serde argument (use a tuple for
///   several); a non-capturing closure coerces to one.
/// - Losing a worker fails only its own tasks instead of breaking the pool.
/// - `map(fn, items, timeout, chunksize)` takes its arguments in Python's
///   order, positionally.
/// - Closures that capture cannot cross a process boundary, so the pool
///   does not implement the [`Executor`](crate::futures::Executor) trait
///   (whose tasks are closures): [`submit(fn, arg)`](Self::submit) and
///   [`map`](Self::map) are the way in, and everything they take runs in a
///   worker. Its futures are awaitable (`pool.submit(f, x)?.await`), so
///   asyncio code needs no `run_in_executor` for it:
///
/// ```compile_fail
/// use threadkit::futures::Executor;
/// use threadkit::multiprocessing::ProcessPoolExecutor;
///
/// let pool = ProcessPoolExecutor::new(1).unwrap();
/// // A closure would have to run in this process: not offered.
/// let f = Executor::submit(&pool, || 6 * 7);
/// ```
pub struct ProcessPoolExecutor {
    pool: Arc<Pool>,
    managers: Mutex<Vec<JoinHandle<()>>>,
    next_id: AtomicU64,
}

/// Builds a [`ProcessPoolExecutor`] (Python's constructor keywords).
#[derive(Debug)]
pub struct ProcessPoolBuilder {
    max_workers: Option<usize>,
    initializer: Option<Call>,
    max_tasks_per_child: Option<usize>,
    max_frame: usize,
    handshake: Duration,
}

impl ProcessPoolBuilder {
    /// Workers at most (Python's `max_workers`); the CPU count by default.
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Runs `f(arg)` in every worker before its first task (Python's
    /// `initializer`, `initargs`). If it panics the pool breaks.
    ///
    /// # Panics
    ///
    /// If `arg` cannot be serialized.
    pub fn initializer<A: Serialize + DeserializeOwned>(mut self, f: fn(A), arg: A) -> Self {
        self.initializer = Some(Call::new(f, &arg).expect("serializing the initializer argument"));
        self
    }

    /// Replaces a worker after it ran `n` tasks (Python's
    /// `max_tasks_per_child`); unlimited by default.
    pub fn max_tasks_per_child(mut self, n: usize) -> Self {
        self.max_tasks_per_child = Some(n);
        self
    }

    /// The largest message, in bytes, between the pool and a worker
    /// (64 MiB by default, 1 GiB at most: larger values are clamped to
    /// 1 GiB); larger arguments and results fail their task. Below 64 bytes
    /// no task fits, and [`build`](Self::build) fails.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame = bytes.min(MAX_FRAME_CAP);
        self
    }

    /// How long a new worker may take to say hello (10 s by default). Zero
    /// makes [`build`](Self::build) fail: no worker could ever start.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake = timeout;
        self
    }

    /// The pool. No process starts before the first task.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] if `max_workers`, `max_tasks_per_child` or the
    /// handshake timeout is 0, or the frame size is below 64 bytes.
    pub fn build(self) -> Result<ProcessPoolExecutor, BuildError> {
        let max_workers = self
            .max_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if max_workers == 0 {
            return Err(BuildError::zero_workers());
        }
        if self.max_tasks_per_child == Some(0) {
            return Err(BuildError::zero_tasks_per_child());
        }
        if self.handshake.is_zero() {
            return Err(BuildError::zero_handshake_timeout());
        }
        if self.max_frame < MIN_FRAME {
            return Err(BuildError::frame_too_small(self.max_frame, MIN_FRAME));
        }
        Ok(ProcessPoolExecutor {
            pool: Arc::new(Pool::new(Config {
                max_workers,
                initializer: self.initializer,
                max_tasks_per_child: self.max_tasks_per_child,
                max_frame: self.max_frame,
                handshake: self.handshake,
            })),
            managers: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
        })
    }
}

/// Completes a `Future<R>` from a worker's reply.
struct Typed<R> {
    promise: Option<Promise<R>>,
}

impl<R: DeserializeOwned + Send> Job for Typed<R> {
    fn start(&mut self) -> bool {
        self.promise
            .as_ref()
            .is_some_and(Promise::set_running_or_notify_cancel)
    }

    fn cancel(mut self: Box<Self>) {
        if let Some(p) = self.promise.take() {
            p.cancel();
        }
    }

    fn finish(mut self: Box<Self>, outcome: Result<Reply, FutureError>) {
        let Some(promise) = self.promise.take() else {
            return;
        };
        promise.complete(match outcome {
            Ok(Reply::Ok(bytes)) => codec::decode(&bytes)
                .map_err(|e| FutureError::Serialization(format!("the result did not decode: {e}"))),
            Ok(Reply::Panicked { message, location }) => Err(FutureError::Panicked(
                PanicReport::with_details(message, location, None),
            )),
            Ok(Reply::BadArgument(msg)) => Err(FutureError::Serialization(format!(
                "the argument did not decode: {msg}"
            ))),
            Ok(Reply::BadResult(msg)) => Err(FutureError::Serialization(format!(
                "the result could not be serialized: {msg}"
            ))),
            Err(e) => Err(e),
        });
    }
}

impl ProcessPoolExecutor {
    /// A pool of at most `max_workers` processes (Python's
    /// `ProcessPoolExecutor(max_workers)`).
    ///
    /// # Errors
    ///
    /// A [`BuildError`] if `max_workers` is 0.
    pub fn new(max_workers: usize) -> Result<ProcessPoolExecutor, BuildError> {
        Self::builder().max_workers(max_workers).build()
    }

    /// A builder for the other settings.
    pub fn builder() -> ProcessPoolBuilder {
        ProcessPoolBuilder {
            max_workers: None,
            initializer: None,
            max_tasks_per_child: None,
            max_frame: DEFAULT_MAX_FRAME,
            handshake: HANDSHAKE_TIMEOUT,
        }
    }

    /// The most workers this pool runs at once.
    pub fn max_workers(&self) -> usize {
        self.pool.config.max_workers
    }

    /// The pids of the workers running now (Python's `_processes`).
    pub fn worker_pids(&self) -> Vec<u32> {
        self.pool.pids()
    }

    /// Runs `f(arg)` in a worker and returns the future of its result
    /// (Python's `submit(fn, arg)`).
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after [`shutdown`](Self::shutdown),
    /// [`SubmitError::BrokenExecutor`] once the pool is broken. An argument
    /// that cannot be serialized or exceeds the frame limit is not a submit
    /// error: the future fails with [`FutureError::Serialization`], as
    /// Python's future raises the `PicklingError`.
    pub fn submit<A, R>(&self, f: fn(A) -> R, arg: A) -> Result<Future<R>, SubmitError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.submit_call(Call::new(f, &arg))
    }

    fn submit_call<R>(&self, call: Result<Call, String>) -> Result<Future<R>, SubmitError>
    where
        R: DeserializeOwned + Send + 'static,
    {
        let (future, promise) = Future::new();
        let call = match call {
            Ok(call) => call,
            Err(e) => {
                promise.set_error(FutureError::Serialization(format!(
                    "the argument could not be serialized: {e}"
                )));
                return Ok(future);
            }
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = Vec::with_capacity(call.args.len() + 32);
        wire::begin(&mut msg, wire::TASK, id);
        call.encode_into(&mut msg);
        if msg.len() > self.pool.config.max_frame {
            promise.set_error(FutureError::Serialization(format!(
                "an argument of {} bytes exceeds the frame limit of {} bytes",
                msg.len(),
                self.pool.config.max_frame
            )));
            return Ok(future);
        }
        let task = Task {
            id,
            msg,
            job: Box::new(Typed {
                promise: Some(promise),
            }),
        };
        let mut st = self.pool.state.lock();
        if let Some(why) = &st.broken {
            return Err(SubmitError::BrokenExecutor(why.clone()));
        }
        if st.shutdown {
            return Err(SubmitError::ShutDown);
        }
        st.pending.push_back(task);
        if self.pool.wants_worker(&st) {
            let slot = st.started;
            st.started += 1;
            st.running += 1;
            let pool = Arc::clone(&self.pool);
            let spawned = std::thread::Builder::new()
                .name(format!("threadkit-pool-manager-{slot}"))
                .spawn(move || manager::manage(&pool, slot));
            match spawned {
                Ok(handle) => self.managers.lock().push(handle),
                Err(_) => st.running -= 1,
            }
        }
        self.pool.dispatch(&mut st);
        Ok(future)
    }

    /// Runs `f` on every item in the workers, one item per message, and
    /// yields the results in input order (Python's `map(fn, iterable)`).
    /// For `timeout=` and `chunksize=`, see [`map_with`](Self::map_with).
    ///
    /// A task that fails yields its error in its place. Dropping the
    /// iterator cancels the tasks not yet started.
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit), and then the tasks submitted before are
    /// cancelled.
    pub fn map<A, R, I>(&self, f: fn(A) -> R, items: I) -> Result<ProcessMap<R>, FutureError>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.map_with(f, items, MapOptions::default())
    }

    /// As [`map`](Self::map), with Python's keywords as [`MapOptions`]:
    /// `chunksize` items per message (1 when unset, as in Python) and a
    /// `timeout`.
    ///
    /// A chunk whose task fails yields its error once for each of its items.
    /// `timeout` counts from this call: the first result not ready by then
    /// is yielded as `Err(FutureError::Timeout)` (Python raises
    /// `TimeoutError` from the iterator), the chunks not yet started are
    /// cancelled and the iterator ends. Dropping the iterator cancels the
    /// chunks not yet started.
    ///
    /// # Errors
    ///
    /// [`FutureError::InvalidArgument`] if the chunk size is 0 (Python's
    /// `ValueError`); as [`submit`](Self::submit), and then chunks submitted
    /// before are cancelled.
    #[doc(alias("chunksize", "map_chunked"))]
    pub fn map_with<A, R, I>(
        &self,
        f: fn(A) -> R,
        items: I,
        options: MapOptions,
    ) -> Result<ProcessMap<R>, FutureError>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let (futures, sizes) = self
            .submit_chunks(f, items, options.chunksize.unwrap_or(1))?
            .into_iter()
            .map(|c| (c.future, c.size))
            .unzip();
        Ok(ProcessMap {
            chunks: Map::new(futures, Deadline::from_timeout(options.timeout)),
            sizes,
            current: Vec::new().into_iter(),
            failed: None,
            _marker: PhantomData,
        })
    }

    /// Submits `items` in chunks of `chunksize`, each the future of its
    /// results; on an error, the chunks submitted before are cancelled.
    pub(crate) fn submit_chunks<A, R, I>(
        &self,
        f: fn(A) -> R,
        items: I,
        chunksize: usize,
    ) -> Result<Vec<Chunk<R>>, FutureError>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        if chunksize == 0 {
            return Err(FutureError::InvalidArgument(
                "chunksize must be >= 1".to_owned(),
            ));
        }
        let mut chunks: Vec<Chunk<R>> = Vec::new();
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let chunk: Vec<A> = items.by_ref().take(chunksize).collect();
            match self.submit_call::<Vec<R>>(Call::chunk(f, &chunk)) {
                Ok(future) => chunks.push(Chunk {
                    future,
                    size: chunk.len(),
                }),
                Err(e) => {
                    for c in chunks {
                        c.future.cancel();
                    }
                    return Err(e.into());
                }
            }
        }
        Ok(chunks)
    }

    /// Cancels the tasks not started, refuses new ones and sends every
    /// worker `SIGTERM` (Python 3.14's `terminate_workers()`). Tasks that
    /// were running fail with [`FutureError::BrokenExecutor`].
    pub fn terminate_workers(&self) {
        self.shutdown(Shutdown::no_wait().cancel_futures());
        self.pool.signal_workers(libc::SIGTERM);
    }

    /// [`terminate_workers`](Self::terminate_workers) with `SIGKILL`
    /// (Python 3.14's `kill_workers()`).
    pub fn kill_workers(&self) {
        self.shutdown(Shutdown::no_wait().cancel_futures());
        self.pool.signal_workers(libc::SIGKILL);
    }

    /// Stops accepting tasks (Python's `shutdown(wait, cancel_futures)`):
    /// with [`Shutdown::cancel_futures`], pending tasks are cancelled; workers exit once
    /// the rest have run; with [`Shutdown::wait`], returns after every worker exited and
    /// was reaped.
    pub fn shutdown(&self, how: Shutdown) {
        let (wait, cancel_futures) = (how.waits(), how.cancels_futures());
        let cancelled: Vec<Task> = {
            let mut st = self.pool.state.lock();
            st.shutdown = true;
            let cancelled = if cancel_futures {
                st.pending.drain(..).collect()
            } else {
                Vec::new()
            };
            self.pool.dispatch(&mut st);
            cancelled
        };
        for task in cancelled {
            task.job.cancel();
        }
        if wait {
            let mut st = self.pool.state.lock();
            self.pool
                .state
                .wait_until(&mut st, Deadline::Never, |s| s.running == 0);
            drop(st);
            for handle in std::mem::take(&mut *self.managers.lock()) {
                let _ = handle.join();
            }
        }
    }
}

impl Default for ProcessPoolExecutor {
    /// One worker per CPU (Python's `ProcessPoolExecutor()`).
    fn default() -> Self {
        Self::builder()
            .build()
            .expect("the CPU count is at least 1")
    }
}

impl Drop for ProcessPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(Shutdown::wait());
    }
}

impl fmt::Debug for ProcessPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPoolExecutor")
            .field("max_workers", &self.max_workers())
            .field("workers", &self.worker_pids())
            .finish_non_exhaustive()
    }
}

/// A chunk of a `map`: the future of its results and how many items it has.
pub(crate) struct Chunk<R> {
    pub(crate) future: Future<Vec<R>>,
    pub(crate) size: usize,
}

impl<R> AsRef<Future<Vec<R>>> for Chunk<R> {
    fn as_ref(&self) -> &Future<Vec<R>> {
        &self.future
    }
}

/// The iterator returned by [`ProcessPoolExecutor::map`]: results in input
/// order.
pub struct ProcessMap<R> {
    chunks: Map<'static, Vec<R>>,
    sizes: VecDeque<usize>,
    current: std::vec::IntoIter<R>,
    /// A failed chunk's error and how many more items to yield it for.
    failed: Option<(FutureError, usize)>,
    _marker: PhantomData<R>,
}

impl<R> Iterator for ProcessMap<R> {
    type Item = Result<R, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((error, left)) = &mut self.failed {
                if *left > 0 {
                    *left -= 1;
                    return Some(Err(error.clone()));
                }
                self.failed = None;
            }
            if let Some(r) = self.current.next() {
                return Some(Ok(r));
            }
            let size = self.sizes.pop_front()?;
            match self.chunks.next()? {
                Ok(results) => self.current = results.into_iter(),
                // `chunks` cancelled the rest and ends: so does this.
                Err(FutureError::Timeout) => {
                    self.sizes.clear();
                    return Some(Err(FutureError::Timeout));
                }
                Err(e) => self.failed = Some((e, size)),
            }
        }
    }
}

impl<R> fmt::Debug for ProcessMap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessMap")
            .field("chunks_left", &self.sizes.len())
            .finish_non_exhaustive()
    }
}
