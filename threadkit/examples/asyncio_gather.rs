//! Lesson: asyncio — many coroutines waiting together with `gather`.
//!
//! Tutorial:
//!
//! ```python
//! async def fetch_data(n):
//!     await asyncio.sleep(2)
//!     return n
//!
//! async def main():
//!     results = await asyncio.gather(*(fetch_data(i) for i in range(5)))
//!     print(results)          # [0, 1, 2, 3, 4] after ~2 s, not 10 s
//!
//! asyncio.run(main())
//! ```
//!
//! Run: `cargo run --example asyncio_gather --features asyncio`

use std::time::{Duration, Instant};

use threadkit::asyncio;

/// The tutorial's `fetch_data(n)`: waits `delay` without blocking the loop.
pub async fn fetch_data(n: u32, delay: Duration) -> u32 {
    println!("fetching {n}...");
    asyncio::sleep(delay).await;
    println!("fetched {n}");
    n
}

/// Gathers five `fetch_data` calls on one event loop; returns the results
/// (in input order) and the wall time, about one `delay` in total.
pub fn gather_five(delay: Duration) -> (Vec<u32>, Duration) {
    let start = Instant::now();
    let results = asyncio::run(asyncio::gather((0..5).map(|n| fetch_data(n, delay))))
        .expect("not inside another event loop")
        .expect("fetch_data does not panic");
    (results, start.elapsed())
}

fn main() {
    let (results, elapsed) = gather_five(Duration::from_secs(2));
    println!("{results:?} in {:.2} s", elapsed.as_secs_f64());
    assert_eq!(results, [0, 1, 2, 3, 4]);
}
