//! Lesson: `RLock`, a lock its owner may take again.
//!
//! Tutorial: "RLock (Reentrant Lock)":
//!
//! ```python
//! def increment_twice(self):
//!     with self._lock:
//!         self.increment()  # Can acquire lock again
//!         self.increment()
//! ```
//!
//! With a plain `Lock` the nested acquire would deadlock; the lesson shows
//! that with a timeout instead of hanging.
//!
//! Run: `cargo run --example rlock`

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use threadkit::threading::{Lock, RLock, Thread};

/// The tutorial's `Counter`. An `RLock` hands out shared access only, so the value
/// sits in a `Cell`.
#[derive(Debug, Default)]
pub struct Counter {
    value: RLock<Cell<u64>>,
}

impl Counter {
    /// `with self._lock: self._value += 1`
    pub fn increment(&self) {
        let value = self.value.acquire();
        value.set(value.get() + 1);
    }

    /// Holds the lock across two nested `increment` calls.
    pub fn increment_twice(&self) {
        let _outer = self.value.acquire();
        self.increment();
        self.increment();
    }

    /// The current value.
    pub fn value(&self) -> u64 {
        self.value.acquire().get()
    }
}

/// `threads` threads each calling `increment_twice` `rounds` times.
pub fn count_twice(threads: usize, rounds: u64) -> u64 {
    let counter = Arc::new(Counter::default());
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let counter = Arc::clone(&counter);
            Thread::spawn(move || {
                for _ in 0..rounds {
                    counter.increment_twice();
                }
            })
            .expect("spawn a counter thread")
        })
        .collect();
    for w in workers {
        w.join().expect("a counter thread finishes");
    }
    counter.value()
}

/// The same nesting with a plain `Lock`: the inner acquire can never succeed
/// (it would deadlock), so it is tried with a timeout. Returns whether it got in.
pub fn plain_lock_nested(timeout: Duration) -> bool {
    let lock = Lock::new(0);
    let _outer = lock.acquire();
    let inner = lock.acquire_timeout(timeout);
    inner.is_some()
}

#[allow(dead_code)]
fn main() {
    println!("RLock counter: {}", count_twice(4, 1000));
    println!(
        "plain Lock nested acquire succeeded: {}",
        plain_lock_nested(Duration::from_millis(100))
    );
}
