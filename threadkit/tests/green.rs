//! Green threads (feature `green`): every threadkit wait yields in a green
//! thread, kill and timeouts during waits, and the soundness rules of the
//! `green` module docs, one test each.
//!
//! Each test runs its green threads on one carrier: a wait that blocked the
//! carrier instead of yielding would hang, which the hang guard (10x and
//! more above the expected time) turns into a failure.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use threadkit::futures::Future;
use threadkit::green::{self, GreenletError};
use threadkit::threading::{Barrier, Condition, Event, Lock, RLock, Semaphore, Thread};
use threadkit::{Queue, sleep};

mod common;
use common::guarded;
use common::waits::{WaitCase, every_kind_of_wait};

/// A waiter green thread blocks in `wait`; a second one, on the same
/// carrier, releases it with `release`. Passes only if `wait` yielded.
fn yields<S: Send + Sync + 'static>(
    state: S,
    wait: impl FnOnce(&S) + Send + 'static,
    release: impl FnOnce(&S) + Send + 'static,
) {
    guarded(move || {
        green::run(move || {
            let state = Arc::new(state);
            let done = Arc::new(AtomicBool::new(false));
            let waiter = {
                let (state, done) = (Arc::clone(&state), Arc::clone(&done));
                green::spawn(move || {
                    wait(&state);
                    done.store(true, SeqCst);
                })
            };
            let releaser = {
                let state = Arc::clone(&state);
                green::spawn(move || {
                    green::yield_now(); // the waiter is waiting by now
                    release(&state);
                })
            };
            waiter.get().unwrap();
            releaser.get().unwrap();
            assert!(done.load(SeqCst));
        })
        .unwrap();
    });
}

#[test]
fn spawn_run_and_get() {
    let got = guarded(|| {
        green::run(|| {
            let gs: Vec<_> = (0..100).map(|i| green::spawn(move || i * 2)).collect();
            gs.into_iter().map(|g| g.get().unwrap()).sum::<i32>()
        })
        .unwrap()
    });
    assert_eq!(got, 9900);
}

#[test]
fn spawn_local_takes_rc() {
    let got = guarded(|| {
        green::run(|| {
            let shared = Rc::new(5);
            let g = green::spawn_local({
                let shared = Rc::clone(&shared);
                move || *shared + 1
            });
            g.get().unwrap()
        })
        .unwrap()
    });
    assert_eq!(got, 6);
}

#[test]
fn event_wait_yields() {
    yields(Event::new(), |e| e.wait(), |e| e.set());
}

#[test]
fn lock_acquire_yields() {
    // The releaser takes the lock first and holds it across a yield.
    guarded(|| {
        green::run(|| {
            let lock = Arc::new(Lock::new(0));
            let held = Arc::new(Event::new());
            let holder = {
                let (lock, held) = (Arc::clone(&lock), Arc::clone(&held));
                green::spawn(move || {
                    let mut g = lock.acquire();
                    held.set();
                    sleep(Duration::from_millis(20));
                    *g += 1;
                })
            };
            let waiter = {
                let (lock, held) = (Arc::clone(&lock), Arc::clone(&held));
                green::spawn(move || {
                    held.wait();
                    *lock.acquire() += 10;
                })
            };
            holder.get().unwrap();
            waiter.get().unwrap();
            assert_eq!(*lock.acquire(), 11);
        })
        .unwrap();
    });
}

#[test]
fn rlock_acquire_yields() {
    guarded(|| {
        green::run(|| {
            let lock = Arc::new(RLock::new(0));
            let held = Arc::new(Event::new());
            let holder = {
                let (lock, held) = (Arc::clone(&lock), Arc::clone(&held));
                std::thread::spawn(move || {
                    let _g = lock.acquire();
                    held.set();
                    std::thread::sleep(Duration::from_millis(20));
                })
            };
            // Meanwhile another green thread keeps running: the carrier
            // is not blocked by the contended RLock.
            let ticks = Arc::new(AtomicUsize::new(0));
            let ticker = {
                let ticks = Arc::clone(&ticks);
                green::spawn(move || {
                    for _ in 0..5 {
                        ticks.fetch_add(1, SeqCst);
                        sleep(Duration::from_millis(1));
                    }
                })
            };
            held.wait();
            let waiter = {
                let lock = Arc::clone(&lock);
                green::spawn(move || drop(lock.acquire()))
            };
            waiter.get().unwrap();
            ticker.get().unwrap();
            holder.join().unwrap();
            assert_eq!(ticks.load(SeqCst), 5);
        })
        .unwrap();
    });
}

#[test]
fn condition_wait_yields() {
    yields(
        Condition::new(false),
        |c| {
            let mut g = c.acquire();
            while !*g {
                g.wait();
            }
        },
        |c| {
            let mut g = c.acquire();
            *g = true;
            g.notify_all();
        },
    );
}

