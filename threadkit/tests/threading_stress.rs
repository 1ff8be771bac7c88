//! Stress tests: many threads, random choices among the blocking, `try_` and
//! timed forms, random timeouts. Each test checks an invariant (mutual
//! exclusion, permit bound, nothing lost, barrier cycles all-or-nothing) and,
//! by finishing, that nothing hangs. Sizes shrink under Miri.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use rand::Rng;
use threadkit::threading::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, Lock, RLock, Semaphore,
};

mod common;

const THREADS: usize = if cfg!(miri) { 4 } else { 16 };
const ITERS: usize = if cfg!(miri) { 10 } else { 2000 };

/// A random timeout of at most `max_us` microseconds (0 means "try").
fn random_timeout(rng: &mut impl Rng, max_us: u64) -> Duration {
    Duration::from_micros(rng.gen_range(0..=max_us))
}

/// Runs `f(thread_index)` on `THREADS` threads and joins them all.
fn run<F: Fn(usize) + Send + Sync + 'static>(f: F) {
    let f = Arc::new(f);
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let f = Arc::clone(&f);
            thread::spawn(move || f(i))
        })
        .collect();
    for h in handles {
        h.join().expect("stress thread panicked");
    }
}

#[test]
fn lock_mutual_exclusion() {
    let lock = Arc::new(Lock::new(0usize));
    let inside = Arc::new(AtomicUsize::new(0));
    let entries = Arc::new(AtomicUsize::new(0));
    // How many of the attempts were blocking `acquire`s: the busier the
    // machine, the fewer tries and timed acquires succeed, never those.
    let blocking = Arc::new(AtomicUsize::new(0));
    let (l, ins, ent, blk) = (
        Arc::clone(&lock),
        Arc::clone(&inside),
        Arc::clone(&entries),
        Arc::clone(&blocking),
    );
    run(move |_| {
        let mut rng = rand::thread_rng();
        for _ in 0..ITERS {
            let guard = match rng.gen_range(0..3) {
                0 => {
                    blk.fetch_add(1, SeqCst);
                    Some(l.acquire())
                }
                1 => l.try_acquire(),
                _ => l.acquire_timeout(random_timeout(&mut rng, 200)),
            };
            if let Some(mut g) = guard {
                assert_eq!(ins.fetch_add(1, SeqCst), 0, "two threads hold the lock");
                // A non-atomic read-modify-write: lost updates would show.
                let seen = *g;
                thread::yield_now();
                *g = seen + 1;
                ins.fetch_sub(1, SeqCst);
                ent.fetch_add(1, SeqCst);
            }
        }
    });
    assert!(!lock.locked());
    assert_eq!(*lock.acquire(), entries.load(SeqCst));
    assert!(
        entries.load(SeqCst) >= blocking.load(SeqCst),
        "blocking acquires always enter"
    );
}

#[test]
fn rlock_owner_exclusion_with_nesting() {
    const NOBODY: usize = usize::MAX;
    let lock = Arc::new(RLock::new(Cell::new(0usize)));
    let owner = Arc::new(AtomicUsize::new(NOBODY));
    let entries = Arc::new(AtomicUsize::new(0));
    let (l, own, ent) = (Arc::clone(&lock), Arc::clone(&owner), Arc::clone(&entries));
    run(move |me| {
        let mut rng = rand::thread_rng();
        for _ in 0..ITERS {
            let outer = match rng.gen_range(0..3) {
                0 => Some(l.acquire()),
                1 => l.try_acquire(),
                _ => l.acquire_timeout(random_timeout(&mut rng, 200)),
            };
            let Some(outer) = outer else { continue };
            assert_eq!(own.swap(me, SeqCst), NOBODY, "two owners");
            // Re-entry never blocks, whatever the form.
            let depth = rng.gen_range(0..3);
            let inner: Vec<_> = (0..depth)
                .map(|d| {
                    if d % 2 == 0 {
                        l.try_acquire().expect("owner re-enters")
                    } else {
                        l.acquire_timeout(Duration::ZERO).expect("owner re-enters")
                    }
                })
                .collect();
            assert!(l.is_owned());
            outer.set(outer.get() + 1);
            assert_eq!(own.load(SeqCst), me);
            drop(inner);
            own.store(NOBODY, SeqCst);
            ent.fetch_add(1, SeqCst);
            drop(outer);
        }
    });
    assert!(!lock.locked());
    assert_eq!(lock.acquire().get(), entries.load(SeqCst));
}

