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
    /// Tasks awaiting the event (`asyncio::bridge::event_wait`).
    #[cfg(feature = "asyncio")]
    wakers: crate::util::wakers::Wakers,
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
            #[cfg(feature = "asyncio")]
            {
                let tasks = state.wakers.take_all();
                drop(state);
                tasks.into_iter().for_each(std::task::Waker::wake);
            }
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
    /// [`wait`](Self::wait) for async code: the task is woken by `set`
    /// (see `asyncio::bridge::event_wait`).
    #[cfg(feature = "asyncio")]
    pub(crate) async fn wait_async(&self) {
        /// Takes the registration back if the await is dropped.
        struct Registration<'a>(&'a Event, Option<u64>);
        impl Drop for Registration<'_> {
            fn drop(&mut self) {
                if let Some(id) = self.1 {
                    self.0.state.lock().wakers.remove(id);
                }
            }
        }
        let sets = self.state.lock().sets;
        let mut registration = Registration(self, None);
        std::future::poll_fn(|cx| {
            let mut state = self.state.lock();
            if state.flag || state.sets != sets {
                if let Some(id) = registration.1.take() {
                    state.wakers.remove(id);
                }
                return std::task::Poll::Ready(());
            }
            state.wakers.register(&mut registration.1, cx.waker());
            std::task::Poll::Pending
        })
        .await;
    }

    fn wait_until(&self, deadline: Deadline) -> bool {
        let mut state = self.state.lock();
        let sets = state.sets;
        wait::wait_until(&self.cv, &mut state, deadline, |s| s.flag || s.sets != sets)
    }
}

#[cfg(all(test, feature = "asyncio", not(loom)))]
mod async_tests {
    use super::Event;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    /// An await of `wait_async` registers while pending, takes its
    /// registration back when dropped, and is woken by `set`.
    #[test]
    fn wait_async_registers_and_cleans_up() {
        let event = Event::new();
        let mut cx = Context::from_waker(Waker::noop());
        let mut cancelled = Box::pin(event.wait_async());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        assert_eq!(event.state.lock().wakers.len(), 1);
        drop(cancelled);
        assert_eq!(event.state.lock().wakers.len(), 0);

        let mut waiting = Box::pin(event.wait_async());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        event.set();
        assert_eq!(event.state.lock().wakers.len(), 0);
        assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Ready(()));
        // Like `wait`: a set followed at once by a clear still releases it.
        event.clear();
        let mut missed = Box::pin(event.wait_async());
        assert!(missed.as_mut().poll(&mut cx).is_pending());
        event.set();
        event.clear();
        assert_eq!(missed.as_mut().poll(&mut cx), Poll::Ready(()));
    }
}
