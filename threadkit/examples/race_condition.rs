//! Lesson: a race condition loses updates; a `Lock` fixes it.
//!
//! Tutorials: "Race Conditions" and "Thread Synchronization Using Lock":
//!
//! ```python
//! def increment():
//!     global counter
//!     for _ in range(100000):
//!         counter += 1          # read, add, write: not atomic
//! # ... 5 threads ... "Final counter value: something less than 500000"
//! with lock:
//!     counter += 1              # "Final counter value: 500000"
//! ```
//!
//! Rust will not compile the unsynchronized `counter += 1` on shared data:
//! that is a data race, undefined behaviour. To *show* the lost updates
//! safely, the racy version reads and writes an atomic in two separate steps
//! (`load`, then `store`), which is exactly the read-add-write interleaving
//! the tutorial describes, without UB.
//!
//! Run: `cargo run --release --example race_condition`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use threadkit::threading::{Barrier, Lock, Thread};

/// `threads` threads each doing `per_thread` read-then-write increments.
/// A [`Barrier`] starts them together, so they really overlap.
pub fn racy_counter(threads: usize, per_thread: u64) -> u64 {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (counter, start) = (Arc::clone(&counter), Arc::clone(&start));
            Thread::spawn(move || {
                let _ = start.wait();
                for _ in 0..per_thread {
                    let read = counter.load(Ordering::Relaxed); // 1. read
                    std::hint::spin_loop(); //                     (another thread may run here)
                    counter.store(read + 1, Ordering::Relaxed); // 2-3. add, write back
                }
            })
            .expect("spawn an incrementer")
        })
        .collect();
    for w in workers {
        w.join().expect("an incrementer finishes");
    }
    counter.load(Ordering::Relaxed)
}

/// The same increments under a [`Lock`]: `with lock: counter += 1`.
pub fn locked_counter(threads: usize, per_thread: u64) -> u64 {
    let counter = Arc::new(Lock::new(0u64));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let counter = Arc::clone(&counter);
            Thread::spawn(move || {
                for _ in 0..per_thread {
                    *counter.acquire() += 1;
                }
            })
            .expect("spawn an incrementer")
        })
        .collect();
    for w in workers {
        w.join().expect("an incrementer finishes");
    }
    *counter.acquire()
}

#[allow(dead_code)]
fn main() {
    println!(
        "Final counter value (no lock): {}",
        racy_counter(5, 100_000)
    );
    println!(
        "Final counter value (lock):    {}",
        locked_counter(5, 100_000)
    );
}
