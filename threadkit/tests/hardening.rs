//! Issue 14's hardening points outside multiprocessing: user code that
//! panics under a threadkit lock leaves the primitive consistent, timeouts
//! cancel what they must, the sync and async families agree on misuse, and
//! the Python API gaps (`set_maxsize`, `start_hook`/`exit_hook`,
//! `sleep_with`) are filled.
//!
//! No test decides anything by timing: waits that should end are bounded
//! by generous hang guards only.

use std::cmp::Ordering;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use threadkit::futures::{
    FutureError, MapOptions, Shutdown, SubmitError, ThreadPoolBuilder, ThreadPoolExecutor,
};
use threadkit::queue::{LifoQueue, PriorityQueue, PutError, Queue};
use threadkit::threading;

/// A hang guard: far longer than any of these waits should take.
const HANG: Duration = Duration::from_secs(30);

/// An item whose `Ord` panics once `fuse` comparisons have burnt down
/// ([`OFF`] never does).
#[derive(Debug)]
struct Touchy {
    key: u32,
    fuse: Arc<AtomicUsize>,
}

/// A fuse that never burns down.
const OFF: usize = usize::MAX;

impl Ord for Touchy {
    fn cmp(&self, other: &Self) -> Ordering {
        let lit = self
            .fuse
            .fetch_update(SeqCst, SeqCst, |left| match left {
                OFF => Some(OFF),
                0 => None,
                left => Some(left - 1),
            })
            .is_err();
        assert!(!lit, "Ord panicked");
        self.key.cmp(&other.key)
    }
}

impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Touchy {}

fn touchy_queue(keys: &[u32]) -> (PriorityQueue<Touchy>, Arc<AtomicUsize>) {
    let fuse = Arc::new(AtomicUsize::new(OFF));
    let q = PriorityQueue::new(0);
    for &key in keys {
        let fuse = Arc::clone(&fuse);
        q.put(Touchy { key, fuse }).unwrap();
    }
    (q, fuse)
}

fn drain_keys(q: &PriorityQueue<Touchy>) -> Vec<u32> {
    std::iter::from_fn(|| q.try_get().ok().map(|t| t.key)).collect()
}

/// A `get` whose `Ord` panics loses nothing: the panic reaches the caller,
/// the smallest item is still there, and `join` still returns once every
/// item is done (CPython: a failing `_get` leaves the queue as it was).
#[test]
fn priority_get_with_panicking_ord_loses_nothing() {
    let (q, fuse) = touchy_queue(&[5, 1, 4, 2, 3]);
    fuse.store(0, SeqCst);
    assert!(catch_unwind(AssertUnwindSafe(|| q.get())).is_err());
    fuse.store(OFF, SeqCst);
    assert_eq!(q.qsize(), 5);
    assert_eq!(q.unfinished_tasks(), 5);
    assert_eq!(drain_keys(&q), [1, 2, 3, 4, 5]);
    for _ in 0..5 {
        q.task_done().unwrap();
    }
    assert!(q.join_timeout(HANG));
}

/// A `put` whose `Ord` panics stores nothing and counts no task.
#[test]
fn priority_put_with_panicking_ord_stores_nothing() {
    let (q, fuse) = touchy_queue(&[3, 1, 2]);
    fuse.store(0, SeqCst);
    let item = Touchy {
        key: 0,
        fuse: Arc::clone(&fuse),
    };
    assert!(catch_unwind(AssertUnwindSafe(|| q.put(item))).is_err());
    fuse.store(OFF, SeqCst);
    assert_eq!(q.qsize(), 3);
    assert_eq!(q.unfinished_tasks(), 3);
    assert_eq!(drain_keys(&q), [1, 2, 3]);
    for _ in 0..3 {
        q.task_done().unwrap();
    }
    assert!(q.join_timeout(HANG));
}

/// An immediate shutdown whose `Ord` panics mid-drain still counts what it
/// removed, keeps the rest for `get`, and `join` returns once those are done.
#[test]
fn priority_immediate_shutdown_with_panicking_ord_stays_consistent() {
    let (q, fuse) = touchy_queue(&[1, 2, 3, 4, 5, 6]);
    // Enough for the first pop, not for the whole drain.
    fuse.store(5, SeqCst);
    assert!(catch_unwind(AssertUnwindSafe(|| q.shutdown(true))).is_err());
    fuse.store(OFF, SeqCst);
    assert!(q.is_shutdown());
    let left = q.qsize();
    assert_eq!(q.unfinished_tasks(), left);
    assert_eq!(drain_keys(&q).len(), left);
    for _ in 0..left {
        q.task_done().unwrap();
    }
    assert!(q.join_timeout(HANG));
}

