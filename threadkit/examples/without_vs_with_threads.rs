//! Lesson: without threads vs with threads — two 2-second greetings take 4 s
//! one after the other, 2 s on two threads.
//!
//! Tutorials: "Example: Without Threads" / "Now With Threads" and the
//! `do_something` synchronous vs threaded examples:
//!
//! ```python
//! t1 = threading.Thread(target=greet, args=("Alice",))
//! t2 = threading.Thread(target=greet, args=("Bob",))
//! t1.start(); t2.start(); t1.join(); t2.join()
//! ```
//!
//! Run: `cargo run --example without_vs_with_threads`

use std::time::{Duration, Instant};

use threadkit::threading::Thread;

/// The tutorial's `greet(name)`: sleep (the I/O wait), then greet.
pub fn greet(name: &str, delay: Duration) {
    std::thread::sleep(delay);
    println!("Hello, {name}!");
}

/// `main()` without threads: the greetings run one after the other.
pub fn sequential(delay: Duration) -> Duration {
    let start = Instant::now();
    greet("Alice", delay);
    greet("Bob", delay);
    start.elapsed()
}

/// The same greetings on two threads, started together and joined.
pub fn threaded(delay: Duration) -> Duration {
    let start = Instant::now();
    let t1 = Thread::new(move || greet("Alice", delay));
    let t2 = Thread::new(move || greet("Bob", delay));
    t1.start().expect("start t1");
    t2.start().expect("start t2");
    t1.join().expect("t1 finishes");
    t2.join().expect("t2 finishes");
    println!("All done!");
    start.elapsed()
}

#[allow(dead_code)]
fn main() {
    let delay = Duration::from_secs(2);
    println!(
        "Finished in {:.2} seconds (without threads)",
        sequential(delay).as_secs_f64()
    );
    println!(
        "Finished in {:.2} seconds (with threads)",
        threaded(delay).as_secs_f64()
    );
}
