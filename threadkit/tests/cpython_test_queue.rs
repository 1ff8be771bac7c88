//! Behaviour ported from CPython's `Lib/test/test_queue.py` (3.11, plus the
//! `shutdown` tests added in 3.13).
//!
//! Provenance and license: the *behaviours* checked here are those of CPython's
//! test suite (Copyright (c) Python Software Foundation, licensed under the
//! PSF License Agreement). This is a port of behaviour, not code: each test
//! was rewritten in Rust against threadkit's API, and cites the CPython test it
//! comes from. Python's `block=False` / `timeout=t` become `try_*` /
//! `*_timeout`, and exceptions become error values.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use threadkit::queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, ShutDown, SimpleQueue, TaskDoneError,
};

/// CPython's `QUEUE_SIZE`.
const QUEUE_SIZE: usize = 5;
/// How long a trigger thread waits before unclogging (CPython: 0.1 s).
const TRIGGER_DELAY: Duration = Duration::from_millis(50);
/// Far longer than any test should take: only a hang guard.
const LONG: Duration = Duration::from_secs(10);

/// CPython's `BlockingTestMixin.do_blocking_test`: runs `block` (which must
/// block) while a trigger thread sleeps and then calls `trigger`; checks that
/// `block` returned only after the trigger started.
fn do_blocking_test<R>(block: impl FnOnce() -> R, trigger: impl FnOnce() + Send + 'static) -> R {
    let started = Arc::new(AtomicBool::new(false));
    let t = {
        let started = Arc::clone(&started);
        thread::spawn(move || {
            thread::sleep(TRIGGER_DELAY);
            started.store(true, Ordering::SeqCst);
            trigger();
        })
    };
    let result = block();
    assert!(
        started.load(Ordering::SeqCst),
        "blocking function appeared not to block"
    );
    t.join().unwrap();
    result
}

/// The queue operations `basic_queue_test` needs, for all three orderings.
trait TestQueue: Send + Sync + 'static {
    fn put(&self, v: i32) -> Result<(), ShutDown<i32>>;
    fn try_put(&self, v: i32) -> Result<(), PutError<i32>>;
    fn put_timeout(&self, v: i32, t: Duration) -> Result<(), PutError<i32>>;
    fn get(&self) -> Result<i32, ShutDown>;
    fn try_get(&self) -> Result<i32, GetError>;
    fn get_timeout(&self, t: Duration) -> Result<i32, GetError>;
    fn qsize(&self) -> usize;
    fn empty(&self) -> bool;
    fn full(&self) -> bool;
    fn maxsize(&self) -> usize;
}

// `LifoQueue` and `PriorityQueue` are named `Queue<T, Lifo>` and
// `Queue<T, Priority>`: their methods are `Queue`'s.
macro_rules! impl_test_queue {
    ($ty:ident) => {
        impl TestQueue for $ty<i32> {
            fn put(&self, v: i32) -> Result<(), ShutDown<i32>> {
                Queue::put(self, v)
            }
            fn try_put(&self, v: i32) -> Result<(), PutError<i32>> {
                Queue::try_put(self, v)
            }
            fn put_timeout(&self, v: i32, t: Duration) -> Result<(), PutError<i32>> {
                Queue::put_timeout(self, v, t)
            }
            fn get(&self) -> Result<i32, ShutDown> {
                Queue::get(self)
            }
            fn try_get(&self) -> Result<i32, GetError> {
                Queue::try_get(self)
            }
            fn get_timeout(&self, t: Duration) -> Result<i32, GetError> {
                Queue::get_timeout(self, t)
            }
            fn qsize(&self) -> usize {
                Queue::qsize(self)
            }
            fn empty(&self) -> bool {
                Queue::empty(self)
            }
            fn full(&self) -> bool {
                Queue::full(self)
            }
            fn maxsize(&self) -> usize {
                Queue::maxsize(self)
            }
        }
    };
}
impl_test_queue!(Queue);
impl_test_queue!(LifoQueue);
impl_test_queue!(PriorityQueue);

fn qfull<Q: TestQueue>(q: &Q) -> bool {
    q.maxsize() > 0 && q.qsize() == q.maxsize()
}