#[test]
fn semaphore_never_exceeds_value() {
    const VALUE: usize = 3;
    let sem = Arc::new(Semaphore::new(VALUE));
    let inside = Arc::new(AtomicUsize::new(0));
    let max_inside = Arc::new(AtomicUsize::new(0));
    let (s, ins, max) = (
        Arc::clone(&sem),
        Arc::clone(&inside),
        Arc::clone(&max_inside),
    );
    run(move |_| {
        let mut rng = rand::thread_rng();
        for _ in 0..ITERS {
            let permit = match rng.gen_range(0..4) {
                0 => Some(s.acquire()),
                1 => s.try_acquire(),
                _ => s.acquire_timeout(random_timeout(&mut rng, 300)),
            };
            let Some(permit) = permit else { continue };
            let now = ins.fetch_add(1, SeqCst) + 1;
            assert!(now <= VALUE, "{now} holders of {VALUE} permits");
            max.fetch_max(now, SeqCst);
            thread::yield_now();
            ins.fetch_sub(1, SeqCst);
            if rng.gen_bool(0.5) {
                drop(permit);
            } else {
                // Python style: acquire, then release by hand.
                permit.forget();
                s.release(1).unwrap();
            }
        }
    });
    assert_eq!(sem.value(), VALUE, "permits lost or invented");
    assert!(max_inside.load(SeqCst) <= VALUE);
}

#[test]
fn bounded_semaphore_hand_off_between_threads() {
    // Permits are taken by one set of threads and released by another, as
    // Python code may do; the bound is never exceeded and nothing is lost.
    const VALUE: usize = 4;
    let sem = Arc::new(BoundedSemaphore::new(VALUE));
    let taken = Arc::new(AtomicUsize::new(0));
    let (s, tk) = (Arc::clone(&sem), Arc::clone(&taken));
    run(move |i| {
        let mut rng = rand::thread_rng();
        for _ in 0..ITERS {
            assert!(s.value() <= VALUE);
            if i % 2 == 0 {
                if let Some(p) = s.acquire_timeout(random_timeout(&mut rng, 300)) {
                    p.forget();
                    tk.fetch_add(1, SeqCst);
                }
            } else if tk
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                // Release only what some thread took: always within the bound.
                s.release(1).expect("release of a taken permit");
            } else {
                thread::yield_now();
            }
        }
    });
    let outstanding = taken.load(SeqCst);
    assert_eq!(sem.value() + outstanding, VALUE);
    // `release(0)` is an error, as Python's `ValueError`.
    if outstanding > 0 {
        sem.release(outstanding).unwrap();
    }
    assert_eq!(sem.value(), VALUE);
    assert!(sem.release(1).is_err());
}

