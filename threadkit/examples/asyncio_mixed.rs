//! Lesson: mixing asyncio with a pool for CPU-bound work.
//!
//! Tutorial advice "Mixed: asyncio + ProcessPoolExecutor": keep the event loop
//! for waiting, and send CPU-heavy functions to a pool with
//! `loop.run_in_executor(pool, f)`, so the loop stays responsive:
//!
//! ```python
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     with ProcessPoolExecutor() as pool:
//!         results = await asyncio.gather(
//!             *(loop.run_in_executor(pool, cpu_bound, n) for n in inputs))
//! ```
//!
//! threadkit does the same with its `ProcessPoolExecutor`: a process pool's
//! future is awaitable as it is, so `pool.submit(f, n)?.await` is Python's
//! `await loop.run_in_executor(pool, f, n)`. (Without a GIL, a
//! `ThreadPoolExecutor` with `asyncio::run_in_executor` would run this
//! Rust on every core as well; processes add isolation: a crash in the
//! work cannot take the event loop down.)
//!
//! Run: `cargo run --example asyncio_mixed --features asyncio`

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use threadkit::asyncio;
use threadkit::multiprocessing::ProcessPoolExecutor;

/// CPU-bound work: the number of primes below `limit`, by trial division.
pub fn count_primes(limit: u64) -> usize {
    (2..limit)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count()
}

/// Counts primes below each limit on `pool` while a ticker task keeps
/// running on the loop; returns the counts and how many ticks happened (the
/// loop was never blocked).
pub fn primes_on_pool(pool: &ProcessPoolExecutor, limits: &[u64]) -> (Vec<usize>, u32) {
    asyncio::run(async {
        let ticks = Arc::new(AtomicU32::new(0));
        let ticker = {
            let ticks = Arc::clone(&ticks);
            asyncio::create_task(async move {
                loop {
                    asyncio::sleep(Duration::from_millis(5)).await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        // Submitted at once, so they run in parallel; awaited in order.
        let running: Vec<_> = limits
            .iter()
            .map(|&limit| pool.submit(count_primes, limit).expect("the pool is open"))
            .collect();
        let mut counts = Vec::new();
        for f in running {
            counts.push(f.await.expect("count_primes does not panic"));
        }
        ticker.cancel();
        (counts, ticks.load(Ordering::Relaxed))
    })
    .expect("not inside another event loop")
}

fn main() {
    let pool = ProcessPoolExecutor::default();
    let start = Instant::now();
    let limits = [50_000, 100_000, 150_000, 200_000];
    let (counts, _) = primes_on_pool(&pool, &limits);
    for (limit, count) in limits.iter().zip(&counts) {
        println!("primes below {limit}: {count}");
    }
    println!("in {:.2} s", start.elapsed().as_secs_f64());
    assert_eq!(counts[0], 5_133);
}
