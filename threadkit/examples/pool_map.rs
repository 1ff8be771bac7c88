//! Lesson: `map` — results in the order the tasks were given, whatever the
//! order they finish in.
//!
//! Tutorial: "Using map() for Automatic Execution":
//!
//! ```python
//! with concurrent.futures.ThreadPoolExecutor() as executor:
//!     secs = [5, 4, 3, 2, 1]
//!     results = executor.map(do_something, secs)
//!     for result in results:
//!         print(result)
//! ```
//!
//! Run: `cargo run --example pool_map`

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::futures::ThreadPoolExecutor;
use threadkit::threading::Lock;

/// Maps 5, 4, 3, 2, 1 units of work; returns the results as `map` yields
/// them, the order the tasks actually finished in, and the wall time.
pub fn in_input_order(unit: Duration) -> (Vec<u32>, Vec<u32>, Duration) {
    let start = Instant::now();
    let finished = Arc::new(Lock::new(Vec::new()));
    let executor = ThreadPoolExecutor::default();
    let log = Arc::clone(&finished);
    let results: Vec<u32> = executor
        .map(
            move |secs: u32| {
                println!("Sleeping for {secs} unit(s)...");
                std::thread::sleep(unit * secs);
                log.acquire().push(secs);
                secs
            },
            [5, 4, 3, 2, 1],
        )
        .expect("the pool is open")
        .map(|r| {
            let secs = r.expect("no panic, no timeout");
            println!("Done Sleeping...{secs}");
            secs
        })
        .collect();
    let order = finished.acquire().clone();
    (results, order, start.elapsed())
}

#[allow(dead_code)]
fn main() {
    let (results, finished, took) = in_input_order(Duration::from_secs(1));
    println!(
        "map gave {results:?}; tasks finished {finished:?}; {:.2} s",
        took.as_secs_f64()
    );
}
