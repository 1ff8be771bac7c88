//! loom models of Lock, RLock, Condition, Event, Semaphore and Barrier, their
//! thread faces and (on the monitor) their task faces together.
//!
//! loom runs each model under every interleaving (bounded by
//! `LOOM_MAX_PREEMPTIONS`) and reports a deadlock if a thread stays blocked
//! forever, so a lost wake-up fails a model. loom does not model time: only
//! untimed and `try_` forms are used. A task is a loom thread running
//! `loom::future::block_on`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

use crate::loom::sync::Arc;
use crate::threading::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, Lock, RLock, Semaphore,
};
use crate::util::Deadline;
use crate::util::monitor::{Monitor, WaitList};

#[test]
fn loom_lock_mutual_exclusion() {
    loom::model(|| {
        let lock = Arc::new(Lock::new(0usize));
        let l = Arc::clone(&lock);
        let t = thread::spawn(move || {
            let mut g = l.acquire();
            let seen = *g;
            *g = seen + 1;
        });
        {
            let mut g = lock.acquire();
            let seen = *g;
            *g = seen + 1;
        }
        t.join().unwrap();
        assert_eq!(*lock.acquire(), 2);
    });
}

#[test]
fn loom_lock_try_acquire_excludes() {
    loom::model(|| {
        let lock = Arc::new(Lock::new(()));
        let inside = Arc::new(AtomicUsize::new(0));
        let enter = |lock: &Lock<()>, inside: &AtomicUsize| {
            if let Some(g) = lock.try_acquire() {
                assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders");
                inside.fetch_sub(1, SeqCst);
                drop(g);
            }
        };
        let (l, i) = (Arc::clone(&lock), Arc::clone(&inside));
        let t = thread::spawn(move || enter(&l, &i));
        enter(&lock, &inside);
        t.join().unwrap();
        assert!(!lock.locked());
    });
}

#[test]
fn loom_condition_handoff_no_lost_wakeup() {
    loom::model(|| {
        let cond = Arc::new(Condition::new(false));
        let c = Arc::clone(&cond);
        let t = thread::spawn(move || {
            let mut ready = c.acquire();
            *ready = true;
            ready.notify(1);
        });
        {
            let mut ready = cond.acquire();
            while !*ready {
                ready.wait();
            }
        }
        t.join().unwrap();
    });
}

#[test]
fn loom_condition_wait_for_returns_predicate() {
    loom::model(|| {
        let cond = Arc::new(Condition::new(0usize));
        let c = Arc::clone(&cond);
        let t = thread::spawn(move || {
            let mut n = c.acquire();
            *n += 1;
            n.notify_all();
        });
        let mut n = cond.acquire();
        assert!(n.wait_for(|n| *n == 1, None));
        assert_eq!(*n, 1);
        drop(n);
        t.join().unwrap();
    });
}

#[test]
fn loom_event_set_wait() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let e = Arc::clone(&event);
        let t = thread::spawn(move || e.set());
        event.wait();
        assert!(event.is_set());
        t.join().unwrap();
    });
}

#[test]
fn loom_semaphore_one_excludes() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let enter = |sem: &Semaphore, inside: &AtomicUsize| {
            let permit = sem.acquire();
            assert_eq!(inside.fetch_add(1, SeqCst), 0, "two permits of one");
            inside.fetch_sub(1, SeqCst);
            drop(permit);
        };
        let (s, i) = (Arc::clone(&sem), Arc::clone(&inside));
        let t = thread::spawn(move || enter(&s, &i));
        enter(&sem, &inside);
        t.join().unwrap();
        assert_eq!(sem.value(), 1);
    });
}

#[test]
fn loom_semaphore_release_wakes_waiter() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = Arc::clone(&sem);
        let t = thread::spawn(move || s.acquire().forget());
        sem.release(1).unwrap();
        t.join().unwrap();
        assert_eq!(sem.value(), 0);
        assert!(sem.try_acquire().is_none());
    });
}

#[test]
fn loom_bounded_semaphore_release_across_threads() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        sem.acquire().forget();
        let s = Arc::clone(&sem);
        let t = thread::spawn(move || s.release(1));
        let permit = sem.acquire();
        assert_eq!(t.join().unwrap(), Ok(()));
        drop(permit);
        assert!(sem.release(1).is_err());
        assert_eq!(sem.value(), 1);
    });
}

