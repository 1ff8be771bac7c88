//! threadkit: Python's concurrency toolkit — `threading`, `queue`,
//! `concurrent.futures`, `multiprocessing` and `asyncio` — rebuilt in Rust,
//! without a GIL.
//!
//! Module names mirror Python's, so a Python programmer finds things where they
//! expect them; the main types are also re-exported here at the crate root.
//! With the `process` feature (on by default), `multiprocessing` runs plain
//! functions in worker processes of the same program: `Process`, `Pipe`,
//! `Queue` and a `ProcessPoolExecutor` whose futures mix with the thread
//! pool's.
//!
//! ```
//! use std::sync::Arc;
//! use threadkit::{Lock, Queue};
//!
//! let q = Arc::new(Queue::new(0));
//! let total = Arc::new(Lock::new(0u64));
//! let consumer = {
//!     let (q, total) = (Arc::clone(&q), Arc::clone(&total));
//!     std::thread::spawn(move || {
//!         while let Some(n) = q.get().unwrap() {
//!             *total.acquire() += n;
//!             q.task_done().unwrap();
//!         }
//!     })
//! };
//! for n in 1..=10u64 {
//!     q.put(Some(n)).unwrap();
//! }
//! q.join();
//! q.put(None).unwrap(); // the seeds' sentinel
//! consumer.join().unwrap();
//! assert_eq!(*total.acquire(), 55);
//! ```
#![doc(test(no_crate_inject, attr(deny(warnings))))]

mod loom;
mod util;

#[cfg(feature = "asyncio")]
pub mod asyncio;
pub mod futures;
#[cfg(all(feature = "process", target_os = "linux", not(loom)))]
pub mod multiprocessing;
pub mod queue;
pub mod threading;

pub use futures::{ThreadPoolExecutor, as_completed, wait};
#[cfg(all(feature = "process", target_os = "linux", not(loom)))]
pub use multiprocessing::ProcessPoolExecutor;
pub use queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
pub use threading::{Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};
pub use threading::{
    Local, Thread, ThreadError, ThreadHandle, Timer, active_count, current_thread, enumerate,
    main_thread,
};

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
