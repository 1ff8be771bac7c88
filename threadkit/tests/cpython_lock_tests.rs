//! Behaviours of CPython's `Lib/test/lock_tests.py`, ported to threadkit.
//!
//! # Provenance and license
//!
//! The test *behaviours* below come from CPython 3.11's `Lib/test/lock_tests.py`
//! (classes `BaseLockTests`, `LockTests`, `RLockTests`, `EventTests`,
//! `ConditionTests`, `BaseSemaphoreTests`, `SemaphoreTests`,
//! `BoundedSemaphoreTests` and `BarrierTests`). CPython is Copyright (c) 2001
//! Python Software Foundation and distributed under the PSF License Agreement.
//! This file ports behaviour, not code: each test is written anew in Rust and
//! cites, in a comment, the CPython test whose behaviour it checks.
//!
//! # How the port reads
//!
//! - CPython's `Bunch` of threads is [`bunch`]: `n` `std::thread`s joined at
//!   the end of the test, panics propagated.
//! - `wait_threads_blocked(n)` is [`let_threads_block`]: a short sleep after
//!   which threads that should be blocked are checked to still be blocked. A
//!   slow machine can only make such a check pass more easily, never fail.
//! - `support.sleeping_retry(SHORT_TIMEOUT)` is [`wait_for`]: poll until a
//!   condition holds, panicking after a generous hang guard.
//! - Timeouts are only bounded from below (a timed wait must not return before
//!   most of its timeout passed), never tightly from above.
//! - Python misuse that Rust's types rule out (releasing an unowned lock,
//!   negative timeouts or semaphore values, waiting on an unacquired
//!   condition) is skipped with a comment saying so.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::threading::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, Lock, LockGuard, RLock,
    RLockGuard, Semaphore, TooManyReleases,
};

mod common;
use common::{
    HANG_GUARD, assert_waited, bunch, counter, join, let_threads_block, thread_id, wait_asleep,
    wait_for,
};

// ---------------------------------------------------------------------------
// BaseLockTests, written once for Lock and RLock
// ---------------------------------------------------------------------------

/// What CPython's `BaseLockTests` asks of a lock class: Python's lock API,
/// here over `()`. `Lock` and `RLock` run the same `base_*` bodies below,
/// as `LockTests` and `RLockTests` inherit `BaseLockTests`.
trait BaseLock: fmt::Debug + Send + Sync + 'static {
    type Guard<'a>;
    fn create() -> Self;
    fn acquire(&self) -> Self::Guard<'_>;
    fn try_acquire(&self) -> Option<Self::Guard<'_>>;
    fn acquire_timeout(&self, timeout: Duration) -> Option<Self::Guard<'_>>;
    fn locked(&self) -> bool;
}

impl BaseLock for Lock {
    type Guard<'a> = LockGuard<'a, ()>;
    fn create() -> Self {
        Lock::new(())
    }
    fn acquire(&self) -> Self::Guard<'_> {
        Lock::acquire(self)
    }
    fn try_acquire(&self) -> Option<Self::Guard<'_>> {
        Lock::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> Option<Self::Guard<'_>> {
        Lock::acquire_timeout(self, timeout)
    }
    fn locked(&self) -> bool {
        Lock::locked(self)
    }
}

impl BaseLock for RLock {
    type Guard<'a> = RLockGuard<'a, ()>;
    fn create() -> Self {
        RLock::new(())
    }
    fn acquire(&self) -> Self::Guard<'_> {
        RLock::acquire(self)
    }
    fn try_acquire(&self) -> Option<Self::Guard<'_>> {
        RLock::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> Option<Self::Guard<'_>> {
        RLock::acquire_timeout(self, timeout)
    }
    fn locked(&self) -> bool {
        RLock::locked(self)
    }
}

// lock_tests.py: BaseLockTests.test_constructor, BaseLockTests.test_repr
fn base_constructor_and_repr<L: BaseLock>() {
    let lock = L::create();
    assert!(!lock.locked());
    assert!(format!("{lock:?}").contains("locked: false"));
}

// lock_tests.py: BaseLockTests.test_locked_repr
fn base_locked_repr<L: BaseLock>() {
    let lock = L::create();
    let _g = lock.acquire();
    assert!(format!("{lock:?}").contains("locked: true"));
}

// lock_tests.py: BaseLockTests.test_acquire_release
fn base_acquire_release<L: BaseLock>() {
    let lock = L::create();
    let g = lock.acquire();
    assert!(lock.locked());
    drop(g);
    assert!(!lock.locked());
}

// lock_tests.py: BaseLockTests.test_try_acquire
fn base_try_acquire<L: BaseLock>() {
    let lock = L::create();
    let g = lock.try_acquire();
    assert!(g.is_some());
    drop(g);
    assert!(!lock.locked());
}

// lock_tests.py: BaseLockTests.test_try_acquire_contended
fn base_try_acquire_contended<L: BaseLock>() {
    let lock = Arc::new(L::create());
    let g = lock.acquire();
    let l = Arc::clone(&lock);
    let got = thread::spawn(move || l.try_acquire().is_some())
        .join()
        .unwrap();
    assert!(!got);
    drop(g);
}

// lock_tests.py: BaseLockTests.test_acquire_contended, held `depth` times
// (more than once only for a re-entrant lock): threads stay blocked until
// the last guard goes.
fn base_acquire_contended<L: BaseLock>(depth: usize) {
    const N: usize = 5;
    let lock = Arc::new(L::create());
    let finished = counter();
    let mut guards: Vec<_> = (0..depth).map(|_| lock.acquire()).collect();
    let threads = {
        let (lock, finished) = (Arc::clone(&lock), Arc::clone(&finished));
        bunch(N, move |_| {
            drop(lock.acquire());
            finished.fetch_add(1, SeqCst);
        })
    };
    let_threads_block(N);
    while guards.len() > 1 {
        drop(guards.pop());
        // Still held: the others stay blocked.
        let_threads_block(N);
    }
    assert_eq!(finished.load(SeqCst), 0, "threads passed a held lock");
    drop(guards);
    join(threads);
    assert_eq!(finished.load(SeqCst), N);
}