#[test]
fn semaphore_acquire_yields() {
    yields(
        Semaphore::new(0),
        |s| drop(s.acquire()),
        |s| s.release(1).unwrap(),
    );
}

#[test]
fn barrier_wait_yields() {
    yields(
        Barrier::new(2),
        |b| {
            b.wait().unwrap();
        },
        |b| {
            b.wait().unwrap();
        },
    );
}

#[test]
fn queue_get_put_join_yield() {
    yields(
        Queue::new(0),
        |q| assert_eq!(q.get().unwrap(), 7),
        |q| q.put(7).unwrap(),
    );
    yields(
        {
            let q = Queue::new(1);
            q.put(1).unwrap();
            q
        },
        |q| q.put(2).unwrap(), // full: waits for the releaser's get
        |q| assert_eq!(q.get().unwrap(), 1),
    );
    yields(
        {
            let q = Queue::new(0);
            q.put(1).unwrap();
            q
        },
        |q| q.join(),
        |q| {
            q.get().unwrap();
            q.task_done().unwrap();
        },
    );
}

#[test]
fn future_result_yields() {
    let (future, promise) = Future::new();
    let promise = std::sync::Mutex::new(Some(promise));
    yields(
        (future, promise),
        |(f, _)| assert_eq!(*f.result().unwrap(), 3),
        |(_, p)| p.lock().unwrap().take().unwrap().set_result(3),
    );
}

#[test]
fn thread_join_yields() {
    guarded(|| {
        green::run(|| {
            let ticks = Arc::new(AtomicUsize::new(0));
            let t = Thread::spawn(|| std::thread::sleep(Duration::from_millis(30))).unwrap();
            let ticker = {
                let ticks = Arc::clone(&ticks);
                green::spawn(move || {
                    for _ in 0..3 {
                        ticks.fetch_add(1, SeqCst);
                        sleep(Duration::from_millis(1));
                    }
                })
            };
            let joiner = green::spawn(move || t.join().unwrap());
            joiner.get().unwrap();
            ticker.get().unwrap();
            assert_eq!(ticks.load(SeqCst), 3);
        })
        .unwrap();
    });
}

#[test]
fn sleep_yields_and_sleepers_overlap() {
    guarded(|| {
        let start = std::time::Instant::now();
        green::run(|| {
            let gs: Vec<_> = (0..1000)
                .map(|_| green::spawn(|| sleep(Duration::from_millis(50))))
                .collect();
            green::joinall(&gs);
        })
        .unwrap();
        // 1000 sleeps of 50 ms overlap: far less than their sum (50 s).
        assert!(start.elapsed() < Duration::from_secs(25));
    });
}

#[test]
fn join_timeout_in_a_green_thread_times_out() {
    guarded(|| {
        green::run(|| {
            let never = Arc::new(Event::new());
            let sleeper = {
                let never = Arc::clone(&never);
                green::spawn(move || never.wait())
            };
            assert!(!sleeper.join_timeout(Duration::from_millis(10)));
            assert!(!sleeper.is_ready());
            never.set();
            assert!(sleeper.join_timeout(Duration::from_secs(30)));
        })
        .unwrap();
    });
}

#[test]
fn killing_a_waiting_green_thread_unwinds_it() {
    guarded(|| {
        green::run(|| {
            let dropped = Arc::new(AtomicBool::new(false));
            struct Flag(Arc<AtomicBool>);
            impl Drop for Flag {
                fn drop(&mut self) {
                    self.0.store(true, SeqCst);
                }
            }
            let never = Arc::new(Event::new());
            let g = {
                let (never, dropped) = (Arc::clone(&never), Arc::clone(&dropped));
                green::spawn(move || {
                    let _flag = Flag(dropped);
                    never.wait();
                })
            };
            green::yield_now();
            g.kill();
            assert!(dropped.load(SeqCst), "killed before its destructors ran");
            assert!(matches!(g.get(), Err(GreenletError::Killed)));
            // An unstarted one never runs.
            let ran = Arc::new(AtomicBool::new(false));
            let unstarted = {
                let ran = Arc::clone(&ran);
                green::spawn(move || ran.store(true, SeqCst))
            };
            unstarted.kill();
            assert!(!ran.load(SeqCst));
            assert!(matches!(unstarted.get(), Err(GreenletError::Killed)));
        })
        .unwrap();
    });
}

