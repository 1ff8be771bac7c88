//! Lesson: a `Condition` turns a list into a bounded buffer: producers wait
//! while it is full, consumers while it is empty.
//!
//! Tutorial: "Condition Variables":
//!
//! ```python
//! def put(self, item):
//!     with self.condition:
//!         while len(self.buffer) >= self.size:
//!             self.condition.wait()  # Wait for space
//!         self.buffer.append(item)
//!         self.condition.notify_all()  # Notify consumers
//! ```
//!
//! Run: `cargo run --example bounded_buffer`

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use threadkit::threading::{Condition, Thread};

/// The tutorial's `Buffer`: a condition guarding a deque, and its capacity.
#[derive(Debug)]
pub struct Buffer<T> {
    items: Condition<VecDeque<T>>,
    size: usize,
    /// The fullest the buffer ever was, to check the bound held.
    peak: Condition<usize>,
}

impl<T> Buffer<T> {
    /// An empty buffer holding at most `size` items.
    pub fn new(size: usize) -> Self {
        Buffer {
            items: Condition::new(VecDeque::new()),
            size,
            peak: Condition::new(0),
        }
    }

    /// Waits for space, appends, wakes the consumers.
    pub fn put(&self, item: T) {
        let mut items = self.items.acquire();
        while items.len() >= self.size {
            println!("Buffer full, producer waiting...");
            items.wait();
        }
        items.push_back(item);
        let mut peak = self.peak.acquire();
        *peak = (*peak).max(items.len());
        items.notify_all();
    }

    /// Waits for an item, takes the oldest, wakes the producers.
    pub fn get(&self) -> T {
        let mut items = self.items.acquire();
        loop {
            if let Some(item) = items.pop_front() {
                items.notify_all();
                return item;
            }
            println!("Buffer empty, consumer waiting...");
            items.wait();
        }
    }

    /// The most items the buffer ever held.
    pub fn peak(&self) -> usize {
        *self.peak.acquire()
    }
}

/// One producer and one consumer move `count` items through a buffer of
/// `size`, pausing up to `max_pause` between items; returns what the consumer
/// received, in order, and the buffer's peak fill.
pub fn produce_consume(size: usize, count: u32, max_pause: Duration) -> (Vec<u32>, usize) {
    let buffer = Arc::new(Buffer::new(size));
    let pause =
        move || std::thread::sleep(max_pause.mul_f64(rand::thread_rng().gen_range(0.1..1.0)));
    let producer = {
        let buffer = Arc::clone(&buffer);
        Thread::spawn(move || {
            for item in 0..count {
                buffer.put(item);
                println!("Produced: {item}");
                pause();
            }
        })
        .expect("spawn the producer")
    };
    let consumer = {
        let buffer = Arc::clone(&buffer);
        Thread::spawn(move || {
            (0..count)
                .map(|_| {
                    let item = buffer.get();
                    println!("Consumed: {item}");
                    pause();
                    item
                })
                .collect::<Vec<_>>()
        })
        .expect("spawn the consumer")
    };
    producer.join().expect("the producer finishes");
    let received = consumer.into_result().expect("the consumer finishes");
    (received, buffer.peak())
}

#[allow(dead_code)]
fn main() {
    let (received, peak) = produce_consume(3, 10, Duration::from_millis(500));
    println!("received {received:?}; buffer never held more than {peak}");
}