// lock_tests.py: BaseLockTests.test_with, held `depth` times when the
// exception passes.
fn base_with<L: BaseLock>(depth: usize) {
    let lock = Arc::new(L::create());
    // `with lock: pass`
    drop(lock.acquire());
    let l = Arc::clone(&lock);
    thread::spawn(move || drop(l.acquire())).join().unwrap();
    // `with lock: raise TypeError`: the exception passes, the lock is freed.
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let _g: Vec<_> = (0..depth).map(|_| lock.acquire()).collect();
        panic!("TypeError");
    }));
    assert!(r.is_err());
    assert!(!lock.locked());
    let l = Arc::clone(&lock);
    thread::spawn(move || drop(l.acquire())).join().unwrap();
}

// lock_tests.py: BaseLockTests.test_thread_leak
fn base_thread_leak<L: BaseLock>() {
    let lock = Arc::new(L::create());
    let entered = counter();
    let (l, e) = (Arc::clone(&lock), Arc::clone(&entered));
    join(bunch(15, move |_| {
        let _g = l.acquire();
        e.fetch_add(1, SeqCst);
    }));
    assert_eq!(entered.load(SeqCst), 15);
    assert!(!lock.locked());
}

// lock_tests.py: BaseLockTests.test_timeout, LockTests.test_state_after_timeout
// Negative timeouts (`ValueError`) cannot be written: `Duration` is unsigned.
// `blocking=False` with a timeout cannot be written: they are separate methods.
// Python's `OverflowError` for huge timeouts is "wait forever" here.
fn base_timeout<L: BaseLock>() {
    let lock = Arc::new(L::create());
    // TIMEOUT_MAX (and beyond) is fine on a free lock.
    drop(lock.acquire_timeout(Duration::MAX).expect("free lock"));
    let t = Instant::now();
    let g = lock
        .acquire_timeout(Duration::from_secs(5))
        .expect("free lock");
    assert!(t.elapsed() < Duration::from_secs(5));
    let l = Arc::clone(&lock);
    let (got, dt) = thread::spawn(move || {
        let t = Instant::now();
        let got = l.acquire_timeout(Duration::from_millis(500)).is_some();
        (got, t.elapsed())
    })
    .join()
    .unwrap();
    assert!(!got);
    assert_waited(dt, Duration::from_millis(500));
    drop(g);
    assert!(!lock.locked());
    let l = Arc::clone(&lock);
    assert!(
        thread::spawn(move || l.try_acquire().is_some())
            .join()
            .unwrap()
    );
}

// ---------------------------------------------------------------------------
// Lock (BaseLockTests + LockTests)
// ---------------------------------------------------------------------------

#[test]
fn lock_constructor_and_repr() {
    base_constructor_and_repr::<Lock>();
}

#[test]
fn lock_locked_repr() {
    base_locked_repr::<Lock>();
}

// lock_tests.py: BaseLockTests.test_acquire_destroy
#[test]
fn lock_acquire_destroy() {
    let lock = Lock::new(String::from("data"));
    std::mem::forget(lock.acquire());
    assert!(lock.locked());
    // Destroying a held lock is allowed and frees the data.
    assert_eq!(lock.into_inner(), "data");
}

// lock_tests.py: BaseLockTests.test_acquire_release, and the data it guards.
#[test]
fn lock_acquire_release() {
    base_acquire_release::<Lock>();
    let lock = Lock::new(0);
    let mut g = lock.acquire();
    *g += 1;
    assert!(lock.locked());
    g.release();
    assert!(!lock.locked());
    assert_eq!(*lock.acquire(), 1);
}

#[test]
fn lock_try_acquire() {
    base_try_acquire::<Lock>();
}

#[test]
fn lock_try_acquire_contended() {
    base_try_acquire_contended::<Lock>();
}

#[test]
fn lock_acquire_contended() {
    base_acquire_contended::<Lock>(1);
}

#[test]
fn lock_with_releases_on_panic() {
    base_with::<Lock>(1);
}

// lock_tests.py: BaseLockTests.test_thread_leak, and the data it guards.
#[test]
fn lock_many_foreign_threads() {
    base_thread_leak::<Lock>();
    let lock = Arc::new(Lock::new(0));
    let l = Arc::clone(&lock);
    join(bunch(15, move |_| *l.acquire() += 1));
    assert_eq!(*lock.acquire(), 15);
    assert!(!lock.locked());
}

#[test]
fn lock_timeout() {
    base_timeout::<Lock>();
}

// lock_tests.py: BaseLockTests.test_weakref_exists, test_weakref_deleted
// Not ported: weak references to a lock are `std::sync::Weak` over an `Arc`,
// and their behaviour belongs to std, not to threadkit.

// lock_tests.py: LockTests.test_reacquire
// A thread that holds the lock blocks when it acquires it again (Python
// deadlocks until another thread releases); here the second attempt uses a
// timeout, because another thread cannot release this thread's guard.
#[test]
fn lock_reacquire_blocks() {
    let lock = Arc::new(Lock::new(()));
    let phase = counter();
    let t = {
        let (lock, phase) = (Arc::clone(&lock), Arc::clone(&phase));
        thread::spawn(move || {
            let g = lock.acquire();
            phase.fetch_add(1, SeqCst);
            assert!(lock.acquire_timeout(Duration::from_millis(50)).is_none());
            assert!(lock.try_acquire().is_none());
            drop(g);
            let _again = lock.acquire();
            phase.fetch_add(1, SeqCst);
        })
    };
    wait_for("second phase", || phase.load(SeqCst) == 2);
    t.join().unwrap();
    assert!(!lock.locked());
}

// lock_tests.py: LockTests.test_different_thread
// Releasing a `Lock` from another thread cannot be written: a `LockGuard` is
// `!Send` (see tests/send_sync.rs). The documented replacement is a
// `Semaphore` of 1, which does allow the hand-off; check that it does.
#[test]
fn lock_different_thread_release_via_semaphore() {
    let sem = Arc::new(Semaphore::new(1));
    sem.acquire().forget();
    assert!(sem.try_acquire().is_none());
    let s = Arc::clone(&sem);
    thread::spawn(move || s.release(1)).join().unwrap().unwrap();
    drop(sem.acquire());
    assert_eq!(sem.value(), 1);
}