/// A one-worker pool whose worker is held busy until the returned sender
/// is dropped or sent to; returns once the worker is inside that task.
fn busy_pool() -> (ThreadPoolExecutor, mpsc::Sender<()>) {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    pool.submit(move || {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv();
    })
    .unwrap();
    started_rx.recv_timeout(HANG).unwrap();
    (pool, release_tx)
}

/// `map(f, ["second", "third"], timeout=0)` on a busy pool: the timeout
/// cancels every item not started, the one waited for included, so `f`
/// never runs (CPython's `_result_or_cancel`).
#[test]
fn pool_map_timeout_cancels_every_item_not_started() {
    let (pool, release) = busy_pool();
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    let f = move |_: &str| counter.fetch_add(1, SeqCst);
    let mut results = pool
        .map_with(
            f,
            ["second", "third"],
            MapOptions::default().timeout(Duration::ZERO),
        )
        .unwrap();
    assert_eq!(results.next(), Some(Err(FutureError::Timeout)));
    assert_eq!(results.next(), None);
    drop(release);
    pool.shutdown(Shutdown::wait());
    assert_eq!(ran.load(SeqCst), 0);
}

/// Dropping the iterator of `map` cancels the tasks not started.
#[test]
fn pool_map_dropped_cancels_tasks_not_started() {
    let (pool, release) = busy_pool();
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    let results = pool.map(move |_: u8| counter.fetch_add(1, SeqCst), [1, 2, 3]);
    drop(results);
    drop(release);
    pool.shutdown(Shutdown::wait());
    assert_eq!(ran.load(SeqCst), 0);
}

/// The scoped pool's `map` cancels the tasks not started when dropped.
#[test]
fn scoped_map_dropped_cancels_tasks_not_started() {
    let ran = AtomicUsize::new(0);
    ThreadPoolBuilder::new()
        .max_workers(1)
        .scope(|s| {
            let (started_tx, started_rx) = mpsc::channel();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let busy = s
                .submit(move || {
                    started_tx.send(()).unwrap();
                    let _ = release_rx.recv();
                })
                .unwrap();
            started_rx.recv_timeout(HANG).unwrap();
            drop(s.map(|_: u8| ran.fetch_add(1, SeqCst), [1, 2, 3]));
            drop(release_tx);
            busy.result_timeout(HANG).unwrap();
        })
        .unwrap();
    assert_eq!(ran.load(SeqCst), 0);
}

/// `release(0)` is Python's `ValueError("n must be one or more")`, bounded
/// or not, and adds nothing (see `asyncio_semaphore_release_zero_is_an_error`).
#[test]
fn semaphore_release_zero_is_an_error() {
    use threading::ReleaseError;
    let sem = threading::Semaphore::new(1);
    assert_eq!(sem.release(0), Err(ReleaseError::Zero));
    assert_eq!(sem.value(), 1);
    let bounded = threading::BoundedSemaphore::new(2);
    bounded.acquire().forget();
    assert_eq!(bounded.release(0), Err(ReleaseError::Zero));
    assert_eq!(bounded.value(), 1);
}

/// Releasing past the largest value is a typed error, and the value is left
/// alone (it saturated before; asyncio's panicked inside tokio).
#[test]
fn semaphore_release_overflow_is_an_error() {
    let sem = threading::Semaphore::new(1);
    assert_eq!(
        sem.release(usize::MAX),
        Err(threading::ReleaseError::Overflow { max: usize::MAX })
    );
    assert_eq!(sem.value(), 1);
    sem.release(usize::MAX - 1).unwrap();
    assert_eq!(sem.value(), usize::MAX);
}

/// `Barrier::new(0)` behaves as `Barrier::new(1)`: one party passes at once
/// (asyncio's agrees: `asyncio_barrier_of_zero_parties_is_a_barrier_of_one`).
#[test]
fn barrier_of_zero_parties_is_a_barrier_of_one() {
    let barrier = threading::Barrier::new(0);
    assert_eq!(barrier.parties(), 1);
    assert_eq!(barrier.wait(), Ok(0));
}

