//! asyncio: one thread, many waits — `gather`, an async fetch, and CPU work
//! handed to a pool so the event loop stays responsive.

use std::time::Duration;

use threadkit::multiprocessing::ProcessPoolExecutor;

use super::report::secs;
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/asyncio_gather.rs"]
mod asyncio_gather;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/asyncio_fetch.rs"]
mod asyncio_fetch;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/asyncio_mixed.rs"]
mod asyncio_mixed;

pub(crate) const LESSONS: [Lesson; 3] = [
    Lesson {
        name: "asyncio_gather",
        source: example_source!("asyncio_gather"),
        title: "asyncio.run, gather and sleep",
        run: gather,
    },
    Lesson {
        name: "asyncio_fetch",
        source: example_source!("asyncio_fetch"),
        title: "async fetches from a loopback server on one thread",
        run: fetch,
    },
    Lesson {
        name: "asyncio_mixed",
        source: example_source!("asyncio_mixed"),
        title: "asyncio + a pool for CPU-bound work",
        run: mixed,
    },
];

fn gather(r: &mut Report) {
    let delay = Duration::from_secs(2);
    let (results, took) = asyncio_gather::gather_five(delay);
    r.check_timed(
        "gather of 5 fetch_data(n) each sleeping 2 s: results [0..5] in order, ~2 s in all",
        results == [0, 1, 2, 3, 4],
        took < delay * 3 / 2,
        format!("{results:?} in {} (not 10 s)", secs(took)),
    );
}

fn fetch(r: &mut Report) {
    let delay = Duration::from_millis(300);
    let (bodies, took) = asyncio_fetch::fetch_pages(10, delay);
    let expected: Vec<String> = (0..10).map(|i| format!("page {i}")).collect();
    r.check_timed(
        "10 fetches of 0.3 s each overlap on one thread: ~0.3 s, not 3 s",
        bodies == expected,
        took < delay * 3,
        format!("{} pages in {}", bodies.len(), secs(took)),
    );
}

fn mixed(r: &mut Report) {
    let pool = match ProcessPoolExecutor::new(2) {
        Ok(pool) => pool,
        Err(e) => return r.check("a pool of 2 workers", false, e.to_string()),
    };
    let limits = [1_000_000, 1_000_000];
    let (counts, ticks) = asyncio_mixed::primes_on_pool(&pool, &limits);
    r.check_timed(
        "CPU-bound work on the process pool leaves the event loop free: its ticker keeps ticking",
        counts == [78_498, 78_498],
        ticks > 0,
        format!("primes below 1000000: {counts:?}; the loop ticked {ticks} times meanwhile"),
    );
}