#[test]
fn a_killed_green_thread_hands_its_wake_up_on() {
    guarded(|| {
        green::run(|| {
            let q = Arc::new(Queue::new(0));
            let first = {
                let q = Arc::clone(&q);
                green::spawn(move || q.get().unwrap())
            };
            let second = {
                let q = Arc::clone(&q);
                green::spawn(move || q.get().unwrap())
            };
            green::yield_now(); // both wait, `first` in front
            q.put(1).unwrap(); // takes `first` off the line
            first.kill(); // before it ran: the wake-up goes to `second`
            assert!(matches!(first.get(), Err(GreenletError::Killed)));
            assert_eq!(second.get().unwrap(), 1);
        })
        .unwrap();
    });
}

#[test]
fn killall_and_kill_from_another_thread() {
    guarded(|| {
        green::run(|| {
            let never = Arc::new(Event::new());
            let gs: Vec<_> = (0..10)
                .map(|_| {
                    let never = Arc::clone(&never);
                    green::spawn(move || never.wait())
                })
                .collect();
            green::yield_now();
            green::killall(&gs[..5]);
            let rest: Vec<_> = gs.into_iter().skip(5).collect();
            let rest = Arc::new(rest);
            let killer = {
                let rest = Arc::clone(&rest);
                std::thread::spawn(move || green::killall(&rest))
            };
            green::joinall(&rest);
            killer.join().unwrap();
            assert!(rest.iter().all(|g| g.is_ready()));
        })
        .unwrap();
    });
}

// ---- the soundness rules, one test each ----

/// Rule 1: a started green thread never resumes on another OS thread, even
/// when woken from one.
#[test]
fn rule_no_migration_after_start() {
    guarded(|| {
        let carrier = std::thread::current().id();
        green::run(move || {
            let event = Arc::new(Event::new());
            let gs: Vec<_> = (0..20)
                .map(|_| {
                    let event = Arc::clone(&event);
                    green::spawn(move || {
                        let before = std::thread::current().id();
                        event.wait();
                        sleep(Duration::from_millis(1));
                        (before, std::thread::current().id())
                    })
                })
                .collect();
            let setter = {
                let event = Arc::clone(&event);
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(10));
                    event.set();
                })
            };
            for g in gs {
                let (before, after) = g.get().unwrap();
                assert_eq!(before, carrier);
                assert_eq!(after, carrier);
            }
            setter.join().unwrap();
        })
        .unwrap();
    });
}

/// Rule 2: one guard page per stack: a green thread may use most of its
/// stack, and the page below it faults (the overflow test shows the fault
/// is reported for that green thread).
#[test]
fn rule_one_guard_page_per_stack() {
    fn use_stack(bytes: usize) -> u8 {
        let mut buf = [0u8; 4096];
        buf[bytes % 4096] = 1;
        let below = if bytes > 4096 {
            use_stack(bytes - 4096)
        } else {
            0
        };
        std::hint::black_box(&mut buf)[0].wrapping_add(below)
    }
    guarded(|| {
        green::run(|| {
            // Two green threads, each using 40 KiB of its 64 KiB at once,
            // do not disturb each other.
            let gs: Vec<_> = (0..2)
                .map(|_| {
                    green::spawn(|| {
                        let a = use_stack(40 * 1024);
                        green::yield_now();
                        a.wrapping_add(use_stack(40 * 1024))
                    })
                })
                .collect();
            for g in gs {
                g.get().unwrap();
            }
        })
        .unwrap();
    });
}

/// Rule 3: a suspended stack is freed only after it finished or was
/// unwound: what `run` leaves suspended is unwound (its destructors run)
/// before `run` returns.
#[test]
fn rule_suspended_stacks_are_unwound_before_freed() {
    let unwound = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&unwound);
    guarded(move || {
        struct Count(Arc<AtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        green::run(move || {
            let never = Arc::new(Event::new());
            for _ in 0..10 {
                let never = Arc::clone(&never);
                let count = Count(Arc::clone(&unwound));
                green::spawn(move || {
                    let _count = count;
                    never.wait();
                });
            }
            green::yield_now();
        })
        .unwrap();
    });
    assert_eq!(seen.load(SeqCst), 10);
}

/// Rule 4: a panic is caught at the green thread's root: it becomes the
/// green thread's result, and the hub and the others go on.
#[test]
fn rule_panics_are_caught_at_the_root() {
    guarded(|| {
        green::run(|| {
            let bad = green::spawn(|| -> i32 { panic!("boom") });
            let good = green::spawn(|| {
                green::yield_now();
                5
            });
            match bad.get() {
                Err(GreenletError::Panicked(p)) => assert_eq!(p.downcast_ref(), Some(&"boom")),
                other => panic!("expected a panic, got {other:?}"),
            }
            assert_eq!(good.get().unwrap(), 5);
        })
        .unwrap();
    });
}

