//! `Timer`: Python's `threading.Timer`, a thread that calls a function after
//! an interval unless cancelled first.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use super::error::ThreadError;
use super::event::Event;
use super::thread::{Builder, Thread, ThreadHandle};
use crate::loom::sync::{Arc, Mutex};
use crate::util::Deadline;

/// A thread that runs an action once `interval` has passed since
/// [`start`](Timer::start), unless [`cancel`](Timer::cancel)led before:
/// Python's `threading.Timer`.
///
/// It dereferences to its [`ThreadHandle`] for `join`, `is_alive`, `name`...
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
/// use threadkit::threading::Timer;
///
/// let fired = Arc::new(AtomicBool::new(false));
/// let flag = Arc::clone(&fired);
/// let t = Timer::new(Duration::from_millis(10), move || flag.store(true, Ordering::SeqCst));
/// t.start().unwrap();
/// t.join().unwrap();
/// assert!(fired.load(Ordering::SeqCst));
///
/// // Cancelled before it fires: the action never runs.
/// let t = Timer::new(Duration::from_secs(60), || unreachable!());
/// t.start().unwrap();
/// t.cancel();
/// t.join().unwrap();
/// ```
///
/// # Differences from Python's `threading.Timer`
///
/// Arguments are captured by the closure (`Timer(1.0, f, args=(x,))` is
/// `Timer::new(Duration::from_secs(1), move || f(x))`). The interval is
/// counted from `start()`, not from when the new thread first runs.
pub struct Timer {
    thread: Thread<()>,
    finished: Arc<Event>,
    deadline: Arc<Mutex<Deadline>>,
    interval: Duration,
}

impl Timer {
    /// An unstarted timer that will call `action` `interval` after `start()`.
    pub fn new<F>(interval: Duration, action: F) -> Timer
    where
        F: FnOnce() + Send + 'static,
    {
        Timer::with_builder(Builder::new(), interval, action)
    }

    /// Like [`new`](Timer::new), with the thread's name and daemon flag
    /// taken from `builder`.
    pub fn with_builder<F>(builder: Builder, interval: Duration, action: F) -> Timer
    where
        F: FnOnce() + Send + 'static,
    {
        let finished = Arc::new(Event::new());
        let deadline = Arc::new(Mutex::new(Deadline::Never));
        let thread = {
            let finished = Arc::clone(&finished);
            let deadline = Arc::clone(&deadline);
            builder.build(move || {
                let deadline = *deadline.lock();
                let cancelled = match deadline.remaining() {
                    Some(left) => finished.wait_timeout(left),
                    None => {
                        finished.wait();
                        true
                    }
                };
                if !cancelled {
                    action();
                }
                finished.set();
            })
        };
        Timer {
            thread,
            finished,
            deadline,
            interval,
        }
    }

    /// Starts the timer's thread; the interval starts now.
    ///
    /// # Errors
    ///
    /// As [`Thread::start`]: [`ThreadError::AlreadyStarted`] on a second call.
    pub fn start(&self) -> Result<(), ThreadError> {
        if self.thread.ident().is_some() {
            return Err(ThreadError::AlreadyStarted);
        }
        *self.deadline.lock() = Deadline::after(self.interval);
        self.thread.start()
    }

    /// Stops the timer if it has not fired yet (Python's `cancel()`). The
    /// action then never runs; if it is running or has run, nothing changes.
    /// May be called before `start()`, in which case the started thread ends
    /// at once.
    pub fn cancel(&self) {
        self.finished.set();
    }

    /// The interval the timer was created with.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

impl Deref for Timer {
    type Target = ThreadHandle;

    fn deref(&self) -> &ThreadHandle {
        &self.thread
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("thread", self.thread.handle())
            .field("interval", &self.interval)
            .field("cancelled_or_done", &self.finished.is_set())
            .finish()
    }
}