/// A value whose destructor panics.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("Drop panicked");
    }
}

/// A cancelled task's closure is dropped by the worker that skips it; a
/// panicking destructor there is reported, and the worker serves on (it
/// died, and with one worker the next task never ran).
#[test]
fn pool_worker_survives_a_cancelled_closure_that_panics_on_drop() {
    let (pool, release) = busy_pool();
    let doomed = PanicOnDrop;
    let cancelled = pool
        .submit(move || {
            let _keep = &doomed;
        })
        .unwrap();
    assert!(cancelled.cancel());
    let next = pool.submit(|| "next").unwrap();
    drop(release);
    assert_eq!(next.result_timeout(HANG), Ok(&"next"));
    pool.shutdown(Shutdown::wait());
}

/// `shutdown(cancel_futures)` drops the closures it cancels under the pool's
/// lock; a panicking destructor there is reported, and the shutdown still
/// completes: every queued future cancelled, later submits refused.
#[test]
fn pool_shutdown_survives_a_closure_that_panics_on_drop() {
    let (pool, release) = busy_pool();
    let doomed = PanicOnDrop;
    let first = pool
        .submit(move || {
            let _keep = &doomed;
        })
        .unwrap();
    let second = pool.submit(|| ()).unwrap();
    pool.shutdown(Shutdown::no_wait().cancel_futures());
    assert!(first.cancelled() && second.cancelled());
    assert_eq!(pool.submit(|| ()).err(), Some(SubmitError::ShutDown));
    drop(release);
    pool.shutdown(Shutdown::wait());
}

/// Items dropped by an immediate shutdown are dropped after every counter
/// is settled: a panicking destructor reaches the caller and leaves the
/// queue shut down, with every task done (`join` returns).
#[test]
fn queue_immediate_shutdown_with_panicking_drop_stays_consistent() {
    let q = Queue::new(0);
    q.put(PanicOnDrop).unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| q.shutdown(true))).is_err());
    assert!(q.is_shutdown());
    assert_eq!(q.qsize(), 0);
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(q.join_timeout(HANG));
}

/// A `wait_for` predicate that panics releases the condition's lock (no
/// poisoning); the condition still serves other waiters.
#[test]
fn condition_wait_for_with_panicking_predicate_stays_usable() {
    let cond = Arc::new(threading::Condition::new(0u32));
    let waiter = {
        let cond = Arc::clone(&cond);
        std::thread::spawn(move || {
            let mut guard = cond.acquire();
            guard.wait_for(
                |n| {
                    assert!(*n != 1, "predicate panicked");
                    *n == 2
                },
                Some(HANG),
            )
        })
    };
    // The waiter is inside `wait_for` once it released the lock to sleep:
    // a notify reaches it only then, so notify until it has panicked.
    *cond.acquire() = 1;
    let start = std::time::Instant::now();
    while !waiter.is_finished() {
        assert!(start.elapsed() < HANG, "hang guard");
        cond.acquire().notify_all();
        std::thread::yield_now();
    }
    assert!(waiter.join().is_err());
    let mut guard = cond.acquire();
    *guard = 2;
    assert!(guard.wait_for(|n| *n == 2, Some(Duration::ZERO)));
}

/// A done-callback that panics is reported; the future still completes,
/// later callbacks run, and waiters see the value.
#[test]
fn future_done_callback_that_panics_leaves_the_future_usable() {
    let (future, promise) = threadkit::futures::Future::new();
    let seen = Arc::new(AtomicUsize::new(0));
    future.add_done_callback(|_| panic!("callback panicked"));
    let counter = Arc::clone(&seen);
    future.add_done_callback(move |outcome| {
        assert_eq!(outcome, Ok(&5));
        counter.fetch_add(1, SeqCst);
    });
    promise.set_result(5);
    assert_eq!(future.result_timeout(HANG), Ok(&5));
    assert_eq!(seen.load(SeqCst), 1);
    assert!(future.done());
}

