//! The green-thread API beyond spawn and join (feature `green`):
//! `spawn_later`, `Greenlet::kill_timeout`, done callbacks, `with_timeout`,
//! `Pool` and `Group`, a `Greenlet` as a threadkit `Future`, `block_on`
//! and `blocking`.
//!
//! Provenance: the tests marked "gevent" port behaviours from gevent's own
//! tests (gevent 24, `gevent/tests/test__pool.py` and
//! `gevent/tests/test__api_timeout.py`), as named on each.
//!
//! Each test runs on a fresh thread under a hang guard (30 s, far above
//! the expected time): a wait that blocked the carrier instead of
//! yielding would hang.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use threadkit::futures::{Future, FutureError, ReturnWhen, ThreadPoolExecutor, as_completed, wait};
use threadkit::green::{self, GreenTimeout, GreenletError, Group, Pool};
use threadkit::threading::{Event, Lock, Semaphore};
use threadkit::{Queue, sleep};

mod common;
use common::guarded;
use common::waits::{WaitCase, every_kind_of_wait};

/// Runs `f` as the root green thread of a fresh carrier, under the guard.
fn green_run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    guarded(|| green::run(f).unwrap())
}

const LONG: Duration = Duration::from_secs(60);

// ---- spawn_later ----

#[test]
fn spawn_later_runs_after_the_delay_and_a_kill_before_it_cancels() {
    green_run(|| {
        let start = Instant::now();
        let later = green::spawn_later(Duration::from_millis(30), move || start.elapsed());
        let ran = Arc::new(AtomicBool::new(false));
        let never = {
            let ran = Arc::clone(&ran);
            green::spawn_later(LONG, move || ran.store(true, SeqCst))
        };
        // Others run meanwhile: the delay is a green sleep.
        let quick = green::spawn(|| 1);
        assert_eq!(quick.get().unwrap(), 1);
        assert!(!later.is_ready());
        assert!(later.get().unwrap() >= Duration::from_millis(30));
        never.kill();
        assert!(matches!(never.get(), Err(GreenletError::Killed)));
        assert!(!ran.load(SeqCst));
    });
}

// ---- kill_timeout ----

#[test]
fn kill_timeout_waits_for_the_unwind_only_so_long() {
    guarded(|| {
        let (tx, rx) = mpsc::channel();
        let carrier = std::thread::spawn(move || {
            green::run(move || {
                let g = green::spawn(|| {
                    // Blocks its carrier (not a threadkit wait): the kill
                    // cannot land until it waits again.
                    std::thread::sleep(Duration::from_millis(300));
                    sleep(LONG);
                });
                tx.send(Arc::new(g)).unwrap();
                green::yield_now();
            })
            .unwrap();
        });
        let g = rx.recv().unwrap();
        assert!(
            !g.kill_timeout(Duration::from_millis(10)),
            "it cannot have unwound yet"
        );
        assert!(g.kill_timeout(Duration::from_secs(20)));
        carrier.join().unwrap();
        let g = Arc::into_inner(g).unwrap();
        assert!(matches!(g.get(), Err(GreenletError::Killed)));
    });
}

#[test]
fn kill_timeout_on_a_waiting_or_finished_green_thread() {
    green_run(|| {
        let g = green::spawn(|| sleep(LONG));
        green::yield_now();
        assert!(g.kill_timeout(Duration::from_secs(20)));
        assert!(matches!(g.get(), Err(GreenletError::Killed)));
        let done = green::spawn(|| 3);
        done.join();
        assert!(
            done.kill_timeout(Duration::ZERO),
            "finished: nothing to kill"
        );
        assert_eq!(
            done.get().unwrap(),
            3,
            "a finished green thread keeps its value"
        );
    });
}

// ---- done callbacks ----

