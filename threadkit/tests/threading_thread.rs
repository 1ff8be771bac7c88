//! Tests of `Thread`, the thread registry, hooks, `Local` and `Timer` beyond
//! the CPython ports in `cpython_test_threading.rs`.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::Rng;
use threadkit::threading::{
    self, Builder, Event, ExceptHookArgs, Local, Thread, ThreadError, ThreadHandle, Timer,
    current_thread, enumerate, get_ident,
};

const LONG: Duration = Duration::from_secs(30);

/// Serializes the tests that replace process-wide hooks.
fn hook_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn quiet_excepthook() {
    threading::set_excepthook(|_| {});
}

#[test]
fn public_types_are_send_and_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Thread<u32>>();
    is_send_sync::<Thread<Vec<String>>>();
    is_send_sync::<ThreadHandle>();
    is_send_sync::<Builder>();
    is_send_sync::<Timer>();
    is_send_sync::<Local<Cell<u32>>>();
    is_send_sync::<ThreadError>();
    is_send_sync::<ExceptHookArgs<'static>>();
}

#[test]
fn panic_is_captured_with_its_message() {
    let _g = hook_lock();
    quiet_excepthook();
    let t = Thread::spawn(|| -> u32 { panic!("answer is {}", 42) }).unwrap();
    let err = t.join().unwrap_err();
    assert_eq!(err, ThreadError::Panicked("answer is 42".into()));
    assert_eq!(err.panic_message(), Some("answer is 42"));
    assert_eq!(err.to_string(), "thread panicked: answer is 42");
    // Every join reports it, and so does into_result.
    assert_eq!(t.join(), Err(err.clone()));
    assert_eq!(t.into_result(), Err(err));
    // A payload that is not a string.
    let t = Thread::spawn(|| std::panic::panic_any(7u8)).unwrap();
    assert_eq!(t.join(), Err(ThreadError::Panicked("Box<dyn Any>".into())));
    threading::reset_excepthook();
}

#[test]
fn result_is_available_after_join() {
    let t = Thread::spawn(|| vec![1, 2, 3]).unwrap();
    t.join().unwrap();
    assert!(!t.is_alive());
    assert_eq!(t.into_result(), Ok(vec![1, 2, 3]));
}

#[test]
fn join_timeout_on_sleeping_thread() {
    // The thread blocks until `release` is set, after the timed-out joins.
    let release = Arc::new(Event::new());
    let r = Arc::clone(&release);
    let t = Thread::spawn(move || assert!(r.wait_timeout(LONG))).unwrap();
    let begun = Instant::now();
    assert_eq!(t.join_timeout(Duration::from_millis(20)), Ok(false));
    assert!(begun.elapsed() >= Duration::from_millis(20));
    assert!(t.is_alive());
    assert_eq!(t.join_deadline(Instant::now()), Ok(false));
    release.set();
    assert_eq!(t.join_timeout(LONG), Ok(true));
    assert!(!t.is_alive());
    // Once finished, a zero timeout reports it at once.
    assert_eq!(t.join_timeout(Duration::ZERO), Ok(true));
}

#[test]
fn start_and_exit_hooks_run_on_the_thread() {
    let _g = hook_lock();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (l1, l2) = (log.clone(), log.clone());
    threading::set_start_hook(move |t| {
        if t.name() == "hooked" {
            assert_eq!(current_thread(), *t);
            l1.lock().unwrap().push("start");
        }
    });
    threading::set_exit_hook(move |t| {
        if t.name() == "hooked" {
            assert!(t.is_alive());
            l2.lock().unwrap().push("exit");
        }
    });
    let l3 = log.clone();
    let t = Thread::builder()
        .name("hooked")
        .spawn(move || l3.lock().unwrap().push("target"))
        .unwrap();
    t.join().unwrap();
    threading::clear_start_hook();
    threading::clear_exit_hook();
    // The exit hook ran before join returned.
    assert_eq!(*log.lock().unwrap(), ["start", "target", "exit"]);
    // Cleared hooks are not called.
    Thread::builder()
        .name("hooked")
        .spawn(|| ())
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(log.lock().unwrap().len(), 3);
}

