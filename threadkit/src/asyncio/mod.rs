//! Python's `asyncio`: tasks on an event loop, built on tokio (feature
//! `asyncio`).
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::Duration;
//! use threadkit::asyncio;
//!
//! static ASLEEP: AtomicUsize = AtomicUsize::new(0);
//!
//! // async def fetch_data(n):
//! //     await asyncio.sleep(0.05)
//! //     return n
//! // results = asyncio.run(asyncio.gather(*(fetch_data(n) for n in range(5))))
//! async fn fetch_data(n: u32) -> u32 {
//!     ASLEEP.fetch_add(1, Ordering::SeqCst);
//!     asyncio::sleep(Duration::from_millis(50)).await;
//!     // Together, not one after another: all five went to sleep first.
//!     assert_eq!(ASLEEP.load(Ordering::SeqCst), 5);
//!     n
//! }
//! let results = asyncio::run(asyncio::gather((0..5).map(fetch_data))).unwrap();
//! assert_eq!(results, Ok(vec![0, 1, 2, 3, 4]));
//! ```
//!
//! # What is here
//!
//! | Python | threadkit |
//! | --- | --- |
//! | `asyncio.run(main())`, `asyncio.Runner` | [`run`], [`Runner`] (current-thread loop; `worker_threads(n)` for a multi-thread one) |
//! | `await asyncio.sleep(d)`, `asyncio.sleep(d, result)` | [`sleep`], [`sleep_with`] |
//! | `asyncio.create_task(coro)`, `Task.cancel/done/result` | [`create_task`], [`Task`] |
//! | `gather(*aws)`, `gather(*aws, return_exceptions=True)` | [`gather`], [`gather_return_exceptions`] (futures of one type) |
//! | `gather(user(), posts())` (different types) | [`gather!`](crate::gather)`(user(), posts())`, `gather!(return_exceptions = true; ...)` |
//! | `async with asyncio.TaskGroup() as tg` | [`TaskGroup::scope`], [`TaskGroup`], [`ExceptionGroup`] |
//! | `as_completed(aws, timeout=t)` | [`as_completed`], [`AsCompleted::timeout`] |
//! | `wait_for(aw, t)`, `async with timeout(t)`, `timeout_at(when)` | [`wait_for`], [`timeout`], [`timeout_at`] |
//! | `wait(aws, timeout, return_when)` | [`wait`] → [`Waited`], [`ReturnWhen`] |
//! | `shield(aw)` | [`shield`] |
//! | `current_task()`, `all_tasks()`, `get_running_loop()` | [`current_task`], [`all_tasks`] ([`TaskId`]s), [`get_running_loop`] |
//! | `run_coroutine_threadsafe(coro, loop)` | [`run_coroutine_threadsafe`] → a [`futures::Future`](crate::futures::Future) |
//! | `open_connection(host, port)`, `start_server(cb, host, port)`, `StreamReader`, `StreamWriter` | [`open_connection`], [`start_server`] → [`Server`], [`StreamReader`], [`StreamWriter`] |
//! | `create_subprocess_exec(prog, *args, stdout=PIPE)`, `communicate`, `wait` | [`create_subprocess_exec`] with [`Stdio`], [`Subprocess`] |
//! | `to_thread(f)`, `loop.run_in_executor(pool, f)` | [`to_thread`], [`run_in_executor`] (any threadkit [`Executor`](crate::futures::Executor)) |
//! | `Queue`, `LifoQueue`, `PriorityQueue`, `Lock`, `Event`, `Semaphore`, `BoundedSemaphore`, `Condition`, `Barrier` | same names |
//! | `await wrap_future(f)` | `f.await` (a pool's [`Future`](crate::futures::Future) is a [`std::future::Future`]) |
//! | awaiting a thread-side queue or event | [`queue::Queue::get_async`](crate::queue::Queue::get_async), `put_async`, `join_async`; [`threading::Event::wait_async`](crate::threading::Event::wait_async) |
//! | `CancelledError`, `TimeoutError`, `BrokenBarrierError`, `RuntimeError` | [`TaskError`], [`TimeoutError`], [`BrokenBarrierError`], [`RunError`] |
//!
//! # Sync and async together
//!
//! Blocking code goes to a thread with [`to_thread`] or to a pool with
//! [`run_in_executor`]; a pool's [`Future`](crate::futures::Future) can be
//! awaited directly. Threads and tasks can share a
//! [`queue::Queue`](crate::queue::Queue) or a
//! [`threading::Event`](crate::threading::Event): each has a blocking and
//! an async face on the same object (`q.get()` and `q.get_async().await`,
//! `ev.wait()` and `ev.wait_async().await`), served in one line. Or they
//! share this module's types, which are `Sync` and whose non-`async`
//! methods (`Event::set`, `Queue::try_put`) any thread may call;
//! [`Queue`] is a facade over [`queue::Queue`](crate::queue::Queue).
//! [`Event`], [`Semaphore`], [`BoundedSemaphore`] and [`Barrier`] are facades
//! over [`threading`](crate::threading)'s objects in the same way:
//! `as_threading()` gives the thread face of the same object.
//!
//! # Differences from Python's `asyncio`
//!
//! - The loop is tokio's runtime; [`run`] builds a fresh one each time and
//!   refuses to nest ([`RunError::is_nested`]) instead of panicking.
//! - A task's exception is a panic ([`TaskError::Panicked`]), as in
//!   [`futures`](crate::futures); a `Result` output is an ordinary value.
//! - Cancellation drops the task's future at its next `.await`: it cannot be
//!   caught or refused inside the task, but destructors run. Every
//!   primitive documents what cancelling its methods does ("Cancel safety").
//! - Tasks must be `Send + 'static` (a multi-thread loop may move them).
//! - Locks own their data and release on drop, as in [`threading`](crate::threading).
//! - Timeouts take [`Duration`](std::time::Duration)s; deadlines are tokio
//!   [`Instant`](tokio::time::Instant)s.
//!
//! # tokio
//!
//! The loop is tokio's, and a few signatures name tokio types
//! ([`timeout_at`] and [`Timeout::reschedule`] take a
//! [`tokio::time::Instant`]; [`Task::into_join_handle`] returns a
//! [`tokio::task::JoinHandle`]). threadkit re-exports the tokio it was built
//! with as [`threadkit::asyncio::tokio`](tokio), so those types can be named
//! without adding tokio to your own `Cargo.toml` or matching its version:
//!
//! ```
//! use std::time::Duration;
//! use threadkit::asyncio::{self, tokio};
//!
//! let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
//! let out = asyncio::run(async move { asyncio::timeout_at(deadline, async { 7 }).await }).unwrap();
//! assert_eq!(out, Ok(7));
//! ```

