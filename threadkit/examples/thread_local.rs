//! Lesson: thread-local data — each thread sees its own value.
//!
//! Tutorial: "Use Thread-Local Storage: `threading.local()` allows each thread to
//! maintain independent variables."
//!
//! ```python
//! data = threading.local()
//! def worker(n):
//!     data.count = 0
//!     for _ in range(n):
//!         data.count += 1      # no lock: every thread has its own count
//! ```
//!
//! Run: `cargo run --example thread_local`

use std::cell::Cell;
use std::sync::Arc;

use threadkit::threading::{Local, Thread};

/// `threads` threads each bump their own thread-local counter `rounds[i]`
/// times, without a lock. Returns each thread's own final count (in thread
/// order) and every value the `Local` holds once the threads are gone.
pub fn per_thread_counts(rounds: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let data = Arc::new(Local::new(|| Cell::new(0u64)));
    let threads: Vec<_> = rounds
        .iter()
        .map(|&n| {
            let data = Arc::clone(&data);
            Thread::spawn(move || {
                let count = data.get(); // this thread's own Cell
                for _ in 0..n {
                    count.set(count.get() + 1);
                }
                count.get()
            })
            .expect("spawn a counter")
        })
        .collect();
    let own: Vec<u64> = threads
        .into_iter()
        .map(|t| t.into_result().expect("a counter finishes"))
        .collect();
    let mut data = Arc::into_inner(data).expect("every thread is done with it");
    let mut all: Vec<u64> = data.iter_mut().map(|c| c.get()).collect();
    all.sort_unstable();
    (own, all)
}

#[allow(dead_code)]
fn main() {
    let (own, all) = per_thread_counts(&[1000, 2000, 3000]);
    println!("each thread counted {own:?}; the Local holds {all:?}");
}
