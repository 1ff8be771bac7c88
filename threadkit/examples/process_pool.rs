//! Lesson: `ProcessPoolExecutor.map` — CPU-heavy work spread over worker
//! processes, results in input order.
//!
//! Tutorial:
//!
//! ```python
//! with ProcessPoolExecutor() as executor:
//!     results = executor.map(do_some_heavy_computation, data_list)
//! ```
//!
//! The function must be a plain `fn` (no captures): the worker processes are
//! this same program started again, and find it by its address. No set-up
//! line is needed in `main`.
//!
//! Run: `cargo run --release --example process_pool`

use std::time::{Duration, Instant};

use threadkit::multiprocessing::ProcessPoolExecutor;

/// Some CPU-bound work: the number of primes below `n`.
pub fn do_some_heavy_computation(n: u64) -> u64 {
    (2..n)
        .filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .count() as u64
}

/// Maps [`do_some_heavy_computation`] over `data_list` on a default pool
/// (one worker per CPU); returns the results and the wall time, and the
/// time the same work takes in this process alone.
pub fn heavy_map(data_list: &[u64]) -> (Vec<u64>, Duration, Duration) {
    let start = Instant::now();
    let sequential: Vec<u64> = data_list
        .iter()
        .map(|&n| do_some_heavy_computation(n))
        .collect();
    let sequential_time = start.elapsed();

    let start = Instant::now();
    let executor = ProcessPoolExecutor::default();
    let results: Vec<u64> = executor
        .map(do_some_heavy_computation, data_list.iter().copied())
        .expect("the pool is open")
        .map(|r| r.expect("no panic, no dead worker"))
        .collect();
    drop(executor); // `with`: shut down and reap the workers
    let pool_time = start.elapsed();
    assert_eq!(results, sequential);
    (results, pool_time, sequential_time)
}

#[allow(dead_code)]
fn main() {
    let data_list = [1_000_000, 1_050_000, 1_100_000, 1_150_000];
    let (results, pool, sequential) = heavy_map(&data_list);
    println!("primes below {data_list:?}: {results:?}");
    println!(
        "process pool: {:.2} s; one process: {:.2} s",
        pool.as_secs_f64(),
        sequential.as_secs_f64()
    );
}
