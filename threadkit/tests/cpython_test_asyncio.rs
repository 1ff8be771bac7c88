//! Behaviours ported from CPython's `Lib/test/test_asyncio/` (behaviour
//! ported, not code).
//!
//! CPython is Copyright (c) 2001-2024 Python Software Foundation, licensed
//! under the PSF License Agreement. Each test names the CPython test whose
//! behaviour it checks; the code is new, written against threadkit's API.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadkit::asyncio::{
    self, BoundedSemaphore, Condition, Event, Lock, Queue, Semaphore, TaskError, TaskGroup,
};
use threadkit::futures::{Shutdown, ThreadPoolExecutor};
use threadkit::queue::{GetError, PutError, ShutDown};

/// Hang guard: nothing in this file should take anywhere near this long.
const HANG_GUARD: Duration = Duration::from_secs(30);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn run<F: Future>(f: F) -> F::Output {
    asyncio::run(f).unwrap()
}

// test_tasks.py: GatherTestsBase.test_one_exception — the first exception
// propagates at once; the other awaitables are not cancelled.
#[test]
fn gather_one_exception() {
    run(async {
        let finished = Arc::new(AtomicUsize::new(0));
        // The siblings cannot finish before `release` is set, which happens
        // only after `gather` returned: a gather that waited for them would
        // not return before the hang guard.
        let release = Arc::new(Event::new());
        let futs = (0..3u64).map(|n| {
            let (finished, release) = (Arc::clone(&finished), Arc::clone(&release));
            async move {
                if n == 1 {
                    asyncio::sleep(ms(10)).await;
                    panic!("task 1 failed");
                }
                release.wait().await;
                finished.fetch_add(1, Ordering::SeqCst);
                n
            }
        });
        let err = asyncio::wait_for(asyncio::gather(futs), HANG_GUARD)
            .await
            .expect("gather did not wait for the others")
            .unwrap_err();
        assert_eq!(err, TaskError::Panicked("task 1 failed".into()));
        release.set();
        let siblings_finish = async {
            while finished.load(Ordering::SeqCst) < 2 {
                asyncio::sleep(ms(1)).await;
            }
        };
        asyncio::wait_for(siblings_finish, HANG_GUARD)
            .await
            .expect("siblings kept running");
    });
}

// test_tasks.py: GatherTestsBase.test_return_exceptions
#[test]
fn gather_return_exceptions() {
    let outcomes = run(asyncio::gather_return_exceptions((0..4).map(
        |n| async move {
            asyncio::sleep(ms(5 * (4 - n))).await;
            assert!(n % 2 == 0, "odd {n}");
            n
        },
    )));
    assert_eq!(
        outcomes,
        [
            Ok(0),
            Err(TaskError::Panicked("odd 1".into())),
            Ok(2),
            Err(TaskError::Panicked("odd 3".into())),
        ]
    );
}

// test_tasks.py: GatherTestsBase.test_constructor_empty_sequence — gather of
// nothing is an empty list.
#[test]
fn gather_empty() {
    let none: Vec<std::future::Ready<u8>> = Vec::new();
    assert_eq!(run(asyncio::gather(none)), Ok(vec![]));
}

// test_waitfor.py: test_asyncio_wait_for_timeout — the inner awaitable is
// cancelled and TimeoutError raised.
#[test]
fn wait_for_timeout_cancels_inner() {
    run(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        struct OnDrop(Arc<AtomicUsize>);
        impl Drop for OnDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let guard = OnDrop(Arc::clone(&dropped));
        let inner = async move {
            let _guard = guard;
            asyncio::sleep(Duration::from_secs(3600)).await;
        };
        assert!(asyncio::wait_for(inner, ms(10)).await.is_err());
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    });
}

// test_waitfor.py: test_wait_for_timeout_less_then_0_or_0_future_done — a
// ready result wins over a zero timeout.
#[test]
fn wait_for_zero_timeout_ready() {
    assert_eq!(
        run(asyncio::wait_for(async { "done" }, Duration::ZERO)),
        Ok("done")
    );
}

// test_waitfor.py: test_asyncio_wait_for_cancelled — cancelling the task
// that waits cancels the inner awaitable too.
#[test]
fn wait_for_cancellation() {
    run(async {
        let started = Arc::new(Event::new());
        let dropped = Arc::new(AtomicUsize::new(0));
        struct OnDrop(Arc<AtomicUsize>);
        impl Drop for OnDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let task = {
            let (started, guard) = (Arc::clone(&started), OnDrop(Arc::clone(&dropped)));
            asyncio::create_task(async move {
                let inner = async move {
                    let _guard = guard;
                    started.set();
                    asyncio::sleep(Duration::from_secs(3600)).await;
                };
                asyncio::wait_for(inner, Duration::from_secs(3600)).await
            })
        };
        // Cancel once the inner awaitable is surely waiting.
        started.wait().await;
        assert!(task.cancel());
        let outcome = asyncio::wait_for(task, HANG_GUARD).await;
        assert_eq!(outcome, Ok(Err(TaskError::Cancelled)));
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the inner awaitable was cancelled"
        );
    });
}

