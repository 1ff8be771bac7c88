//! Lock-order checking (feature `debug-locks`): the seed's two-lock deadlock
//! caught before it hangs, lockdep's rules, and real deadlocks found while
//! they happen. Run with `cargo test -p threadkit --features debug-locks
//! --test debug_locks`.
#![cfg(feature = "debug-locks")]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use threadkit::debug::{self, Mode, PotentialDeadlock};
use threadkit::threading::{Lock, Thread};

/// The mode is global: the tests of this binary take turns.
fn serial() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Collects the reports made while the returned guard lives.
fn collect() -> Arc<Mutex<Vec<PotentialDeadlock>>> {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    debug::set_mode(Mode::Callback(Arc::new(move |r| {
        sink.lock().unwrap().push(r.clone())
    })));
    reports
}

/// Seed 004's example, run one function after the other: no deadlock can
/// happen, and yet the inversion is reported, once, with both orders.
#[test]
fn seed_deadlock_reported_when_run_sequentially() {
    let _turn = serial();
    let reports = collect();
    let lock1 = Lock::named("lock1", ());
    let lock2 = Lock::named("lock2", ());
    let thread1 = || {
        let _a = lock1.acquire();
        let _b = lock2.acquire();
    };
    let thread2 = || {
        let _b = lock2.acquire();
        let _a = lock1.acquire();
    };
    thread1();
    thread2();
    thread2();
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let text = reports[0].to_string();
    assert!(text.contains("POTENTIAL DEADLOCK"), "{text}");
    assert!(text.contains("is acquiring lock1"), "{text}");
    assert!(text.contains("while holding lock2"), "{text}");
    assert!(text.contains("*** DEADLOCK ***"), "{text}");
    // Five sites, all in this file: where lock1 was created, and both
    // acquires of both orders.
    assert_eq!(text.matches("debug_locks.rs:").count(), 5, "{text}");
}

/// The same example on two threads at once, in panic mode: the second
/// nested acquire panics before it blocks, so the test cannot hang.
#[test]
fn seed_deadlock_stopped_before_blocking_in_panic_mode() {
    let _turn = serial();
    debug::set_mode(Mode::Panic);
    let lock1 = Arc::new(Lock::named("p_lock1", ()));
    let lock2 = Arc::new(Lock::named("p_lock2", ()));
    let start = Instant::now();
    let spawn = |first: &Arc<Lock>, second: &Arc<Lock>| {
        let (first, second) = (Arc::clone(first), Arc::clone(second));
        std::thread::spawn(move || {
            let _a = first.acquire();
            std::thread::sleep(Duration::from_millis(100));
            let _b = second.acquire();
        })
    };
    let t1 = spawn(&lock1, &lock2);
    let t2 = spawn(&lock2, &lock1);
    let results = [t1.join(), t2.join()];
    debug::set_mode(Mode::Report);
    // Causal: one thread was stopped before it blocked, which let the
    // other finish (both joins returned). The clock is only a hang guard.
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert!(start.elapsed() < Duration::from_secs(10), "hang guard");
}

