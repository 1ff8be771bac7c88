//! Python's `concurrent.futures`: run tasks on a pool of threads and collect
//! their results through futures.
//!
//! ```
//! use threadkit::futures::{ThreadPoolExecutor, as_completed};
//!
//! // with ThreadPoolExecutor(max_workers=4) as pool:
//! //     futures = [pool.submit(pow, n, 2) for n in range(10)]
//! //     total = sum(f.result() for f in as_completed(futures))
//! let pool = ThreadPoolExecutor::new(4).unwrap();
//! let futures: Vec<_> = (0..10u64).map(|n| pool.submit(move || n.pow(2)).unwrap()).collect();
//! let total: u64 = as_completed(&futures, None).map(|f| *f.unwrap().result().unwrap()).sum();
//! assert_eq!(total, 285);
//! // results in input order, as pool.map does
//! let cubes: Vec<u64> = pool.map(|n: u64| n.pow(3), 0..4).unwrap().map(Result::unwrap).collect();
//! assert_eq!(cubes, [0, 1, 8, 27]);
//! ```
//!
//! # What is here
//!
//! | Python | threadkit |
//! | --- | --- |
//! | `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)` | [`ThreadPoolExecutor::new`], [`ThreadPoolExecutor::builder`] |
//! | `Executor.submit(fn, *args)`, `map(fn, it, timeout=, chunksize=)`, `shutdown(wait, cancel_futures=)` | the [`Executor`] trait (also inherent on the pool), [`Executor::map_with`] and [`MapOptions`], [`Shutdown`] |
//! | `with pool:` | dropping the pool (`shutdown(wait=True)`) |
//! | `Future`: `result(t)`, `exception(t)`, `cancel()`, `cancelled()`, `running()`, `done()`, `add_done_callback` | [`Future<T>`] |
//! | `Future()` + `set_result`/`set_exception` | [`Future::new`] → ([`Future`], [`Promise`]) |
//! | `wait(fs, timeout, return_when)` | [`wait`] (async: [`wait_async`]) → [`DoneAndNotDone`], [`ReturnWhen`] |
//! | `as_completed(fs, timeout)` | [`as_completed`] → [`AsCompleted`] |
//! | `CancelledError`, `TimeoutError`, `BrokenExecutor`, task exceptions | [`FutureError`] from `result`; [`SubmitError`] from `submit`; [`TimeoutError`] from `as_completed`; [`CancelledError`] |
//! | (none) | [`scope`]: a pool whose tasks borrow from the stack |
//!
//! # Names that clash
//!
//! `use threadkit::futures::Future;` shadows the standard library's
//! [`std::future::Future`] trait, and a module named `futures` clashes with
//! the `futures` crate. Either import the type under its alias,
//! [`ConcurrentFuture`], or reach this module by Python's own path,
//! `threadkit::concurrent::futures`:
//!
//! ```
//! use threadkit::concurrent::futures::{ConcurrentFuture, ThreadPoolExecutor};
//!
//! let pool = ThreadPoolExecutor::new(1).unwrap();
//! let f: ConcurrentFuture<u8> = pool.submit(|| 7).unwrap();
//! assert_eq!(f.result(), Ok(&7));
//! ```
//!
//! # Futures and ownership
//!
//! A [`Future<T>`] is the unique handle to a task's result. [`Future::result`]
//! lends `&T` (the same value on every call, as Python returns the same
//! object); [`Future::into_result`] and `.await` move it out. [`wait`] and
//! [`as_completed`] take futures by reference or by value, from any mix of
//! executors; they install a waiter on each future and sleep until woken, so
//! nothing polls.
//!
//! # Differences from Python's `concurrent.futures`
//!
//! - A task's exception is a panic: it is caught on the worker and comes back
//!   as [`FutureError::Panicked`] with the panic's message.
//! - Errors are values, one type per operation: submit after shutdown is
//!   `Err(SubmitError::ShutDown)` (Python's `RuntimeError`), `max_workers=0`
//!   is a [`BuildError`], `as_completed` times out with [`TimeoutError`],
//!   and `result` gives a [`FutureError`]; the narrow types convert into
//!   `FutureError` for `?`.
//! - Done-callbacks get the outcome, `Result<&T, &FutureError>`, and run just
//!   before waiters wake, not just after.
//! - `map` yields `Result`s: a panicking task yields its error and iteration
//!   may go on; collecting into `Result<Vec<_>, _>` stops at the first error
//!   and, by dropping the iterator, cancels the tasks not started yet.
//! - `map` chunks its input automatically (`chunksize` is honoured by every
//!   pool, not just the process pool) and submits a bounded window of chunks
//!   ahead of the consumer instead of the whole input up front (as Python
//!   3.14's `buffersize` does), so it runs in bounded memory.
//! - `as_completed` yields one `Err(TimeoutError)` on timeout and
//!   ends, instead of raising; the unfinished futures remain available.
//! - `wait` returns lists in input order instead of sets; a cancelled future
//!   counts as done at once (Python waits for the executor to notice).
//! - `Future<T>` also implements [`std::future::Future`], so a pool's results
//!   can be awaited by any async runtime.
//! - No GIL: CPU-bound tasks run in parallel on all cores.

mod error;
mod executor;
pub(crate) mod future;
mod map;
mod pool;
mod scoped;
mod thread_pool;
mod wait;
mod waiter;
mod work;

#[cfg(test)]
mod tests;

pub use error::{BuildError, CancelledError, FutureError, PanicReport, SubmitError, TimeoutError};
/// [`Future`] under a name that shadows neither [`std::future::Future`] nor
/// the `futures` crate's trait: `use threadkit::futures::ConcurrentFuture;`
/// (Python's `concurrent.futures.Future`).
pub type ConcurrentFuture<T> = Future<T>;
pub use executor::{Executor, MapOptions, Shutdown};
pub use future::{Future, Promise};
pub use map::Map;
pub use scoped::{Scope, scope};
pub use thread_pool::{ThreadPoolBuilder, ThreadPoolExecutor};
pub use wait::{AsCompleted, DoneAndNotDone, ReturnWhen, as_completed, wait, wait_async};
pub use work::WorkItem;
