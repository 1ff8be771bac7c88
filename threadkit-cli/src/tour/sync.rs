//! Race conditions and the synchronization primitives that prevent them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use threadkit::debug;

use super::report::{measure_under_load, secs};
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/race_condition.rs"]
mod race_condition;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/rlock.rs"]
mod rlock;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/semaphore.rs"]
mod semaphore;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/bounded_buffer.rs"]
mod bounded_buffer;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/deadlock.rs"]
mod deadlock;

pub(crate) const LESSONS: [Lesson; 5] = [
    Lesson {
        name: "race_condition",
        source: example_source!("race_condition"),
        title: "a race condition loses updates; a Lock fixes it",
        run: race,
    },
    Lesson {
        name: "rlock",
        source: example_source!("rlock"),
        title: "RLock: a lock its owner may take again",
        run: rlock_lesson,
    },
    Lesson {
        name: "semaphore",
        source: example_source!("semaphore"),
        title: "Semaphore limits concurrent access",
        run: semaphore_lesson,
    },
    Lesson {
        name: "bounded_buffer",
        source: example_source!("bounded_buffer"),
        title: "Condition: a bounded producer/consumer buffer",
        run: buffer,
    },
    Lesson {
        name: "deadlock",
        source: example_source!("deadlock"),
        title: "deadlock from lock order, and its fix",
        run: deadlock_lesson,
    },
];

fn race(r: &mut Report) {
    let (threads, per_thread) = (5, 100_000);
    let expected = threads as u64 * per_thread;
    // Updates are lost when two threads run the loop at the same moment, so
    // the claim needs free cores: judged like a speedup.
    let m = measure_under_load(
        3,
        || race_condition::racy_counter(threads, per_thread),
        |&racy| racy < expected,
        |&racy| expected.saturating_sub(racy) as f64,
    );
    let racy = m.best;
    println!("  Final counter value without a lock: {racy}");
    r.check_judged(
        format!("without a lock, {threads} x {per_thread} read-add-write increments lose updates"),
        &m.outcome,
        format!(
            "{racy} of {expected}: {} updates lost (best of {})",
            expected.saturating_sub(racy),
            m.tries
        ),
    );
    let locked = race_condition::locked_counter(threads, per_thread);
    println!("  Final counter value with a Lock: {locked}");
    r.check(
        "with `with lock: counter += 1` the total is always exact",
        locked == expected,
        format!("{locked} of {expected}"),
    );
}

fn rlock_lesson(r: &mut Report) {
    let total = rlock::count_twice(4, 10_000);
    r.check(
        "increment_twice() re-acquires the RLock it holds; 4 threads x 10000 x 2 count exactly",
        total == 80_000,
        format!("{total} of 80000"),
    );
    let patience = Duration::from_millis(200);
    let got_in = rlock::plain_lock_nested(patience);
    r.check(
        "the same nesting on a plain Lock would deadlock (shown with a timeout)",
        !got_in,
        format!(
            "nested acquire on a plain Lock gave up after {}",
            secs(patience)
        ),
    );
}

fn semaphore_lesson(r: &mut Report) {
    let hold = Duration::from_millis(300);
    let (most, took) = semaphore::limited_access(5, 2, hold);
    r.check(
        "Semaphore(2): never more than 2 of 5 workers inside, so 3 rounds of work",
        most == 2 && took >= hold * 3 - hold / 10,
        format!(
            "at most {most} inside; {} for rounds of {}",
            secs(took),
            secs(hold)
        ),
    );
}

fn buffer(r: &mut Report) {
    let (received, peak) = bounded_buffer::produce_consume(3, 10, Duration::from_millis(100));
    r.check(
        "Buffer(3): the consumer gets all 10 items in order; the buffer never holds more than 3",
        received == (0..10).collect::<Vec<_>>() && peak <= 3,
        format!("received {received:?}, peak fill {peak}"),
    );
}

fn deadlock_lesson(r: &mut Report) {
    let patience = Duration::from_millis(500);
    // Lock-order checking (threadkit's `debug-locks`, on in this tour):
    // collect its reports, and count the lesson's timed acquires as
    // blocking ones, since it uses timeouts only so as not to hang.
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    debug::set_mode(debug::Mode::Callback(Arc::new(move |report| {
        sink.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report.to_string())
    })));
    debug::set_timed_acquires_block(true);
    let opposite = deadlock::two_threads(false, patience);
    debug::set_timed_acquires_block(false);
    debug::set_mode(debug::Mode::Report);
    let reports = std::mem::take(&mut *reports.lock().unwrap_or_else(|e| e.into_inner()));
    // The deadlock needs both threads to take their first lock before
    // either takes its second: the tutorial's sleep(0.1) arranges it.
    r.check_timed(
        "opposite lock order: each thread holds one lock and waits for the other forever",
        true,
        opposite.got_both == (false, false),
        format!(
            "got both locks: {:?} (gave up after {})",
            opposite.got_both,
            secs(patience)
        ),
    );
    let named = opposite.deadlock.as_ref().is_some_and(|d| {
        let text = d.to_string();
        text.contains("\"thread 1\" waits for Lock.acquire")
            && text.contains("held by \"thread 2\"")
            && text.contains("held by \"thread 1\"")
    });
    for report in &reports {
        println!("{report}");
    }
    r.check(
        "the lock-order checker reported the inversion before either thread blocked",
        reports.len() == 1
            && reports[0].contains("POTENTIAL DEADLOCK")
            && reports[0].contains("lock1")
            && reports[0].contains("lock2"),
        format!("{} report(s)", reports.len()),
    );
    r.check(
        "while they are stuck, threadkit::debug::find_deadlocks() names both threads and who holds what",
        named,
        opposite
            .deadlock
            .as_ref()
            .map_or("no deadlock found".to_string(), |d| d.to_string()),
    );
    let same = deadlock::two_threads(true, patience);
    r.check(
        "same lock order: both threads get both locks",
        same.got_both == (true, true),
        format!("got both locks: {:?}", same.got_both),
    );
}