/// lockdep's rules: a try-acquire adds no edge into the lock; re-taking
/// locks in one consistent order, from many threads, reports nothing.
#[test]
fn consistent_orders_and_try_acquires_report_nothing() {
    let _turn = serial();
    let reports = collect();
    let locks: Arc<Vec<Lock>> = Arc::new((0..100).map(|_| Lock::new(())).collect());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let locks = Arc::clone(&locks);
            std::thread::spawn(move || {
                for round in 0..200 {
                    // Any increasing subsequence: one global order.
                    let step = 1 + (t + round) % 7;
                    let held: Vec<_> = locks
                        .iter()
                        .step_by(step)
                        .take(4)
                        .map(|l| l.acquire())
                        .collect();
                    drop(held);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());

    let (a, b) = (Lock::named("try_a", ()), Lock::named("try_b", ()));
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    {
        let _b = b.acquire();
        let _a = a.try_acquire().unwrap();
        // Timed acquires count as tries by default.
        drop(_a);
        let _a = a.acquire_timeout(Duration::from_millis(10)).unwrap();
    }
    assert!(
        reports.lock().unwrap().is_empty(),
        "{:#?}",
        reports.lock().unwrap()
    );
}

/// A real deadlock (its inversion report discarded) is found by
/// `find_deadlocks`, named in the dump with who holds what.
#[test]
fn real_deadlock_found_and_dumped() {
    let _turn = serial();
    let _reports = collect();
    let lock1 = Arc::new(Lock::named("d_lock1", ()));
    let lock2 = Arc::new(Lock::named("d_lock2", ()));
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
    let _t1 = spawn("deadlocked-1", &lock1, &lock2);
    let _t2 = spawn("deadlocked-2", &lock2, &lock1);
    let start = Instant::now();
    let found = loop {
        // Only this test's threads (another test leaves its own deadlock).
        let found: Vec<_> = debug::find_deadlocks()
            .into_iter()
            .filter(|d| d.threads.iter().any(|t| t.name.starts_with("deadlocked-")))
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
    debug::set_mode(Mode::Report);
    assert_eq!(found.len(), 1);
    let names: Vec<_> = found[0].threads.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["deadlocked-1", "deadlocked-2"]);
    let dump = debug::dump_threads();
    let text = dump.to_string();
    assert!(text.contains("[waiting: Lock.acquire d_lock2"), "{text}");
    assert!(text.contains("held by \"deadlocked-2\""), "{text}");
    assert!(text.contains("holding d_lock1, acquired at"), "{text}");
    assert!(
        text.contains("Found ") && text.contains(" deadlock"),
        "{text}"
    );
}

/// RLock re-entry adds nothing; a real RLock/Lock inversion is reported.
#[test]
fn rlock_reentry_is_no_order_but_inversions_are() {
    use threadkit::threading::RLock;
    let _turn = serial();
    let reports = collect();
    let r = RLock::named("re_r", ());
    let l = Lock::named("re_l", ());
    {
        let _r1 = r.acquire();
        let _l = l.acquire();
        let _r2 = r.acquire(); // re-entry while holding l: no edge l -> r
    }
    assert!(
        reports.lock().unwrap().is_empty(),
        "{:#?}",
        reports.lock().unwrap()
    );
    {
        let _l = l.acquire();
        let _r = r.acquire(); // a real inversion of r -> l
    }
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].attempted.after.name, Some("re_r"));
    assert_eq!(reports[0].attempted.after.kind, "RLock");
}

/// The lock inside a `Condition` takes part in the order like any lock; a
/// `wait` gives it up and takes it back without adding an order.
#[test]
fn condition_lock_is_ordered_and_wait_adds_nothing() {
    use threadkit::threading::Condition;
    let _turn = serial();
    let reports = collect();
    let cond = Condition::named("cv_c", 0);
    let lock = Lock::named("cv_l", ());
    {
        let _l = lock.acquire();
        let mut c = cond.acquire();
        // Re-taking the condition's lock after the wait, while `cv_l` is
        // held, is not a new order.
        assert!(!c.wait_timeout(Duration::from_millis(1)));
    }
    assert!(
        reports.lock().unwrap().is_empty(),
        "{:#?}",
        reports.lock().unwrap()
    );
    {
        let _c = cond.acquire();
        let _l = lock.acquire(); // the inversion of cv_l -> cv_c
    }
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].attempted.after.name, Some("cv_l"));
    assert_eq!(reports[0].attempted.before.kind, "Condition");
}