// lock_tests.py: LockTests.test_state_after_timeout
#[test]
fn lock_state_after_timeout() {
    let lock = Arc::new(Lock::new(()));
    let g = lock.acquire();
    let l = Arc::clone(&lock);
    let timed_out = thread::spawn(move || l.acquire_timeout(Duration::from_millis(10)).is_none())
        .join()
        .unwrap();
    assert!(timed_out);
    drop(g);
    assert!(!lock.locked());
    assert!(lock.try_acquire().is_some());
}

// lock_tests.py: LockTests.test_at_fork_reinit — not ported: no fork support.

// ---------------------------------------------------------------------------
// RLock (BaseLockTests + RLockTests)
// ---------------------------------------------------------------------------

// lock_tests.py: BaseLockTests.test_constructor, test_repr, test_locked_repr (RLock)
#[test]
fn rlock_constructor_and_repr() {
    base_constructor_and_repr::<RLock>();
    base_locked_repr::<RLock>();
    let lock = RLock::new(());
    let _g = lock.acquire();
    assert!(format!("{lock:?}").contains("owned_by_current_thread: true"));
}

#[test]
fn rlock_acquire_release_and_try_acquire() {
    base_acquire_release::<RLock>();
    base_try_acquire::<RLock>();
}

// lock_tests.py: BaseLockTests.test_try_acquire_contended (RLock)
#[test]
fn rlock_try_acquire_contended() {
    base_try_acquire_contended::<RLock>();
    let lock = Arc::new(RLock::new(()));
    let g = lock.acquire();
    // The owner may take it again without blocking...
    assert!(lock.try_acquire().is_some());
    // ...another thread may not.
    let l = Arc::clone(&lock);
    assert!(
        !thread::spawn(move || l.try_acquire().is_some())
            .join()
            .unwrap()
    );
    drop(g);
}

// lock_tests.py: BaseLockTests.test_acquire_contended (RLock), held twice
#[test]
fn rlock_acquire_contended() {
    base_acquire_contended::<RLock>(2);
}

// lock_tests.py: BaseLockTests.test_with (RLock), held twice
#[test]
fn rlock_with_releases_on_panic() {
    base_with::<RLock>(2);
}

#[test]
fn rlock_many_foreign_threads() {
    base_thread_leak::<RLock>();
}

// lock_tests.py: BaseLockTests.test_timeout, LockTests.test_state_after_timeout (RLock)
#[test]
fn rlock_timeout() {
    base_timeout::<RLock>();
    let lock = RLock::new(());
    let _g = lock.acquire();
    // The owner never waits.
    assert!(lock.acquire_timeout(Duration::from_secs(5)).is_some());
}

// lock_tests.py: RLockTests.test_reacquire
#[test]
fn rlock_reacquire() {
    let lock = RLock::new(5);
    let a = lock.acquire();
    let b = lock.acquire();
    drop(b);
    let c = lock.acquire();
    assert_eq!(*c, 5);
    drop(c);
    assert!(lock.is_owned());
    drop(a);
    assert!(!lock.locked());
}

// lock_tests.py: RLockTests.test_release_unacquired, test_release_save_unacquired
// Releasing an RLock one does not hold cannot be written: release is the drop
// of a guard, so the type system rules out Python's `RuntimeError`. What
// remains is that the lock is free exactly when every guard is gone.
#[test]
fn rlock_released_when_last_guard_drops() {
    let lock = RLock::new(());
    let a = lock.acquire();
    let b = lock.acquire();
    let c = lock.acquire();
    drop(b);
    drop(a); // guards may go in any order
    assert!(lock.locked() && lock.is_owned());
    drop(c);
    assert!(!lock.locked() && !lock.is_owned());
}

// lock_tests.py: RLockTests.test_recursion_count
// threadkit has no `_recursion_count()`; the count is observed through
// `locked()`/`is_owned()` and through another thread's ability to acquire.
#[test]
fn rlock_recursion_count() {
    let lock = Arc::new(RLock::new(()));
    let mut guards: Vec<_> = (0..3).map(|_| lock.acquire()).collect();
    let free_elsewhere = |lock: &Arc<RLock<()>>| {
        let l = Arc::clone(lock);
        thread::spawn(move || l.try_acquire().is_some())
            .join()
            .unwrap()
    };
    while let Some(g) = guards.pop() {
        assert!(!free_elsewhere(&lock), "count > 0: held");
        drop(g);
    }
    assert!(free_elsewhere(&lock), "count 0: free");

    // Another thread's ownership shows as locked, not owned, here.
    let phase = Arc::new(Event::new());
    let holding = Arc::new(Event::new());
    let t = {
        let (lock, phase, holding) = (Arc::clone(&lock), Arc::clone(&phase), Arc::clone(&holding));
        thread::spawn(move || {
            let _g = lock.acquire();
            holding.set();
            phase.wait();
        })
    };
    holding.wait();
    assert!(lock.locked());
    assert!(!lock.is_owned());
    phase.set();
    t.join().unwrap();
    assert!(!lock.locked());
}

// lock_tests.py: RLockTests.test_different_thread
// Python checks that a non-owner's `release()` raises; that call cannot be
// written. The remaining behaviour: a non-owner cannot get in while the owner
// thread holds it.
#[test]
fn rlock_different_thread() {
    let lock = Arc::new(RLock::new(()));
    let held = Arc::new(Event::new());
    let finish = Arc::new(Event::new());
    let t = {
        let (lock, held, finish) = (Arc::clone(&lock), Arc::clone(&held), Arc::clone(&finish));
        thread::spawn(move || {
            let _g = lock.acquire();
            held.set();
            finish.wait();
        })
    };
    held.wait();
    assert!(lock.try_acquire().is_none());
    assert!(!lock.is_owned());
    finish.set();
    t.join().unwrap();
    assert!(lock.try_acquire().is_some());
}

// lock_tests.py: RLockTests.test__is_owned
#[test]
fn rlock_is_owned() {
    let lock = Arc::new(RLock::new(()));
    assert!(!lock.is_owned());
    let a = lock.acquire();
    assert!(lock.is_owned());
    let b = lock.acquire();
    assert!(lock.is_owned());
    let l = Arc::clone(&lock);
    assert!(!thread::spawn(move || l.is_owned()).join().unwrap());
    drop(b);
    assert!(lock.is_owned());
    drop(a);
    assert!(!lock.is_owned());
}

