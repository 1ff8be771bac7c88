//! The one pool core under [`ThreadPoolExecutor`](super::ThreadPoolExecutor)
//! and the [scoped pool](super::scope): CPython's `ThreadPoolExecutor` state,
//! its `submit`, `_adjust_thread_count`, `_initializer_failed` and the worker
//! loop around `_worker`.
//!
//! ```
//! use threadkit::futures::{self, ThreadPoolExecutor};
//!
//! // The same core under both pools.
//! let pool = ThreadPoolExecutor::new(2).unwrap();
//! assert_eq!(pool.submit(|| 6 * 7).unwrap().into_result(), Ok(42));
//! let local = 6;
//! assert_eq!(futures::scope(|s| s.submit(|| local * 7).unwrap().into_result()), Ok(42));
//! ```
//!
//! The two pools differ only in how a worker thread is started (a daemon
//! threadkit thread, or a `std` scoped thread) and in what they keep of it
//! (a [`ThreadHandle`](crate::threading::ThreadHandle) to join, or nothing:
//! `thread::scope` joins). Both are parameters here: `'a` is how long tasks
//! may borrow, `H` what a started worker leaves behind.
//!
//! Nobody waits on the core's lock: idle workers wait on the work queue
//! (its own lock, see [`WorkQueue`]) and `shutdown(wait=True)` joins the
//! workers, so the lock only guards the few fields a submit checks. Once
//! the pool has all its workers, a submit does not take it at all: it
//! queues its item under the work queue's lock, which refuses it once the
//! pool is shut down or broken (see [`WorkQueue::push_if_open`]); only a
//! refused submit takes the core's lock, to learn which.

use std::fmt;
use std::sync::Arc;

use super::error::{FutureError, SubmitError};
use super::work::{WorkItem, WorkQueue};
use crate::loom::sync::Mutex;
// std's, even under loom: only a hint that every worker is started (a
// submit that reads it stale takes the core's lock, which knows).
use std::sync::atomic::{AtomicBool, Ordering};

/// A worker's initializer (Python's `initializer(*initargs)`).
pub(crate) type Initializer = Arc<dyn Fn() + Send + Sync>;

/// What every thread pool shares with its workers.
pub(crate) struct PoolCore<'a, H> {
    pub(crate) work: WorkQueue<'a>,
    /// The pool's number in thread dumps (`debug::ThreadState::pool`).
    id: u64,
    /// Every worker is started: a submit may skip the core's lock.
    full: AtomicBool,
    state: Mutex<PoolState<H>>,
    max_workers: usize,
    prefix: String,
    initializer: Option<Initializer>,
    /// What a failed initializer makes the pool report, forever after.
    broken_by_initializer: &'static str,
}

/// The part of the core behind its lock.
struct PoolState<H> {
    shutdown: bool,
    broken: Option<String>,
    /// What every worker ever started left behind (Python's `_threads`).
    workers: Vec<H>,
}

impl<'a, H> PoolCore<'a, H> {
    pub(crate) fn new(
        max_workers: usize,
        prefix: String,
        initializer: Option<Initializer>,
        broken_by_initializer: &'static str,
    ) -> Self {
        PoolCore {
            work: WorkQueue::new(),
            id: crate::debug::tasks::next_pool_id(),
            full: AtomicBool::new(false),
            state: Mutex::new(PoolState {
                shutdown: false,
                broken: None,
                workers: Vec::new(),
            }),
            max_workers,
            prefix,
            initializer,
            broken_by_initializer,
        }
    }

