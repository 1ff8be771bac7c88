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
//! Run: `cargo run --example deadlock`

use std::sync::Arc;
use std::time::Duration;

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

/// Two threads take `lock1` and `lock2`; with `same_order` false the second
/// thread takes them in the opposite order. Returns whether each thread got
/// both locks.
pub fn two_threads(same_order: bool, patience: Duration) -> (bool, bool) {
    let lock1 = Arc::new(Lock::new(()));
    let lock2 = Arc::new(Lock::new(()));
    // In the fixed version the second thread waits for the first at lock1, so
    // only the first thread needs to pass the meeting point.
    let meet = Arc::new(Barrier::new(if same_order { 1 } else { 2 }));
    let t1 = {
        let (l1, l2, meet) = (lock1.clone(), lock2.clone(), meet.clone());
        Thread::spawn(move || take_both("thread 1", &l1, &l2, &meet, patience))
            .expect("spawn thread 1")
    };
    let t2 = {
        let (l1, l2, meet) = (lock1.clone(), lock2.clone(), meet.clone());
        Thread::spawn(move || {
            if same_order {
                take_both("thread 2", &l1, &l2, &Barrier::new(1), patience)
            } else {
                take_both("thread 2", &l2, &l1, &meet, patience)
            }
        })
        .expect("spawn thread 2")
    };
    (
        t1.into_result().expect("thread 1 finishes"),
        t2.into_result().expect("thread 2 finishes"),
    )
}

#[allow(dead_code)]
fn main() {
    println!(
        "opposite order: {:?}",
        two_threads(false, Duration::from_secs(1))
    );
    println!(
        "same order:     {:?}",
        two_threads(true, Duration::from_secs(1))
    );
}
