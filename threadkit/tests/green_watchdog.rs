//! The blocked-hub watchdog (feature `green`): a green thread that does not
//! yield (a `std::sync::Mutex` held across a threadkit wait by another green
//! thread of its carrier, a busy loop) is reported once, naming it, its
//! spawn site and last wait site, and again when its hub goes on; a hub
//! whose green threads switch normally is not reported.
//!
//! Provenance: gevent's monitor thread (`gevent/_monitor.py`,
//! `GEVENT_MAX_BLOCKING_TIME`) and its test `src/gevent/tests/test__monitor.py`
//! (a greenlet that blocks the hub longer than `max_blocking_time` is
//! reported; a hub that keeps switching is not).

use std::panic::Location;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use threadkit::green::{self, BlockedReport};
use threadkit::sleep;

const MAX: Duration = Duration::from_millis(100);

/// Every report, from every test of this binary (each test filters by its
/// own carrier).
fn reports() -> &'static Mutex<Vec<BlockedReport>> {
    static REPORTS: Mutex<Vec<BlockedReport>> = Mutex::new(Vec::new());
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        green::set_max_blocking(Some(MAX));
        green::set_blocked_hook(|r| REPORTS.lock().unwrap().push(r.clone()));
    });
    &REPORTS
}

fn reports_for(carrier: ThreadId) -> Vec<BlockedReport> {
    reports()
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.carrier_id == carrier)
        .cloned()
        .collect()
}

/// Runs `f` on a fresh carrier and returns its value and the carrier's id,
/// once the watchdog had time to report the end of any stall; fails if it
/// takes 30 s (10x and more above the expected time).
fn on_carrier<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> (T, ThreadId) {
    reports();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let got = f();
        let _ = tx.send((got, std::thread::current().id()));
    });
    let got = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("hang guard: the carrier never finished");
    // The watchdog samples every MAX / 4: give it a few rounds.
    std::thread::sleep(MAX * 2);
    got
}

/// Blocks the carrier without yielding for `d`.
fn busy(d: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
}

#[test]
fn a_busy_loop_is_reported_once_then_resumed() {
    let ((spawned_at, waited_at), carrier) = on_carrier(|| {
        green::run(|| {
            let sleepers: Vec<_> = (0..3)
                .map(|_| green::spawn(|| sleep(Duration::from_millis(20))))
                .collect();
            let (tx, rx) = mpsc::channel();
            let spawned_at = Location::caller();
            let g = green::Builder::new()
                .name("spinner")
                .spawn(move || {
                    let waited_at = Location::caller();
                    green::yield_now();
                    tx.send(waited_at).unwrap();
                    busy(MAX * 6);
                })
                .unwrap();
            g.join();
            green::joinall(&sleepers);
            (spawned_at, rx.recv().unwrap())
        })
        .unwrap()
    });
    let got = reports_for(carrier);
    assert_eq!(got.len(), 2, "one stall, one resume: {got:#?}");
    let (stall, resumed) = (&got[0], &got[1]);
    assert!(!stall.resumed && resumed.resumed);
    for r in [stall, resumed] {
        assert_eq!(r.green_name.as_deref(), Some("spinner"));
        assert_eq!(r.spawned_at.file(), file!());
        // The `.spawn(` a few lines below `Location::caller()` there.
        assert!((spawned_at.line() + 1..=spawned_at.line() + 3).contains(&r.spawned_at.line()));
        let last = r.last_wait.expect("it waited in yield_now");
        assert_eq!((last.file(), last.line()), (file!(), waited_at.line() + 1));
        assert_eq!(r.waiting, 4, "the three sleepers and `run`'s green thread");
    }
    assert!(stall.blocked_for >= MAX);
    assert!(resumed.blocked_for >= stall.blocked_for);
    let text = stall.to_string();
    assert!(
        text.contains("'spinner'") && text.contains(file!()),
        "{text}"
    );
}

#[test]
fn a_std_mutex_held_across_a_wait_is_reported() {
    let (gave_up, carrier) = on_carrier(|| {
        green::run(|| {
            let m = Arc::new(Mutex::new(0));
            let holder = {
                let m = Arc::clone(&m);
                green::Builder::new()
                    .name("holder")
                    .spawn(move || {
                        let mut guard = m.lock().unwrap();
                        // A threadkit wait with a std guard held: the
                        // other green thread runs meanwhile.
                        sleep(Duration::from_millis(5));
                        *guard += 1;
                    })
                    .unwrap()
            };
            let blocked = green::Builder::new()
                .name("locker")
                .spawn(move || {
                    // The carrier blocks here: `holder` cannot run to
                    // release the lock. A real `lock()` would block for
                    // good; this one gives up after a while.
                    let start = Instant::now();
                    while start.elapsed() < MAX * 6 {
                        if let Ok(mut guard) = m.try_lock() {
                            *guard += 1;
                            return false;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    true
                })
                .unwrap();
            let gave_up = blocked.get().unwrap();
            holder.join();
            gave_up
        })
        .unwrap()
    });
    assert!(
        gave_up,
        "the holder could not run while the carrier was blocked"
    );
    let got = reports_for(carrier);
    assert_eq!(got.len(), 2, "one stall, one resume: {got:#?}");
    assert!(!got[0].resumed && got[1].resumed);
    assert_eq!(got[0].green_name.as_deref(), Some("locker"));
    assert_eq!(got[0].waiting, 2, "the holder and `run`'s green thread");
}

#[test]
fn a_hub_that_switches_is_not_reported() {
    let ((), carrier) = on_carrier(|| {
        green::run(|| {
            let gs: Vec<_> = (0..4)
                .map(|_| {
                    green::spawn(|| {
                        // Each runs a little at a time, well under MAX,
                        // for 6x MAX in all.
                        let start = Instant::now();
                        while start.elapsed() < MAX * 6 {
                            busy(Duration::from_millis(2));
                            green::yield_now();
                        }
                    })
                })
                .collect();
            green::joinall(&gs);
        })
        .unwrap()
    });
    let got = reports_for(carrier);
    assert!(got.is_empty(), "{got:#?}");
}

#[test]
fn the_limit_can_be_read_back() {
    reports();
    assert_eq!(green::max_blocking(), Some(MAX));
}