/// A Barrier action that panics breaks the barrier (Python: the action's
/// exception breaks it), reaches the thread that ran it, releases the
/// other waiter with `BrokenBarrierError`, and `reset` makes it usable.
#[test]
fn barrier_action_that_panics_breaks_then_resets() {
    let fail = Arc::new(AtomicUsize::new(1));
    let armed = Arc::clone(&fail);
    let barrier = Arc::new(threading::Barrier::with_action(2, move || {
        assert_eq!(armed.load(SeqCst), 0, "action panicked");
    }));
    let other = {
        let barrier = Arc::clone(&barrier);
        std::thread::spawn(move || catch_unwind(AssertUnwindSafe(|| barrier.wait())))
    };
    let mine = catch_unwind(AssertUnwindSafe(|| barrier.wait()));
    let other = other.join().unwrap();
    // One of the two ran the action and panicked; the other was broken.
    let (panicked, broken) = match (&mine, &other) {
        (Err(_), Ok(res)) | (Ok(res), Err(_)) => (1, res.is_err()),
        _ => (0, false),
    };
    assert_eq!((panicked, broken), (1, true));
    assert!(barrier.broken());
    barrier.reset();
    fail.store(0, SeqCst);
    let other = {
        let barrier = Arc::clone(&barrier);
        std::thread::spawn(move || barrier.wait())
    };
    let mut indices = [barrier.wait().unwrap(), other.join().unwrap().unwrap()];
    indices.sort();
    assert_eq!(indices, [0, 1]);
}

/// Growing `maxsize` wakes a putter blocked on the full queue (Python's
/// `q.maxsize = n` does not; ours does, or it would sleep until a get).
#[test]
fn set_maxsize_growing_wakes_a_blocked_putter() {
    let q = Arc::new(Queue::new(1));
    q.put(1).unwrap();
    let putter = {
        let q = Arc::clone(&q);
        std::thread::spawn(move || q.put(2))
    };
    // Gives the putter time to block; the outcome does not depend on it.
    std::thread::sleep(Duration::from_millis(20));
    q.set_maxsize(2);
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || done_tx.send(putter.join().unwrap()));
    assert_eq!(done_rx.recv_timeout(HANG), Ok(Ok(())));
    assert_eq!((q.qsize(), q.maxsize()), (2, 2));
    assert!(q.full());
}

/// A smaller bound keeps the items already queued and refuses puts until
/// there is room under it; 0 makes the queue unbounded; an unbounded queue
/// can become bounded. The same for every ordering.
#[test]
fn set_maxsize_shrinks_and_unbounds_every_queue_kind() {
    macro_rules! check {
        ($q:expr) => {{
            let q = $q;
            for n in 0..3 {
                q.put(n).unwrap();
            }
            q.set_maxsize(1);
            assert_eq!((q.qsize(), q.maxsize()), (3, 1));
            assert!(q.full());
            assert!(matches!(q.try_put(9), Err(PutError::Full(9))));
            for _ in 0..3 {
                q.get().unwrap();
            }
            q.try_put(9).unwrap();
            assert!(matches!(q.try_put(10), Err(PutError::Full(10))));
            q.set_maxsize(0);
            for n in 0..100 {
                q.try_put(n).unwrap();
            }
            assert!(!q.full());
        }};
    }
    check!(Queue::new(3));
    check!(Queue::new(0));
    check!(LifoQueue::new(3));
    check!(PriorityQueue::new(0));
}

/// `start_hook()`/`exit_hook()` read back what `set_start_hook` and
/// `set_exit_hook` installed: Python's `threading.gettrace()` and
/// `getprofile()` (CPython's `test_gettrace`/`test_getprofile`).
#[test]
fn start_and_exit_hooks_can_be_read_back() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    threading::set_start_hook(move |_| {
        counter.fetch_add(1, SeqCst);
    });
    let hook = threading::start_hook().expect("the hook just set");
    // The same hook each time, as `gettrace()` returns the same function.
    assert!(Arc::ptr_eq(&hook, &threading::start_hook().unwrap()));
    let before = calls.load(SeqCst);
    hook(&threading::current_thread());
    assert!(calls.load(SeqCst) > before);
    threading::clear_start_hook();
    assert!(threading::start_hook().is_none());

    threading::set_exit_hook(|_| {});
    assert!(threading::exit_hook().is_some());
    threading::clear_exit_hook();
    assert!(threading::exit_hook().is_none());
}

#[cfg(feature = "asyncio")]
mod with_asyncio {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use threadkit::asyncio;

