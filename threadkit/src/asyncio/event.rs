//! [`Event`]: Python's `asyncio.Event`, a facade over
//! [`threading::Event`](crate::threading::Event), so that one `set` releases
//! tasks and threads alike.

use std::fmt;

use crate::threading;

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
/// `Sync`: any thread may call [`set`](Event::set), not only the loop's, and
/// threads may wait on it too through [`as_threading`](Event::as_threading).
#[derive(Default)]
pub struct Event {
    inner: threading::Event,
}

impl Event {
    /// A new event with the flag cleared.
    pub fn new() -> Self {
        Event::default()
    }

    /// Whether the flag is set (Python's `is_set()`).
    pub fn is_set(&self) -> bool {
        self.inner.is_set()
    }

    /// Sets the flag and wakes every waiter, tasks and threads.
    pub fn set(&self) {
        self.inner.set();
    }

    /// Clears the flag.
    pub fn clear(&self) {
        self.inner.clear();
    }

    /// Waits until the flag is set. A waiter woken by [`set`](Event::set)
    /// returns even if the flag was cleared again before it ran, as in
    /// Python.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a cancelled wait leaves the line and misses nothing.
    pub async fn wait(&self) {
        self.inner.wait_async().await;
    }

    /// The same event with its thread face (`wait` there blocks the calling
    /// thread).
    pub fn as_threading(&self) -> &threading::Event {
        &self.inner
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}