/// Rule 5: a stack overflow prints the green thread's name and stack size
/// before aborting. Runs in a child process (this test binary, re-run).
#[test]
fn rule_overflow_names_the_green_thread() {
    if std::env::var_os("THREADKIT_GREEN_OVERFLOW_CHILD").is_some() {
        #[allow(unconditional_recursion)]
        fn recurse(n: u64) -> u64 {
            let buf = [n as u8; 512];
            std::hint::black_box(&buf);
            recurse(n + 1).wrapping_add(u64::from(buf[3]))
        }
        let _ = green::run(|| {
            green::Builder::new()
                .name("deep")
                .stack_size(64 * 1024)
                .spawn(|| recurse(0))
                .unwrap()
                .get()
        });
        unreachable!("the overflow should have aborted");
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "rule_overflow_names_the_green_thread",
            "--nocapture",
        ])
        .env("THREADKIT_GREEN_OVERFLOW_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("green thread 'deep'") && stderr.contains("stack of 64 KiB"),
        "stderr: {stderr}"
    );
}

/// A green thread joining the OS thread that carries it would wait for a
/// thread that cannot end first: refused as a self-join, never a hang.
#[test]
fn joining_the_carrier_is_refused() {
    guarded(|| {
        let carrier = Thread::spawn(|| {
            let me = threadkit::threading::current_thread();
            green::run(move || green::spawn(move || me.join()).get().unwrap()).unwrap()
        })
        .unwrap();
        carrier.join().unwrap();
        let outcome = carrier.into_result().unwrap();
        assert_eq!(outcome, Err(threadkit::threading::ThreadError::JoinCurrent));
    });
}

/// An `RLock` is owned by the green thread that took it, not by the
/// carrier: another green thread of the same carrier waits for it.
#[test]
fn rlock_is_owned_by_the_green_thread() {
    guarded(|| {
        green::run(|| {
            let lock = Arc::new(RLock::new(AtomicUsize::new(0)));
            let held = Arc::new(Event::new());
            let owner = {
                let (lock, held) = (Arc::clone(&lock), Arc::clone(&held));
                green::spawn(move || {
                    let g = lock.acquire();
                    let again = lock.acquire(); // re-entry by its owner
                    drop(again);
                    held.set();
                    sleep(Duration::from_millis(20));
                    g.fetch_add(1, SeqCst);
                })
            };
            let other = {
                let (lock, held) = (Arc::clone(&lock), Arc::clone(&held));
                green::spawn(move || {
                    held.wait();
                    assert!(!lock.is_owned());
                    assert!(lock.try_acquire().is_none());
                    lock.acquire().fetch_add(10, SeqCst);
                })
            };
            owner.get().unwrap();
            other.get().unwrap();
            assert_eq!(lock.acquire().load(SeqCst), 11);
        })
        .unwrap();
    });
}

/// Kills a green thread while it waits in `wait`, then checks with `after`
/// that the primitive still works (nothing lost, nothing left behind), and
/// that a second waiter behind the killed one is still served.
fn kill_during<S: Send + Sync + 'static>(state: S, wait: fn(&S), release: fn(&S)) {
    guarded(move || {
        green::run(move || {
            let state = Arc::new(state);
            let killed = {
                let state = Arc::clone(&state);
                green::spawn(move || wait(&state))
            };
            let served = {
                let state = Arc::clone(&state);
                green::spawn(move || wait(&state))
            };
            green::yield_now(); // both wait
            killed.kill();
            assert!(matches!(killed.get(), Err(GreenletError::Killed)));
            release(&state);
            served.get().unwrap();
        })
        .unwrap();
    });
}

#[test]
fn kill_during_every_kind_of_wait() {
    struct Kill;
    impl WaitCase for Kill {
        fn run<S: Send + Sync + 'static>(&mut self, state: S, wait: fn(&S), release: fn(&S)) {
            kill_during(state, wait, release);
        }
    }
    every_kind_of_wait(&mut Kill);
}

#[test]
fn timeouts_during_every_kind_of_wait() {
    guarded(|| {
        green::run(|| {
            let d = Duration::from_millis(5);
            let (ticks, ticker) = {
                let ticks = Arc::new(AtomicUsize::new(0));
                let t = Arc::clone(&ticks);
                let ticker = green::spawn(move || {
                    for _ in 0..5 {
                        t.fetch_add(1, SeqCst);
                        sleep(Duration::from_millis(1));
                    }
                });
                (ticks, ticker)
            };
            let waits = green::spawn(move || {
                assert!(!Event::new().wait_timeout(d));
                assert!(Semaphore::new(0).acquire_timeout(d).is_none());
                assert!(Queue::<u8>::new(0).get_timeout(d).is_err());
                let full = Queue::new(1);
                full.put(1).unwrap();
                assert!(full.put_timeout(2, d).is_err());
                let c = Condition::new(());
                assert!(!c.acquire().wait_timeout(d));
                assert!(Barrier::new(2).wait_timeout(d).is_err());
                let (f, _promise) = Future::<u8>::new();
                assert!(f.result_timeout(d).is_err());
                let lock = Arc::new(Lock::new(()));
                let held = Arc::clone(&lock);
                let holder = green::spawn(move || {
                    let _g = held.acquire();
                    sleep(Duration::from_millis(50));
                });
                green::yield_now();
                assert!(lock.acquire_timeout(d).is_none());
                holder.get().unwrap();
            });
            waits.get().unwrap();
            ticker.get().unwrap();
            assert_eq!(ticks.load(SeqCst), 5);
        })
        .unwrap();
    });
}

