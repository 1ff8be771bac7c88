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
//! passes the [`SubmitGate`] instead.

use std::fmt;
use std::sync::Arc;

use super::error::{FutureError, SubmitError};
use super::work::{WorkItem, WorkQueue};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// The lock-free way into a pool that has all its workers: a submit then
/// only has to queue its item, unless the pool is shut down or broken.
///
/// One word: [`CLOSED`] (shut down or broken: take the lock to learn which),
/// [`FULL`] (every worker started: nothing to adjust) and, above them, how
/// many submits are passing right now. A submit counts itself in and reads
/// the flags with one read-modify-write, queues its item, and counts itself
/// out. Closing sets [`CLOSED`] with a read-modify-write on the same word,
/// then waits for the count to drop to zero, which takes as long as the
/// pushes already under way. So every item that passed is queued before
/// whatever closing queues next (the workers' exit signal, or the drain of
/// a broken pool), and every submit counted in after the close sees it
/// closed and takes the locked path, which refuses it. The model is
/// `loom_submit_races_shutdown` in `futures/tests/loom_pool.rs`.
#[derive(Debug)]
pub(crate) struct SubmitGate {
    word: AtomicUsize,
}

/// Shut down or broken.
const CLOSED: usize = 1;
/// Every worker started.
const FULL: usize = 2;
/// One submit passing.
const PASSING: usize = 4;

impl SubmitGate {
    pub(crate) fn new() -> Self {
        SubmitGate {
            word: AtomicUsize::new(0),
        }
    }

    /// Lets a submit through without the lock if the pool is open and
    /// full; it queues its item while holding the pass.
    #[inline]
    pub(crate) fn pass(&self) -> Option<Pass<'_>> {
        let word = self.word.fetch_add(PASSING, Ordering::AcqRel);
        let pass = Pass(self);
        (word & (CLOSED | FULL) == FULL).then_some(pass)
    }

    /// Every worker is started: open the lock-free way.
    pub(crate) fn open(&self) {
        self.word.fetch_or(FULL, Ordering::AcqRel);
    }

    /// Closes the lock-free way, and returns once every submit that
    /// passed has queued its item.
    pub(crate) fn close(&self) {
        let mut word = self.word.fetch_or(CLOSED, Ordering::AcqRel);
        let mut spins = 0u32;
        while word >= PASSING {
            // A push into an unbounded queue: a few dozen instructions,
            // unless the passing thread was preempted.
            if spins < 64 && !cfg!(loom) {
                spins += 1;
                std::hint::spin_loop();
            } else {
                crate::loom::thread::yield_now();
            }
            word = self.word.load(Ordering::Acquire);
        }
    }
}

/// A submit on its way through the [`SubmitGate`]; counts it out when dropped.
#[derive(Debug)]
pub(crate) struct Pass<'g>(&'g SubmitGate);

impl Drop for Pass<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.word.fetch_sub(PASSING, Ordering::Release);
    }
}

/// A worker's initializer (Python's `initializer(*initargs)`).
pub(crate) type Initializer = Arc<dyn Fn() + Send + Sync>;

/// What every thread pool shares with its workers.
pub(crate) struct PoolCore<'a, H> {
    pub(crate) work: WorkQueue<'a>,
    /// The pool's number in thread dumps (`debug::ThreadState::pool`).
    id: u64,
    /// The way in once every worker is started.
    gate: SubmitGate,
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
            gate: SubmitGate::new(),
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
        if let Some(_pass) = self.gate.pass() {
            item.queued_in(self.id);
            self.work.push(item);
            return Ok(());
        }
        let mut st = self.state.lock();
        if let Some(reason) = &st.broken {
            return Err(SubmitError::BrokenExecutor(reason.clone()));
        }
        if st.shutdown {
            return Err(SubmitError::ShutDown);
        }
        item.queued_in(self.id);
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
                    self.gate.open();
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
        if let Some(init) = &self.initializer {
            if let Err(report) = crate::util::unwind::run_captured(|| init()) {
                crate::threading::report_exception(&crate::threading::current_thread(), &report);
                self.initializer_failed();
                return;
            }
        }
        self.work.work(self.id);
    }

    /// Python's `_initializer_failed`: the pool is broken; fail what waits.
    fn initializer_failed(&self) {
        let reason = self.broken_by_initializer;
        {
            let mut st = self.state.lock();
            st.broken = Some(reason.to_owned());
            self.gate.close();
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
        self.gate.close();
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
