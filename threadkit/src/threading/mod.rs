//! Python's `threading` module: threads and the synchronization primitives.
//!
//! ```
//! use std::sync::Arc;
//! use threadkit::threading::{Event, Lock};
//!
//! // `with lock: counter += 1` from four threads, then wait on an Event.
//! let counter = Arc::new(Lock::new(0));
//! let done = Arc::new(Event::new());
//! let workers: Vec<_> = (0..4)
//!     .map(|_| {
//!         let counter = Arc::clone(&counter);
//!         std::thread::spawn(move || *counter.acquire() += 1)
//!     })
//!     .collect();
//! for w in workers {
//!     w.join().unwrap();
//! }
//! done.set();
//! assert!(done.wait_timeout(std::time::Duration::from_secs(1)));
//! assert_eq!(*counter.acquire(), 4);
//! ```
//!
//! # Which primitive should I use?
//!
//! | Python | threadkit | use it to |
//! | --- | --- | --- |
//! | `Lock()` | [`Lock<T>`] | guard shared data; one thread at a time |
//! | `RLock()` | [`RLock<T>`] | a lock its owner may re-acquire (nested calls) |
//! | `Condition()` | [`Condition<T>`] | wait until shared data reaches some state |
//! | `Semaphore(n)` | [`Semaphore`] | let at most `n` threads in |
//! | `BoundedSemaphore(n)` | [`BoundedSemaphore`] | the same, and catch extra releases |
//! | `Event()` | [`Event`] | a flag others wait for (start/stop signals) |
//! | `Barrier(n)` | [`Barrier`] | make `n` threads meet before going on |
//! | `Thread(target=f)` | [`Thread<T>`] | run `f` on a new named thread, join it, get its result |
//! | `Timer(t, f)` | [`Timer`] | call `f` after `t` unless cancelled |
//! | `local()` | [`Local<T>`] | one value per thread, owned by one object |
//! | (none) | [`scope`] | threads that borrow a `Queue`, `Event` or `Lock` from the stack, no `Arc` |
//!
//! # Threads
//!
//! ```
//! use threadkit::threading::{Thread, active_count, current_thread, main_thread};
//!
//! // Thread(target=worker, args=(3,), name="w"); t.start(); t.join()
//! fn worker(n: u32) -> u32 {
//!     assert_eq!(current_thread().name(), "w");
//!     n * 2
//! }
//! let t = Thread::builder().name("w").build(move || worker(3));
//! assert!(!t.is_alive());
//! t.start().unwrap();
//! assert!(active_count() >= 1);
//! assert_eq!(t.into_result(), Ok(6));
//! assert_eq!(current_thread(), main_thread());
//! ```
//!
//! A [`Thread<T>`] is the creator's typed handle; [`ThreadHandle`] is the
//! untyped, clonable record that [`current_thread`], [`main_thread`] and
//! [`enumerate`] return and `Thread<T>` dereferences to. A panic in a thread's
//! target is caught: the [excepthook](set_excepthook) reports it (by default
//! `Exception in thread NAME:` and the message on stderr) and `join` returns
//! [`ThreadError::Panicked`]. [`set_start_hook`] and [`set_exit_hook`] run code
//! on every threadkit thread around its target.
//!
//! # Process exit and daemon threads
//!
//! As in Python, when `main` returns the process waits for every live
//! non-daemon threadkit thread, and abandons daemon threads. No macro or guard
//! is needed: the first time a non-daemon thread starts, threadkit registers
//! this step with its one C `atexit` handler, which runs when `main` returns
//! (Rust has flushed stdout by then; it stays usable). In Python's order, it
//! first shuts down thread pools still alive (waiting for their work), then
//! marks the main thread finished and joins the non-daemon threads,
//! including any they start meanwhile, then terminates daemon child
//! processes and joins the others. Caveats:
//!
//! - `std::process::exit` from any thread also runs the handler, so it too
//!   waits for non-daemon threads (a thread calling it is not waited for by
//!   itself); `std::process::abort` and `libc::_exit` do not wait.
//! - A non-daemon thread that never finishes keeps the process alive forever,
//!   exactly as in Python.
//! - Only threadkit threads are waited for; `std::thread`s are not.
//! - Under Miri no handler is registered.
//!
//! # Blocking, try and timeout
//!
//! Python's `acquire(blocking=True, timeout=-1)` becomes a family of methods:
//! `acquire()`, `try_acquire()`, `acquire_timeout(Duration)` and
//! `acquire_deadline(Instant)`. The same pattern holds for `wait` and, in the
//! [`queue`](crate::queue) module, for `put` and `get`. A timeout too large to
//! represent means "wait forever" where CPython raises `OverflowError`.
//!
//! # Threads and tasks
//!
//! [`Event`], [`Semaphore`], [`BoundedSemaphore`] and [`Barrier`] also have
//! an async face on the same object (`wait_async`, `acquire_async`), which
//! needs no runtime: threads and tasks wait in one first-come, first-served
//! line, and one `set` or `release` serves either. [`Lock`], [`RLock`] and
//! [`Condition`] are thread-only: their lock is `parking_lot`'s, whose
//! release cannot wake a task without slowing every release; the
//! `asyncio` feature's `Lock` and `Condition` are the task versions. (With
//! feature `green` their lock word keeps `parking_lot`'s fast paths, and
//! its contended waiters, threads and green threads, wait in the waiting
//! core; tasks still have no face there.)
//!
//! ```
//! use threadkit::threading::Semaphore;
//!
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop {
//! #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
//! #             return v;
//! #         }
//! #         std::thread::yield_now();
//! #     }
//! # }
//! let sem = Semaphore::new(1);
//! let permit = block_on(sem.acquire_async()); // a task's `await sem.acquire()`
//! assert!(sem.try_acquire().is_none()); // a thread sees it taken
//! drop(permit);
//! assert_eq!(sem.value(), 1);
//! ```
//!
//! # Panics and poisoning
//!
//! threadkit's locks do not poison. If a thread panics while it holds a lock,
//! the guard's drop releases the lock and the next thread acquires it normally,
//! as a Python `with` block releases its lock when an exception passes through.
//! Keep the guarded data consistent across panics (update it in one step) if
//! other threads must go on using it.
//!
//! # Differences from Python's `threading`
//!
//! - Locks own the data they guard and are released by dropping a guard;
//!   double release and release by a non-owner cannot be written.
//! - Errors are values: [`ReleaseError`] (with [`TooManyReleases`]) instead
//!   of `ValueError`, [`BrokenBarrierError`] as a `Result`.
//! - There is no GIL: threads run Rust code in parallel on every core.
//! - A thread's target is a closure; Python's `args=`/`kwargs=` are the values
//!   it captures, and it returns a value that [`Thread::into_result`] hands
//!   back after the join.
//! - A panic escaping a target is reported by the excepthook *and* returned by
//!   `join` as [`ThreadError::Panicked`]; misuse (`start` twice, joining an
//!   unstarted thread or the current one) is a [`ThreadError`], not a
//!   `RuntimeError`.
//! - Thread idents ([`get_ident`]) are unique for the process's life and never
//!   reused; [`get_native_id`] is the OS thread id.
//! - A thread created from a thread threadkit did not start is non-daemon by
//!   default (Python would make it a daemon, inheriting from the dummy thread).
//! - There is no `settrace`/`setprofile`; [`set_start_hook`] and
//!   [`set_exit_hook`] give tools the same entry points, and [`start_hook`]
//!   and [`exit_hook`] read them back (`gettrace`/`getprofile`).
//! - [`Local<T>`] holds one value per thread (use `Cell`/`RefCell` for
//!   mutation), and values outlive their thread until the `Local` is dropped.

mod barrier;
mod condition;
mod error;
mod event;
mod hooks;
mod local;
mod lock;
mod registry;
mod rlock;
mod scope;
mod semaphore;
mod thread;
mod timer;

#[cfg(all(test, loom))]
mod tests;

pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use error::{BrokenBarrierError, ReleaseError, ThreadError, TooManyReleases};
pub use event::Event;
pub use hooks::{
    ExceptHookArgs, ThreadHook, clear_exit_hook, clear_start_hook, default_excepthook, exit_hook,
    reset_excepthook, set_excepthook, set_exit_hook, set_start_hook, start_hook,
};
/// The excepthook machinery, reused by `futures` to report panicking callbacks.
pub(crate) use hooks::{report_exception, run_captured};
pub use local::Local;
pub use lock::{Lock, LockGuard};
pub use registry::{
    TIMEOUT_MAX, active_count, current_thread, enumerate, get_ident, get_native_id, main_thread,
};
pub use rlock::{RLock, RLockGuard};
pub use scope::{Scope, ScopedThread, scope};
#[cfg(feature = "asyncio")]
pub(crate) use semaphore::Rule as ReleaseRule;
pub use semaphore::{
    Bound, Bounded, BoundedSemaphore, CountingSemaphore, Semaphore, SemaphorePermit, Unbounded,
};
pub use thread::{Builder, Thread, ThreadHandle};
pub use timer::Timer;
