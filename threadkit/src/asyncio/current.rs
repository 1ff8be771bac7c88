//! The running loop and its tasks: [`current_task`], [`all_tasks`],
//! [`get_running_loop`] and [`run_coroutine_threadsafe`].

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use parking_lot::Mutex;
use tokio::runtime::Handle;

use super::error::TaskError;
use super::task::Task;
use crate::futures::{Future as PoolFuture, FutureError};

/// A task's identity: what [`current_task`] and [`all_tasks`] give, and
/// [`Task::id`] compares with. Unique among the tasks running at once (it is
/// tokio's [`Id`](tokio::task::Id)).
pub type TaskId = tokio::task::Id;

impl<T> Task<T> {
    /// This task's identity (Python compares the `Task` objects themselves:
    /// `current_task() is task`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::asyncio;
    ///
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async { asyncio::current_task() });
    ///     let id = task.id();
    ///     assert_eq!(task.await, Ok(Some(id)));
    /// })
    /// .unwrap();
    /// ```
    pub fn id(&self) -> TaskId {
        self.abort_handle().id()
    }
}

/// The tasks made by [`create_task`](super::create_task) (and the task
/// groups) that are not done, process-wide: a slab whose free entries are
/// reused, so listing a task costs no allocation and no hashing.
#[derive(Default)]
struct Listed {
    /// `(generation, id)`; `id` is `None` while the task is being spawned
    /// or once the entry is free.
    entries: Vec<(u64, Option<TaskId>)>,
    free: Vec<usize>,
    generation: u64,
}

fn listed() -> &'static Mutex<Listed> {
    static LISTED: OnceLock<Mutex<Listed>> = OnceLock::new();
    LISTED.get_or_init(|| Mutex::new(Listed::default()))
}

/// A task's entry in [`all_tasks`]: reserved before the task is spawned,
/// named once its id is known, freed when its future is dropped (done,
/// cancelled, or its loop closed), in whichever order the last two happen.
/// The generation tells a reused entry from the one reserved.
#[derive(Clone, Copy)]
struct Entry {
    index: usize,
    generation: u64,
}

/// Carried inside the task's future: frees its entry when dropped.
pub(crate) struct Unlist(Entry);

impl Drop for Unlist {
    fn drop(&mut self) {
        let mut listed = listed().lock();
        let Entry { index, generation } = self.0;
        if listed.entries[index].0 == generation {
            // Free it: a new generation makes a late `list` a no-op.
            listed.generation += 1;
            let next = listed.generation;
            listed.entries[index] = (next, None);
            listed.free.push(index);
        }
    }
}

/// The other half: names the entry with the spawned task's id.
pub(crate) struct Listing(Entry);

impl Listing {
    pub(crate) fn list(self, id: TaskId) {
        let mut listed = listed().lock();
        let Entry { index, generation } = self.0;
        if listed.entries[index].0 == generation {
            listed.entries[index].1 = Some(id);
        }
    }
}

/// Wraps a task's future so that the task is in [`all_tasks`] until the
/// future is dropped; call [`Listing::list`] with the spawned task's id.
pub(crate) fn listed_future<F: Future>(future: F) -> (impl Future<Output = F::Output>, Listing) {
    let entry = {
        let mut listed = listed().lock();
        listed.generation += 1;
        let generation = listed.generation;
        let index = match listed.free.pop() {
            Some(i) => {
                listed.entries[i] = (generation, None);
                i
            }
            None => {
                listed.entries.push((generation, None));
                listed.entries.len() - 1
            }
        };
        Entry { index, generation }
    };
    let unlist = Unlist(entry);
    // `unlist` is captured: dropped with the future even if never polled.
    let future = async move {
        let _unlist = unlist;
        future.await
    };
    (future, Listing(entry))
}

/// The task running the calling code: Python's `asyncio.current_task()`.
///
/// `None` outside a task, including in the future given to
/// [`run`](super::run) itself.
///
/// # Differences from Python's `current_task`
///
/// Python returns the `Task` object; a Rust task's handle belongs to whoever
/// created it, so this gives its [`TaskId`] (compare it with
/// [`Task::id`]). Python runs `asyncio.run`'s coroutine as a task; threadkit
/// runs it on the loop's own thread, outside any task, so there this is
/// `None`.
pub fn current_task() -> Option<TaskId> {
    tokio::task::try_id()
}