/// CPython's `BaseQueueTestMixin.basic_queue_test`, with the expected order of
/// 111, 333, 222 for this queue kind.
fn basic_queue_test<Q: TestQueue>(q: &Arc<Q>, target_order: [i32; 3]) {
    assert_eq!(q.qsize(), 0, "call this function with an empty queue");
    assert!(q.empty());
    assert!(!q.full());
    q.put(111).unwrap();
    q.put(333).unwrap();
    q.put(222).unwrap();
    let actual = [q.get().unwrap(), q.get().unwrap(), q.get().unwrap()];
    assert_eq!(
        actual, target_order,
        "didn't seem to queue the correct data"
    );
    for i in 0..(QUEUE_SIZE as i32 - 1) {
        q.put(i).unwrap();
        assert!(q.qsize() > 0, "queue should not be empty");
    }
    assert!(!qfull(&**q), "queue should not be full");
    let last = 2 * QUEUE_SIZE as i32;
    let full = 3 * 2 * QUEUE_SIZE as i32;
    q.put(last).unwrap();
    assert!(qfull(&**q), "queue should be full");
    assert!(!q.empty());
    assert!(q.full());
    assert!(matches!(q.try_put(full), Err(PutError::Full(v)) if v == full));
    assert!(matches!(
        q.put_timeout(full, Duration::from_millis(10)),
        Err(PutError::Full(v)) if v == full
    ));
    // A blocking put, unclogged by a get.
    let q2 = Arc::clone(q);
    do_blocking_test(
        || q.put(full).unwrap(),
        move || {
            q2.get().unwrap();
        },
    );
    let q2 = Arc::clone(q);
    do_blocking_test(
        || q.put_timeout(full, LONG).unwrap(),
        move || {
            q2.get().unwrap();
        },
    );
    // Empty it.
    for _ in 0..QUEUE_SIZE {
        q.get().unwrap();
    }
    assert_eq!(q.qsize(), 0, "queue should be empty");
    assert_eq!(q.try_get(), Err(GetError::Empty));
    assert_eq!(
        q.get_timeout(Duration::from_millis(10)),
        Err(GetError::Empty)
    );
    // A blocking get, unclogged by a put.
    let q2 = Arc::clone(q);
    assert_eq!(
        do_blocking_test(|| q.get().unwrap(), move || q2.put(7).unwrap()),
        7
    );
    let q2 = Arc::clone(q);
    assert_eq!(
        do_blocking_test(|| q.get_timeout(LONG).unwrap(), move || q2.put(8).unwrap()),
        8
    );
}

// test_queue.py: QueueTest(BaseQueueTestMixin).test_basic — FIFO order, full/empty,
// Full/Empty on nowait and timeout, blocking put/get released by the other side.
#[test]
fn queue_test_basic() {
    let q = Arc::new(Queue::new(QUEUE_SIZE));
    // Done twice to make sure the same instance can be reused.
    basic_queue_test(&q, [111, 333, 222]);
    basic_queue_test(&q, [111, 333, 222]);
}

// test_queue.py: LifoQueueTest(BaseQueueTestMixin).test_basic
#[test]
fn lifo_queue_test_basic() {
    let q = Arc::new(LifoQueue::new(QUEUE_SIZE));
    basic_queue_test(&q, [222, 333, 111]);
    basic_queue_test(&q, [222, 333, 111]);
}

// test_queue.py: PriorityQueueTest(BaseQueueTestMixin).test_basic
#[test]
fn priority_queue_test_basic() {
    let q = Arc::new(PriorityQueue::new(QUEUE_SIZE));
    basic_queue_test(&q, [111, 222, 333]);
    basic_queue_test(&q, [111, 222, 333]);
}

// test_queue.py: BaseQueueTestMixin.test_queue_task_done — a fresh queue
// refuses task_done (Python: ValueError), for all three kinds.
#[test]
fn test_queue_task_done() {
    assert_eq!(Queue::<i32>::new(0).task_done(), Err(TaskDoneError));
    assert_eq!(LifoQueue::<i32>::new(0).task_done(), Err(TaskDoneError));
    assert_eq!(PriorityQueue::<i32>::new(0).task_done(), Err(TaskDoneError));
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called too many times"
    );
}

