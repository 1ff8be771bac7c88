//! Green threads waiting for a `threading::Lock` or `RLock`: they queue in
//! the waiting core and a release wakes them (no polling), first come first
//! served, with kills and timeouts during the wait passing the wake-up on,
//! and with OS threads and green threads of several carriers contending
//! for one lock.
//!
//! Provenance: threadkit's own behaviour (issue "Green threads", point 2);
//! gevent's lock tests check what `tests/green.rs` already does. Waits are
//! bounded by generous hang guards only; nothing is timed.
#![cfg(feature = "green")]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rand::Rng;
use threadkit::green::{self, Greenlet, GreenletError, Hubs};
use threadkit::sleep;
use threadkit::threading::{Event, Lock, RLock};

/// Runs `f` on a fresh thread (the carrier) and fails if it does not finish
/// in 60 s, with a thread dump.
fn guarded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            panic!(
                "hang guard: a lock wait was not woken\n{}",
                threadkit::debug::dump_threads()
            )
        })
}

/// The two locks, behind one face: a blocking and a timed acquire that
/// hold the lock while `f` runs.
trait AnyLock: Send + Sync + 'static {
    fn new() -> Self;
    fn with<R>(&self, f: impl FnOnce() -> R) -> R;
    fn with_timeout<R>(&self, d: Duration, f: impl FnOnce() -> R) -> Option<R>;
}

impl AnyLock for Lock {
    fn new() -> Self {
        Lock::new(())
    }
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.acquire();
        f()
    }
    fn with_timeout<R>(&self, d: Duration, f: impl FnOnce() -> R) -> Option<R> {
        let _g = self.acquire_timeout(d)?;
        Some(f())
    }
}

impl AnyLock for RLock {
    fn new() -> Self {
        RLock::new(())
    }
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.acquire();
        f()
    }
    fn with_timeout<R>(&self, d: Duration, f: impl FnOnce() -> R) -> Option<R> {
        let _g = self.acquire_timeout(d)?;
        Some(f())
    }
}

/// Green threads of one hub that queue on a held lock one after another
/// take it in that order.
fn fifo<L: AnyLock>() {
    let order = guarded(|| {
        green::run(|| {
            let lock = Arc::new(L::new());
            let order = Arc::new(Mutex::new(Vec::new()));
            let held = Arc::new(Event::new());
            let holder = {
                let (lock, held) = (Arc::clone(&lock), Arc::clone(&held));
                green::spawn(move || {
                    lock.with(|| {
                        held.set();
                        // Long enough for a poller to have gone to naps.
                        sleep(Duration::from_millis(30));
                    })
                })
            };
            held.wait();
            let waiters: Vec<_> = (0..8)
                .map(|i| {
                    let (lock, order) = (Arc::clone(&lock), Arc::clone(&order));
                    let w = green::spawn(move || lock.with(|| order.lock().unwrap().push(i)));
                    // Each one queues before the next starts.
                    green::yield_now();
                    w
                })
                .collect();
            holder.get().unwrap();
            green::joinall(&waiters);
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        })
        .unwrap()
    });
    assert_eq!(order, (0..8).collect::<Vec<_>>());
}

#[test]
fn green_waiters_take_a_lock_in_arrival_order() {
    fifo::<Lock>();
}

#[test]
fn green_waiters_take_an_rlock_in_arrival_order() {
    fifo::<RLock>();
}

/// How many times the calling OS thread gave up its CPU voluntarily (slept).
fn voluntary_switches() -> i64 {
    // SAFETY: getrusage fills the struct we pass.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut ru), 0);
        ru.ru_nvcsw
    }
}

/// A green thread waits for a lock an OS thread holds for 200 ms: its
/// carrier sleeps until the release wakes it, a handful of times at most
/// (a poller napping up to 1 ms would wake it about 200 times).
fn woken_not_polled<L: AnyLock>() {
    let (switches, got) = guarded(|| {
        let lock = Arc::new(L::new());
        let held = Arc::new(Event::new());
        let holder = {
            let (lock, held) = (Arc::clone(&lock), Arc::clone(&held));
            std::thread::spawn(move || {
                lock.with(|| {
                    held.set();
                    std::thread::sleep(Duration::from_millis(200));
                })
            })
        };
        held.wait();
        let got = green::run(move || {
            let waiter = green::spawn(move || lock.with(|| 7));
            let before = voluntary_switches();
            let got = waiter.get().unwrap();
            (voluntary_switches() - before, got)
        })
        .unwrap();
        holder.join().unwrap();
        got
    });
    assert_eq!(got, 7);
    assert!(
        switches < 20,
        "the carrier woke {switches} times while its green thread waited for the lock"
    );
}

