//! loom models of the Future state machine and the waiters of `wait` and
//! `as_completed`.
//!
//! Each model races a completing thread (a worker's promise) against the
//! future's owner: a lost wake-up shows up as a loom deadlock, a double
//! completion or a lost callback as a failed assertion. Only untimed waits
//! are used (loom does not model time); callbacks do not panic (reporting a
//! panic touches the process-wide thread registry, which outlives a model).

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

use crate::futures::{Future, FutureError, ReturnWhen, as_completed, wait};
use crate::loom::sync::Arc;

/// A worker starting the task races the owner's cancel: exactly one wins,
/// and the outcome matches the winner.
#[test]
fn loom_cancel_races_run() {
    loom::model(|| {
        let (f, promise) = Future::<usize>::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&ran);
        let worker = thread::spawn(move || {
            if promise.set_running_or_notify_cancel() {
                r.fetch_add(1, SeqCst);
                promise.set_result(7);
            }
        });
        let cancelled = f.cancel();
        let outcome = f.result().map(|v| *v);
        worker.join().unwrap();
        if cancelled {
            assert_eq!(outcome, Err(FutureError::Cancelled));
            assert_eq!(ran.load(SeqCst), 0);
            assert!(f.cancelled());
        } else {
            assert_eq!(outcome, Ok(7));
            assert_eq!(ran.load(SeqCst), 1);
            assert!(!f.cancelled());
        }
        assert!(f.done());
    });
}

/// A callback added while the future completes runs exactly once, either
/// in the completing thread or at once in the adding thread.
#[test]
fn loom_callback_races_completion() {
    loom::model(|| {
        let (f, promise) = Future::<usize>::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let worker = thread::spawn(move || {
            promise.set_result(3);
        });
        let c = Arc::clone(&calls);
        f.add_done_callback(move |r| {
            assert_eq!(r.copied(), Ok(3));
            c.fetch_add(1, SeqCst);
        });
        worker.join().unwrap();
        assert_eq!(calls.load(SeqCst), 1);
        assert_eq!(f.into_result(), Ok(3));
    });
}

/// `wait(ALL_COMPLETED)` installed while two futures complete on two
/// threads wakes up (no lost notification) and sees both done.
#[test]
fn loom_wait_sees_completion() {
    loom::model(|| {
        let (a, pa) = Future::<usize>::new();
        let (b, pb) = Future::<usize>::new();
        let ta = thread::spawn(move || pa.set_result(1));
        let tb = thread::spawn(move || pb.set_error(FutureError::Panicked("x".into())));
        let r = wait([&a, &b], None, ReturnWhen::AllCompleted);
        assert_eq!((r.done.len(), r.not_done.len()), (2, 0));
        ta.join().unwrap();
        tb.join().unwrap();
    });
}

/// `wait(FIRST_COMPLETED)` returns once one future is done, and every
/// future it reports done really is.
#[test]
fn loom_wait_first_completed() {
    loom::model(|| {
        let (a, pa) = Future::<usize>::new();
        let (b, pb) = Future::<usize>::new();
        let ta = thread::spawn(move || pa.set_result(1));
        let r = wait([&a, &b], None, ReturnWhen::FirstCompleted);
        assert!(!r.done.is_empty());
        assert!(r.done.iter().all(|f| f.done()));
        ta.join().unwrap();
        drop(pb);
        assert!(b.done());
    });
}

/// `as_completed` yields each future exactly once while both complete
/// (one by a cancel on the owner's side).
#[test]
fn loom_as_completed_yields_each_once() {
    loom::model(|| {
        let (a, pa) = Future::<usize>::new();
        let (b, _pb) = Future::<usize>::new();
        let ta = thread::spawn(move || pa.set_result(1));
        assert!(b.cancel());
        let yielded: Vec<_> = as_completed([&a, &b], None).map(Result::unwrap).collect();
        assert_eq!(yielded.len(), 2);
        assert!(!std::ptr::eq(yielded[0], yielded[1]));
        ta.join().unwrap();
    });
}

/// Two threads asking for the result while a third completes the future
/// both get the value: the first to look moves it from the shared state into
/// the handle's `OnceLock` while holding the state lock. (The `OnceLock` is
/// std's and invisible to loom, which is why the move must happen under the
/// modelled lock: an earlier version that released the lock first had a race
/// this model could not see.)
#[test]
fn loom_concurrent_result_calls() {
    loom::model(|| {
        let (f, promise) = Future::<usize>::new();
        let f = Arc::new(f);
        let f2 = Arc::clone(&f);
        let reader = thread::spawn(move || assert_eq!(f2.result(), Ok(&5)));
        let worker = thread::spawn(move || promise.set_result(5));
        assert_eq!(f.result(), Ok(&5));
        reader.join().unwrap();
        worker.join().unwrap();
    });
}

/// A thread in `result()` and a task in `result_async()` wait on one future
/// while a third thread completes it: one wait list, so both wake and both
/// are lent the same value.
#[test]
fn loom_thread_and_task_await_one_future() {
    loom::model(|| {
        let (f, promise) = Future::<usize>::new();
        let f = Arc::new(f);
        let thread = {
            let f = Arc::clone(&f);
            thread::spawn(move || assert_eq!(f.result(), Ok(&9)))
        };
        let task = {
            let f = Arc::clone(&f);
            thread::spawn(move || {
                assert_eq!(loom::future::block_on(f.result_async()), Ok(&9));
            })
        };
        promise.set_result(9);
        thread.join().unwrap();
        task.join().unwrap();
    });
}

