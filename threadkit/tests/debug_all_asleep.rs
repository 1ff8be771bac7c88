//! The watchdog's "all threads are asleep" (Go's `checkdead`), and its
//! negatives: a sleeping thread and a pending `Timer` keep it quiet.
//!
//! `harness = false`: the verdict concerns every thread, the main thread
//! included, so the test owns the process.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use threadkit::debug::{Alarm, Watchdog};
use threadkit::threading::{Event, Thread, Timer};

fn main() {
    let start = Instant::now();
    let woke = Arc::new(Event::new());
    let alarm = Arc::new(Mutex::new(None::<(Duration, String)>));
    let watchdog = {
        let (woke, alarm) = (Arc::clone(&woke), Arc::clone(&alarm));
        Watchdog::new()
            .period(Duration::from_millis(20))
            .on_alarm(move |a| {
                if let Alarm::AllAsleep(_) = a {
                    alarm
                        .lock()
                        .unwrap()
                        .get_or_insert((start.elapsed(), a.to_string()));
                    woke.set();
                }
            })
            .start()
    };
    // Alive for 300 ms: a thread asleep in `sleep`, and a pending Timer.
    let sleeper = Thread::builder()
        .name("asleep-sleeper")
        .spawn(|| std::thread::sleep(Duration::from_millis(300)))
        .unwrap();
    let timer = Timer::new(Duration::from_millis(400), || {});
    timer.start().unwrap();
    let go = Arc::new(Event::new());
    let waiter = {
        let go = Arc::clone(&go);
        Thread::builder()
            .name("asleep-waiter")
            .spawn(move || go.wait())
            .unwrap()
    };
    // A fail-safe that threadkit does not know about.
    let failed = Arc::new(AtomicBool::new(false));
    {
        let (woke, failed) = (Arc::clone(&woke), Arc::clone(&failed));
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(20));
            failed.store(true, Ordering::SeqCst);
            woke.set();
        });
    }
    // The main thread now waits without a timeout too.
    woke.wait();
    assert!(
        !failed.load(Ordering::SeqCst),
        "no all-asleep alarm in 20 s"
    );
    let (at, text) = alarm.lock().unwrap().clone().unwrap();
    assert!(
        at >= Duration::from_millis(400),
        "reported while a thread slept or a Timer was pending ({at:?}):\n{text}"
    );
    assert!(text.contains("all threads are asleep"), "{text}");
    assert!(text.contains("\"asleep-waiter\""), "{text}");
    assert!(text.contains("[waiting: Event.wait"), "{text}");
    go.set();
    waiter.join().unwrap();
    sleeper.join().unwrap();
    watchdog.stop();
    println!("debug_all_asleep: ok ({at:?})");
}