mod awaited;
mod barrier;
mod condition;
mod current;
mod error;
mod event;
mod executor;
mod gather;
mod gather_macro;
mod lock;
mod poll_set;
mod queue;
mod runtime;
mod semaphore;
mod shield;
mod streams;
#[cfg(unix)]
mod subprocess;
mod task;
mod task_group;
mod timeouts;
mod wait;

pub use crate::threading::SemaphorePermit;
pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use current::{
    EventLoop, NoRunningLoop, TaskId, all_tasks, current_task, get_running_loop,
    run_coroutine_threadsafe,
};
pub use error::{
    BrokenBarrierError, ExceptionGroup, ReleaseError, RunError, TaskError, TimeoutError,
    TooManyReleases,
};
pub use event::Event;
pub use executor::{InExecutor, run_in_executor, to_thread};
pub use gather::{AsCompleted, as_completed, gather, gather_return_exceptions};
pub use lock::{Lock, LockGuard};
pub use queue::{LifoQueue, PriorityQueue, Queue};
pub use runtime::{Runner, run, sleep, sleep_with};
pub use semaphore::{BoundedSemaphore, CountingSemaphore, Semaphore};
pub use shield::{Shield, shield};
pub use streams::{
    ReadError, STREAM_LIMIT, Server, StreamReader, StreamWriter, open_connection, start_server,
};
#[cfg(unix)]
pub use subprocess::{Redirect, Stdio, Subprocess, create_subprocess_exec};
pub use task::{Task, create_task};
pub use task_group::TaskGroup;
pub use timeouts::{Timeout, timeout, timeout_at, wait_for};
pub use wait::{ReturnWhen, Wait, Waited, wait};

/// The tokio this module is built on (its `rt`, `rt-multi-thread`, `time`
/// and `sync` features), for naming the tokio types in threadkit's
/// signatures, such as [`tokio::time::Instant`] for [`timeout_at`].
pub use tokio;

/// What [`gather!`](crate::gather) expands to; not public API.
#[doc(hidden)]
pub mod __private {
    pub use super::gather_macro::{Gather, Slot};
}
