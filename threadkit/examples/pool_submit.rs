//! Lesson: a thread pool and its futures — `submit()` and `result()`.
//!
//! Tutorials: "Using submit()" and "ThreadPoolExecutor – Easy and Clean
//! Multithreading":
//!
//! ```python
//! with ThreadPoolExecutor(max_workers=3) as executor:
//!     futures = [executor.submit(task, f"Task-{i}") for i in range(5)]
//!     for future in futures:
//!         print("Result:", future.result())
//! ```
//!
//! Run: `cargo run --example pool_submit`

use std::time::{Duration, Instant};

use threadkit::futures::ThreadPoolExecutor;

/// The tutorial's `task(name)`: some waiting, then a result.
pub fn task(name: String, work: Duration) -> String {
    println!("Started {name}");
    std::thread::sleep(work);
    println!("Finished {name}");
    format!("{name} done")
}

/// Five tasks on a pool of `max_workers`; returns the results, read in
/// submission order with `result()`, and the wall time.
pub fn five_tasks(max_workers: usize, work: Duration) -> (Vec<String>, Duration) {
    let start = Instant::now();
    // `with ThreadPoolExecutor(...) as executor:` — dropping the pool waits.
    let executor = ThreadPoolExecutor::new(max_workers).expect("max_workers > 0");
    let futures: Vec<_> = (0..5)
        .map(|i| {
            executor
                .submit(move || task(format!("Task-{i}"), work))
                .expect("the pool is open")
        })
        .collect();
    let results = futures
        .iter()
        .map(|f| {
            let result = f.result().expect("the task does not panic").clone();
            println!("Result: {result}");
            result
        })
        .collect();
    drop(executor);
    (results, start.elapsed())
}

#[allow(dead_code)]
fn main() {
    let (_, took) = five_tasks(3, Duration::from_secs(2));
    println!("Finished in {:.2} seconds", took.as_secs_f64());
}
