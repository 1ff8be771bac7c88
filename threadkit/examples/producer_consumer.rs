//! Lesson: a `Queue` between a producer and several consumers, with a
//! sentinel to stop them and `task_done`/`join` to wait for the work.
//!
//! Tutorial: "Using Queue":
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
//! # ...
//! producer_thread.join()
//! work_queue.join()  # Wait for all tasks to be processed
//! ```
//!
//! The sentinel is Rust's `None`: the queue carries `Option<T>`.
//!
//! As written, the tutorial's `work_queue.join()` never returns: every `put`
//! counts a task, the sentinel and its re-queued copies included, and no one
//! calls `task_done()` for them. (Marking the sentinel done before
//! re-queueing it does not help: the count only touches zero for an instant
//! before the next re-queue, and `join` may well not see that instant.)
//! The fix is the one in Python's own `queue` docs: put only the work, `join()`
//! until it is done, then put one sentinel per consumer, which each consumer
//! takes and does not re-queue. [`run`] plays either version; the tutorial's waits
//! with a timeout instead of hanging.
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

/// Which way to stop the consumers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopping {
    /// The tutorial as written: the producer puts one sentinel after the work;
    /// each consumer re-queues it for the next and never marks it done.
    SeedAsWritten,
    /// Python's docs: `join()` the work first, then one sentinel per consumer.
    JoinThenSentinels,
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

/// One producer puts `items`; `consumers` threads process them; the main
/// thread waits up to `join_timeout` for every task to be marked done, and
/// the consumers are stopped as `stopping` says.
pub fn run(
    items: u32,
    consumers: usize,
    max_pause: Duration,
    stopping: Stopping,
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
            if stopping == Stopping::SeedAsWritten {
                work.put(None).expect("the queue is open"); // signal completion
            }
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
                match stopping {
                    // Re-queue the sentinel for the other consumers.
                    Stopping::SeedAsWritten => work.put(None).expect("the queue is open"),
                    // This consumer's own sentinel: a task like any other.
                    Stopping::JoinThenSentinels => work.task_done().expect("the sentinel was put"),
                }
                handled
            })
            .expect("spawn a consumer")
        })
        .collect();
    producer.join().expect("the producer finishes");
    // `work_queue.join()`: wait for all tasks to be processed.
    let joined = work.join_timeout(join_timeout);
    if stopping == Stopping::JoinThenSentinels {
        for _ in 0..consumers {
            work.put(None).expect("the queue is open");
        }
    }
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
    let seed = run(
        10,
        3,
        pause,
        Stopping::SeedAsWritten,
        Duration::from_secs(5),
    );
    println!("tutorial as written: join() returned: {}", seed.joined);
    let fixed = run(
        10,
        3,
        pause,
        Stopping::JoinThenSentinels,
        Duration::from_secs(60),
    );
    println!(
        "join, then one sentinel per consumer: join() returned: {}",
        fixed.joined
    );
    println!(
        "processed {:?}; per consumer {:?}",
        fixed.processed, fixed.per_consumer
    );
}
