//! Behaviours of CPython's thread tests, ported to threadkit.
//!
//! Provenance: the behaviours (not the code) come from CPython 3.11's
//! `Lib/test/test_threading.py` (classes `ThreadTests`,
//! `ThreadingExceptionTests`, `ExceptHookTests`, `TimerTests`) and
//! `Lib/test/test_threading_local.py` (`BaseLocalTest`). CPython is
//! Copyright (c) 2001-2023 Python Software Foundation and distributed under the
//! PSF License Agreement; each test names the CPython test it ports. Where
//! Python raises `RuntimeError`, threadkit returns a `ThreadError`.
//!
//! `ThreadTests.test_join_nondaemon_on_shutdown` and
//! `ThreadJoinOnShutdown.test_1_join_on_shutdown` are ported in
//! `tests/daemon_exit.rs`, which needs a process of its own.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use threadkit::threading::{
    self, Event, Local, Thread, ThreadError, ThreadHandle, Timer, active_count, current_thread,
    enumerate, get_ident, get_native_id, main_thread,
};

/// Generous bound for anything that should happen "soon" (a hang guard).
const LONG: Duration = Duration::from_secs(30);

/// Serializes the tests that replace the process-wide excepthook.
fn hook_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn func() {}

// ThreadTests.test_name
#[test]
fn test_name() {
    let t = Thread::builder().name("myname1").build(|| ());
    assert_eq!(t.name(), "myname1");
    // The target's name is ignored if a name is given.
    let t = Thread::builder().name("myname2").build(func);
    assert_eq!(t.name(), "myname2");
    // Default names are `Thread-N (target)`, N counting up.
    let a = Thread::new(func);
    let b = Thread::new(func);
    let number = |t: &Thread| -> u64 {
        let rest = t.name().strip_prefix("Thread-").expect("Thread-N");
        rest.split(' ').next().unwrap().parse().unwrap()
    };
    assert!(a.name().ends_with(" (func)"), "{}", a.name());
    assert!(number(&b) > number(&a));
}

// ThreadTests.test_args_argument: `args=` is a closure capturing its arguments.
#[test]
fn test_args_argument() {
    let cases: Vec<(Vec<i32>, i32)> = vec![(vec![1], 1), (vec![1, 2], 3)];
    for (args, expected) in cases {
        let t = Thread::new(move || args.iter().sum::<i32>());
        t.start().unwrap();
        assert_eq!(t.into_result(), Ok(expected));
    }
    let (s,) = ("str".to_owned(),);
    let t = Thread::spawn(move || s).unwrap();
    assert_eq!(t.into_result().unwrap(), "str");
}

// ThreadTests.test_various_ops: many threads, ident/native_id set at start,
// a semaphore limiting how many run at once, all joined.
#[test]
fn test_various_ops() {
    const NUMTASKS: usize = 10;
    let sema = Arc::new(threading::Semaphore::new(3));
    let running = Arc::new(AtomicUsize::new(0));
    let max_running = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for i in 0..NUMTASKS {
        let (sema, running, max_running) = (sema.clone(), running.clone(), max_running.clone());
        let t = Thread::builder()
            .name(format!("<thread {i}>"))
            .build(move || {
                let _permit = sema.acquire();
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                max_running.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
            });
        assert_eq!(t.ident(), None);
        assert!(format!("{t:?}").contains("initial"));
        t.start().unwrap();
        assert!(t.ident().is_some());
        assert!(t.native_id().is_some());
        threads.push(t);
    }
    for t in &threads {
        t.join().unwrap();
        assert!(!t.is_alive());
        assert!(format!("{t:?}").contains("stopped"));
    }
    assert!(max_running.load(Ordering::SeqCst) <= 3);
    assert_eq!(running.load(Ordering::SeqCst), 0);
}

// ThreadTests.test_various_ops_small_stack / _large_stack
#[test]
fn test_various_ops_stack_sizes() {
    for size in [256 * 1024, 1 << 20] {
        let t = Thread::builder()
            .stack_size(size)
            .spawn(|| current_thread().is_alive())
            .unwrap();
        assert_eq!(t.into_result(), Ok(true));
    }
}

// ThreadTests.test_ident_of_no_threading_threads: a thread threadkit did not
// start still has an ident, and it is the one get_ident() reports.
#[test]
fn test_ident_of_no_threading_threads() {
    assert!(current_thread().ident().is_some());
    let (ident, from_get) = std::thread::spawn(|| (current_thread().ident(), get_ident()))
        .join()
        .unwrap();
    assert_eq!(ident, Some(from_get));
}

