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