// test_timeouts.py: test_timeout_at_basic and reschedule
#[test]
fn timeout_expired_and_rescheduled() {
    run(async {
        let mut t = asyncio::timeout(ms(10), asyncio::sleep(Duration::from_secs(10)));
        assert!(!t.expired());
        assert!((&mut t).await.is_err());
        assert!(t.expired());
        let mut t = asyncio::timeout(ms(5), asyncio::sleep(ms(50)));
        t.reschedule(tokio::time::Instant::now() + Duration::from_secs(10));
        assert_eq!(t.await, Ok(()));
    });
}

// test_taskgroups.py: test_taskgroup_03 — one failing task cancels the
// others, and the error is grouped.
#[test]
fn task_group_failure_cancels_siblings() {
    run(async {
        let tg = TaskGroup::new();
        // Only a cancel can end t1 in time.
        let t1 = tg.create_task(async {
            asyncio::sleep(Duration::from_secs(3600)).await;
            1
        });
        let t2 = tg.create_task(async {
            asyncio::sleep(ms(10)).await;
            panic!("ZeroDivisionError");
        });
        let err = asyncio::wait_for(tg.join(), HANG_GUARD)
            .await
            .expect("join did not wait for the cancelled t1")
            .unwrap_err();
        assert_eq!(
            err.exceptions(),
            [TaskError::Panicked("ZeroDivisionError".into())]
        );
        assert_eq!(t1.await, Err(TaskError::Cancelled));
        assert!(t2.await.is_err());
    });
}

// test_taskgroups.py: test_cancel_children_on_child_error — failing
// children cancel their siblings *and the block itself* (`runner_cancel`),
// and the errors come back grouped; nothing after a cancelled await runs.
#[test]
fn task_group_scope_cancels_block_on_child_error() {
    /// Records that the future holding it was dropped before finishing.
    struct Cancelled<'a>(&'a AtomicUsize);
    impl Drop for Cancelled<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let num = Arc::new(AtomicUsize::new(0));
    let t2_cancel = Arc::new(AtomicUsize::new(0));
    let runner_cancel = AtomicUsize::new(0);
    let result = run(async {
        // Only a cancel can end the sleeps of t2 and of the block in time.
        let scope = TaskGroup::scope(async |g| {
            for _ in 0..3 {
                g.create_task(async {
                    asyncio::sleep(ms(100)).await;
                    panic!("ZeroDivisionError");
                });
            }
            let (num2, t2_cancel) = (Arc::clone(&num), Arc::clone(&t2_cancel));
            g.create_task(async move {
                let guard = Cancelled(&t2_cancel);
                asyncio::sleep(Duration::from_secs(3600)).await;
                std::mem::forget(guard);
                num2.fetch_add(1, Ordering::SeqCst);
            });
            let guard = Cancelled(&runner_cancel);
            asyncio::sleep(Duration::from_secs(3600)).await;
            std::mem::forget(guard);
            num.fetch_add(10, Ordering::SeqCst);
        });
        asyncio::wait_for(scope, HANG_GUARD)
            .await
            .expect("the scope did not wait for its cancelled members")
    });
    let err = result.unwrap_err();
    // As in CPython, 1 to 3 of the failing children may get to fail before
    // the cancellation reaches them.
    assert!(!err.exceptions().is_empty());
    for e in err.exceptions() {
        assert_eq!(e, &TaskError::Panicked("ZeroDivisionError".into()));
    }
    assert_eq!(num.load(Ordering::SeqCst), 0);
    assert_eq!(t2_cancel.load(Ordering::SeqCst), 1);
    assert_eq!(runner_cancel.load(Ordering::SeqCst), 1);
}

