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