#[test]
fn panicking_hooks_break_nothing() {
    let _g = hook_lock();
    threading::set_start_hook(|t| {
        if t.name() == "fragile" {
            panic!("start hook failed");
        }
    });
    threading::set_exit_hook(|t| {
        if t.name() == "fragile" {
            panic!("exit hook failed");
        }
    });
    let t = Thread::builder().name("fragile").spawn(|| 5).unwrap();
    assert_eq!(t.into_result(), Ok(5));
    threading::clear_start_hook();
    threading::clear_exit_hook();
}

#[test]
fn excepthook_args_display_like_python() {
    let _g = hook_lock();
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    threading::set_excepthook(move |args| *sink.lock().unwrap() = args.to_string());
    let t = Thread::builder()
        .name("reporter")
        .spawn(|| panic!("kaput"))
        .unwrap();
    assert!(t.join().is_err());
    threading::reset_excepthook();
    let text = text.lock().unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Exception in thread reporter:"));
    assert!(lines.next().unwrap().starts_with("panicked at "));
    assert_eq!(lines.next(), Some("kaput"));
}

#[test]
fn current_thread_is_the_thread_itself() {
    let t = Thread::builder()
        .name("me")
        .spawn(|| {
            let me = current_thread();
            (me.name().to_owned(), me.ident(), get_ident(), me.is_alive())
        })
        .unwrap();
    let ident = t.ident();
    let (name, my_ident, got, alive) = t.into_result().unwrap();
    assert_eq!(name, "me");
    assert_eq!(my_ident, ident);
    assert_eq!(Some(got), ident);
    assert!(alive);
}

#[test]
fn idents_are_unique() {
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let t = Thread::spawn(get_ident).unwrap();
        let ident = t.ident().unwrap();
        assert_eq!(t.into_result(), Ok(ident));
        assert!(seen.insert(ident), "ident {ident} reused");
    }
}

#[test]
fn default_name_uses_the_enclosing_function() {
    let t = Thread::new(|| ());
    assert!(t.name().starts_with("Thread-"), "{}", t.name());
    assert!(
        t.name()
            .ends_with(" (default_name_uses_the_enclosing_function)"),
        "{}",
        t.name()
    );
}

#[test]
fn names_with_nul_bytes_are_accepted() {
    let t = Thread::builder().name("a\0b").spawn(|| 1).unwrap();
    assert_eq!(t.name(), "a\0b");
    assert_eq!(t.into_result(), Ok(1));
}

#[test]
fn dummy_threads_leave_the_registry_when_they_exit() {
    let dummies: Vec<ThreadHandle> = (0..8)
        .map(|_| std::thread::spawn(current_thread).join().unwrap())
        .collect();
    let live = enumerate();
    for d in &dummies {
        assert!(d.is_dummy());
        assert!(!d.is_alive());
        assert!(!live.contains(d));
    }
}

#[test]
fn stress_two_hundred_threads_with_random_join_timeouts() {
    let _g = hook_lock(); // the panicking ones go to a quiet excepthook
    quiet_excepthook();
    let n = if cfg!(miri) { 10 } else { 200 };
    let mut rng = rand::thread_rng();
    let threads: Vec<Thread<usize>> = (0..n)
        .map(|i| {
            let sleep = Duration::from_micros(rng.gen_range(0..3000));
            Thread::builder()
                .name(format!("stress-{i}"))
                .daemon(i % 2 == 0)
                .spawn(move || {
                    std::thread::sleep(sleep);
                    if i % 17 == 0 {
                        panic!("planned {i}");
                    }
                    i
                })
                .unwrap()
        })
        .collect();
    let deadline = Instant::now() + LONG;
    let mut pending: Vec<usize> = (0..n).collect();
    while !pending.is_empty() {
        assert!(Instant::now() < deadline, "threads did not finish");
        pending.retain(|&i| {
            let timeout = Duration::from_micros(rng.gen_range(0..500));
            match threads[i].join_timeout(timeout) {
                Ok(done) => !done,
                Err(ThreadError::Panicked(msg)) => {
                    assert_eq!(msg, format!("planned {i}"));
                    false
                }
                Err(e) => panic!("unexpected {e}"),
            }
        });
    }
    threading::reset_excepthook();
    let live = enumerate();
    for (i, t) in threads.into_iter().enumerate() {
        assert!(!t.is_alive());
        assert!(!live.contains(&t));
        let r = t.into_result();
        if i % 17 == 0 {
            assert!(r.is_err());
        } else {
            assert_eq!(r, Ok(i));
        }
    }
}

