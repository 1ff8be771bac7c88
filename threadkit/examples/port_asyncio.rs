//! Lesson: porting a Python program line by line — asyncio with `gather`,
//! `wait_for`, a `TaskGroup` and `to_thread`.
//!
//! Python:
//!
//! ```python
//! import asyncio, time
//!
//! async def user():
//!     await asyncio.sleep(0.05)
//!     return "ada"
//!
//! async def posts():
//!     await asyncio.sleep(0.05)
//!     return [1, 2, 3]
//!
//! async def slow():
//!     await asyncio.sleep(10)
//!
//! def blocking_sum(n):
//!     time.sleep(0.05)        # a blocking call: off the event loop
//!     return sum(range(n))
//!
//! async def main():
//!     name, items = await asyncio.gather(user(), posts())
//!     try:
//!         await asyncio.wait_for(slow(), timeout=0.1)
//!         timed_out = False
//!     except TimeoutError:
//!         timed_out = True
//!     async with asyncio.TaskGroup() as tg:
//!         a = tg.create_task(posts())
//!         b = tg.create_task(asyncio.to_thread(blocking_sum, 1000))
//!     return name, items, timed_out, len(a.result()), b.result()
//!
//! print(asyncio.run(main()))
//! ```
//!
//! `gather!` takes futures of different types (Python's most common
//! `gather`), `Task::result` lends the value as Python's `result()` returns
//! it, and the task group's block is an async closure.
//!
//! Run: `cargo run -p threadkit --example port_asyncio --features asyncio`

use std::time::Duration;

use threadkit::asyncio::{self, TaskGroup};

async fn user() -> String {
    asyncio::sleep(Duration::from_millis(50)).await;
    "ada".to_owned()
}

async fn posts() -> Vec<u32> {
    asyncio::sleep(Duration::from_millis(50)).await;
    vec![1, 2, 3]
}

async fn slow() {
    asyncio::sleep(Duration::from_secs(10)).await;
}

fn blocking_sum(n: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(50)); // a blocking call: off the event loop
    (0..n).sum()
}

/// What `main()` returned.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// From `gather(user(), posts())`.
    pub name: String,
    /// From `gather(user(), posts())`.
    pub items: Vec<u32>,
    /// Whether `wait_for(slow(), 0.1)` raised `TimeoutError`.
    pub timed_out: bool,
    /// `len(a.result())`, the task group's first task.
    pub posts: usize,
    /// `b.result()`, the task group's `to_thread` task.
    pub sum: u64,
}

/// Runs `main()` on a fresh event loop.
pub fn run_main() -> Outcome {
    asyncio::run(async {
        let (name, items) = threadkit::gather!(user(), posts())
            .await
            .expect("no task panics");
        let timed_out = asyncio::wait_for(slow(), Duration::from_millis(100))
            .await
            .is_err();
        let (a, b) = TaskGroup::scope(async |tg| {
            let a = tg.create_task(posts());
            let b = tg.create_task(asyncio::to_thread(|| blocking_sum(1000)));
            (a, b)
        })
        .await
        .expect("no task fails");
        // The group waited for both: their results are ready.
        let posts = a.result().expect("done").len();
        let sum = *b
            .result()
            .expect("done")
            .as_ref()
            .expect("blocking_sum does not panic");
        Outcome {
            name,
            items,
            timed_out,
            posts,
            sum,
        }
    })
    .expect("not inside another event loop")
}

fn main() {
    let outcome = run_main();
    println!("{outcome:?}");
    assert_eq!(outcome.sum, 499_500);
}