/// 10k green threads in queue ping-pong pairs on one carrier.
#[test]
fn stress_ping_pong_pairs() {
    let total = guarded(|| {
        green::run(|| {
            let pairs: Vec<_> = (0..5_000)
                .map(|_| {
                    let (a, b) = (Arc::new(Queue::new(0)), Arc::new(Queue::new(0)));
                    let ping = {
                        let (a, b) = (Arc::clone(&a), Arc::clone(&b));
                        green::spawn(move || {
                            (0..10u64)
                                .map(|i| {
                                    a.put(i).unwrap();
                                    b.get().unwrap()
                                })
                                .sum::<u64>()
                        })
                    };
                    let pong = green::spawn(move || {
                        for _ in 0..10 {
                            b.put(a.get().unwrap() + 1).unwrap();
                        }
                    });
                    (ping, pong)
                })
                .collect();
            pairs
                .into_iter()
                .map(|(ping, pong)| {
                    pong.get().unwrap();
                    ping.get().unwrap()
                })
                .sum::<u64>()
        })
        .unwrap()
    });
    assert_eq!(total, 5_000 * (45 + 10));
}

/// A thread that ends with green threads still suspended, or never started,
/// leaks their stacks (rule 3) and reports them killed: joining them from
/// elsewhere does not hang.
#[test]
fn green_threads_left_by_an_ending_thread_report_killed() {
    let (suspended, unstarted) = guarded(|| {
        std::thread::spawn(|| {
            let never = Arc::new(Event::new());
            let suspended = {
                let never = Arc::clone(&never);
                green::spawn(move || never.wait())
            };
            green::yield_now(); // it starts and waits
            let unstarted = green::spawn(|| ());
            (suspended, unstarted)
        })
        .join()
        .unwrap()
    });
    assert!(matches!(suspended.get(), Err(GreenletError::Killed)));
    assert!(matches!(unstarted.get(), Err(GreenletError::Killed)));
}

/// A root wait nested in a destructor the hub runs (the value of a green
/// thread nobody joins, dropped by the hub as the root waits for `run`'s
/// green thread) keeps the outer wait's wake-up: that green thread ends
/// while the destructor still sleeps, and `run` returns once it is done.
/// (The nested wait used to take the wake-up, and `run` waited forever.)
#[test]
fn a_root_wait_nested_in_a_destructor_keeps_the_outer_wake_up() {
    struct SleepsOnDrop;
    impl Drop for SleepsOnDrop {
        fn drop(&mut self) {
            sleep(Duration::from_millis(100));
        }
    }
    guarded(|| {
        green::run(|| {
            drop(green::spawn(|| SleepsOnDrop));
            sleep(Duration::from_millis(20));
        })
        .unwrap();
    });
}

/// A green thread's value whose destructor waits (here: yields) is dropped
/// outside the hub's bookkeeping, even when nobody kept its handle.
#[test]
fn a_dropped_value_may_use_green_threads() {
    struct YieldsOnDrop;
    impl Drop for YieldsOnDrop {
        fn drop(&mut self) {
            green::yield_now();
            sleep(Duration::from_millis(1));
        }
    }
    guarded(|| {
        green::run(|| {
            for _ in 0..10 {
                drop(green::spawn(|| YieldsOnDrop));
            }
            sleep(Duration::from_millis(20));
        })
        .unwrap();
    });
}

