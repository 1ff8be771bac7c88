//! The wakers of tasks waiting on a thread-side primitive (a queue's
//! condition, an `Event`), kept under that primitive's lock: how the
//! `asyncio` bridges await threads without polling.

use std::collections::VecDeque;
use std::task::Waker;

/// Registered wakers, in registration order, each under the id of its wait.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    next_id: u64,
    list: VecDeque<(u64, Waker)>,
}

impl Wakers {
    /// Registers `waker` for the wait `id`, or refreshes it if that wait is
    /// still on the list. Returns whether it was added (rather than
    /// refreshed); `id` then names the new registration.
    pub(crate) fn register(&mut self, id: &mut Option<u64>, waker: &Waker) -> bool {
        if let Some(current) = *id {
            if let Some((_, registered)) = self.list.iter_mut().find(|(i, _)| *i == current) {
                if !registered.will_wake(waker) {
                    *registered = waker.clone();
                }
                return false;
            }
        }
        let fresh = self.next_id;
        self.next_id += 1;
        self.list.push_back((fresh, waker.clone()));
        *id = Some(fresh);
        true
    }

    /// Takes wait `id` off the list; whether it was still on it.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        match self.list.iter().position(|(i, _)| *i == id) {
            Some(at) => {
                self.list.remove(at);
                true
            }
            None => false,
        }
    }

    /// Takes the longest-registered waker off the list.
    pub(crate) fn pop(&mut self) -> Option<Waker> {
        self.list.pop_front().map(|(_, waker)| waker)
    }

    /// Takes every waker off the list, to be woken once the lock is released.
    pub(crate) fn take_all(&mut self) -> Vec<Waker> {
        self.list.drain(..).map(|(_, waker)| waker).collect()
    }
}