/// `set_backtraces(true)`: each new order carries a backtrace, shown in
/// the report under the line of that order; orders already seen capture
/// nothing.
#[test]
fn backtraces_of_both_orders_are_in_the_report() {
    let _turn = serial();
    let reports = collect();
    debug::set_backtraces(true);
    let a = Lock::named("bt_a", ());
    let b = Lock::named("bt_b", ());
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    {
        let _b = b.acquire();
        let _a = a.acquire();
    }
    debug::set_backtraces(false);
    let reports = reports.lock().unwrap().clone();
    debug::set_mode(Mode::Report);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let report = &reports[0];
    assert!(report.attempted.backtrace.is_some());
    assert!(report.seen[0].backtrace.is_some());
    let text = report.to_string();
    assert_eq!(
        text.matches("backtrace of that order:").count(),
        2,
        "{text}"
    );
    // The backtrace of the first order passes through this test.
    let first = report.seen[0].backtrace.as_ref().unwrap().to_string();
    assert!(
        first.contains("backtraces_of_both_orders_are_in_the_report"),
        "{first}"
    );
}

/// Without `set_backtraces`, no backtrace is taken.
#[test]
fn no_backtraces_by_default() {
    let _turn = serial();
    let reports = collect();
    debug::set_backtraces(false);
    let a = Lock::named("nobt_a", ());
    let b = Lock::named("nobt_b", ());
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    {
        let _b = b.acquire();
        let _a = a.acquire();
    }
    let reports = reports.lock().unwrap().clone();
    debug::set_mode(Mode::Report);
    assert_eq!(reports.len(), 1);
    assert!(reports[0].attempted.backtrace.is_none());
    assert!(!reports[0].to_string().contains("backtrace"));
}

/// A lock's order hint follows the last order checked for it (taken under
/// one lock, then alone, then under another, each time on the inline path
/// once known): no report for those orders, and an inversion of either is
/// still reported.
#[test]
fn the_order_hint_follows_the_last_order_and_hides_no_inversion() {
    let _turn = serial();
    let reports = collect();
    let a = Lock::named("flip_a", ());
    let b = Lock::named("flip_b", ());
    let c = Lock::named("flip_c", ());
    for _ in 0..3 {
        {
            let _a = a.acquire();
            let _b = b.acquire();
        }
        drop(b.acquire());
        {
            let _c = c.acquire();
            let _b = b.acquire();
        }
    }
    assert!(reports.lock().unwrap().is_empty());
    {
        let _b = b.acquire();
        let _a = a.acquire();
    }
    {
        let _b = b.acquire();
        let _c = c.acquire();
    }
    let reports = reports.lock().unwrap().clone();
    debug::set_mode(Mode::Report);
    let attempted: Vec<_> = reports.iter().map(|r| r.attempted.after.name).collect();
    assert_eq!(attempted, [Some("flip_a"), Some("flip_c")], "{reports:#?}");
}

/// More nested locks than a thread tracks (63): the deeper ones go
/// unchecked, but releasing them in any order leaves the list right, and
/// an inversion among the tracked ones is still reported afterwards. The
/// second round takes every lock by the inline path (orders known).
#[test]
fn nesting_deeper_than_the_held_list_stays_consistent() {
    let _turn = serial();
    let reports = collect();
    let locks: Vec<Lock<()>> = (0..80).map(|_| Lock::new(())).collect();
    for _ in 0..2 {
        let mut guards: Vec<_> = locks.iter().map(|l| l.acquire()).collect();
        // Release from the outermost: the tracked entries leave from the
        // bottom of the list while untracked ones are still held.
        while !guards.is_empty() {
            drop(guards.remove(0));
        }
    }
    assert!(reports.lock().unwrap().is_empty());
    let (x, y) = (Lock::named("deep_x", ()), Lock::named("deep_y", ()));
    {
        let _x = x.acquire();
        let _y = y.acquire();
    }
    {
        let _y = y.acquire();
        let _x = x.acquire();
    }
    let reports = reports.lock().unwrap().clone();
    debug::set_mode(Mode::Report);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].attempted.after.name, Some("deep_x"));
}