// ---------------------------------------------------------------------------
// Event (EventTests)
// ---------------------------------------------------------------------------

// lock_tests.py: EventTests.test_is_set
#[test]
fn event_is_set() {
    let evt = Event::new();
    assert!(!evt.is_set());
    evt.set();
    assert!(evt.is_set());
    evt.set();
    assert!(evt.is_set());
    evt.clear();
    assert!(!evt.is_set());
    evt.clear();
    assert!(!evt.is_set());
}

fn check_event_notify(evt: &Arc<Event>) {
    const N: usize = 5;
    let first = counter();
    let second = counter();
    let threads = {
        let (evt, first, second) = (Arc::clone(evt), Arc::clone(&first), Arc::clone(&second));
        bunch(N, move |_| {
            evt.wait();
            first.fetch_add(1, SeqCst);
            assert!(evt.wait_timeout(HANG_GUARD));
            second.fetch_add(1, SeqCst);
        })
    };
    let_threads_block(N);
    assert_eq!(first.load(SeqCst), 0, "wait returned before set");
    evt.set();
    join(threads);
    assert_eq!(first.load(SeqCst), N);
    assert_eq!(second.load(SeqCst), N);
}

// lock_tests.py: EventTests.test_notify
#[test]
fn event_notify_all_waiters() {
    let evt = Arc::new(Event::new());
    check_event_notify(&evt);
    // Again, after an explicit clear().
    evt.set();
    evt.clear();
    check_event_notify(&evt);
}

// lock_tests.py: EventTests.test_timeout
#[test]
fn event_timeout() {
    const N: usize = 5;
    let run = |evt: &Arc<Event>| {
        let results = Arc::new(StdMutex::new(Vec::new()));
        let (e, r) = (Arc::clone(evt), Arc::clone(&results));
        join(bunch(N, move |_| {
            let r1 = e.wait_timeout(Duration::ZERO);
            let t = Instant::now();
            let r2 = e.wait_timeout(Duration::from_millis(500));
            r.lock().unwrap().push((r1, r2, t.elapsed()));
        }));
        Arc::try_unwrap(results).unwrap().into_inner().unwrap()
    };
    let evt = Arc::new(Event::new());
    for (r1, r2, dt) in run(&evt) {
        assert!(!r1 && !r2);
        assert_waited(dt, Duration::from_millis(500));
    }
    evt.set();
    for (r1, r2, _) in run(&evt) {
        assert!(r1 && r2);
    }
}

// lock_tests.py: EventTests.test_set_and_clear (gh-57711)
#[test]
fn event_set_then_clear_still_wakes() {
    const N: usize = 5;
    let evt = Arc::new(Event::new());
    let woke = counter();
    let ids = Arc::new(StdMutex::new(Vec::new()));
    let threads = {
        let (evt, woke, ids) = (Arc::clone(&evt), Arc::clone(&woke), Arc::clone(&ids));
        bunch(N, move |_| {
            ids.lock().unwrap().push(thread_id());
            assert!(evt.wait_timeout(HANG_GUARD), "waiter missed set()");
            woke.fetch_add(1, SeqCst);
        })
    };
    wait_asleep(&ids, N);
    evt.set();
    evt.clear();
    join(threads);
    assert_eq!(woke.load(SeqCst), N);
}

// Regression for the same behaviour (gh-57711) in threadkit: `Event::wait`
// re-checked only the flag after waking, so a waiter that lost the race for
// the lock to a `clear()` right after `set()` went back to sleep. `Event` now
// also counts `set()`s. The race is rare under parking_lot (woken waiters are
// queued on the mutex ahead of the clearing thread), so this runs many rounds.
#[test]
fn event_set_clear_rounds_wake_every_waiter() {
    const N: usize = 8;
    for _ in 0..20 {
        let evt = Arc::new(Event::new());
        let ids = Arc::new(StdMutex::new(Vec::new()));
        let woke = counter();
        let threads = {
            let (evt, ids, woke) = (Arc::clone(&evt), Arc::clone(&ids), Arc::clone(&woke));
            bunch(N, move |_| {
                ids.lock().unwrap().push(thread_id());
                if evt.wait_timeout(HANG_GUARD) {
                    woke.fetch_add(1, SeqCst);
                }
            })
        };
        wait_asleep(&ids, N);
        evt.set();
        evt.clear();
        join(threads);
        assert_eq!(woke.load(SeqCst), N);
        assert!(!evt.is_set());
    }
}

// lock_tests.py: EventTests.test_at_fork_reinit — not ported: no fork support.

// ---------------------------------------------------------------------------
// Condition (ConditionTests)
// ---------------------------------------------------------------------------

// lock_tests.py: ConditionTests.test_acquire
// Python's default Condition lock is an RLock; threadkit's is a plain lock,
// so only the "held excludes others, release frees" half ports.
#[test]
fn condition_acquire() {
    let cond = Arc::new(Condition::new(()));
    let g = cond.acquire();
    assert!(cond.try_acquire().is_none());
    let c = Arc::clone(&cond);
    assert!(
        !thread::spawn(move || c.try_acquire().is_some())
            .join()
            .unwrap()
    );
    g.release();
    assert!(cond.try_acquire().is_some());
    assert!(cond.acquire_timeout(Duration::from_millis(10)).is_some());
}

// lock_tests.py: ConditionTests.test_unacquired_wait, test_unacquired_notify
// Not ported: `wait` and `notify` exist only on a `ConditionGuard`, so waiting
// or notifying without the lock (Python's `RuntimeError`) cannot be written.

#[derive(Default)]
struct NotifyState {
    phase: usize,
    ready: usize,
    results1: Vec<usize>,
    results2: Vec<usize>,
}

