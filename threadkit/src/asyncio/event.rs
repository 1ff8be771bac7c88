//! [`Event`]: Python's `asyncio.Event`, a flag tasks can wait for.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// A flag that tasks can wait to see set: Python's `asyncio.Event`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, Event};
///
/// asyncio::run(async {
///     let ready = Arc::new(Event::new());
///     let waiter = {
///         let ready = Arc::clone(&ready);
///         asyncio::create_task(async move { ready.wait().await; "woken" })
///     };
///     ready.set();
///     assert_eq!(waiter.await, Ok("woken"));
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// [`wait`](Event::wait) is cancel safe.
///
/// # Differences from Python's `asyncio.Event`
///
/// `wait()` returns nothing (Python's always returns `True`). The event is
/// `Sync`: any thread may call [`set`](Event::set), not only the loop's.
pub struct Event {
    flag: AtomicBool,
    notify: Notify,
}

impl Event {
    /// A new event with the flag cleared.
    pub fn new() -> Self {
        Event {
            flag: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    /// Whether the flag is set (Python's `is_set()`).
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        if !self.flag.swap(true, Ordering::SeqCst) {
            self.notify.notify_waiters();
        }
    }

    /// Clears the flag.
    pub fn clear(&self) {
        self.flag.store(false, Ordering::SeqCst);
    }

    /// Waits until the flag is set. A waiter woken by [`set`](Event::set)
    /// returns even if the flag was cleared again before it ran, as in
    /// Python.
    pub async fn wait(&self) {
        let notified = self.notify.notified();
        let mut notified = std::pin::pin!(notified);
        // Registered before the check, so a `set` in between is not missed.
        notified.as_mut().enable();
        if self.is_set() {
            return;
        }
        notified.await;
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}
