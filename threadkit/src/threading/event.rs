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
    state: Mutex<State>,
    cv: Condvar,
}

/// The flag, and how many times `set()` raised it. A waiter that sees `sets`
/// change was woken by a `set()` and returns `true` even if a `clear()` ran
/// before it re-took the lock, as CPython's `Event.wait` does (gh-57711).
#[derive(Debug, Default)]
struct State {
    flag: bool,
    sets: u64,
}

impl Event {
    /// A new event with the flag cleared.
    pub fn new() -> Self {
        Event::default()
    }

    /// Whether the flag is set: Python's `is_set()`.
    #[doc(alias = "isSet")]
    pub fn is_set(&self) -> bool {
        self.state.lock().flag
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        let mut state = self.state.lock();
        if !state.flag {
            state.flag = true;
            state.sets = state.sets.wrapping_add(1);
            self.cv.notify_all();
        }
    }

    /// Clears the flag; later waiters block until [`set`](Event::set) again.
    pub fn clear(&self) {
        self.state.lock().flag = false;
    }

    /// Blocks until the flag is set.
    pub fn wait(&self) {
        self.wait_until(Deadline::Never);
    }

    /// Blocks until the flag is set or `timeout` passes. Returns `true` if
    /// the flag was set, even if it was cleared again before this thread
    /// woke up, as Python's `wait(timeout)` does.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Deadline::after(timeout))
    }

    /// Blocks until the flag is set or `deadline` passes; returns the flag.
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        self.wait_until(Deadline::At(deadline))
    }

    /// How many times `set()` raised the flag, for waiters that poll
    /// (the asyncio bridge).
    #[cfg(feature = "asyncio")]
    pub(crate) fn sets(&self) -> u64 {
        self.state.lock().sets
    }

    fn wait_until(&self, deadline: Deadline) -> bool {
        let mut state = self.state.lock();
        let sets = state.sets;
        wait::wait_until(&self.cv, &mut state, deadline, |s| s.flag || s.sets != sets)
    }
}