// ThreadTests.test_foreign_thread: a foreign thread calling current_thread()
// gets a dummy record, listed by enumerate() while it lives.
#[test]
fn test_foreign_thread() {
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let foreign = std::thread::spawn(move || {
        let me = current_thread();
        seen_tx.send(me.clone()).unwrap();
        go_rx.recv().unwrap();
        me.name().to_owned()
    });
    let dummy: ThreadHandle = seen_rx.recv().unwrap();
    assert!(dummy.is_dummy());
    assert!(dummy.is_daemon());
    assert!(dummy.is_alive());
    assert!(dummy.name().starts_with("Dummy-"));
    assert!(enumerate().contains(&dummy));
    assert_eq!(dummy.join(), Err(ThreadError::JoinDummy));
    go_tx.send(()).unwrap();
    assert_eq!(foreign.join().unwrap(), dummy.name());
    // Removed once the thread is gone.
    assert!(!dummy.is_alive());
    assert!(!enumerate().contains(&dummy));
}

// ThreadTests.test_enumerate_after_join: a joined thread is never listed.
#[test]
fn test_enumerate_after_join() {
    for _ in 0..100 {
        let t = Thread::spawn(|| ()).unwrap();
        t.join().unwrap();
        assert!(!enumerate().contains(&t));
    }
}

// ThreadTests.test_no_refcycle_through_target: what the target captured is
// released when the thread completes, whether it returned or panicked.
#[test]
fn test_no_refcycle_through_target() {
    let _g = hook_lock();
    threading::set_excepthook(|_| {});
    for should_panic in [false, true] {
        let obj = Arc::new(String::from("cyclic"));
        let weak = Arc::downgrade(&obj);
        let t = Thread::spawn(move || {
            let _keep = obj;
            if should_panic {
                panic!("SystemExit");
            }
        })
        .unwrap();
        let joined = t.join();
        assert_eq!(joined.is_err(), should_panic);
        assert!(weak.upgrade().is_none());
    }
    threading::reset_excepthook();
}

// ThreadTests.test_repr_daemon
#[test]
fn test_repr_daemon() {
    let t = Thread::builder().daemon(true).build(|| ());
    assert!(format!("{t:?}").contains("daemon: true"));
    let t = Thread::builder().daemon(false).build(|| ());
    assert!(format!("{t:?}").contains("daemon: false"));
}

// ThreadTests.test_daemon_param, plus inheritance of the creator's flag.
#[test]
fn test_daemon_param() {
    assert!(!Thread::builder().daemon(false).build(|| ()).is_daemon());
    assert!(Thread::builder().daemon(true).build(|| ()).is_daemon());
    let t = Thread::builder()
        .daemon(true)
        .spawn(|| Thread::new(|| ()).is_daemon())
        .unwrap();
    assert_eq!(t.into_result(), Ok(true));
}

// ThreadTests.test_main_thread
#[test]
fn test_main_thread() {
    let main = main_thread();
    assert_eq!(main.name(), "MainThread");
    assert!(main.is_alive());
    assert!(!main.is_daemon());
    assert!(main.ident().is_some());
    // This test runs on a harness thread, and another thread sees the same
    // main thread, different from itself.
    let t = Thread::spawn(|| (main_thread(), current_thread())).unwrap();
    let (m, cur) = t.into_result().unwrap();
    assert_eq!(m, main);
    assert_ne!(cur, main);
    #[cfg(target_os = "linux")]
    assert_eq!(main.native_id(), Some(u64::from(std::process::id())));
}

// ThreadTests.test_tstate_lock: is_alive() until the target has finished.
#[test]
fn test_tstate_lock() {
    let release = Arc::new(Event::new());
    let r = release.clone();
    let t = Thread::spawn(move || r.wait()).unwrap();
    assert!(t.is_alive());
    assert_eq!(t.join_timeout(Duration::from_millis(10)), Ok(false));
    assert!(t.is_alive());
    release.set();
    assert_eq!(t.join_timeout(LONG), Ok(true));
    assert!(!t.is_alive());
}

// ThreadTests.test_repr_stopped
#[test]
fn test_repr_stopped() {
    let release = Arc::new(Event::new());
    let r = release.clone();
    let t = Thread::spawn(move || r.wait()).unwrap();
    assert!(format!("{t:?}").contains("started"));
    release.set();
    t.join().unwrap();
    assert!(format!("{t:?}").contains("stopped"));
}

