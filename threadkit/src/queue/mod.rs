//! Python's `queue` module: thread-safe queues for producers and consumers.
//!
//! ```
//! use std::sync::Arc;
//! use threadkit::queue::Queue;
//!
//! // Python:
//! //     q = queue.Queue(maxsize=8)
//! //     threading.Thread(target=worker).start()
//! //     for n in range(100): q.put(n)
//! //     q.join()
//! let q = Arc::new(Queue::new(8));
//! let sum = Arc::new(std::sync::atomic::AtomicU64::new(0));
//! let worker = {
//!     let (q, sum) = (Arc::clone(&q), Arc::clone(&sum));
//!     std::thread::spawn(move || {
//!         // `get` fails only once the queue is shut down and empty.
//!         while let Ok(n) = q.get() {
//!             sum.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
//!             q.task_done().unwrap();
//!         }
//!     })
//! };
//! for n in 0..100u64 {
//!     q.put(n).unwrap();
//! }
//! q.join(); // every item was processed
//! assert_eq!(sum.load(std::sync::atomic::Ordering::Relaxed), 4950);
//! q.shutdown(false); // Python 3.13: ends the worker's loop
//! worker.join().unwrap();
//! ```
//!
//! # Which queue should I use?
//!
//! | Python | threadkit | order | bound, `task_done`/`join`, `shutdown` |
//! | --- | --- | --- | --- |
//! | `Queue(maxsize)` | [`Queue<T>`] | first in, first out | yes |
//! | `LifoQueue(maxsize)` | [`LifoQueue<T>`] (a named `Queue<T, Lifo>`) | last in, first out | yes |
//! | `PriorityQueue(maxsize)` | [`PriorityQueue<T>`] (a named `Queue<T, Priority>`) | lowest first | yes |
//! | `SimpleQueue()` | [`SimpleQueue<T>`] | first in, first out | no: unbounded, `put` never blocks |
//!
//! All four are `Send + Sync` when `T: Send`; share them with an `Arc`.
//! [`Queue<T, S>`](Queue) is generic over its [`Order`] `S` ([`Fifo`], the
//! default, [`Lifo`] or [`Priority`]), so code written for one queue works
//! for all three.
//!
//! # Threads and tasks
//!
//! Every blocking method has an async twin on the same object:
//! [`get_async`](Queue::get_async), [`put_async`](Queue::put_async),
//! [`join_async`](Queue::join_async) (and [`SimpleQueue::get_async`]). A
//! thread blocked in `get` and a task awaiting `get_async` wait in one line,
//! first come first served, on the crate's one waiting core; no runtime is
//! needed. `threadkit::asyncio::Queue` (feature `asyncio`) spells the same
//! queue the asyncio way (`q.get().await`).
//!
//! # Blocking, try and timeout
//!
//! Python's `put(item, block=True, timeout=None)` and `get(...)` become
//! method families, as everywhere in threadkit:
//!
//! | Python | threadkit | error on failure |
//! | --- | --- | --- |
//! | `put(x)` | [`put(x)`](Queue::put) | [`ShutDown<T>`] (item handed back) |
//! | `put_nowait(x)`, `put(x, False)` | [`try_put(x)`](Queue::try_put) | [`PutError<T>`]: `Full`, `ShutDown` |
//! | `put(x, timeout=t)` | [`put_timeout(x, t)`](Queue::put_timeout), [`put_deadline`](Queue::put_deadline) | [`PutError<T>`]: `Full`, `ShutDown` |
//! | `get()` | [`get()`](Queue::get) | [`ShutDown`] (shut down and empty) |
//! | `get_nowait()`, `get(False)` | [`try_get()`](Queue::try_get) | [`GetError`]: `Empty`, `ShutDown` |
//! | `get(timeout=t)` | [`get_timeout(t)`](Queue::get_timeout), [`get_deadline`](Queue::get_deadline) | [`GetError`]: `Empty`, `ShutDown` |
//! | `task_done()` | [`task_done()`](Queue::task_done) | [`TaskDoneError`] (Python's `ValueError`) |
//! | `except queue.Empty`, `except queue.Full` | `Err(Empty)`, `Err(Full(item))` | [`Empty`] and [`Full`] are the variants of [`GetError`] and [`PutError`], re-exported under Python's names |
//! | asyncio's `await q.put(x)`, `await q.get()`, `await q.join()` | [`put_async(x)`](Queue::put_async), [`get_async()`](Queue::get_async), [`join_async()`](Queue::join_async) | as `put` and `get` |
//!
//! # Shutdown
//!
//! [`shutdown(immediate)`](Queue::shutdown) follows Python 3.13: afterwards
//! puts fail and hand the item back; gets drain the remaining items and then
//! fail; blocked putters and getters wake up. With `immediate = true` the
//! remaining items are dropped and counted as done, so `join` returns.
//!
//! # Differences from Python's `queue`
//!
//! - Errors are values, not exceptions, and every failed put returns the item.
//! - `maxsize` is a `usize`, so `0` (not a negative number) means
//!   unbounded, and negative timeouts cannot be written; `q.maxsize = n` is
//!   [`set_maxsize(n)`](Queue::set_maxsize), which wakes blocked putters.
//! - `PriorityQueue` needs `T: Ord` and is first in, first out among equal
//!   items.
//! - Extras: [`Queue::join_timeout`], [`Queue::shutdown_drain`], and the
//!   async face on the same object as the blocking one.
//! - No GIL: producers and consumers run in parallel. A `put` or `get` that
//!   can proceed takes no lock (`SimpleQueue` and unbounded `Queue`s are
//!   lock-free, as crossbeam-channel; a bounded `Queue`'s puts share a short
//!   lock, its gets take none; `LifoQueue` and `PriorityQueue` hold a short
//!   lock on their stack or heap), and the lock and list of waiters of a
//!   condition are only touched when a thread or task actually waits on it.
//! - `unfinished_tasks` is kept per producing thread, so that a `put` writes
//!   no shared counter; `join`, and a `task_done` that finds the count near
//!   zero, add up one slot per thread that ever put into the queue.
//! - A `task_done` called too many times *while* other threads put or mark
//!   tasks done may, in a narrow window, go unreported or let a concurrent
//!   `join` return early (Python's single lock makes that check exact). Called
//!   too many times otherwise, it is always reported.

mod backoff;
mod error;
mod order;
mod queues;
mod simple;
mod store;
mod tasks;

#[cfg(all(test, loom))]
mod tests;

/// Python's `queue.Empty`: [`GetError::Empty`], re-exported so that
/// `use threadkit::queue::Empty;` and `Err(Empty)` work after `try_get` and
/// `get_timeout` alike.
pub use error::GetError::Empty;
/// Python's `queue.Full`: [`PutError::Full`], re-exported so that
/// `use threadkit::queue::Full;` and `Err(Full(item))` work after `try_put`
/// and `put_timeout` alike.
pub use error::PutError::Full;
pub use error::{GetError, PutError, ShutDown, TaskDoneError};
pub use order::{Fifo, Lifo, LifoQueue, Order, Priority, PriorityQueue};
pub use queues::Queue;
pub use simple::SimpleQueue;