#[test]
fn done_callbacks_run_once_with_the_outcome() {
    green_run(|| {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = |tag: &'static str| {
            let seen = Arc::clone(&seen);
            move |r: Result<&i32, &GreenletError>| {
                let what = match r {
                    Ok(v) => format!("{tag}:{v}"),
                    Err(GreenletError::Killed) => format!("{tag}:killed"),
                    Err(GreenletError::Panicked(p)) => {
                        format!("{tag}:panicked:{}", p.downcast_ref::<String>().unwrap())
                    }
                };
                seen.lock().push(what);
            }
        };
        let value = green::spawn(|| {
            sleep(Duration::from_millis(1));
            7
        });
        value.add_done_callback(log("a"));
        value.add_done_callback(log("b"));
        let killed = green::spawn(|| {
            sleep(LONG);
            0
        });
        killed.add_done_callback(log("k"));
        let panicked = green::spawn(|| -> i32 { panic!("boom") });
        panicked.add_done_callback(log("p"));
        value.join();
        green::yield_now();
        killed.kill();
        panicked.join();
        // Added once done: runs at once, in the caller.
        value.add_done_callback(log("late"));
        assert_eq!(
            *seen.lock(),
            ["p:panicked:boom", "a:7", "b:7", "k:killed", "late:7"]
        );
        assert_eq!(value.get().unwrap(), 7);
        assert!(
            matches!(panicked.get(), Err(GreenletError::Panicked(p)) if p.downcast_ref::<&str>() == Some(&"boom"))
        );
    });
}

#[test]
fn a_panicking_callback_is_reported_and_harms_nothing() {
    let reports = Arc::new(AtomicUsize::new(0));
    {
        let reports = Arc::clone(&reports);
        threadkit::threading::set_excepthook(move |args| {
            if args.message().contains("callback-boom") {
                reports.fetch_add(1, SeqCst);
            }
        });
    }
    green_run(|| {
        let after = Arc::new(AtomicBool::new(false));
        let g = green::spawn(|| {
            sleep(Duration::from_millis(1));
            5
        });
        g.add_done_callback(|_| panic!("callback-boom"));
        {
            let after = Arc::clone(&after);
            g.add_done_callback(move |r| after.store(matches!(r, Ok(&5)), SeqCst));
        }
        assert_eq!(g.get().unwrap(), 5, "the green thread's value is untouched");
        assert!(after.load(SeqCst), "the next callback still ran");
        // The hub goes on.
        let next = green::spawn(|| {
            sleep(Duration::from_millis(1));
            6
        });
        assert_eq!(next.get().unwrap(), 6);
    });
    assert_eq!(reports.load(SeqCst), 1);
}

// ---- with_timeout ----

#[test]
fn with_timeout_ends_a_wait_and_the_green_thread_goes_on() {
    green_run(|| {
        let q: Arc<Queue<u8>> = Arc::new(Queue::new(0));
        let start = Instant::now();
        let got = green::with_timeout(Duration::from_millis(20), || q.get());
        assert_eq!(got.unwrap_err(), GreenTimeout::Expired);
        assert!(start.elapsed() >= Duration::from_millis(20));
        // Nothing left pending: later waits run their course.
        sleep(Duration::from_millis(30));
        q.put(4).unwrap();
        assert_eq!(q.get().unwrap(), 4);
        assert_eq!(green::with_timeout(LONG, || 9), Ok(9));
    });
}

#[test]
fn with_timeout_outside_a_green_thread_is_an_error() {
    guarded(|| {
        let ran = AtomicBool::new(false);
        let got = green::with_timeout(Duration::from_millis(1), || ran.store(true, SeqCst));
        assert_eq!(got, Err(GreenTimeout::NotInGreenThread));
        assert!(!ran.load(SeqCst));
    });
}

/// gevent: `test__api_timeout.py`, `test_nested_timeout`.
#[test]
fn nested_timeouts_the_inner_one_wins_only_if_shorter() {
    green_run(|| {
        let d = Duration::from_millis(10);
        // The outer one is shorter: the inner scope passes it on.
        let reached = AtomicBool::new(false);
        let outer = green::with_timeout(d, || {
            let inner = green::with_timeout(d * 20, || sleep(d * 60));
            reached.store(true, SeqCst);
            inner
        });
        assert_eq!(outer, Err(GreenTimeout::Expired));
        assert!(!reached.load(SeqCst), "should not get there");
        // The inner one is shorter: it ends only the inner closure.
        let outer = green::with_timeout(d * 20, || {
            let inner = green::with_timeout(d, || sleep(d * 60));
            (inner, "after")
        });
        assert_eq!(outer, Ok((Err(GreenTimeout::Expired), "after")));
    });
}