// test_taskgroups.py: test_taskgroup_01 with the block form — the block's
// value comes back once every member finished, awaited or not.
#[test]
fn task_group_scope_waits_for_members() {
    run(async {
        let finished = Arc::new(AtomicUsize::new(0));
        let value = TaskGroup::scope(async |g| {
            for delay in [10, 30] {
                let finished = Arc::clone(&finished);
                g.create_task(async move {
                    asyncio::sleep(ms(delay)).await;
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
            "block done"
        })
        .await;
        assert_eq!(value.unwrap(), "block done");
        assert_eq!(finished.load(Ordering::SeqCst), 2);
    });
}

// test_taskgroups.py: test_taskgroup_01 — results are there after the group.
#[test]
fn task_group_results() {
    run(async {
        let tg = TaskGroup::new();
        let a = tg.create_task(async {
            asyncio::sleep(ms(10)).await;
            42
        });
        let b = tg.create_task(async { 11 });
        tg.join().await.unwrap();
        assert_eq!((a.result(), b.result()), (Ok(&42), Ok(&11)));
    });
}

// test_taskgroups.py: test_taskgroup_08 style — failures that happen
// together are all grouped (two tasks failing in parallel on two workers).
#[test]
fn task_group_groups_errors() {
    let r = asyncio::Runner::new().worker_threads(2).run(async {
        let tg = TaskGroup::new();
        let both_running = Arc::new(std::sync::Barrier::new(2));
        for n in 0..2 {
            let both_running = Arc::clone(&both_running);
            tg.create_task(async move {
                both_running.wait();
                panic!("fail {n}")
            });
        }
        tg.join().await.unwrap_err()
    });
    let mut errors = r.unwrap().exceptions().to_vec();
    errors.sort_by_key(|e| e.to_string());
    assert_eq!(
        errors,
        [
            TaskError::Panicked("fail 0".into()),
            TaskError::Panicked("fail 1".into())
        ]
    );
}

// test_threads.py: test_to_thread and test_to_thread_exception
#[test]
fn to_thread_result_and_exception() {
    run(async {
        let main = std::thread::current().id();
        let other = asyncio::to_thread(|| std::thread::current().id())
            .await
            .unwrap();
        assert_ne!(main, other);
        let err = asyncio::to_thread(|| -> u8 { panic!("in thread") }).await;
        assert_eq!(err, Err(TaskError::Panicked("in thread".into())));
    });
}

// test_base_events.py: test_run_in_executor — any executor works.
#[test]
fn run_in_executor_thread_pool() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let dyn_pool: &dyn threadkit::futures::Executor = &pool;
    run(async {
        assert_eq!(asyncio::run_in_executor(&pool, || 2 + 2).await, Ok(4));
        assert_eq!(asyncio::run_in_executor(dyn_pool, || 3).await, Ok(3));
    });
    pool.shutdown(Shutdown::wait());
    let shut = run(asyncio::run_in_executor(&pool, || 1));
    assert_eq!(shut, Err(threadkit::futures::FutureError::ShutDown));
}

// test_runners.py: test_asyncio_run_from_running_loop
#[test]
fn run_from_running_loop_is_an_error() {
    let inner = run(async { asyncio::run(async { 1 }) });
    let err = inner.unwrap_err();
    assert!(err.is_nested());
    assert!(err.to_string().contains("running event loop"));
}

// test_queues.py (3.13): test_shutdown_empty, test_shutdown_nonempty and
// test_shutdown_immediate
#[test]
fn queue_shutdown() {
    run(async {
        let q = Arc::new(Queue::new(0));
        let getter = {
            let q = Arc::clone(&q);
            asyncio::create_task(async move { q.get().await })
        };
        asyncio::sleep(ms(10)).await;
        q.shutdown(false);
        assert_eq!(getter.await.unwrap(), Err::<u8, _>(ShutDown(())));
        assert!(matches!(q.try_put(1), Err(PutError::ShutDown(1))));

        let q = Queue::new(0);
        q.try_put(1).unwrap();
        q.shutdown(false);
        assert_eq!(q.get().await, Ok(1));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));

        let q = Queue::new(0);
        q.try_put(1).unwrap();
        q.try_put(2).unwrap();
        q.shutdown(true);
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        asyncio::wait_for(q.join(), Duration::from_secs(5))
            .await
            .unwrap();
    });
}

// test_queues.py: test_blocking_put_wait, test_task_done and
// test_task_done_underflow
#[test]
fn queue_maxsize_task_done_join() {
    run(async {
        let q = Arc::new(Queue::new(1));
        q.put(1).await.unwrap();
        assert!(q.full());
        let putter = {
            let q = Arc::clone(&q);
            asyncio::create_task(async move { q.put(2).await })
        };
        asyncio::sleep(ms(10)).await;
        assert!(!putter.done());
        assert_eq!(q.get().await, Ok(1));
        putter.await.unwrap().unwrap();
        assert_eq!(q.get().await, Ok(2));
        q.task_done().unwrap();
        q.task_done().unwrap();
        assert!(q.task_done().is_err());
        q.join().await;
    });
}

