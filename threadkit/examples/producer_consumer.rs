//! Lesson: a `Queue` between a producer and several consumers, with a
//! sentinel to stop them and `task_done`/`join` to wait for the work.
//!
//! Seed: "Using Queue":
//!
//! ```python
//! def consumer(q, consumer_id):
//!     while True:
//!         item = q.get()
//!         if item is None:
//!             q.put(None)  # Re-queue sentinel for other consumers
//!             break
//!         print(f"Consumer {consumer_id} processing: {item}")
//!         q.task_done()
//! ```
//!
//! The sentinel is Rust's `None`: the queue carries `Option<T>`.
//!
//! As written, the seed's `work_queue.join()` never returns: every `put`
//! counts a task, the sentinel included, and no one calls `task_done()` for
//! the sentinel. [`run`] takes that as a switch: with `done_for_sentinel`
//! false it plays the seed as written and waits with a timeout instead of
//! hanging; with it true each consumer marks the sentinel done before
//! re-queueing it, and `join()` returns once the work is done.
//!
//! Run: `cargo run --example producer_consumer`

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use threadkit::queue::Queue;
use threadkit::threading::{Lock, Thread};

fn pause(max: Duration) {
    std::thread::sleep(max.mul_f64(rand::thread_rng().gen_range(0.3..1.0)));
}

/// What [`run`] observed.
#[derive(Debug)]
pub struct Outcome {
    /// Whether `join()` returned within the timeout.
    pub joined: bool,
    /// Every processed item, sorted.
    pub processed: Vec<u32>,
    /// How many items each consumer handled.
    pub per_consumer: Vec<usize>,
}

/// One producer puts `items`, then the sentinel; `consumers` threads process
/// them. The main thread waits up to `join_timeout` for every task to be
/// marked done.
pub fn run(
    items: u32,
    consumers: usize,
    max_pause: Duration,
    done_for_sentinel: bool,
    join_timeout: Duration,
) -> Outcome {
    let work = Arc::new(Queue::new(0));
    let processed = Arc::new(Lock::new(Vec::new()));
    let producer = {
        let work = Arc::clone(&work);
        Thread::spawn(move || {
            for item in 0..items {
                pause(max_pause);
                work.put(Some(item)).expect("the queue is open");
                println!("Produced: {item}");
            }
            work.put(None).expect("the queue is open"); // signal completion
        })
        .expect("spawn the producer")
    };
    let workers: Vec<_> = (0..consumers)
        .map(|id| {
            let (work, processed) = (Arc::clone(&work), Arc::clone(&processed));
            Thread::spawn(move || {
                let mut handled = 0;
                while let Some(item) = work.get().expect("the queue is open") {
                    println!("Consumer {id} processing: {item}");
                    pause(max_pause * 2);
                    processed.acquire().push(item);
                    handled += 1;
                    work.task_done().expect("one task_done per item");
                }
                if done_for_sentinel {
                    work.task_done()
                        .expect("the sentinel was put, so it is a task");
                }
                work.put(None).expect("the queue is open"); // re-queue the sentinel
                handled
            })
            .expect("spawn a consumer")
        })
        .collect();
    producer.join().expect("the producer finishes");
    // `work_queue.join()`: wait for all tasks to be processed.
    let joined = work.join_timeout(join_timeout);
    let per_consumer = workers
        .into_iter()
        .map(|w| w.into_result().expect("a consumer finishes"))
        .collect();
    let mut all = processed.acquire().clone();
    all.sort_unstable();
    Outcome {
        joined,
        processed: all,
        per_consumer,
    }
}

#[allow(dead_code)]
fn main() {
    let pause = Duration::from_millis(300);
    let seed = run(10, 3, pause, false, Duration::from_secs(5));
    println!("seed as written: join() returned: {}", seed.joined);
    let fixed = run(10, 3, pause, true, Duration::from_secs(60));
    println!("sentinel marked done: join() returned: {}", fixed.joined);
    println!(
        "processed {:?}; per consumer {:?}",
        fixed.processed, fixed.per_consumer
    );
}