#[test]
fn a_release_wakes_a_green_lock_waiter_without_polling() {
    woken_not_polled::<Lock>();
}

#[test]
fn a_release_wakes_a_green_rlock_waiter_without_polling() {
    woken_not_polled::<RLock>();
}

/// 10k hand-offs between two green threads of one carrier, each holding
/// the lock across a yield: each release wakes the other (a hang guard,
/// not a timing claim).
#[test]
fn ten_thousand_hand_offs_between_two_green_threads() {
    let n = if cfg!(miri) { 50 } else { 10_000 };
    let total = guarded(move || {
        green::run(move || {
            let lock = Arc::new(Lock::new(0u64));
            let turn = |lock: Arc<Lock<u64>>| {
                move || {
                    for _ in 0..n {
                        let mut g = lock.acquire();
                        *g += 1;
                        green::yield_now();
                        drop(g);
                        green::yield_now();
                    }
                }
            };
            let a = green::spawn(turn(Arc::clone(&lock)));
            let b = green::spawn(turn(Arc::clone(&lock)));
            a.get().unwrap();
            b.get().unwrap();
            *lock.acquire()
        })
        .unwrap()
    });
    assert_eq!(total, 2 * n);
}

/// The holder releases and, before the first waiter (woken) has run, kills
/// that waiter: it passes the wake-up on to the second waiter, which takes
/// the lock (without the hand-on the second would sleep for ever).
fn killed_after_its_wake_up<L: AnyLock>() {
    guarded(|| {
        green::run(|| {
            let lock = Arc::new(L::new());
            let (held, queued) = (Arc::new(Event::new()), Arc::new(Event::new()));
            let first_ran = Arc::new(AtomicBool::new(false));
            let first_slot: Arc<Mutex<Option<Greenlet<()>>>> = Arc::default();
            let holder = {
                let (lock, held, queued) =
                    (Arc::clone(&lock), Arc::clone(&held), Arc::clone(&queued));
                let slot = Arc::clone(&first_slot);
                green::spawn(move || {
                    lock.with(|| {
                        held.set();
                        queued.wait();
                    });
                    // The release woke `first`, which has not run since.
                    let first = slot.lock().unwrap().take().unwrap();
                    first.kill();
                    first.get()
                })
            };
            held.wait();
            let first = {
                let (lock, first_ran) = (Arc::clone(&lock), Arc::clone(&first_ran));
                green::spawn(move || lock.with(|| first_ran.store(true, SeqCst)))
            };
            green::yield_now(); // `first` queues
            *first_slot.lock().unwrap() = Some(first);
            let second = {
                let lock = Arc::clone(&lock);
                green::spawn(move || lock.with(|| 2))
            };
            green::yield_now(); // `second` queues behind it
            queued.set();
            assert!(matches!(holder.get().unwrap(), Err(GreenletError::Killed)));
            assert!(!first_ran.load(SeqCst));
            assert_eq!(second.get().unwrap(), 2);
            assert!(lock.with_timeout(Duration::from_secs(5), || ()).is_some());
        })
        .unwrap();
    });
}

#[test]
fn a_killed_lock_waiter_passes_its_wake_up_on() {
    killed_after_its_wake_up::<Lock>();
}

#[test]
fn a_killed_rlock_waiter_passes_its_wake_up_on() {
    killed_after_its_wake_up::<RLock>();
}

/// Kill and timeout while queued (not yet woken): the killed and the timed
/// out waiters leave the line, and the one behind them takes the lock.
fn kill_and_timeout_in_line<L: AnyLock>() {
    guarded(|| {
        green::run(|| {
            let lock = Arc::new(L::new());
            let (held, go) = (Arc::new(Event::new()), Arc::new(Event::new()));
            let holder = {
                let (lock, held, go) = (Arc::clone(&lock), Arc::clone(&held), Arc::clone(&go));
                green::spawn(move || {
                    lock.with(|| {
                        held.set();
                        go.wait(); // until the other two have left the line
                    })
                })
            };
            held.wait();
            let killed = {
                let lock = Arc::clone(&lock);
                green::spawn(move || lock.with(|| ()))
            };
            let timed_out = {
                let lock = Arc::clone(&lock);
                green::spawn(move || lock.with_timeout(Duration::from_millis(5), || ()))
            };
            let served = {
                let lock = Arc::clone(&lock);
                green::spawn(move || lock.with(|| 3))
            };
            green::yield_now();
            killed.kill();
            assert!(matches!(killed.get(), Err(GreenletError::Killed)));
            assert_eq!(timed_out.get().unwrap(), None);
            go.set();
            assert_eq!(served.get().unwrap(), 3);
            holder.get().unwrap();
        })
        .unwrap();
    });
}

