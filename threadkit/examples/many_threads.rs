//! Lesson: many threads started in a loop, kept in a list, joined in a loop.
//!
//! Tutorials: "Running Multiple Threads" (5 workers × 2 s ≈ 2 s, not 10) and the
//! 10 × `do_something(1.5)` example.
//!
//! ```python
//! threads = []
//! for i in range(5):
//!     t = threading.Thread(target=worker, args=(i,))
//!     threads.append(t)
//!     t.start()
//! for t in threads:
//!     t.join()
//! ```
//!
//! Run: `cargo run --example many_threads`

use std::time::{Duration, Instant};

use threadkit::threading::Thread;

/// The tutorial's `worker(id)`.
pub fn worker(id: usize, work: Duration) -> usize {
    println!("Thread {id} starting");
    std::thread::sleep(work);
    println!("Thread {id} finished");
    id
}

/// Starts `n` workers, joins them all; returns the ids they returned (in
/// start order) and the wall time.
pub fn run_workers(n: usize, work: Duration) -> (Vec<usize>, Duration) {
    let start = Instant::now();
    let mut threads = Vec::new();
    for i in 0..n {
        let t = Thread::new(move || worker(i, work));
        t.start().expect("start a worker");
        threads.push(t);
    }
    let ids = threads
        .into_iter()
        .map(|t| t.into_result().expect("a worker finishes"))
        .collect();
    println!("All threads completed!");
    (ids, start.elapsed())
}

#[allow(dead_code)]
fn main() {
    let (_, took) = run_workers(5, Duration::from_secs(2));
    println!("Finished in {:.2} seconds", took.as_secs_f64());
}