/// The tasks not yet done: Python's `asyncio.all_tasks()`.
///
/// # Differences from Python's `all_tasks`
///
/// - It gives [`TaskId`]s, not `Task` objects (see [`current_task`]).
/// - It lists the tasks made by [`create_task`](super::create_task) and
///   [`TaskGroup`](super::TaskGroup)s on every loop of the process, not only
///   the running one; with one loop, as under [`run`](super::run), that is
///   Python's answer. Tasks spawned with tokio directly are not listed.
/// - Outside a loop it answers instead of raising `RuntimeError`.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, Event};
/// use std::sync::Arc;
///
/// asyncio::run(async {
///     let go = Arc::new(Event::new());
///     let gate = Arc::clone(&go);
///     let task = asyncio::create_task(async move { gate.wait().await });
///     assert!(asyncio::all_tasks().contains(&task.id()));
///     go.set();
///     let id = task.id();
///     task.await.unwrap();
///     assert!(!asyncio::all_tasks().contains(&id));
/// })
/// .unwrap();
/// ```
pub fn all_tasks() -> HashSet<TaskId> {
    listed()
        .lock()
        .entries
        .iter()
        .filter_map(|&(_, id)| id)
        .collect()
}

/// The error of [`get_running_loop`] outside a loop: Python's
/// `RuntimeError: no running event loop`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NoRunningLoop(());

impl NoRunningLoop {
    fn new() -> Self {
        NoRunningLoop(())
    }
}

impl fmt::Debug for NoRunningLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoRunningLoop")
    }
}

impl fmt::Display for NoRunningLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no running event loop")
    }
}

impl std::error::Error for NoRunningLoop {}

/// A handle on a running loop, which other threads may keep to submit work
/// to it: what Python's `asyncio.get_running_loop()` returns, for
/// [`run_coroutine_threadsafe`].
#[derive(Clone)]
pub struct EventLoop {
    handle: Handle,
}

impl EventLoop {
    /// The tokio handle, for code that needs tokio's API.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("flavor", &self.handle.runtime_flavor())
            .finish()
    }
}

/// The loop running the calling code: Python's
/// `asyncio.get_running_loop()`.
///
/// # Errors
///
/// [`NoRunningLoop`] outside a loop (Python's `RuntimeError: no running
/// event loop`).
pub fn get_running_loop() -> Result<EventLoop, NoRunningLoop> {
    Handle::try_current()
        .map(|handle| EventLoop { handle })
        .map_err(|_| NoRunningLoop::new())
}

/// Submits `future` to the loop `event_loop` from another thread and
/// returns a threadkit [`Future`](crate::futures::Future) for its outcome:
/// Python's `asyncio.run_coroutine_threadsafe(coro, loop)`.
///
/// The returned future can be waited on with its blocking methods
/// (`result_timeout`), mixed with pool futures in
/// [`futures::wait`](crate::futures::wait), or awaited.
/// [`cancel`](crate::futures::Future::cancel) on it cancels the task on the
/// loop. A task that panics gives [`FutureError::Panicked`]; a loop that
/// closes before the task finishes gives
/// [`FutureError::BrokenExecutor`], never a wait without end.
///
/// Call it from a thread other than the loop's, as in Python: a blocking
/// wait (`result()`) on the loop's own thread would stop the loop that must
/// run the task. On the loop, `.await` the returned future instead.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio;
///
/// let answer = asyncio::run(async {
///     let event_loop = asyncio::get_running_loop().unwrap();
///     asyncio::to_thread(move || {
///         // On a thread outside the loop: submit, then block for the outcome.
///         let fut = asyncio::run_coroutine_threadsafe(async { 6 * 7 }, &event_loop);
///         fut.into_result()
///     })
///     .await
/// })
/// .unwrap();
/// assert_eq!(answer, Ok(Ok(42)));
/// ```
pub fn run_coroutine_threadsafe<F>(future: F, event_loop: &EventLoop) -> PoolFuture<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let task = event_loop.handle.spawn(future);
    let abort = task.abort_handle();
    let (fut, promise) = PoolFuture::with_cancel_hook(move || {
        abort.abort();
        true
    });
    // The promise rides in a task of its own: if the loop closes first, it
    // is dropped with that task and the future ends as BrokenExecutor.
    event_loop.handle.spawn(async move {
        match task.await {
            Ok(value) => promise.set_result(value),
            Err(e) if e.is_cancelled() => promise.set_error(FutureError::Cancelled),
            Err(e) => match TaskError::from_join(e) {
                TaskError::Panicked(report) => promise.set_error(FutureError::Panicked(report)),
                _ => promise.set_error(FutureError::Cancelled),
            },
        }
    });
    fut
}