/// Holding a lock while waiting for a pool task that needs that lock: a
/// real deadlock through the task, found by `find_deadlocks` with the
/// worker as the holder of the awaited task. Left blocked until the
/// process exits (a daemon thread, a scoped pool whose worker is a plain
/// std thread).
#[test]
fn holding_a_lock_while_waiting_for_a_task_that_needs_it_is_found() {
    let _turn = serial();
    debug::set_mode(Mode::Off);
    let _t = Thread::builder()
        .name("task-lock-holder")
        .daemon(true)
        .spawn(|| {
            let lock = Lock::named("task_lock", ());
            let _held = lock.acquire();
            threadkit::futures::scope(|s| {
                let task = s
                    .submit(|| {
                        let _inner = lock.acquire();
                    })
                    .unwrap();
                let _ = task.result();
            });
        })
        .unwrap();
    let start = Instant::now();
    let found = loop {
        let found: Vec<_> = debug::find_deadlocks()
            .into_iter()
            .filter(|d| d.threads.iter().any(|t| t.name == "task-lock-holder"))
            .collect();
        if !found.is_empty() {
            break found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no deadlock found:\n{}",
            debug::dump_threads()
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    debug::set_mode(Mode::Report);
    let text = found[0].to_string();
    assert!(text.contains("Future.result"), "{text}");
    assert!(text.contains("Lock.acquire task_lock"), "{text}");
}

/// Holding a lock while waiting for a task that takes it (lockdep's
/// `flush_work` rule; design section 5, case 10): the task ran first and
/// took the lock, so this run cannot hang, yet the wait under the lock is
/// reported as an inversion between the lock and the task.
#[test]
fn waiting_under_a_lock_for_a_task_that_took_it_is_reported() {
    let _turn = serial();
    let reports = collect();
    let lock = Arc::new(Lock::named("pseudo_lock", ()));
    let pool = threadkit::futures::ThreadPoolExecutor::new(1).unwrap();
    let task = {
        let lock = Arc::clone(&lock);
        pool.submit(move || {
            let _in_task = lock.acquire();
        })
        .unwrap()
    };
    // Done before the lock is taken here: no deadlock is possible now.
    while !task.done() {
        std::thread::yield_now();
    }
    {
        let _held = lock.acquire();
        assert_eq!(task.result(), Ok(&()));
    }
    debug::set_mode(Mode::Report);
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let text = reports[0].to_string();
    assert!(text.contains("is acquiring task#"), "{text}");
    assert!(text.contains("while holding pseudo_lock"), "{text}");
    assert_eq!(reports[0].seen.len(), 1, "{text}");
    assert_eq!(reports[0].seen[0].after.name, Some("pseudo_lock"));
}

/// The other order: the wait under the lock comes first (with a timeout
/// left to the task, so nothing hangs), then the task's acquire of the lock
/// closes the cycle, reported before it blocks; in panic mode the task
/// fails instead of waiting for a lock its waiter holds.
#[test]
fn a_task_taking_the_lock_its_waiter_holds_is_stopped_in_panic_mode() {
    let _turn = serial();
    debug::set_mode(Mode::Panic);
    let lock = Arc::new(Lock::named("pseudo_lock_2", ()));
    let pool = threadkit::futures::ThreadPoolExecutor::new(1).unwrap();
    let gate = Arc::new(threadkit::threading::Event::new());
    let task = {
        let (lock, gate) = (Arc::clone(&lock), Arc::clone(&gate));
        pool.submit(move || {
            gate.wait();
            let _in_task = lock.acquire();
        })
        .unwrap()
    };
    let start = Instant::now();
    let outcome = {
        let _held = lock.acquire();
        // Recorded: lock before task (checked before the wait starts).
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                gate.set();
            });
            task.result().cloned()
        })
    };
    debug::set_mode(Mode::Report);
    match outcome {
        Err(threadkit::futures::FutureError::Panicked(report)) => {
            let text = report.to_string();
            assert!(text.contains("POTENTIAL DEADLOCK"), "{text}");
            assert!(text.contains("is acquiring pseudo_lock_2"), "{text}");
        }
        other => panic!("the task should have been stopped: {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(10), "hang guard");
}

/// Negatives: waiting under a lock for a task that takes no lock, or a
/// different one, reports nothing; nor does waiting for a task that took
/// the lock when no lock is held.
#[test]
fn waiting_for_tasks_that_do_not_take_the_held_lock_reports_nothing() {
    let _turn = serial();
    let reports = collect();
    let lock = Arc::new(Lock::named("pseudo_neg", ()));
    let other = Arc::new(Lock::named("pseudo_other", ()));
    let pool = threadkit::futures::ThreadPoolExecutor::new(2).unwrap();
    for _ in 0..50 {
        let plain = pool.submit(|| 1 + 1).unwrap();
        let takes_other = {
            let other = Arc::clone(&other);
            pool.submit(move || *other.acquire()).unwrap()
        };
        let takes_lock = {
            let lock = Arc::clone(&lock);
            pool.submit(move || *lock.acquire()).unwrap()
        };
        {
            let _held = lock.acquire();
            assert_eq!(plain.result(), Ok(&2));
            assert_eq!(takes_other.result(), Ok(&()));
        }
        assert_eq!(takes_lock.result(), Ok(&()));
    }
    debug::set_mode(Mode::Report);
    let reports = reports.lock().unwrap().clone();
    assert!(reports.is_empty(), "{reports:#?}");
}

/// A cycle of three locks, each order taken by a different thread (one
/// after the other, so nothing can hang): A → B, B → C, then C → A closes
/// it and is reported, naming the two earlier orders.
#[test]
fn a_three_lock_cycle_over_three_threads_is_reported_at_the_third_order() {
    let _turn = serial();
    let reports = collect();
    let locks = Arc::new([
        Lock::named("tri_a", ()),
        Lock::named("tri_b", ()),
        Lock::named("tri_c", ()),
    ]);
    for (first, second) in [(0, 1), (1, 2), (2, 0)] {
        let locks = Arc::clone(&locks);
        std::thread::spawn(move || {
            let _first = locks[first].acquire();
            let _second = locks[second].acquire();
        })
        .join()
        .unwrap();
    }
    debug::set_mode(Mode::Report);
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let report = &reports[0];
    assert_eq!(report.attempted.before.name, Some("tri_c"));
    assert_eq!(report.attempted.after.name, Some("tri_a"));
    let seen: Vec<_> = report
        .seen
        .iter()
        .map(|o| (o.before.name.unwrap(), o.after.name.unwrap()))
        .collect();
    assert_eq!(seen, [("tri_a", "tri_b"), ("tri_b", "tri_c")]);
}

/// lockdep's trylock rule, second half: a lock taken by a try still gives
/// orders *from* it, so holding A (tried) and then blocking on C records
/// A → C, and a later C → A is reported. A timed acquire is a try, unless
/// `set_timed_acquires_block(true)` (Abseil's rule).
#[test]
fn a_tried_lock_still_orders_the_locks_taken_under_it() {
    let _turn = serial();
    let reports = collect();
    let (a, b, c) = (
        Lock::named("tr_a", ()),
        Lock::named("tr_b", ()),
        Lock::named("tr_c", ()),
    );
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    {
        let _b = b.acquire();
        let _a = a.try_acquire().unwrap(); // no order into A: no report
        let _c = c.acquire(); // A → C (and B → C)
    }
    assert!(reports.lock().unwrap().is_empty());
    {
        let _c = c.acquire();
        let _a = a.acquire(); // closes A → C → A
    }
    let found = reports.lock().unwrap().clone();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].attempted.after.name, Some("tr_a"));
    assert_eq!(found[0].attempted.before.name, Some("tr_c"));

    // Timed: a try by default, blocking when asked.
    let (x, y) = (Lock::named("tm_x", ()), Lock::named("tm_y", ()));
    {
        let _x = x.acquire();
        let _y = y.acquire();
    }
    {
        let _y = y.acquire();
        let _x = x.acquire_timeout(Duration::from_secs(10)).unwrap();
    }
    assert_eq!(reports.lock().unwrap().len(), 1);
    debug::set_timed_acquires_block(true);
    {
        let _y = y.acquire();
        let _x = x.acquire_timeout(Duration::from_secs(10)).unwrap();
    }
    debug::set_timed_acquires_block(false);
    debug::set_mode(Mode::Report);
    let found = reports.lock().unwrap().clone();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[1].attempted.after.name, Some("tm_x"));
}

