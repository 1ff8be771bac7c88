//! Behaviours ported from CPython's `concurrent.futures` test suite.
//!
//! Provenance: the behaviours (not the code) come from
//! `Lib/test/test_concurrent_futures/` (CPython 3.12+: `test_future.py`,
//! `test_wait.py`, `test_as_completed.py`, `test_thread_pool.py`,
//! `test_shutdown.py`, `test_init.py`, `executor.py`), Copyright (c) 2001-2024
//! Python Software Foundation, licensed under the PSF License Agreement
//! version 2. Each test names the CPython test it ports. Tests that rely on
//! Python-only machinery (repr, weakrefs, keyword arguments, process pools) are left out. Time bounds are hang guards only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::futures::{
    Executor, Future, FutureError, MapOptions, Promise, ReturnWhen, Shutdown, SubmitError,
    ThreadPoolExecutor, TimeoutError, as_completed, scope, wait,
};
use threadkit::threading::{Event, Semaphore, enumerate, reset_excepthook, set_excepthook};

/// Hang guard for blocking calls that must succeed.
const LONG: Duration = Duration::from_secs(30);

/// `util.py`'s `create_future(state, ...)`: a future in each state, with the
/// promise kept alive where the future must stay pending or running.
struct Futures {
    pending: (Future<i32>, Promise<i32>),
    running: (Future<i32>, Promise<i32>),
    cancelled: Future<i32>,
    exception: Future<i32>,
    successful: Future<i32>,
}

fn make_futures() -> Futures {
    let pending = Future::new();
    let running = Future::new();
    assert!(running.1.set_running_or_notify_cancel());
    let (cancelled, p) = Future::new();
    assert!(cancelled.cancel());
    drop(p);
    let (exception, p) = Future::new();
    p.set_error(FutureError::Panicked("OSError".into()));
    let (successful, p) = Future::new();
    p.set_result(42);
    Futures {
        pending,
        running,
        cancelled,
        exception,
        successful,
    }
}

fn pool(n: usize) -> ThreadPoolExecutor {
    ThreadPoolExecutor::new(n).expect("pool")
}

/// A task that blocks until the returned event is set.
fn gate() -> Arc<Event> {
    Arc::new(Event::new())
}

/// Serialises the tests that replace the process-wide excepthook.
static HOOK_LOCK: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------
// test_future.py: FutureTests
// ---------------------------------------------------------------------------

// test_future.FutureTests.test_done_callback_with_result
#[test]
fn done_callback_with_result() {
    let (f, p) = Future::new();
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f.add_done_callback(move |r| *s.lock().unwrap() = Some(*r.unwrap()));
    p.set_result(5);
    assert_eq!(*seen.lock().unwrap(), Some(5));
}

// test_future.FutureTests.test_done_callback_with_exception
#[test]
fn done_callback_with_exception() {
    let (f, p) = Future::<i32>::new();
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f.add_done_callback(move |r| *s.lock().unwrap() = r.err().cloned());
    p.set_error(FutureError::Panicked("test".into()));
    assert_eq!(
        *seen.lock().unwrap(),
        Some(FutureError::Panicked("test".into()))
    );
}

// test_future.FutureTests.test_done_callback_with_cancel
#[test]
fn done_callback_with_cancel() {
    let (f, _p) = Future::<i32>::new();
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f.add_done_callback(move |r| *s.lock().unwrap() = r.err().cloned());
    assert!(f.cancel());
    assert_eq!(*seen.lock().unwrap(), Some(FutureError::Cancelled));
    assert!(f.cancelled());
}

// test_future.FutureTests.test_done_callback_raises
#[test]
fn done_callback_raises() {
    let _serial = HOOK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    set_excepthook(move |args| sink.lock().unwrap().push(args.message().to_owned()));
    let (f, p) = Future::new();
    let raising_called = Arc::new(AtomicUsize::new(0));
    let fn_called = Arc::new(AtomicUsize::new(0));
    let (a, b) = (Arc::clone(&raising_called), Arc::clone(&fn_called));
    f.add_done_callback(move |_| {
        a.fetch_add(1, Ordering::SeqCst);
        panic!("doh!");
    });
    f.add_done_callback(move |_| {
        b.fetch_add(1, Ordering::SeqCst);
    });
    p.set_result(5);
    reset_excepthook();
    assert_eq!(raising_called.load(Ordering::SeqCst), 1);
    assert_eq!(fn_called.load(Ordering::SeqCst), 1);
    assert_eq!(*reports.lock().unwrap(), ["doh!"]);
    assert_eq!(f.result(), Ok(&5));
}

// test_future.FutureTests.test_done_callback_already_successful
#[test]
fn done_callback_already_successful() {
    let (f, p) = Future::new();
    p.set_result(5);
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f.add_done_callback(move |r| *s.lock().unwrap() = Some(*r.unwrap()));
    // Ran at once, in this thread.
    assert_eq!(*seen.lock().unwrap(), Some(5));
}

// test_future.FutureTests.test_done_callback_already_failed
#[test]
fn done_callback_already_failed() {
    let (f, p) = Future::<i32>::new();
    p.set_error(FutureError::Panicked("test".into()));
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f.add_done_callback(move |r| *s.lock().unwrap() = r.err().cloned());
    assert_eq!(
        *seen.lock().unwrap(),
        Some(FutureError::Panicked("test".into()))
    );
}

// test_future.FutureTests.test_done_callback_already_cancelled
#[test]
fn done_callback_already_cancelled() {
    let (f, _p) = Future::<i32>::new();
    assert!(f.cancel());
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f.add_done_callback(move |r| *s.lock().unwrap() = r.err().cloned());
    assert_eq!(*seen.lock().unwrap(), Some(FutureError::Cancelled));
}

// test_future.FutureTests.test_done_callback_raises_already_succeeded
#[test]
fn done_callback_raises_already_succeeded() {
    let _serial = HOOK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    set_excepthook(move |args| sink.lock().unwrap().push(args.message().to_owned()));
    let (f, p) = Future::new();
    p.set_result(5);
    f.add_done_callback(|_| panic!("doh!"));
    reset_excepthook();
    assert_eq!(*reports.lock().unwrap(), ["doh!"]);
    assert_eq!(f.result(), Ok(&5));
}

// test_future.FutureTests.test_repr (the state part of the repr)
#[test]
fn debug_shows_state() {
    let fs = make_futures();
    assert!(format!("{:?}", fs.pending.0).contains("pending"));
    assert!(format!("{:?}", fs.running.0).contains("running"));
    assert!(format!("{:?}", fs.cancelled).contains("cancelled"));
    assert!(format!("{:?}", fs.exception).contains("finished"));
    assert!(format!("{:?}", fs.successful).contains("finished"));
}

