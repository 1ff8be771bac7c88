//! What [`wait`](super::wait) and [`as_completed`](super::as_completed)
//! install on the futures they watch (CPython's `_Waiter` family).
//!
//! One `Waiter` is shared by all the futures of one call. Each future keeps
//! `(Arc<Waiter>, index)` in its list and, when it completes, pushes its
//! index onto the waiter's events and wakes whoever waits on them. The
//! waiter is a [`Monitor`] over the events: the caller sleeps in the one
//! waiting core with a predicate over them, so nothing ever busy-waits, and
//! futures from different executors mix freely. The caller uninstalls the
//! waiter when it is done.

use std::collections::VecDeque;

use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// How a future completed, as far as a waiter cares (CPython's
/// `add_result`/`add_exception`/`add_cancelled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Completion {
    Result,
    Error,
    Cancelled,
}

/// Completed futures, by index, in completion order.
#[derive(Debug, Default)]
pub(crate) struct Events {
    pub(crate) queue: VecDeque<(usize, Completion)>,
    /// How many events were ever pushed (`queue` may have been drained).
    pub(crate) total: usize,
    /// Whether any pushed event was an error.
    pub(crate) any_error: bool,
    /// Whoever waits in `wait` or `as_completed` (one caller at a time).
    sleepers: WaitList,
}

impl Events {
    fn push(&mut self, index: usize, completion: Completion) {
        self.queue.push_back((index, completion));
        self.total += 1;
        self.any_error |= completion == Completion::Error;
    }
}

impl HasWaiters for Events {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.sleepers
    }
}

/// A mailbox of completion events on the waiting core.
#[derive(Debug, Default)]
pub(crate) struct Waiter {
    events: Monitor<Events>,
}

impl Waiter {
    /// Called by a completing future (outside its own lock).
    pub(crate) fn notify(&self, index: usize, completion: Completion) {
        let mut events = self.events.lock();
        events.push(index, completion);
        let woken = self.events.take_all(&mut events);
        drop(events);
        woken.wake();
    }

    /// Records an already-finished future without any notification.
    pub(crate) fn record(&self, index: usize, completion: Completion) {
        self.events.lock().push(index, completion);
    }

    /// Blocks until `ready(&events)` holds or `deadline` passes, then hands
    /// the events to `then`. Returns whether `ready` held.
    pub(crate) fn wait_for<R>(
        &self,
        deadline: Deadline,
        ready: impl FnMut(&mut Events) -> bool,
        then: impl FnOnce(&mut Events) -> R,
    ) -> (bool, R) {
        let mut events = self.events.lock();
        let met = self.events.wait_until(&mut events, deadline, ready);
        (met, then(&mut events))
    }

    /// The async face of [`wait_for`](Self::wait_for) with no deadline:
    /// resolves once `ready(&events)` holds.
    pub(crate) async fn until(&self, mut ready: impl FnMut(&mut Events) -> bool) {
        self.events
            .until(|events| ready(events).then_some(()))
            .await;
    }
}