// test_queues.py: test_get_cancel_drop_one_pending_reader — a cancelled
// getter loses no item.
#[test]
fn queue_cancelled_getter_loses_nothing() {
    run(async {
        let q = Arc::new(Queue::new(0));
        let reader = {
            let q = Arc::clone(&q);
            asyncio::create_task(async move { q.get().await })
        };
        asyncio::sleep(ms(10)).await;
        reader.cancel();
        q.try_put(7).unwrap();
        assert_eq!(reader.await, Err(TaskError::Cancelled));
        assert_eq!(
            asyncio::wait_for(q.get(), Duration::from_secs(5)).await,
            Ok(Ok(7))
        );
    });
}

// test_locks.py: LockTests.test_acquire — waiters get the lock in the
// order they asked (fairness).
#[test]
fn lock_fairness() {
    let order = run(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let first = lock.acquire().await;
        let mut tasks = Vec::new();
        for n in 0..5 {
            let lock = Arc::clone(&lock);
            tasks.push(asyncio::create_task(
                async move { lock.acquire().await.push(n) },
            ));
            asyncio::sleep(ms(2)).await; // make the queue order certain
        }
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        lock.acquire().await.clone()
    });
    assert_eq!(order, [0, 1, 2, 3, 4]);
}

// test_locks.py: LockTests.test_acquire_cancel — a cancelled waiter does
// not get the lock.
#[test]
fn lock_acquire_cancel() {
    run(async {
        let lock = Arc::new(Lock::new(()));
        let held = lock.acquire().await;
        let waiter = {
            let lock = Arc::clone(&lock);
            asyncio::create_task(async move { drop(lock.acquire().await) })
        };
        asyncio::sleep(ms(5)).await;
        assert!(waiter.cancel());
        assert_eq!(waiter.await, Err(TaskError::Cancelled));
        drop(held);
        assert!(!lock.locked());
    });
}

