//! Lesson: the Thread-subclass pattern. Python overrides `run()` in a
//! `threading.Thread` subclass; in Rust the state lives in a struct, `run`
//! is its method, and the thread is built around it.
//!
//! Tutorial: "Thread Class Inheritance":
//!
//! ```python
//! class WorkerThread(threading.Thread):
//!     def __init__(self, name, duration):
//!         super().__init__()
//!         self.name = name
//!         self.duration = duration
//!     def run(self):
//!         print(f"Worker {self.name} starting")
//!         time.sleep(self.duration)
//!         print(f"Worker {self.name} finished")
//! ```
//!
//! Run: `cargo run --example thread_subclass`

use std::sync::Arc;
use std::time::Duration;

use threadkit::threading::{Lock, Thread};

/// The subclass's fields.
#[derive(Debug)]
pub struct WorkerThread {
    name: String,
    duration: Duration,
    finished: Arc<Lock<Vec<String>>>,
}

impl WorkerThread {
    /// `WorkerThread(name, duration)`: an unstarted thread named `name`.
    pub fn spawn_unstarted(
        name: &str,
        duration: Duration,
        finished: Arc<Lock<Vec<String>>>,
    ) -> Thread<String> {
        let worker = WorkerThread {
            name: name.to_owned(),
            duration,
            finished,
        };
        Thread::builder().name(name).build(move || worker.run())
    }

    /// The overridden `run()`.
    fn run(self) -> String {
        println!("Worker {} starting", self.name);
        std::thread::sleep(self.duration);
        println!("Worker {} finished", self.name);
        self.finished.acquire().push(self.name.clone());
        self.name
    }
}

/// Alpha, Beta and Gamma with durations 2, 1 and 3 units; returns the thread
/// names and the order the workers finished in.
pub fn run_workers(unit: Duration) -> (Vec<String>, Vec<String>) {
    let finished = Arc::new(Lock::new(Vec::new()));
    let workers = [
        WorkerThread::spawn_unstarted("Alpha", 2 * unit, Arc::clone(&finished)),
        WorkerThread::spawn_unstarted("Beta", unit, Arc::clone(&finished)),
        WorkerThread::spawn_unstarted("Gamma", 3 * unit, Arc::clone(&finished)),
    ];
    let names = workers.iter().map(|w| w.name().to_owned()).collect();
    for worker in &workers {
        worker.start().expect("start a worker");
    }
    for worker in &workers {
        worker.join().expect("a worker finishes");
    }
    let order = finished.acquire().clone();
    (names, order)
}

#[allow(dead_code)]
fn main() {
    run_workers(Duration::from_secs(1));
}