#[test]
fn a_timed_out_waiter_hands_its_wake_up_on() {
    green_run(|| {
        let q = Arc::new(Queue::new(0));
        let first = {
            let q = Arc::clone(&q);
            green::spawn(move || {
                green::with_timeout(Duration::from_millis(30), || q.get().unwrap())
            })
        };
        let second = {
            let q = Arc::clone(&q);
            green::spawn(move || q.get().unwrap())
        };
        green::yield_now(); // both wait, `first` in front
        // Past `first`'s deadline, with the carrier busy: `first` is due
        // to time out when the put takes it off the line.
        std::thread::sleep(Duration::from_millis(40));
        q.put(1).unwrap();
        let first = first.get().unwrap();
        let second = second.join_timeout(Duration::from_secs(20));
        // Exactly one of them has the item: the time-out lost nothing.
        match first {
            Ok(v) => {
                assert_eq!(v, 1);
                assert!(!second);
            }
            Err(GreenTimeout::Expired) => assert!(second, "the wake-up was swallowed"),
            Err(e) => panic!("{e}"),
        }
        q.put(2).unwrap(); // whoever still waits gets this one
    });
}

fn timed_out<S: Send + Sync + 'static>(state: S, wait: fn(&S), release: fn(&S)) {
    green_run(move || {
        let state = Arc::new(state);
        let timed = {
            let state = Arc::clone(&state);
            green::spawn(move || green::with_timeout(Duration::from_millis(10), || wait(&state)))
        };
        let served = {
            let state = Arc::clone(&state);
            green::spawn(move || wait(&state))
        };
        assert_eq!(timed.get().unwrap(), Err(GreenTimeout::Expired));
        release(&state);
        served.get().unwrap();
    });
}

#[test]
fn with_timeout_during_every_kind_of_wait() {
    struct TimeOut;
    impl WaitCase for TimeOut {
        fn run<S: Send + Sync + 'static>(&mut self, state: S, wait: fn(&S), release: fn(&S)) {
            timed_out(state, wait, release);
        }
    }
    every_kind_of_wait(&mut TimeOut);
    // A lock held by a third green thread.
    green_run(|| {
        let lock = Arc::new(Lock::new(()));
        let held = Arc::clone(&lock);
        let holder = green::spawn(move || {
            let _g = held.acquire();
            sleep(Duration::from_millis(100));
        });
        green::yield_now();
        let got = green::with_timeout(Duration::from_millis(10), || drop(lock.acquire()));
        assert_eq!(got, Err(GreenTimeout::Expired));
        holder.get().unwrap();
        drop(lock.acquire());
    });
    // A future, a green thread's join, a sleep, block_on, yield_now.
    green_run(|| {
        let d = Duration::from_millis(10);
        let (f, promise) = Future::<u8>::new();
        assert_eq!(
            green::with_timeout(d, || f.result().copied()),
            Err(GreenTimeout::Expired)
        );
        let g = green::spawn(|| sleep(LONG));
        assert_eq!(
            green::with_timeout(d, || g.join()),
            Err(GreenTimeout::Expired)
        );
        g.kill();
        assert_eq!(
            green::with_timeout(d, || sleep(LONG)),
            Err(GreenTimeout::Expired)
        );
        let got = green::with_timeout(d, || {
            green::block_on(async { f.result_async().await.copied() })
        });
        assert_eq!(got, Err(GreenTimeout::Expired));
        let spin = green::with_timeout(d, || {
            loop {
                green::yield_now();
            }
        });
        assert_eq!(spin, Err(GreenTimeout::Expired));
        promise.set_result(1);
        assert_eq!(f.result(), Ok(&1));
    });
}

// ---- Pool and Group ----

