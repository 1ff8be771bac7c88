//! threadkit: Python's concurrency toolkit — `threading`, `queue`,
//! `concurrent.futures`, `multiprocessing` and `asyncio` — rebuilt in Rust,
//! without a GIL.
//!
//! Module names mirror Python's, so a Python programmer finds things where they
//! expect them; the main types are also re-exported here at the crate root.
//! Because Rust has no GIL, threads run CPU-bound work on every core at once.
//!
//! # Which module for which Python module
//!
//! | Python | threadkit | feature |
//! | --- | --- | --- |
//! | `threading` | [`threading`]: `Thread`, `Lock`, `RLock`, `Condition`, `Semaphore`, `Event`, `Barrier`, `Timer`, `local` | always |
//! | `queue` | [`queue`]: `Queue`, `LifoQueue`, `PriorityQueue`, `SimpleQueue`, `Empty`/`Full` as error values | always |
//! | `concurrent.futures` | [`futures`]: `ThreadPoolExecutor`, `Future`, `wait`, `as_completed`, scoped pools | always |
//! | `multiprocessing`, `ProcessPoolExecutor` | `multiprocessing`: `Process`, `Pipe`, `Queue`, `ProcessPoolExecutor` (Linux) | `process` (default) |
//! | `asyncio` | `asyncio`: `run`, tasks, `gather`, `TaskGroup`, timeouts, async primitives | `asyncio` |
//! | `faulthandler`, and what Python lacks | [`debug`]: thread dumps, `find_deadlocks`, a watchdog; lock-order checking; spans | always; `debug-locks`; `tracing` |
//!
//! The rustdoc search knows Python's names too: searching `put_nowait`,
//! `Empty`, `FIRST_COMPLETED` or `TimeoutError` finds the threadkit item.
//!
//! # Features
//!
//! - `process` (on by default): `threadkit::multiprocessing`. Brings in
//!   serde, and links a load-time constructor (an `.init_array` entry) into
//!   programs that can start a worker process: before `main` it reads one
//!   environment variable (`THREADKIT_MP_ROLE`) and returns at once when it
//!   is unset; when set, the process was started as a worker: it checks that
//!   the other end of its channel is its parent running the same executable
//!   (refusing otherwise), then serves it instead of running `main`. That is
//!   what makes the module need no set-up line. Opt out with
//!   `default-features = false`. Linux only; elsewhere the module is absent.
//! - `debug-locks`: lock-order checking in [`debug`]: a nested blocking
//!   acquire that inverts an order seen before is reported before it
//!   blocks. Off by default; without it a `Lock` costs nothing more than
//!   recording its holder.
//! - `tracing`: one span per threadkit thread and one per pool task (a
//!   child of the span current at `submit`, with queue-wait and run times);
//!   deadlock, inversion and stall reports as `error!` events on target
//!   `threadkit::deadlock`. Off by default; brings in `tracing` (no
//!   subscriber).
//! - `serde` (on with `process`): `Serialize`/`Deserialize` for
//!   [`debug::ThreadDump`].
//! - `asyncio`: `threadkit::asyncio`, on tokio (its `rt`, `rt-multi-thread`,
//!   `time`, `sync`, and for streams and subprocesses `net`, `io-util` and
//!   `process` features). tokio is re-exported as
//!   `threadkit::asyncio::tokio` for the few signatures that use its types.
//!
//! ```toml
//! [dependencies]
//! threadkit = { version = "0.1", features = ["asyncio"] }
//! # or, without worker processes and their load-time constructor:
//! # threadkit = { version = "0.1", default-features = false }
//! ```
//!
//! # Python side by side
//!
#![doc = include_str!("../docs/side-by-side.md")]
//!
//! # Python API → threadkit
//!
//! The same table is in the README; both come from one file,
//! `docs/python-api.md` in this package.
//!
#![doc = include_str!("../docs/python-api.md")]
//!
//! # Coming from Python: where semantics differ
//!
#![doc = include_str!("../docs/differences.md")]
//!
//! Each type's documentation has a "Differences from Python" section with
//! the details.
#![cfg_attr(docsrs, feature(doc_cfg))]
// The `loom` cfg is a test-only switch: keep it out of the feature badges.
#![cfg_attr(docsrs, doc(auto_cfg(hide(loom))))]
#![doc(test(no_crate_inject, attr(deny(warnings))))]

mod loom;
mod util;

#[cfg(feature = "asyncio")]
pub mod asyncio;
pub mod debug;
pub mod futures;
/// Python's `concurrent` package: [`concurrent::futures`] is [`crate::futures`]
/// under Python's full path, for code where the name `futures` would clash
/// with the `futures` crate.
///
/// ```
/// use threadkit::concurrent::futures::{FutureError, ThreadPoolExecutor, TimeoutError};
///
/// let pool = ThreadPoolExecutor::new(1).unwrap();
/// let f = pool.submit(|| std::thread::sleep(std::time::Duration::from_millis(200))).unwrap();
/// assert_eq!(f.result_timeout(std::time::Duration::ZERO), Err(FutureError::Timeout));
/// assert_eq!(FutureError::from(TimeoutError), FutureError::Timeout);
/// ```
pub mod concurrent {
    pub use crate::futures;
}
#[cfg(feature = "green")]
pub mod green;
#[cfg(all(feature = "process", target_os = "linux", not(loom)))]
pub mod multiprocessing;
pub mod queue;
pub mod threading;

/// Suspends the caller for `duration`: Python's `time.sleep`.
///
/// A thread sleeps; a green thread (feature `green`) yields to the other
/// green threads of its carrier meanwhile, as `gevent.sleep` does, and so
/// does a thread whose hub has green threads to run. `sleep(ZERO)` in a
/// green thread is `green::yield_now`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// threadkit::sleep(Duration::from_millis(5));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
#[cfg_attr(feature = "green", track_caller)]
pub fn sleep(duration: std::time::Duration) {
    #[cfg(feature = "green")]
    if green::sleep(duration) {
        return;
    }
    std::thread::sleep(duration);
}

pub use futures::{ThreadPoolExecutor, as_completed, wait};
#[cfg(all(feature = "process", target_os = "linux", not(loom)))]
pub use multiprocessing::ProcessPoolExecutor;
pub use queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
pub use threading::{Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};
pub use threading::{
    Local, Thread, ThreadError, ThreadHandle, Timer, active_count, current_thread, enumerate,
    main_thread,
};

/// The Python → threadkit table of the crate docs and the README, as the
/// Markdown file both include (`docs/python-api.md`). The `threadkit which`
/// command looks names up in it, so the lookup and the docs cannot drift.
/// Not a stable API: its format may change in any version.
#[doc(hidden)]
pub const PYTHON_API_TABLE: &str = include_str!("../docs/python-api.md");