    /// `release(0)` is an error here too, and adds nothing.
    #[test]
    fn asyncio_semaphore_release_zero_is_an_error() {
        let sem = asyncio::Semaphore::new(1);
        assert_eq!(sem.release(0), Err(asyncio::ReleaseError::Zero));
        assert_eq!(sem.value(), 1);
    }

    /// Releasing past tokio's limit is a typed error (it panicked inside
    /// tokio), and the value is left alone.
    #[test]
    fn asyncio_semaphore_release_overflow_is_an_error() {
        let sem = asyncio::Semaphore::new(1);
        let max = asyncio::Semaphore::MAX_VALUE;
        assert_eq!(
            sem.release(usize::MAX),
            Err(asyncio::ReleaseError::Overflow { max })
        );
        assert_eq!(sem.value(), 1);
        sem.release(max - 1).unwrap();
        assert_eq!(sem.value(), max);
        assert!(sem.release(1).is_err());
        // A permit held through a guard comes back, so it counts.
        let sem = asyncio::Semaphore::new(1);
        let permit = sem.try_acquire().unwrap();
        assert!(sem.release(max).is_err());
        sem.release(max - 1).unwrap();
        drop(permit);
        assert_eq!(sem.value(), max);
    }

    /// `Barrier::new(0)` is a barrier of one (it panicked).
    #[test]
    fn asyncio_barrier_of_zero_parties_is_a_barrier_of_one() {
        let passed = asyncio::run(async {
            let barrier = asyncio::Barrier::new(0);
            assert_eq!(barrier.parties(), 1);
            barrier.wait().await
        });
        assert_eq!(passed.unwrap(), Ok(0));
    }

    /// Sets its flag when dropped: a task's cleanup.
    struct Cleanup(Arc<AtomicBool>);

    impl Drop for Cleanup {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }

    /// A task that sleeps "forever" holding a [`Cleanup`]; counts in
    /// `woke` if it ever gets past the sleep.
    fn sleeper(cleaned: &Arc<AtomicBool>, woke: &Arc<AtomicUsize>) -> asyncio::Task<()> {
        let cleanup = Cleanup(Arc::clone(cleaned));
        let woke = Arc::clone(woke);
        asyncio::create_task(async move {
            let _cleanup = cleanup;
            asyncio::sleep(HANG).await;
            woke.fetch_add(1, SeqCst);
        })
    }

