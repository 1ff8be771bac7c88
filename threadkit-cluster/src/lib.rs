//! `ClusterExecutor`: threadkit's executor API across machines, on Redis
//! (or Valkey) Streams. When the work outgrows one machine, Python users
//! move from `ProcessPoolExecutor` to Dask's `Client.get_executor()`; this
//! is that step for threadkit: the same `submit`/`map`/`shutdown` shape,
//! futures that mix with thread-pool and process-pool futures in
//! [`threadkit::futures::as_completed`], run by workers that are your own
//! binary on any number of hosts.
//!
//! ```no_run
//! use threadkit::futures::{Shutdown, as_completed};
//! use threadkit_cluster::{ClusterExecutor, ClusterWorker};
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//! threadkit_cluster::task! {
//!     /// A task is a plain function registered under a stable name.
//!     pub SQUARE: fn(u64) -> u64 = square, "demo.square";
//! }
//!
//! fn main() {
//!     // The same binary is a worker when started with THREADKIT_CLUSTER_WORKER=<url>.
//!     threadkit_cluster::worker_main_if_requested();
//!
//!     // On any machine: `ClusterWorker::new(url).slots(8).run()`.
//!     # let _ = ClusterWorker::new("redis://127.0.0.1/");
//!     let exec = ClusterExecutor::connect("redis://127.0.0.1/").unwrap();
//!     let futures: Vec<_> = (0..10).map(|i| exec.submit(&SQUARE, i).unwrap()).collect();
//!     let total: u64 = as_completed(&futures, None).map(|f| *f.unwrap().result().unwrap()).sum();
//!     assert_eq!(total, 285);
//!     exec.shutdown(Shutdown::wait());
//! }
//! ```
//!
//! # What is here
//!
//! | Python (Dask) | threadkit-cluster |
//! | --- | --- |
//! | `Client(address).get_executor()` | [`ClusterExecutor::connect`], [`ClusterExecutor::builder`] |
//! | `submit(fn, arg)`, `map(fn, it, timeout=, chunksize=)`, `shutdown(wait, cancel_futures=)` | [`ClusterExecutor::submit`], [`ClusterExecutor::map`], [`ClusterExecutor::shutdown`] |
//! | `concurrent.futures.Future` | [`threadkit::futures::Future`], as for every threadkit executor |
//! | `dask worker <address>` | [`ClusterWorker::run`], or [`worker_main_if_requested`] in your `main` |
//! | a module-level function, pickled by name | [`task!`]: a function registered by a stable name |
//! | `KilledWorker` | [`TaskError::WorkerLost`] |
//!
//! # Where it lives
//!
//! A separate crate, so that `threadkit`'s default build has no Redis
//! client. It uses the `redis` crate's synchronous API (no async runtime)
//! and only commands that Redis ≥ 6.2 and Valkey ≥ 7.2 share (`XADD`,
//! `XREADGROUP`, `XAUTOCLAIM`, `XCLAIM … JUSTID`, `XPENDING`, `XACK`,
//! `XDEL`, `EVALSHA`).
//!
//! # Tasks by name
//!
//! Closures cannot travel to another machine, so tasks are plain functions
//! registered with [`task!`] under a stable name, with one serde argument
//! and a serde result (MessagePack on the wire). Each call carries the
//! argument and result type names; a worker that does not know the name
//! fails the future with [`TaskError::UnknownTask`], one whose types differ
//! with [`TaskError::SignatureMismatch`]: never a crash or a wrong decode.
//! Sizes are capped before anything is decoded.
//!
//! # What a hostile entry can make a process read
//!
//! The caps above apply once a Redis reply is in memory, and the client
//! reads each reply whole. A worker's reply is up to `slots` task entries
//! (it claims no more than it has free slots), each with every field
//! whoever wrote it put there; a caller's is up to 512 entries of its
//! result stream. So what a writer of the stream can make a worker (or
//! caller) allocate is bounded by the *server's* limits, not by
//! `max_arg_bytes`: one field up to `proto-max-bulk-len` (512 MiB by
//! default), one `XADD` up to `client-query-buffer-limit` (1 GiB). Where
//! untrusted clients can reach Redis, lower both (for example
//! `proto-max-bulk-len 4mb` with the default 1 MiB argument cap) and give
//! them no write access to `tk:*` (ACLs). Filtering entries by size in a
//! Lua script before they leave the server would bound it in the client,
//! but scripts cannot block, so workers would have to poll instead of
//! waiting in `XREADGROUP … BLOCK`; this crate keeps the blocking read.
//!
//! # Failure guarantees
//!
//! | What happens | What the caller sees |
//! | --- | --- |
//! | normal run | each future completes exactly once with the task's value |
//! | the task panics | [`FutureError::Panicked`](threadkit::futures::FutureError::Panicked) with the message and `file:line:column` (the backtrace stays on the worker), not retried |
//! | a worker is killed (`kill -9`, OOM, host lost) mid-task | the task re-runs on another worker after about 1.5 × lease; the future gets one result |
//! | the task kills its worker every time | after `max_attempts` deliveries (default 3): [`TaskError::WorkerLost`]` { attempts }` |
//! | a worker stalls past its lease (SIGSTOP, partition) | a second copy may run; the first commit wins, the stale one is discarded. **Side effects may happen twice**: make tasks idempotent (key them by [`current_task`]`().tid`) |
//! | `cancel()` before a worker started the task | `true`; the task never runs |
//! | `cancel()` once it started | `false`; it runs to the end |
//! | unknown task name / other types / foreign or malformed entry | that future fails with a typed [`TaskError`]; the worker goes on |
//! | an entry naming no caller | dead-lettered to `tk:{ns}:dead` (capped, with a TTL) |
//! | the caller dies | its keys expire after `key_ttl`; workers drop its remaining tasks |
//! | Redis unreachable longer than `broker_timeout`, or restarted without our data | every pending future fails with [`TaskError::BrokerLost`]; nothing hangs |
//! | Redis memory | every key has a TTL; results are deleted once read |
//!
//! Execution is therefore *at least once*, result delivery *exactly once*.
//! Typed cluster errors travel inside
//! [`FutureError::BrokenExecutor`](threadkit::futures::FutureError::BrokenExecutor);
//! [`TaskError::from_future_error`] gets them back.
//!
//! # Credentials and TLS
//!
//! Use an ACL user in the URL: `redis://worker:s3cret@queue.internal:6379/0`
//! (`redis://:password@host/` for the legacy `requirepass`;
//! `redis+unix:///run/redis.sock?user=worker&pass=s3cret` on a unix
//! socket). Give workers and callers a user limited to the `tk:*` keys and
//! the stream, script and key commands above. Credentials Redis refuses are
//! [`ClusterError::Auth`], from `connect` and from a worker's `run` (which
//! waits out an outage, but not a wrong password).
//!
//! TLS (`rediss://`) needs this crate's feature `tls-rustls` (rustls with
//! the `ring` provider, installed as the process default unless the program
//! installed one first); it trusts the system's root certificates, or a
//! private CA given with `tls_root_cert(pem)` on the
//! [builder](ClusterExecutorBuilder) and on [`ClusterWorker`]. The feature
//! is off by default, to keep TLS stacks out of builds that talk over a
//! private network or a unix socket.
//!
//! # Persistence
//!
//! Run Redis with `appendonly yes` (`appendfsync everysec` loses at most
//! about a second on a crash) and `maxmemory-policy noeviction`: eviction
//! would silently drop queued tasks. Without persistence a Redis restart
//! loses the queue; callers notice (their state key is gone) and fail their
//! pending futures with `BrokerLost` instead of waiting forever.