#[test]
fn kill_and_timeout_during_a_lock_wait() {
    kill_and_timeout_in_line::<Lock>();
}

#[test]
fn kill_and_timeout_during_an_rlock_wait() {
    kill_and_timeout_in_line::<RLock>();
}

/// A waiter woken by the release, whose deadline passes before it runs,
/// while the holder has taken the lock again: its retry fails, it queues
/// again and times out there, and the holder's next release wakes the
/// waiter behind it (which holds the lock past that timeout).
#[test]
fn a_woken_waiter_that_times_out_leaves_the_next_release_to_the_next_waiter() {
    guarded(|| {
        green::run(|| {
            let lock = Arc::new(Lock::new(()));
            let held = Arc::new(Event::new());
            let go = Arc::new(Event::new());
            let holder = {
                let (lock, held, go) = (Arc::clone(&lock), Arc::clone(&held), Arc::clone(&go));
                green::spawn(move || {
                    let g = lock.acquire();
                    held.set();
                    go.wait();
                    drop(g); // wakes `timed`
                    let _again = lock.acquire(); // free: taken again at once
                    // Past `timed`'s deadline without switching.
                    std::thread::sleep(Duration::from_millis(30));
                    green::yield_now();
                })
            };
            held.wait();
            let timed = {
                let lock = Arc::clone(&lock);
                green::spawn(move || lock.acquire_timeout(Duration::from_millis(20)).is_some())
            };
            let next = {
                let lock = Arc::clone(&lock);
                green::spawn(move || {
                    let _g = lock.acquire();
                    sleep(Duration::from_millis(50));
                })
            };
            green::yield_now();
            go.set();
            assert!(!timed.get().unwrap());
            next.get().unwrap();
            holder.get().unwrap();
        })
        .unwrap();
    });
}

/// Green threads on three carriers and three OS threads add to one counter
/// under one lock, some with random short timeouts; green threads on the
/// carriers are killed at random. Every increment made under the lock
/// counts, once.
fn mixed_stress<L: AnyLock>(lock: Arc<L>, counter: Arc<AtomicU64>) {
    const ROUNDS: usize = 300;
    let hubs = Hubs::new(3).unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let add = {
        let counter = Arc::clone(&counter);
        move || {
            // Not atomic as a whole: only the lock keeps two adders apart.
            let v = counter.load(SeqCst);
            if rand::thread_rng().gen_bool(0.1) {
                green::yield_now();
            }
            counter.store(v + 1, SeqCst);
        }
    };
    let green_threads: Vec<_> = (0..12)
        .map(|_| {
            let (lock, done, add) = (Arc::clone(&lock), Arc::clone(&done), add.clone());
            hubs.spawn(move || {
                for _ in 0..ROUNDS {
                    let timeout = rand::thread_rng().gen_range(0..200);
                    let added = if timeout < 100 {
                        lock.with(&add);
                        true
                    } else {
                        lock.with_timeout(Duration::from_micros(timeout), &add)
                            .is_some()
                    };
                    if added {
                        done.fetch_add(1, SeqCst);
                    }
                }
            })
        })
        .collect();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (lock, done, add) = (Arc::clone(&lock), Arc::clone(&done), add.clone());
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let timeout = rand::thread_rng().gen_range(0..200);
                    let added = if timeout < 100 {
                        lock.with(&add);
                        true
                    } else {
                        lock.with_timeout(Duration::from_micros(timeout), &add)
                            .is_some()
                    };
                    if added {
                        done.fetch_add(1, SeqCst);
                    }
                }
            })
        })
        .collect();
    // Kill a few green threads mid-way (their increments so far count).
    std::thread::sleep(Duration::from_millis(5));
    let killed = green_threads
        .iter()
        .step_by(4)
        .inspect(|g| g.kill())
        .count();
    for t in threads {
        t.join().unwrap();
    }
    let (mut finished, spawned) = (0, green_threads.len());
    for g in green_threads {
        match g.get() {
            Ok(()) => finished += 1,
            Err(GreenletError::Killed) => {}
            Err(e) => panic!("a green adder ended with {e:?}"),
        }
    }
    assert!(finished >= spawned - killed);
    hubs.shutdown();
    assert_eq!(counter.load(SeqCst), done.load(SeqCst));
    // The lock is free and works.
    assert!(lock.with_timeout(Duration::from_secs(5), || ()).is_some());
}

#[test]
fn stress_green_threads_and_os_threads_on_one_lock() {
    guarded(|| mixed_stress(Arc::new(Lock::new(())), Arc::new(AtomicU64::new(0))));
}

#[test]
fn stress_green_threads_and_os_threads_on_one_rlock() {
    guarded(|| mixed_stress(Arc::new(RLock::new(())), Arc::new(AtomicU64::new(0))));
}
