//! Work items and the worker loop shared by [`ThreadPoolExecutor`](super::ThreadPoolExecutor)
//! and the [scoped pool](super::scope) (CPython's `_WorkItem` and `_worker`).

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::ManuallyDrop;

use super::error::FutureError;
use super::future::{Erased, Future, Inner};
// std's, even under loom: `all_started` is only a hint that spares an
// atomic per task, the idle protocol itself is `idle`; `queued` is only a
// hint for spinning workers, the queue itself is under the monitor's lock.
use std::sync::atomic::AtomicBool;

// std's `Arc`, even under loom: loom's cannot be unsized to `dyn Job`.
use std::sync::Arc;

use std::collections::VecDeque;

use crate::loom::sync::MutexGuard;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// A pool task's closure, kept in its future's shared state so that a
/// submit makes one allocation, not two (a `Box` for the task beside the
/// future's `Arc` was about a third of a no-op task's cost).
///
/// Only the task's [`WorkItem`] reaches the closure, and it takes it out
/// once: when it runs, is cancelled, fails or is dropped. The future's
/// handles see the slot erased (`dyn Erased`) and never touch it, so a
/// future outliving its work item never drops, or even reads, the closure:
/// the slot's own drop does nothing (`ManuallyDrop`), and a closure whose
/// work item was leaked is leaked with it.
struct Slot<F>(ManuallyDrop<UnsafeCell<Option<F>>>);

// SAFETY: the closure is only ever touched by the one `WorkItem`, through
// `&Inner`, on whichever thread holds the item (see `take`): sending it
// there needs `F: Send`, and no two threads ever access it at once.
unsafe impl<F: Send> Sync for Slot<F> {}

impl<F: Send> Erased for Slot<F> {}

/// What a work item does with its task, with the task's types erased so
/// that one queue holds tasks of every type.
trait Job: Send + Sync {
    /// Takes the closure out and runs it, unless the future was cancelled;
    /// `finished` is called once the task returned (or was found cancelled),
    /// just before its future is completed. `runner`: the ident of the
    /// thread running it, for thread dumps (0: not known).
    fn run(&self, finished: &dyn Fn(), runner: u64);
    /// Notes, for thread dumps, the pool the task is queued in.
    fn queued_in(&self, pool: u64);
    /// Cancels the future and drops the closure unrun.
    fn cancel(&self);
    /// Finishes the future with `error` and drops the closure unrun.
    fn fail(&self, error: FutureError);
}

impl<F: FnOnce() -> T + Send, T: Send> Inner<T, Slot<F>> {
    /// Takes the closure out of the slot.
    ///
    /// # Safety
    ///
    /// Only the task's `WorkItem` may call this, and only once (each of its
    /// methods consumes it): then nothing else accesses the slot meanwhile.
    unsafe fn take(&self) -> Option<F> {
        // SAFETY: per this function's contract, this is the only access.
        unsafe { (*self.job.0.get()).take() }
    }
}

impl<F: FnOnce() -> T + Send, T: Send> Job for Inner<T, Slot<F>> {
    fn run(&self, finished: &dyn Fn(), runner: u64) {
        // SAFETY: called by the work item, once (see `WorkItem`).
        let Some(f) = (unsafe { self.take() }) else {
            return;
        };
        // Before the start, so that a dump never sees a running task still
        // marked queued (a cancelled task's future is done: nobody reads it).
        self.whereabouts.running_on(runner);
        if self.set_running() {
            // Feature `debug-locks`: the locks the task takes are ordered
            // after the task (see `Inner::pseudo`).
            #[cfg(feature = "debug-locks")]
            let _task = crate::debug::lock_order::hold(
                &self.pseudo,
                crate::debug::lock_order::PseudoKind::Task,
                std::panic::Location::caller(),
            );
            let outcome = crate::util::unwind::run_captured(f)
                .map_err(|report| FutureError::Panicked(report.into()));
            finished();
            self.finish_running(outcome);
        } else {
            drop_unrun(f);
            finished();
        }
    }

    fn queued_in(&self, pool: u64) {
        self.whereabouts.queued_in(pool);
    }

    fn cancel(&self) {
        // SAFETY: called by the work item, once (see `WorkItem`).
        let f = unsafe { self.take() };
        Inner::cancel(self);
        drop_unrun(f);
    }

    fn fail(&self, error: FutureError) {
        // SAFETY: called by the work item, once (see `WorkItem`).
        let f = unsafe { self.take() };
        self.finish(Err(error));
        drop_unrun(f);
    }
}

