//! Work items and the worker loop shared by [`ThreadPoolExecutor`](super::ThreadPoolExecutor)
//! and the [scoped pool](super::scope) (CPython's `_WorkItem` and `_worker`).

use std::fmt;

use super::error::FutureError;
use super::future::{Future, Promise};
// std's, even under loom: `all_started` is only a hint that spares an
// atomic per task, the idle protocol itself is `idle`.
use std::sync::atomic::AtomicBool;

use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// What a work item does when run, cancelled or failed, with its value type
/// erased so one queue holds tasks of every type.
trait Job {
    /// Runs the task; `finished` is called once the task returned (or was
    /// found cancelled), just before its future is completed.
    fn run(self: Box<Self>, finished: &dyn Fn());
    fn cancel(self: Box<Self>);
    fn fail(self: Box<Self>, error: FutureError);
}

struct Task<F, T> {
    f: F,
    promise: Promise<T>,
}

impl<F: FnOnce() -> T, T> Job for Task<F, T> {
    fn run(self: Box<Self>, finished: &dyn Fn()) {
        let Task { f, promise } = *self;
        if promise.set_running_or_notify_cancel() {
            let outcome = crate::util::unwind::run_captured(f)
                .map_err(|report| FutureError::Panicked(report.message));
            finished();
            promise.complete(outcome);
        } else {
            drop_unrun(f);
            finished();
        }
    }

    fn cancel(self: Box<Self>) {
        let Task { f, promise } = *self;
        promise.cancel();
        drop_unrun(f);
    }

    fn fail(self: Box<Self>, error: FutureError) {
        let Task { f, promise } = *self;
        promise.set_error(error);
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
    job: Box<dyn Job + Send + 'a>,
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
        let (future, promise) = Future::new();
        let item = WorkItem {
            job: Box::new(Task { f, promise }),
        };
        (item, future)
    }

    /// Runs the task, unless its future was cancelled; a panic is caught and
    /// stored in the future.
    pub fn run(self) {
        self.job.run(&|| {});
    }

    /// Cancels the future if it is still pending, dropping the task.
    pub fn cancel(self) {
        self.job.cancel();
    }

    /// Finishes the future with `error` without running the task.
    pub fn fail(self, error: FutureError) {
        self.job.fail(error);
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
/// worker passes it on before leaving. Idle workers wait in the channel's
/// `recv`, which is the pool's only wait besides joining its workers.
///
/// # Why a crossbeam channel and not threadkit's `SimpleQueue`
///
/// With tiny tasks the workers empty the queue at once. Over a queue that
/// parks its consumers at once (the `SimpleQueue` this pool had at first),
/// nearly every submit then wakes a worker through the kernel: about 1 µs
/// per submit+result in `benches/executor.rs`, 2.5 times the cost over an
/// unbounded crossbeam channel, whose receivers spin briefly before parking
/// and catch the next item without a wake-up. The channel holds no state the
/// pool needs under its own lock, so nothing else depends on the choice.
pub(crate) struct WorkQueue<'a> {
    queue: crossbeam_channel::Sender<Option<WorkItem<'a>>>,
    rx: crossbeam_channel::Receiver<Option<WorkItem<'a>>>,
    /// CPython's idle semaphore, only ever decremented without blocking, so
    /// an atomic count does: raised by a worker after each item, taken by a
    /// submit that then needs no new worker.
    idle: AtomicUsize,
    /// Set once the pool has all its workers: nobody reads `idle` any more,
    /// so the workers stop raising it (a contended atomic per task).
    all_started: AtomicBool,
}

impl<'a> WorkQueue<'a> {
    pub(crate) fn new() -> Self {
        let (queue, rx) = crossbeam_channel::unbounded();
        WorkQueue {
            queue,
            rx,
            idle: AtomicUsize::new(0),
            all_started: AtomicBool::new(false),
        }
    }

    pub(crate) fn push(&self, item: WorkItem<'a>) {
        let _ = self.queue.send(Some(item));
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
        let _ = self.queue.send(None);
    }

    /// Removes every queued item and hands it to `f`; keeps the exit signal.
    pub(crate) fn drain(&self, mut f: impl FnMut(WorkItem<'a>)) {
        let mut closed = false;
        while let Ok(entry) = self.rx.try_recv() {
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
        loop {
            match self.rx.recv().ok().flatten() {
                Some(item) => {
                    // Count this worker idle before the future completes, so
                    // that a submit made as soon as the result is seen reuses
                    // it (CPython's test_idle_thread_reuse).
                    item.job.run(&|| {
                        if !self.all_started.load(Ordering::Relaxed) {
                            self.idle.fetch_add(1, Ordering::AcqRel);
                        }
                    });
                }
                None => {
                    self.close();
                    return;
                }
            }
        }
    }
}