#[test]
fn condition_producers_consumers_lose_nothing() {
    let per_producer = ITERS;
    let producers = THREADS / 2;
    let total = producers * per_producer;
    let queue = Arc::new(Condition::new((VecDeque::new(), 0usize)));
    let sum = Arc::new(AtomicUsize::new(0));
    let count = Arc::new(AtomicUsize::new(0));
    let (q, sm, cnt) = (Arc::clone(&queue), Arc::clone(&sum), Arc::clone(&count));
    run(move |i| {
        let mut rng = rand::thread_rng();
        if i < producers {
            for n in 0..per_producer {
                let mut g = q.acquire();
                g.0.push_back(i * per_producer + n);
                if rng.gen_bool(0.5) {
                    g.notify(1);
                } else {
                    g.notify_all();
                }
            }
        } else {
            loop {
                let mut g = q.acquire();
                // .1 counts items taken; stop once every item is taken.
                let ready = match rng.gen_range(0..3) {
                    0 => g.wait_for(|(q, taken)| !q.is_empty() || *taken == total, None),
                    _ => g.wait_for(
                        |(q, taken)| !q.is_empty() || *taken == total,
                        Some(random_timeout(&mut rng, 500)),
                    ),
                };
                if !ready {
                    continue; // timed out: try again
                }
                match g.0.pop_front() {
                    Some(item) => {
                        g.1 += 1;
                        if g.1 == total {
                            g.notify_all(); // release the other consumers
                        }
                        drop(g);
                        sm.fetch_add(item, SeqCst);
                        cnt.fetch_add(1, SeqCst);
                    }
                    None => break,
                }
            }
        }
    });
    assert_eq!(count.load(SeqCst), total);
    assert_eq!(sum.load(SeqCst), total * (total - 1) / 2);
    assert!(queue.acquire().0.is_empty());
}

#[test]
fn event_waiters_all_see_set() {
    let rounds = if cfg!(miri) { 2 } else { 100 };
    for _ in 0..rounds {
        let event = Arc::new(Event::new());
        let seen = Arc::new(AtomicUsize::new(0));
        let setter_done = Arc::new(AtomicBool::new(false));
        let (e, sn, done) = (
            Arc::clone(&event),
            Arc::clone(&seen),
            Arc::clone(&setter_done),
        );
        run(move |i| {
            let mut rng = rand::thread_rng();
            if i == 0 {
                // Flicker the flag, then leave it set.
                for _ in 0..rng.gen_range(0..5) {
                    e.set();
                    e.clear();
                }
                thread::sleep(random_timeout(&mut rng, 2000));
                e.set();
                done.store(true, SeqCst);
                return;
            }
            loop {
                let set = match rng.gen_range(0..3) {
                    0 => e.is_set(),
                    1 => e.wait_timeout(random_timeout(&mut rng, 500)),
                    _ => {
                        e.wait();
                        true
                    }
                };
                if set {
                    break;
                }
                thread::yield_now();
            }
            sn.fetch_add(1, SeqCst);
        });
        assert!(setter_done.load(SeqCst));
        assert!(event.is_set());
        assert_eq!(seen.load(SeqCst), THREADS - 1);
    }
}

#[test]
fn barrier_cycles_distinct_indices_and_one_action_each() {
    let cycles = if cfg!(miri) { 3 } else { 300 };
    let actions = Arc::new(AtomicUsize::new(0));
    let a = Arc::clone(&actions);
    let barrier = Arc::new(Barrier::with_action(THREADS, move || {
        a.fetch_add(1, SeqCst);
    }));
    let masks: Arc<Vec<AtomicUsize>> = Arc::new((0..cycles).map(|_| AtomicUsize::new(0)).collect());
    let (b, m, acts) = (
        Arc::clone(&barrier),
        Arc::clone(&masks),
        Arc::clone(&actions),
    );
    run(move |_| {
        for (cycle, mask) in m.iter().enumerate() {
            let index = b.wait().expect("unbroken barrier");
            assert!(index < THREADS);
            let before = mask.fetch_or(1 << index, SeqCst);
            assert_eq!(before & (1 << index), 0, "index {index} given twice");
            // The action ran for this cycle before anyone was released, and
            // the next cycle cannot run it before this thread arrives again.
            assert_eq!(acts.load(SeqCst), cycle + 1);
        }
    });
    for mask in masks.iter() {
        assert_eq!(mask.load(SeqCst), (1 << THREADS) - 1);
    }
    assert_eq!(actions.load(SeqCst), cycles);
    assert!(!barrier.broken());
}