/// Identity is an id, never an address: locks made again in the same
/// place (same stack slot, same creation site) and taken in the reverse
/// order are new locks, so no report; dropped locks leave the graph, so a
/// thousand of them do not pile up.
#[test]
fn locks_made_again_at_the_same_address_are_new_locks() {
    let _turn = serial();
    let reports = collect();
    for round in 0..1000 {
        let pair = [Lock::new(()), Lock::new(())];
        let (first, second) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        let _first = pair[first].acquire();
        let _second = pair[second].acquire();
    }
    debug::set_mode(Mode::Report);
    let reports = reports.lock().unwrap().clone();
    assert!(reports.is_empty(), "{reports:#?}");
}

/// `std::mem::forget` of a guard is safe Rust: the lock stays in the
/// thread's list of held locks until the lock itself is gone (dropped here
/// on another thread); then the thread's next check or dump removes it.
/// Taking other locks in both orders, a thread dump read from another
/// thread and an order report must read only memory that is alive: the
/// entry never points into the lock. Run under Miri too by `ci/miri.sh`
/// (isolation off: a dump reads the wall clock).
#[test]
fn a_forgotten_guard_of_a_dropped_lock_is_still_named_safely() {
    let _turn = serial();
    let reports = collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            let a = Arc::new(Lock::named("uaf_a", ()));
            std::mem::forget(a.acquire());
            // The last reference goes on another thread.
            let elsewhere = Arc::clone(&a);
            drop(a);
            std::thread::spawn(move || drop(elsewhere)).join().unwrap();
            let b = Lock::named("uaf_b", ());
            let c = Lock::named("uaf_c", ());
            for _ in 0..2 {
                let _b = b.acquire();
                let _c = c.acquire();
            }
            {
                let _c = c.acquire();
                let _b = b.acquire();
            }
            // Blocks on `d` (held by the other thread) while the forgotten
            // entry and `b` are in this thread's list: the wait record
            // copies them, and the other thread dumps it.
            let d = Arc::new(Lock::named("uaf_d", ()));
            let (taken_tx, taken_rx) = std::sync::mpsc::channel();
            let holder = {
                let d = Arc::clone(&d);
                std::thread::Builder::new()
                    .name("uaf-holder".into())
                    .spawn(move || {
                        let _d = d.acquire();
                        taken_tx.send(()).unwrap();
                        let start = Instant::now();
                        loop {
                            let text = debug::dump_threads().to_string();
                            if text.contains("[waiting: Lock.acquire uaf_d") {
                                return text;
                            }
                            assert!(start.elapsed() < Duration::from_secs(10), "{text}");
                            std::thread::yield_now();
                        }
                    })
                    .unwrap()
            };
            let _b = b.acquire();
            taken_rx.recv().unwrap();
            drop(d.acquire());
            let text = holder.join().unwrap();
            // The dropped lock is no longer listed as held.
            assert!(!text.contains("uaf_a"), "{text}");
            assert!(text.contains("holding uaf_b, acquired at"), "{text}");
        });
    });
    debug::set_mode(Mode::Report);
    let reports = reports.lock().unwrap().clone();
    let mine: Vec<_> = reports
        .iter()
        .filter(|r| r.attempted.after.name == Some("uaf_b"))
        .collect();
    assert_eq!(mine.len(), 1, "{reports:#?}");
    let text = mine[0].to_string();
    assert!(text.contains("while holding uaf_c"), "{text}");
}