/// Identity is the green thread: inside one, `current_thread()`,
/// `get_ident()` and `Local<T>` see it, not the carrier; the carrier's own
/// code keeps its record.
#[test]
fn identity_is_the_green_thread() {
    use std::cell::Cell;
    use threadkit::threading::{Local, current_thread, get_ident};

    guarded(|| {
        let carrier = get_ident();
        let local = Arc::new(Local::new(|| Cell::new(0u32)));
        local.get().set(100);
        let seen = green::run({
            let local = Arc::clone(&local);
            move || {
                let gs: Vec<_> = (0..3u32)
                    .map(|i| {
                        let local = Arc::clone(&local);
                        green::Builder::new()
                            .name(format!("g{i}"))
                            .spawn(move || {
                                let me = current_thread();
                                assert_eq!(me.ident(), Some(get_ident()));
                                assert!(me.is_alive());
                                assert_eq!(local.get().get(), 0, "a fresh value per green thread");
                                local.get().set(i + 1);
                                sleep(Duration::ZERO); // the others run on this carrier now
                                assert_eq!(local.get().get(), i + 1);
                                assert_eq!(current_thread(), me, "the same record across yields");
                                (get_ident(), me.name().to_owned(), me)
                            })
                            .unwrap()
                    })
                    .collect();
                gs.into_iter().map(|g| g.get().unwrap()).collect::<Vec<_>>()
            }
        })
        .unwrap();
        let mut idents: Vec<u64> = seen.iter().map(|s| s.0).collect();
        idents.push(carrier);
        idents.sort_unstable();
        idents.dedup();
        assert_eq!(idents.len(), 4, "each green thread its own ident: {seen:?}");
        let names: Vec<&str> = seen.iter().map(|s| s.1.as_str()).collect();
        assert_eq!(names, ["g0", "g1", "g2"]);
        assert!(
            seen.iter().all(|s| !s.2.is_alive()),
            "ended with their green thread"
        );
        assert_eq!(get_ident(), carrier);
        assert_eq!(local.get().get(), 100, "the carrier's value is its own");
    });
}

/// Lock-order checking (feature `debug-locks`) keeps one held-lock list per
/// green thread: a lock held by a switched-out green thread is not "held"
/// by the next one on its carrier, so no false order edge is recorded; a
/// real inversion across green threads is still reported.
#[cfg(feature = "debug-locks")]
#[test]
fn lock_order_is_per_green_thread() {
    use std::sync::Mutex;
    use threadkit::debug::{self, Mode, PotentialDeadlock};

    let reports: Arc<Mutex<Vec<PotentialDeadlock>>> = Arc::default();
    let sink = Arc::clone(&reports);
    debug::set_mode(Mode::Callback(Arc::new(move |r| {
        sink.lock().unwrap().push(r.clone())
    })));
    let named = |prefix: &str| {
        let prefix = prefix.to_owned();
        let reports = reports.lock().unwrap();
        reports
            .iter()
            .filter(|r| r.to_string().contains(&prefix))
            .count()
    };
    guarded(|| {
        green::run(|| {
            // g1 holds green_a across a yield while g2 takes green_b: no
            // edge a -> b may come of it.
            let a = Arc::new(Lock::named("green_a", ()));
            let b = Arc::new(Lock::named("green_b", ()));
            let g1 = green::spawn({
                let a = Arc::clone(&a);
                move || {
                    let _a = a.acquire();
                    sleep(Duration::ZERO);
                    sleep(Duration::ZERO);
                }
            });
            let g2 = green::spawn({
                let b = Arc::clone(&b);
                move || {
                    let _b = b.acquire();
                    sleep(Duration::ZERO);
                }
            });
            green::joinall(&[g1, g2]);
            // The one real nesting, b then a: no inversion with a phantom a -> b.
            let g3 = green::spawn(move || {
                let _b = b.acquire();
                let _a = a.acquire();
            });
            g3.get().unwrap();
        })
        .unwrap();
    });
    assert_eq!(named("green_a"), 0, "{:#?}", reports.lock().unwrap());
    guarded(|| {
        green::run(|| {
            // A real inversion, nested in two green threads interleaved by yields.
            let c = Arc::new(Lock::named("green_c", ()));
            let d = Arc::new(Lock::named("green_d", ()));
            let g1 = green::spawn({
                let (c, d) = (Arc::clone(&c), Arc::clone(&d));
                move || {
                    let _c = c.acquire();
                    sleep(Duration::ZERO);
                    let _d = d.acquire();
                }
            });
            g1.get().unwrap();
            let g2 = green::spawn(move || {
                let _d = d.acquire();
                sleep(Duration::ZERO);
                let _c = c.acquire();
            });
            g2.get().unwrap();
        })
        .unwrap();
    });
    assert_eq!(named("green_c"), 1, "{:#?}", reports.lock().unwrap());
    debug::set_mode(Mode::Report);
}