#[test]
fn pool_bounds_how_many_run_at_once() {
    green_run(|| {
        let pool = Pool::new(3).unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let gs: Vec<_> = (0..20)
            .map(|i| {
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                pool.spawn(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    sleep(Duration::from_millis(2));
                    running.fetch_sub(1, SeqCst);
                    i
                })
            })
            .collect();
        pool.join();
        assert!(pool.is_empty());
        assert_eq!(pool.free_count(), 3);
        assert_eq!(most.load(SeqCst), 3);
        assert_eq!(gs.into_iter().map(|g| g.get().unwrap()).sum::<i32>(), 190);
    });
}

#[test]
fn pool_map_and_imap_keep_the_order() {
    green_run(|| {
        let pool = Pool::new(4).unwrap();
        // Later items finish first.
        let slow_first = |i: u64| {
            sleep(Duration::from_millis(20 - i));
            i * 10
        };
        assert_eq!(
            pool.map(slow_first, 0..10).unwrap(),
            (0..10).map(|i| i * 10).collect::<Vec<_>>()
        );
        let got: Vec<u64> = pool.imap(slow_first, 0..10).map(Result::unwrap).collect();
        assert_eq!(got, (0..10).map(|i| i * 10).collect::<Vec<_>>());
        assert!(
            pool.imap(|i: u8| i, Vec::new()).next().is_none(),
            "gevent: test_empty_imap"
        );
        assert_eq!(pool.map(|i: u8| i, Vec::new()).unwrap(), Vec::<u8>::new());
        // A panicking item: map gives its error, the others still ran.
        let ran = Arc::new(AtomicUsize::new(0));
        let r = {
            let ran = Arc::clone(&ran);
            pool.map(
                move |i: u32| {
                    ran.fetch_add(1, SeqCst);
                    assert_ne!(i, 2, "item two fails");
                    i
                },
                0..6,
            )
        };
        assert!(matches!(r, Err(GreenletError::Panicked(_))));
        assert_eq!(ran.load(SeqCst), 6);
    });
}

#[test]
fn pool_of_zero_is_an_error() {
    assert!(Pool::new(0).is_err());
}

/// gevent: `test__pool.py`, `test_multiple_coros`.
#[test]
fn pool_multiple_coros() {
    green_run(|| {
        let evt = Arc::new(Event::new());
        let results = Arc::new(Mutex::new(Vec::new()));
        let pool = Pool::new(2).unwrap();
        let consumer = {
            let (evt, results) = (Arc::clone(&evt), Arc::clone(&results));
            pool.spawn(move || {
                results.lock().push("cons1");
                evt.wait();
                results.lock().push("cons2");
            })
        };
        {
            let (evt, results) = (Arc::clone(&evt), Arc::clone(&results));
            pool.spawn(move || {
                sleep(Duration::from_millis(1));
                results.lock().push("prod");
                evt.set();
            });
        }
        consumer.get().unwrap();
        assert_eq!(*results.lock(), ["cons1", "prod", "cons2"]);
    });
}

/// gevent: `test__pool.py`, `test_discard` and `test_add_method` (with a
/// `Timeout` around the blocked `add`).
#[test]
fn pool_discard_and_add_wait_for_a_place() {
    green_run(|| {
        let p = Pool::new(1).unwrap();
        let first = p.spawn(|| sleep(LONG));
        assert!(p.discard(&first));
        first.kill();
        assert_eq!(p.len(), 0);
        assert_eq!(p.free_count(), 1);

        let first = green::spawn(|| sleep(LONG));
        let second = green::spawn(|| sleep(LONG));
        assert_eq!(p.free_count(), 1);
        p.add(&first);
        assert_eq!(p.free_count(), 0);
        assert_eq!(p.len(), 1);
        let blocked = green::with_timeout(Duration::from_millis(50), || p.add(&second));
        assert_eq!(blocked, Err(GreenTimeout::Expired));
        assert_eq!(p.free_count(), 0);
        assert_eq!(p.len(), 1);
        assert!(!p.wait_available(Some(Duration::from_millis(5))));
        second.kill();
        first.kill();
        assert!(p.wait_available(Some(Duration::ZERO)));
        assert!(p.is_empty());
    });
}