    /// `wait_for(task, t)` with the task by value: on timeout the task is
    /// cancelled and done (its cleanup ran) when `wait_for` returns.
    #[test]
    fn wait_for_cancels_a_task_passed_by_value() {
        let (cleaned, woke) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
        );
        let (c, w) = (Arc::clone(&cleaned), Arc::clone(&woke));
        asyncio::run(async move {
            let task = sleeper(&c, &w);
            let outcome = asyncio::wait_for(task, Duration::from_millis(1)).await;
            assert!(outcome.is_err());
            assert!(
                c.load(SeqCst),
                "the task's cleanup ran before wait_for returned"
            );
        })
        .unwrap();
        assert_eq!(woke.load(SeqCst), 0);
        assert!(cleaned.load(SeqCst));
    }

    /// The same with `&mut task`: the task is done and reports `Cancelled`.
    #[test]
    fn wait_for_cancels_a_task_passed_by_mut_ref() {
        let (cleaned, woke) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
        );
        let (c, w) = (Arc::clone(&cleaned), Arc::clone(&woke));
        asyncio::run(async move {
            let mut task = sleeper(&c, &w);
            let outcome = asyncio::wait_for(&mut task, Duration::from_millis(1)).await;
            assert!(outcome.is_err());
            assert!(
                c.load(SeqCst),
                "the task's cleanup ran before wait_for returned"
            );
            assert!(task.done());
            assert_eq!(task.await, Err(asyncio::TaskError::Cancelled));
        })
        .unwrap();
        assert_eq!(woke.load(SeqCst), 0);
    }

    /// A task awaited inside the future given, and under nested timeouts
    /// (the outer one expiring), is cancelled too, as Python's cancellation
    /// reaches the task awaited. A task that finishes in time is returned.
    #[test]
    fn timeout_cancels_tasks_awaited_inside_and_keeps_finished_ones() {
        let (cleaned, woke) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
        );
        let (c, w) = (Arc::clone(&cleaned), Arc::clone(&woke));
        asyncio::run(async move {
            let task = sleeper(&c, &w);
            let inner = asyncio::wait_for(async move { task.await.map(|()| "cleaned up") }, HANG);
            let outcome = asyncio::wait_for(inner, Duration::from_millis(1)).await;
            assert!(outcome.is_err());
            assert!(
                c.load(SeqCst),
                "the task's cleanup ran before wait_for returned"
            );

            let quick = asyncio::create_task(async { 7 });
            assert_eq!(asyncio::wait_for(quick, HANG).await, Ok(Ok(7)));
        })
        .unwrap();
        assert_eq!(woke.load(SeqCst), 0);
    }

    /// A task whose handle was dropped (detached) is not awaited any more,
    /// so a timeout leaves it running, as in Python.
    #[test]
    fn timeout_leaves_detached_tasks_alone() {
        asyncio::run(async {
            let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
            let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
            let detached = asyncio::create_task(async move {
                let _ = go_rx.await;
                let _ = done_tx.send(());
            });
            let outcome = asyncio::wait_for(
                async move {
                    let mut detached = detached;
                    // Await the task for one poll, then let go of it.
                    std::future::poll_fn(|cx| {
                        let _ = std::pin::Pin::new(&mut detached).poll(cx);
                        std::task::Poll::Ready(())
                    })
                    .await;
                    drop(detached);
                    asyncio::sleep(HANG).await;
                },
                Duration::from_millis(1),
            )
            .await;
            assert!(outcome.is_err());
            go_tx.send(()).unwrap();
            // A cancelled task would drop `done_tx` unsent.
            assert_eq!(asyncio::wait_for(done_rx, HANG).await, Ok(Ok(())));
        })
        .unwrap();
    }

    /// `sleep_with(d, result)` returns `result` after the delay: Python's
    /// `asyncio.sleep(delay, result)` (CPython's `test_sleep` with a result).
    #[test]
    fn sleep_with_returns_its_result() {
        let got = asyncio::run(async {
            let zero = asyncio::sleep_with(Duration::ZERO, "now").await;
            let later = asyncio::sleep_with(Duration::from_millis(1), vec![1, 2]).await;
            (zero, later)
        });
        assert_eq!(got.unwrap(), ("now", vec![1, 2]));
    }

    /// A `wait_for` predicate that panics ends its task; the condition's
    /// lock is free again and the condition serves other waiters.
    #[test]
    fn asyncio_condition_wait_for_with_panicking_predicate_stays_usable() {
        asyncio::run(async {
            let cond = Arc::new(asyncio::Condition::new(0u32));
            let waiter = {
                let cond = Arc::clone(&cond);
                asyncio::create_task(async move {
                    let guard = cond.acquire().await;
                    let _guard = guard
                        .wait_for(|n| {
                            assert!(*n != 1, "predicate panicked");
                            *n == 2
                        })
                        .await;
                })
            };
            // Notify until the waiter has run its predicate on 1.
            let start = std::time::Instant::now();
            while !waiter.done() {
                assert!(start.elapsed() < HANG, "hang guard");
                let mut guard = cond.acquire().await;
                *guard = 1;
                guard.notify_all();
                drop(guard);
                asyncio::sleep(Duration::ZERO).await;
            }
            assert!(matches!(waiter.await, Err(asyncio::TaskError::Panicked(_))));
            let mut guard = cond.acquire().await;
            *guard = 2;
            let guard = guard.wait_for(|n| *n == 2).await;
            assert_eq!(*guard, 2);
        })
        .unwrap();
    }

    /// CPython's `test_wait_for_waits_for_task_cancellation`: `wait_for`
    /// on a coroutine that awaits a task it created cancels that task, and
    /// the task's cleanup has run when `wait_for` raises `TimeoutError`.
    #[test]
    fn wait_for_waits_for_task_cancellation() {
        let task_done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&task_done);
        asyncio::run(async move {
            let foo = async move {
                let inner = asyncio::create_task(async move {
                    let _finally = Cleanup(flag);
                    asyncio::sleep(HANG).await;
                });
                inner.await
            };
            let outcome = asyncio::wait_for(foo, Duration::from_millis(1)).await;
            assert!(outcome.is_err());
            assert!(task_done.load(SeqCst));
        })
        .unwrap();
    }
}
