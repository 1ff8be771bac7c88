//! Lesson: a worker you can stop, with an `Event`.
//!
//! Tutorial: "Resource Leaks" / `StoppableWorker`:
//!
//! ```python
//! class StoppableWorker:
//!     def stop(self):
//!         self._stop_event.set()
//!         self._thread.join()
//!     def _work(self):
//!         while not self._stop_event.is_set():
//!             time.sleep(0.1)
//! ```
//!
//! `Event::wait_timeout` replaces the `sleep`, so the worker notices `stop()`
//! at once instead of up to one tick later.
//!
//! Run: `cargo run --example stoppable_worker`

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::threading::{Event, Thread};

/// The tutorial's `StoppableWorker`.
#[derive(Debug)]
pub struct StoppableWorker {
    stop_event: Arc<Event>,
    thread: Thread<u64>,
}

impl StoppableWorker {
    /// An unstarted worker doing one round of work per `tick`.
    pub fn new(tick: Duration) -> Self {
        let stop_event = Arc::new(Event::new());
        let stop = Arc::clone(&stop_event);
        let thread = Thread::builder().name("stoppable-worker").build(move || {
            let mut rounds = 0;
            while !stop.wait_timeout(tick) {
                rounds += 1; // do work
            }
            rounds
        });
        StoppableWorker { stop_event, thread }
    }

    /// Starts the worker.
    pub fn start(&self) {
        self.thread.start().expect("a new worker starts once");
    }

    /// Whether the worker thread is running.
    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// Signals the worker and joins it; returns how many rounds it did and how
    /// long stopping took.
    pub fn stop(self) -> (u64, Duration) {
        let asked = Instant::now();
        self.stop_event.set();
        let rounds = self.thread.into_result().expect("the worker stops cleanly");
        (rounds, asked.elapsed())
    }
}

#[allow(dead_code)]
fn main() {
    let worker = StoppableWorker::new(Duration::from_millis(100));
    worker.start();
    std::thread::sleep(Duration::from_secs(1));
    let (rounds, took) = worker.stop();
    println!("worker did {rounds} rounds and stopped within {took:?}");
}