mod error;
mod executor;
mod task;
mod wire;
mod worker;

#[cfg(test)]
mod tests;

pub use error::{ClusterError, TaskError};
pub use executor::{ClusterExecutor, ClusterExecutorBuilder, ClusterMap};
pub use task::{Task, TaskInfo, current_task, registered_tasks};
pub use worker::{ClusterWorker, StopHandle};

/// Not public API: used by the [`task!`] macro.
#[doc(hidden)]
pub mod __private {
    pub use crate::task::{Registration, invoke, signature};
    pub use crate::wire::{Outcome, reply_error};
    pub use crate::worker::fuzz_stream_entry;
    pub use inventory;
}

/// The environment variable that turns this binary into a worker in
/// [`worker_main_if_requested`]: the Redis URL.
pub const WORKER_ENV: &str = "THREADKIT_CLUSTER_WORKER";

/// If the environment asks for it, runs this process as a
/// [`ClusterWorker`] and exits; otherwise returns at once. Call it first
/// thing in `main` to start workers from the same binary:
///
/// | variable | meaning |
/// | --- | --- |
/// | `THREADKIT_CLUSTER_WORKER` | the Redis URL (required to be a worker) |
/// | `THREADKIT_CLUSTER_NAMESPACE` | namespace (default `threadkit`) |
/// | `THREADKIT_CLUSTER_SLOTS` | slots (default: the CPU count) |
/// | `THREADKIT_CLUSTER_LEASE_MS` | lease in milliseconds (default 30 000) |
///
/// The process exits with status 0 after a graceful stop, 2 on a bad
/// setting. With `THREADKIT_CLUSTER_EXIT_WITH_PARENT=1` it also stops when
/// its parent process exits (for test harnesses and demos).
pub fn worker_main_if_requested() {
    let Ok(url) = std::env::var(WORKER_ENV) else {
        return;
    };
    let mut worker = ClusterWorker::new(&url);
    if let Ok(ns) = std::env::var("THREADKIT_CLUSTER_NAMESPACE") {
        worker = worker.namespace(ns);
    }
    if let Some(n) = env_number("THREADKIT_CLUSTER_SLOTS") {
        worker = worker.slots(n as usize);
    }
    if let Some(ms) = env_number("THREADKIT_CLUSTER_LEASE_MS") {
        worker = worker.lease(std::time::Duration::from_millis(ms));
    }
    if std::env::var("THREADKIT_CLUSTER_EXIT_WITH_PARENT").is_ok_and(|v| v == "1") {
        let stop = worker.stop_handle();
        let parent = std::os::unix::process::parent_id();
        std::thread::spawn(move || {
            while std::os::unix::process::parent_id() == parent {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            stop.stop();
        });
    }
    match worker.run() {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("threadkit-cluster worker: {e}");
            std::process::exit(2)
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}
