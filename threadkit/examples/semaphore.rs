//! Lesson: a `Semaphore` limits how many threads use a resource at once.
//!
//! Tutorial: "Semaphore":
//!
//! ```python
//! semaphore = threading.Semaphore(2)  # Allow 2 concurrent accesses
//! def access_resource(worker_id):
//!     with semaphore:
//!         print(f"Worker {worker_id} accessing resource")
//!         time.sleep(2)
//!         print(f"Worker {worker_id} releasing resource")
//! ```
//!
//! Run: `cargo run --example semaphore`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadkit::threading::{Semaphore, Thread};

/// `workers` threads share a resource guarded by `Semaphore(limit)`; returns
/// the most threads ever inside at once and the wall time.
pub fn limited_access(workers: usize, limit: usize, hold: Duration) -> (usize, Duration) {
    let semaphore = Arc::new(Semaphore::new(limit));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..workers)
        .map(|id| {
            let (semaphore, inside, most) = (semaphore.clone(), inside.clone(), most.clone());
            Thread::spawn(move || {
                let _permit = semaphore.acquire(); // `with semaphore:`
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                println!("Worker {id} accessing resource ({now} inside)");
                std::thread::sleep(hold);
                println!("Worker {id} releasing resource");
                inside.fetch_sub(1, Ordering::SeqCst);
            })
            .expect("spawn a worker")
        })
        .collect();
    for t in threads {
        t.join().expect("a worker finishes");
    }
    (most.load(Ordering::SeqCst), start.elapsed())
}

#[allow(dead_code)]
fn main() {
    let (most, took) = limited_access(5, 2, Duration::from_secs(2));
    println!("at most {most} inside at once; {:.2} s", took.as_secs_f64());
}