fn check_condition_notify(cond: &Arc<Condition<NotifyState>>) {
    const N: usize = 5;
    let wait_state = |what: &str, f: &dyn Fn(&NotifyState) -> bool| {
        wait_for(what, || f(&cond.acquire()));
    };
    *cond.acquire() = NotifyState::default();
    let threads = {
        let cond = Arc::clone(cond);
        bunch(N, move |_| {
            let mut g = cond.acquire();
            g.ready += 1;
            g.wait();
            let p = g.phase;
            g.results1.push(p);
            g.ready += 1;
            g.wait();
            let p = g.phase;
            g.results2.push(p);
        })
    };
    // `ready` is counted under the lock right before `wait`, so once we hold
    // the lock and see it, those threads are asleep in `wait`.
    wait_state("all in first wait", &|s| s.ready == N);
    assert!(cond.acquire().results1.is_empty());

    // Notify 3 of the 5.
    let count1 = 3;
    let mut g = cond.acquire();
    g.notify(count1);
    g.phase = 1;
    drop(g);
    wait_state("3 woken", &|s| s.results1.len() >= count1);
    let_threads_block(N);
    {
        let s = cond.acquire();
        // notify(3) woke at most 3 (parking_lot has no spurious wake-ups).
        assert_eq!(s.results1, vec![1; count1]);
        assert!(s.results2.is_empty());
    }

    // Notify 5: the 2 still in their first wait and the 3 in their second.
    wait_state("woken back in wait", &|s| s.ready == N + count1);
    let mut g = cond.acquire();
    g.notify(5);
    g.phase = 2;
    drop(g);
    let count2 = N - count1;
    wait_state("8 results", &|s| {
        s.results1.len() + s.results2.len() >= N + count1
    });
    {
        let s = cond.acquire();
        let mut expected1 = vec![1; count1];
        expected1.extend(vec![2; count2]);
        assert_eq!(s.results1, expected1);
        assert_eq!(s.results2, vec![2; count1]);
    }

    // notify_all: every thread is in its second wait.
    wait_state("all in second wait", &|s| s.ready == 2 * N);
    let mut g = cond.acquire();
    g.notify_all();
    g.phase = 3;
    drop(g);
    join(threads);
    let s = cond.acquire();
    let mut expected2 = vec![2; count1];
    expected2.extend(vec![3; count2]);
    assert_eq!(s.results2, expected2);
}

// lock_tests.py: ConditionTests.test_notify
#[test]
fn condition_notify_n_and_all() {
    let cond = Arc::new(Condition::new(NotifyState::default()));
    check_condition_notify(&cond);
    // A second time, to check the internal state is still fine.
    check_condition_notify(&cond);
}

// lock_tests.py: ConditionTests.test_timeout
#[test]
fn condition_wait_timeout() {
    const N: usize = 5;
    let cond = Arc::new(Condition::new(()));
    let results = Arc::new(StdMutex::new(Vec::new()));
    let (c, r) = (Arc::clone(&cond), Arc::clone(&results));
    join(bunch(N, move |_| {
        let mut g = c.acquire();
        let t = Instant::now();
        let notified = g.wait_timeout(Duration::from_millis(500));
        let dt = t.elapsed();
        drop(g);
        r.lock().unwrap().push((dt, notified));
    }));
    let results = results.lock().unwrap();
    assert_eq!(results.len(), N);
    for &(dt, notified) in results.iter() {
        assert_waited(dt, Duration::from_millis(500));
        // No spurious wake-ups in parking_lot, as in CPython's implementation.
        assert!(!notified);
    }
}

// lock_tests.py: ConditionTests.test_waitfor
#[test]
fn condition_wait_for_returns_predicate() {
    let cond = Arc::new(Condition::new(0));
    let c = Arc::clone(&cond);
    let t = thread::spawn(move || {
        let mut g = c.acquire();
        let result = g.wait_for(|state| *state == 4, None);
        assert!(result);
        assert_eq!(*g, 4);
    });
    for _ in 0..4 {
        thread::sleep(Duration::from_millis(10));
        let mut g = cond.acquire();
        *g += 1;
        g.notify(1);
    }
    t.join().unwrap();
}

// lock_tests.py: ConditionTests.test_waitfor_timeout
#[test]
fn condition_wait_for_timeout() {
    let cond = Arc::new(Condition::new(0));
    let c = Arc::clone(&cond);
    let t = thread::spawn(move || {
        let mut g = c.acquire();
        let start = Instant::now();
        let result = g.wait_for(|state| *state == 4, Some(Duration::from_millis(100)));
        assert!(!result);
        assert_waited(start.elapsed(), Duration::from_millis(100));
        true
    });
    // Only 3 increments: state == 4 is never reached.
    for _ in 0..3 {
        thread::sleep(Duration::from_millis(10));
        let mut g = cond.acquire();
        *g += 1;
        g.notify(1);
    }
    assert!(t.join().unwrap());
}

// ---------------------------------------------------------------------------
// Semaphore and BoundedSemaphore (BaseSemaphoreTests, run for both kinds)
// ---------------------------------------------------------------------------

/// What the shared semaphore tests need beyond the common inherent methods.
trait Sem: Send + Sync + 'static {
    fn with_value(n: usize) -> Self;
    fn default_sem() -> Self;
    /// A release the test knows to be legal.
    fn put_back(&self, n: usize);
}

impl Sem for Semaphore {
    fn with_value(n: usize) -> Self {
        Semaphore::new(n)
    }
    fn default_sem() -> Self {
        Semaphore::default()
    }
    fn put_back(&self, n: usize) {
        self.release(n).unwrap();
    }
}

impl Sem for BoundedSemaphore {
    fn with_value(n: usize) -> Self {
        BoundedSemaphore::new(n)
    }
    fn default_sem() -> Self {
        BoundedSemaphore::default()
    }
    fn put_back(&self, n: usize) {
        self.release(n).expect("release within the bound");
    }
}