/// CPython's `BaseQueueTestMixin.queue_join_test`: two workers sum 0..100,
/// `join` must not return before every item is processed; -1 stops a worker.
fn queue_join_test(q: &Arc<Queue<i64>>) {
    let cum = Arc::new(Mutex::new(0i64));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (q, cum) = (Arc::clone(q), Arc::clone(&cum));
            thread::spawn(move || {
                loop {
                    let x = q.get().unwrap();
                    if x < 0 {
                        q.task_done().unwrap();
                        return;
                    }
                    *cum.lock().unwrap() += x;
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    for i in 0..100 {
        q.put(i).unwrap();
    }
    q.join();
    assert_eq!(
        *cum.lock().unwrap(),
        (0..100).sum::<i64>(),
        "join() did not block until all tasks were done"
    );
    for _ in 0..2 {
        q.put(-1).unwrap();
    }
    q.join(); // joining twice works
    for w in workers {
        w.join().unwrap();
    }
}

// test_queue.py: BaseQueueTestMixin.test_queue_join — join waits for every
// task_done, twice on the same queue, then task_done is refused.
#[test]
fn test_queue_join() {
    let q = Arc::new(Queue::new(0));
    queue_join_test(&q);
    queue_join_test(&q);
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

// test_queue.py: BaseQueueTestMixin.test_nowait
#[test]
fn test_nowait() {
    let q = Queue::new(QUEUE_SIZE);
    for _ in 0..QUEUE_SIZE {
        q.try_put(1).unwrap();
    }
    assert_eq!(q.try_put(1).map_err(|e| e.is_full()), Err(true));
    for _ in 0..QUEUE_SIZE {
        q.try_get().unwrap();
    }
    assert_eq!(q.try_get(), Err(GetError::Empty));
}

// test_queue.py: BaseQueueTestMixin.test_negative_timeout_raises_exception —
// a negative Duration cannot be written; the nearest case, a zero timeout,
// fails at once like the nowait forms instead of blocking.
#[test]
fn test_zero_timeout_does_not_block() {
    let q = Queue::new(1);
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
    q.put(1).unwrap();
    let err = q.put_timeout(2, Duration::ZERO).unwrap_err();
    assert!(err.is_full());
    assert_eq!(err.into_inner(), 2);
}

// test_queue.py: BaseQueueTestMixin.test_shrinking_queue (issue 10110) —
// threadkit fixes maxsize at creation; a queue of 3 refuses a fourth item.
#[test]
fn test_shrinking_queue() {
    let q = Queue::new(3);
    for i in 1..=3 {
        q.put(i).unwrap();
    }
    assert!(matches!(q.try_put(4), Err(PutError::Full(4))));
    assert_eq!(q.qsize(), 3);
    assert_eq!(q.maxsize(), 3);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_empty (3.13)
#[test]
fn test_shutdown_empty() {
    let q = Queue::new(0);
    q.shutdown(false);
    assert_eq!(q.put("data"), Err(ShutDown("data")));
    assert_eq!(q.get(), Err(ShutDown(())));
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_nonempty (3.13)
#[test]
fn test_shutdown_nonempty() {
    let q = Queue::new(0);
    q.put("data").unwrap();
    q.shutdown(false);
    assert_eq!(q.get(), Ok("data"));
    assert_eq!(q.get(), Err(ShutDown(())));
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_immediate (3.13)
#[test]
fn test_shutdown_immediate() {
    let q = Queue::new(0);
    q.put("data").unwrap();
    q.shutdown(true);
    assert_eq!(q.get(), Err(ShutDown(())));
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_allowed_transitions (3.13)
#[test]
fn test_shutdown_allowed_transitions() {
    let q = Queue::<i32>::new(0);
    assert!(!q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());
    q.shutdown(true);
    assert!(q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());
}

/// CPython's `_shutdown_all_methods_in_one_thread`.
fn shutdown_all_methods_in_one_thread(immediate: bool) {
    let q = Queue::new(2);
    q.put("L").unwrap();
    q.try_put("O").unwrap();
    q.shutdown(immediate);
    assert_eq!(q.put("E"), Err(ShutDown("E")));
    assert!(matches!(q.try_put("W"), Err(PutError::ShutDown("W"))));
    if immediate {
        assert_eq!(q.get(), Err(ShutDown(())));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        assert_eq!(q.task_done(), Err(TaskDoneError));
        q.join();
    } else {
        assert!(["L", "O"].contains(&q.get().unwrap()));
        q.task_done().unwrap();
        assert!(["L", "O"].contains(&q.get().unwrap()));
        q.task_done().unwrap();
        q.join();
        assert_eq!(q.get(), Err(ShutDown(())));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        assert_eq!(
            q.get_timeout(Duration::from_secs(1)),
            Err(GetError::ShutDown)
        );
    }
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_all_methods_in_one_thread (3.13)
#[test]
fn test_shutdown_all_methods_in_one_thread() {
    shutdown_all_methods_in_one_thread(false);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_immediate_all_methods_in_one_thread (3.13)
#[test]
fn test_shutdown_immediate_all_methods_in_one_thread() {
    shutdown_all_methods_in_one_thread(true);
}

/// CPython's `_shutdown_all_methods_in_many_threads`, scaled down: writers
/// put until a shutdown triggered midway stops them, readers drain with
/// `try_get` until `ShutDown`, joiners (immediate only) are released.
fn shutdown_all_methods_in_many_threads(immediate: bool) {
    const WRITERS: usize = 4;
    const READERS: usize = 6;
    const JOINERS: usize = 2;
    const PER_WRITER: usize = 4096;
    const WHEN_SHUTDOWN: usize = PER_WRITER / 2;
    let q = Arc::new(Queue::new(0));
    let parties = WRITERS + READERS + if immediate { JOINERS } else { 0 };
    let barrier = Arc::new(Barrier::new(parties));
    let trigger = Arc::new((Mutex::new(false), Condvar::new()));
    // CPython's `res_puts`: how many writers saw the trigger point.
    let triggered = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for _ in 0..WRITERS {
        let (q, barrier, trigger, triggered) = (
            Arc::clone(&q),
            Arc::clone(&barrier),
            Arc::clone(&trigger),
            Arc::clone(&triggered),
        );
        threads.push(thread::spawn(move || {
            for i in 0..WHEN_SHUTDOWN / 2 {
                q.put(i).unwrap();
            }
            barrier.wait();
            for i in WHEN_SHUTDOWN / 2..PER_WRITER {
                if let Err(err) = q.put(i) {
                    assert_eq!(err.into_inner(), i); // the item is handed back
                    break;
                }
                if i == WHEN_SHUTDOWN {
                    triggered.fetch_add(1, Ordering::SeqCst);
                    *trigger.0.lock().unwrap() = true;
                    trigger.1.notify_all();
                }
            }
        }));
    }
    let readers_saw_shutdown = Arc::new(AtomicUsize::new(0));
    for _ in 0..READERS {
        let (q, barrier, seen) = (
            Arc::clone(&q),
            Arc::clone(&barrier),
            Arc::clone(&readers_saw_shutdown),
        );
        threads.push(thread::spawn(move || {
            q.get().unwrap();
            q.task_done().unwrap();
            barrier.wait();
            loop {
                match q.try_get() {
                    Ok(_) => q.task_done().unwrap(),
                    Err(GetError::ShutDown) => {
                        seen.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    Err(GetError::Empty) => thread::yield_now(),
                }
            }
        }));
    }
    if immediate {
        for _ in 0..JOINERS {
            let (q, barrier) = (Arc::clone(&q), Arc::clone(&barrier));
            threads.push(thread::spawn(move || {
                barrier.wait();
                q.join();
            }));
        }
    }
    let shutdown_left_empty = {
        let q = Arc::clone(&q);
        thread::spawn(move || {
            let mut go = trigger.0.lock().unwrap();
            while !*go {
                go = trigger.1.wait(go).unwrap();
            }
            drop(go);
            q.shutdown(immediate);
            q.qsize() == 0
        })
    };
    for t in threads {
        t.join().unwrap();
    }
    let left_empty = shutdown_left_empty.join().unwrap();
    assert!(triggered.load(Ordering::SeqCst) >= 1);
    assert_eq!(readers_saw_shutdown.load(Ordering::SeqCst), READERS);
    if immediate {
        assert!(left_empty);
        assert!(q.empty());
    }
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_all_methods_in_many_threads (3.13)
#[test]
fn test_shutdown_all_methods_in_many_threads() {
    shutdown_all_methods_in_many_threads(false);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_immediate_all_methods_in_many_threads (3.13)
#[test]
fn test_shutdown_immediate_all_methods_in_many_threads() {
    shutdown_all_methods_in_many_threads(true);
}

/// Spawns `n` threads that run `f` once `go` is passed (CPython's `go` Event).
fn spawn_after<R: Send + 'static>(
    n: usize,
    go: &Arc<Barrier>,
    f: impl Fn() -> R + Send + Sync + 'static,
) -> Vec<thread::JoinHandle<R>> {
    let f = Arc::new(f);
    (0..n)
        .map(|_| {
            let (go, f) = (Arc::clone(go), Arc::clone(&f));
            thread::spawn(move || {
                go.wait();
                f()
            })
        })
        .collect()
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_get (3.13) — a full queue of
// two, three getters, plain shutdown: two get items, one gets ShutDown.
#[test]
fn test_shutdown_get() {
    let q = Arc::new(Queue::new(2));
    q.put("Y").unwrap();
    q.put("D").unwrap();
    let go = Arc::new(Barrier::new(4));
    let q2 = Arc::clone(&q);
    let getters = spawn_after(3, &go, move || q2.get());
    q.shutdown(false);
    go.wait();
    let mut results: Vec<_> = getters.into_iter().map(|t| t.join().unwrap()).collect();
    results.sort();
    assert_eq!(results, [Ok("D"), Ok("Y"), Err(ShutDown(()))]);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_immediate_get (3.13) — after
// an immediate shutdown both getters fail although the queue was full.
#[test]
fn test_shutdown_immediate_get() {
    let q = Arc::new(Queue::new(2));
    q.put("Y").unwrap();
    q.put("D").unwrap();
    let go = Arc::new(Barrier::new(3));
    let q2 = Arc::clone(&q);
    let getters = spawn_after(2, &go, move || q2.get());
    q.shutdown(true);
    go.wait();
    for t in getters {
        assert_eq!(t.join().unwrap(), Err(ShutDown(())));
    }
}

/// CPython's `_shutdown_put`: putters on a full queue fail after shutdown and
/// get their item back.
fn shutdown_put(immediate: bool) {
    let q = Arc::new(Queue::new(2));
    q.put("Y").unwrap();
    q.put("D").unwrap();
    let go = Arc::new(Barrier::new(3));
    let q2 = Arc::clone(&q);
    let putters = spawn_after(2, &go, move || q2.put("E"));
    q.shutdown(immediate);
    go.wait();
    for t in putters {
        assert_eq!(t.join().unwrap(), Err(ShutDown("E")));
    }
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_put (3.13)
#[test]
fn test_shutdown_put() {
    shutdown_put(false);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_immediate_put (3.13)
#[test]
fn test_shutdown_immediate_put() {
    shutdown_put(true);
}

/// CPython's `_shutdown_join`: joiners return once the pending item is done
/// (got and task_done'd, or dropped by an immediate shutdown).
fn shutdown_join(immediate: bool) {
    let q = Arc::new(Queue::new(0));
    q.put("Y").unwrap();
    let joiners: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || q.join())
        })
        .collect();
    let go = Arc::new(Barrier::new(2));
    let workers = if immediate {
        Vec::new()
    } else {
        let q2 = Arc::clone(&q);
        spawn_after(1, &go, move || {
            let item = q2.get();
            q2.task_done().unwrap();
            item
        })
    };
    q.shutdown(immediate);
    if !immediate {
        go.wait();
    }
    for w in workers {
        assert_eq!(w.join().unwrap(), Ok("Y"));
    }
    for j in joiners {
        j.join().unwrap();
    }
    assert_eq!(q.unfinished_tasks(), 0);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_join (3.13)
#[test]
fn test_shutdown_join() {
    shutdown_join(false);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_immediate_join (3.13)
#[test]
fn test_shutdown_immediate_join() {
    shutdown_join(true);
}

/// CPython's `_shutdown_put_join`: a putter fails after shutdown, a joiner
/// returns once the one pending item is done.
fn shutdown_put_join(immediate: bool) {
    let q = Arc::new(Queue::new(2));
    q.put("Y").unwrap();
    let go = Arc::new(Barrier::new(2));
    let q2 = Arc::clone(&q);
    let putter = spawn_after(1, &go, move || q2.put("E"));
    let joiner = {
        let q = Arc::clone(&q);
        thread::spawn(move || q.join())
    };
    assert_eq!(q.unfinished_tasks(), 1);
    q.shutdown(immediate);
    go.wait();
    if immediate {
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
    } else {
        assert_eq!(q.get(), Ok("Y"));
        q.task_done().unwrap();
    }
    for t in putter {
        assert_eq!(t.join().unwrap(), Err(ShutDown("E")));
    }
    joiner.join().unwrap();
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_put_join (3.13)
#[test]
fn test_shutdown_put_join() {
    shutdown_put_join(false);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_immediate_put_join (3.13)
#[test]
fn test_shutdown_immediate_put_join() {
    shutdown_put_join(true);
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_get_task_done_join (3.13) —
// items queued before a plain shutdown are still delivered and joinable.
#[test]
fn test_shutdown_get_task_done_join() {
    let q = Arc::new(Queue::new(2));
    q.put("Y").unwrap();
    q.put("D").unwrap();
    assert_eq!(q.unfinished_tasks(), q.qsize());
    let go = Arc::new(Barrier::new(3));
    let q2 = Arc::clone(&q);
    let workers = spawn_after(2, &go, move || {
        let item = q2.get();
        q2.task_done().unwrap();
        item
    });
    let joiners: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || q.join())
        })
        .collect();
    go.wait();
    q.shutdown(false);
    let mut got: Vec<_> = workers.into_iter().map(|t| t.join().unwrap()).collect();
    got.sort();
    assert_eq!(got, [Ok("D"), Ok("Y")]);
    for j in joiners {
        j.join().unwrap();
    }
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_pending_get (3.13) — a getter
// already blocked on an empty queue wakes up with ShutDown.
#[test]
fn test_shutdown_pending_get() {
    let q = Arc::new(Queue::<i32>::new(0));
    let getter = {
        let q = Arc::clone(&q);
        thread::spawn(move || q.get())
    };
    thread::sleep(TRIGGER_DELAY); // let it block (not required for correctness)
    q.shutdown(false);
    assert_eq!(getter.join().unwrap(), Err(ShutDown(())));
}

// test_queue.py: BaseSimpleQueueTest.test_basic
#[test]
fn simple_queue_test_basic() {
    let q = SimpleQueue::new();
    assert!(q.empty());
    assert_eq!(q.qsize(), 0);
    q.put(1);
    assert!(!q.empty());
    assert_eq!(q.qsize(), 1);
    q.put(2);
    q.put(3);
    q.put(4);
    assert_eq!(q.qsize(), 4);
    assert_eq!(q.get(), 1);
    assert_eq!(q.qsize(), 3);
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.try_get(), Ok(3));
    assert_eq!(q.get_timeout(Duration::from_millis(100)), Ok(4));
    assert!(q.empty());
    assert_eq!(q.try_get(), Err(GetError::Empty));
    assert_eq!(
        q.get_timeout(Duration::from_millis(1)),
        Err(GetError::Empty)
    );
    assert!(q.empty());
    assert_eq!(q.qsize(), 0);
}

/// How a consumer of `run_threads` takes items.
#[derive(Clone, Copy)]
enum Consume {
    Blocking,
    NonBlocking,
    Timeout,
}

/// CPython's `BaseSimpleQueueTest.run_threads`: `n` feeders share one input
/// sequence and each ends with a sentinel (`None`); `n` consumers collect
/// until they see one.
fn run_threads(
    n: usize,
    q: &Arc<SimpleQueue<Option<usize>>>,
    inputs: usize,
    how: Consume,
) -> Vec<usize> {
    let seq = Arc::new(Mutex::new((0..inputs).rev().collect::<Vec<_>>()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    for id in 0..n as u64 {
        let (q, seq) = (Arc::clone(q), Arc::clone(&seq));
        threads.push(thread::spawn(move || {
            let mut rnd = id;
            loop {
                let next = seq.lock().unwrap().pop();
                match next {
                    None => {
                        q.put(None);
                        return;
                    }
                    Some(v) => q.put(Some(v)),
                }
                // A cheap LCG stands in for `random.Random(42)`: sleep now
                // and then so that feeders and consumers interleave.
                rnd = rnd
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if rnd >> 63 == 1 {
                    thread::sleep(Duration::from_micros((rnd >> 54) % 500));
                }
            }
        }));
    }
    for _ in 0..n {
        let (q, results) = (Arc::clone(q), Arc::clone(&results));
        threads.push(thread::spawn(move || {
            loop {
                let val = match how {
                    Consume::Blocking => q.get(),
                    Consume::NonBlocking => loop {
                        match q.try_get() {
                            Ok(v) => break v,
                            Err(_) => thread::sleep(Duration::from_micros(10)),
                        }
                    },
                    Consume::Timeout => loop {
                        if let Ok(v) = q.get_timeout(Duration::from_micros(10)) {
                            break v;
                        }
                    },
                };
                match val {
                    None => return,
                    Some(v) => results.lock().unwrap().push(v),
                }
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(q.empty());
    assert_eq!(q.qsize(), 0);
    let mut out = results.lock().unwrap();
    std::mem::take(&mut *out)
}

// test_queue.py: BaseSimpleQueueTest.test_order — one feeder, one consumer:
// results in input order.
#[test]
fn simple_queue_test_order() {
    let q = Arc::new(SimpleQueue::new());
    let results = run_threads(1, &q, 100, Consume::Blocking);
    assert_eq!(results, (0..100).collect::<Vec<_>>());
}

// test_queue.py: BaseSimpleQueueTest.test_many_threads
#[test]
fn simple_queue_test_many_threads() {
    let q = Arc::new(SimpleQueue::new());
    let mut results = run_threads(50, &q, 10_000, Consume::Blocking);
    results.sort_unstable();
    assert_eq!(results, (0..10_000).collect::<Vec<_>>());
}

// test_queue.py: BaseSimpleQueueTest.test_many_threads_nonblock
#[test]
fn simple_queue_test_many_threads_nonblock() {
    let q = Arc::new(SimpleQueue::new());
    let mut results = run_threads(50, &q, 10_000, Consume::NonBlocking);
    results.sort_unstable();
    assert_eq!(results, (0..10_000).collect::<Vec<_>>());
}

// test_queue.py: BaseSimpleQueueTest.test_many_threads_timeout
#[test]
fn simple_queue_test_many_threads_timeout() {
    let q = Arc::new(SimpleQueue::new());
    let mut results = run_threads(50, &q, 1_000, Consume::Timeout);
    results.sort_unstable();
    assert_eq!(results, (0..1_000).collect::<Vec<_>>());
}

/// An item that counts how many of its kind are alive.
struct Tracked(Arc<AtomicUsize>);

impl Tracked {
    fn new(live: &Arc<AtomicUsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked(Arc::clone(live))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

// test_queue.py: BaseSimpleQueueTest.test_references — the queue lets go of
// each item as soon as it is taken out (Python checks a weakref; here a
// shared count of live items).
#[test]
fn simple_queue_test_references() {
    let live = Arc::new(AtomicUsize::new(0));
    let q = SimpleQueue::new();
    for _ in 0..20 {
        q.put(Tracked::new(&live));
    }
    for i in 0..20 {
        drop(q.get());
        assert_eq!(live.load(Ordering::SeqCst), 20 - i - 1);
    }
}

// test_queue.py: BaseSimpleQueueTest.test_negative_timeout_raises_exception —
// negative timeouts cannot be written; a zero timeout still returns a queued item.
#[test]
fn simple_queue_zero_timeout_returns_item() {
    let q = SimpleQueue::new();
    q.put(1);
    assert_eq!(q.get_timeout(Duration::ZERO), Ok(1));
}

// test_queue.py: BaseQueueTestMixin.test_shutdown_immediate (3.13), the
// "immediate drops items" half: dropped items are released, not leaked, and
// counted as done so that join returns.
#[test]
fn test_shutdown_immediate_drops_items_and_marks_done() {
    let live = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    for _ in 0..3 {
        assert!(q.put(Tracked::new(&live)).is_ok());
    }
    assert_eq!(q.unfinished_tasks(), 3);
    q.shutdown(true);
    assert_eq!(live.load(Ordering::SeqCst), 0);
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(q.join_timeout(LONG));
}