#[test]
fn loom_barrier_two_pass_with_distinct_indices() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let b = Arc::clone(&barrier);
        let t = thread::spawn(move || b.wait());
        let mine = barrier.wait().unwrap();
        let theirs = t.join().unwrap().unwrap();
        assert_ne!(mine, theirs);
        assert!(mine < 2 && theirs < 2);
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn loom_barrier_abort_breaks_waiter() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let b = Arc::clone(&barrier);
        let t = thread::spawn(move || b.wait());
        barrier.abort();
        assert_eq!(t.join().unwrap(), Err(BrokenBarrierError));
        assert!(barrier.broken());
    });
}

#[test]
fn loom_rlock_reentrant_and_exclusive() {
    loom::model(|| {
        let lock = Arc::new(RLock::new(()));
        let inside = Arc::new(AtomicUsize::new(0));
        let enter = |lock: &RLock<()>, inside: &AtomicUsize| {
            let outer = lock.acquire();
            assert_eq!(inside.fetch_add(1, SeqCst), 0, "two owners");
            let inner = lock.acquire(); // re-entrant: no deadlock
            assert!(lock.is_owned());
            inside.fetch_sub(1, SeqCst);
            drop(inner);
            drop(outer);
        };
        let (l, i) = (Arc::clone(&lock), Arc::clone(&inside));
        let t = thread::spawn(move || enter(&l, &i));
        enter(&lock, &inside);
        t.join().unwrap();
        assert!(!lock.locked());
    });
}

/// A task and a thread wait for permits in one line; two permits released
/// one at a time reach both, whoever came first.
#[test]
fn loom_semaphore_task_and_thread_share_permits() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let task = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || loom::future::block_on(sem.acquire_async()).forget())
        };
        let waiter = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire().forget())
        };
        sem.release(1).unwrap();
        sem.release(1).unwrap();
        task.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

/// A task that was waiting for a permit and is dropped (cancelled) never
/// keeps the permit or its wake-up from the thread behind it.
#[test]
fn loom_semaphore_cancelled_task_passes_its_permit_on() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let task = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || {
                let mut acquire = pin!(sem.acquire_async());
                let mut cx = Context::from_waker(Waker::noop());
                // Either gets the permit (and gives it back on drop) or
                // leaves the line.
                let _ = acquire.as_mut().poll(&mut cx);
            })
        };
        let waiter = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire().forget())
        };
        sem.release(1).unwrap();
        task.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

/// `notify(1)` twice, each after adding one item, lets both of two waiters
/// through: Python's FIFO `notify(n)` on the monitor's list.
#[test]
fn loom_condition_notify_one_each() {
    loom::model(|| {
        let cond = Arc::new(Condition::new(0usize));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let c = Arc::clone(&cond);
                thread::spawn(move || {
                    let mut items = c.acquire();
                    while *items == 0 {
                        items.wait();
                    }
                    *items -= 1;
                })
            })
            .collect();
        for _ in 0..2 {
            let mut items = cond.acquire();
            *items += 1;
            items.notify(1);
        }
        for c in consumers {
            c.join().unwrap();
        }
        assert_eq!(*cond.acquire(), 0);
    });
}

/// A thread and a task meet at one barrier.
#[test]
fn loom_barrier_thread_meets_task() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let task = {
            let b = Arc::clone(&barrier);
            thread::spawn(move || loom::future::block_on(b.wait_async()))
        };
        let mine = barrier.wait().unwrap();
        let theirs = task.join().unwrap().unwrap();
        assert_ne!(mine, theirs);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// The condition protocol for tasks (`asyncio::Condition::wait` on the
/// monitor): a task listed by `notified` under the list's lock is first in
/// line; cancelled after a `notify(1)` took it, before acting on it, it
/// hands the notification on to the thread behind it.
#[test]
fn loom_condition_cancelled_notified_task_hands_on() {
    loom::model(|| {
        let list = Arc::new(Monitor::new(WaitList::default()));
        let notified = list.notified(&mut list.lock());
        let waiter = {
            let list = Arc::clone(&list);
            thread::spawn(move || {
                let mut state = list.lock();
                assert!(list.wait_for_notify(&mut state, Deadline::Never, || {}));
            })
        };
        while list.lock().len() < 2 {
            thread::yield_now();
        }
        // notify(1): the task, first in line.
        let mut state = list.lock();
        let woken = list.take(&mut state, 1);
        drop(state);
        woken.wake();
        drop(notified);
        waiter.join().unwrap();
        assert!(!list.has_waiters());
    });
}