// test_future.FutureTests.test_cancel
#[test]
fn cancel_by_state() {
    let fs = make_futures();
    assert!(fs.pending.0.cancel());
    assert!(fs.pending.0.cancelled());
    assert!(!fs.running.0.cancel());
    assert!(fs.running.0.running());
    assert!(fs.cancelled.cancel(), "cancelling twice is still true");
    assert!(!fs.exception.cancel());
    assert!(!fs.successful.cancel());
    assert_eq!(fs.successful.result(), Ok(&42));
}

// test_future.FutureTests.test_cancelled
#[test]
fn cancelled_by_state() {
    let fs = make_futures();
    assert!(!fs.pending.0.cancelled());
    assert!(!fs.running.0.cancelled());
    assert!(fs.cancelled.cancelled());
    assert!(!fs.exception.cancelled());
    assert!(!fs.successful.cancelled());
}

// test_future.FutureTests.test_done
#[test]
fn done_by_state() {
    let fs = make_futures();
    assert!(!fs.pending.0.done());
    assert!(!fs.running.0.done());
    assert!(fs.cancelled.done());
    assert!(fs.exception.done());
    assert!(fs.successful.done());
}

// test_future.FutureTests.test_running
#[test]
fn running_by_state() {
    let fs = make_futures();
    assert!(!fs.pending.0.running());
    assert!(fs.running.0.running());
    assert!(!fs.cancelled.running());
    assert!(!fs.exception.running());
    assert!(!fs.successful.running());
}

// test_future.FutureTests.test_result_with_timeout
#[test]
fn result_with_timeout() {
    let fs = make_futures();
    assert_eq!(
        fs.pending.0.result_timeout(Duration::ZERO),
        Err(FutureError::Timeout)
    );
    assert_eq!(
        fs.running.0.result_timeout(Duration::ZERO),
        Err(FutureError::Timeout)
    );
    assert_eq!(
        fs.cancelled.result_timeout(Duration::ZERO),
        Err(FutureError::Cancelled)
    );
    assert_eq!(
        fs.exception.result_timeout(Duration::ZERO),
        Err(FutureError::Panicked("OSError".into()))
    );
    assert_eq!(fs.successful.result_timeout(Duration::ZERO), Ok(&42));
}

// test_future.FutureTests.test_result_with_success
#[test]
fn result_with_success() {
    let (f, p) = Future::new();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        p.set_result(42);
    });
    assert_eq!(f.result_timeout(LONG), Ok(&42));
    t.join().unwrap();
}

// test_future.FutureTests.test_result_with_cancel
#[test]
fn result_with_cancel() {
    let (f, _p) = Future::<i32>::new();
    let f = Arc::new(f);
    let f2 = Arc::clone(&f);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        f2.cancel();
    });
    assert_eq!(f.result_timeout(LONG), Err(FutureError::Cancelled));
    t.join().unwrap();
}

// test_future.FutureTests.test_exception_with_timeout
#[test]
fn exception_with_timeout() {
    let fs = make_futures();
    assert_eq!(
        fs.pending.0.exception_timeout(Duration::ZERO),
        Some(FutureError::Timeout)
    );
    assert_eq!(
        fs.running.0.exception_timeout(Duration::ZERO),
        Some(FutureError::Timeout)
    );
    assert_eq!(
        fs.cancelled.exception_timeout(Duration::ZERO),
        Some(FutureError::Cancelled)
    );
    assert_eq!(
        fs.exception.exception_timeout(Duration::ZERO),
        Some(FutureError::Panicked("OSError".into()))
    );
    assert_eq!(fs.successful.exception_timeout(Duration::ZERO), None);
}

// test_future.FutureTests.test_exception_with_success
#[test]
fn exception_with_success() {
    let (f, p) = Future::<i32>::new();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        p.set_error(FutureError::Panicked("OSError".into()));
    });
    assert_eq!(
        f.exception_timeout(LONG),
        Some(FutureError::Panicked("OSError".into()))
    );
    t.join().unwrap();
}

// test_future.FutureTests.test_multiple_set_result: the value set first stays.
// (In Rust a Promise is consumed by set_result, so a second set cannot be
// written; the closest misuse is setting after a cancel, which is ignored.)
#[test]
fn set_result_after_cancel_is_ignored() {
    let (f, p) = Future::new();
    assert!(f.cancel());
    p.set_result(2);
    assert!(f.done());
    assert_eq!(f.result(), Err(FutureError::Cancelled));
}

// test_future.FutureTests.test_get_snapshot: a finished future reads the same
// from many threads.
#[test]
fn finished_future_reads_the_same_from_threads() {
    let (f, p) = Future::new();
    p.set_result(100);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..1000 {
                    assert!(f.done() && !f.cancelled());
                    assert_eq!(f.result(), Ok(&100));
                }
            });
        }
    });
}

// test_future.FutureTests.test_get_snapshot, concurrent part: threads that
// ask for the result of a future while it completes all get the value.
#[test]
fn concurrent_result_calls_all_see_the_value() {
    for _ in 0..200 {
        let (f, p) = Future::new();
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| assert_eq!(f.result_timeout(LONG), Ok(&9)));
            }
            p.set_result(9);
        });
    }
}

// ---------------------------------------------------------------------------
// executor.py: ExecutorTest (ThreadPool flavour)
// ---------------------------------------------------------------------------

// executor.ExecutorTest.test_submit
#[test]
fn submit() {
    let p = pool(2);
    let f = p.submit(|| 2u32.pow(8)).unwrap();
    assert_eq!(f.result(), Ok(&256));
}

// executor.ExecutorTest.test_submit_keyword (arguments are captured values)
#[test]
fn submit_captures_arguments() {
    let p = pool(2);
    let (x, y) = (2, 8);
    let f = p.submit(move || x * y).unwrap();
    assert_eq!(f.into_result(), Ok(16));
}

// executor.ExecutorTest.test_map
#[test]
fn map_in_order() {
    let p = pool(4);
    let got: Vec<u64> = p
        .map(|n: u64| n.pow(n as u32), 0..10)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let want: Vec<u64> = (0..10u64).map(|n| n.pow(n as u32)).collect();
    assert_eq!(got, want);
}

// executor.ExecutorTest.test_map_exception
#[test]
fn map_exception() {
    let p = pool(2);
    let mut it = p
        .map(
            |(a, b): (i32, i32)| (a / b, a % b),
            [(1, 2), (1, 3), (1, 0), (1, 5)],
        )
        .unwrap();
    assert_eq!(it.next(), Some(Ok((0, 1))));
    assert_eq!(it.next(), Some(Ok((0, 1))));
    assert!(
        matches!(it.next(), Some(Err(FutureError::Panicked(m))) if m.message().contains("divide by zero"))
    );
}

