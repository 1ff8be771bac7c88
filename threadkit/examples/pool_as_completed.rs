//! Lesson: `as_completed` — results in the order the tasks finish.
//!
//! Tutorial: "Using List Comprehension":
//!
//! ```python
//! with concurrent.futures.ThreadPoolExecutor() as executor:
//!     secs = [5, 4, 3, 2, 1]
//!     results = [executor.submit(do_something, sec) for sec in secs]
//!     for f in concurrent.futures.as_completed(results):
//!         print(f.result())
//! ```
//!
//! Run: `cargo run --example pool_as_completed`

use std::time::{Duration, Instant};

use threadkit::futures::{ThreadPoolExecutor, as_completed};

/// The tutorial's `do_something(seconds)`, with seconds scaled by `unit`.
pub fn do_something(secs: u32, unit: Duration) -> u32 {
    println!("Sleeping for {secs} unit(s)...");
    std::thread::sleep(unit * secs);
    secs
}

/// Submits 5, 4, 3, 2, 1 units of work; returns the results in the order
/// `as_completed` yielded them, and the wall time.
pub fn shortest_first(unit: Duration) -> (Vec<u32>, Duration) {
    let start = Instant::now();
    let executor = ThreadPoolExecutor::default(); // Python's default max_workers
    let results: Vec<_> = [5, 4, 3, 2, 1]
        .into_iter()
        .map(|sec| {
            executor
                .submit(move || do_something(sec, unit))
                .expect("the pool is open")
        })
        .collect();
    let order = as_completed(&results, None)
        .map(|f| {
            let secs = *f.expect("no timeout was set").result().expect("no panic");
            println!("Done Sleeping...{secs}");
            secs
        })
        .collect();
    (order, start.elapsed())
}

#[allow(dead_code)]
fn main() {
    let (order, took) = shortest_first(Duration::from_secs(1));
    println!(
        "completed in order {order:?}; finished in {:.2} seconds",
        took.as_secs_f64()
    );
}
