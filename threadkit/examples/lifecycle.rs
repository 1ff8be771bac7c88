//! Lesson: the thread lifecycle — `start()`, `is_alive()`, `join()`.
//!
//! Tutorial: "Thread Lifecycle":
//!
//! ```python
//! print("Before starting:", t.is_alive())  # False
//! t.start()
//! print("After starting:", t.is_alive())   # True
//! t.join()
//! print("After join:", t.is_alive())       # False
//! ```
//!
//! Run: `cargo run --example lifecycle`

use std::time::Duration;

use threadkit::threading::Thread;

/// `is_alive()` before start, after start, and after join.
pub fn lifecycle(work: Duration) -> [bool; 3] {
    let t = Thread::new(move || {
        println!("Worker starting...");
        std::thread::sleep(work);
        println!("Worker done!");
    });
    let before = t.is_alive();
    println!("Before starting: {before}");
    t.start().expect("start the worker");
    let running = t.is_alive();
    println!("After starting: {running}");
    t.join().expect("the worker finishes");
    let after = t.is_alive();
    println!("After join: {after}");
    [before, running, after]
}

#[allow(dead_code)]
fn main() {
    lifecycle(Duration::from_secs(3));
}