/// Drops the closure of a task that will not run. Its captures are user
/// values: a destructor that panics is reported like a panicking
/// done-callback (Python reports an exception in `__del__` and carries on)
/// rather than killing the worker, or unwinding out of `shutdown` half done.
fn drop_unrun<F>(f: F) {
    if let Err(report) = crate::util::unwind::run_captured(move || drop(f)) {
        crate::threading::report_exception(&crate::threading::current_thread(), &report);
    }
}

/// A submitted task and the promise of its [`Future`]: what an executor
/// queues (Python's `_WorkItem`). `'a` is how long the task may borrow
/// (`'static` for [`Executor`](super::Executor)s, the scope for scoped pools).
///
/// Dropping an item without running it finishes its future with
/// [`FutureError::BrokenExecutor`].
pub struct WorkItem<'a> {
    /// The task's future's shared state; `None` once run, cancelled or
    /// failed. This is the only handle that reaches the closure.
    job: Option<Arc<dyn Job + 'a>>,
    /// Not `Sync`, as before the task moved into the future's allocation:
    /// nothing needs it (every method takes the item by value), and adding
    /// it later is easy where removing it would not be.
    not_sync: std::marker::PhantomData<std::cell::Cell<()>>,
}

impl<'a> WorkItem<'a> {
    /// A work item running `f`, and the future of its result.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::WorkItem;
    ///
    /// let (item, future) = WorkItem::new(|| 2 + 2);
    /// item.run();
    /// assert_eq!(future.result(), Ok(&4));
    /// ```
    pub fn new<F, T>(f: F) -> (WorkItem<'a>, Future<T>)
    where
        F: FnOnce() -> T + Send + 'a,
        T: Send + 'a,
    {
        // Feature `tracing`: the task runs in a span whose parent is the
        // span current here, at submit.
        #[cfg(feature = "tracing")]
        let f = crate::debug::trace::task(f);
        let inner = Arc::new(Inner::new(Slot(ManuallyDrop::new(UnsafeCell::new(Some(
            f,
        ))))));
        let job: Arc<dyn Job + 'a> = inner.clone();
        let shared: Arc<Inner<T, dyn Erased + 'a>> = inner;
        // SAFETY: only the slot's type mentions `'a` (through `F`; `T`
        // stays in the future's type). Through the erased pointer nobody
        // reaches the closure: `Erased` has no methods and the slot's drop
        // is empty (`ManuallyDrop`); the closure is taken out and dropped by
        // this work item, within `'a`, or leaked with it. So forgetting
        // `'a` here lets no access outlive it; the pointer keeps its
        // vtable (size, alignment, the empty drop), which is all that the
        // last `Arc` uses to free the allocation.
        let shared: Arc<Inner<T>> = unsafe {
            std::mem::transmute::<Arc<Inner<T, dyn Erased + 'a>>, Arc<Inner<T, dyn Erased>>>(shared)
        };
        let item = WorkItem {
            job: Some(job),
            not_sync: std::marker::PhantomData,
        };
        (item, Future::from_inner(shared))
    }

    /// Runs the task, unless its future was cancelled; a panic is caught and
    /// stored in the future.
    pub fn run(mut self) {
        self.run_then(&|| {}, 0);
    }

    /// [`run`](Self::run), calling `finished` once the task returned (or
    /// was found cancelled), just before its future is completed; `runner`
    /// is the running thread's ident (0: not known).
    fn run_then(&mut self, finished: &dyn Fn(), runner: u64) {
        if let Some(job) = self.job.take() {
            job.run(finished, runner);
        }
    }

    /// Notes, for thread dumps, that the item is queued in `pool`.
    pub(crate) fn queued_in(&self, pool: u64) {
        if let Some(job) = &self.job {
            job.queued_in(pool);
        }
    }

    /// Cancels the future if it is still pending, dropping the task.
    pub fn cancel(mut self) {
        if let Some(job) = self.job.take() {
            job.cancel();
        }
    }

    /// Finishes the future with `error` without running the task.
    pub fn fail(mut self, error: FutureError) {
        if let Some(job) = self.job.take() {
            job.fail(error);
        }
    }
}

impl Drop for WorkItem<'_> {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            job.fail(FutureError::BrokenExecutor(
                "the task was dropped without running".to_owned(),
            ));
        }
    }
}

impl fmt::Debug for WorkItem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkItem").finish_non_exhaustive()
    }
}

