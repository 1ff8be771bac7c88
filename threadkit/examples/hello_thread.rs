//! Lesson: hello, thread — create a thread, start it, join it.
//!
//! Tutorials: "Simple Code Example" and "Example of Threading":
//!
//! ```python
//! t = threading.Thread(target=greet)
//! t.start()
//! print("Hello from main thread")
//! t.join()
//! ```
//!
//! Run: `cargo run --example hello_thread`

use std::time::Duration;

use threadkit::threading::Thread;

/// The tutorial's `print_numbers`: five numbers, one per tick.
pub fn print_numbers(who: &'static str, tick: Duration) -> usize {
    for i in 0..5 {
        println!("{who}: Number: {i}");
        std::thread::sleep(tick);
    }
    5
}

/// Starts a greeting thread, greets from main, joins; returns what the thread
/// returned.
pub fn hello() -> &'static str {
    let t = Thread::new(|| {
        println!("Hello from a thread!");
        "greeted"
    });
    t.start().expect("a new thread starts once");
    println!("Hello from main thread");
    t.into_result().expect("the greeting does not panic")
}

/// Two threads printing numbers at once; returns how many numbers each printed.
pub fn two_printers(tick: Duration) -> (usize, usize) {
    let t1 = Thread::new(move || print_numbers("thread1", tick));
    let t2 = Thread::new(move || print_numbers("thread2", tick));
    t1.start().expect("start thread1");
    t2.start().expect("start thread2");
    let counts = (
        t1.into_result().expect("thread1 finishes"),
        t2.into_result().expect("thread2 finishes"),
    );
    println!("Threads completed.");
    counts
}

#[allow(dead_code)]
fn main() {
    hello();
    two_printers(Duration::from_secs(1));
}
