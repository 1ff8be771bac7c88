//! `threadkit::debug` without `debug-locks`: thread dumps, scheduled dumps,
//! JSON round trips. (The watchdog's "all asleep" has its own binary,
//! `debug_all_asleep.rs`, since its verdict concerns every thread.)

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use threadkit::debug::{self, Alarm, WaitKind};
use threadkit::threading::{Event, Thread};

/// Waits (generously) until `ready` holds for a fresh dump.
fn until_dump(mut ready: impl FnMut(&debug::ThreadDump) -> bool) -> debug::ThreadDump {
    let start = Instant::now();
    loop {
        let dump = debug::dump_threads();
        if ready(&dump) {
            return dump;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "dump never matched:\n{dump}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn waiting_on(dump: &debug::ThreadDump, name: &str) -> Option<WaitKind> {
    dump.threads
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| t.waiting.as_ref())
        .map(|w| w.kind)
}

#[test]
fn dump_names_each_wait_and_clears_it_after() {
    let go = Arc::new(Event::new());
    let timed = Arc::new(Event::new());
    let a = {
        let go = Arc::clone(&go);
        Thread::builder()
            .name("dump-event-waiter")
            .spawn(move || go.wait())
            .unwrap()
    };
    let b = {
        let timed = Arc::clone(&timed);
        Thread::builder()
            .name("dump-timed-waiter")
            .spawn(move || {
                timed.wait_timeout(Duration::from_secs(30));
            })
            .unwrap()
    };
    let dump = until_dump(|d| {
        waiting_on(d, "dump-event-waiter").is_some() && waiting_on(d, "dump-timed-waiter").is_some()
    });
    let text = dump.to_string();
    assert!(text.contains("\"dump-event-waiter\""), "{text}");
    assert!(text.contains("[waiting: Event.wait"), "{text}");
    assert!(text.contains("with timeout"), "{text}");
    let timed_state = dump
        .threads
        .iter()
        .find(|t| t.name == "dump-timed-waiter")
        .unwrap();
    assert!(timed_state.waiting.as_ref().unwrap().timed);

    // JSON round trip (feature `serde`, on by default through `process`).
    let json = serde_json::to_string(&dump).unwrap();
    let back: debug::ThreadDump = serde_json::from_str(&json).unwrap();
    assert_eq!(back, dump);

    go.set();
    timed.set();
    a.join().unwrap();
    b.join().unwrap();
    let dump = debug::dump_threads();
    assert_eq!(waiting_on(&dump, "dump-event-waiter"), None);
}

#[test]
fn dump_threads_later_fires_and_stops() {
    let (tx, rx) = mpsc::channel();
    let handle = debug::dump_threads_later(Duration::from_millis(10), true, move |alarm| {
        let _ = tx.send(matches!(alarm, Alarm::Scheduled(_)));
    });
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    handle.stop();
}

/// With `debug-locks`, every `Lock` knows its holder: a real two-lock
/// deadlock is found by `find_deadlocks` and explained by the dump, in the
/// default mode (it also prints the inversion report to stderr).
#[cfg(feature = "debug-locks")]
#[test]
fn lock_deadlock_found_by_find_deadlocks() {
    use threadkit::threading::Lock;
    let lock1 = Arc::new(Lock::new(()));
    let lock2 = Arc::new(Lock::new(()));
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let spawn = |name: &str, first: &Arc<Lock>, second: &Arc<Lock>| {
        let (first, second, barrier) =
            (Arc::clone(first), Arc::clone(second), Arc::clone(&barrier));
        // Daemon threads: they stay deadlocked until the process exits.
        Thread::builder()
            .name(name)
            .daemon(true)
            .spawn(move || {
                let _a = first.acquire();
                barrier.wait();
                let _b = second.acquire();
            })
            .unwrap()
    };
    let _t1 = spawn("plain-deadlocked-1", &lock1, &lock2);
    let _t2 = spawn("plain-deadlocked-2", &lock2, &lock1);
    let start = Instant::now();
    let found = loop {
        let found: Vec<_> = debug::find_deadlocks()
            .into_iter()
            .filter(|d| d.threads.iter().any(|t| t.name == "plain-deadlocked-1"))
            .collect();
        if !found.is_empty() {
            break found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no deadlock found"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let names: Vec<_> = found[0].threads.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["plain-deadlocked-1", "plain-deadlocked-2"]);
    let text = debug::dump_threads().to_string();
    assert!(text.contains("[waiting: Lock.acquire"), "{text}");
    assert!(text.contains("held by \"plain-deadlocked-2\""), "{text}");
}
