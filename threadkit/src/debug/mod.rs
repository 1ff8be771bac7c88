//! Concurrency bugs that explain themselves: thread dumps, deadlocks found
//! while they happen, and (feature `debug-locks`) lock-order inversions found
//! before anything hangs.
//!
//! Python gives a learner almost nothing here: a deadlocked program just
//! hangs, and `faulthandler` prints stacks without saying who holds what.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use threadkit::debug;
//! use threadkit::threading::{Event, Thread};
//!
//! let go = Arc::new(Event::new());
//! let waiter = {
//!     let go = Arc::clone(&go);
//!     Thread::builder().name("waiter").spawn(move || go.wait()).unwrap()
//! };
//! // Let the waiter block, then look at it the way jstack would.
//! while !debug::dump_threads().to_string().contains("[waiting: Event.wait") {
//!     std::thread::sleep(Duration::from_millis(1));
//! }
//! let dump = debug::dump_threads();
//! let state = dump.threads.iter().find(|t| t.name == "waiter").unwrap();
//! assert_eq!(state.waiting.as_ref().unwrap().kind, debug::WaitKind::Event);
//! assert!(debug::find_deadlocks().is_empty());
//! go.set();
//! waiter.join().unwrap();
//! ```
//!
//! # What is here
//!
//! | Need | threadkit | Python / elsewhere |
//! | --- | --- | --- |
//! | every thread and what it waits for | [`dump_threads`] → [`ThreadDump`] (text, or JSON with `serde`) | `faulthandler.dump_traceback`, Java's `jstack` |
//! | a dump after a delay, repeated | [`dump_threads_later`] | `faulthandler.dump_traceback_later` |
//! | a dump on `kill -USR1` or Ctrl-\, the process going on | `install_dump_signal` (Linux) | `faulthandler.register(signum)`, the JVM's SIGQUIT |
//! | threads waiting on each other in a cycle, a pool starved by tasks waiting on tasks | [`find_deadlocks`] | Java's `ThreadMXBean.findDeadlocks` |
//! | deadlocks, "all threads asleep" and stalls, reported as they happen | [`Watchdog`] | Go's "all goroutines are asleep" |
//! | lock-order inversions, reported before anything blocks | feature `debug-locks`: `set_mode`, `PotentialDeadlock` | Linux lockdep, Abseil's deadlock detection |
//! | a span per thread and per pool task (nested under the submitter's span), reports as `error!` events on `threadkit::deadlock` | feature `tracing` | tokio-console's task spans |
//!
//! # What threadkit records, and what it costs
//!
//! - Always compiled: a thread that blocks in a threadkit wait writes what
//!   it waits for, since when, and who could end the wait, just before it
//!   sleeps, and clears it when it wakes. The fast paths (an uncontended
//!   lock, a queue with an item ready) record nothing.
//! - Who holds a lock is known for every `Lock`, `RLock` and `Condition`
//!   with `debug-locks`; without it, owners are known for `join` (the
//!   joined thread) and `Future.result` on a pool task (the worker running
//!   it, or the pool it is still queued in: one word in the task's own
//!   allocation, written at submit and at start). A cycle needs owners, so
//!   without `debug-locks` [`find_deadlocks`] sees join and task cycles and
//!   starved pools, and the [`Watchdog`]'s "all asleep" covers the rest.
//! - `debug-locks` (off by default) adds a name and a creation site to
//!   every lock and checks the order of every nested blocking acquire
//!   against a graph shared by all threads, each order once per thread
//!   (and an order some thread has checked costs every other thread one
//!   load and a compare: each lock remembers a lock known to be held when
//!   it is taken, checked against the innermost lock held).
//!   `THREADKIT_LOCKDEP=off|report|panic` or `set_mode` switches it at
//!   run time. Off, an acquire in an order checked before costs what it
//!   costs with checking on (that inline path tests no switch, and records
//!   the hold); any other tests the switch, records nothing and, for
//!   `Lock` and `Condition`, is a call.
//! - With `debug-locks`, a pool task is also a lock in that graph
//!   (lockdep's rule for `flush_work`): the worker holds it while the task
//!   runs, and an untimed `Future::result` takes it, so holding a lock
//!   while waiting for a task that takes the same lock is reported as an
//!   inversion, even on a run that does not hang. A task that takes a lock
//!   then adds an order to the shared graph (once per task), removed when
//!   its future is dropped. `join` and `shutdown(wait)` are not treated
//!   so: every lock a thread takes first would then be an order to check.
//! - Async waits (`.await` on a threadkit future, `get_async`,
//!   `acquire_async`, `result_async`, `join_async`) are not recorded: a
//!   task waiting that way has no thread of its own to show, and the
//!   thread running it is not blocked by it: a dump shows that thread as
//!   whatever it is itself doing.
//!
//! # Differences from Python
//!
//! Python has none of this; the closest are `faulthandler` (stacks, no
//! owners) and `threading.enumerate()`. A running thread's stack is not
//! shown: unwinding another thread from outside is not safe in Rust.

mod dump;
#[cfg(feature = "debug-locks")]
pub(crate) mod lock_order;
#[cfg(all(target_os = "linux", not(miri)))]
mod signal;
pub(crate) mod tasks;
#[cfg(feature = "tracing")]
pub(crate) mod trace;
pub(crate) mod tracking;
pub(crate) mod waits;
mod watchdog;

pub use dump::{
    Deadlock, GreenInfo, ThreadDump, ThreadState, WaitInfo, dump_threads, find_deadlocks,
};
#[cfg(feature = "debug-locks")]
pub use lock_order::{
    LockInfo, LockOrder, Mode, OrderBacktrace, PotentialDeadlock, Site, set_backtraces, set_mode,
    set_timed_acquires_block,
};
#[cfg(all(target_os = "linux", not(miri)))]
pub use signal::{DumpSignal, install_dump_signal, install_dump_signal_with};
pub use waits::WaitKind;
pub use watchdog::{Alarm, Watchdog, WatchdogHandle, dump_threads_later};