// test_locks.py: EventTests.test_clear_with_waiters — woken waiters return
// even if the event was cleared again at once.
#[test]
fn event_clear_with_waiters() {
    run(async {
        let ev = Arc::new(Event::new());
        let waiter = {
            let ev = Arc::clone(&ev);
            asyncio::create_task(async move { ev.wait().await })
        };
        asyncio::sleep(ms(5)).await;
        ev.set();
        ev.clear();
        asyncio::wait_for(waiter, Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        assert!(!ev.is_set());
    });
}

// test_locks.py: ConditionTests.test_notify — notify(n) wakes n waiters, oldest first.
#[test]
fn condition_notify_order() {
    run(async {
        let cv = Arc::new(Condition::new(Vec::new()));
        for n in 0..3 {
            let cv = Arc::clone(&cv);
            asyncio::create_task(async move {
                let mut g = cv.acquire().await.wait().await;
                g.push(n);
            });
            asyncio::sleep(ms(2)).await;
        }
        cv.acquire().await.notify(1);
        asyncio::sleep(ms(10)).await;
        assert_eq!(*cv.acquire().await, [0]);
        cv.acquire().await.notify_all();
        asyncio::sleep(ms(10)).await;
        assert_eq!(*cv.acquire().await, [0, 1, 2]);
    });
}

// test_locks.py: SemaphoreTests.test_acquire and BoundedSemaphore release
#[test]
fn semaphores() {
    run(async {
        let sem = Semaphore::new(1);
        let p = sem.acquire().await;
        assert!(sem.locked() && sem.try_acquire().is_none());
        drop(p);
        sem.release(2).unwrap();
        assert_eq!(sem.value(), 3);
        let b = BoundedSemaphore::new(1);
        let p = b.acquire().await;
        assert!(b.release().is_err(), "the guard's permit will come back");
        drop(p);
        assert!(b.release().is_err());
    });
}

// test_locks.py: BarrierTests.test_barrier and test_abort_barrier
#[test]
fn barrier_pass_and_abort() {
    run(async {
        let barrier = Arc::new(asyncio::Barrier::new(3));
        let mut idx = asyncio::gather((0..3).map(|_| {
            let b = Arc::clone(&barrier);
            async move { b.wait().await.unwrap() }
        }))
        .await
        .unwrap();
        idx.sort();
        assert_eq!(idx, [0, 1, 2]);
        let waiter = {
            let b = Arc::clone(&barrier);
            asyncio::create_task(async move { b.wait().await })
        };
        asyncio::sleep(ms(5)).await;
        assert_eq!(barrier.n_waiting(), 1);
        barrier.abort();
        assert!(waiter.await.unwrap().is_err());
        assert!(barrier.broken() && barrier.wait().await.is_err());
        barrier.reset();
        assert!(!barrier.broken());
    });
}

// test_tasks.py: test_as_completed — outcomes arrive in completion order.
#[test]
fn as_completed_order() {
    let order = run(async {
        // Each job finishes only after the one before it in completion order
        // (0, then 15, then 30) has, whatever the timers and the scheduler do.
        let (after_0, after_15) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let mut it = asyncio::as_completed([30u64, 0, 15].map(|d| {
            let (after_0, after_15) = (Arc::clone(&after_0), Arc::clone(&after_15));
            async move {
                match d {
                    0 => after_0.set(),
                    15 => {
                        after_0.wait().await;
                        after_15.set();
                    }
                    _ => after_15.wait().await,
                }
                d
            }
        }));
        let mut order = Vec::new();
        while let Some(v) = it.next().await {
            order.push(v.unwrap());
        }
        order
    });
    assert_eq!(order, [0, 15, 30]);
}

// test_tasks.py: test_as_completed_with_timeout — what is in by the
// deadline comes out; each outcome still out is a TimeoutError (here
// `TaskError::Timeout`), and its task is cancelled.
#[test]
fn as_completed_with_timeout() {
    let cancelled = Arc::new(AtomicUsize::new(0));
    let outcomes = run(async {
        // "a" finishes before the deadline is even set; "b" and "c" wait for
        // an event nobody sets, so only a cancel can end them.
        let (a_done, never) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let jobs = ["a", "b", "c"].map(|name| {
            let (cancelled, a_done, never) = (
                Arc::clone(&cancelled),
                Arc::clone(&a_done),
                Arc::clone(&never),
            );
            async move {
                /// Counts the task as cancelled unless it finished.
                struct OnCancel(Arc<AtomicUsize>, bool);
                impl Drop for OnCancel {
                    fn drop(&mut self) {
                        if !self.1 {
                            self.0.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                let mut guard = OnCancel(cancelled, false);
                if name == "a" {
                    a_done.set();
                } else {
                    never.wait().await;
                }
                guard.1 = true;
                name
            }
        });
        let it = asyncio::as_completed(jobs);
        a_done.wait().await;
        let mut it = it.timeout(ms(300));
        assert_eq!(it.len(), 3);
        let collect = async {
            let mut outcomes = Vec::new();
            while let Some(outcome) = it.next().await {
                outcomes.push(outcome);
            }
            outcomes
        };
        let outcomes = asyncio::wait_for(collect, HANG_GUARD)
            .await
            .expect("the timeout did not wait for the unfinished tasks");
        assert!(it.is_empty());
        // The aborted tasks are dropped once the loop gets to them.
        let dropped = async {
            while cancelled.load(Ordering::SeqCst) < 2 {
                asyncio::sleep(ms(1)).await;
            }
        };
        asyncio::wait_for(dropped, HANG_GUARD)
            .await
            .expect("the unfinished tasks were cancelled");
        outcomes
    });
    assert_eq!(
        outcomes,
        [Ok("a"), Err(TaskError::Timeout), Err(TaskError::Timeout)]
    );
    assert_eq!(cancelled.load(Ordering::SeqCst), 2);
}

// test_futures.py: test_wrap_future — a pool's future is awaitable (Python's
// `wrap_future` is `.await`); also the async faces of the thread-side Queue
// and Event.
#[test]
fn bridges() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let fut = pool.submit(|| 5).unwrap();
    let q = Arc::new(threadkit::queue::Queue::new(0));
    let ev = Arc::new(threadkit::threading::Event::new());
    let thread = {
        let (q, ev) = (Arc::clone(&q), Arc::clone(&ev));
        std::thread::spawn(move || {
            std::thread::sleep(ms(20));
            q.put(9).unwrap();
            ev.set();
        })
    };
    run(async {
        assert_eq!(fut.await, Ok(5));
        assert_eq!(q.get_async().await, Ok(9));
        ev.wait_async().await;
        q.put_async(1).await.unwrap();
    });
    thread.join().unwrap();
    assert_eq!(q.try_get(), Ok(1));
}

// test_runners.py: RunTests — a multi-thread loop runs tasks in parallel.
#[test]
fn multi_thread_runner() {
    let r = asyncio::Runner::new().worker_threads(2).run(async {
        asyncio::gather((0..100u64).map(|n| async move { n }))
            .await
            .unwrap()
            .iter()
            .sum::<u64>()
    });
    assert_eq!(r.unwrap(), 4950);
}