// ThreadTests.test_leak_without_join: threads never joined still finish and
// leave the registry.
#[test]
fn test_leak_without_join() {
    let mut idents = Vec::new();
    for _ in 0..20 {
        let t = Thread::spawn(|| ()).unwrap();
        idents.push(t.handle().clone());
    }
    let deadline = Instant::now() + LONG;
    while idents.iter().any(|t| t.is_alive()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let live = enumerate();
    assert!(idents.iter().all(|t| !t.is_alive() && !live.contains(t)));
}

// ThreadTests.test_various_ops (the active_count part) / enumerate: a
// started thread is counted and listed until it finishes.
#[test]
fn test_enumerate_and_active_count() {
    let release = Arc::new(Event::new());
    let r = release.clone();
    let t = Thread::spawn(move || r.wait()).unwrap();
    assert!(enumerate().contains(&t));
    assert!(active_count() >= 2); // main + t
    assert!(enumerate().contains(&main_thread()));
    release.set();
    t.join().unwrap();
    assert!(!enumerate().contains(&t));
}

// ThreadTests.test_various_ops: native ids are set and differ between live
// threads; get_native_id() agrees with the thread's own record.
#[test]
fn test_native_id() {
    let release = Arc::new(Event::new());
    let spawn = || {
        let r = release.clone();
        Thread::spawn(move || {
            r.wait();
            (get_native_id(), current_thread().native_id())
        })
        .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    assert_ne!(a.native_id(), b.native_id());
    release.set();
    let (na, ra) = a.into_result().unwrap();
    assert_eq!(Some(na), ra);
    let (nb, rb) = b.into_result().unwrap();
    assert_eq!(Some(nb), rb);
}

// ThreadingExceptionTests.test_start_thread_again
#[test]
fn test_start_thread_again() {
    let t = Thread::new(|| ());
    t.start().unwrap();
    assert_eq!(t.start(), Err(ThreadError::AlreadyStarted));
    t.join().unwrap();
    assert_eq!(t.start(), Err(ThreadError::AlreadyStarted));
}

// ThreadingExceptionTests.test_joining_current_thread
#[test]
fn test_joining_current_thread() {
    assert_eq!(current_thread().join(), Err(ThreadError::JoinDummy));
    let t = Thread::spawn(|| {
        let me = current_thread();
        (me.join(), me.join_timeout(Duration::from_millis(1)))
    })
    .unwrap();
    assert_eq!(
        t.into_result(),
        Ok((Err(ThreadError::JoinCurrent), Err(ThreadError::JoinCurrent)))
    );
}

// ThreadingExceptionTests.test_joining_inactive_thread
#[test]
fn test_joining_inactive_thread() {
    let t = Thread::new(|| ());
    assert_eq!(t.join(), Err(ThreadError::NotStarted));
    assert_eq!(
        t.join_timeout(Duration::from_millis(1)),
        Err(ThreadError::NotStarted)
    );
    assert_eq!(t.into_result(), Err(ThreadError::NotStarted));
}

// ThreadingExceptionTests.test_print_exception: the default report starts
// with `Exception in thread NAME:` and carries the message.
#[test]
fn test_print_exception() {
    let _g = hook_lock();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    threading::set_excepthook(move |args| sink.lock().unwrap().push(args.to_string()));
    let t = Thread::builder()
        .name("printer")
        .spawn(|| panic!("bad thing"))
        .unwrap();
    assert!(t.join().is_err());
    threading::reset_excepthook();
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].starts_with("Exception in thread printer:\n"));
    assert!(reports[0].contains("cpython_test_threading.rs"));
    assert!(reports[0].contains("bad thing"));
}

