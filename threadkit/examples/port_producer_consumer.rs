//! Lesson: porting a Python program line by line — a bounded
//! producer/consumer with `task_done`/`join` and a stop `Event`.
//!
//! Python:
//!
//! ```python
//! import queue, threading
//!
//! q = queue.Queue(maxsize=3)
//! stop = threading.Event()
//! lock = threading.Lock()
//! processed = []
//!
//! def consumer():
//!     while not stop.is_set():
//!         try:
//!             item = q.get(timeout=0.05)
//!         except queue.Empty:
//!             continue
//!         with lock:
//!             processed.append(item * item)
//!         q.task_done()
//!
//! workers = [threading.Thread(target=consumer, name=f"consumer-{i}") for i in range(2)]
//! for w in workers:
//!     w.start()
//! for item in range(10):
//!     q.put(item)             # blocks while 3 items wait
//! q.join()                    # returns once every item is processed
//! stop.set()
//! for w in workers:
//!     w.join()
//! print(sorted(processed))
//! ```
//!
//! The queue, the event and the lock live on the stack: the consumers are
//! scoped threads (`threading::scope`) that borrow them, so no `Arc` is
//! needed. `queue::Empty` is Python's `queue.Empty`, matched the same way.
//!
//! Run: `cargo run -p threadkit --example port_producer_consumer`

use std::time::Duration;

use threadkit::queue::{Empty, Queue};
use threadkit::threading::{self, Event, Lock, Thread};

/// What the consumers did: the squares they computed, sorted, and the
/// names of the threads that ran.
#[derive(Debug)]
pub struct Outcome {
    /// `sorted(processed)`.
    pub processed: Vec<u64>,
    /// The consumers' names, as `threading.enumerate()` listed them.
    pub names: Vec<String>,
    /// Items put but not yet marked done when `q.join()` returned.
    pub unfinished_after_join: usize,
}

/// Runs the program with `items` items and two consumers.
pub fn produce_and_consume(items: u64) -> Outcome {
    let q = Queue::new(3);
    let stop = Event::new();
    let processed = Lock::new(Vec::new());
    let names = Lock::new(Vec::new());

    let consumer = || {
        names
            .acquire()
            .push(threading::current_thread().name().to_owned());
        while !stop.is_set() {
            let item: u64 = match q.get_timeout(Duration::from_millis(50)) {
                Ok(item) => item,
                Err(Empty) => continue,
                Err(_shut_down) => break, // not in this program: nobody shuts it down
            };
            processed.acquire().push(item * item);
            q.task_done().expect("one task_done per get");
        }
    };

    let unfinished_after_join = threading::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|i| {
                Thread::builder()
                    .name(format!("consumer-{i}"))
                    .spawn_scoped(s, consumer)
                    .expect("the OS starts a thread")
            })
            .collect();
        for item in 0..items {
            q.put(item).expect("the queue is not shut down");
        }
        q.join();
        let unfinished = q.unfinished_tasks();
        stop.set();
        for w in workers {
            w.join().expect("the consumer does not panic");
        }
        unfinished
    });

    let mut processed = processed.into_inner();
    processed.sort_unstable();
    let mut names = names.into_inner();
    names.sort();
    Outcome {
        processed,
        names,
        unfinished_after_join,
    }
}

fn main() {
    let outcome = produce_and_consume(10);
    println!("{:?}", outcome.processed);
    println!("consumers: {:?}", outcome.names);
    assert_eq!(
        outcome.processed,
        (0..10u64).map(|n| n * n).collect::<Vec<_>>()
    );
}
