//! `Event`: Python's `threading.Event`, a flag threads can wait for.

use std::time::{Duration, Instant};

use crate::loom::sync::{Condvar, Mutex};
use crate::util::wait::{self, Deadline};

/// A flag that threads can wait to see set: Python's `threading.Event`.
///
/// # Examples
///
/// A stoppable worker, as in the seeds' `StoppableWorker`:
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use threadkit::threading::Event;
///
/// let stop = Arc::new(Event::new());
/// let flag = Arc::clone(&stop);
/// let worker = std::thread::spawn(move || {
///     let mut rounds = 0;
///     while !flag.wait_timeout(Duration::from_millis(1)) {
///         rounds += 1;
///     }
///     rounds
/// });
/// stop.set();
/// worker.join().unwrap();
/// assert!(stop.is_set());
/// ```
///
/// # Differences from Python's `threading.Event`
///
/// `wait(timeout=None)` is split into [`wait`](Event::wait) (returns nothing:
/// it can only end with the flag set) and [`wait_timeout`](Event::wait_timeout).
#[derive(Debug, Default)]
pub struct Event {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Event {
    /// A new event with the flag cleared.
    pub fn new() -> Self {
        Event::default()
    }

    /// Whether the flag is set: Python's `is_set()`.
    #[doc(alias = "isSet")]
    pub fn is_set(&self) -> bool {
        *self.flag.lock()
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        let mut flag = self.flag.lock();
        if !*flag {
            *flag = true;
            self.cv.notify_all();
        }
    }

    /// Clears the flag; later waiters block until [`set`](Event::set) again.
    pub fn clear(&self) {
        *self.flag.lock() = false;
    }

    /// Blocks until the flag is set.
    pub fn wait(&self) {
        self.wait_until(Deadline::Never);
    }

    /// Blocks until the flag is set or `timeout` passes; returns the flag,
    /// as Python's `wait(timeout)` does.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Deadline::after(timeout))
    }

    /// Blocks until the flag is set or `deadline` passes; returns the flag.
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        self.wait_until(Deadline::At(deadline))
    }

    fn wait_until(&self, deadline: Deadline) -> bool {
        let mut flag = self.flag.lock();
        wait::wait_until(&self.cv, &mut flag, deadline, |set| *set)
    }
}
