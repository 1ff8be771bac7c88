//! Lesson: passing arguments to threads. Python's `args=(...)` is a closure
//! that captures the arguments (`move`).
//!
//! Tutorial: "Passing Arguments to Threads":
//!
//! ```python
//! t1 = threading.Thread(target=greet, args=("Alice", 2))
//! t2 = threading.Thread(target=greet, args=("Bob", 1))
//! ```
//!
//! Run: `cargo run --example arguments`

use std::sync::Arc;
use std::time::Duration;

use threadkit::threading::{Lock, Thread};

/// The tutorial's `greet(name, delay)`; also records who finished, in order.
pub fn greet(name: &'static str, delay: Duration, finished: &Lock<Vec<&'static str>>) {
    std::thread::sleep(delay);
    println!("Hello {name}, after {:.1} seconds!", delay.as_secs_f64());
    finished.acquire().push(name);
}

/// Alice waits `2 * unit`, Bob `unit`; returns the order they finished in.
pub fn greet_both(unit: Duration) -> Vec<&'static str> {
    let finished = Arc::new(Lock::new(Vec::new()));
    let threads: Vec<_> = [("Alice", 2 * unit), ("Bob", unit)]
        .into_iter()
        .map(|(name, delay)| {
            let finished = Arc::clone(&finished);
            Thread::spawn(move || greet(name, delay, &finished)).expect("spawn a greeter")
        })
        .collect();
    for t in threads {
        t.join().expect("a greeter finishes");
    }
    finished.acquire().clone()
}

#[allow(dead_code)]
fn main() {
    greet_both(Duration::from_secs(1));
}
