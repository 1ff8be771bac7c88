//! Lesson: `multiprocessing.Process` — two CPU-bound tasks in two processes,
//! started and joined like threads.
//!
//! Tutorial:
//!
//! ```python
//! def cpu_task(n):
//!     total = sum(i * i for i in range(n))
//!
//! p1 = multiprocessing.Process(target=cpu_task, args=(N,))
//! p2 = multiprocessing.Process(target=cpu_task, args=(N,))
//! p1.start(); p2.start()
//! p1.join(); p2.join()
//! ```
//!
//! The target is a plain `fn` taking one serde argument; the child is this
//! same program started again. No set-up line is needed in `main`.
//!
//! Run: `cargo run --release --example process_start_join`

use std::time::{Duration, Instant};

use threadkit::multiprocessing::Process;

/// The tutorial's CPU-bound task: a sum of squares, printed by the child.
pub fn cpu_task(n: u64) {
    let total = (0..n).fold(0u64, |acc, i| {
        let i = std::hint::black_box(i);
        acc.wrapping_add(i.wrapping_mul(i))
    });
    println!("cpu_task({n}) in pid {}: {total}", std::process::id());
}

/// Runs `cpu_task(n)` in two processes at once; returns their exit codes
/// and the wall time.
pub fn two_processes(n: u64) -> ([i32; 2], Duration) {
    let start = Instant::now();
    let mut p1 = Process::new(cpu_task, n);
    let mut p2 = Process::new(cpu_task, n);
    p1.set_name("p1");
    p2.set_name("p2");
    p1.start().expect("start p1");
    p2.start().expect("start p2");
    let codes = [p1.join().expect("join p1"), p2.join().expect("join p2")];
    (codes, start.elapsed())
}

#[allow(dead_code)]
fn main() {
    let n = 500_000_000;
    let start = Instant::now();
    cpu_task(n);
    cpu_task(n);
    let sequential = start.elapsed();
    let (codes, parallel) = two_processes(n);
    println!("exit codes {codes:?}");
    println!(
        "two processes: {:.2} s; one after the other here: {:.2} s",
        parallel.as_secs_f64(),
        sequential.as_secs_f64()
    );
}
