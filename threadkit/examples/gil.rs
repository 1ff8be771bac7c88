//! Lesson: CPU-bound work on threads. The tutorials' GIL lesson: in CPython two
//! threads running a pure-Python loop take about as long as running it twice,
//! because only one thread executes bytecode at a time. Rust has no GIL: the
//! same two threads run on two cores at once.
//!
//! Tutorials: "Example Showing GIL Limitation" and "Python Threading with the GIL":
//!
//! ```python
//! def cpu_intensive_task():
//!     total = 0
//!     for i in range(10**7):
//!         total += i
//! ```
//!
//! Run: `cargo run --release --example gil`

use std::hint::black_box;
use std::time::{Duration, Instant};

use threadkit::threading::Thread;

/// The tutorial's loop. `black_box` keeps the optimizer from replacing the loop
/// by its closed form, so the work really is done. Never inlined: the
/// sequential runs and the threads then run the same machine code (inlined,
/// the copies' speeds differed by up to 2x, which the comparison measured).
#[inline(never)]
pub fn cpu_intensive_task(n: u64) -> u64 {
    let mut total = 0u64;
    for i in 0..n {
        total = total.wrapping_add(black_box(i));
    }
    total
}

/// `tasks` runs of the loop one after the other, then on `tasks` threads;
/// returns both wall times.
pub fn sequential_vs_threads(tasks: usize, n: u64) -> (Duration, Duration) {
    let start = Instant::now();
    for _ in 0..tasks {
        black_box(cpu_intensive_task(n));
    }
    let sequential = start.elapsed();

    let start = Instant::now();
    let threads: Vec<_> = (0..tasks)
        .map(|_| Thread::spawn(move || cpu_intensive_task(n)).expect("spawn a worker"))
        .collect();
    for t in threads {
        black_box(t.into_result().expect("a worker finishes"));
    }
    (sequential, start.elapsed())
}

#[allow(dead_code)]
fn main() {
    let (sequential, threaded) = sequential_vs_threads(2, 500_000_000);
    println!(
        "sequential {:.2} s, 2 threads {:.2} s: {:.2}x",
        sequential.as_secs_f64(),
        threaded.as_secs_f64(),
        sequential.as_secs_f64() / threaded.as_secs_f64()
    );
}