/// The queue workers take items from, plus the idle count that decides
/// whether a submit needs a new worker (CPython's `_work_queue` and
/// `_idle_semaphore`). A `None` in the queue tells workers to exit; each
/// worker passes it on before leaving. Idle workers wait on the queue's
/// [`Monitor`], which is the pool's only wait besides joining its workers.
///
/// # The queue and the idle workers
///
/// The entries are a `VecDeque` kept under the monitor's own lock, as
/// CPython's `queue.Queue` keeps its deque under its mutex: a submit locks,
/// appends, wakes one sleeping worker if any is listed, unlocks; a worker
/// locks, takes the front entry, unlocks. Every item already is its
/// future's one allocation (see [`WorkItem::new`]), and a ring of item
/// handles (24 bytes each, growing by doubling, shrunk once emptied) adds
/// none per item, where a lock-free list queue (concurrent-queue, which
/// this was) costs a hundred-odd instructions per item between push and
/// pop plus a block allocation every 31 items: about a tenth of a no-op
/// task. The lock is held for a few stores.
///
/// With tiny tasks the workers empty the queue at once. A queue that parks
/// its consumers at once (the `SimpleQueue` this pool had at first) makes
/// nearly every submit wake a worker through the kernel: about 1 µs per
/// submit+result in `benches/executor.rs`. So a worker that finds the queue
/// empty first spins briefly, as crossbeam-channel's receivers do, reading
/// only [`queued`](Self::queued) (no lock), and catches the next item
/// without a wake-up; only then does it wait on the monitor. Entries are
/// added and removed only under the lock, and a submit wakes a listed
/// worker under it, so the monitor's usual protocol holds without fences:
/// a worker checks the queue under the lock, and registers under the same
/// lock before it sleeps. The model is `loom_work_queue_*` in
/// `futures/tests/loom_pool.rs`.
pub(crate) struct WorkQueue<'a> {
    /// The entries and the sleeping workers, under one lock.
    monitor: Monitor<Entries<'a>>,
    /// How many entries are queued: written under the lock, read without
    /// it by spinning workers, as a hint only (a worker that reads 0
    /// decides nothing before it checks again under the lock).
    queued: AtomicUsize,
    /// CPython's idle semaphore, only ever decremented without blocking, so
    /// an atomic count does: raised by a worker after each item, taken by a
    /// submit that then needs no new worker.
    idle: AtomicUsize,
    /// Set once the pool has all its workers: nobody reads `idle` any more,
    /// so the workers stop raising it (a contended atomic per task).
    all_started: AtomicBool,
}

/// What the work queue's lock guards: the queued entries, and the workers
/// sleeping until there is one. The sleepers are not recorded as waits:
/// thread dumps show an idle worker as running, as when it slept in a
/// channel, and the watchdog counts it neither asleep nor stalled.
struct Entries<'a> {
    queue: VecDeque<Option<WorkItem<'a>>>,
    /// Whether [`push_if_open`](WorkQueue::push_if_open) takes items:
    /// until the pool is shut down or broken.
    open: bool,
    sleepers: WaitList,
}

impl HasWaiters for Entries<'_> {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.sleepers
    }

    fn recorded(&self) -> bool {
        false
    }
}

/// How many rounds a worker that found the queue empty looks again before
/// it sleeps: spinning 1, 2, 4 ... 64 times, then yielding its core (as
/// crossbeam-utils' `Backoff::snooze`).
const SPIN_ROUNDS: u32 = 10;
const SPIN_LIMIT: u32 = 6;

/// An emptied queue keeps at most this many slots: a burst of submits
/// leaves no large ring behind (growing it again is amortised by the
/// doubling).
const KEEP_SLOTS: usize = 1024;

impl<'a> WorkQueue<'a> {
    pub(crate) fn new() -> Self {
        WorkQueue {
            monitor: Monitor::new(Entries {
                queue: VecDeque::new(),
                open: true,
                sleepers: WaitList::default(),
            }),
            queued: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
            all_started: AtomicBool::new(false),
        }
    }

    fn send(&self, entry: Option<WorkItem<'a>>) {
        self.send_locked(self.monitor.lock(), entry);
    }

    /// Queues `entry` and wakes a sleeping worker, if any, with the lock
    /// held by `entries`.
    fn send_locked(&self, mut entries: MutexGuard<'_, Entries<'a>>, entry: Option<WorkItem<'a>>) {
        entries.queue.push_back(entry);
        self.queued.store(entries.queue.len(), Ordering::Relaxed);
        // Exact under the lock: the listed count only changes under it.
        if self.monitor.has_waiters() {
            let woken = self.monitor.take_one(&mut entries);
            drop(entries);
            woken.wake();
        }
    }