#[test]
fn many_joiners_of_one_thread() {
    let release = Arc::new(Event::new());
    let r = release.clone();
    let target = Arc::new(Thread::spawn(move || r.wait()).unwrap());
    let joined = Arc::new(AtomicUsize::new(0));
    let joiners: Vec<_> = (0..8)
        .map(|_| {
            let (target, joined) = (target.clone(), joined.clone());
            Thread::spawn(move || {
                target.join().unwrap();
                joined.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(joined.load(Ordering::SeqCst), 0);
    release.set();
    for j in joiners {
        j.join().unwrap();
    }
    assert_eq!(joined.load(Ordering::SeqCst), 8);
}

#[test]
fn thread_shared_between_threads_starts_once() {
    let t = Arc::new(Thread::new(|| 3));
    let starters: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || t.start())
        })
        .collect();
    let oks = starters
        .into_iter()
        .map(|s| s.join().unwrap())
        .filter(Result::is_ok)
        .count();
    assert_eq!(oks, 1);
    let t = Arc::try_unwrap(t).unwrap();
    assert_eq!(t.into_result(), Ok(3));
}

#[test]
fn local_try_get_clear_and_into_values() {
    let mut local = Local::new(|| Cell::new(1));
    assert!(local.try_get().is_none());
    local.get().set(2);
    assert_eq!(local.try_get().map(Cell::get), Some(2));
    local.clear();
    assert!(local.try_get().is_none());
    assert_eq!(local.get().get(), 1);
    let local = Arc::new(local);
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let l = local.clone();
            Thread::spawn(move || l.get().set(10 + i)).unwrap()
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let local = Arc::try_unwrap(local).unwrap();
    let mut values: Vec<i32> = local
        .into_values()
        .into_iter()
        .map(Cell::into_inner)
        .collect();
    values.sort_unstable();
    assert_eq!(values, [1, 10, 11, 12]);
    let d: Local<u8> = Local::default();
    assert_eq!(*d.get(), 0);
    assert!(format!("{d:?}").starts_with("Local"));
}

#[test]
fn timer_fires_after_its_interval() {
    let fired_at = Arc::new(Mutex::new(None));
    let f = fired_at.clone();
    let t = Timer::with_builder(
        Thread::builder().name("timer"),
        Duration::from_millis(50),
        move || *f.lock().unwrap() = Some(Instant::now()),
    );
    assert_eq!(t.name(), "timer");
    assert_eq!(t.interval(), Duration::from_millis(50));
    let begun = Instant::now();
    t.start().unwrap();
    assert_eq!(t.join_timeout(LONG), Ok(true));
    let at = fired_at.lock().unwrap().expect("timer fired");
    assert!(at.duration_since(begun) >= Duration::from_millis(50));
    // Cancelling afterwards changes nothing.
    t.cancel();
}

#[test]
fn timer_cancelled_before_start_never_fires() {
    let t = Timer::new(Duration::from_millis(1), || panic!("must not fire"));
    t.cancel();
    t.start().unwrap();
    assert_eq!(t.join(), Ok(()));
}

#[test]
fn error_messages_are_pythonic() {
    assert_eq!(
        ThreadError::AlreadyStarted.to_string(),
        "threads can only be started once"
    );
    assert_eq!(
        ThreadError::NotStarted.to_string(),
        "cannot join thread before it is started"
    );
    assert_eq!(
        ThreadError::JoinCurrent.to_string(),
        "cannot join current thread"
    );
    assert_eq!(ThreadError::NotStarted.panic_message(), None);
}