/// A green thread killed in `Condition::wait` takes the lock back before it
/// unwinds on; when another green thread of its carrier holds the lock, it
/// waits for it the green way, so the holder runs and releases it (taking
/// it back by blocking the carrier would hang both).
#[test]
fn killed_in_condition_wait_retakes_the_lock_greenly() {
    guarded(|| {
        green::run(|| {
            let cond = Arc::new(Condition::new(0u32));
            let unwound = Arc::new(AtomicBool::new(false));
            let waiter = green::spawn({
                let (cond, unwound) = (Arc::clone(&cond), Arc::clone(&unwound));
                move || {
                    struct Flag(Arc<AtomicBool>);
                    impl Drop for Flag {
                        fn drop(&mut self) {
                            self.0.store(true, SeqCst);
                        }
                    }
                    let _flag = Flag(unwound);
                    let mut g = cond.acquire();
                    loop {
                        g.wait();
                    }
                }
            });
            sleep(Duration::ZERO); // the waiter waits, the lock released
            let holder = green::spawn({
                let cond = Arc::clone(&cond);
                move || {
                    let mut g = cond.acquire();
                    sleep(Duration::from_millis(20)); // holds it across a yield
                    *g += 1;
                }
            });
            sleep(Duration::from_millis(5)); // the holder has it now
            waiter.kill();
            assert!(matches!(waiter.get(), Err(GreenletError::Killed)));
            assert!(unwound.load(SeqCst));
            holder.get().unwrap();
            assert_eq!(*cond.acquire(), 1, "the lock works on, not left held");
        })
        .unwrap();
    });
}

/// A green thread waiting to acquire a `Condition` held by another green
/// thread of its carrier yields until it is free.
#[test]
fn condition_acquire_yields() {
    guarded(|| {
        green::run(|| {
            let cond = Arc::new(Condition::new(0u32));
            let holder = green::spawn({
                let cond = Arc::clone(&cond);
                move || {
                    let mut g = cond.acquire();
                    sleep(Duration::from_millis(10));
                    *g += 1;
                }
            });
            let taker = green::spawn({
                let cond = Arc::clone(&cond);
                move || *cond.acquire() // the holder has it: yields
            });
            holder.get().unwrap();
            assert_eq!(taker.get().unwrap(), 1);
        })
        .unwrap();
    });
}

/// A green thread killed or timed out while a `Barrier` fills breaks it,
/// as Python's `Barrier.wait` does on a timeout or an exception: the
/// others get `BrokenBarrierError` instead of waiting for a party that
/// left (or, killed, for one still counted in).
#[test]
fn barrier_broken_by_a_killed_or_timed_out_green_thread() {
    guarded(|| {
        green::run(|| {
            let barrier = Arc::new(Barrier::new(3));
            let other = green::spawn({
                let barrier = Arc::clone(&barrier);
                move || barrier.wait()
            });
            let victim = green::spawn({
                let barrier = Arc::clone(&barrier);
                move || barrier.wait()
            });
            sleep(Duration::ZERO); // both wait
            assert_eq!(barrier.n_waiting(), 2);
            victim.kill();
            assert!(matches!(victim.get(), Err(GreenletError::Killed)));
            assert!(other.get().unwrap().is_err(), "broken for the others");
            assert!(barrier.broken());
            assert_eq!(barrier.n_waiting(), 0);
            barrier.reset();
            assert!(!barrier.broken());

            let barrier = Arc::new(Barrier::new(3));
            let other = green::spawn({
                let barrier = Arc::clone(&barrier);
                move || barrier.wait()
            });
            let timed = green::spawn({
                let barrier = Arc::clone(&barrier);
                move || barrier.wait_timeout(Duration::from_millis(10))
            });
            assert!(timed.get().unwrap().is_err());
            assert!(other.get().unwrap().is_err());
            assert!(barrier.broken());
        })
        .unwrap();
    });
}

/// A green thread left waiting on an `Event` by a carrier that exits (its
/// stack is leaked, its handle reports it killed) stays on the event's list;
/// setting the event later reaches a hub that is gone, or the next hub made
/// on another carrier, and must disturb neither: the new carrier's green
/// threads wait for their own event and finish normally.
#[test]
fn a_wake_up_outliving_its_hub_disturbs_no_other_hub() {
    let ev = Arc::new(Event::new());
    let left = {
        let ev = Arc::clone(&ev);
        guarded(move || {
            let g = green::spawn(move || ev.wait());
            green::yield_now(); // it waits on `ev` now
            g
        })
    };
    assert!(matches!(left.get(), Err(GreenletError::Killed)));
    guarded(move || {
        green::run(move || {
            let mine = Arc::new(Event::new());
            let waiters: Vec<_> = (0..4)
                .map(|_| {
                    let mine = Arc::clone(&mine);
                    green::spawn(move || mine.wait_timeout(Duration::from_secs(30)))
                })
                .collect();
            green::yield_now(); // they wait on `mine`
            ev.set(); // wakes the waiter of the carrier that exited
            green::yield_now();
            assert!(waiters.iter().all(|g| !g.is_ready()), "still waiting");
            mine.set();
            for g in waiters {
                assert!(g.get().unwrap(), "woken by their own event");
            }
        })
        .unwrap();
    });
}