// executor.ExecutorTest.test_map_timeout
#[test]
fn map_timeout() {
    let p = pool(3);
    let release = gate();
    let r = Arc::clone(&release);
    let mut results = Vec::new();
    let mut timed_out = false;
    for item in p
        .map_with(
            move |wait: bool| {
                if wait {
                    r.wait_timeout(LONG);
                }
            },
            [false, false, true],
            MapOptions::default().timeout(Duration::from_millis(300)),
        )
        .unwrap()
    {
        match item {
            Ok(v) => results.push(v),
            Err(e) => {
                assert_eq!(e, FutureError::Timeout);
                timed_out = true;
            }
        }
    }
    release.set();
    assert!(timed_out);
    assert_eq!(results, [(), ()]);
}

// executor.ExecutorTest.test_shutdown_race_issue12456
#[test]
fn shutdown_race_issue12456() {
    let p = pool(2);
    let it = p.map(|n: i32| n.to_string(), [2; 3]).unwrap();
    p.shutdown(Shutdown::wait());
    assert_eq!(it.map(Result::unwrap).collect::<Vec<_>>(), ["2", "2", "2"]);
}

// executor.ExecutorTest.test_no_stale_references: the pool drops a task's
// captures once it ran, even if the future is discarded.
#[test]
fn no_stale_references() {
    let p = pool(2);
    let obj = Arc::new(());
    let weak = Arc::downgrade(&obj);
    drop(p.submit(move || drop(obj)).unwrap());
    let deadline = Instant::now() + LONG;
    while weak.upgrade().is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(weak.upgrade().is_none());
}

// executor.ExecutorTest.test_max_workers_negative
#[test]
fn max_workers_zero_is_an_error() {
    let err = ThreadPoolExecutor::new(0).unwrap_err();
    assert_eq!(err.to_string(), "max_workers must be greater than 0");
    assert!(
        ThreadPoolExecutor::builder()
            .max_workers(0)
            .scope(|_| ())
            .is_err()
    );
}

// executor.ExecutorTest.test_free_reference: map does not keep results.
#[test]
fn map_does_not_keep_results() {
    let p = pool(2);
    for obj in p.map(|_: i32| Arc::new(()), 0..10).unwrap() {
        let obj = obj.unwrap();
        assert_eq!(Arc::strong_count(&obj), 1);
    }
}

// ---------------------------------------------------------------------------
// test_wait.py
// ---------------------------------------------------------------------------

// test_wait.WaitTests.test_20369: a future listed twice
#[test]
fn wait_duplicate_future() {
    let p = pool(2);
    let f = p
        .submit(|| std::thread::sleep(Duration::from_millis(10)))
        .unwrap();
    let r = wait([&f, &f], None, ReturnWhen::AllCompleted);
    assert_eq!(r.done.len(), 2);
    assert!(r.not_done.is_empty());
}

// test_wait.WaitTests.test_first_completed
#[test]
fn wait_first_completed() {
    let p = pool(2);
    let release = gate();
    let r2 = Arc::clone(&release);
    let f1 = p.submit(|| 1).unwrap();
    let f2 = p
        .submit(move || {
            r2.wait_timeout(LONG);
            2
        })
        .unwrap();
    let fs = make_futures();
    let r = wait(
        [&f1, &f2, &fs.pending.0],
        Some(LONG),
        ReturnWhen::FirstCompleted,
    );
    release.set();
    assert_eq!(r.done.len(), 1);
    assert!(std::ptr::eq(r.done[0], &f1));
    assert_eq!(r.not_done.len(), 2);
}

// test_wait.WaitTests.test_first_completed_some_already_completed
#[test]
fn wait_first_completed_some_already_completed() {
    let p = pool(1);
    let release = gate();
    let r2 = Arc::clone(&release);
    let f1 = p
        .submit(move || {
            r2.wait_timeout(LONG);
            1
        })
        .unwrap();
    let fs = make_futures();
    let r = wait(
        [&fs.cancelled, &fs.successful, &f1],
        Some(LONG),
        ReturnWhen::FirstCompleted,
    );
    release.set();
    assert_eq!(r.done.len(), 2);
    assert_eq!(r.not_done.len(), 1);
}

// test_wait.WaitTests.test_first_exception
#[test]
fn wait_first_exception() {
    let p = pool(3);
    let release = gate();
    let r3 = Arc::clone(&release);
    let f1 = p.submit(|| 1).unwrap();
    let f2 = p
        .submit(|| -> i32 {
            std::thread::sleep(Duration::from_millis(50));
            panic!("boom")
        })
        .unwrap();
    let f3 = p
        .submit(move || {
            r3.wait_timeout(LONG);
            3
        })
        .unwrap();
    let r = wait([&f1, &f2, &f3], Some(LONG), ReturnWhen::FirstException);
    release.set();
    assert_eq!(r.done.len(), 2);
    assert!(r.done.iter().any(|f| std::ptr::eq(*f, &f2)));
    assert!(std::ptr::eq(r.not_done[0], &f3));
}

// test_wait.WaitTests.test_first_exception_some_already_complete
#[test]
fn wait_first_exception_some_already_complete() {
    let p = pool(2);
    let release = gate();
    let r1 = Arc::clone(&release);
    let fs = make_futures();
    let f1 = p.submit(|| -> i32 { panic!("divide") }).unwrap();
    let f2 = p
        .submit(move || {
            r1.wait_timeout(LONG);
            2
        })
        .unwrap();
    let r = wait(
        [&fs.successful, &fs.cancelled, &fs.pending.0, &f1, &f2],
        Some(LONG),
        ReturnWhen::FirstException,
    );
    release.set();
    assert_eq!(r.done.len(), 3);
    assert_eq!(r.not_done.len(), 2);
}

// test_wait.WaitTests.test_first_exception_one_already_failed
#[test]
fn wait_first_exception_one_already_failed() {
    let p = pool(1);
    let release = gate();
    let r1 = Arc::clone(&release);
    let fs = make_futures();
    let f1 = p.submit(move || r1.wait_timeout(LONG)).unwrap();
    let r = wait(
        [&fs.exception, &fs.successful],
        Some(LONG),
        ReturnWhen::FirstException,
    );
    assert_eq!(r.done.len(), 2);
    let r2 = wait([&fs.exception], Some(LONG), ReturnWhen::FirstException);
    assert_eq!(r2.done.len(), 1);
    // Neither wait waited for the pool's blocked task.
    assert!(!f1.done());
    release.set();
    f1.result().unwrap();
}

// test_wait.WaitTests.test_first_exception_one_already_failed, with the
// error already read through result(): it still counts as an exception.
#[test]
fn wait_first_exception_after_result_was_read() {
    let fs = make_futures();
    assert!(fs.exception.result().is_err());
    let r = wait(
        [&fs.pending.0, &fs.exception],
        Some(LONG),
        ReturnWhen::FirstException,
    );
    assert_eq!((r.done.len(), r.not_done.len()), (1, 1));
}