macro_rules! base_semaphore_tests {
    ($modname:ident, $ty:ty) => {
        mod $modname {
            use super::*;

            type S = $ty;

            // lock_tests.py: BaseSemaphoreTests.test_constructor
            // Negative initial values (`ValueError`) cannot be written: the value is a `usize`.
            #[test]
            fn constructor() {
                assert_eq!(S::with_value(0).value(), 0);
                assert_eq!(S::with_value(7).value(), 7);
            }

            // lock_tests.py: BaseSemaphoreTests.test_acquire
            #[test]
            fn acquire() {
                let sem = S::with_value(1);
                sem.acquire().forget();
                assert_eq!(sem.value(), 0);
                sem.put_back(1);
                let sem = S::with_value(2);
                sem.acquire().forget();
                sem.acquire().forget();
                assert_eq!(sem.value(), 0);
                sem.put_back(1);
                sem.put_back(1);
                assert_eq!(sem.value(), 2);
            }

            // lock_tests.py: BaseSemaphoreTests.test_acquire_destroy
            #[test]
            fn acquire_destroy() {
                let sem = S::default_sem();
                sem.acquire().forget();
                // Destroying a semaphore with a permit out is fine.
                assert_eq!(sem.value(), 0);
            }

            // lock_tests.py: BaseSemaphoreTests.test_acquire_contended
            #[test]
            fn acquire_contended() {
                contended(|sem, n| {
                    for _ in 0..n {
                        sem.put_back(1);
                    }
                });
            }

            // lock_tests.py: BaseSemaphoreTests.test_multirelease
            #[test]
            fn multirelease() {
                contended(|sem, n| sem.put_back(n));
            }

            /// The phases shared by test_acquire_contended and test_multirelease:
            /// 10 threads each take two permits of a semaphore of 7 (one taken).
            fn contended(release: fn(&S, usize)) {
                const VALUE: usize = 7;
                const N: usize = 10;
                let sem = Arc::new(S::with_value(VALUE));
                sem.acquire().forget();
                let phase = Arc::new(AtomicUsize::new(0));
                let results = Arc::new(StdMutex::new(Vec::new()));
                let threads = {
                    let (sem, phase, results) =
                        (Arc::clone(&sem), Arc::clone(&phase), Arc::clone(&results));
                    bunch(N, move |_| {
                        for _ in 0..2 {
                            sem.acquire().forget();
                            results.lock().unwrap().push(phase.load(SeqCst));
                        }
                    })
                };
                let count = |n: usize| {
                    wait_for("acquisitions", || results.lock().unwrap().len() >= n);
                    let_threads_block(2);
                    let mut r = results.lock().unwrap().clone();
                    r.sort();
                    r
                };
                // Phase 0: the 6 free permits are taken, no more.
                let count1 = VALUE - 1;
                assert_eq!(count(count1), vec![0; count1]);
                // Phase 1.
                phase.store(1, SeqCst);
                release(&sem, VALUE);
                let count2 = VALUE;
                let mut expected = vec![0; count1];
                expected.extend(vec![1; count2]);
                assert_eq!(count(count1 + count2), expected);
                // Phase 2.
                phase.store(2, SeqCst);
                let count3 = VALUE - 1;
                release(&sem, count3);
                expected.extend(vec![2; count3]);
                assert_eq!(count(count1 + count2 + count3), expected);
                // The semaphore is still taken.
                assert!(sem.try_acquire().is_none());
                // Final release lets the last thread finish.
                release(&sem, 1);
                join(threads);
                assert_eq!(results.lock().unwrap().len(), 2 * N);
                assert_eq!(sem.value(), 0);
            }

            // lock_tests.py: BaseSemaphoreTests.test_try_acquire
            #[test]
            fn try_acquire() {
                let sem = S::with_value(2);
                sem.try_acquire().unwrap().forget();
                sem.try_acquire().unwrap().forget();
                assert!(sem.try_acquire().is_none());
                sem.put_back(1);
                assert!(sem.try_acquire().is_some());
            }

            // lock_tests.py: BaseSemaphoreTests.test_try_acquire_contended
            #[test]
            fn try_acquire_contended() {
                let sem = Arc::new(S::with_value(4));
                sem.acquire().forget();
                let results = Arc::new(StdMutex::new(Vec::new()));
                let (s, r) = (Arc::clone(&sem), Arc::clone(&results));
                join(bunch(5, move |_| {
                    for _ in 0..2 {
                        let got = s.try_acquire().map(|p| p.forget()).is_some();
                        r.lock().unwrap().push(got);
                    }
                }));
                let mut results = results.lock().unwrap().clone();
                results.sort();
                let mut expected = vec![false; 7];
                expected.extend([true; 3]);
                assert_eq!(results, expected);
            }

            // lock_tests.py: BaseSemaphoreTests.test_acquire_timeout
            // `blocking=False` with a timeout (`ValueError`) cannot be written.
            #[test]
            fn acquire_timeout() {
                let sem = S::with_value(2);
                let short = Duration::from_millis(5);
                sem.acquire_timeout(short).unwrap().forget();
                sem.acquire_timeout(short).unwrap().forget();
                assert!(sem.acquire_timeout(short).is_none());
                sem.put_back(1);
                sem.acquire_timeout(short).unwrap().forget();
                let t = Instant::now();
                assert!(sem.acquire_timeout(Duration::from_millis(500)).is_none());
                assert_waited(t.elapsed(), Duration::from_millis(500));
                assert!(
                    sem.acquire_deadline(Instant::now() + Duration::from_millis(5))
                        .is_none()
                );
            }

            // lock_tests.py: BaseSemaphoreTests.test_default_value
            #[test]
            fn default_value() {
                let sem = Arc::new(S::default_sem());
                assert_eq!(sem.value(), 1);
                sem.acquire().forget();
                let finished = Arc::new(Event::new());
                let t = {
                    let (sem, finished) = (Arc::clone(&sem), Arc::clone(&finished));
                    thread::spawn(move || {
                        drop(sem.acquire());
                        finished.set();
                    })
                };
                let_threads_block(1);
                assert!(!finished.is_set(), "passed an empty semaphore");
                sem.put_back(1);
                t.join().unwrap();
                assert!(finished.is_set());
                assert_eq!(sem.value(), 1);
            }

            // lock_tests.py: BaseSemaphoreTests.test_with
            #[test]
            fn with() {
                let sem = S::with_value(2);
                let body = |fail: bool| {
                    let _outer = sem.acquire();
                    // One permit left: take it and give it back.
                    sem.try_acquire().expect("second permit").forget();
                    sem.put_back(1);
                    let _inner = sem.acquire();
                    assert!(sem.try_acquire().is_none());
                    if fail {
                        panic!("TypeError");
                    }
                };
                body(false);
                assert_eq!(sem.value(), 2);
                assert!(panic::catch_unwind(AssertUnwindSafe(|| body(true))).is_err());
                // The permits went back while the panic unwound.
                assert_eq!(sem.value(), 2);
                assert!(sem.try_acquire().is_some());
            }
        }
    };
}