#[test]
fn group_joins_and_kills_its_members() {
    green_run(|| {
        let group = Group::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let sleepers: Vec<_> = (0..5)
            .map(|_| {
                let c = Count(Arc::clone(&dropped));
                group.spawn(move || {
                    let _c = c;
                    sleep(LONG)
                })
            })
            .collect();
        let quick = group.spawn(|| sleep(Duration::from_millis(1)));
        let outsider = green::spawn(|| sleep(Duration::from_millis(5)));
        group.add(&outsider);
        assert_eq!(group.len(), 7);
        assert!(group.contains(&outsider));
        assert!(group.discard(&outsider));
        assert!(!group.contains(&outsider));
        quick.join();
        assert!(!group.join_timeout(Duration::from_millis(5)));
        assert_eq!(group.len(), 5);
        group.kill();
        assert!(group.is_empty());
        assert_eq!(
            dropped.load(SeqCst),
            5,
            "each unwound, running its destructors"
        );
        assert!(sleepers.iter().all(|g| g.is_ready()));
        outsider.get().unwrap();
        group.join(); // empty: at once
        assert!(group.kill_timeout(Duration::ZERO));
    });
}

#[test]
fn group_joined_from_another_thread() {
    guarded(|| {
        let group = Group::new();
        let (tx, rx) = mpsc::channel();
        let carrier = {
            let group = group.clone();
            std::thread::spawn(move || {
                green::run(move || {
                    for _ in 0..10 {
                        group.spawn(|| sleep(Duration::from_millis(5)));
                    }
                    tx.send(()).unwrap();
                    group.join();
                })
                .unwrap();
            })
        };
        rx.recv().unwrap();
        assert!(group.join_timeout(Duration::from_secs(20)));
        carrier.join().unwrap();
    });
}

// ---- a Greenlet is a threadkit Future ----

