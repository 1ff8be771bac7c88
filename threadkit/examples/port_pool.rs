//! Lesson: porting a Python program line by line — a thread pool with
//! `submit` and `as_completed`, one task that fails and one that is too
//! slow.
//!
//! Python:
//!
//! ```python
//! from concurrent.futures import ThreadPoolExecutor, as_completed, TimeoutError
//! import threading
//!
//! release = threading.Event()
//!
//! def work(i):
//!     if i == 3:
//!         raise ValueError(f"bad input {i}")
//!     if i == 4:
//!         release.wait()      # too slow: runs until told to stop
//!     return i * i
//!
//! with ThreadPoolExecutor(max_workers=4) as pool:
//!     futs = {pool.submit(work, i): i for i in range(5)}
//!     try:
//!         for f in as_completed(futs, timeout=0.5):
//!             i = futs[f]
//!             try:
//!                 print(i, "->", f.result())
//!             except ValueError as e:
//!                 print(i, "failed:", e)
//!     except TimeoutError:
//!         print("timed out waiting for", [futs[f] for f in futs if not f.done()])
//!     release.set()
//! ```
//!
//! A future is a map key, as in Python (futures hash by identity). A task's
//! panic is its exception: `FutureError::Panicked` carries the message and
//! where it was raised (and the backtrace with `RUST_BACKTRACE=1`).
//! `as_completed` can fail only by timing out, so its items are
//! `Result<&Future, TimeoutError>` (Python's `TimeoutError`): the match on
//! them has exactly two arms.
//!
//! Run: `cargo run -p threadkit --example port_pool`

use std::collections::HashMap;
use std::time::Duration;

use threadkit::futures::{FutureError, ThreadPoolExecutor, TimeoutError, as_completed};
use threadkit::threading::Event;

/// What the program saw, one entry per task, in completion order.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// `i -> result`.
    Done(u64, u64),
    /// `i failed: message`, with where the panic was raised.
    Failed(u64, String, Option<String>),
    /// The tasks still running when `as_completed` timed out.
    TimedOut(Vec<u64>),
}

/// The tutorial's `work(i)`.
fn work(i: u64, release: &Event) -> u64 {
    if i == 3 {
        panic!("bad input {i}");
    }
    if i == 4 {
        release.wait(); // too slow: runs until told to stop
    }
    i * i
}

/// Runs the program; `as_completed` gives up after `timeout`.
pub fn submit_and_collect(timeout: Duration) -> Vec<Seen> {
    let release = std::sync::Arc::new(Event::new());
    let pool = ThreadPoolExecutor::new(4).expect("4 workers");
    let mut seen = Vec::new();
    // futs = {pool.submit(work, i): i for i in range(5)}
    let futs: HashMap<_, _> = (0..5)
        .map(|i| {
            let release = std::sync::Arc::clone(&release);
            (
                pool.submit(move || work(i, &release))
                    .expect("the pool runs"),
                i,
            )
        })
        .collect();
    for f in as_completed(futs.keys(), Some(timeout)) {
        let f = match f {
            Ok(f) => f,
            Err(TimeoutError) => {
                let mut pending: Vec<u64> = futs
                    .iter()
                    .filter(|(f, _)| !f.done())
                    .map(|(_, &i)| i)
                    .collect();
                pending.sort_unstable();
                println!("timed out waiting for {pending:?}");
                seen.push(Seen::TimedOut(pending));
                break;
            }
        };
        let i = futs[f];
        match f.result() {
            Ok(square) => {
                println!("{i} -> {square}");
                seen.push(Seen::Done(i, *square));
            }
            Err(FutureError::Panicked(e)) => {
                println!("{i} failed: {e}");
                seen.push(Seen::Failed(
                    i,
                    e.message().to_owned(),
                    e.location().map(str::to_owned),
                ));
            }
            Err(other) => unreachable!("a finished task either returned or panicked: {other}"),
        }
    }
    release.set();
    seen
}

fn main() {
    let seen = submit_and_collect(Duration::from_millis(500));
    assert!(seen.contains(&Seen::TimedOut(vec![4])), "{seen:?}");
}
