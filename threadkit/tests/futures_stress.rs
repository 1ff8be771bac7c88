//! Stress: a million tiny tasks submitted from four threads to one
//! `ThreadPoolExecutor`; every task runs once, every result is received
//! exactly once, and no worker outlives `shutdown`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use threadkit::futures::{Shutdown, ThreadPoolExecutor, as_completed};
use threadkit::threading::enumerate;

#[cfg(not(miri))]
const TASKS: usize = 1_000_000;
#[cfg(miri)]
const TASKS: usize = 200;
const SUBMITTERS: usize = 4;
/// Futures in flight per submitter before it collects them.
const BATCH: usize = 1_000;
const PREFIX: &str = "stress-pool";

fn workers_alive() -> usize {
    enumerate()
        .iter()
        .filter(|t| t.name().starts_with(PREFIX))
        .count()
}

#[test]
fn million_tasks_from_four_threads() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .thread_name_prefix(PREFIX)
        .build()
        .unwrap();
    // How often each task ran, and how often its result was received.
    let ran: Arc<Vec<AtomicU8>> = Arc::new((0..TASKS).map(|_| AtomicU8::new(0)).collect());
    let received: Vec<AtomicU8> = (0..TASKS).map(|_| AtomicU8::new(0)).collect();
    std::thread::scope(|s| {
        for submitter in 0..SUBMITTERS {
            let (pool, ran, received) = (&pool, &ran, &received);
            s.spawn(move || {
                let ids: Vec<usize> = (submitter..TASKS).step_by(SUBMITTERS).collect();
                for (batch_no, batch) in ids.chunks(BATCH).enumerate() {
                    let futures: Vec<_> = batch
                        .iter()
                        .map(|&id| {
                            let ran = Arc::clone(ran);
                            pool.submit(move || {
                                ran[id].fetch_add(1, Ordering::Relaxed);
                                id
                            })
                            .unwrap()
                        })
                        .collect();
                    // Alternate between in-order results and as_completed.
                    if batch_no % 2 == 0 {
                        for f in futures {
                            let id = f.into_result().unwrap();
                            received[id].fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        for f in as_completed(futures, None) {
                            let id = f.unwrap().into_result().unwrap();
                            received[id].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    assert!(workers_alive() > 0);
    pool.shutdown(Shutdown::wait());
    assert_eq!(workers_alive(), 0, "workers leaked after shutdown");
    for id in 0..TASKS {
        assert_eq!(ran[id].load(Ordering::Relaxed), 1, "task {id} ran");
        assert_eq!(received[id].load(Ordering::Relaxed), 1, "result {id}");
    }
}