#[test]
fn greenlets_work_with_wait_and_as_completed() {
    green_run(|| {
        let gs: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                green::spawn(move || {
                    sleep(Duration::from_millis(ms));
                    ms
                })
            })
            .collect();
        let first = wait(&gs, None, ReturnWhen::FirstCompleted);
        assert!(first.done.iter().any(|g| g.id() == gs[1].id()));
        let order: Vec<u64> = as_completed(&gs, Some(Duration::from_secs(20)))
            .map(|g| *g.unwrap().future().result().unwrap())
            .collect();
        assert_eq!(order, [10, 20, 30]);
        let all = wait(&gs, Some(Duration::from_secs(20)), ReturnWhen::AllCompleted);
        assert_eq!(all.done.len(), 3);
        // Seen as futures: killed is cancelled, a panic keeps its message.
        let killed = green::spawn(|| sleep(LONG));
        assert!(!killed.future().cancel(), "running from the spawn on");
        killed.kill();
        assert!(matches!(
            killed.future().result(),
            Err(FutureError::Cancelled)
        ));
        let panicked = green::spawn(|| panic!("as a future"));
        match panicked.future().result() {
            Err(FutureError::Panicked(report)) => assert_eq!(report.message(), "as a future"),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn a_greenlet_can_be_awaited() {
    green_run(|| {
        let g = green::spawn(|| {
            sleep(Duration::from_millis(5));
            "value"
        });
        // From another green thread, through block_on.
        let waiter = green::spawn(move || green::block_on(g));
        assert_eq!(waiter.get().unwrap().unwrap(), "value");
        let p = green::spawn(|| -> u8 { panic!("awaited") });
        let got = green::block_on(p);
        assert!(
            matches!(got, Err(GreenletError::Panicked(p)) if p.downcast_ref::<&str>() == Some(&"awaited"))
        );
    });
    // From a plain thread: a green thread on another carrier.
    guarded(|| {
        let (tx, rx) = mpsc::channel();
        let carrier = std::thread::spawn(move || {
            green::run(move || {
                let g = green::spawn(|| {
                    sleep(Duration::from_millis(5));
                    11
                });
                tx.send(g).unwrap();
                sleep(Duration::from_millis(50));
            })
            .unwrap();
        });
        let g = rx.recv().unwrap();
        assert_eq!(green::block_on(g).unwrap(), 11);
        carrier.join().unwrap();
    });
}

// ---- block_on and blocking ----

#[test]
fn block_on_parks_only_the_green_thread() {
    green_run(|| {
        let pool = ThreadPoolExecutor::new(1).unwrap();
        let (f, promise) = Future::new();
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = {
            let ticks = Arc::clone(&ticks);
            green::spawn(move || {
                for _ in 0..5 {
                    ticks.fetch_add(1, SeqCst);
                    sleep(Duration::from_millis(1));
                }
                promise.set_result(5); // wakes the green thread in block_on
            })
        };
        let waiter = green::spawn(move || green::block_on(f));
        assert_eq!(waiter.get().unwrap(), Ok(5));
        assert_eq!(ticks.load(SeqCst), 5);
        ticker.get().unwrap();
        // Woken from another thread.
        let task = pool.submit(|| {
            std::thread::sleep(Duration::from_millis(5));
            "pool"
        });
        let got = green::spawn(move || green::block_on(task.unwrap()));
        assert_eq!(got.get().unwrap(), Ok("pool"));
        // A queue's async face, from the root of a busy hub.
        let q = Arc::new(Queue::new(0));
        let putter = {
            let q = Arc::clone(&q);
            green::spawn(move || {
                sleep(Duration::from_millis(2));
                q.put(3).unwrap();
            })
        };
        let got = green::spawn({
            let q = Arc::clone(&q);
            move || green::block_on(q.get_async())
        });
        assert_eq!(got.get().unwrap(), Ok(3));
        putter.get().unwrap();
    });
}

#[test]
fn killed_in_block_on_drops_the_future() {
    green_run(|| {
        struct Pending(Arc<AtomicBool>);
        impl std::future::Future for Pending {
            type Output = ();
            fn poll(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<()> {
                std::task::Poll::Pending
            }
        }
        impl Drop for Pending {
            fn drop(&mut self) {
                self.0.store(true, SeqCst);
            }
        }
        let dropped = Arc::new(AtomicBool::new(false));
        let g = {
            let dropped = Arc::clone(&dropped);
            green::spawn(move || green::block_on(Pending(dropped)))
        };
        green::yield_now();
        g.kill();
        assert!(matches!(g.get(), Err(GreenletError::Killed)));
        assert!(dropped.load(SeqCst));
    });
}

#[test]
fn blocking_runs_elsewhere_while_green_threads_go_on() {
    green_run(|| {
        let carrier = std::thread::current().id();
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = {
            let ticks = Arc::clone(&ticks);
            green::spawn(move || {
                for _ in 0..3 {
                    ticks.fetch_add(1, SeqCst);
                    green::yield_now();
                }
            })
        };
        let got = green::blocking(move || {
            std::thread::sleep(Duration::from_millis(20));
            std::thread::current().id()
        });
        assert_ne!(got.unwrap(), carrier);
        assert_eq!(
            ticks.load(SeqCst),
            3,
            "the ticker ran while `blocking` waited"
        );
        ticker.get().unwrap();
        let panicked = green::blocking(|| -> u8 { panic!("in the pool") });
        assert!(matches!(panicked, Err(FutureError::Panicked(_))));
    });
}

// ---- green threads in the thread dump ----

/// With `debug-locks`, a lock taken by a green thread is held by that green
/// thread, not by its carrier: the dump names it as the holder a waiter
/// waits for, and lists the lock among its own held locks.
#[cfg(feature = "debug-locks")]
#[test]
fn a_lock_held_by_a_green_thread_names_the_green_thread_as_holder() {
    use threadkit::debug;
    let _ = debug::dump_threads();
    green_run(|| {
        // A lock taken first by `run`'s own green thread: its ident must
        // not stick to the carrier for the others.
        drop(Lock::new(()).acquire());
        let lock = Arc::new(Lock::named("green_held", ()));
        let release = Arc::new(Semaphore::new(0));
        let holder = {
            let (lock, release) = (Arc::clone(&lock), Arc::clone(&release));
            green::Builder::new()
                .name("green-holder")
                .spawn(move || {
                    let _held = lock.acquire();
                    drop(release.acquire());
                })
                .unwrap()
        };
        let waiter = {
            let lock = Arc::clone(&lock);
            green::Builder::new()
                .name("green-lock-waiter")
                .spawn(move || drop(lock.acquire()))
                .unwrap()
        };
        let start = Instant::now();
        let (holder_row, waiter_row, dump) = loop {
            green::yield_now();
            let dump = std::thread::spawn(debug::dump_threads).join().unwrap();
            let row = |name: &str| dump.threads.iter().find(|t| t.name == name).cloned();
            if let (Some(h), Some(w)) = (row("green-holder"), row("green-lock-waiter")) {
                if w.waiting.as_ref().is_some_and(|w| w.holder.is_some()) {
                    break (h, w, dump);
                }
            }
            assert!(start.elapsed() < LONG, "{dump}");
        };
        let carrier = holder_row
            .green
            .as_ref()
            .expect("a green row")
            .carrier_ident;
        assert_ne!(holder_row.ident, carrier);
        assert_eq!(
            waiter_row.waiting.as_ref().and_then(|w| w.holder),
            Some(holder_row.ident),
            "{dump}"
        );
        let holding = &holder_row.waiting.as_ref().expect("waits").holding;
        assert!(
            holding.iter().any(|(lock, _)| lock == "green_held"),
            "{dump}"
        );
        release.release(1).unwrap();
        holder.get().unwrap();
        waiter.get().unwrap();
    });
}

#[test]
fn green_threads_appear_in_the_thread_dump() {
    use threadkit::debug::{self, WaitKind};
    // Green threads record their waits from the first dump on.
    let _ = debug::dump_threads();
    green_run(|| {
        let sem = Arc::new(Semaphore::new(0));
        let waiter = {
            let sem = Arc::clone(&sem);
            green::Builder::new()
                .name("dump-waiter")
                .spawn(move || drop(sem.acquire()))
                .unwrap()
        };
        green::yield_now(); // it waits in `acquire` now
        // Dumped from another thread, which must not touch the hub.
        let dump = std::thread::spawn(debug::dump_threads).join().unwrap();
        let row = dump
            .threads
            .iter()
            .find(|t| t.name == "dump-waiter")
            .unwrap_or_else(|| panic!("no green row in\n{dump}"));
        let green = row.green.as_ref().expect("a green row");
        assert_eq!(green.id, waiter.id());
        assert_eq!(
            green.carrier_live, 2,
            "the waiter and `run`'s own green thread"
        );
        assert_eq!(
            row.waiting.as_ref().map(|w| w.kind),
            Some(WaitKind::Semaphore)
        );
        let text = dump.to_string();
        assert!(
            text.contains(&format!("\"dump-waiter\" ident={}", row.ident))
                && text.contains(&format!("green id={} on", waiter.id())),
            "{text}"
        );
        sem.release(1).unwrap();
        waiter.get().unwrap();
        // Finished: gone from the dump.
        let dump = debug::dump_threads();
        assert!(
            !dump.threads.iter().any(|t| t.name == "dump-waiter"),
            "{dump}"
        );
    });
}

/// Misuse: a stack size no machine maps is an error from `spawn`, never a
/// panic (an overflow) inside the library; the hub goes on.
#[test]
fn a_stack_size_too_large_to_map_is_an_error() {
    green::run(|| {
        for size in [usize::MAX, usize::MAX / 2, 1 << 62] {
            let err = green::Builder::new()
                .stack_size(size)
                .spawn(|| 1)
                .expect_err("no machine maps that");
            assert!(err.to_string().contains("stack"), "{err}");
        }
        assert_eq!(green::spawn(|| 2).get().unwrap(), 2);
    })
    .unwrap();
}