/// A task awaiting the handle by value (`fut.await`) races the completion:
/// it is woken with the value, never left pending.
#[test]
fn loom_await_by_value_races_completion() {
    loom::model(|| {
        let (f, promise) = Future::<usize>::new();
        let worker = thread::spawn(move || promise.set_result(4));
        assert_eq!(loom::future::block_on(f), Ok(4));
        worker.join().unwrap();
    });
}

/// An `.await` polled once and then dropped (cancelled) while the future
/// completes leaves the future's list clean: a thread waiting after it
/// still wakes.
#[test]
fn loom_cancelled_await_then_thread_waits() {
    use std::future::Future as _;
    use std::task::{Context, Waker};
    loom::model(|| {
        let (f, promise) = Future::<usize>::new();
        let f = Arc::new(f);
        let worker = thread::spawn(move || promise.set_result(2));
        {
            let mut cancelled = std::pin::pin!(f.result_async());
            let _ = cancelled
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()));
        }
        assert_eq!(f.result(), Ok(&2));
        worker.join().unwrap();
    });
}

/// `wait_async(ALL_COMPLETED)` in a task while two futures complete on two
/// threads: the task's waker on the shared waiter is never left asleep.
#[test]
fn loom_wait_async_sees_completion() {
    loom::model(|| {
        let (a, pa) = Future::<usize>::new();
        let (b, pb) = Future::<usize>::new();
        let ta = thread::spawn(move || pa.set_result(1));
        let tb = thread::spawn(move || pb.set_error(FutureError::Panicked("x".into())));
        let r = loom::future::block_on(crate::futures::wait_async(
            [&a, &b],
            ReturnWhen::AllCompleted,
        ));
        assert_eq!((r.done.len(), r.not_done.len()), (2, 0));
        ta.join().unwrap();
        tb.join().unwrap();
    });
}

/// The completing thread publishes without the lock unless somebody listens
/// (see `Inner` in `future.rs`). A pool task's life, started then finished
/// on the worker, races a thread blocking in `result()`, a done-callback and
/// an installed `wait`: none of them is missed, each is served once.
#[test]
fn loom_listener_races_lock_free_completion() {
    loom::model(|| {
        let (f, promise) = Future::<usize>::new();
        listeners_race_completion(f, move || {
            assert!(promise.set_running_or_notify_cancel());
            promise.set_result(4);
        });
    });
}

/// A thread blocking in `result()`, a done-callback and an installed `wait`
/// race `complete` (on a thread of its own), which makes `f` return 4: none
/// of them is missed, each is served once, and every reader sees the value.
fn listeners_race_completion(f: Future<usize>, complete: impl FnOnce() + Send + 'static) {
    let f = Arc::new(f);
    let calls = Arc::new(AtomicUsize::new(0));
    let worker = thread::spawn(complete);
    let reader = {
        let f = Arc::clone(&f);
        thread::spawn(move || assert_eq!(f.result(), Ok(&4)))
    };
    let c = Arc::clone(&calls);
    f.add_done_callback(move |r| {
        assert_eq!(r.copied(), Ok(4));
        c.fetch_add(1, SeqCst);
    });
    let r = wait([&*f], None, ReturnWhen::AllCompleted);
    assert_eq!((r.done.len(), r.not_done.len()), (1, 0));
    worker.join().unwrap();
    reader.join().unwrap();
    assert_eq!(calls.load(SeqCst), 1);
    assert!(!f.cancel(), "done: no longer cancellable");
    assert_eq!(f.result(), Ok(&4));
}

/// Nobody listens while the task completes (the lock-free path), then a
/// callback and a `wait` come late: both see it done, and `wait` sees how
/// (an error, so `FIRST_EXCEPTION` returns at once).
#[test]
fn loom_late_listeners_after_lock_free_completion() {
    loom::model(|| {
        let (f, promise) = Future::<usize>::new();
        let worker = thread::spawn(move || promise.set_error(FutureError::Panicked("p".into())));
        worker.join().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        f.add_done_callback(move |r| {
            assert!(r.is_err());
            c.fetch_add(1, SeqCst);
        });
        assert_eq!(calls.load(SeqCst), 1);
        // Found done as an error: returns without waiting for `g`.
        let (g, pg) = Future::<usize>::new();
        let r = wait([&f, &g], None, ReturnWhen::FirstException);
        assert_eq!((r.done.len(), r.not_done.len()), (1, 1));
        assert!(f.exception().is_some());
        pg.set_result(1);
    });
}

/// A pool task's future is completed by its work item straight from
/// RUNNING (`Inner::finish_running`: the outcome stored while the phase
/// still says RUNNING, then one swap to FINISHED). That races a thread
/// blocking in `result()`, a done-callback and an installed `wait`: none of
/// them is missed, each is served once, and every reader sees the value.
#[test]
fn loom_listeners_race_work_item_completion() {
    loom::model(|| {
        let (item, f) = crate::futures::WorkItem::new(|| 4usize);
        listeners_race_completion(f, move || item.run());
    });
}