// test_wait.WaitTests.test_all_completed
#[test]
fn wait_all_completed() {
    let p = pool(2);
    let fs = make_futures();
    let f1 = p.submit(|| 1).unwrap();
    let f2 = p.submit(|| -> i32 { panic!("x") }).unwrap();
    let r = wait(
        [&fs.successful, &fs.exception, &fs.cancelled, &f1, &f2],
        Some(LONG),
        ReturnWhen::AllCompleted,
    );
    assert_eq!(r.done.len(), 5);
    assert!(r.not_done.is_empty());
}

// test_wait.WaitTests.test_timeout
#[test]
fn wait_timeout() {
    let p = pool(2);
    let release = gate();
    let r1 = Arc::clone(&release);
    let fs = make_futures();
    let slow = p
        .submit(move || {
            r1.wait_timeout(LONG);
            0
        })
        .unwrap();
    let r = wait(
        [&fs.exception, &fs.successful, &fs.cancelled, &slow],
        Some(Duration::from_millis(100)),
        ReturnWhen::AllCompleted,
    );
    release.set();
    assert_eq!(r.done.len(), 3);
    assert!(std::ptr::eq(r.not_done[0], &slow));
}

// test_wait.ThreadPoolWaitTests.test_pending_calls_race: many short tasks,
// waited for all at once, from a pool shared with another thread.
#[test]
fn wait_pending_calls_race() {
    let p = pool(4);
    let fs: Vec<_> = (0..100).map(|n| p.submit(move || n).unwrap()).collect();
    let r = wait(&fs, Some(LONG), ReturnWhen::AllCompleted);
    assert_eq!(r.done.len(), 100);
}

// ---------------------------------------------------------------------------
// test_as_completed.py
// ---------------------------------------------------------------------------

// test_as_completed.AsCompletedTests.test_no_timeout
#[test]
fn as_completed_no_timeout() {
    let p = pool(2);
    let fs = make_futures();
    let f1 = p.submit(|| 21 * 2).unwrap();
    let all = [&fs.cancelled, &fs.exception, &fs.successful, &f1];
    let yielded: Vec<_> = as_completed(all, None).map(Result::unwrap).collect();
    assert_eq!(yielded.len(), 4);
    for f in all {
        assert!(yielded.iter().any(|y| std::ptr::eq(*y, f)));
    }
    // Already-finished ones first.
    assert!(std::ptr::eq(yielded[0], &fs.cancelled));
}

// test_as_completed.AsCompletedTests.test_future_times_out (zero timeout)
#[test]
fn as_completed_times_out() {
    let fs = make_futures();
    let all = [&fs.cancelled, &fs.exception, &fs.successful, &fs.pending.0];
    let mut it = as_completed(all, Some(Duration::ZERO));
    let mut done = 0;
    let mut timeouts = 0;
    for item in it.by_ref() {
        match item {
            Ok(f) => {
                assert!(f.done());
                done += 1;
            }
            Err(e) => {
                assert_eq!(e, TimeoutError);
                timeouts += 1;
            }
        }
    }
    assert_eq!((done, timeouts), (3, 1));
    let rest = it.into_pending();
    assert_eq!(rest.len(), 1);
    assert!(std::ptr::eq(rest[0], &fs.pending.0));
}

// test_as_completed.AsCompletedTests.test_duplicate_futures
#[test]
fn as_completed_duplicate_futures() {
    let p = pool(2);
    let f = p
        .submit(|| std::thread::sleep(Duration::from_millis(20)))
        .unwrap();
    let yielded: Vec<_> = as_completed([&f, &f, &f], None).collect();
    assert_eq!(yielded.len(), 1);
}

// test_as_completed.AsCompletedTests.test_free_reference_yielded_future:
// owned futures are handed over, not kept by the iterator.
#[test]
fn as_completed_hands_over_owned_futures() {
    let p = pool(2);
    let fs: Vec<_> = (0..5)
        .map(|n| p.submit(move || Arc::new(n)).unwrap())
        .collect();
    let mut sum = 0;
    for f in as_completed(fs, Some(LONG)) {
        let v = f.unwrap().into_result().unwrap();
        assert_eq!(Arc::strong_count(&v), 1);
        sum += *v;
    }
    assert_eq!(sum, 10);
}

// test_as_completed.AsCompletedTests.test_correct_timeout_exception_msg
#[test]
fn as_completed_timeout_message() {
    let fs = make_futures();
    let mut it = as_completed(
        [&fs.pending.0, &fs.running.0],
        Some(Duration::from_millis(10)),
    );
    let err = it.next().unwrap().unwrap_err();
    assert_eq!(err, TimeoutError);
    assert_eq!(err.to_string(), "timed out waiting for the future");
    assert!(it.next().is_none());
}

// test_as_completed: futures from different executors mix.
#[test]
fn as_completed_mixed_executors() {
    let (a, b) = (pool(1), pool(1));
    let fs = [a.submit(|| 1).unwrap(), b.submit(|| 2).unwrap()];
    let sum: i32 = as_completed(&fs, Some(LONG))
        .map(|f| *f.unwrap().result().unwrap())
        .sum();
    assert_eq!(sum, 3);
}

// ---------------------------------------------------------------------------
// test_thread_pool.py: ThreadPoolExecutorTest
// ---------------------------------------------------------------------------

// test_thread_pool.ThreadPoolExecutorTest.test_map_submits_without_iteration
#[test]
fn map_submits_without_iteration() {
    let p = pool(2);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let it = p
        .map(move |n: i32| s.lock().unwrap().push(n), 0..10)
        .unwrap();
    p.shutdown(Shutdown::wait());
    let mut got = seen.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    drop(it);
}

// test_thread_pool.ThreadPoolExecutorTest.test_default_workers
#[test]
fn default_workers() {
    let p = ThreadPoolExecutor::default();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(p.max_workers(), (cpus + 4).min(32));
}

// test_thread_pool.ThreadPoolExecutorTest.test_saturation
#[test]
fn saturation() {
    let p = ThreadPoolExecutor::builder()
        .max_workers(4)
        .thread_name_prefix("saturation")
        .build()
        .unwrap();
    let sem = Arc::new(Semaphore::new(0));
    let fs: Vec<_> = (0..15 * 4)
        .map(|_| {
            let sem = Arc::clone(&sem);
            p.submit(move || sem.acquire().forget()).unwrap()
        })
        .collect();
    let workers = enumerate()
        .iter()
        .filter(|t| t.name().starts_with("saturation_"))
        .count();
    assert_eq!(workers, 4);
    sem.release(fs.len()).unwrap();
    p.shutdown(Shutdown::wait());
}

