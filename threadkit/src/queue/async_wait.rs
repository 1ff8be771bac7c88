//! Async waiters on a queue's [`Signal`]: what lets the `asyncio` bridges
//! await a thread-side queue without polling it.
//!
//! An async waiter takes part in the same handshake as a sleeping thread
//! (see `Signal`): under the core's mutex it puts its waker in the signal's
//! list and counts itself in `waiting`, fences, then checks the condition.
//! A notifier that finds `waiting > 0` takes the mutex and wakes either one
//! async waiter (first come, first served: it takes it off the list and
//! uncounts it) or one thread. A woken task polls again and re-registers if
//! somebody else was quicker.
//!
//! A waiter dropped after a notifier picked it, but before it took what it
//! was woken for, hands the wake-up on, so that a cancelled `await` never
//! swallows the only notification of an item.

use std::task::{Context, Poll};

use super::signal::{Signal, yield_now};
use crate::loom::sync::Mutex;

/// One async wait on a [`Signal`]: registers on `Pending`, deregisters (or
/// hands a wake-up on) when dropped.
#[derive(Debug)]
pub(crate) struct AsyncWait<'a> {
    signal: &'a Signal,
    lock: &'a Mutex<()>,
    /// Set while registered, and after a notifier picked this waiter until
    /// it polls again.
    id: Option<u64>,
}

impl<'a> AsyncWait<'a> {
    pub(crate) fn new(signal: &'a Signal, lock: &'a Mutex<()>) -> Self {
        AsyncWait {
            signal,
            lock,
            id: None,
        }
    }

    /// After an attempt failed: registers `cx`'s waker, then checks `ready`.
    /// Returns `Pending` if the caller should wait for a wake-up, `Ready` if
    /// the condition holds now and the attempt should be retried.
    pub(crate) fn register(&mut self, cx: &Context<'_>, ready: impl FnOnce() -> bool) -> Poll<()> {
        let _guard = self.lock.lock();
        if self.signal.wakers.lock().register(&mut self.id, cx.waker()) {
            self.signal.count_waiter();
        }
        self.signal.fence();
        if ready() {
            self.deregister_locked();
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// The wait is over (the operation succeeded or failed for good).
    pub(crate) fn finish(&mut self) {
        if self.id.is_some() {
            let _guard = self.lock.lock();
            self.deregister_locked();
        }
    }

    /// Takes this waiter off the list (and out of `waiting`) if it is still
    /// on it; with the core's mutex held. Returns whether it was.
    fn deregister_locked(&mut self) -> bool {
        let Some(id) = self.id.take() else {
            return false;
        };
        let removed = self.signal.wakers.lock().remove(id);
        if removed {
            self.signal.uncount_waiter();
        }
        removed
    }
}

impl Drop for AsyncWait<'_> {
    fn drop(&mut self) {
        if self.id.is_none() {
            return;
        }
        let was_waiting = {
            let _guard = self.lock.lock();
            self.deregister_locked()
        };
        if !was_waiting {
            // A notifier picked this waiter, which is now cancelled: pass
            // the wake-up on (at worst a spurious one).
            self.signal.notify_one(self.lock);
        }
    }
}

/// Makes `attempt` until it returns `Some`, waiting on `signal` (with
/// `ready` as the condition) whenever it returns `None`: the async
/// counterpart of the core's blocking loops.
pub(crate) async fn wait_for<T>(
    signal: &Signal,
    lock: &Mutex<()>,
    mut attempt: impl FnMut() -> Option<T>,
    ready: impl Fn() -> bool,
) -> T {
    let mut wait = AsyncWait::new(signal, lock);
    std::future::poll_fn(move |cx| {
        loop {
            if let Some(done) = attempt() {
                wait.finish();
                return Poll::Ready(done);
            }
            if wait.register(cx, &ready).is_pending() {
                return Poll::Pending;
            }
            // Ready already (a rare race): let the thread that made it so
            // finish its step, then try again.
            yield_now();
        }
    })
    .await
}