base_semaphore_tests!(semaphore, Semaphore);
base_semaphore_tests!(bounded_semaphore, BoundedSemaphore);

// lock_tests.py: SemaphoreTests.test_release_unacquired
#[test]
fn semaphore_release_unacquired() {
    let sem = Semaphore::new(1);
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 2);
    sem.acquire().forget();
    sem.acquire().forget();
    assert!(sem.try_acquire().is_none());
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 1);
}

// lock_tests.py: SemaphoreTests.test_repr
#[test]
fn semaphore_repr() {
    let sem = Semaphore::new(3);
    assert_eq!(format!("{sem:?}"), "Semaphore { value: 3 }");
    sem.acquire().forget();
    assert_eq!(format!("{sem:?}"), "Semaphore { value: 2 }");
    sem.release(1).unwrap();
    sem.release(1).unwrap();
    assert_eq!(format!("{sem:?}"), "Semaphore { value: 4 }");
}

// lock_tests.py: BoundedSemaphoreTests.test_release_unacquired
#[test]
fn bounded_semaphore_release_unacquired() {
    let sem = BoundedSemaphore::default();
    assert_eq!(sem.release(1), Err(TooManyReleases { bound: 1 }.into()));
    assert_eq!(sem.value(), 1, "a refused release adds nothing");
    sem.acquire().forget();
    assert_eq!(sem.release(1), Ok(()));
    assert_eq!(sem.release(1), Err(TooManyReleases { bound: 1 }.into()));
    assert_eq!(sem.value(), 1);
    // release(n) past the bound adds none of the n.
    let sem = BoundedSemaphore::new(3);
    sem.acquire().forget();
    assert!(sem.release(2).is_err());
    assert_eq!(sem.value(), 2);
    assert!(sem.release(1).is_ok());
    assert_eq!(sem.value(), 3);
}

// lock_tests.py: BoundedSemaphoreTests.test_repr
#[test]
fn bounded_semaphore_repr() {
    let sem = BoundedSemaphore::new(3);
    assert!(format!("{sem:?}").contains("value: 3"));
    let p = sem.acquire();
    let repr = format!("{sem:?}");
    assert!(
        repr.contains("value: 2") && repr.contains("bound: Some(3)"),
        "{repr}"
    );
    drop(p);
}

// ---------------------------------------------------------------------------
// Barrier (BarrierTests)
// ---------------------------------------------------------------------------

const BN: usize = 5;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// BarrierTests.setUp: a barrier of 5 with a default timeout of 2 s.
fn test_barrier() -> Arc<Barrier> {
    Arc::new(Barrier::new(BN).with_timeout(DEFAULT_TIMEOUT))
}

/// BarrierTests.multipass: threads go through the barrier in lockstep.
fn barrier_passes(passes: usize) {
    let barrier = test_barrier();
    let phase0 = counter();
    let phase1 = counter();
    let (b, p0, p1) = (
        Arc::clone(&barrier),
        Arc::clone(&phase0),
        Arc::clone(&phase1),
    );
    join(bunch(BN, move |_| {
        assert_eq!(b.parties(), BN);
        for i in 0..passes {
            p0.fetch_add(1, SeqCst);
            assert_eq!(p1.load(SeqCst), i * BN);
            b.wait().unwrap();
            p1.fetch_add(1, SeqCst);
            assert_eq!(p0.load(SeqCst), (i + 1) * BN);
            b.wait().unwrap();
        }
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.broken());
    }));
    assert_eq!(phase1.load(SeqCst), passes * BN);
}

// lock_tests.py: BarrierTests.test_barrier
#[test]
fn barrier_lockstep() {
    barrier_passes(1);
}

// lock_tests.py: BarrierTests.test_barrier_10
#[test]
fn barrier_lockstep_10() {
    barrier_passes(10);
}

// lock_tests.py: BarrierTests.test_wait_return
// Stronger than Python's sum check: the indices are exactly 0..N.
#[test]
fn barrier_wait_return_distinct_indices() {
    let barrier = test_barrier();
    let results = Arc::new(StdMutex::new(Vec::new()));
    let (b, r) = (Arc::clone(&barrier), Arc::clone(&results));
    join(bunch(BN, move |_| {
        let i = b.wait().unwrap();
        r.lock().unwrap().push(i);
    }));
    let mut results = results.lock().unwrap().clone();
    results.sort();
    assert_eq!(results, (0..BN).collect::<Vec<_>>());
}

// lock_tests.py: BarrierTests.test_action
// Extended to several cycles: the action runs exactly once per cycle, before
// anyone is released.
#[test]
fn barrier_action_once_per_cycle() {
    let runs = counter();
    let r = Arc::clone(&runs);
    let barrier = Arc::new(Barrier::with_action(BN, move || {
        r.fetch_add(1, SeqCst);
    }));
    let (b, runs2) = (Arc::clone(&barrier), Arc::clone(&runs));
    join(bunch(BN, move |_| {
        for cycle in 1..=3 {
            b.wait().unwrap();
            assert_eq!(runs2.load(SeqCst), 2 * cycle - 1);
            b.wait().unwrap(); // keep cycles apart for the check above
            assert_eq!(runs2.load(SeqCst), 2 * cycle);
        }
    }));
    assert_eq!(runs.load(SeqCst), 6);
}

// lock_tests.py: BarrierTests.test_abort
#[test]
fn barrier_abort() {
    let barrier = test_barrier();
    let passed = counter();
    let broken = counter();
    let (b, p, k) = (
        Arc::clone(&barrier),
        Arc::clone(&passed),
        Arc::clone(&broken),
    );
    join(bunch(BN, move |_| {
        let result = b.wait().and_then(|i| {
            if i == BN / 2 {
                // Python raises RuntimeError here and aborts in the handler.
                b.abort();
                return Ok(false);
            }
            b.wait().map(|_| true)
        });
        match result {
            Ok(true) => {
                p.fetch_add(1, SeqCst);
            }
            Ok(false) => {}
            Err(BrokenBarrierError) => {
                k.fetch_add(1, SeqCst);
            }
        }
    }));
    assert_eq!(passed.load(SeqCst), 0);
    assert_eq!(broken.load(SeqCst), BN - 1);
    assert!(barrier.broken());
    assert_eq!(barrier.wait(), Err(BrokenBarrierError));
}