// test_thread_pool.ThreadPoolExecutorTest.test_idle_thread_reuse
#[test]
fn idle_thread_reuse() {
    let p = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("reuse")
        .build()
        .unwrap();
    p.submit(|| ()).unwrap().result().unwrap();
    p.submit(|| ()).unwrap().result().unwrap();
    p.submit(|| ()).unwrap().result().unwrap();
    let workers = enumerate()
        .iter()
        .filter(|t| t.name().starts_with("reuse_"))
        .count();
    assert_eq!(workers, 1);
    p.shutdown(Shutdown::wait());
}

// test_thread_pool.ThreadPoolExecutorTest.test_hang_global_shutdown_lock:
// one pool's shutdown is not blocked by another pool's running task.
#[test]
fn shutdown_of_one_pool_ignores_another() {
    let busy = pool(1);
    let release = gate();
    let r = Arc::clone(&release);
    let f = busy.submit(move || r.wait_timeout(LONG)).unwrap();
    let other = pool(1);
    other.submit(|| ()).unwrap().result().unwrap();
    other.shutdown(Shutdown::wait());
    // It returned while the busy pool's task was still blocked.
    assert!(!f.done());
    release.set();
    assert_eq!(f.into_result(), Ok(true));
}

// test_thread_pool.ThreadPoolExecutorTest.test_executor_map_current_future_cancel:
// dropping a map iterator early cancels what has not started.
#[test]
fn map_drop_cancels_rest() {
    let p = pool(1);
    let release = gate();
    let r = Arc::clone(&release);
    let started = Arc::new(AtomicUsize::new(0));
    let st = Arc::clone(&started);
    let it = p
        .map(
            move |_: i32| {
                st.fetch_add(1, Ordering::SeqCst);
                r.wait_timeout(LONG);
            },
            0..5,
        )
        .unwrap();
    while started.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(it);
    release.set();
    p.shutdown(Shutdown::wait());
    assert_eq!(started.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------
// test_shutdown.py
// ---------------------------------------------------------------------------

// test_shutdown.ExecutorShutdownTest.test_run_after_shutdown
#[test]
fn run_after_shutdown() {
    let p = pool(2);
    p.shutdown(Shutdown::wait());
    assert!(matches!(
        p.submit(|| 2u32.pow(5)),
        Err(SubmitError::ShutDown)
    ));
    assert!(matches!(p.map(|x: i32| x, [1]), Err(FutureError::ShutDown)));
}

// test_shutdown.ExecutorShutdownTest.test_hang_issue12364
#[test]
fn hang_issue12364() {
    let p = pool(5);
    let fs: Vec<_> = (0..50)
        .map(|_| {
            p.submit(|| std::thread::sleep(Duration::from_millis(2)))
                .unwrap()
        })
        .collect();
    p.shutdown(Shutdown::wait());
    for f in &fs {
        assert_eq!(f.result_timeout(LONG), Ok(&()));
    }
}

// test_shutdown.ExecutorShutdownTest.test_cancel_futures
#[test]
fn shutdown_cancel_futures() {
    let p = pool(2);
    // The tasks block until every task still pending has been cancelled, so
    // the workers cannot drain the queue before the shutdown reaches it.
    let release = gate();
    let fs: Arc<Vec<_>> = Arc::new(
        (0..50)
            .map(|_| {
                let r = Arc::clone(&release);
                p.submit(move || assert!(r.wait_timeout(LONG))).unwrap()
            })
            .collect(),
    );
    // Shut down once both workers run a task: those two finish, the 48
    // still queued are cancelled.
    let deadline = Instant::now() + LONG;
    while fs.iter().filter(|f| f.running()).count() < 2 {
        assert!(Instant::now() < deadline, "hang guard");
        std::thread::sleep(Duration::from_millis(1));
    }
    let opener = {
        let (fs, release) = (Arc::clone(&fs), Arc::clone(&release));
        std::thread::spawn(move || {
            let deadline = Instant::now() + LONG;
            while fs.iter().any(|f| !f.running() && !f.cancelled()) {
                assert!(Instant::now() < deadline, "hang guard");
                std::thread::sleep(Duration::from_millis(1));
            }
            release.set();
        })
    };
    p.shutdown(Shutdown::wait().cancel_futures());
    opener.join().unwrap();
    let cancelled = fs.iter().filter(|f| f.cancelled()).count();
    assert_eq!(cancelled, 48);
    let others: Vec<_> = fs.iter().filter(|f| !f.cancelled()).collect();
    assert_eq!(others.len(), 2);
    for f in others {
        assert!(f.done());
        assert_eq!(f.exception(), None);
    }
}

// test_shutdown.ExecutorShutdownTest.test_hang_gh94440
#[test]
fn shutdown_after_cancelled_submit() {
    let p = pool(1);
    p.submit(|| 0).unwrap().result().unwrap();
    // The cancel may lose the race with the idle worker; either way the
    // shutdown must not hang (gh-94440).
    let f = p.submit(|| 0).unwrap();
    f.cancel();
    let start = Instant::now();
    p.shutdown(Shutdown::wait());
    assert!(start.elapsed() < LONG / 2);
    assert!(f.done());
}

// test_shutdown: shutdown may be called again (Python's is idempotent).
#[test]
fn shutdown_twice() {
    let p = pool(2);
    p.submit(|| ()).unwrap();
    p.shutdown(Shutdown::no_wait());
    p.shutdown(Shutdown::wait());
    p.shutdown(Shutdown::wait().cancel_futures());
    assert!(matches!(p.submit(|| ()), Err(SubmitError::ShutDown)));
}

// test_shutdown.ThreadPoolShutdownTest.test_threads_terminate
#[test]
fn threads_terminate() {
    let p = ThreadPoolExecutor::builder()
        .max_workers(5)
        .thread_name_prefix("terminate")
        .build()
        .unwrap();
    let sem = Arc::new(Semaphore::new(0));
    for _ in 0..3 {
        let sem = Arc::clone(&sem);
        p.submit(move || sem.acquire().forget()).unwrap();
    }
    let named = || {
        enumerate()
            .iter()
            .filter(|t| t.name().starts_with("terminate_"))
            .count()
    };
    assert_eq!(named(), 3);
    sem.release(3).unwrap();
    p.shutdown(Shutdown::wait());
    assert_eq!(named(), 0);
}

// test_shutdown.ThreadPoolShutdownTest.test_context_manager_shutdown
#[test]
fn drop_is_context_manager_exit() {
    let results = {
        let p = ThreadPoolExecutor::builder()
            .max_workers(5)
            .thread_name_prefix("ctxmgr")
            .build()
            .unwrap();
        let r: Vec<i32> = p
            .map(i32::abs, -5..5)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        r
    };
    assert_eq!(results, [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
    assert!(!enumerate().iter().any(|t| t.name().starts_with("ctxmgr_")));
}

// test_shutdown.ThreadPoolShutdownTest.test_del_shutdown
#[test]
fn del_shutdown() {
    let p = ThreadPoolExecutor::builder()
        .max_workers(5)
        .thread_name_prefix("delshut")
        .build()
        .unwrap();
    let res = p.map(i32::abs, -5..5).unwrap();
    drop(p);
    assert!(!enumerate().iter().any(|t| t.name().starts_with("delshut_")));
    assert!(res.zip(-5..5i32).all(|(r, v)| r == Ok(v.abs())));
}

// test_shutdown.ThreadPoolShutdownTest.test_shutdown_no_wait
#[test]
fn shutdown_no_wait() {
    let p = ThreadPoolExecutor::builder()
        .max_workers(5)
        .thread_name_prefix("nowait")
        .build()
        .unwrap();
    let res = p.map(i32::abs, -5..5).unwrap();
    p.shutdown(Shutdown::no_wait());
    assert!(res.zip(-5..5i32).all(|(r, v)| r == Ok(v.abs())));
    // The workers exit on their own; joining them is only a hang guard.
    for t in enumerate()
        .iter()
        .filter(|t| t.name().starts_with("nowait_"))
    {
        assert_eq!(t.join_timeout(LONG), Ok(true));
    }
}

// test_shutdown.ThreadPoolShutdownTest.test_thread_names_assigned
#[test]
fn thread_names_assigned() {
    let p = ThreadPoolExecutor::builder()
        .max_workers(5)
        .thread_name_prefix("SpecialPool")
        .build()
        .unwrap();
    let release = gate();
    let names: Vec<_> = (0..5)
        .map(|_| {
            let r = Arc::clone(&release);
            p.submit(move || {
                r.wait_timeout(LONG);
                threadkit::threading::current_thread().name().to_owned()
            })
            .unwrap()
        })
        .collect();
    release.set();
    for f in names {
        let name = f.into_result().unwrap();
        let n: usize = name.strip_prefix("SpecialPool_").unwrap().parse().unwrap();
        assert!(n < 5);
    }
}

// test_shutdown.ThreadPoolShutdownTest.test_thread_names_default
#[test]
fn thread_names_default() {
    let p = pool(5);
    let name = p
        .submit(|| threadkit::threading::current_thread().name().to_owned())
        .unwrap()
        .into_result()
        .unwrap();
    let (prefix, n) = name.rsplit_once('_').unwrap();
    let counter = prefix.strip_prefix("ThreadPoolExecutor-").unwrap();
    assert!(counter.parse::<u64>().is_ok());
    assert!(n.parse::<usize>().unwrap() < 5);
    assert_eq!(p.thread_name_prefix(), prefix);
}

// test_shutdown.ExecutorShutdownTest.test_interpreter_shutdown and
// test_hang_gh83386: a pool alive at exit (or shut down without waiting)
// still runs its task before the process ends. Re-runs this test binary.
#[test]
fn interpreter_shutdown() {
    if std::env::var_os("TK_FUTURES_EXIT_CHILD").is_some() || cfg!(miri) {
        return;
    }
    for mode in ["leak", "nowait"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "exit_child", "--nocapture", "--test-threads=1"])
            .env("TK_FUTURES_EXIT_CHILD", mode)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{mode}: {stdout}");
        assert!(stdout.contains("apple"), "{mode}: {stdout}");
    }
}

/// The child of `interpreter_shutdown`; does nothing in a normal run.
#[test]
fn exit_child() {
    let Some(mode) = std::env::var_os("TK_FUTURES_EXIT_CHILD") else {
        return;
    };
    let p = pool(5);
    p.submit(|| {
        std::thread::sleep(Duration::from_millis(300));
        println!("apple");
    })
    .unwrap();
    if mode == "nowait" {
        p.shutdown(Shutdown::no_wait());
    }
    std::mem::forget(p);
}

// ---------------------------------------------------------------------------
// test_init.py
// ---------------------------------------------------------------------------

// test_init.InitializerMixin.test_initializer
#[test]
fn initializer_runs_in_every_worker() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    let p = ThreadPoolExecutor::builder()
        .max_workers(3)
        .initializer(move || {
            c.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let release = gate();
    let fs: Vec<_> = (0..3)
        .map(|_| {
            let r = Arc::clone(&release);
            p.submit(move || r.wait_timeout(LONG)).unwrap()
        })
        .collect();
    release.set();
    for f in fs {
        assert_eq!(f.into_result(), Ok(true));
    }
    // Three submits with no idle worker started three workers, and each runs
    // the initializer first thing; but on a loaded machine the first two can
    // finish all three tasks while the third is still starting up.
    let deadline = Instant::now() + LONG;
    while count.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

// test_init.FailingInitializerMixin.test_initializer
#[test]
fn failing_initializer_breaks_pool() {
    let _serial = HOOK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    set_excepthook(move |args| sink.lock().unwrap().push(args.message().to_owned()));
    let p = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(|| panic!("init failed"))
        .build()
        .unwrap();
    let fs: Vec<_> = (0..5).filter_map(|n| p.submit(move || n).ok()).collect();
    for f in &fs {
        assert!(matches!(
            f.result_timeout(LONG),
            Err(FutureError::BrokenExecutor(_))
        ));
    }
    // Later submits fail at once, once the pool knows it is broken.
    let deadline = Instant::now() + LONG;
    loop {
        match p.submit(|| 0) {
            Err(SubmitError::BrokenExecutor(msg)) => {
                assert!(msg.contains("initializer failed"));
                break;
            }
            Ok(f) => assert!(matches!(
                f.result_timeout(LONG),
                Err(FutureError::BrokenExecutor(_))
            )),
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert!(Instant::now() < deadline);
    }
    p.shutdown(Shutdown::wait());
    reset_excepthook();
    assert!(reports.lock().unwrap().iter().any(|m| m == "init failed"));
}

// ---------------------------------------------------------------------------
// Beyond CPython: panics, awaiting, scoped pools
// ---------------------------------------------------------------------------

// executor.ExecutorTest.test_map_exception, the submit flavour: a task's
// exception comes back from result().
#[test]
fn task_panic_is_captured() {
    let p = pool(1);
    let f = p.submit(|| -> u8 { panic!("bad {}", 7) }).unwrap();
    assert_eq!(f.result(), Err(FutureError::Panicked("bad 7".into())));
    // The worker survives.
    assert_eq!(p.submit(|| 1).unwrap().into_result(), Ok(1));
}

// test_future: a callback added to a running future runs in the worker.
#[test]
fn callback_runs_in_completing_thread() {
    let p = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("cbthread")
        .build()
        .unwrap();
    let release = gate();
    let r = Arc::clone(&release);
    let f = p.submit(move || r.wait_timeout(LONG)).unwrap();
    let (tx, rx) = mpsc::channel();
    f.add_done_callback(move |_| {
        tx.send(threadkit::threading::current_thread().name().to_owned())
            .unwrap();
    });
    release.set();
    assert_eq!(rx.recv_timeout(LONG).unwrap(), "cbthread_0");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

#[test]
fn await_pool_results() {
    let p = pool(2);
    let a = p
        .submit(|| {
            std::thread::sleep(Duration::from_millis(20));
            20
        })
        .unwrap();
    let b = p.submit(|| 22).unwrap();
    assert_eq!(block_on(async { a.await.unwrap() + b.await.unwrap() }), 42);
    let c = p.submit(|| -> i32 { panic!("async boom") }).unwrap();
    assert_eq!(block_on(c), Err(FutureError::Panicked("async boom".into())));
}

#[test]
fn scoped_pool_borrows() {
    let data: Vec<u64> = (1..=100).collect();
    let mut counter = 0;
    let total = scope(|s| {
        let halves = [&data[..50], &data[50..]];
        let fs: Vec<_> = halves
            .into_iter()
            .map(|h| s.submit(move || h.iter().sum::<u64>()).unwrap())
            .collect();
        fs.into_iter()
            .map(|f| f.into_result().unwrap())
            .sum::<u64>()
    });
    counter += 1;
    assert_eq!((total, counter), (5050, 1));
}

#[test]
fn scoped_pool_joins_before_return() {
    let done = AtomicUsize::new(0);
    scope(|s| {
        for _ in 0..20 {
            s.submit(|| {
                std::thread::sleep(Duration::from_millis(1));
                done.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), 20);
}

#[test]
fn dyn_executor_is_usable() {
    let p: Box<dyn Executor> = Box::new(pool(2));
    let f = p.submit(|| 5).unwrap();
    assert_eq!(f.into_result(), Ok(5));
    let v: Vec<i32> = p
        .map(|x: i32| x + 1, [1, 2])
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(v, [2, 3]);
    p.shutdown(Shutdown::wait());
}

// test_init.FailingInitializerMixin.test_initializer, scoped flavour.
#[test]
fn scoped_failing_initializer_breaks_scope() {
    let _serial = HOOK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    set_excepthook(|_| {});
    let outcome = threadkit::futures::ThreadPoolBuilder::new()
        .max_workers(1)
        .initializer(|| panic!("scoped init failed"))
        .scope(|s| {
            let f = s.submit(|| 1).unwrap();
            f.into_result()
        })
        .unwrap();
    reset_excepthook();
    assert!(matches!(outcome, Err(FutureError::BrokenExecutor(_))));
}

#[test]
fn scoped_map_in_order_with_names() {
    let words = ["a", "bb", "ccc", "dddd"];
    let (lens, names) = threadkit::futures::ThreadPoolBuilder::new()
        .max_workers(2)
        .thread_name_prefix("scoped")
        .scope(|s| {
            let lens: Vec<usize> = s
                .map(|w: &&str| w.len(), &words)
                .map(Result::unwrap)
                .collect();
            let name = s
                .submit(|| std::thread::current().name().map(str::to_owned))
                .unwrap()
                .into_result()
                .unwrap();
            (lens, name)
        })
        .unwrap();
    assert_eq!(lens, [1, 2, 3, 4]);
    assert!(names.unwrap().starts_with("scoped_"));
}

#[test]
fn shared_dyn_executor() {
    let p: Arc<dyn Executor + Send + Sync> = Arc::new(pool(2));
    let p2 = Arc::clone(&p);
    let t = std::thread::spawn(move || p2.submit(|| 7).unwrap().into_result());
    assert_eq!(t.join().unwrap(), Ok(7));
    p.shutdown(Shutdown::wait());
    assert!(matches!(p.submit(|| 0), Err(SubmitError::ShutDown)));
}

// ---------------------------------------------------------------------------
// map in chunks, submitted a bounded window ahead (threadkit's own; the
// window follows Python 3.14's `buffersize`, chunking `chunksize`)
// ---------------------------------------------------------------------------

// executor.ExecutorTest.test_map with chunksize
#[test]
fn map_chunked_in_order() {
    let p = pool(4);
    for chunksize in [1, 2, 7, 1000] {
        let got: Vec<u64> = p
            .map_with(
                |n: u64| n * 3,
                0..1000,
                MapOptions::default().chunksize(chunksize),
            )
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, (0..1000u64).map(|n| n * 3).collect::<Vec<_>>());
    }
    // Automatic chunks, with and without a length to size them from.
    let got: Vec<u64> = p
        .map(|n: u64| n + 1, (0..50_000).filter(|_| true))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, (1..=50_000u64).collect::<Vec<_>>());
    let got: Vec<u64> = p
        .map(
            |n: u64| n + 1,
            std::iter::successors(Some(0u64), |n| (*n < 49_999).then(|| n + 1)),
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, (1..=50_000u64).collect::<Vec<_>>());
}

// test_map_buffersize_zero (Python 3.14): a chunk size of 0 is refused.
#[test]
fn map_chunksize_zero_is_an_error() {
    let p = pool(1);
    assert!(matches!(
        p.map_with(|n: u8| n, [1], MapOptions::default().chunksize(0)),
        Err(FutureError::InvalidArgument(_))
    ));
}

// test_map_buffersize_on_infinite_iterable (Python 3.14): the input is
// consumed only a bounded window ahead of the consumer.
#[test]
fn map_runs_a_bounded_window_ahead() {
    let p = pool(2);
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let endless = (0u64..).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let mut it = p
        .map_with(|n: u64| n * 2, endless, MapOptions::default().chunksize(10))
        .unwrap();
    assert_eq!(it.next(), Some(Ok(0)));
    // Let the workers finish whatever was submitted.
    std::thread::sleep(Duration::from_millis(50));
    let ahead = pulled.load(Ordering::SeqCst);
    // max(4 * workers, 32) chunks of 10, plus the one being consumed.
    assert!(ahead <= 33 * 10, "pulled {ahead} items");
    assert!(ahead > 10, "pulled {ahead} items");
    // Moving on tops the window up, still bounded.
    let got: Vec<u64> = it.by_ref().take(1000).map(Result::unwrap).collect();
    assert_eq!(got, (1..=1000u64).map(|n| n * 2).collect::<Vec<_>>());
    assert!(pulled.load(Ordering::SeqCst) <= 1001 + 33 * 10);
    // The same with automatic chunks over an input of unknown length.
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let endless = std::iter::repeat(1u64).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let sum: u64 = p
        .map(|n: u64| n, endless)
        .unwrap()
        .take(100_000)
        .map(Result::unwrap)
        .sum();
    assert_eq!(sum, 100_000);
    // Automatic chunks hold at most 4096 items.
    assert!(pulled.load(Ordering::SeqCst) <= 100_000 + 33 * 4096);
}

// executor.ExecutorTest.test_map_exception, inside a chunk: the panic is
// yielded at its item and the rest of the chunk still runs.
#[test]
fn map_chunk_panic_is_reported_at_its_item() {
    let p = pool(2);
    let got: Vec<Result<i32, FutureError>> = p
        .map_with(
            |n: i32| 100 / (n - 5),
            0..10,
            MapOptions::default().chunksize(4),
        )
        .unwrap()
        .collect();
    assert_eq!(got.len(), 10);
    for (n, r) in (0..10).zip(&got) {
        if n == 5 {
            assert!(
                matches!(r, Err(FutureError::Panicked(m)) if m.message().contains("divide by zero")),
                "{r:?}"
            );
        } else {
            assert_eq!(*r, Ok(100 / (n - 5)));
        }
    }
    // Two panics in one chunk, the last item among them.
    let got: Vec<Result<i32, FutureError>> = p
        .map_with(
            |n: i32| if n % 3 == 2 { panic!("item {n}") } else { n },
            0..6,
            MapOptions::default().chunksize(6),
        )
        .unwrap()
        .collect();
    let errors: Vec<_> = got
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Err(FutureError::Panicked(report)) => Some((i, report.message().to_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(errors, [(2, "item 2".to_owned()), (5, "item 5".to_owned())]);
    assert_eq!(got[4], Ok(4));
}

// executor.ExecutorTest.test_map_timeout with chunks
#[test]
fn map_chunked_timeout() {
    let p = pool(2);
    let release = gate();
    let r = Arc::clone(&release);
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    let mut results = Vec::new();
    let mut timed_out = false;
    for item in p
        .map_with(
            move |n: u32| {
                counter.fetch_add(1, Ordering::SeqCst);
                if n == 5 {
                    r.wait_timeout(LONG);
                }
                n
            },
            0..1000,
            MapOptions::default()
                .timeout(Duration::from_millis(300))
                .chunksize(4),
        )
        .unwrap()
    {
        match item {
            Ok(v) => results.push(v),
            Err(e) => {
                assert_eq!(e, FutureError::Timeout);
                timed_out = true;
            }
        }
    }
    release.set();
    p.shutdown(Shutdown::wait());
    assert!(timed_out);
    // The chunk holding item 5 timed out: the items before it came through.
    assert_eq!(results, [0, 1, 2, 3]);
    // The chunks not started were cancelled, the running ones stopped.
    assert!(ran.load(Ordering::SeqCst) < 1000);
}

// test_executor_map_current_future_cancel with chunks: dropping the
// iterator cancels the chunks not started and stops the running one.
#[test]
fn map_chunked_drop_cancels_rest() {
    let p = pool(1);
    let release = gate();
    let r = Arc::clone(&release);
    let started = Arc::new(AtomicUsize::new(0));
    let st = Arc::clone(&started);
    let it = p
        .map_with(
            move |_: i32| {
                st.fetch_add(1, Ordering::SeqCst);
                r.wait_timeout(LONG);
            },
            0..100,
            MapOptions::default().chunksize(10),
        )
        .unwrap();
    while started.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(it);
    release.set();
    p.shutdown(Shutdown::wait());
    assert_eq!(started.load(Ordering::SeqCst), 1);
}

// A pool shut down while a map still has input: the chunks submitted
// already are yielded, then the refusal once.
#[test]
fn map_after_shutdown_yields_the_refusal_once() {
    let p = pool(2);
    let mut it = p
        .map_with(|n: u64| n, 0..10_000, MapOptions::default().chunksize(1))
        .unwrap();
    p.shutdown(Shutdown::wait());
    let mut ok = 0;
    let mut errors = Vec::new();
    for r in it.by_ref() {
        match r {
            Ok(_) => ok += 1,
            Err(e) => errors.push(e),
        }
    }
    assert!((32..10_000).contains(&ok), "{ok}");
    assert_eq!(errors, [FutureError::ShutDown]);
}

#[test]
fn scoped_map_chunked() {
    let data: Vec<u32> = (0..5000).collect();
    let doubled: Vec<u32> = threadkit::futures::ThreadPoolBuilder::new()
        .max_workers(2)
        .scope(|s| {
            s.map_with(|x: &u32| x * 2, &data, MapOptions::default().chunksize(64))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        })
        .unwrap();
    assert_eq!(doubled, data.iter().map(|x| x * 2).collect::<Vec<_>>());
}

// Issue 9: `result()` and `result_async().await` are one wait on one future.
#[test]
fn threads_and_tasks_wait_on_one_future() {
    let (f, promise) = Future::new();
    let ready = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for i in 0..4 {
            let (f, ready) = (&f, &ready);
            s.spawn(move || {
                ready.fetch_add(1, Ordering::SeqCst);
                let got = if i % 2 == 0 {
                    f.result()
                } else {
                    block_on(f.result_async())
                };
                assert_eq!(got, Ok(&"shared"));
            });
        }
        while ready.load(Ordering::SeqCst) < 4 {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(10));
        promise.set_result("shared");
    });
    assert_eq!(block_on(f.exception_async()), None);
    assert_eq!(f.into_result(), Ok("shared"));
}

// An `.await` cancelled while pending (its waker on the future's list)
// leaves the handle usable from threads and tasks alike.
#[test]
fn cancelled_await_leaves_the_future_usable() {
    use std::task::{Context, Waker};
    let p = pool(1);
    let release = gate();
    let r = Arc::clone(&release);
    let mut f = p.submit(move || r.wait_timeout(LONG)).unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending());
    {
        let mut lent = Box::pin(f.result_async());
        assert!(lent.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(
        f.result_timeout(Duration::from_millis(1)),
        Err(FutureError::Timeout)
    );
    release.set();
    assert_eq!(f.result(), Ok(&true));
    assert_eq!(block_on(f), Ok(true));
}

// `wait_async` keeps `wait`'s semantics, and a cancelled one leaves the
// futures usable by a later `wait`.
#[test]
fn wait_async_first_completed_and_cancelled() {
    use std::task::{Context, Waker};
    let p = pool(2);
    let release = gate();
    let r = Arc::clone(&release);
    let slow = p.submit(move || r.wait_timeout(LONG)).unwrap();
    let fast = p.submit(|| true).unwrap();
    let got = block_on(threadkit::futures::wait_async(
        [&slow, &fast],
        ReturnWhen::FirstCompleted,
    ));
    assert!(std::ptr::eq(got.done[0], &fast));
    assert!(std::ptr::eq(got.not_done[0], &slow));
    {
        let mut cancelled = Box::pin(threadkit::futures::wait_async(
            [&slow, &fast],
            ReturnWhen::AllCompleted,
        ));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
    }
    release.set();
    let got = wait([&slow, &fast], Some(LONG), ReturnWhen::AllCompleted);
    assert_eq!((got.done.len(), got.not_done.len()), (2, 0));
    let got = block_on(threadkit::futures::wait_async(
        [slow, fast],
        ReturnWhen::FirstException,
    ));
    assert_eq!((got.done.len(), got.not_done.len()), (2, 0));
}