    /// Takes the front entry; the caller holds the lock.
    fn pop(&self, entries: &mut Entries<'a>) -> Option<Option<WorkItem<'a>>> {
        let entry = entries.queue.pop_front()?;
        let left = entries.queue.len();
        if left == 0 && entries.queue.capacity() > KEEP_SLOTS {
            entries.queue.shrink_to(KEEP_SLOTS);
        }
        self.queued.store(left, Ordering::Relaxed);
        Some(entry)
    }

    /// The next entry, if one is queued.
    fn try_recv(&self) -> Option<Option<WorkItem<'a>>> {
        if self.queued.load(Ordering::Relaxed) == 0 {
            return None;
        }
        self.pop(&mut self.monitor.lock())
    }

    /// [`try_recv`](Self::try_recv) for a spinning worker: `None` also
    /// when somebody else holds the lock (a submit, or another worker taking
    /// an entry), so that workers racing for one item never queue up on
    /// the lock, or park on it, in the submitter's way.
    fn try_recv_spinning(&self) -> Option<Option<WorkItem<'a>>> {
        if self.queued.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut entries = self.monitor.try_lock()?;
        self.pop(&mut entries)
    }

    /// The next entry, waiting for one (spinning briefly, then sleeping).
    fn recv(&self) -> Option<WorkItem<'a>> {
        if let Some(entry) = self.try_recv() {
            return entry;
        }
        if !cfg!(loom) {
            for round in 0..SPIN_ROUNDS {
                if round <= SPIN_LIMIT {
                    for _ in 0..1u32 << round {
                        std::hint::spin_loop();
                    }
                } else {
                    std::thread::yield_now();
                }
                if let Some(entry) = self.try_recv_spinning() {
                    return entry;
                }
            }
        }
        let mut got = None;
        let mut entries = self.monitor.lock();
        self.monitor
            .wait_until(&mut entries, Deadline::Never, |entries| {
                got = self.pop(entries);
                got.is_some()
            });
        got.flatten()
    }

    pub(crate) fn push(&self, item: WorkItem<'a>) {
        self.send(Some(item));
    }

    /// Queues `item` unless [`refuse`](Self::refuse) was called; hands it
    /// back if so. A pool that has all its workers lets a submit in this
    /// way without its own lock: since refusing takes this queue's lock,
    /// every item queued here is ahead of whatever the refusing thread
    /// queues next (the workers' exit signal), or drains (the items of a
    /// broken pool, or those `cancel_futures` cancels). The model is
    /// `loom_submit_races_shutdown` in `futures/tests/loom_pool.rs`.
    pub(crate) fn push_if_open(&self, item: WorkItem<'a>) -> Result<(), WorkItem<'a>> {
        let entries = self.monitor.lock();
        if !entries.open {
            return Err(item);
        }
        self.send_locked(entries, Some(item));
        Ok(())
    }

    /// From now on [`push_if_open`](Self::push_if_open) refuses every
    /// item: the pool is shut down or broken.
    pub(crate) fn refuse(&self) {
        self.monitor.lock().open = false;
    }

    /// Takes one idle worker for a new item; `false` if none is idle.
    pub(crate) fn take_idle(&self) -> bool {
        self.idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The pool started its last worker: stop counting idle ones.
    pub(crate) fn stop_counting_idle(&self) {
        self.all_started.store(true, Ordering::Relaxed);
    }

    /// Tells the workers to exit once the queue is drained.
    pub(crate) fn close(&self) {
        self.send(None);
    }

    /// Removes every queued item and hands it to `f`, outside the lock (a
    /// cancelled or failed future runs its done-callbacks); keeps the exit
    /// signal.
    pub(crate) fn drain(&self, mut f: impl FnMut(WorkItem<'a>)) {
        let taken = {
            let mut entries = self.monitor.lock();
            let taken = std::mem::take(&mut entries.queue);
            self.queued.store(0, Ordering::Relaxed);
            taken
        };
        let mut closed = false;
        for entry in taken {
            match entry {
                Some(item) => f(item),
                None => closed = true,
            }
        }
        if closed {
            self.close();
        }
    }

    /// The worker loop: run items until the exit signal.
    pub(crate) fn work(&self) {
        // Under loom the registry's statics would outlive a model.
        let me = if cfg!(loom) {
            0
        } else {
            crate::threading::get_ident()
        };
        loop {
            match self.recv() {
                Some(mut item) => {
                    // Count this worker idle before the future completes, so
                    // that a submit made as soon as the result is seen reuses
                    // it (CPython's test_idle_thread_reuse).
                    item.run_then(
                        &|| {
                            if !self.all_started.load(Ordering::Relaxed) {
                                self.idle.fetch_add(1, Ordering::AcqRel);
                            }
                        },
                        me,
                    );
                }
                None => {
                    self.close();
                    return;
                }
            }
        }
    }
}
