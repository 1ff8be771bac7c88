//! Python's `multiprocessing` and `ProcessPoolExecutor`: run plain Rust
//! functions in worker processes of the same program.
//!
//! (Feature `process`, on by default.)
//!
//! ```
//! use threadkit::multiprocessing::ProcessPoolExecutor;
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! // with ProcessPoolExecutor(max_workers=2) as pool:
//! //     squares = list(pool.map(square, range(10)))
//! let pool = ProcessPoolExecutor::new(2).unwrap();
//! let squares: Vec<u64> = pool.map(square, 0..10u64).unwrap().map(Result::unwrap).collect();
//! assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
//! let f = pool.submit(square, 12).unwrap();
//! assert_eq!(f.result(), Ok(&144));
//! ```
//!
//! # Set-up
//!
//! None. A worker is this same executable started again
//! (`std::env::current_exe()`) with a marker in its environment; a load-time
//! constructor that threadkit links into every program that can start a
//! worker sees the marker before `main` runs and turns the process into a
//! worker. So `cargo test`, `cargo bench`, examples and release binaries
//! all work without a line of set-up, from any thread. If a worker never
//! says hello (its executable has no hook), starting it fails with
//! [`ProcessError::Handshake`] after a few seconds instead of hanging.
//!
//! # Trust
//!
//! A worker serves only the process that started it, and only if that
//! parent runs the same executable file with every privilege the worker
//! holds; it checks this from kernel-reported facts (`SO_PEERCRED`,
//! `/proc/<pid>/exe`, capabilities) before it reads a message, so a foreign
//! program, or an unprivileged user starting a setuid copy, gets a refusal
//! (exit code 77) and no call runs. Frames and values are decoded strictly
//! and fuzzed. `SECURITY.md` at the repository root has the whole model;
//! as in Python, do not connect a [`Connection`] or [`Queue`] to a peer you
//! do not trust.
//!
//! # Platforms
//!
//! Linux only for now (the module is absent elsewhere): it relies on
//! `.init_array`, `PR_SET_PDEATHSIG`, `SOCK_SEQPACKET`, `MSG_NOSIGNAL` and
//! `waitid(WNOWAIT)`. A port would use `__mod_init_func` on macOS (already
//! sketched in `worker.rs`), or [`init`] as the first line of `main`.
//!
//! # What is here
//!
//! | Python | threadkit |
//! | --- | --- |
//! | `Process(target, args, name, daemon)`; `start`, `join(timeout)`, `is_alive`, `exitcode`, `pid`, `terminate`, `kill`, `close`, `sentinel` | [`Process`] |
//! | `active_children()` | [`active_children`] (pids) |
//! | `current_process()`, `parent_process()`, `cpu_count()` | [`current_process`], [`parent_process`] (pid), [`cpu_count`] |
//! | `Pipe()` → two `Connection`s: `send`, `recv`, `poll` | [`pipe`] → two [`Connection`]s |
//! | `Pipe(duplex=False)` | [`pipe_one_way`] |
//! | `Queue(maxsize)`: `put(timeout)`, `put_nowait`, `get(timeout)`, `get_nowait`, `close` | [`Queue::with_maxsize`], [`Queue`] |
//! | `ProcessPoolExecutor(max_workers, initializer, initargs, max_tasks_per_child)` | [`ProcessPoolExecutor::new`], [`ProcessPoolExecutor::builder`] |
//! | `submit(fn, arg)`, `map(fn, it, timeout=, chunksize=)`, `shutdown` | [`ProcessPoolExecutor::submit`], [`ProcessPoolExecutor::map`], the [`Executor`](crate::futures::Executor) trait |
//! | `Pool(processes)`: `apply`, `apply_async`, `map`, `imap`, `imap_unordered`, `starmap`, `close`, `terminate`, `join` | [`Pool`], [`AsyncResult`] |
//! | `terminate_workers()`, `kill_workers()` (3.14) | [`ProcessPoolExecutor::terminate_workers`], [`ProcessPoolExecutor::kill_workers`] |
//! | `Value(typecode, v)`, `Array(typecode, n or items)`, `get_lock()` | [`Value`], [`Array`] (any [`Shareable`] `T`), [`Value::lock`] |
//! | `Lock()`, `Event()`, `Semaphore(n)` across processes | [`Lock`], [`Event`], [`Semaphore`] (a dead holder is [`SharedError::OwnerDied`]) |
//! | `BrokenProcessPool` | [`FutureError::BrokenExecutor`](crate::futures::FutureError) naming the exit code or signal |
//!
//! # Shared memory
//!
//! [`Value`] and [`Array`] keep plain data ([`Shareable`]) in shared memory;
//! [`Lock`], [`Event`] and [`Semaphore`] synchronize processes. Pass them to
//! a child as (part of) its [`Process`] argument; `clone()` shares them with
//! threads.
//!
//! ```
//! use threadkit::multiprocessing::{Process, Value};
//!
//! fn add_one(v: Value<u64>) {
//!     *v.lock().unwrap() += 1;
//! }
//!
//! let v = Value::new(41u64).unwrap();
//! let p = Process::new(add_one, v.clone());
//! p.start().unwrap();
//! assert_eq!(p.join().unwrap(), 0);
//! assert_eq!(v.get().unwrap(), 42);
//! ```
//!
//! The locks are robust: if a process dies holding one, the next acquirer
//! gets [`SharedError::OwnerDied`] with the guard (it holds the lock, and
//! knows the data may be half-updated) where Python's lock would stay
//! locked for ever. Taking a [`Lock`] again on the thread that holds it is
//! [`SharedError::WouldDeadlock`]; an index outside an [`Array`] is
//! [`SharedError::IndexOutOfRange`]. Other differences from Python's
//! shared objects: `Value(typecode, v)` is `Value::<T>::new(v)` for a
//! [`Shareable`] `T` (the typecode is the type); the value's lock is always
//! there ([`Value::lock`] is `get_lock()` and the `with` block in one); a
//! [`Semaphore`] permit held by a process that died stays taken, as in
//! Python; objects reach a child only as its [`Process`] argument (Python
//! also inherits them through `fork`).
//!
//! # What can be sent
//!
//! The function is a plain `fn(A) -> R` (a non-capturing closure coerces to
//! one): the child finds it by its offset in the executable, see `call.rs`.
//! `A` and `R` are serde values, encoded in a compact binary form in
//! length-prefixed frames (64 MiB at most by default). The form is not
//! self-describing, so types that need serde's `deserialize_any`
//! (untagged enums, `#[serde(flatten)]`) cannot be sent: they fail with
//! [`FutureError::Serialization`](crate::futures::FutureError::Serialization)
//! or [`ChannelError::Frame`]. Python pickles functions by name; the rule
//! that they must be module-level functions becomes "no captures".
//!
//! # Differences from Python's `multiprocessing`
//!
//! - Only the `spawn` start method exists, done as fork+exec of the same
//!   executable; nothing is inherited but the function's argument.
//! - Errors are values: a bad frame, an oversized message or a value that
//!   fails to serialize is a typed error ([`FrameError`], [`ChannelError`],
//!   a failed future), never a hang.
//! - Pool workers exit by themselves when the parent dies (EOF on their
//!   channel, `PR_SET_PDEATHSIG` on Linux, and a watchdog thread).

mod call;
mod codec;
mod current;
mod error;
mod executor;
mod fdpass;
mod frame;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod manager;
mod outbox;
mod pipe;
mod pool;
mod process;
mod queue;
mod shared;
mod spawn;
#[cfg(all(test, not(miri)))]
mod tests;
mod trust;
mod wire;
mod worker;

pub use current::{ProcessInfo, cpu_count, current_process, parent_process};
pub use error::{ChannelError, FrameError, ProcessError};
pub use executor::{ProcessMap, ProcessPoolBuilder, ProcessPoolExecutor};
pub use pipe::{Connection, pipe, pipe_one_way};
pub use pool::{AsyncResult, Pool};
pub use process::{Process, active_children};
pub use queue::Queue;
pub use shared::{
    Array, ArrayGuard, Event, Lock, LockGuard, Permit, Semaphore, Shareable, SharedError, Value,
    ValueGuard,
};

/// Turns this process into a worker and never returns, if it was started as
/// one by threadkit; returns at once otherwise.
///
/// Not needed on Linux, where a load-time constructor does this before
/// `main` (see [Set-up](self#set-up)); harmless to call there. Kept for
/// ports to platforms without one, where it must be the first line of `main`.
pub fn init() {
    worker::run_if_worker();
}
