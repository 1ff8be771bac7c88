//! `Event`: Python's `threading.Event`, a flag threads can wait for.

use std::time::{Duration, Instant};

use std::future::Future;

use crate::debug::WaitKind;
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

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
    state: Monitor<State>,
}

/// The flag, and how many times `set()` raised it. A waiter that sees `sets`
/// change was woken by a `set()` and returns `true` even if a `clear()` ran
/// before it re-took the lock, as CPython's `Event.wait` does (gh-57711).
#[derive(Debug, Default)]
struct State {
    flag: bool,
    sets: u64,
    /// Threads and tasks waiting for the flag.
    waiters: WaitList,
}

impl HasWaiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }

    fn wait_kind(&self) -> WaitKind {
        WaitKind::Event
    }
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

    /// Sets the flag and wakes every waiter, threads and tasks.
    pub fn set(&self) {
        let mut state = self.state.lock();
        if !state.flag {
            state.flag = true;
            state.sets = state.sets.wrapping_add(1);
            let woken = self.state.take_all(&mut state);
            drop(state);
            woken.wake();
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

    /// [`wait`](Self::wait) for async code: the same wait on the same
    /// event, so one `set` releases threads and tasks alike (Python's
    /// `asyncio.Event.wait`). Dropping the future takes its place in line
    /// back. Needs no runtime; bound it with
    /// `asyncio::wait_for` or any timer.
    pub fn wait_async(&self) -> impl Future<Output = ()> + Send + '_ {
        let mut since = None;
        self.state.until(move |state| {
            let sets = *since.get_or_insert(state.sets);
            (state.flag || state.sets != sets).then_some(())
        })
    }

    fn wait_until(&self, deadline: Deadline) -> bool {
        let mut state = self.state.lock();
        let sets = state.sets;
        self.state
            .wait_until(&mut state, deadline, |s| s.flag || s.sets != sets)
    }
}

#[cfg(all(test, not(loom)))]
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
        assert_eq!(event.state.lock().waiters.len(), 1);
        drop(cancelled);
        assert_eq!(event.state.lock().waiters.len(), 0);

        let mut waiting = Box::pin(event.wait_async());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        event.set();
        assert_eq!(event.state.lock().waiters.len(), 0);
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