/// A green thread woken by the running one runs next (the hand-off),
/// ahead of what was ready before; the others it wakes, and everything
/// queued before, keep their first-come, first-served order.
#[test]
fn handoff_keeps_fifo_among_the_other_ready() {
    let log = guarded(|| {
        green::run(|| {
            let ev = Arc::new(Event::new());
            let log = Arc::new(std::sync::Mutex::new(Vec::new()));
            let note = |log: &Arc<std::sync::Mutex<Vec<&'static str>>>, what| {
                log.lock().unwrap().push(what);
            };
            let waiters: Vec<_> = ["w0", "w1", "w2"]
                .into_iter()
                .map(|name| {
                    let (ev, log) = (Arc::clone(&ev), Arc::clone(&log));
                    green::spawn(move || {
                        ev.wait();
                        note(&log, name);
                    })
                })
                .collect();
            let setter = {
                let (ev, log) = (Arc::clone(&ev), Arc::clone(&log));
                green::spawn(move || {
                    ev.set();
                    note(&log, "set");
                    green::yield_now();
                    note(&log, "setter again");
                })
            };
            // Ready (queued) before the setter runs, after it.
            let other = {
                let log = Arc::clone(&log);
                green::spawn(move || note(&log, "other"))
            };
            green::joinall(&waiters);
            setter.join();
            other.join();
            log.lock().unwrap().clone()
        })
        .unwrap()
    });
    assert_eq!(log, ["set", "w0", "other", "w1", "w2", "setter again"]);
}

/// Two green threads handing over to each other (a queue ping-pong) do
/// not starve a third that is ready: the hand-off slot does not start a
/// new turn, so after at most 16 hand-offs in a row (8 round trips) the
/// hub serves its queue. Without that bound the third would wait for the
/// whole ping-pong.
#[test]
fn handoff_pair_does_not_starve_a_third() {
    const TRIPS: usize = if cfg!(miri) { 100 } else { 5_000 };
    let (max_gap, turns) = guarded(|| {
        green::run(|| {
            let (a, b) = (Arc::new(Queue::new(0)), Arc::new(Queue::new(0)));
            let trips = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(AtomicBool::new(false));
            let ping = {
                let (a, b) = (Arc::clone(&a), Arc::clone(&b));
                let (trips, done) = (Arc::clone(&trips), Arc::clone(&done));
                green::spawn(move || {
                    for i in 0..TRIPS {
                        a.put(i).unwrap();
                        assert_eq!(b.get().unwrap(), i);
                        trips.fetch_add(1, SeqCst);
                    }
                    done.store(true, SeqCst);
                })
            };
            let pong = green::spawn(move || {
                for _ in 0..TRIPS {
                    b.put(a.get().unwrap()).unwrap();
                }
            });
            let third = green::spawn(move || {
                let (mut last, mut max_gap, mut turns) = (trips.load(SeqCst), 0, 0);
                while !done.load(SeqCst) {
                    green::yield_now();
                    let now = trips.load(SeqCst);
                    max_gap = max_gap.max(now - last);
                    last = now;
                    turns += 1;
                }
                (max_gap, turns)
            });
            ping.join();
            pong.join();
            third.get().unwrap()
        })
        .unwrap()
    });
    assert!(
        max_gap <= 9,
        "the pair made {max_gap} round trips between two turns of the third"
    );
    assert!(turns >= TRIPS / 9, "the third ran only {turns} times");
}

/// A finished green thread's handle state is kept in its slot and reused
/// by a later spawn there only once nobody holds it: a handle held across
/// later spawns (of the same and of other value types) keeps its value,
/// and a value that needs dropping is dropped with its last handle, not
/// when its slot is reused.
#[test]
fn handle_state_reuse_keeps_values_and_drop_times() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    guarded(|| {
        green::run(|| {
            let held = green::spawn(|| 7u64);
            held.join();
            for i in 0..if cfg!(miri) { 5 } else { 200u64 } {
                let g = green::spawn(move || i * 2);
                let h = green::spawn(move || (i as u8, i));
                assert_eq!(g.get().unwrap(), i * 2);
                assert_eq!(h.get().unwrap(), (i as u8, i));
                let dropped = Arc::new(AtomicBool::new(false));
                let f = {
                    let dropped = Arc::clone(&dropped);
                    green::spawn(move || Flag(dropped))
                };
                f.join();
                assert!(!dropped.load(SeqCst));
                drop(f);
                assert!(dropped.load(SeqCst), "dropped with its last handle");
            }
            assert_eq!(held.get().unwrap(), 7);
        })
        .unwrap()
    });
}