    pub(crate) fn max_workers(&self) -> usize {
        self.max_workers
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Python's `submit`: refuses work once broken or shut down, queues the
    /// item, then reuses an idle worker or starts one with `spawn(name, core)`
    /// (which runs [`worker`](Self::worker) on the new thread).
    pub(crate) fn submit<E: fmt::Display>(
        self: &Arc<Self>,
        item: WorkItem<'a>,
        spawn: impl FnOnce(String, Arc<Self>) -> Result<H, E>,
    ) -> Result<(), SubmitError> {
        item.queued_in(self.id);
        let item = if self.full.load(Ordering::Relaxed) {
            match self.work.push_if_open(item) {
                Ok(()) => return Ok(()),
                Err(refused) => refused,
            }
        } else {
            item
        };
        let mut st = self.state.lock();
        if let Some(reason) = &st.broken {
            return Err(SubmitError::BrokenExecutor(reason.clone()));
        }
        if st.shutdown {
            return Err(SubmitError::ShutDown);
        }
        self.work.push(item);
        // Python's `_adjust_thread_count`. At the maximum the idle count no
        // longer matters (workers are never retired), and skipping it spares
        // a contended atomic per submit.
        if st.workers.len() >= self.max_workers || self.work.take_idle() {
            return Ok(());
        }
        let name = format!("{}_{}", self.prefix, st.workers.len());
        match spawn(name, Arc::clone(self)) {
            Ok(worker) => {
                st.workers.push(worker);
                if st.workers.len() == self.max_workers {
                    self.work.stop_counting_idle();
                    self.full.store(true, Ordering::Relaxed);
                }
            }
            // Without any worker nobody would run the queue: fail it.
            Err(e) if st.workers.is_empty() => {
                let reason = format!("cannot start a worker: {e}");
                let error = FutureError::BrokenExecutor(reason.clone());
                self.work.drain(|item| item.fail(error.clone()));
                return Err(SubmitError::BrokenExecutor(reason));
            }
            // Some workers run: the item will get its turn.
            Err(_) => {}
        }
        Ok(())
    }

    /// A worker thread's body: the initializer, then Python's `_worker` loop.
    pub(crate) fn worker(&self) {
        // Scoped workers are std threads, which do not install it: without
        // it a task's panic would be printed by Rust's hook as well as
        // stored in its future, and its location lost.
        crate::util::unwind::install_panic_hook();
        // A pool's worker from its start, before the initializer: one that
        // is still starting is not waiting, so its pool is not starved
        // (the starvation verdict counts the workers it knows).
        crate::debug::waits::mark_worker(self.id);
        if let Some(init) = &self.initializer {
            if let Err(report) = crate::util::unwind::run_captured(|| init()) {
                crate::threading::report_exception(&crate::threading::current_thread(), &report);
                self.initializer_failed();
                return;
            }
        }
        self.work.work();
    }

    /// Python's `_initializer_failed`: the pool is broken; fail what waits.
    fn initializer_failed(&self) {
        let reason = self.broken_by_initializer;
        {
            let mut st = self.state.lock();
            st.broken = Some(reason.to_owned());
            self.work.refuse();
        }
        let error = FutureError::BrokenExecutor(reason.to_owned());
        self.work.drain(|item| item.fail(error.clone()));
    }

    /// Python's `shutdown(wait, cancel_futures)` up to the joining: refuses
    /// new work, cancels the queued items if asked, tells the workers to
    /// exit once the queue is empty. Returns the workers to join if `wait`.
    pub(crate) fn shut_down(&self, wait: bool, cancel_futures: bool) -> Vec<H>
    where
        H: Clone,
    {
        let mut st = self.state.lock();
        self.work.refuse();
        if cancel_futures {
            self.work.drain(WorkItem::cancel);
        }
        if !st.shutdown {
            st.shutdown = true;
            self.work.close();
        }
        if wait { st.workers.clone() } else { Vec::new() }
    }
}

impl<H> PoolCore<'_, H> {
    /// The pool's `Debug`, under the name of the pool type.
    pub(crate) fn debug_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct(name)
            .field("prefix", &self.prefix)
            .field("max_workers", &self.max_workers)
            .field("workers", &st.workers.len())
            .field("shutdown", &st.shutdown)
            .field("broken", &st.broken.is_some())
            .finish()
    }
}

impl<H> fmt::Debug for PoolCore<'_, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug_as("PoolCore", f)
    }
}