// ThreadingExceptionTests.test_bare_raise_in_brand_new_thread: an error in a
// new thread is caught and reported, not propagated.
#[test]
fn test_bare_raise_in_brand_new_thread() {
    let _g = hook_lock();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    threading::set_excepthook(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let t = Thread::spawn(|| -> u8 { std::panic::panic_any(String::from("no active exception")) })
        .unwrap();
    assert_eq!(
        t.into_result(),
        Err(ThreadError::Panicked("no active exception".into()))
    );
    threading::reset_excepthook();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

// ExceptHookTests.test_excepthook / test_custom_excepthook: the hook gets the
// failing thread and the message, on that thread.
#[test]
fn test_custom_excepthook() {
    let _g = hook_lock();
    let seen = Arc::new(Mutex::new(None));
    let sink = seen.clone();
    threading::set_excepthook(move |args| {
        *sink.lock().unwrap() = Some((
            args.thread().clone(),
            args.message().to_owned(),
            current_thread() == *args.thread(),
            args.location().is_some(),
        ));
    });
    let t = Thread::spawn(|| panic!("bug")).unwrap();
    let _ = t.join();
    threading::reset_excepthook();
    let (thread, message, on_thread, located) = seen.lock().unwrap().take().unwrap();
    assert_eq!(thread, *t);
    assert_eq!(message, "bug");
    assert!(on_thread);
    assert!(located);
}

// ExceptHookTests.test_custom_excepthook_fail: a failing excepthook does not
// break the thread; join still reports the original error.
#[test]
fn test_custom_excepthook_fail() {
    let _g = hook_lock();
    threading::set_excepthook(|_| panic!("threading_hook failed"));
    let t = Thread::spawn(|| panic!("original")).unwrap();
    assert_eq!(t.join(), Err(ThreadError::Panicked("original".into())));
    assert!(!t.is_alive());
    threading::reset_excepthook();
}

// ExceptHookTests.test_original_excepthook: restoring the original hook.
#[test]
fn test_original_excepthook() {
    let _g = hook_lock();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    threading::set_excepthook(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    threading::reset_excepthook();
    let t = Thread::spawn(|| panic!("to the default hook")).unwrap();
    assert!(t.join().is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

// TimerTests.test_init_immutable_default_args: each timer has its own
// arguments; calling one does not affect another.
#[test]
fn test_timer_init_immutable_default_args() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let make = |arg: Vec<i32>| {
        let log = log.clone();
        Timer::new(Duration::from_millis(1), move || {
            log.lock().unwrap().push(arg)
        })
    };
    let t1 = make(vec![]);
    t1.start().unwrap();
    t1.join().unwrap();
    let t2 = make(vec![1]);
    t2.start().unwrap();
    t2.join().unwrap();
    assert_eq!(*log.lock().unwrap(), vec![vec![], vec![1]]);
}

// TimerTests (lock_tests-style): a cancelled timer never fires; a timer is a
// thread that can be joined.
#[test]
fn test_timer_cancel() {
    let fired = Arc::new(AtomicUsize::new(0));
    let f = fired.clone();
    let t = Timer::new(Duration::from_secs(60), move || {
        f.fetch_add(1, Ordering::SeqCst);
    });
    t.start().unwrap();
    assert!(t.is_alive());
    t.cancel();
    assert_eq!(t.join_timeout(LONG), Ok(true));
    assert!(!t.is_alive());
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    assert_eq!(t.start(), Err(ThreadError::AlreadyStarted));
}

// test_threading_local.BaseLocalTest.test_local_refs: each thread's value is
// its own, and dropping the local releases every value.
#[test]
fn test_local_refs() {
    let marker = Arc::new(());
    let m = marker.clone();
    let local = Arc::new(Local::new(move || (Arc::clone(&m), Cell::new(0))));
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let local = local.clone();
            Thread::spawn(move || {
                local.get().1.set(i);
                std::thread::sleep(Duration::from_millis(1));
                local.get().1.get()
            })
            .unwrap()
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        assert_eq!(t.into_result(), Ok(i as i32));
    }
    assert_eq!(local.get().1.get(), 0);
    drop(local);
    assert_eq!(Arc::strong_count(&marker), 1);
}

// test_threading_local.BaseLocalTest.test_derived: the per-thread value is
// initialised once on each thread, and threads never see each other's value.
#[test]
fn test_local_derived() {
    let inits = Arc::new(AtomicUsize::new(0));
    let i = inits.clone();
    let local = Arc::new(Local::new(move || {
        i.fetch_add(1, Ordering::SeqCst);
        RefCell::new(None::<usize>)
    }));
    let threads: Vec<_> = (0..10)
        .map(|n| {
            let local = local.clone();
            Thread::spawn(move || {
                assert_eq!(*local.get().borrow(), None);
                *local.get().borrow_mut() = Some(n);
                std::thread::yield_now();
                local.get().borrow().unwrap()
            })
            .unwrap()
        })
        .collect();
    for (n, t) in threads.into_iter().enumerate() {
        assert_eq!(t.into_result(), Ok(n));
    }
    assert_eq!(inits.load(Ordering::SeqCst), 10);
}

// test_threading_local.BaseLocalTest.test_arguments: the initialiser's
// arguments (captured values) are used on every thread.
#[test]
fn test_local_arguments() {
    let (a, b) = (1, "two");
    let local = Arc::new(Local::new(move || (a, b.to_owned())));
    let l = local.clone();
    let t = Thread::spawn(move || l.get().clone()).unwrap();
    assert_eq!(t.into_result(), Ok((1, "two".to_owned())));
    assert_eq!(local.get(), &(1, "two".to_owned()));
}

// test_threading_local (_local deletion on thread exit, approximated): a new
// thread never sees the value of a thread that has exited.
#[test]
fn test_local_fresh_for_new_threads() {
    let local = Arc::new(Local::new(|| Cell::new(0u32)));
    for _ in 0..50 {
        let l = local.clone();
        let t = Thread::spawn(move || {
            let before = l.get().get();
            l.get().set(99);
            before
        })
        .unwrap();
        assert_eq!(t.into_result(), Ok(0));
    }
    let mut local = Arc::try_unwrap(local).unwrap();
    assert_eq!(local.iter_mut().filter(|c| c.get() == 99).count(), 50);
}