// lock_tests.py: BarrierTests.test_reset
#[test]
fn barrier_reset_frees_waiters() {
    let barrier = test_barrier();
    let passed = counter();
    let broken = counter();
    let again = counter();
    let (b, p, k, a) = (
        Arc::clone(&barrier),
        Arc::clone(&passed),
        Arc::clone(&broken),
        Arc::clone(&again),
    );
    join(bunch(BN, move |_| {
        let i = b.wait().unwrap();
        if i == BN / 2 {
            wait_for("others waiting", || b.n_waiting() >= BN - 1);
            b.reset();
        } else {
            match b.wait() {
                Ok(_) => p.fetch_add(1, SeqCst),
                Err(BrokenBarrierError) => k.fetch_add(1, SeqCst),
            };
        }
        // Pass the barrier again: reset made it usable.
        b.wait().unwrap();
        a.fetch_add(1, SeqCst);
    }));
    assert_eq!(passed.load(SeqCst), 0);
    assert_eq!(broken.load(SeqCst), BN - 1);
    assert_eq!(again.load(SeqCst), BN);
}

// lock_tests.py: BarrierTests.test_abort_and_reset
#[test]
fn barrier_abort_and_reset() {
    let barrier = test_barrier();
    let barrier2 = Arc::new(Barrier::new(BN));
    let passed = counter();
    let broken = counter();
    let again = counter();
    let (b, b2, p, k, a) = (
        Arc::clone(&barrier),
        Arc::clone(&barrier2),
        Arc::clone(&passed),
        Arc::clone(&broken),
        Arc::clone(&again),
    );
    join(bunch(BN, move |_| {
        match b.wait() {
            Ok(i) if i == BN / 2 => b.abort(),
            Ok(_) => match b.wait() {
                Ok(_) => {
                    p.fetch_add(1, SeqCst);
                }
                Err(_) => {
                    k.fetch_add(1, SeqCst);
                }
            },
            Err(_) => {
                k.fetch_add(1, SeqCst);
            }
        }
        // Everyone has left `b` before the reset, and no one enters it before.
        if b2.wait().unwrap() == BN / 2 {
            b.reset();
        }
        b2.wait().unwrap();
        b.wait().unwrap();
        a.fetch_add(1, SeqCst);
    }));
    assert_eq!(passed.load(SeqCst), 0);
    assert_eq!(broken.load(SeqCst), BN - 1);
    assert_eq!(again.load(SeqCst), BN);
    assert!(!barrier.broken());
}

// lock_tests.py: BarrierTests.test_timeout
#[test]
fn barrier_timeout_breaks() {
    let barrier = test_barrier();
    let b = Arc::clone(&barrier);
    join(bunch(BN, move |_| {
        let i = b.wait().unwrap();
        if i == BN / 2 {
            // One thread is late: it comes only once another's wait timed out.
            wait_for("a wait timed out", || b.broken());
        }
        assert_eq!(b.wait_timeout(DEFAULT_TIMEOUT / 4), Err(BrokenBarrierError));
    }));
    assert!(barrier.broken());
}

// lock_tests.py: BarrierTests.test_default_timeout
#[test]
fn barrier_default_timeout() {
    let timeout = Duration::from_millis(100);
    let barrier = Arc::new(Barrier::new(2).with_timeout(timeout));
    let start = Instant::now();
    let b = Arc::clone(&barrier);
    let r = thread::spawn(move || b.wait()).join().unwrap();
    assert_eq!(r, Err(BrokenBarrierError));
    assert!(start.elapsed() >= timeout);
    assert!(barrier.broken());
}

// lock_tests.py: BarrierTests.test_single_thread
#[test]
fn barrier_single_thread() {
    let b = Barrier::new(1);
    assert_eq!(b.wait(), Ok(0));
    assert_eq!(b.wait(), Ok(0));
}

// lock_tests.py: BarrierTests.test_repr
#[test]
fn barrier_repr() {
    let barrier = Arc::new(Barrier::new(3));
    let repr = |b: &Barrier| format!("{b:?}");
    assert!(repr(&barrier).contains("n_waiting: 0"));
    let b = Arc::clone(&barrier);
    let threads = bunch(2, move |_| {
        b.wait_timeout(HANG_GUARD).unwrap();
    });
    wait_for("2 waiting", || barrier.n_waiting() >= 2);
    assert!(repr(&barrier).contains("n_waiting: 2"));
    assert!(repr(&barrier).contains("parties: 3"));
    barrier.wait_timeout(HANG_GUARD).unwrap();
    join(threads);
    assert!(repr(&barrier).contains("n_waiting: 0"));
    barrier.abort();
    assert!(repr(&barrier).contains("broken: true"));
}

// threading.py: Barrier._release (the action's exception breaks the barrier
// and is re-raised in the thread that ran it; the others get
// BrokenBarrierError). Covered by lock_tests.py in CPython < 3.11 as
// BarrierTests.test_action_exception.
#[test]
fn barrier_action_panic_breaks() {
    let barrier = Arc::new(Barrier::with_action(3, || panic!("action failed")));
    let panicked = counter();
    let broken = counter();
    let (b, p, k) = (
        Arc::clone(&barrier),
        Arc::clone(&panicked),
        Arc::clone(&broken),
    );
    join(bunch(3, move |_| {
        match panic::catch_unwind(AssertUnwindSafe(|| b.wait())) {
            Err(_) => p.fetch_add(1, SeqCst),
            Ok(Err(BrokenBarrierError)) => k.fetch_add(1, SeqCst),
            Ok(Ok(i)) => panic!("passed a broken barrier with index {i}"),
        };
    }));
    assert_eq!(panicked.load(SeqCst), 1);
    assert_eq!(broken.load(SeqCst), 2);
    assert!(barrier.broken());
    barrier.reset();
    assert!(!barrier.broken());
}
