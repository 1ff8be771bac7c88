//! Python names of `threading` that a port reaches for: `TIMEOUT_MAX`,
//! `get_native_id` and the excepthook's arguments.
//!
//! Provenance: the behaviours (not the code) come from CPython 3.11's
//! `Lib/test/lock_tests.py` (`BaseLockTests.test_timeout`: "TIMEOUT_MAX is
//! ok") and `Lib/test/test_threading.py` (`ExceptHookTests.test_custom_excepthook`,
//! `ThreadTests.test_various_ops`' native ids). CPython is Copyright (c)
//! 2001-2023 Python Software Foundation and distributed under the PSF License
//! Agreement; each test names the CPython test it ports.

use std::sync::{Arc, Mutex};

use threadkit::threading::{
    Event, Lock, Semaphore, TIMEOUT_MAX, Thread, get_native_id, reset_excepthook, set_excepthook,
};

/// lock_tests.BaseLockTests.test_timeout: `acquire(timeout=TIMEOUT_MAX)` is
/// accepted, and returns at once when the lock is free.
#[test]
fn timeout_max_is_accepted_everywhere() {
    let lock = Lock::new(());
    assert!(lock.acquire_timeout(TIMEOUT_MAX).is_some());
    let ev = Event::new();
    ev.set();
    assert!(ev.wait_timeout(TIMEOUT_MAX));
    let sem = Semaphore::new(1);
    assert!(sem.acquire_timeout(TIMEOUT_MAX).is_some());
}

/// test_threading.ThreadTests.test_various_ops: each thread has its own
/// native id, and it is the one `get_native_id` gives on that thread.
#[test]
fn native_ids_differ_between_threads_and_match_the_handle() {
    let main = get_native_id();
    let t = Thread::new(get_native_id);
    t.start().unwrap();
    let native = t.native_id();
    let inside = t.into_result().unwrap();
    assert_ne!(inside, main);
    assert_eq!(native, Some(inside));
}

/// test_threading.ExceptHookTests.test_custom_excepthook: the hook gets
/// `exc_type`, `exc_value`, `exc_traceback` and `thread`.
#[test]
fn custom_excepthook_gets_pythons_four_arguments() {
    let seen = Arc::new(Mutex::new(None));
    let sink = Arc::clone(&seen);
    set_excepthook(move |args| {
        *sink.lock().unwrap() = Some((
            args.exc_type(),
            args.exc_value().to_owned(),
            args.exc_traceback(),
            args.thread().name().to_owned(),
        ));
    });
    let t = Thread::builder()
        .name("run-fail")
        .spawn(|| panic!("run failed"))
        .unwrap();
    assert!(t.join().is_err());
    reset_excepthook();
    let (kind, value, traceback, name) = seen.lock().unwrap().take().expect("hook ran");
    assert_eq!(kind, "panic");
    assert_eq!(value, "run failed");
    assert_eq!(name, "run-fail");
    let traceback = traceback.expect("the location is known");
    assert!(
        traceback.contains(file!()),
        "the traceback names this file: {traceback}"
    );
}
