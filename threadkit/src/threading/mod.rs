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
//!
//! # Blocking, try and timeout
//!
//! Python's `acquire(blocking=True, timeout=-1)` becomes a family of methods:
//! `acquire()`, `try_acquire()`, `acquire_timeout(Duration)` and
//! `acquire_deadline(Instant)`. The same pattern holds for `wait` and, in the
//! [`queue`](crate::queue) module, for `put` and `get`. A timeout too large to
//! represent means "wait forever" where CPython raises `OverflowError`.
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
//! - Errors are values: [`TooManyReleases`] instead of `ValueError`,
//!   [`BrokenBarrierError`] as a `Result`.
//! - There is no GIL: threads run Rust code in parallel on every core.

mod barrier;
mod condition;
mod error;
mod event;
mod lock;
mod rlock;
mod semaphore;

#[cfg(all(test, loom))]
mod tests;

pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use error::{BrokenBarrierError, TooManyReleases};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphorePermit};