#[test]
fn barrier_random_timeouts_all_or_nothing() {
    let rounds = if cfg!(miri) { 3 } else { 150 };
    let barrier = Arc::new(Barrier::new(THREADS));
    let sync = Arc::new(Barrier::new(THREADS));
    let passed = Arc::new(AtomicUsize::new(0));
    let broken = Arc::new(AtomicUsize::new(0));
    let outcomes = Arc::new((0..rounds).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>());
    let (b, s, p, k, out) = (
        Arc::clone(&barrier),
        Arc::clone(&sync),
        Arc::clone(&passed),
        Arc::clone(&broken),
        Arc::clone(&outcomes),
    );
    run(move |_| {
        let mut rng = rand::thread_rng();
        for round in out.iter() {
            // Timeouts long enough that some rounds complete, short enough
            // that others break.
            let r = b.wait_timeout(random_timeout(&mut rng, 20_000));
            match r {
                Ok(i) => {
                    round.fetch_or(1 << i, SeqCst);
                    p.fetch_add(1, SeqCst);
                }
                Err(BrokenBarrierError) => {
                    k.fetch_add(1, SeqCst);
                }
            }
            // Everyone has left `b`; one thread resets it for the next round.
            if s.wait().unwrap() == 0 {
                b.reset();
            }
            s.wait().unwrap();
        }
    });
    let full = (1usize << THREADS) - 1;
    for round in outcomes.iter() {
        let m = round.load(SeqCst);
        assert!(m == 0 || m == full, "a round was half passed: {m:#b}");
    }
    assert_eq!(passed.load(SeqCst) + broken.load(SeqCst), rounds * THREADS);
    assert_eq!(passed.load(SeqCst) % THREADS, 0);
    assert!(!barrier.broken());
}

/// Threads and tasks share one semaphore: a task is a thread driving
/// `acquire_async` with `block_on`, or starting it and cancelling it at once.
/// The bound holds, no permit is lost or invented, and nobody hangs (a
/// cancelled task passes on the wake-up it may have had).
#[test]
fn semaphore_threads_and_tasks_share_permits() {
    const VALUE: usize = 2;
    let sem = Arc::new(Semaphore::new(VALUE));
    let inside = Arc::new(AtomicUsize::new(0));
    let (s, ins) = (Arc::clone(&sem), Arc::clone(&inside));
    run(move |_| {
        let mut rng = rand::thread_rng();
        for _ in 0..ITERS / 4 {
            let permit = match rng.gen_range(0..4) {
                0 => Some(s.acquire()),
                1 => Some(common::block_on(s.acquire_async())),
                2 => {
                    common::poll_once_and_cancel(s.acquire_async());
                    None
                }
                _ => s.acquire_timeout(random_timeout(&mut rng, 300)),
            };
            let Some(permit) = permit else { continue };
            let now = ins.fetch_add(1, SeqCst) + 1;
            assert!(now <= VALUE, "{now} holders of {VALUE} permits");
            thread::yield_now();
            ins.fetch_sub(1, SeqCst);
            drop(permit);
        }
    });
    assert_eq!(sem.value(), VALUE, "permits lost or invented");
}

/// Threads and tasks meet at one barrier, cycle after cycle; each cycle
/// hands out every index once.
#[test]
fn barrier_threads_and_tasks_cycle_together() {
    let rounds = if cfg!(miri) { 2 } else { 50 };
    let barrier = Arc::new(Barrier::new(THREADS));
    let seen: Arc<Vec<AtomicUsize>> = Arc::new((0..THREADS).map(|_| AtomicUsize::new(0)).collect());
    let (b, seen2) = (Arc::clone(&barrier), Arc::clone(&seen));
    run(move |i| {
        for _ in 0..rounds {
            let index = if i % 2 == 0 {
                b.wait()
            } else {
                common::block_on(b.wait_async())
            };
            seen2[index.unwrap()].fetch_add(1, SeqCst);
        }
    });
    assert!(seen.iter().all(|n| n.load(SeqCst) == rounds));
    assert!(!barrier.broken());
}
