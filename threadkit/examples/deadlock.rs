//! Lesson: a deadlock from taking two locks in opposite orders, and its fix:
//! always take them in the same order.
//!
//! Tutorial: "Common Pitfalls: Deadlocks":
//!
//! ```python
//! def thread1():
//!     with lock1:
//!         time.sleep(0.1)
//!         with lock2:  # May deadlock if thread2 has lock2
//!             ...
//! def thread2():
//!     with lock2:
//!         time.sleep(0.1)
//!         with lock1:  # May deadlock if thread1 has lock1
//!             ...
//! ```
//!
//! A real deadlock would hang this program, so the second acquire waits with
//! a timeout and reports that it gave up. A `Barrier` replaces the tutorial's
//! `sleep(0.1)` so that both threads surely hold their first lock.
//!
//! While the two threads are stuck, the main thread asks
//! `threadkit::debug::find_deadlocks()` what is going on, which Python cannot
//! tell you: it names both threads and the lock each one waits for.
//!
//! Run: `cargo run --example deadlock`

use std::sync::Arc;
use std::time::Duration;

use threadkit::debug::{self, Deadlock};
use threadkit::threading::{Barrier, Lock, Thread};

/// Takes `first`, meets the other thread, then tries `second` for `patience`
/// and meets the other thread again. Returns whether it got both.
fn take_both(name: &str, first: &Lock, second: &Lock, meet: &Barrier, patience: Duration) -> bool {
    let _first = first.acquire();
    println!("{name}: acquired its first lock");
    let _ = meet.wait();
    let got_both = match second.acquire_timeout(patience) {
        Some(_second) => {
            println!("{name}: acquired its second lock");
            true
        }
        None => {
            println!("{name}: gave up on its second lock after {patience:?}: deadlock");
            false
        }
    };
    // Keep holding the first lock until the other thread has tried too: a
    // real deadlock never lets go.
    let _ = meet.wait();
    got_both
}

/// What happened to the two threads.
#[derive(Debug)]
pub struct Outcome {
    /// Whether each thread got both locks.
    pub got_both: (bool, bool),
    /// The deadlock `find_deadlocks` saw while the threads were stuck.
    pub deadlock: Option<Deadlock>,
}

/// Two threads take `lock1` and `lock2`; with `same_order` false the second
/// thread takes them in the opposite order. Meanwhile the main thread looks
/// for a deadlock between them.
pub fn two_threads(same_order: bool, patience: Duration) -> Outcome {
    let lock1 = Arc::new(Lock::named("lock1", ()));
    let lock2 = Arc::new(Lock::named("lock2", ()));
    // In the fixed version the second thread waits for the first at lock1, so
    // only the first thread needs to pass the meeting point.
    let meet = Arc::new(Barrier::new(if same_order { 1 } else { 2 }));
    let t1 = {
        let (l1, l2, meet) = (lock1.clone(), lock2.clone(), meet.clone());
        Thread::builder()
            .name("thread 1")
            .spawn(move || take_both("thread 1", &l1, &l2, &meet, patience))
            .expect("spawn thread 1")
    };
    let t2 = {
        let (l1, l2, meet) = (lock1.clone(), lock2.clone(), meet.clone());
        Thread::builder()
            .name("thread 2")
            .spawn(move || {
                if same_order {
                    take_both("thread 2", &l1, &l2, &Barrier::new(1), patience)
                } else {
                    take_both("thread 2", &l2, &l1, &meet, patience)
                }
            })
            .expect("spawn thread 2")
    };
    let deadlock = look_for_deadlock(&["thread 1", "thread 2"], patience);
    Outcome {
        got_both: (
            t1.into_result().expect("thread 1 finishes"),
            t2.into_result().expect("thread 2 finishes"),
        ),
        deadlock,
    }
}

/// Asks `find_deadlocks` every millisecond, for at most `patience`, for a
/// cycle among the threads named `names`.
fn look_for_deadlock(names: &[&str], patience: Duration) -> Option<Deadlock> {
    let give_up = std::time::Instant::now() + patience;
    while std::time::Instant::now() < give_up {
        let found = debug::find_deadlocks()
            .into_iter()
            .find(|d| d.threads.iter().all(|t| names.contains(&t.name.as_str())));
        if found.is_some() {
            return found;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

#[allow(dead_code)]
fn main() {
    let opposite = two_threads(false, Duration::from_secs(1));
    println!("opposite order: got both locks {:?}", opposite.got_both);
    if let Some(deadlock) = &opposite.deadlock {
        println!("threadkit::debug::find_deadlocks() said:\n  {deadlock}");
    }
    let same = two_threads(true, Duration::from_secs(1));
    println!("same order:     got both locks {:?}", same.got_both);
}
